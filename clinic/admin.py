"""The managers' admin site, and what its clinical admins share.

- The site: only the Manager role (or a superuser) may sign in or open any page. Aestheticians
  work in the workspace; a staff account without the role is refused like a non-staff one.
- `AuditTrailAdmin`: every record's history (who changed what, when) is readable, never
  editable: there is no revert, and history rows have no admin of their own.
- `VersionedAdminMixin`: optimistic locking for change forms (see clinic.locking).
- `VoidAdminMixin`: mistaken consultations and sessions are voided with a reason, never deleted.
- `CheckedAutocompleteMixin`: a malformed id typed into an autocomplete field is refused politely.
- `CappedCountAdminMixin`: the big lists count at most 10,000 rows ("more than 10000"), and a
  searched list a few pages' worth, so a list's cost does not grow with a million sessions.
- `ClinicalRecordAdminMixin`: stamps who saved a clinical row (inline rows too), never deletes.
- `SavedRowsFormSet`, `AtLeastOneInline`: inline rows checked against the saved ones; a select's
  options read once per formset.
"""

import dataclasses
import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import UniqueConstraint
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.text import capfirst
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from clinic import roles
from clinic.formats import moment
from clinic.history import changes_to_rows
from clinic.locking import FIELD_NAME as VERSION_FIELD
from clinic.locking import refuse_when_busy
from clinic.models import REASON_MAX_LENGTH, ExportRecord, Stamped
from clinic.pagination import CappedCountPaginator, ShortCountPaginator
from clinic.second_factor import is_verified

# Bookkeeping every change touches: the history's own columns say who and when.
UNLISTED_CHANGES = {"version", "updated_at", "updated_by"}
# Rows a page of the busiest lists (clients, sessions) shows: rendering them is most of the cost.
LIST_PER_PAGE = 50
# A save that did not get its record's (or course's) lock within DJANGO_DB_LOCK_TIMEOUT.
RECORD_BUSY = "Someone else is saving this record right now. Nothing was saved; try again."


def is_manager(user):
    """Whether `user` may use the admin: an active superuser, or active staff with the role."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_is_clinic_manager"):  # asked several times per request
        user._is_clinic_manager = user.groups.filter(name=roles.MANAGER).exists()
    return user._is_clinic_manager


class ManagerAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_manager(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class ManagersAdminSite(admin.AdminSite):
    """The default admin site (clinic.apps.ClinicAdminConfig), open to managers only."""

    login_form = ManagerAuthenticationForm

    def has_permission(self, request):
        # Signed in with the second factor too (clinic.second_factor), not the password alone.
        return is_manager(request.user) and is_verified(request)


def _object_id(model, object_id):
    """The primary key named in an admin URL, or 404 for one that cannot be a key."""
    try:
        return model._meta.pk.to_python(unquote(object_id))
    except ValidationError:
        raise Http404(f"No {model._meta.verbose_name} has the id {object_id!r}.") from None


def _system_changes(older, newer):
    """Changes between two versions to the fields users do not edit (editable=False)."""
    return [
        ModelChange(field.name, getattr(older, field.name), getattr(newer, field.name))
        for field in newer.tracked_fields
        if not (field.editable or field.primary_key or field.name in UNLISTED_CHANGES)
        and getattr(older, field.attname) != getattr(newer, field.attname)
    ]


class AuditTrailValues(HistoricalRecordContextHelper):
    """Changed values as a manager reads them: local times, and "-" for nothing."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        if isinstance(value, datetime.datetime):
            return formats.localize(timezone.localtime(value))
        return "-" if value in (None, "") else value


class CappedCountAdminMixin:
    """Admin lists that never count a huge table to its end (clinic.pagination): at most
    10,000 rows, or a few pages' worth when the list is searched."""

    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        searched = bool(request.GET.get(SEARCH_VAR, "").strip())
        paginator = ShortCountPaginator if searched else CappedCountPaginator
        return paginator(queryset, per_page, orphans, allow_empty_first_page)


