"""The aestheticians' pages for clients and consultations.

`consultations` does not import `treatments` models at module level (the arrows point one way),
so the few views that show courses and sessions import them inside the method that needs them.
"""

from functools import cached_property, partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from clinic.locking import StaleRecord
from clinic.pagination import CappedCountPaginator, ShortCountPaginator
from clinic.views import RoleRequiredMixin
from consultations.forms import (
    ClientForm,
    ConsultationForm,
    RecordedConcernFormSet,
    add_formset_errors,
    add_service_errors,
    refuse_stale,
)
from consultations.models import (
    Client,
    ClientAccess,
    Consultation,
    RecordedConcern,
)
from consultations.services import record_consultation

CLIENTS_PER_PAGE = 25


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


class ClientCreateView(RoleRequiredMixin, StampedFormMixin, CreateView):
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


def count_positions(sessions):
    """Set `position` on each of `sessions` as `treatments.views.with_positions` annotates it,
    counting in Python instead of a subquery per row: `sessions` must hold all the sessions of
    their courses."""
    counted = {}
    for session in sorted(sessions, key=lambda session: (session.plan_id, session.number)):
        if not session.is_voided:
            counted[session.plan_id] = counted.get(session.plan_id, 0) + 1
        # None before the course's first session that counts, as the subquery finds no row.
        session.position = counted.get(session.plan_id)


class ClientDetailView(RoleRequiredMixin, DetailView):
    """Everything about one client: alerts, active courses, timeline and the next actions.

    Every opening is recorded (who, which client, when) for the managers' access log.
    """

    model = Client
    permission_required = "consultations.view_client"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ClientAccess.record(user=request.user, client=self.object, via=ClientAccess.Via.WORKSPACE)
        return response

    def get_context_data(self, **kwargs):
        from treatments.models import TreatmentPlan, TreatmentSession
        from treatments.services import session_edit_refusal

        context = super().get_context_data(**kwargs)
        client = self.object
        today = timezone.localdate()
        # Every course starts from one of the client's consultations, so the courses come with
        # them, with their concerns, in a fixed number of queries whatever the size of the
        # record. Each consultation's `client` is `client` already (the related manager sets it).
        consultations = list(
            client.consultations.select_related("practitioner", "voided_by").prefetch_related(
                Prefetch("concerns", queryset=RecordedConcern.objects.select_related("concern")),
                Prefetch("plans", queryset=TreatmentPlan.objects.with_concerns()),
            )
        )
        plans = sorted(
            (plan for consultation in consultations for plan in consultation.plans.all()),
            key=lambda plan: (plan.start_date, plan.pk),
            reverse=True,
        )
        plans_by_id = {plan.pk: plan for plan in plans}
        # All the client's sessions, so every course's are here to number (count_positions).
        sessions = list(
            TreatmentSession.objects.filter(plan__client=client)
            .select_related("practitioner", "voided_by")
            .prefetch_related("areas")
            .order_by("-performed_on", "-number")
        )
        count_positions(sessions)
        for session in sessions:
            session.plan = plans_by_id[session.plan_id]
            session.editable = not session_edit_refusal(
                session=session, user=self.request.user, today=today
            )

        timeline = [("consultation", c.held_on, c.created_at, c) for c in consultations]
        timeline += [("session", s.performed_on, s.created_at, s) for s in sessions]
        timeline.sort(key=lambda entry: (entry[1], entry[2]), reverse=True)

        standing = [c for c in consultations if not c.is_voided]
        latest = standing[0] if standing else None
        active_plans = [plan for plan in plans if plan.is_active]
        for plan in active_plans:
            plan.overdue = plan.is_overdue(today)
        context.update(
            {
                "assessment": latest.assess() if latest else None,
                "latest_consultation": latest,
                "active_plans": active_plans,
                "timeline": [(kind, item) for kind, _day, _at, item in timeline],
                "consultations_to_start": [
                    c for c in standing if c.consent_given and not c.plans.all()
                ][:3],
                "today": today,
            }
        )
        return context


class ConsultationCreateView(RoleRequiredMixin, FormView):
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

    def get_context_data(self, **kwargs):
        from catalogue.models import Concern

        kwargs.setdefault("formset", self.get_formset())
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
                        "sessions": concern.sessions_display,
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
        form_ok = form.is_valid()
        if formset.is_valid() and form_ok:
            details = {name: form.cleaned_data[name] for name in ConsultationForm.Meta.fields}
            details["consent_at"] = timezone.now()
            try:
                consultation = record_consultation(
                    client=self.client,
                    practitioner=request.user,
                    by=request.user,
                    concerns=formset.concerns(),
                    **details,
                )
            except ValidationError as error:
                concern_errors = partial(add_formset_errors, formset)
                add_service_errors(
                    form,
                    error,
                    elsewhere=dict.fromkeys(("concern", "area", "severity"), concern_errors),
                )
            else:
                messages.success(
                    request,
                    f"Consultation recorded: {consultation.get_outcome_display().lower()}.",
                )
                return redirect(consultation)
        return self.render_to_response(self.get_context_data(form=form, formset=formset))


class ConsultationDetailView(RoleRequiredMixin, DetailView):
    """The outcome with its reasons, what needling can do for each concern, the course."""

    model = Consultation
    permission_required = "consultations.view_consultation"

    def get_queryset(self):
        return Consultation.objects.select_related(
            "client", "practitioner", "voided_by"
        ).prefetch_related("concerns__concern", "plans")

    def get_context_data(self, **kwargs):
        from treatments.forms import PhotoUploadForm
        from treatments.services import suggest_course

        context = super().get_context_data(**kwargs)
        consultation = self.object
        recorded = list(consultation.concerns.all())
        context["assessment"] = consultation.assess()
        context["recorded_concerns"] = recorded
        context["suggestion"] = suggest_course(
            consultation=consultation, recorded_concerns=recorded
        )
        context["plans"] = consultation.plans.all()
        context["photos"] = consultation.photos.all()
        context["photo_fields"] = list(PhotoUploadForm(required=True))
        return context
