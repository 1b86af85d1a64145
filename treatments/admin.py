"""The managers' admin for clients, consultations, courses and sessions: a client's admin page is
their whole record (treatments.selectors.ClientRecord)."""

import datetime
from http import HTTPStatus

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.utils import timezone

from catalogue.admin import AreaSelectsFromChartMixin
from catalogue.models import Concern
from clinic.admin import (
    LIST_PER_PAGE,
    STAMP_FIELDS,
    STAMP_FIELDSET,
    AtLeastOneInline,
    AuditTrailAdmin,
    CappedCountAdminMixin,
    ClinicalRecordAdminMixin,
    FilteredExportMixin,
    ReadOnlyAdminMixin,
    RefusedSaveAdminMixin,
    SavedRowsFormSet,
    VersionedAdminMixin,
    VoidAdminMixin,
    VoidedFilter,
)
from clinic.formats import day
from clinic.locking import VersionedFormMixin
from consultations import screening
from consultations.admin import FindingInline, RecordedConcernInline
from consultations.models import Client, ClientAccess, Consultation, RecordedConcern
from consultations.resources import ClientExport
from consultations.screening import PRE_SESSION_FIELDS
from consultations.services import check_session
from stock.models import Lot
from treatments.models import (
    AdverseEvent,
    Appointment,
    Course,
    CourseConcern,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
    areas_with_names,
)
from treatments.resources import CourseExport, SessionExport
from treatments.selectors import ClientRecord
from treatments.services import (
    CORRECTABLE_FIELDS,
    COURSE_FIELDS,
    PLAN_FIELDS,
    change_course,
    check_chart_and_interval,
    check_course_change,
    correct_session,
    previous_session_on,
    void_consultation,
    void_session,
)

# Clients and consultations: a client's admin page is their whole record, courses and
# sessions included, so their admins live here with the courses'.

# How a date of birth may be typed into the client search box.
SEARCH_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def _parse_date(text):
    for date_format in SEARCH_DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


