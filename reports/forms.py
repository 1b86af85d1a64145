"""Forms of the managers' reports: filters, the recall contact, and the lot search."""

from django import forms
from django.core.exceptions import ValidationError

from catalogue.models import Concern, Product
from reports.recall import Recall
from reports.selectors import practitioners, staff_name
from treatments.forms import BookingForm
from treatments.models import ContactAttempt


class PractitionerField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", "All practitioners")
        super().__init__(queryset=practitioners(), **kwargs)

    def label_from_instance(self, obj):
        return staff_name(obj)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


def add_errors(form, error, *, fields=()):
    """Show a service's ValidationError on `form`: under `fields` it names, the rest on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in fields else None, errors)
    else:
        form.add_error(None, error)


class RecallFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Every reason"), *Recall.choices], required=False)
    practitioner = PractitionerField(label="Last practitioner")
    concern = forms.ModelChoiceField(
        Concern.objects.all(), required=False, empty_label="Every concern"
    )


class ContactAttemptForm(BookingForm, forms.ModelForm):
    """One recall line's contact: who and which course come from the line (hidden). "Booked"
    takes the appointment's date, time and practitioner, stored with the contact."""

    HIDDEN = ("client", "course", "reason")

    class Meta:
        model = ContactAttempt
        fields = ["client", "course", "reason", "outcome", "note"]
        widgets = {
            "client": forms.HiddenInput,
            "course": forms.HiddenInput,
            "reason": forms.HiddenInput,
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"outcome": "How did it go?"}
        error_messages = {"outcome": {"required": "Choose how the contact went."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            ("", "Choose the outcome"),
            *ContactAttempt.Outcome.choices,
        ]
        self.fields["note"].help_text = "Optional: what was said, when to try again."
        # Drawn by templates/reports/contact_form.html: a light form on every worklist line.
        self.fields["outcome"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["note"].widget.attrs["class"] = "form-control form-control-sm"
        for name in self.BOOKING_FIELDS:
            css = "form-select" if name == "booked_with" else "form-control"
            self.fields[name].widget.attrs["class"] = f"{css} {css}-sm"

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in self.HIDDEN):
            raise ValidationError(
                "This recall line was not recognised: reload the worklist and try again."
            )
        course = cleaned.get("course")
        if course is not None and course.client_id != cleaned["client"].pk:
            raise ValidationError("This course belongs to another client: reload the worklist.")
        booked = cleaned.get("outcome") == ContactAttempt.Outcome.BOOKED
        cleaned["booking"] = self.clean_booking() if booked else None
        return cleaned


class OutcomesFilterForm(forms.Form):
    started_from = forms.DateField(label="Courses started from", required=False, widget=DateInput)
    started_to = forms.DateField(label="to", required=False, widget=DateInput)
    practitioner = PractitionerField(label="Leading practitioner")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("started_from"), cleaned.get("started_to")
        if start and end and start > end:
            self.add_error("started_to", "The period must end on or after the day it starts.")
        return cleaned


class LotContactForm(ContactAttemptForm):
    """A lot recall's contact with one client who received the lot."""

    HIDDEN = ("client", "course", "reason", "lot")

    class Meta(ContactAttemptForm.Meta):
        fields = ["client", "course", "reason", "lot", "outcome", "note"]
        widgets = {**ContactAttemptForm.Meta.widgets, "lot": forms.HiddenInput}

    def clean_reason(self):
        if self.cleaned_data.get("reason") != ContactAttempt.Reason.LOT_RECALL:
            raise ValidationError("This form records a lot recall's contacts.")
        return self.cleaned_data["reason"]

    def clean_lot(self):
        lot = self.cleaned_data.get("lot")
        if lot is None:
            raise ValidationError("Name the recalled lot.")
        return lot


class LotForm(forms.Form):
    product = forms.ModelChoiceField(
        Product.objects.all(),
        empty_label="Choose the product",
        error_messages={"required": "Choose the product that was recalled."},
    )
    lot = forms.CharField(
        label="Lot number",
        max_length=50,
        help_text="As printed on the pack; upper or lower case does not matter.",
        error_messages={"required": "Give the lot number from the recall notice."},
    )
