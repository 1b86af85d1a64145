"""Forms for the aestheticians' workspace: clients and consultations.

Writes go through the services; `add_service_errors` puts a service's refusal next to the
field it is about, so the practitioner sees it where they typed and keeps their input.
"""

from django import forms
from django.core.exceptions import ValidationError

from catalogue.forms import AreaChoiceField, AreaModelChoiceField
from clinic.locking import FIELD_NAME as VERSION_FIELD
from clinic.locking import VersionedFormMixin
from consultations import screening
from consultations.models import Client, Consultation, RecordedConcern, ScreeningFinding

NO_CONCERN = "Record at least one concern the client wants treated."


class DateInput(forms.DateInput):
    """A native date picker: quick on tablets, and it posts ISO dates."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def add_formset_errors(formset, messages):
    """Show `messages` above a formset, beside the formset's own checks."""
    formset.non_form_errors().extend(messages)


DAMAGED_VERSION = (
    "This form arrived damaged (its hidden version number is not valid): reload the page and "
    "enter your changes again."
)


def flag_damaged_version(form):
    """A tampered hidden version is refused where the user can see why, not silently."""
    if VERSION_FIELD in form.errors:
        form.add_error(None, DAMAGED_VERSION)


def refuse_stale(form, error, current_version):
    """Show a stale-record refusal at the top of `form`, keeping the user's input.

    The kept input now carries `current_version` (the version saved meanwhile), so saving it
    again after reading the message is a deliberate choice that goes through.
    """
    form.data = form.data.copy()
    form.data[form.add_prefix(VERSION_FIELD)] = current_version
    form.add_error(None, error)


DUPLICATES_FOUND = (
    "This may be a client already on record (listed above). Open their record, or tick this "
    "box if this is a different person, and save again."
)
MAX_DUPLICATES_SHOWN = 5


class ClientForm(VersionedFormMixin, forms.ModelForm):
    """A client's details. A possible duplicate (the same name and date of birth, or the same
    phone or email) is flagged before saving, with a link to each record it may be; ticking
    "This is a different person" saves anyway."""

    different_person = forms.BooleanField(
        label="This is a different person: save anyway",
        required=False,
        widget=forms.HiddenInput,  # a tick box once a possible duplicate is found
    )

    class Meta:
        model = Client
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "skin_type",
            "notes",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []

    def clean(self):
        flag_damaged_version(self)
        cleaned = super().clean()
        details = {
            name: cleaned.get(name) or "" for name in ("first_name", "last_name", "email", "phone")
        }
        details["date_of_birth"] = cleaned.get("date_of_birth")
        found = Client.objects.possible_duplicates(**details)
        if self.instance.pk:
            found = found.exclude(pk=self.instance.pk)
        self.duplicates = list(found.order_by("-pk")[:MAX_DUPLICATES_SHOWN])
        for client in self.duplicates:
            client.matched_on = client.matches(**details)
        if self.duplicates:
            self.fields["different_person"].widget = forms.CheckboxInput()
            if not cleaned.get("different_person"):
                self.add_error("different_person", DUPLICATES_FOUND)
        return cleaned


# The absolute contraindications that concern the whole client; those found in an area are
# findings with their areas (FindingFormSet), and so are the findings that lapse.
ABSOLUTE_FIELDS = [name for name, _reason, area_bound in screening.ABSOLUTE if not area_bound]
RELATIVE_FIELDS = [name for name, _caution in screening.RELATIVE]


class ConsultationForm(forms.ModelForm):
    """The consultation itself: date, screening answers and notes. Consent is signed on the
    tablet (the consent app), no longer ticked here."""

    class Meta:
        model = Consultation
        fields = [
            "held_on",
            *ABSOLUTE_FIELDS,
            *RELATIVE_FIELDS,
            "notes",
        ]
        # The areas' select drawn from the cached area chart, not a query.
        field_classes = {"affected_area": AreaModelChoiceField}
        widgets = {
            "held_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    @property
    def absolute_fields(self):
        return [self[name] for name in ABSOLUTE_FIELDS]

    @property
    def relative_fields(self):
        return [self[name] for name in RELATIVE_FIELDS]


class RecordedConcernForm(forms.ModelForm):
    # The area's code, from the cached area chart: no query per row (the service records it).
    area = AreaChoiceField(label="Area")

    class Meta:
        model = RecordedConcern
        fields = ["concern", "severity", "notes"]
        widgets = {
            "notes": forms.TextInput(attrs={"placeholder": "Notes on this concern (optional)"})
        }

    field_order = ["concern", "area", "severity", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concern"].widget.attrs["data-concern-select"] = ""


class BaseRecordedConcernFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.chosen_forms():
            key = (form.cleaned_data["concern"].pk, form.cleaned_data["area"])
            if key in seen:
                raise ValidationError(
                    f"{form.cleaned_data['concern']} is recorded twice for the same area; "
                    "record it once."
                )
            seen.add(key)
        if not seen and self.forms:
            # Next to the first concern picker, where the practitioner will look.
            self.forms[0].add_error("concern", ValidationError(NO_CONCERN, code="no_concern"))

    def chosen_forms(self):
        """The rows the practitioner filled in (blank extra rows are skipped)."""
        return [form for form in self.forms if form.cleaned_data.get("concern")]

    def concerns(self):
        """The rows in the shape `record_consultation` takes."""
        return [
            {
                "concern": form.cleaned_data["concern"],
                "area": form.cleaned_data["area"],
                "severity": form.cleaned_data["severity"],
                "notes": form.cleaned_data["notes"],
            }
            for form in self.chosen_forms()
        ]


RecordedConcernFormSet = forms.formset_factory(
    RecordedConcernForm,
    formset=BaseRecordedConcernFormSet,
    extra=3,
    max_num=12,
    absolute_max=12,
)


class FindingForm(forms.ModelForm):
    """One finding: what, in which area (blank: every area), and its date when it lapses.
    The model's clean() puts its rules (an area where one is needed, a date for what lapses)
    next to the fields."""

    area = AreaChoiceField(label="Area", required=False, blank="Every area")

    class Meta:
        model = ScreeningFinding
        fields = ["kind", "area", "on", "notes"]
        help_texts = {"on": ""}
        widgets = {
            "on": DateInput(),
            "notes": forms.TextInput(attrs={"placeholder": "Notes (optional)"}),
        }


class BaseFindingFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.chosen_forms():
            key = (form.cleaned_data["kind"], form.cleaned_data["area"])
            if key in seen:
                raise ValidationError(
                    f"{form.instance} is recorded twice for the same area; record it once."
                )
            seen.add(key)

    def chosen_forms(self):
        return [form for form in self.forms if form.cleaned_data.get("kind")]

    def findings(self):
        """The rows in the shape `record_consultation` takes."""
        return [
            {name: form.cleaned_data[name] for name in FindingForm.Meta.fields}
            for form in self.chosen_forms()
        ]


FindingFormSet = forms.formset_factory(
    FindingForm, formset=BaseFindingFormSet, extra=2, max_num=20, absolute_max=20
)
