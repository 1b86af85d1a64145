"""The managers' admin for what consultations own: recorded concerns (an inline of the
consultation's page, in treatments.admin) and the log of who opened which client's record."""

from django.contrib import admin

from catalogue.admin import AreaSelectsFromChartMixin
from clinic.admin import (
    AtLeastOneInline,
    CappedCountAdminMixin,
    CheckedAutocompleteMixin,
    ReadOnlyAdminMixin,
)
from consultations.models import ClientAccess, RecordedConcern


class RecordedConcernInline(AreaSelectsFromChartMixin, CheckedAutocompleteMixin, AtLeastOneInline):
    model = RecordedConcern
    fields = ("concern", "area", "severity", "notes")
    autocomplete_fields = ("concern",)
    can_delete = False

    def get_queryset(self, request):
        # Each row is titled by its concern and area ("Acne scars (cheeks and chin)").
        return super().get_queryset(request).select_related("area")


@admin.register(ClientAccess)
class ClientAccessAdmin(CappedCountAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who opened which client's record, when and where: read only."""

    list_display = ("accessed_at", "user", "client", "via")
    list_select_related = ("user", "client")
    list_filter = ("via", "user", "accessed_at")
    search_fields = ("client__last_name", "client__first_name")
    search_help_text = "Client's name."