class ActiveCourseFilter(admin.SimpleListFilter):
    title = "active course"
    parameter_name = "active_course"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        active = Exists(Course.objects.active().filter(client=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.filter(~active)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    """Clients with an active course whose next session was due before today."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        overdue = Exists(Course.objects.overdue().filter(client=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.filter(~overdue)
        return queryset


class ClientAccessAdminMixin:
    """A change page that shows a client's health data: each showing is logged as a read of
    the client's record (ClientAccess, via the admin)."""

    def client_of(self, obj):
        return obj.client_id

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if obj is not None and obj.pk is not None:
            ClientAccess.record(
                user=request.user,
                client=self.client_of(obj),
                via=ClientAccess.Via.ADMIN,
                what=f"{self.opts.verbose_name} {obj.pk}",
            )
        return response


class ClientChangeList(ChangeList):
    """The client list, with whether each client shown has an active and an overdue course.

    Read for the page's clients only, in one query: as annotations of the list, PostgreSQL
    read every active course of the chain to answer them for 50 rows.
    """

    def get_results(self, request):
        super().get_results(request)
        clients = list(self.result_list)
        courses = list(
            Course.objects.active().filter(client__in=clients).values_list("client", "next_due_on")
        )
        today = timezone.localdate()
        active = {client_id for client_id, _ in courses}
        overdue = {client_id for client_id, due in courses if due and due < today}
        for client in clients:
            client.has_active_course = client.pk in active
            client.has_overdue_course = client.pk in overdue


class ClientAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Client)
class ClientAdmin(
    CappedCountAdminMixin,
    FilteredExportMixin,
    VersionedAdminMixin,
    ClinicalRecordAdminMixin,
    AuditTrailAdmin,
):
    resource_classes = [ClientExport]
    """Clients, each with its complete history; opening one is recorded as an access."""

    form = ClientAdminForm
    change_form_template = "admin/consultations/client/change_form.html"
    list_display = (
        "last_name",
        "first_name",
        "date_of_birth",
        "skin_type",
        "phone",
        "email",
        "active_course",
        "overdue",
        "archived",
    )
    list_display_links = ("last_name", "first_name")
    list_filter = ("skin_type", ActiveCourseFilter, OverdueFilter, "archived")
    search_fields = ("last_name", "first_name", "email", "phone")
    search_help_text = (
        "Name, email, phone, or date of birth (1985-05-17 or 17/05/1985). "
        "Matches are listed newest client first."
    )
    list_per_page = LIST_PER_PAGE
    readonly_fields = STAMP_FIELDS
    fieldsets = (
        (None, {"fields": ("first_name", "last_name", "date_of_birth", "skin_type")}),
        ("Contact", {"fields": ("email", "phone")}),
        (None, {"fields": ("notes", "archived")}),
        STAMP_FIELDSET,
    )

    def get_changelist(self, request, **kwargs):
        return ClientChangeList

    def get_ordering(self, request):
        # A searched list shows the newest clients first, as the workspace's does: its page is
        # then the first matches found from the newest, whatever the size of the chain.
        if request.GET.get(SEARCH_VAR, "").strip():
            return ["-pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        """Words that read as a date match the date of birth; the others, the workspace's
        client search (names, email and phone, served by one index on PostgreSQL)."""
        words = search_term.split()
        dates = [date for date in map(_parse_date, words) if date]
        for date in dates:
            queryset = queryset.filter(date_of_birth=date)
        rest = " ".join(word for word in words if not _parse_date(word))
        return queryset.search(rest), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            client_id = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            client_id = None
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._record_access(request, response, client_id)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["client_record"] = ClientRecord(obj, in_full=True)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._record_access(request, response, unquote(object_id))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        return self._record_access(request, response, unquote(object_id))

    def _record_access(self, request, response, client_id):
        """A page that showed a client's record: note who opened it."""
        if request.method == "GET" and response.status_code == HTTPStatus.OK and client_id:
            ClientAccess.record(user=request.user, client=client_id, via=ClientAccess.Via.ADMIN)
        return response

    # Not sortable: sorting by them would read every client's courses; the filters narrow the
    # list to them instead.
    @admin.display(boolean=True, description="active course")
    def active_course(self, obj):
        return obj.has_active_course

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj):
        return obj.has_overdue_course


class ConsultationAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Consultation)
class ConsultationAdmin(
    ClientAccessAdminMixin,
    AreaSelectsFromChartMixin,
    CappedCountAdminMixin,
    VoidAdminMixin,
    VersionedAdminMixin,
    ClinicalRecordAdminMixin,
    AuditTrailAdmin,
):
    form = ConsultationAdminForm
    void_consequence = "No course can be started from it."
    list_display = ("held_on", "client", "practitioner", "outcome", "consent_given", "void_status")
    list_select_related = ("client", "practitioner", "voided_by")
    list_filter = ("outcome", "consent_given", VoidedFilter, "practitioner", "held_on")
    search_fields = ("client__last_name", "client__first_name", "client__email")
    autocomplete_fields = ("client",)
    inlines = (RecordedConcernInline, FindingInline)
    # The tick box of consent, kept readable: consent is signed now (the consent app).
    OLD_CONSENT_FIELDS = (
        "consent_given",
        "consent_by",
        "consent_at",
        "consent_scope",
        "photo_consent",
    )
    readonly_fields = (
        "outcome",
        "screening_reasons",
        "void_status",
        *OLD_CONSENT_FIELDS,
        *STAMP_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("client", "held_on", "practitioner", "void_status")}),
        (
            "Screening: do not treat",
            {
                "fields": (
                    "infection_in_area",
                    "lesion_in_area",
                    "keloid_in_area",
                    "bleeding_disorder",
                    "allergy_metal_or_anaesthetic",
                    "affected_area",
                ),
                "description": "An infection, lesion or keloid found in an area is also a "
                "finding below, with its area (one per row, several allowed).",
            },
        ),
        (
            "Screening: cautions",
            {
                "fields": (
                    "keloid_tendency",
                    "active_acne",
                    "cold_sore_history",
                    "isotretinoin_recent",
                    "anticoagulants",
                    "thrombosis_history",
                    "immunosuppressed",
                    "skin_condition_flare",
                    "pregnant_or_breastfeeding",
                    "recent_tan_or_sunburn",
                ),
                "description": "Isotretinoin, a tan or sunburn, a peel, laser or filler: record "
                "them as findings below with their date, so the washout is counted from it.",
            },
        ),
        (
            "Consent recorded before signed consent was available",
            {
                "fields": OLD_CONSENT_FIELDS,
                "description": "The old tick box, kept as it was. Consents are signed on the "
                "tablet now: see Consent > Signed consents.",
            },
        ),
        ("Outcome", {"fields": ("outcome", "screening_reasons", "notes")}),
        STAMP_FIELDSET,
    )

    def get_queryset(self, request):
        # The client is part of every consultation's name (pickers, links), so join it
        # everywhere, not only in the list (which then skips list_select_related).
        return super().get_queryset(request).select_related(*self.list_select_related)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.refresh_outcome()

    def void(self, obj, *, reason, by):
        return void_consultation(consultation=obj, reason=reason, by=by)

    @admin.display(description="screening reasons")
    def screening_reasons(self, obj):
        if obj.pk is None:
            return "-"
        concerns = list(obj.concerns.select_related("concern"))
        assessment = screening.assess(obj, concerns)
        return "\n".join(assessment.contraindications + assessment.cautions) or "None"


