"""Forms for starting, logging and ending courses. Writes go through treatments.services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.forms import AreaChoiceField
from catalogue.models import DEPTH_MAX, DEPTH_MESSAGE, DEPTH_MIN
from clinic.locking import VersionedFormMixin
from clinic.models import REASON_MAX_LENGTH
from consultations.forms import DateInput, flag_damaged_version
from consultations.screening import PRE_SESSION_DATES, PRE_SESSION_FIELDS
from treatments.models import (
    Course,
    Device,
    Photo,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)
from treatments.photos.services import ACCEPTED_TYPES, clean_photo
from treatments.services import SESSION_FIELDS

DEFAULT_DEPTH = Decimal("1.00")
PLANNED_SESSIONS_MESSAGE = "Plan between 1 and 52 sessions."
INTERVAL_MESSAGE = "The interval must be between 1 and 52 weeks."
NO_AREA = "Record at least one treated area with its depth."
PAIN_MESSAGE = "Pain is scored from 0 to 10."
ANOTHER_COURSE = (
    "A course from this consultation is already running: open it, or tick this box to start "
    "another one alongside it."
)


class RecordedConcernChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.concern.name}: {obj.area.name.lower()}, {obj.get_severity_display().lower()}"


class CourseForm(forms.ModelForm):
    """Start a course from a consultation; pre-filled with the catalogue's suggestion."""

    concerns = RecordedConcernChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Concerns to treat in this course",
        error_messages={"required": "Choose at least one of the consultation's concerns to treat."},
    )
    planned_sessions = forms.IntegerField(
        label="Planned sessions",
        min_value=1,
        max_value=52,
        error_messages={
            "min_value": PLANNED_SESSIONS_MESSAGE,
            "max_value": PLANNED_SESSIONS_MESSAGE,
        },
    )
    interval_weeks = forms.IntegerField(
        label="Interval (weeks)",
        min_value=1,
        max_value=52,
        error_messages={"min_value": INTERVAL_MESSAGE, "max_value": INTERVAL_MESSAGE},
    )

    class Meta:
        model = Course
        fields = [
            "concerns",
            "planned_sessions",
            "interval_weeks",
            "device",
            "departure_reason",
            "start_date",
            "override_reason",
            "cautions_acknowledged",
            "notes",
        ]
        labels = {
            "cautions_acknowledged": "I have weighed these cautions with the client",
            "override_reason": "Why the course goes ahead despite the screening",
            "departure_reason": "Why the course departs from the catalogue",
        }
        help_texts = {
            "device": "Rosacea's evidence is for RF micro-needling only. Each session records "
            "its own device.",
            "departure_reason": "Needed only when the course departs from the catalogue: an "
            "interval shorter than a concern allows, more sessions than its maximum, a concern "
            "with no established course, or rosacea without an RF device.",
        }
        widgets = {
            "start_date": DateInput(),
            "override_reason": forms.Textarea(attrs={"rows": 2}),
            "departure_reason": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(
        self, *args, consultation, suggestion, screened=None, running_courses=(), **kwargs
    ):
        """`suggestion`: for the concerns ticked at first (the initial values); `screened`:
        for all the consultation's concerns (which screening fields the form needs)."""
        super().__init__(*args, **kwargs)
        self.running_courses = list(running_courses)
        screened = screened or suggestion
        self.fields["concerns"].queryset = consultation.concerns.select_related("concern", "area")
        self.fields["concerns"].initial = [rc.pk for rc in suggestion.recorded_concerns]
        self.fields["planned_sessions"].initial = suggestion.sessions
        self.fields["interval_weeks"].initial = suggestion.interval_weeks
        self.fields["device"].choices = [("", "Decide at each session"), *Device.choices]
        if any(concern.rf_only for concern in suggestion.concerns):
            self.fields["device"].initial = Device.RF
        self.fields["start_date"].initial = timezone.localdate()
        if not screened.needs_override:
            del self.fields["override_reason"]
        if not screened.cautions:
            del self.fields["cautions_acknowledged"]
        if self.running_courses:
            # A course from this consultation runs already: a second one is a deliberate choice.
            self.fields["start_another"] = forms.BooleanField(
                label="Start another course from this consultation, alongside the one running",
                required=False,
            )

    def clean_start_another(self):
        start_another = self.cleaned_data["start_another"]
        if not start_another:
            raise ValidationError(ANOTHER_COURSE)
        return start_another


class EndCourseForm(forms.Form):
    """Complete or stop a course by hand.

    `version` is the course's version as the page showed it: if the course changed since (a
    session logged, someone else ended it), the view refuses and says what changed.
    """

    ended_on = forms.DateField(label="Date", widget=DateInput())
    end_reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=REASON_MAX_LENGTH,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, course, reason_required=False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("ended_on", timezone.localdate())
        kwargs["initial"].setdefault("version", course.version)
        super().__init__(*args, **kwargs)
        self.fields["end_reason"].required = reason_required
        if reason_required:
            self.fields["end_reason"].error_messages["required"] = "Say why the course is stopped."

    def clean(self):
        flag_damaged_version(self)
        return super().clean()

    def clean_ended_on(self):
        ended_on = self.cleaned_data["ended_on"]
        if ended_on > timezone.localdate():
            raise ValidationError("A course cannot end in the future.")
        return ended_on


class VoidSessionForm(forms.Form):
    void_reason = forms.CharField(
        label="Why is this session voided?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        help_text="For example: logged on the wrong client's course.",
        error_messages={"required": "Say why this session is voided."},
    )


class LoadedChoiceField(forms.ChoiceField):
    """A choice among objects the view has already loaded; the submitted value is the pk.

    A ModelChoiceField queries its queryset to draw its options and again to check the choice,
    in every form: the session form, with a product field on each row, would run a query per
    row. These fields share one list, read once by the view for the whole formset.
    """

    def __init__(self, *, empty_label="---------", label_from_instance=str, **kwargs):
        super().__init__(**kwargs)
        self.empty_label = empty_label
        self.label_from_instance = label_from_instance
        self.objects = ()

    @property
    def objects(self):
        return self._objects

    @objects.setter
    def objects(self, objects):
        self._objects = {str(obj.pk): obj for obj in objects}
        self.choices = [
            ("", self.empty_label),
            *((pk, self.label_from_instance(obj)) for pk, obj in self._objects.items()),
        ]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if hasattr(value, "pk"):
            value = value.pk
        try:
            return self._objects[str(value)]
        except KeyError:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            ) from None

    def validate(self, value):
        forms.Field.validate(self, value)  # required or not; to_python checked the choice


