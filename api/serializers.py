"""The API's shapes. Reads show a record as it is saved (with its `version`); writes take what
the workspace's forms take and hand it to the same services (api.views)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from catalogue.models import DEPTH_MAX, DEPTH_MIN, BodyArea, Concern, Product
from consultations import screening
from consultations.forms import ABSOLUTE_FIELDS, RELATIVE_FIELDS
from consultations.models import Client, Consultation, RecordedConcern, ScreeningFinding
from stock.models import Lot
from treatments.models import Course, Device, SessionProgress, TreatmentSession

STAMPS = ["version", "created_at", "updated_at"]


def active_users():
    return get_user_model().objects.filter(is_active=True)


class CodeField(serializers.SlugRelatedField):
    """A catalogue code or slug: one with a NUL character is refused as invalid before it
    reaches the database (PostgreSQL cannot compare text holding one)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class VersionField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "The version the change is based on (from the last read). A stale one answers 409.",
        )
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)


# Errors --------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class FieldErrorsSerializer(serializers.Serializer):
    """400: the refusal's messages by field (`non_field_errors` for the record as a whole;
    nested rows as "areas.0.depth_mm")."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)

    def to_representation(self, instance):  # pragma: no cover - documentation only
        return instance


class StaleSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changes = serializers.ListField(
        child=serializers.CharField(), help_text="Who changed which fields since your version."
    )


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the record is voided.")


class EndCourseSerializer(serializers.Serializer):
    version = VersionField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    ended_on = serializers.DateField(required=False, allow_null=True, default=None)


# Catalogue -----------------------------------------------------------------------------------


class ConcernSerializer(serializers.ModelSerializer):
    class Meta:
        model = Concern
        fields = [
            "id",
            "slug",
            "name",
            "summary",
            "benefit",
            "evidence_level",
            "sessions_min",
            "sessions_typical",
            "sessions_max",
            "interval_weeks",
            "interval_min_weeks",
            "interval_max_weeks",
            "depth_min_mm",
            "depth_max_mm",
            "depth_guidance",
            "cautions",
        ]


class BodyAreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = BodyArea
        fields = [
            "id",
            "code",
            "name",
            "parent",
            "thin_min_mm",
            "thin_max_mm",
            "thick_min_mm",
            "thick_max_mm",
            "max_mm",
        ]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "kind",
            "gtin",
            "active_ingredient",
            "approved_for_needling",
            "in_use",
        ]


# Clients -------------------------------------------------------------------------------------


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "skin_type",
            "notes",
            "archived",
            "do_not_contact",
            *STAMPS,
        ]
        read_only_fields = STAMPS


class ClientUpdateSerializer(ClientSerializer):
    version = VersionField()

    class Meta(ClientSerializer.Meta):
        read_only_fields = ["created_at", "updated_at"]


# Consultations -------------------------------------------------------------------------------


class RecordedConcernSerializer(serializers.ModelSerializer):
    concern = CodeField(slug_field="slug", queryset=Concern.objects.all())
    area = CodeField(slug_field="code", queryset=BodyArea.objects.all())
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = RecordedConcern
        fields = ["id", "concern", "area", "severity", "notes", "name"]
        read_only_fields = ["id"]
        extra_kwargs = {"notes": {"max_length": 2000}}


class FindingSerializer(serializers.ModelSerializer):
    area = CodeField(
        slug_field="code", queryset=BodyArea.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ScreeningFinding
        fields = ["kind", "area", "on", "notes"]


class AssessmentSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Consultation.Outcome.choices)
    contraindications = serializers.ListField(child=serializers.CharField())
    cautions = serializers.ListField(child=serializers.CharField())


SCREENING_ANSWERS = [*ABSOLUTE_FIELDS, *RELATIVE_FIELDS]
# The consent recorded at a consultation before signed consent existed (the consent app keeps
# signed consents now): read only, as the workspace shows it.
CONSENT_FIELDS = ["consent_given", "consent_by", "consent_at", "consent_scope", "photo_consent"]


class ConsultationSerializer(serializers.ModelSerializer):
    concerns = RecordedConcernSerializer(many=True, read_only=True)
    findings = serializers.SerializerMethodField()
    screening = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = [
            "id",
            "client",
            "held_on",
            "practitioner",
            *SCREENING_ANSWERS,
            *CONSENT_FIELDS,
            "outcome",
            "screening",
            "concerns",
            "findings",
            "notes",
            "voided_at",
            "void_reason",
            *STAMPS,
        ]
        read_only_fields = fields

    def get_findings(self, consultation) -> list[dict]:
        return [
            {"kind": found.kind, "area": found.area or None, "on": found.on}
            for found in consultation.found
        ]

    def get_screening(self, consultation) -> AssessmentSerializer:
        assessment = consultation.assess()
        return AssessmentSerializer(assessment).data


class ConsultationCreateSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="Default: the token's user."
    )
    concerns = RecordedConcernSerializer(many=True, allow_empty=False, max_length=50)
    findings = FindingSerializer(many=True, required=False, max_length=50)

    class Meta:
        model = Consultation
        fields = [
            "client",
            "held_on",
            "practitioner",
            *SCREENING_ANSWERS,
            "notes",
            "concerns",
            "findings",
        ]
        extra_kwargs = {"notes": {"max_length": 10000}}


# Courses -------------------------------------------------------------------------------------


class CourseSerializer(serializers.ModelSerializer):
    recorded_concerns = serializers.SerializerMethodField()
    device = serializers.ChoiceField(
        choices=[("", "None planned"), *Device.choices], read_only=True
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "client",
            "consultation",
            "practitioner",
            "recorded_concerns",
            "start_date",
            "suggested_sessions_min",
            "suggested_sessions_max",
            "suggested_sessions",
            "suggested_interval_weeks",
            "planned_sessions",
            "interval_weeks",
            "device",
            "status",
            "ended_on",
            "end_reason",
            "override_reason",
            "departure_reason",
            "cautions_acknowledged",
            "notes",
            "sessions_logged",
            "last_session_on",
            "next_due_on",
            *STAMPS,
        ]
        read_only_fields = fields

    def get_recorded_concerns(self, course) -> list[int]:
        return [link.recorded_concern_id for link in course.course_concerns.all()]


class CourseCreateSerializer(serializers.ModelSerializer):
    consultation = serializers.PrimaryKeyRelatedField(queryset=Consultation.objects.all())
    recorded_concerns = serializers.PrimaryKeyRelatedField(
        queryset=RecordedConcern.objects.all(),
        many=True,
        required=False,
        help_text="The consultation's recorded concerns the course treats (default: all).",
    )
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="Default: the token's user."
    )
    device = serializers.ChoiceField(choices=Device.choices, required=False, allow_blank=True)
    planned_sessions = serializers.IntegerField(min_value=1, max_value=52)
    interval_weeks = serializers.IntegerField(min_value=1, max_value=52)

    class Meta:
        model = Course
        fields = [
            "consultation",
            "recorded_concerns",
            "practitioner",
            "start_date",
            "planned_sessions",
            "interval_weeks",
            "device",
            "override_reason",
            "departure_reason",
            "cautions_acknowledged",
            "notes",
        ]
        extra_kwargs = {
            name: {"max_length": 10000} for name in ["override_reason", "departure_reason", "notes"]
        }


class CourseUpdateSerializer(serializers.ModelSerializer):
    version = VersionField()
    practitioner = serializers.PrimaryKeyRelatedField(queryset=active_users(), required=False)
    device = serializers.ChoiceField(choices=Device.choices, required=False, allow_blank=True)
    planned_sessions = serializers.IntegerField(min_value=1, max_value=52, required=False)
    interval_weeks = serializers.IntegerField(min_value=1, max_value=52, required=False)

    class Meta:
        model = Course
        fields = [
            "version",
            "practitioner",
            "start_date",
            "planned_sessions",
            "interval_weeks",
            "device",
            "override_reason",
            "departure_reason",
            "cautions_acknowledged",
            "notes",
        ]
        extra_kwargs = {
            name: {"max_length": 10000} for name in ["override_reason", "departure_reason", "notes"]
        }


# Sessions ------------------------------------------------------------------------------------


class SessionAreaSerializer(serializers.Serializer):
    area = CodeField(slug_field="code", queryset=BodyArea.objects.all())
    depth_mm = serializers.DecimalField(
        max_digits=3, decimal_places=2, min_value=DEPTH_MIN, max_value=DEPTH_MAX
    )


class SessionProductSerializer(serializers.Serializer):
    """A product applied with its lot from stock: `lot` (the lot's id) or `lot_number` (the
    product's lot of that number, received before); an expired, quarantined or recalled lot,
    or one not in stock, is refused with the reason, as on the session form."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    lot = serializers.PrimaryKeyRelatedField(
        queryset=Lot.objects.all(),
        required=False,
        help_text="The lot's id in stock; or give `lot_number`.",
    )
    lot_number = serializers.CharField(
        max_length=50, required=False, help_text="The lot's number as printed on the pack."
    )
    lot_expiry_date = serializers.DateField(
        source="lot.expiry_date", read_only=True, allow_null=True
    )

    def validate(self, attrs):
        lot, number = attrs.get("lot"), (attrs.get("lot_number") or "").strip()
        if lot is None and not number:
            raise serializers.ValidationError({"lot": "Give the lot (its id) or its lot_number."})
        if lot is not None and number and lot.lot_number.upper() != number.upper():
            raise serializers.ValidationError(
                {"lot_number": f"Lot {lot.pk} is numbered {lot.lot_number}, not {number}."}
            )
        return attrs