# Courses and sessions


class ConcernFilter(admin.SimpleListFilter):
    """Courses treating a catalogue concern (course -> concerns treated -> recorded concern)."""

    title = "concern"
    parameter_name = "concern"
    course_field = "pk"

    def lookups(self, request, model_admin):
        return Concern.objects.values_list("slug", "name")

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        courses = CourseConcern.objects.filter(recorded_concern__concern__slug=self.value())
        return queryset.filter(**{f"{self.course_field}__in": courses.values("course")})


class SessionConcernFilter(ConcernFilter):
    """Sessions whose course treats a catalogue concern."""

    course_field = "course"


class OverdueCourseFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(pk__in=Course.objects.overdue().values("pk"))
        return queryset


class CourseConcernInline(admin.TabularInline):
    """A course's concerns and each one's planned count, as the course was started (through
    the workspace's suggestion and checks) and as change_course recounts them: read only."""

    model = CourseConcern
    fields = ("recorded_concern", "planned_sessions")
    readonly_fields = ("recorded_concern", "planned_sessions")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("recorded_concern__concern", "recorded_concern__area")
        )


class CourseAdminForm(VersionedFormMixin, forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        status, ended_on = cleaned_data.get("status"), cleaned_data.get("ended_on")
        if status and status != Course.Status.ACTIVE and not ended_on:
            self.add_error("ended_on", "Give the date the course ended.")
        planned, logged = cleaned_data.get("planned_sessions"), self.instance.sessions_logged
        if planned is not None and planned < logged:
            self.add_error(
                "planned_sessions",
                f"This course has {logged} sessions logged: it cannot plan fewer.",
            )
        elif (
            status == Course.Status.ACTIVE
            and "status" in self.changed_data
            and logged
            and planned is not None
            and planned <= logged
        ):
            self.add_error(
                "status",
                f"All {planned} planned sessions of this course are logged: plan more sessions "
                "to keep it active.",
            )
        if self.instance.pk:
            # The rules change_course applies, next to their fields.
            values = {
                name: cleaned_data[name]
                for name in (*PLAN_FIELDS, "departure_reason")
                if name in cleaned_data and cleaned_data[name] is not None
            }
            try:
                check_course_change(
                    course=self.instance,
                    links=self.instance.course_concerns.all(),
                    **values,
                )
            except ValidationError as refusal:
                for name, messages in refusal.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return cleaned_data


@admin.register(Course)
class CourseAdmin(
    ClientAccessAdminMixin,
    RefusedSaveAdminMixin,
    CappedCountAdminMixin,
    FilteredExportMixin,
    VersionedAdminMixin,
    ClinicalRecordAdminMixin,
    AuditTrailAdmin,
):
    resource_classes = [CourseExport]
    form = CourseAdminForm
    list_display = (
        "client",
        "concerns_treated",
        "start_date",
        "practitioner",
        "progress_label",
        "status",
        "next_due_on",
        "overdue",
    )
    list_select_related = ("client", "practitioner")
    list_filter = ("status", OverdueCourseFilter, "practitioner", ConcernFilter, "start_date")
    search_fields = ("client__last_name", "client__first_name", "client__email")
    autocomplete_fields = ("client", "consultation")
    inlines = (CourseConcernInline,)
    readonly_fields = (
        "progress_label",
        "sessions_logged",
        "last_session_on",
        "next_due_on",
        "suggested_sessions_min",
        "suggested_sessions_max",
        "suggested_sessions",
        "suggested_interval_weeks",
        "override_areas",
        *STAMP_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("client", "consultation", "practitioner", "start_date")}),
        (
            "Course",
            {
                "fields": (
                    ("planned_sessions", "interval_weeks"),
                    ("suggested_sessions_min", "suggested_sessions_max", "suggested_sessions"),
                    "suggested_interval_weeks",
                    "device",
                    "departure_reason",
                    "override_reason",
                    "override_areas",
                    "cautions_acknowledged",
                    "notes",
                )
            },
        ),
        ("Progress", {"fields": ("progress_label", "last_session_on", "next_due_on")}),
        ("Status", {"fields": ("status", "ended_on", "end_reason")}),
        STAMP_FIELDSET,
    )

    def get_queryset(self, request):
        # A course's name lists its client and concerns (pickers, links, the list). Joining
        # here makes the list skip list_select_related, so join those too.
        concerns = CourseConcern.objects.select_related(
            "recorded_concern__concern", "recorded_concern__area"
        )
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related, "consultation__client")
            .prefetch_related(Prefetch("course_concerns", queryset=concerns))
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A course stays with the client and consultation it was started from.
        return ("client", "consultation", *self.readonly_fields)

    def has_add_permission(self, request):
        """Courses start from a consultation's page in the workspace, through its suggestion
        and the screening's rules: one way in."""
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        change_course(
            course=obj, by=request.user, **{n: v for n, v in changes.items() if n in COURSE_FIELDS}
        )

    @admin.display(description="concerns")
    def concerns_treated(self, obj):
        return obj.concern_names

    @admin.display(description="progress", ordering="sessions_logged")
    def progress_label(self, obj):
        return obj.progress_label

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.is_overdue()


