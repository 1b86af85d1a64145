"""The REST API at /api/v1/: every write goes through the service the workspace calls, with the
same rules and messages; reads of a client's record are logged as record accesses."""

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from api import filters, serializers
from api.errors import Stale
from api.permissions import MANAGER_PERMISSION, is_manager
from catalogue.models import BodyArea, Concern, Product
from clinic.locking import refuse_when_busy
from consultations.models import Client, ClientAccess, Consultation, RecordedConcern
from consultations.services import record_consultation
from treatments.models import (
    Course,
    CourseConcern,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
    areas_with_names,
)
from treatments.services import (
    change_course,
    complete_course,
    correct_session,
    log_session,
    session_edit_refusal,
    start_course,
    stop_course,
    update_session,
    void_consultation,
    void_session,
)

BUSY = "Someone else was saving this record: nothing was saved. Try again in a moment."

E = serializers.ErrorSerializer
READ_ERRORS = {
    401: OpenApiResponse(E, "No token, or a revoked one."),
    403: OpenApiResponse(E, "The user's role does not allow it."),
    429: OpenApiResponse(E, "Too many requests for this token: wait and try again."),
}
ONE_ERRORS = {**READ_ERRORS, 404: OpenApiResponse(E, "No such record.")}
LIST_ERRORS = {
    **READ_ERRORS,
    400: OpenApiResponse(serializers.FieldErrorsSerializer, "A filter's value is not valid."),
    404: OpenApiResponse(E, "The cursor is not valid."),
}
WRITE_ERRORS = {
    **ONE_ERRORS,
    400: OpenApiResponse(
        serializers.FieldErrorsSerializer,
        "Refused: the rules' messages by field, as the workspace shows them. Nothing saved.",
    ),
    409: OpenApiResponse(
        serializers.StaleSerializer, "The record changed since your version: what changed."
    ),
}


def locked_current(model, pk, version):
    """The row locked for this transaction; Stale (409) when it is not at `version`."""
    record = model.objects.select_for_update().get(pk=pk)
    if record.version != version:
        raise Stale(record, version)
    return record


def needs_version(data):
    if data.get("version") is None:
        raise ValidationError(
            {"version": ["Send the version you read: updates are refused without it."]}
        )
    return data.pop("version")


class RecordAccessLog:
    """Reads of client records are logged (ClientAccess, via the API), one entry per client a
    response shows; a list page holds at most Cursor.max_page_size of them."""

    access_what = ""

    def client_ids(self, records):
        return [record.client_id for record in records]

    def log_access(self, records):
        seen = list(dict.fromkeys(self.client_ids(records)))
        user = self.request.user
        ClientAccess.objects.bulk_create(
            ClientAccess(user=user, client_id=pk, via=ClientAccess.Via.API, what=self.access_what)
            for pk in seen
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self.log_access(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        self.log_access([record])
        return Response(self.get_serializer(record).data)


class ReadCreateViewSet(
    RecordAccessLog,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def respond_created(self, record):
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.read_serializer(record).data, status=status.HTTP_201_CREATED)

    def respond(self, record):
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.read_serializer(record).data)

    def read_serializer(self, record):
        return self.serializer_class(record, context=self.get_serializer_context())

    def valid_input(self, serializer_class, *, partial=False):
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# Catalogue -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: serializers.ConcernSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.ConcernSerializer, **ONE_ERRORS}),
)
class ConcernViewSet(viewsets.ReadOnlyModelViewSet):
    """The concern catalogue: what micro-needling does for each concern (read only)."""

    queryset = Concern.objects.all()
    serializer_class = serializers.ConcernSerializer


@extend_schema_view(
    list=extend_schema(responses={200: serializers.BodyAreaSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.BodyAreaSerializer, **ONE_ERRORS}),
)
class BodyAreaViewSet(viewsets.ReadOnlyModelViewSet):
    """The area chart: body areas with their needle depth ranges (read only)."""

    queryset = BodyArea.objects.select_related("parent")
    serializer_class = serializers.BodyAreaSerializer