def product_label(product):
    return f"{product.name} ({product.get_kind_display().lower()})"


class SessionForm(VersionedFormMixin, forms.ModelForm):
    """The session itself: when, device, numbing, response, pain and notes.

    Correcting a session carries its version: a correction based on an older version is refused.
    The numbing cream and the pain score are the form's own fields, left out of Meta.fields so
    the model does not check them again: the cream is one of those the view loaded, the score's
    range is the field's, and the service checks the whole session (full_clean) before saving
    it. Checked by the model, they would cost a query each (the cream's key, the pain score's
    check constraint).
    """

    pain_score = forms.IntegerField(
        label="Pain (0-10)",
        min_value=0,
        max_value=10,
        required=False,
        help_text="As the client rates it: 0 none, 10 worst imaginable.",
        error_messages={"min_value": PAIN_MESSAGE, "max_value": PAIN_MESSAGE},
    )
    numbing = LoadedChoiceField(label="Numbing cream", required=False, empty_label="None")

    class Meta:
        model = TreatmentSession
        fields = [
            "performed_on",
            "interval_reason",
            "device",
            "device_model",
            "skin_response",
            "notes",
            *PRE_SESSION_FIELDS,
            "depth_reason",
        ]
        labels = {
            "interval_reason": "Why sooner than the course's interval",
            "depth_reason": "Why deeper than the area chart's maximum",
        }
        widgets = {
            "performed_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "interval_reason": forms.Textarea(attrs={"rows": 2}),
            "depth_reason": forms.Textarea(attrs={"rows": 2}),
            **{name: DateInput() for name in PRE_SESSION_DATES},
        }

    # The order the fields are drawn and read in (numbing and pain_score are not in Meta.fields).
    field_order = SESSION_FIELDS

    def __init__(self, *args, numbing_creams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["numbing"].objects = numbing_creams
        if self.instance.pk and not self.is_bound:
            self.initial.setdefault("numbing", self.instance.numbing_id)
            self.initial.setdefault("pain_score", self.instance.pain_score)

    def clean(self):
        flag_damaged_version(self)
        return super().clean()

    @property
    def check_fields(self):
        """The pre-session check's questions, between the tick that it was asked and the
        acknowledgement of its cautions."""
        return [self[name] for name in PRE_SESSION_FIELDS[1:-1]]


class FiniteDecimalField(forms.DecimalField):
    """A DecimalField that reads "NaN", "sNaN" and "Infinity" as invalid at once: Django's
    refuses them only in validate(), after has_changed() has compared them, and comparing a
    signalling NaN raises."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and not value.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value


# The rows of a session (areas, products, progress ratings) are plain forms: they only collect
# what the practitioner entered. The service builds the rows and checks them with the session
# (full_clean(), whose clean() repeats the check constraints the database enforces).


class SessionAreaForm(forms.Form):
    # Each option shows the area's range from the chart: "Around the eyes (0.25-0.5 mm, max 0.5)".
    area = AreaChoiceField(label="Area", ranges=True)
    depth_mm = FiniteDecimalField(
        label="Depth (mm)",
        min_value=DEPTH_MIN,
        max_value=DEPTH_MAX,
        max_digits=3,
        decimal_places=2,
        error_messages={"min_value": DEPTH_MESSAGE, "max_value": DEPTH_MESSAGE},
        widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal"}),
    )


class BaseRowFormSet(forms.BaseFormSet):
    """Rows the practitioner can add to or remove; blank extra rows are ignored."""

    key = None  # the field that makes a row count

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def chosen_forms(self):
        return [
            form
            for form in self.forms
            if form.cleaned_data.get(self.key) and not form.cleaned_data.get("DELETE")
        ]


class BaseSessionAreaFormSet(BaseRowFormSet):
    key = "area"

    def clean(self):
        if any(self.errors):
            return
        areas = [form.cleaned_data["area"] for form in self.chosen_forms()]
        if not areas and self.forms:
            self.forms[0].add_error("area", ValidationError(NO_AREA, code="no_area"))
        elif len(set(areas)) != len(areas):
            raise ValidationError("Each area appears once; record one depth per area.")

    def areas(self):
        return [(f.cleaned_data["area"], f.cleaned_data["depth_mm"]) for f in self.chosen_forms()]


SessionAreaFormSet = forms.formset_factory(
    SessionAreaForm,
    formset=BaseSessionAreaFormSet,
    extra=1,
    can_delete=True,
    max_num=14,
    absolute_max=14,
)


LOT_REQUIRED = "Give the lot number from the pack, for recalls."


class SessionProductForm(forms.Form):
    """A product applied, with its lot. A lot used at the last session is offered, not filled
    in: the practitioner ticks it after checking the pack, or types the lot in hand."""

    product = LoadedChoiceField(label="Product", label_from_instance=product_label)
    lot_number = forms.CharField(
        label="Lot number",
        max_length=SessionProduct._meta.get_field("lot_number").max_length,
        required=False,
    )
    last_lot = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=SessionProduct._meta.get_field("lot_number").max_length,
    )
    same_lot = forms.BooleanField(required=False)

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].objects = products
        last_lot = (
            self.data.get(self.add_prefix("last_lot"), "")
            if self.is_bound
            else self.initial.get("last_lot", "")
        )
        if last_lot:
            self.fields["same_lot"].label = f"Same lot as last session: {last_lot}"
        else:
            del self.fields["same_lot"]

    def clean(self):
        cleaned = super().clean()
        lot = cleaned.get("lot_number", "").strip()
        if not lot and cleaned.get("same_lot"):
            lot = cleaned.get("last_lot", "").strip()
        if cleaned.get("product") and not lot and "lot_number" not in self.errors:
            message = LOT_REQUIRED
            if "same_lot" in self.fields:
                message = "Type the lot number from the pack, or tick the last session's lot."
            self.add_error("lot_number", message)
        cleaned["lot_number"] = lot
        return cleaned


class BaseSessionProductFormSet(BaseRowFormSet):
    key = "product"

    def products(self):
        return [
            (f.cleaned_data["product"], f.cleaned_data["lot_number"]) for f in self.chosen_forms()
        ]


SessionProductFormSet = forms.formset_factory(
    SessionProductForm,
    formset=BaseSessionProductFormSet,
    extra=1,
    can_delete=True,
    max_num=20,
    absolute_max=20,
)


NOT_ASSESSED = "not-assessed"
RATINGS = [(rating.value, rating.label) for rating in SessionProgress.Rating]
RATING_REQUIRED = "Rate the progress, or choose “Not assessed”: nothing is assumed."


def practitioner_rating(value):
    return None if value == NOT_ASSESSED else int(value)


class ProgressForm(forms.Form):
    """Progress on one of the course's concerns, as the practitioner and the client see it.

    Both start empty: the practitioner chooses a rating or "Not assessed" explicitly, so no
    rating is ever recorded that nobody gave.
    """

    practitioner_rating = forms.TypedChoiceField(
        label="Your rating",
        choices=[("", "Choose…"), *RATINGS, (NOT_ASSESSED, SessionProgress.Rating.__empty__)],
        coerce=practitioner_rating,
        error_messages={"required": RATING_REQUIRED},
    )
    client_rating = forms.TypedChoiceField(
        label="Client's rating",
        choices=[("", "Not asked"), *RATINGS],
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, recorded_concern, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded_concern = recorded_concern
        if self.initial.get("practitioner_rating", "") is None:
            self.initial["practitioner_rating"] = NOT_ASSESSED

    def progress(self):
        return (
            self.recorded_concern,
            self.cleaned_data["practitioner_rating"],
            self.cleaned_data.get("client_rating"),
        )


def suggested_depth(concerns):
    """A starting depth for an area: the shallowest midpoint of the concerns' depth ranges."""
    midpoints = [
        ((c.depth_min_mm + c.depth_max_mm) / 2).quantize(Decimal("0.01"))
        for c in concerns
        if c.depth_min_mm is not None and c.depth_max_mm is not None
    ]
    return min(midpoints, default=DEFAULT_DEPTH)


def first_session_depth(limits, concerns, *, low_end=False):
    """A course's first depth in an area (`limits`, from the area chart): the concerns'
    suggestion brought inside the area's thin-skin range, never above it; the range's low end
    for skin that starts there (`low_end`: Fitzpatrick IV-VI) or when no concern suggests one."""
    guided = [c for c in concerns if c.depth_min_mm is not None and c.depth_max_mm is not None]
    return limits.first_depth(suggested_depth(guided) if guided else None, low_end=low_end)


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files from one input; each checked as a photo (content, size, no bombs)."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        files = [file for file in (data or []) if file] if isinstance(data, list | tuple) else data
        if not isinstance(files, list):
            files = [files] if files else []
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        limit = settings.PHOTO_MAX_PER_UPLOAD
        if len(files) > limit:
            raise ValidationError(
                [
                    f"{len(files)} photos were chosen: add at most {limit} at a time, "
                    "then the rest.",
                    CHOOSE_AGAIN,
                ],
                code="too_many",
            )
        errors = []
        for file in files:
            try:
                clean_photo(file)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            errors.append(CHOOSE_AGAIN)
            raise ValidationError(errors)
        return files


CHOOSE_AGAIN = "Nothing else you entered is lost, but choose the photos again."


class PhotoUploadForm(forms.Form):
    """A batch of photos of one area from one angle (a session's or a consultation's)."""

    photos = MultipleImageField(
        label="Photos to add",
        required=False,
        help_text="JPEG, PNG, WebP or HEIC, from the camera or a file. Stripped of location "
        "and device details when saved.",
        widget=MultipleImageInput(attrs={"accept": ACCEPTED_TYPES, "capture": "environment"}),
        error_messages={"required": "Choose at least one photo."},
    )
    photo_area = AreaChoiceField(label="Area photographed", required=False)
    photo_angle = forms.ChoiceField(
        label="Angle", choices=Photo.Angle.choices, initial=Photo.Angle.FRONT, required=False
    )

    def __init__(self, *args, required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].required = required

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("photos") and not cleaned.get("photo_area"):
            self.add_error("photo_area", "Choose the area the photos show.")
        cleaned["photo_angle"] = cleaned.get("photo_angle") or Photo.Angle.FRONT
        return cleaned

    def add_photo_errors(self, messages):
        self.add_error("photos", [*messages, CHOOSE_AGAIN])