class AuditTrailAdmin(SimpleHistoryAdmin):
    """A record's history, read only: who made each change, when, and what it changed.

    Reverting is off (SIMPLE_HISTORY_REVERT_DISABLED), and a past version's page refuses any
    POST, so history is never written from here; the historical models are not registered.
    """

    object_history_list_template = "admin/audit_trail.html"

    def get_historical_record_context_helper(self, request, historical_record):
        return AuditTrailValues(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """What each version changed, including the fields the system sets (voiding, the
        screening outcome, a course's progress), which simple_history's diff leaves out, and
        the rows the record owns (a session's areas, products and ratings)."""
        records = list(historical_records)  # newest first
        pairs = list(zip(records[1:], records, strict=False))  # (older, newer)
        for (older, newer), row_changes in zip(
            pairs, changes_to_rows(self.model, pairs), strict=True
        ):
            delta = newer.diff_against(older, foreign_keys_are_objs=foreign_keys_are_objs)
            changes = sorted(
                [*delta.changes, *_system_changes(older, newer)], key=lambda c: c.field
            )
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(
                dataclasses.replace(delta, changes=changes)
            ) + [
                {"field": capfirst(label), "old": old, "new": new}
                for label, old, new in row_changes
            ]

    def history_view(self, request, object_id, extra_context=None):
        _object_id(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        _object_id(self.model, object_id)
        if not version_id.isdigit():
            raise Http404(f"No version {version_id!r}.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class VersionedAdminMixin:
    """Optimistic locking for a Stamped model's change form.

    The admin's `form` mixes in clinic.locking.VersionedFormMixin, and a fieldset lists
    `version` (rendered as a hidden input): a save based on an older version is refused with a
    message naming who changed what, and the manager's input stays in the form.
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        # `version` is a non-editable model field, which the model form factory refuses in
        # `fields`; the form class declares it, so leave it out here.
        if "fields" in kwargs:
            fields = kwargs["fields"]
        else:
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        if fields is not None:
            kwargs["fields"] = [name for name in fields if name != VERSION_FIELD]
        return super().get_form(request, obj, change, **kwargs)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # Lock the row until the admin's transaction ends, and check the form against the
            # version read under the lock: no save can slip in between the check and this one.
            obj.version = (
                type(obj)
                ._default_manager.select_for_update()
                .values_list(VERSION_FIELD, flat=True)
                .get(pk=obj.pk)
            )
        return obj


def _can_be(field, value):
    """Whether `value` can be stored in `field` (right type, within the database's range)."""
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete select, showing a refused form again without a 500.

    To show the chosen option again it looks the submitted value up as an id, even one that
    cannot be an id ("abc", "1.5", beyond 64 bits), which fails in the database. Such values
    are left out here; the form field has already refused them with its usual message.
    """

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(remote.field_name)
        return super().optgroups(name, [v for v in value if _can_be(target, v)], attr)


class CheckedAutocompleteMixin:
    """For a ModelAdmin or inline with `autocomplete_fields`: use CheckedAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class VoidedFilter(admin.SimpleListFilter):
    title = "voided"
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return [("no", "No"), ("yes", "Yes")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(voided_at__isnull=self.value() == "no")
        return queryset


class VoidReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        help_text="Kept with the record, with your name and the time.",
    )


class VoidAdminMixin:
    """For Voidable records: a "voided" column and filter, and an action that voids with a reason.

    The action asks for the reason on an intermediate page, then calls `void()` (the service)
    for each selected record; a record the service refuses is reported, the others are voided.
    List `voided_by` in `list_select_related` and `VoidedFilter` in `list_filter`.
    """

    actions = ("void_selected",)
    # What voiding means for this kind of record, said on the confirmation page.
    void_consequence = ""

    def void(self, obj, *, reason, by):
        raise NotImplementedError("call the void service for this record")

    @admin.display(description="voided", ordering="voided_at")
    def void_status(self, obj):
        if not obj.is_voided:
            return None
        who = obj.voided_by and (obj.voided_by.get_full_name() or obj.voided_by.get_username())
        when = timezone.localtime(obj.voided_at)
        return f"Voided {moment(when)} by {who or 'someone'}: {obj.void_reason}"

    @admin.action(description="Void selected %(verbose_name_plural)s", permissions=["change"])
    def void_selected(self, request, queryset):
        form = VoidReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/void_selected.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Void {self.opts.verbose_name_plural}",
                    "subtitle": None,
                    "opts": self.opts,
                    "queryset": queryset,
                    "consequence": self.void_consequence,
                    "form": form,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        voided = 0
        for obj in queryset:
            try:
                with refuse_when_busy(RECORD_BUSY):
                    self.void(obj, reason=form.cleaned_data["reason"], by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{obj} was not voided: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                voided += 1
        if voided:
            name = self.opts.verbose_name if voided == 1 else self.opts.verbose_name_plural
            self.message_user(request, f"Voided {voided} {name}.", messages.SUCCESS)
        return None


class FilteredExportMixin(ExportMixin):
    """CSV and Excel exports of what the changelist shows, with its current filters.

    The resource's `prepare` adds the joins its columns need, so an export of thousands of
    rows runs a fixed number of queries. Each export is logged (ExportRecord): who, which list
    with which filters, how many rows.
    """

    formats = [base_formats.CSV, base_formats.XLSX]

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            # A filter the list does not know (a hand-edited or outdated link): say so on the
            # list rather than export more, or other, rows than the manager asked for.
            self.message_user(
                request,
                "The export link has a filter this list does not know: choose the filters on "
                "the list and export again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            )

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        export_form = kwargs.get("export_form")
        formats = self.get_export_formats()
        file_format = (
            formats[int(export_form.cleaned_data["format"])]().get_title()
            if export_form is not None
            else formats[0]().get_title()
        )
        ExportRecord.record(
            user=request.user,
            what=str(self.opts.verbose_name_plural),
            filters=request.GET.urlencode(),
            rows=len(data),
            file_format=file_format,
        )
        return data

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request)
        prepare = getattr(self.resource_classes[0], "prepare", None)
        return prepare(queryset) if prepare else queryset


class ReadOnlyAdminMixin:
    """For records the app writes itself (access events, lots used): list and read only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


STAMP_FIELDS = ("created_at", "created_by", "updated_at", "updated_by")
# `version` is the hidden input of optimistic locking (VersionedAdminMixin).
STAMP_FIELDSET = ("Record", {"fields": (*STAMP_FIELDS, "version"), "classes": ("collapse",)})


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


class RefusedSaveAdminMixin:
    """For admins that save through a service: a refusal the form could not foresee (a
    colleague's change in between, which the service checks again under the record's lock, or
    a colleague still saving it) rolls the save back and says why on the page, never a server
    error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with refuse_when_busy(RECORD_BUSY):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
