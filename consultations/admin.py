"""The managers' admin for clients, consultations and client record accesses, and the stamping
mixin clinical admins share.

`treatments` is imported inside functions only: consultations does not import treatments at
module level.
"""

import datetime
from functools import cached_property
from http import HTTPStatus

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, UniqueConstraint
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator

from clinic.admin import (
    LIST_PER_PAGE,
    AuditTrailAdmin,
    CappedCountAdminMixin,
    CheckedAutocompleteMixin,
    FilteredExportMixin,
    ReadOnlyAdminMixin,
    VersionedAdminMixin,
    VoidAdminMixin,
    VoidedFilter,
)
from clinic.locking import VersionedFormMixin
from clinic.models import Stamped
from consultations import screening
from consultations.models import Client, ClientAccess, Consultation, RecordedConcern
from consultations.resources import ClientExport

STAMP_FIELDS = ("created_at", "created_by", "updated_at", "updated_by")
# `version` is the hidden input of optimistic locking (VersionedAdminMixin).
STAMP_FIELDSET = ("Record", {"fields": (*STAMP_FIELDS, "version"), "classes": ("collapse",)})

# How a date of birth may be typed into the client search box.
SEARCH_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


class ClinicalRecordAdminMixin(CheckedAutocompleteMixin):
    """For clinical rows: stamp who saved them (inline rows too) and never offer deletion.

    Records are archived or voided, never hard-deleted, so neither the delete button nor the
    "delete selected" action is offered. List `STAMP_FIELDS` in `readonly_fields` to show them.
    """

    def get_queryset(self, request):
        # A record's page shows who created and last changed it: join them.
        return super().get_queryset(request).select_related("created_by", "updated_by")

    def save_model(self, request, obj, form, change):
        obj.stamp(request.user)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            if isinstance(instance, Stamped):
                instance.stamp(request.user)
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()

    def has_delete_permission(self, request, obj=None):
        return False


