"""The managers' admin for the catalogue: concerns, body areas (the area chart), products and
the clinic's own details."""

from django.contrib import admin
from django.shortcuts import redirect

from catalogue.forms import AreaModelChoiceField
from catalogue.models import BodyArea, ClinicDetails, Concern, Product, area_chart
from clinic.admin import AuditTrailAdmin


class AreaSelectsFromChartMixin:
    """For admins and inlines with a key to a body area: the select's options come from the
    cached area chart, not a query per select."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is BodyArea:
            kwargs.setdefault("form_class", AreaModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
                    "follow_up_days",
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


@admin.register(BodyArea)
class BodyAreaAdmin(AuditTrailAdmin):
    """The area chart: each area's depth ranges and hard maximum, and what it is part of."""

    list_display = ("name", "code", "parent", "chart_range", "max_mm", "position")
    list_select_related = ("parent",)
    list_filter = ("parent",)
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "code", "parent", "position")}),
        (
            "Needle depth (mm)",
            {
                "description": "Leave both ranges blank for an area made of parts: it then "
                "spans its parts' ranges. A session deeper than the hard maximum needs a "
                "recorded reason.",
                "fields": (
                    ("thin_min_mm", "thin_max_mm"),
                    ("thick_min_mm", "thick_max_mm"),
                    "max_mm",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Records keep the code: it cannot change once the area exists.
        return ("code",) if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    @admin.display(description="range")
    def chart_range(self, obj):
        limits = area_chart().get(obj.code)
        return limits.range_display if limits else "-"


@admin.register(Product)
class ProductAdmin(AuditTrailAdmin):
    list_display = ("name", "kind", "gtin", "active_ingredient", "approved_for_needling", "in_use")
    list_filter = ("kind", "approved_for_needling", "in_use")
    search_fields = ("name", "active_ingredient", "gtin")
    fields = (
        "name",
        "kind",
        "gtin",
        "active_ingredient",
        "approved_for_needling",
        "in_use",
        "notes",
    )

    def get_deleted_objects(self, objs, request):
        """Explain a refusal by the sessions that used the product, not by missing permissions.

        Sessions and lots protect a product that was used, and their admins never delete, so
        Django would otherwise report "no permission to delete product applied".
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return deleted, counts, perms_needed, protected


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(AuditTrailAdmin):
    """One row: the list opens it, a second cannot be added, and it is never deleted."""

    fieldsets = (
        (None, {"fields": ("name", "address", "phone", "email", "out_of_hours_advice")}),
        (
            "Opening days",
            {
                "description": "Printouts schedule target dates on these days.",
                "fields": tuple(f"open_{day}" for day in ClinicDetails.WEEKDAYS),
            },
        ),
    )

    def has_add_permission(self, request):
        # One row: added once. Read from the cache, as every admin page's menu asks.
        return super().has_add_permission(request) and ClinicDetails.current().pk is None

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        details = ClinicDetails.objects.order_by("pk").first()
        if details is not None and self.has_view_or_change_permission(request, details):
            return redirect("admin:catalogue_clinicdetails_change", details.pk)
        return super().changelist_view(request, extra_context)