class SessionAreaFormSet(SavedRowsFormSet):
    """A session's areas, checked as correct_session() checks them: against the area chart (a
    depth above an area's maximum, without the session's reason, is refused on its row), and
    against the screening (an area added, or every area when the session moves to another day,
    must not be one the consultation's findings block without the course's override, nor inside
    a washout)."""

    def clean(self):
        super().clean()
        session = self.instance
        if any(self.errors):
            return
        rows = {
            form.cleaned_data["area"].code: form
            for form in self.forms
            if form.cleaned_data.get("area") and not self._should_delete_form(form)
        }
        try:
            check_chart_and_interval(
                session.course,
                areas=[(code, form.cleaned_data["depth_mm"]) for code, form in rows.items()],
                depth_reason=session.depth_reason,
                performed_on=None,
                previous_on=None,
                interval_reason="",
            )
        except ValidationError as refusal:
            for error in refusal.error_dict.get("depth_mm", []):
                rows[error.params["area"]].add_error("depth_mm", error)
        if session.performed_on is None:
            return
        saved = {form.instance.area_id for form in self.initial_forms}
        saved_on = TreatmentSession.objects.values_list("performed_on", flat=True).get(
            pk=session.pk
        )
        moved = session.performed_on != saved_on
        areas = list(rows) if moved else [code for code in rows if code not in saved]
        try:
            check_session(
                consultation=session.course.consultation,
                overridden_areas=session.course.override_areas,
                areas=areas,
                performed_on=session.performed_on,
                answers={"check_acknowledged": session.check_acknowledged},
                new=False,
            )
        except ValidationError as refusal:
            raise ValidationError(refusal.messages) from None


class SessionAreaInline(AreaSelectsFromChartMixin, AtLeastOneInline):
    model = SessionArea
    formset = SessionAreaFormSet
    fields = ("area", "depth_mm")
    can_delete = False

    def get_queryset(self, request):
        # Each row is titled by its area and depth ("Cheeks and chin at 1.50 mm").
        return super().get_queryset(request).select_related("area")


class SessionProductInline(admin.TabularInline):
    model = SessionProduct
    formset = SavedRowsFormSet
    fields = ("product", "lot")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "lot")

    def get_formset(self, request, obj=None, **kwargs):
        """The lots offered: those in use and in date, and the session's own (read once for
        the page: SavedRowsFormSet shares the select among the rows)."""
        formset = super().get_formset(request, obj, **kwargs)
        usable = Q(status=Lot.Status.IN_USE, expiry_date__gte=timezone.localdate())
        if obj is not None:
            usable |= Q(pk__in=SessionProduct.objects.filter(session=obj).values("lot"))
        formset.form.base_fields["lot"].queryset = Lot.objects.select_related("product").filter(
            usable
        )
        return formset


