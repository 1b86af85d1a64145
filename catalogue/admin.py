"""The managers' admin for the catalogue: concerns and products."""

from django.contrib import admin

from catalogue.models import Concern, Product
from clinic.admin import AuditTrailAdmin


@admin.register(Concern)
class ConcernAdmin(AuditTrailAdmin):
    list_display = (
        "name",
        "evidence_level",
        "sessions_display",
        "interval_display",
        "scar_concern",
        "pigment_concern",
        "inflammatory_concern",
    )
    list_filter = ("evidence_level", "scar_concern", "pigment_concern", "inflammatory_concern")
    search_fields = ("name", "slug", "summary")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "summary")}),
        (
            "What micro-needling can do",
            {"fields": ("benefit", "evidence_summary", "evidence_level", "sources")},
        ),
        (
            "Typical course",
            {
                "fields": (
                    ("sessions_min", "sessions_typical", "sessions_max"),
                    ("studied_sessions_min", "studied_sessions_max"),
                    "sessions_note",
                    ("interval_min_weeks", "interval_weeks", "interval_max_weeks"),
                    ("depth_min_mm", "depth_max_mm"),
                    "depth_guidance",
                )
            },
        ),
        (
            "Safety",
            {
                "fields": (
                    "cautions",
                    "combinations",
                    "scar_concern",
                    "pigment_concern",
                    "inflammatory_concern",
                    "rf_only",
                )
            },
        ),
    )

    @admin.display(description="typical course")
    def sessions_display(self, obj):
        return obj.sessions_display

    @admin.display(description="interval")
    def interval_display(self, obj):
        return obj.interval_display


@admin.register(Product)
class ProductAdmin(AuditTrailAdmin):
    list_display = ("name", "kind", "active_ingredient", "approved_for_needling", "in_use")
    list_filter = ("kind", "approved_for_needling", "in_use")
    search_fields = ("name", "active_ingredient")
    fields = ("name", "kind", "active_ingredient", "approved_for_needling", "in_use", "notes")

    def get_deleted_objects(self, objs, request):
        """Explain a refusal by the sessions that used the product, not by missing permissions.

        Sessions and lots protect a product that was used, and their admins never delete, so
        Django would otherwise report "no permission to delete product applied".
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return deleted, counts, perms_needed, protected
