"""The managers' stock: receive lots, quarantine, recall or release them."""

from django import forms
from django.contrib import admin

from clinic.admin import (
    STAMP_FIELDS,
    STAMP_FIELDSET,
    AuditTrailAdmin,
    CappedCountAdminMixin,
    ClinicalRecordAdminMixin,
    RefusedSaveAdminMixin,
    VersionedAdminMixin,
)
from clinic.locking import VersionedFormMixin
from stock.models import Lot
from stock.services import change_lot_status


class LotAdminForm(VersionedFormMixin, forms.ModelForm):
    pass


@admin.register(Lot)
class LotAdmin(
    RefusedSaveAdminMixin,
    CappedCountAdminMixin,
    VersionedAdminMixin,
    ClinicalRecordAdminMixin,
    AuditTrailAdmin,
):
    form = LotAdminForm
    list_display = (
        "lot_number",
        "product",
        "expiry_date",
        "received_on",
        "quantity",
        "status",
        "recorded_before_stock",
    )
    list_select_related = ("product",)
    list_filter = ("status", "product__kind", "recorded_before_stock", "expiry_date", "product")
    search_fields = ("lot_number", "product__name", "product__gtin")
    date_hierarchy = "expiry_date"
    readonly_fields = (
        "recorded_before_stock",
        "status_changed_at",
        "status_changed_by",
        *STAMP_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("product", "lot_number", "expiry_date", "received_on", "quantity")}),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "status_reason",
                    "status_changed_at",
                    "status_changed_by",
                    "recorded_before_stock",
                )
            },
        ),
        (None, {"fields": ("notes",)}),
        STAMP_FIELDSET,
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Sessions name the lot by product and number: a received lot keeps them.
        return ("product", "lot_number", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        new_status = obj.status
        if change and "status" in form.changed_data:
            # The status changes through the service: locked, with who and when.
            obj.status = form.initial["status"]
            obj.status_reason = form.initial.get("status_reason", "")
            super().save_model(request, obj, form, change)
            change_lot_status(
                lot=obj,
                status=new_status,
                reason=form.cleaned_data.get("status_reason", ""),
                by=request.user,
            )
            return
        super().save_model(request, obj, form, change)