class SessionProgressFormSet(SavedRowsFormSet):
    """Offer only the concerns the session's course treats."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["recorded_concern"].queryset = RecordedConcern.objects.filter(
            course_links__course_id=self.instance.course_id
        ).select_related("concern", "area")


class SessionProgressInline(admin.TabularInline):
    model = SessionProgress
    formset = SessionProgressFormSet
    fields = ("recorded_concern", "practitioner_rating", "client_rating")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("recorded_concern__concern", "recorded_concern__area")
        )


class SessionAdminForm(VersionedFormMixin, forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        course = cleaned_data.get("course") or (
            self.instance.course if self.instance.course_id else None
        )
        performed_on = cleaned_data.get("performed_on")
        if course is None:
            return cleaned_data
        if performed_on and performed_on < course.start_date:
            self.add_error(
                "performed_on",
                f"The course started on {day(course.start_date)}; a session cannot be earlier.",
            )
        if performed_on and self.instance.pk and not self.errors:
            # The interval as correct_session() checks it (the areas: SessionAreaFormSet).
            try:
                check_chart_and_interval(
                    course,
                    areas=None,
                    depth_reason="",
                    performed_on=performed_on,
                    previous_on=previous_session_on(self.instance),
                    interval_reason=cleaned_data.get("interval_reason", ""),
                )
            except ValidationError as refusal:
                for name, errors in refusal.error_dict.items():
                    self.add_error(name, errors)
        if performed_on and not self.errors:
            # The pre-session check's answers, as the service checks them (the areas are the
            # area rows' to check: SessionAreaFormSet).
            answers = {name: cleaned_data.get(name) for name in PRE_SESSION_FIELDS}
            try:
                check_session(
                    consultation=course.consultation,
                    overridden_areas=course.override_areas,
                    areas=[],
                    performed_on=performed_on,
                    answers=answers,
                    new=False,
                )
            except ValidationError as refusal:
                for name, messages in refusal.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return cleaned_data


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(
    ClientAccessAdminMixin,
    RefusedSaveAdminMixin,
    CappedCountAdminMixin,
    FilteredExportMixin,
    VoidAdminMixin,
    VersionedAdminMixin,
    ClinicalRecordAdminMixin,
    AuditTrailAdmin,
):
    resource_classes = [SessionExport]
    form = SessionAdminForm
    void_consequence = "It no longer counts towards its course, whose progress is recounted."
    list_display = (
        "performed_on",
        "client",
        "number",
        "device",
        "depths",
        "practitioner",
        "skin_response",
        "pain_score",
        "void_status",
    )
    list_select_related = ("course__client", "practitioner", "voided_by")
    list_filter = (
        "device",
        VoidedFilter,
        "practitioner",
        SessionConcernFilter,
        "performed_on",
        "skin_response",
    )
    search_fields = ("course__client__last_name", "course__client__first_name", "device_model")
    list_per_page = LIST_PER_PAGE
    autocomplete_fields = ("course",)
    inlines = (SessionAreaInline, SessionProductInline, SessionProgressInline)
    readonly_fields = ("number", "void_status", *STAMP_FIELDS)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "course",
                    "number",
                    "performed_on",
                    "interval_reason",
                    "practitioner",
                    "void_status",
                )
            },
        ),
        ("Pre-session check", {"fields": PRE_SESSION_FIELDS}),
        (
            "Procedure",
            {"fields": ("device", "device_model", "device_serial", "numbing", "depth_reason")},
        ),
        ("Response", {"fields": ("skin_response", "pain_score", "notes")}),
        STAMP_FIELDSET,
    )

    def client_of(self, obj):
        return obj.course.client_id

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .prefetch_related(areas_with_names())
        )

    def get_object(self, request, object_id, from_field=None):
        session = super().get_object(request, object_id, from_field)
        if session is not None:
            # The page names the session's course by its client and concerns: read them at once.
            concerns = CourseConcern.objects.select_related(
                "recorded_concern__concern", "recorded_concern__area"
            )
            prefetch_related_objects(
                [session], Prefetch("course__course_concerns", queryset=concerns)
            )
        return session

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Moving a session to another course would break both courses' numbering.
        return ("course", *self.readonly_fields)

    def has_add_permission(self, request):
        """Sessions are logged on their course's page in the workspace, through the session
        form's checks: one way in."""
        return False

    def save_model(self, request, obj, form, change):
        """Nothing yet: save_related() saves the session with its rows, in one version."""

    def save_related(self, request, form, formsets, change):
        """Save the session and its rows through the service the workspace's correction uses,
        which recounts the course under its lock."""
        rows = {}
        for formset in formsets:
            formset.save(commit=False)  # notes what changed, for the admin's history message
            rows[formset.prefix] = [
                row.cleaned_data
                for row in formset.forms
                if row.cleaned_data and not row.cleaned_data.get("DELETE")
            ]
        correct_session(
            session=form.instance,
            by=request.user,
            areas=[(row["area"], row["depth_mm"]) for row in rows["areas"]],
            products=[(row["product"], row["lot"]) for row in rows["products_used"]],
            progress=[
                (row["recorded_concern"], row["practitioner_rating"], row.get("client_rating"))
                for row in rows["progress"]
            ],
            **{
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in CORRECTABLE_FIELDS
            },
        )

    def void(self, obj, *, reason, by):
        return void_session(session=obj, reason=reason, by=by)

    @admin.display(ordering="course__client__last_name")
    def client(self, obj):
        return obj.course.client

    @admin.display(description="depth per area")
    def depths(self, obj):
        return ", ".join(f"{a.area.name} {a.depth_mm} mm" for a in obj.areas.all())


