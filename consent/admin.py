"""Managers write consent documents and their versions, publish them and mark a version as
requiring re-consent. A published version and every signed consent are read only here."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.html import format_html

from clinic.admin import STAMP_FIELDS, AuditTrailAdmin, CappedCountAdminMixin
from consent.models import ConsentDocument, ConsentVersion, SignedConsent
from consent.services import new_draft_from, publish_version


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(AuditTrailAdmin):
    list_display = ("title", "kind", "latest")
    fields = ("kind", "title", *STAMP_FIELDS)
    readonly_fields = STAMP_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(last_number=Max("versions__number"))

    @admin.display(description="versions")
    def latest(self, document):
        return document.last_number or 0

    def save_model(self, request, obj, form, change):
        obj.stamp(request.user)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False


class VersionForm(forms.ModelForm):
    class Meta:
        model = ConsentVersion
        fields = ["document", "text", "requires_reconsent"]

    def clean(self):
        cleaned = super().clean()
        document = cleaned.get("document")
        if self.instance._state.adding and document is not None:
            drafts = document.versions.filter(status=ConsentVersion.Status.DRAFT)
            if drafts.exists():
                raise ValidationError(
                    {"document": "This document already has a draft: edit that one."}
                )
        return cleaned


@admin.register(ConsentVersion)
class ConsentVersionAdmin(CappedCountAdminMixin, AuditTrailAdmin):
    """A draft is edited here; publishing (an action) freezes it. A published version opens
    read only; "Start a new draft" copies its text into the document's next version."""

    form = VersionForm
    list_display = ("document", "number", "status", "requires_reconsent", "published_at", "page")
    list_filter = ("document", "status", "requires_reconsent")
    list_select_related = ("document",)
    readonly_fields = (
        "number",
        "status",
        "published_at",
        "published_by",
        "text_sha256",
        *STAMP_FIELDS,
    )
    actions = ["publish", "new_draft"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the document of a version never changes
            return ("document", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description="text")
    def page(self, version):
        return format_html(
            '<a href="{}">Read</a>', reverse("consent:version-detail", args=[version.pk])
        )

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False  # frozen: the page is read only (view permission)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if not change:
            ConsentDocument.objects.select_for_update().get(pk=obj.document_id)
            last = obj.document.versions.aggregate(last=Max("number"))["last"] or 0
            obj.number = last + 1
        obj.stamp(request.user)
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish(self, request, queryset):
        for version in queryset.select_related("document"):
            try:
                publish_version(version=version, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Published: {version.document}, version {version.number}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Start a new draft from the selected version", permissions=["add"])
    def new_draft(self, request, queryset):
        for version in queryset.select_related("document"):
            try:
                draft = new_draft_from(version=version, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"New draft: {draft}.", messages.SUCCESS)


@admin.register(SignedConsent)
class SignedConsentAdmin(CappedCountAdminMixin, AuditTrailAdmin):
    """Read only: a signed consent is never edited or deleted. A withdrawal is recorded with its
    reason on the workspace's form (the link on each consent)."""

    list_display = ("client", "document", "state", "signed_at", "signer_name", "withdrawn_at")
    list_filter = ("document", "state", "relationship")
    list_select_related = ("client", "document")
    search_fields = ("client__last_name", "client__first_name", "signer_name")
    readonly_fields = (
        "client",
        "document",
        "document_version",
        "state",
        "consultation",
        "text_sha256",
        "signer_name",
        "relationship",
        "typed_name",
        "witness",
        "signed_at",
        "pdf_link",
        "pdf_sha256",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_reason",
        "withdraw_link",
        *STAMP_FIELDS,
    )
    fields = readonly_fields

    @admin.display(description="PDF")
    def pdf_link(self, signed):
        if not signed.pdf:
            return "None (recorded before signing)"
        return format_html('<a href="{}">Download</a>', reverse("consent:pdf", args=[signed.pk]))

    @admin.display(description="Withdraw")
    def withdraw_link(self, signed):
        if signed.is_withdrawn:
            return "Withdrawn"
        return format_html(
            '<a href="{}">Record a withdrawal, with its reason</a>',
            reverse("consent:withdraw", args=[signed.pk]),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
