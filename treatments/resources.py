"""What the admin's course and session exports (CSV, Excel) contain: django-import-export."""

from django.db.models import Prefetch
from import_export import fields

from clinic.exports import FormulaSafeResource
from treatments.models import Course, CourseConcern, TreatmentSession, areas_with_names


def _prefetches(queryset, name):
    """Whether the admin's queryset already prefetches `name` (prefetching twice fails)."""
    return any(
        getattr(lookup, "prefetch_to", lookup) == name
        for lookup in queryset._prefetch_related_lookups
    )


def _user(user):
    return (user.get_full_name() or user.get_username()) if user else ""


class CourseExport(FormulaSafeResource):
    client = fields.Field(column_name="client")
    client_email = fields.Field(attribute="client__email", column_name="client email")
    concerns = fields.Field(column_name="concerns")
    practitioner = fields.Field(column_name="practitioner")
    status = fields.Field(column_name="status")

    class Meta:
        model = Course
        fields = (
            "id",
            "client",
            "client_email",
            "concerns",
            "practitioner",
            "status",
            "start_date",
            "planned_sessions",
            "interval_weeks",
            "suggested_sessions_min",
            "suggested_sessions_max",
            "sessions_logged",
            "last_session_on",
            "next_due_on",
            "ended_on",
            "end_reason",
            "override_reason",
            "departure_reason",
        )
        export_order = fields

    @staticmethod
    def prepare(queryset):
        queryset = queryset.select_related("client", "practitioner")
        if not _prefetches(queryset, "course_concerns"):
            queryset = queryset.prefetch_related(
                Prefetch(
                    "course_concerns",
                    queryset=CourseConcern.objects.select_related(
                        "recorded_concern__concern", "recorded_concern__area"
                    ),
                )
            )
        return queryset

    def dehydrate_client(self, course):
        return course.client.full_name

    def dehydrate_concerns(self, course):
        return course.concern_names

    def dehydrate_practitioner(self, course):
        return _user(course.practitioner)

    def dehydrate_status(self, course):
        return course.get_status_display()


class SessionExport(FormulaSafeResource):
    client = fields.Field(column_name="client")
    course = fields.Field(attribute="course_id", column_name="course id")
    practitioner = fields.Field(column_name="practitioner")
    device = fields.Field(column_name="device")
    areas = fields.Field(column_name="areas and depths (mm)")
    products = fields.Field(column_name="products and lots")
    skin_response = fields.Field(column_name="skin response")
    voided = fields.Field(column_name="voided")

    class Meta:
        model = TreatmentSession
        fields = (
            "id",
            "client",
            "course",
            "number",
            "performed_on",
            "practitioner",
            "device",
            "device_model",
            "areas",
            "products",
            "skin_response",
            "pain_score",
            "notes",
            "depth_reason",
            "interval_reason",
            "voided",
            "void_reason",
        )
        export_order = fields

    @staticmethod
    def prepare(queryset):
        queryset = queryset.select_related("course__client", "practitioner").prefetch_related(
            "products_used__product"
        )
        if not _prefetches(queryset, "areas"):
            queryset = queryset.prefetch_related(areas_with_names())
        return queryset

    def dehydrate_client(self, session):
        return session.course.client.full_name

    def dehydrate_practitioner(self, session):
        return _user(session.practitioner)

    def dehydrate_device(self, session):
        return session.get_device_display()

    def dehydrate_areas(self, session):
        return "; ".join(f"{a.area.name}: {a.depth_mm}" for a in session.areas.all())

    def dehydrate_products(self, session):
        return "; ".join(f"{p.product} (lot {p.lot_number})" for p in session.products_used.all())

    def dehydrate_skin_response(self, session):
        return session.get_skin_response_display()

    def dehydrate_voided(self, session):
        return "yes" if session.is_voided else ""