@admin.register(SessionProduct)
class SessionProductAdmin(CappedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which lot of which product went to which client: read only, rows come from sessions
    (whose audit trail keeps the lots each version of a session recorded)."""

    list_display = ("lot_number", "product", "client", "performed_on", "practitioner")
    list_select_related = ("product", "session__course__client", "session__practitioner")

    def get_queryset(self, request):
        # The change page names the row's lot (with its product) beside its product.
        # Joining here makes the list skip list_select_related, so join those too.
        return (
            super().get_queryset(request).select_related(*self.list_select_related, "lot__product")
        )

    list_filter = ("product", "session__performed_on")
    search_fields = ("=lot_number", "session__course__client__last_name")

    @admin.display(ordering="session__course__client__last_name")
    def client(self, obj):
        return obj.session.course.client

    @admin.display(description="date", ordering="session__performed_on")
    def performed_on(self, obj):
        return obj.session.performed_on

    @admin.display(ordering="session__practitioner")
    def practitioner(self, obj):
        return obj.session.practitioner


class AppointmentAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Appointment)
class AppointmentAdmin(
    CappedCountAdminMixin, VersionedAdminMixin, ClinicalRecordAdminMixin, AuditTrailAdmin
):
    """Bookings: managers mark one cancelled or missed (or move it); never deleted. They are made
    in the workspace (client, course and recall pages), so the admin adds none."""

    form = AppointmentAdminForm
    list_display = ("date", "time", "client", "practitioner", "status", "course")
    list_filter = ("status", "date")
    list_select_related = ("client", "practitioner", "course__client")
    search_fields = ("client__last_name", "client__first_name")
    date_hierarchy = "date"
    list_per_page = LIST_PER_PAGE
    readonly_fields = ("client", "course", *STAMP_FIELDS)
    fieldsets = (
        (None, {"fields": ("client", "course", "date", "time", "practitioner", "status", "note")}),
        STAMP_FIELDSET,
    )

    def has_add_permission(self, request):
        return False


class AdverseEventAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(AdverseEvent)
class AdverseEventAdmin(
    CappedCountAdminMixin, VersionedAdminMixin, ClinicalRecordAdminMixin, AuditTrailAdmin
):
    form = AdverseEventAdminForm
    list_display = ("onset_on", "kind", "severity", "outcome", "client", "session")
    list_select_related = ("session__course__client",)
    list_filter = ("kind", "severity", "outcome", "reported_by", "onset_on")
    search_fields = ("session__course__client__last_name", "kind_detail", "notes")
    raw_id_fields = ("session",)
    readonly_fields = STAMP_FIELDS
    fieldsets = (
        (None, {"fields": ("session", "kind", "kind_detail", "onset_on", "severity")}),
        ("Follow-up", {"fields": ("action_taken", "outcome", "resolved_on", "reported_by")}),
        (None, {"fields": ("notes",)}),
        STAMP_FIELDSET,
    )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ("session", *self.readonly_fields)

    @admin.display(ordering="session__course__client__last_name")
    def client(self, obj):
        return obj.session.course.client