@extend_schema_view(
    list=extend_schema(responses={200: serializers.ProductSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.ProductSerializer, **ONE_ERRORS}),
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Serums, numbing creams and aftercare products (read only)."""

    queryset = Product.objects.all()
    serializer_class = serializers.ProductSerializer


# Clients -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: serializers.ClientSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.ClientSerializer, **ONE_ERRORS}),
    create=extend_schema(
        request=serializers.ClientSerializer,
        responses={201: serializers.ClientSerializer, **WRITE_ERRORS},
    ),
    update=extend_schema(
        request=serializers.ClientUpdateSerializer,
        responses={200: serializers.ClientSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=serializers.ClientUpdateSerializer,
        responses={200: serializers.ClientSerializer, **WRITE_ERRORS},
    ),
)
class ClientViewSet(ReadCreateViewSet):
    """Clients: added and corrected with the workspace's checks (never deleted: archive one)."""

    queryset = Client.objects.all()
    serializer_class = serializers.ClientSerializer
    filterset_class = filters.ClientFilter
    access_what = "Client details (API)"

    def client_ids(self, records):
        return [record.pk for record in records]

    def create(self, request, *args, **kwargs):
        data = self.valid_input(serializers.ClientSerializer)
        with transaction.atomic():
            client = Client(**data)
            client.stamp(request.user)
            client.full_clean()
            client.save()
        return self.respond_created(client)

    def update(self, request, *args, partial=False, **kwargs):
        client = self.get_object()
        data = self.valid_input(serializers.ClientUpdateSerializer, partial=partial)
        version = needs_version(data)
        with refuse_when_busy(BUSY), transaction.atomic():
            client = locked_current(Client, client.pk, version)
            for name, value in data.items():
                setattr(client, name, value)
            client.stamp(request.user)
            client.full_clean()
            client.save()
        return self.respond(client)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


# Consultations -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: serializers.ConsultationSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.ConsultationSerializer, **ONE_ERRORS}),
    create=extend_schema(
        request=serializers.ConsultationCreateSerializer,
        responses={201: serializers.ConsultationSerializer, **WRITE_ERRORS},
    ),
)
class ConsultationViewSet(ReadCreateViewSet):
    """Consultations with their recorded concerns, screening and outcome, recorded through
    `record_consultation`. Not edited: a mistaken one is voided with a reason and recorded
    again, as in the workspace."""

    serializer_class = serializers.ConsultationSerializer
    filterset_class = filters.ConsultationFilter
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"void": ["consultations.change_consultation"]}
    access_what = "Consultations (API)"

    def get_queryset(self):
        return Consultation.objects.select_related("client").prefetch_related(
            Prefetch("concerns", queryset=RecordedConcern.objects.select_related("concern", "area"))
        )

    def create(self, request, *args, **kwargs):
        data = self.valid_input(serializers.ConsultationCreateSerializer)
        findings = [
            {**finding, "area": finding["area"].code if finding.get("area") else ""}
            for finding in data.pop("findings", [])
        ]
        consultation = record_consultation(
            client=data.pop("client"),
            practitioner=data.pop("practitioner", request.user),
            by=request.user,
            concerns=data.pop("concerns"),
            findings=findings,
            **data,
        )
        return self.respond_created(consultation)

    @extend_schema(
        request=serializers.VoidSerializer,
        responses={200: serializers.ConsultationSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a mistaken consultation with a reason (refused while a course from it is active)."""
        consultation = self.get_object()
        data = self.valid_input(serializers.VoidSerializer)
        void_consultation(consultation=consultation, reason=data["reason"], by=request.user)
        return self.respond(consultation)


# Courses -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: serializers.CourseSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.CourseSerializer, **ONE_ERRORS}),
    create=extend_schema(
        request=serializers.CourseCreateSerializer,
        responses={201: serializers.CourseSerializer, **WRITE_ERRORS},
    ),
    update=extend_schema(
        request=serializers.CourseUpdateSerializer,
        responses={200: serializers.CourseSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=serializers.CourseUpdateSerializer,
        responses={200: serializers.CourseSerializer, **WRITE_ERRORS},
    ),
)
class CourseViewSet(ReadCreateViewSet):
    """Courses, started through `start_course` (the suggestion, the screening, the departures
    from the catalogue); changed by managers through `change_course`; completed or stopped."""

    serializer_class = serializers.CourseSerializer
    filterset_class = filters.CourseFilter
    action_permissions = {
        "update": ["treatments.change_course", MANAGER_PERMISSION],
        "partial_update": ["treatments.change_course", MANAGER_PERMISSION],
        "complete": ["treatments.change_course"],
        "stop": ["treatments.change_course"],
    }
    access_what = "Courses (API)"

    def get_queryset(self):
        return Course.objects.prefetch_related(
            Prefetch(
                "course_concerns", queryset=CourseConcern.objects.only("course", "recorded_concern")
            )
        )

    def create(self, request, *args, **kwargs):
        data = self.valid_input(serializers.CourseCreateSerializer)
        consultation = (
            Consultation.objects.select_related("client")
            .prefetch_related("concerns__concern")
            .get(pk=data.pop("consultation").pk)
        )
        concerns = data.pop("recorded_concerns", None) or list(consultation.concerns.all())
        course = start_course(
            consultation=consultation,
            recorded_concerns=concerns,
            practitioner=data.pop("practitioner", request.user),
            by=request.user,
            refuse_if_running=False,
            **data,
        )
        return self.respond_created(course)

    def update(self, request, *args, partial=False, **kwargs):
        course = self.get_object()
        data = self.valid_input(serializers.CourseUpdateSerializer, partial=partial)
        version = needs_version(data)
        with refuse_when_busy(BUSY), transaction.atomic():
            course = locked_current(Course, course.pk, version)
            change_course(course=course, by=request.user, expected_version=version, **data)
        return self.respond(course)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def _end(self, request, end):
        course = self.get_object()
        data = self.valid_input(serializers.EndCourseSerializer)
        with refuse_when_busy(BUSY), transaction.atomic():
            course = locked_current(Course, course.pk, data["version"])
            end(course=course, by=request.user, reason=data["reason"], on=data["ended_on"])
        return self.respond(course)

    @extend_schema(
        request=serializers.EndCourseSerializer,
        responses={200: serializers.CourseSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a course by hand (the client is happy early, for example)."""
        return self._end(request, complete_course)

    @extend_schema(
        request=serializers.EndCourseSerializer,
        responses={200: serializers.CourseSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop a course early: the reason is required."""
        return self._end(request, stop_course)


# Sessions ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: serializers.SessionSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: serializers.SessionSerializer, **ONE_ERRORS}),
    create=extend_schema(
        request=serializers.SessionCreateSerializer,
        responses={201: serializers.SessionSerializer, **WRITE_ERRORS},
    ),
    update=extend_schema(
        request=serializers.SessionUpdateSerializer,
        responses={200: serializers.SessionSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=serializers.SessionUpdateSerializer,
        responses={200: serializers.SessionSerializer, **WRITE_ERRORS},
    ),
)
class SessionViewSet(ReadCreateViewSet):
    """Sessions, logged through `log_session` with every check the session form runs (the
    screening, the area chart, the interval, the pre-session check; overrides only with their
    reason fields). Corrected by their author on the day (`update_session`) or by a manager
    (`correct_session`); voided with a reason."""

    serializer_class = serializers.SessionSerializer
    filterset_class = filters.SessionFilter
    action_permissions = {"void": ["treatments.change_treatmentsession"]}
    access_what = "Sessions (API)"

    def get_queryset(self):
        return TreatmentSession.objects.select_related("course").prefetch_related(
            areas_with_names(),
            Prefetch("products_used", queryset=SessionProduct.objects.select_related("lot")),
            Prefetch("progress", queryset=SessionProgress.objects.all()),
        )

    def client_ids(self, records):
        return [record.course.client_id for record in records]

    @staticmethod
    def rows(data):
        rows = {}
        if "areas" in data:
            rows["areas"] = [(row["area"], row["depth_mm"]) for row in data.pop("areas")]
        if "products" in data:
            rows["products"] = [
                (row["product"], row.get("lot") or row["lot_number"])
                for row in data.pop("products")
            ]
        if "progress" in data:
            rows["progress"] = [
                (row["recorded_concern"], row.get("practitioner_rating"), row.get("client_rating"))
                for row in data.pop("progress")
            ]
        return rows

    def create(self, request, *args, **kwargs):
        data = self.valid_input(serializers.SessionCreateSerializer)
        course = data.pop("course")
        rows = self.rows(data)
        with refuse_when_busy(BUSY):
            session = log_session(
                course=course,
                practitioner=data.pop("practitioner", request.user),
                by=request.user,
                **rows,
                **data,
            )
        return self.respond_created(session)

    def update(self, request, *args, partial=False, **kwargs):
        session = self.get_object()
        data = self.valid_input(serializers.SessionUpdateSerializer, partial=partial)
        version = needs_version(data)
        rows = self.rows(data)
        manager = is_manager(request.user)
        if not manager:
            data.pop("practitioner", None)  # only a manager says someone else performed it
        correct = correct_session if manager else update_session
        with refuse_when_busy(BUSY), transaction.atomic():
            session = locked_current(TreatmentSession, session.pk, version)
            correct(session=session, by=request.user, expected_version=version, **rows, **data)
        return self.respond(session)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        request=serializers.VoidSerializer,
        responses={200: serializers.SessionSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a mistaken session with a reason: its author on the day, or a manager."""
        session = self.get_object()
        data = self.valid_input(serializers.VoidSerializer)
        if not is_manager(request.user):
            refusal = session_edit_refusal(session=session, user=request.user)
            if refusal:
                raise PermissionDenied(refusal)
        with refuse_when_busy(BUSY):
            void_session(session=session, reason=data["reason"], by=request.user)
        return self.respond(session)