# The ratings a session records (None: not assessed).
RATINGS = [(value, label) for value, label in SessionProgress.Rating.choices if value is not None]


class SessionProgressSerializer(serializers.Serializer):
    recorded_concern = serializers.PrimaryKeyRelatedField(queryset=RecordedConcern.objects.all())
    practitioner_rating = serializers.ChoiceField(choices=RATINGS, allow_null=True, required=False)
    client_rating = serializers.ChoiceField(choices=RATINGS, allow_null=True, required=False)


PRE_SESSION = list(screening.PRE_SESSION_FIELDS)
SESSION_WRITABLE = [
    "performed_on",
    "practitioner",
    "device",
    "device_model",
    "device_serial",
    "numbing",
    "skin_response",
    "pain_score",
    "notes",
    *PRE_SESSION,
    "depth_reason",
    "interval_reason",
]


class SessionSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="course.client_id", read_only=True)
    areas = SessionAreaSerializer(many=True, read_only=True)
    products = SessionProductSerializer(source="products_used", many=True, read_only=True)
    progress = SessionProgressSerializer(many=True, read_only=True)

    class Meta:
        model = TreatmentSession
        fields = [
            "id",
            "course",
            "client",
            "number",
            *SESSION_WRITABLE,
            "areas",
            "products",
            "progress",
            "voided_at",
            "void_reason",
            *STAMPS,
        ]
        read_only_fields = fields


class _SessionWrite(serializers.ModelSerializer):
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="Default: the token's user."
    )
    numbing = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(kind=Product.Kind.NUMBING), required=False, allow_null=True
    )
    pain_score = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    products = SessionProductSerializer(many=True, required=False, max_length=20)
    progress = SessionProgressSerializer(many=True, required=False, max_length=50)

    class Meta:
        model = TreatmentSession
        extra_kwargs = {
            name: {"max_length": 10000} for name in ["notes", "depth_reason", "interval_reason"]
        }


class SessionCreateSerializer(_SessionWrite):
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.all())
    areas = SessionAreaSerializer(many=True, allow_empty=False, max_length=20)

    class Meta(_SessionWrite.Meta):
        fields = ["course", *SESSION_WRITABLE, "areas", "products", "progress"]


class SessionUpdateSerializer(_SessionWrite):
    version = VersionField()
    areas = SessionAreaSerializer(many=True, required=False, allow_empty=False, max_length=20)

    class Meta(_SessionWrite.Meta):
        fields = ["version", *SESSION_WRITABLE, "areas", "products", "progress"]
