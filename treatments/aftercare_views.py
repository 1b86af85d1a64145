"""The practitioners' pages after a session: record and follow an adverse event, record the
follow-up call (Today's call list)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import FormView, View

from clinic.forms import add_service_errors
from clinic.locking import StaleRecord, VersionedFormMixin
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consultations.forms import DateInput, refuse_stale
from treatments.aftercare import (
    EVENT_FIELDS,
    record_adverse_event,
    record_follow_up_call,
    update_adverse_event,
)
from treatments.models import AdverseEvent, FollowUpCall, TreatmentSession


class AdverseEventForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = list(EVENT_FIELDS)
        widgets = {
            "onset_on": DateInput(),
            "resolved_on": DateInput(),
            "action_taken": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        """The service runs the model's checks (with the session) when saving."""


class FollowUpCallForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=FollowUpCall.Outcome.choices,
        error_messages={"required": "Choose how the call went."},
    )
    note = forms.CharField(required=False, max_length=2000)


class AdverseEventCreateView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    template_name = "treatments/adverseevent_form.html"
    form_class = AdverseEventForm
    permission_required = "treatments.add_adverseevent"

    def dispatch(self, request, *args, **kwargs):
        self.session = get_object_or_404(
            TreatmentSession.objects.select_related("course__client"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        initial = {}
        if self.request.GET.get("from") == "follow-up":
            initial["reported_by"] = AdverseEvent.Reporter.FOLLOW_UP
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(session=self.session, **kwargs)

    def form_valid(self, form):
        data = {name: form.cleaned_data.get(name) for name in EVENT_FIELDS}
        data["kind_detail"] = data["kind_detail"] or ""
        try:
            event = record_adverse_event(session=self.session, by=self.request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Adverse event recorded: {event}.")
        return redirect(self.session.course.client)


class AdverseEventUpdateView(RoleRequiredMixin, FormView):
    template_name = "treatments/adverseevent_form.html"
    form_class = AdverseEventForm
    permission_required = "treatments.change_adverseevent"

    def dispatch(self, request, *args, **kwargs):
        self.event = get_object_or_404(
            AdverseEvent.objects.select_related("session__course__client"), pk=kwargs["pk"]
        )
        self.session = self.event.session
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.event}

    def get_context_data(self, **kwargs):
        return super().get_context_data(session=self.session, event=self.event, **kwargs)

    def form_valid(self, form):
        data = {name: form.cleaned_data.get(name) for name in EVENT_FIELDS}
        data["kind_detail"] = data["kind_detail"] or ""
        try:
            update_adverse_event(
                event=self.event,
                by=self.request.user,
                expected_version=form.loaded_version,
                **data,
            )
        except StaleRecord as stale:
            refuse_stale(form, stale, AdverseEvent.objects.get(pk=self.event.pk).version)
            return self.form_invalid(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "Adverse event updated.")
        return redirect(self.session.course.client)


class FollowUpCallView(RoleRequiredMixin, View):
    """Record the follow-up call (POST, from Today's call list)."""

    permission_required = "treatments.add_followupcall"
    http_method_names = ["post"]

    def post(self, request, pk):
        session = get_object_or_404(TreatmentSession.objects.valid(), pk=pk)
        form = FollowUpCallForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose how the call went.")
            return redirect("today")
        call = record_follow_up_call(
            session=session,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
        if call.outcome == FollowUpCall.Outcome.REACTION:
            messages.info(request, "Call recorded. Record the reaction the client reported.")
            url = reverse("treatments:adverse-event-create", kwargs={"pk": session.pk})
            return HttpResponseRedirect(f"{url}?from=follow-up")
        messages.success(request, f"Call recorded: {call.get_outcome_display().lower()}.")
        return redirect("today")
