"""The workspace's consent pages: signing on the tablet, a version's text, the frozen PDF, and
recording a withdrawal."""

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, FormView

from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consent.forms import SignForm, WithdrawForm
from consent.models import ConsentVersion, Kind, SignedConsent
from consent.services import current_version, sign_consent, withdraw_consent
from consultations.models import Client, ClientAccess


def _show_errors(form, error):
    """A service's ValidationError, next to the form's fields (non-field ones above them)."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


class SignView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    """The client reads the current version of a consent document and signs it on the tablet;
    the signed-in practitioner is the witness who countersigns."""

    template_name = "consent/sign.html"
    form_class = SignForm
    permission_required = "consent.add_signedconsent"

    @cached_property
    def client(self):
        return get_object_or_404(Client, pk=self.kwargs["pk"])

    @cached_property
    def version(self):
        if self.kwargs["kind"] not in Kind.values:
            raise Http404("No such consent document.")
        version = current_version(self.kwargs["kind"])
        if version is None:
            raise Http404("No version of this consent document is published yet.")
        return version

    def get_initial(self):
        return {"signer_name": self.client.full_name, "version": self.version.pk}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "client": self.client,
            "version": self.version,
            "witness": self.request.user,
        }

    def form_valid(self, form):
        if form.cleaned_data["version"] != str(self.version.pk):
            form.add_error(
                None,
                "A newer version of this document was published while the page was open: "
                "it is shown now. Read it with the client and sign again.",
            )
            return self.form_invalid(form)
        try:
            sign_consent(
                client=self.client,
                version=self.version,
                witness=self.request.user,
                signer_name=form.cleaned_data["signer_name"],
                relationship=form.cleaned_data["relationship"],
                signature_data_url=form.cleaned_data["signature"],
                typed_name=form.cleaned_data["typed_name"],
            )
        except ValidationError as error:
            _show_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{self.version.document.title} (version {self.version.number}) signed by "
            f"{form.cleaned_data['signer_name']}.",
        )
        return redirect(self.client.get_absolute_url())

    def form_invalid(self, form):
        # The drawn signature is not sent back: the pad starts empty (the page says so).
        form.data = form.data.copy()
        form.data["signature"] = ""
        form.data["version"] = str(self.version.pk)
        return super().form_invalid(form)


class VersionDetailView(RoleRequiredMixin, DetailView):
    """Any version's text, published or old: what a client signed stays readable for good."""

    model = ConsentVersion
    template_name = "consent/version_detail.html"
    permission_required = "consent.view_consentversion"
    context_object_name = "version"

    def get_queryset(self):
        return ConsentVersion.objects.select_related("document", "published_by")


class ConsentPdfView(RoleRequiredMixin, DetailView):
    """A signed consent's frozen PDF, after the role check; every download is a record access."""

    model = SignedConsent
    permission_required = "consent.view_signedconsent"

    def get(self, request, *args, **kwargs):
        signed = get_object_or_404(
            SignedConsent.objects.select_related("document_version"), pk=kwargs["pk"]
        )
        if not signed.pdf:
            raise Http404("This consent was recorded before signing: it has no PDF.")
        try:
            handle = signed.pdf.storage.open(signed.pdf.name, "rb")
        except (FileNotFoundError, OSError):
            raise Http404("The PDF is missing from the storage.") from None
        ClientAccess.record(
            user=request.user,
            client=signed.client_id,
            via=ClientAccess.Via.WORKSPACE,
            what=f"consent PDF: {signed.document_version}",
        )
        response = FileResponse(
            handle,
            content_type="application/pdf",
            as_attachment=True,
            filename=f"consent-{signed.pk}.pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response


class WithdrawView(RoleRequiredMixin, FormView):
    """Record that a client withdrew a consent, with the reason: it stays on record."""

    template_name = "consent/withdraw.html"
    form_class = WithdrawForm
    permission_required = "consent.change_signedconsent"

    @cached_property
    def consent(self):
        return get_object_or_404(
            SignedConsent.objects.select_related("client", "document", "document_version"),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "consent": self.consent}

    def form_valid(self, form):
        try:
            withdraw_consent(
                consent=self.consent, reason=form.cleaned_data["reason"], by=self.request.user
            )
        except ValidationError as error:
            _show_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Withdrawal recorded: {self.consent.document}.")
        return redirect(self.consent.client.get_absolute_url())
