"""The managers' admin for what consultations own: recorded concerns and screening findings
(inlines of the consultation's page, in treatments.admin), the washout rules, the log of who
opened which client's record, and the log of bulk exports."""

from django.contrib import admin

from catalogue.admin import AreaSelectsFromChartMixin
from clinic.admin import (
    AtLeastOneInline,
    AuditTrailAdmin,
    CappedCountAdminMixin,
    CheckedAutocompleteMixin,
    ReadOnlyAdminMixin,
    SavedRowsFormSet,
)
from clinic.models import ExportRecord
from consultations.models import ClientAccess, RecordedConcern, ScreeningFinding, WashoutRule


class RecordedConcernInline(AreaSelectsFromChartMixin, CheckedAutocompleteMixin, AtLeastOneInline):
    model = RecordedConcern
    fields = ("concern", "area", "severity", "notes")
    autocomplete_fields = ("concern",)
    can_delete = False

    def get_queryset(self, request):
        # Each row is titled by its concern and area ("Acne scars (cheeks and chin)").
        return super().get_queryset(request).select_related("area")


class FindingInline(admin.TabularInline):
    """Findings in an area (one area each; blank: every area), and findings with a date."""

    model = ScreeningFinding
    formset = SavedRowsFormSet
    fields = ("kind", "area", "on", "notes")
    extra = 0
    can_delete = False


@admin.register(WashoutRule)
class WashoutRuleAdmin(AuditTrailAdmin):
    """How long each washout finding blocks needling, or calls for a caution. One rule per kind,
    shipped with the domain file's defaults: change them, never add or remove them."""

    list_display = ("kind", "wait_amount", "wait_unit", "blocks")
    list_editable = ("wait_amount", "wait_unit", "blocks")
    fields = ("kind", ("wait_amount", "wait_unit"), "blocks", "note")
    readonly_fields = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClientAccess)
class ClientAccessAdmin(CappedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who opened which client's record, when and where: read only."""

    list_display = ("accessed_at", "user", "client", "via", "what")
    list_select_related = ("user", "client")
    list_filter = ("via", "user", "accessed_at")
    search_fields = ("client__last_name", "client__first_name")
    search_help_text = "Client's name."

    def lookup_allowed(self, lookup, value, request=None):
        # One client's accesses (`?client__id__exact=`): too many clients for a filter list.
        return lookup == "client__id__exact" or super().lookup_allowed(lookup, value, request)


# Registered here, not in clinic.admin: that module defines the admin site itself.
@admin.register(ExportRecord)
class ExportRecordAdmin(CappedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every bulk export of client records: who, when, which list and filters, how many rows."""

    list_display = ("exported_at", "user", "what", "filters", "rows", "file_format")
    list_select_related = ("user",)
    list_filter = ("what", "user", "exported_at")
