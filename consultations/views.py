"""The aestheticians' pages for finding, adding and correcting clients and recording
consultations. A client's page and a consultation's show their courses and sessions, so they
live in treatments.views (the arrows point one way)."""

from functools import cached_property, partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import CreateView, FormView, ListView, UpdateView

from catalogue.models import Concern
from clinic.forms import add_service_errors
from clinic.locking import StaleRecord
from clinic.pagination import CappedCountPaginator, ShortCountPaginator
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consultations.forms import (
    ClientForm,
    ConsultationForm,
    FindingFormSet,
    RecordedConcernFormSet,
    add_formset_errors,
    refuse_stale,
)
from consultations.models import Client, ClientAccess, Consultation
from consultations.services import record_consultation

CLIENTS_PER_PAGE = 25


class ClientAccessMixin:
    """For a page that shows a client's health data: each time it is drawn (a refused form's
    page too), who read which client's record is logged (ClientAccess), in one insert."""

    access_via = ClientAccess.Via.WORKSPACE

    def access_client(self):
        return self.object.client_id

    def access_what(self):
        return ""

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        ClientAccess.record(
            user=self.request.user,
            client=self.access_client(),
            via=self.access_via,
            what=self.access_what(),
        )
        return response


class ClientListView(RoleRequiredMixin, ListView):
    model = Client
    permission_required = "consultations.view_client"
    paginate_by = CLIENTS_PER_PAGE

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """Never counted to the end (clinic.pagination): a searched list stops after ten pages
        of matches, the whole list after 10,000 clients."""
        paginator = ShortCountPaginator if self.query else CappedCountPaginator
        return paginator(queryset, per_page, orphans, allow_empty_first_page)

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[:100]
        self.include_archived = self.request.GET.get("archived") == "1"
        clients = Client.objects.all() if self.include_archived else Client.objects.current()
        if self.query:
            # Newest clients first: the page is the first 25 matches found walking back from
            # the newest, whatever the table's size. Alphabetical order would read every match
            # (a common surname is a share of the chain) before showing any.
            clients = clients.search(self.query).order_by("-pk")
        return clients

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["q"] = self.query
        context["include_archived"] = self.include_archived
        querystring = self.request.GET.copy()
        querystring.pop("page", None)
        context["querystring"] = querystring.urlencode()
        return context


class StampedFormMixin:
    """Stamp the signed-in user on the row a ModelForm is about to save.

    A save refused because someone else saved the row meanwhile (a `VersionedFormMixin` form)
    shows the form again, with the refusal at the top and the user's input kept.
    """

    success_message = ""

    def form_valid(self, form):
        form.instance.stamp(self.request.user)
        try:
            response = super().form_valid(form)
        except StaleRecord as stale:
            model = type(form.instance)
            refuse_stale(form, stale, model.objects.get(pk=form.instance.pk).version)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message.format(object=self.object))
        return response


class ClientCreateView(RoleRequiredMixin, SubmitOnceMixin, StampedFormMixin, CreateView):
    model = Client
    form_class = ClientForm
    permission_required = "consultations.add_client"
    success_message = "{object} added."


class ClientUpdateView(RoleRequiredMixin, StampedFormMixin, UpdateView):
    """Correct a client's details; refused, with what changed, if someone saved them meanwhile."""

    model = Client
    form_class = ClientForm
    permission_required = "consultations.change_client"
    success_message = "{object}'s details saved."


class ConsultationCreateView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    """Record a consultation: concerns, screening and consent, through `record_consultation`."""

    form_class = ConsultationForm
    permission_required = "consultations.add_consultation"
    template_name = "consultations/consultation_form.html"

    @cached_property
    def client(self):
        return get_object_or_404(Client, pk=self.kwargs["pk"])

    def get_formset(self):
        if self.request.method == "POST":
            return RecordedConcernFormSet(self.request.POST, prefix="concerns")
        return RecordedConcernFormSet(prefix="concerns")

    def get_findings(self):
        if self.request.method == "POST":
            return FindingFormSet(self.request.POST, prefix="findings")
        return FindingFormSet(prefix="findings")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("formset", self.get_formset())
        kwargs.setdefault("findings", self.get_findings())
        context = super().get_context_data(**kwargs)
        catalogue = list(Concern.objects.all())
        context.update(
            {
                "client": self.client,
                "catalogue": catalogue,
                "catalogue_info": {
                    str(concern.pk): {
                        "name": concern.name,
                        "summary": concern.summary,
                        "benefit": concern.benefit,
                        "sessions": " ".join(
                            filter(None, [concern.sessions_display, concern.sessions_basis])
                        ),
                        "studied": concern.studied_sessions_display
                        if concern.studies_differ
                        else "",
                        "sessions_note": concern.sessions_note,
                        "interval": concern.interval_display,
                        "evidence": concern.get_evidence_level_display(),
                        "cautions": concern.cautions,
                        "url": concern.get_absolute_url(),
                    }
                    for concern in catalogue
                },
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        formset = self.get_formset()
        findings = self.get_findings()
        valid = [form.is_valid(), formset.is_valid(), findings.is_valid()]
        if all(valid):
            details = {name: form.cleaned_data[name] for name in ConsultationForm.Meta.fields}
            try:
                consultation = record_consultation(
                    client=self.client,
                    practitioner=request.user,
                    by=request.user,
                    concerns=formset.concerns(),
                    findings=findings.findings(),
                    **details,
                )
            except ValidationError as error:
                concern_errors = partial(add_formset_errors, formset)
                finding_errors = partial(add_formset_errors, findings)
                add_service_errors(
                    form,
                    error,
                    elsewhere={
                        **dict.fromkeys(("concern", "area", "severity"), concern_errors),
                        **dict.fromkeys(("findings", "kind", "on"), finding_errors),
                    },
                )
            else:
                outcome = consultation.get_outcome_display().lower()
                if consultation.outcome == Consultation.Outcome.SUITABLE:
                    messages.success(request, f"Consultation recorded: {outcome}.")
                elif consultation.outcome == Consultation.Outcome.CAUTIONS:
                    messages.warning(
                        request, f"Consultation recorded: {outcome}. Weigh them with the client."
                    )
                else:  # not suitable: never announced as a success
                    messages.warning(
                        request,
                        f"Consultation recorded: {outcome}. Read why below; a course starts "
                        "only with a recorded override reason.",
                    )
                return redirect(consultation)
        return self.render_to_response(
            self.get_context_data(form=form, formset=formset, findings=findings)
        )