def _plans():
    return apps.get_model("treatments", "TreatmentPlan").objects


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
        active = Exists(_plans().active().filter(client=OuterRef("pk")))
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
        overdue = Exists(_plans().overdue().filter(client=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.filter(~overdue)
        return queryset


class ClientChangeList(ChangeList):
    """The client list, with whether each client shown has an active and an overdue course.

    Read for the page's clients only, in one query: as annotations of the list, PostgreSQL
    read every active course of the chain to answer them for 50 rows.
    """

    def get_results(self, request):
        super().get_results(request)
        clients = list(self.result_list)
        courses = list(
            _plans().active().filter(client__in=clients).values_list("client", "next_due_on")
        )
        today = timezone.localdate()
        active = {client_id for client_id, _ in courses}
        overdue = {client_id for client_id, due in courses if due and due < today}
        for client in clients:
            client.has_active_course = client.pk in active
            client.has_overdue_course = client.pk in overdue


class ClientHistory:
    """A client's complete record, read in a fixed number of queries when the page shows it."""

    def __init__(self, client_id):
        self.client_id = client_id

    @cached_property
    def consultations(self):
        """(consultation, assessment) pairs, oldest first."""
        consultations = (
            Consultation.objects.filter(client_id=self.client_id)
            .select_related("client", "practitioner", "voided_by")
            .prefetch_related(
                Prefetch("concerns", queryset=RecordedConcern.objects.select_related("concern"))
            )
            .order_by("held_on", "pk")
        )
        return [(c, screening.assess(c, list(c.concerns.all()))) for c in consultations]

    @cached_property
    def courses(self):
        """Courses oldest first, each with its concerns and its sessions in date order."""
        from treatments.models import (
            PlanConcern,
            SessionProduct,
            SessionProgress,
            TreatmentPlan,
            TreatmentSession,
        )

        sessions = (
            TreatmentSession.objects.select_related("practitioner", "numbing", "voided_by")
            .prefetch_related(
                "areas",
                Prefetch(
                    "products_used", queryset=SessionProduct.objects.select_related("product")
                ),
                Prefetch(
                    "progress",
                    queryset=SessionProgress.objects.select_related("recorded_concern__concern"),
                ),
            )
            .order_by("performed_on", "number")
        )
        return list(
            TreatmentPlan.objects.filter(client_id=self.client_id)
            .select_related("practitioner", "consultation")
            .prefetch_related(
                Prefetch(
                    "plan_concerns",
                    queryset=PlanConcern.objects.select_related("recorded_concern__concern"),
                ),
                Prefetch("sessions", queryset=sessions),
            )
            .order_by("start_date", "pk")
        )


class ClientAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Client)
class ClientHistoryAdmin(
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
        extra_context = {
            **(extra_context or {}),
            "client_history": ClientHistory(client_id) if client_id else None,
        }
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._record_access(request, response, client_id)

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


class ChoicesReadOnce(BaseChoiceIterator):
    """A select's options, read from the database when first drawn, then kept for every row."""

    def __init__(self, choices):
        self.choices = choices
        self.read = {}  # shared by copies: widgets copy their choices

    def __iter__(self):
        if "rows" not in self.read:
            # Not list(): it would ask the queryset's length first, a COUNT query.
            self.read["rows"] = list(iter(self.choices))
        return iter(self.read["rows"])


class SavedRowsFormSet(BaseInlineFormSet):
    """Checks each new or changed inline row against the rows already saved.

    Django leaves the parent's key out of a row's own unique checks (it is not one of the
    inline's fields), so a row repeating a saved one (say, from a tampered management form)
    would otherwise reach the database and fail there.
    """

    def _construct_form(self, i, **kwargs):
        return self._share_choices(super()._construct_form(i, **kwargs))

    @property
    def empty_form(self):
        return self._share_choices(super().empty_form)

    def _share_choices(self, form):
        """Read each select list once for the formset, not once per row (and again for the
        empty row the admin copies for "Add another")."""
        shared = self.__dict__.setdefault("_shared_choices", {})
        for name, field in form.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # inside the admin's wrapper
            if isinstance(field, forms.ModelChoiceField) and type(widget) is forms.Select:
                if name not in shared:
                    shared[name] = ChoicesReadOnce(field.choices)
                field.widget.choices = shared[name]
        return form

    def clean(self):
        super().clean()
        for form in self.forms:
            if form.errors or not form.has_changed() or self._should_delete_form(form):
                continue
            row = form.instance
            # The unique constraints over the row's fields and its parent's key; the row's form
            # has checked the rest.
            exclude = {
                field.name
                for field in row._meta.fields
                if field.name not in form.fields and field.name != self.fk.name
            }
            for constraint in row._meta.constraints:
                if isinstance(constraint, UniqueConstraint):
                    try:
                        constraint.validate(type(row), row, exclude=exclude)
                    except ValidationError as error:
                        form.add_error(None, error)


class AtLeastOneInline(admin.TabularInline):
    """An inline that must keep at least one row (the admin only hints at min_num otherwise)."""

    formset = SavedRowsFormSet
    extra = 0
    min_num = 1

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class RecordedConcernInline(CheckedAutocompleteMixin, AtLeastOneInline):
    model = RecordedConcern
    fields = ("concern", "area", "severity", "notes")
    autocomplete_fields = ("concern",)
    can_delete = False


class ConsultationAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Consultation)
class ConsultationRecordAdmin(
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
    inlines = (RecordedConcernInline,)
    readonly_fields = ("outcome", "screening_reasons", "void_status", *STAMP_FIELDS)
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
                )
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
                    "immunosuppressed",
                    "skin_condition_flare",
                    "pregnant_or_breastfeeding",
                    "recent_tan_or_sunburn",
                )
            },
        ),
        ("Consent", {"fields": ("consent_given", "consent_by", "consent_at", "consent_scope")}),
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
        from treatments.services import void_consultation

        return void_consultation(consultation=obj, reason=reason, by=by)

    @admin.display(description="screening reasons")
    def screening_reasons(self, obj):
        if obj.pk is None:
            return "-"
        concerns = list(obj.concerns.select_related("concern"))
        assessment = screening.assess(obj, concerns)
        return "\n".join(assessment.contraindications + assessment.cautions) or "None"


@admin.register(ClientAccess)
class ClientRecordAccessAdmin(CappedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who opened which client's record, when and where: read only."""

    list_display = ("accessed_at", "user", "client", "via")
    list_select_related = ("user", "client")
    list_filter = ("via", "user", "accessed_at")
    search_fields = ("client__last_name", "client__first_name")
    search_help_text = "Client's name."
