"""Forms for starting, logging and ending courses. Writes go through treatments.services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.forms import AreaChoiceField
from catalogue.models import DEPTH_MAX, DEPTH_MESSAGE, DEPTH_MIN
from clinic import roles
from clinic.locking import VersionedFormMixin
from clinic.models import REASON_MAX_LENGTH
from consultations.forms import DateInput, flag_damaged_version
from consultations.screening import PRE_SESSION_DATES, PRE_SESSION_FIELDS
from stock.gs1 import MAX_SCAN_LENGTH, ScanError
from stock.models import Lot
from stock.services import read_scan
from treatments.models import (
    Course,
    Device,
    Photo,
    SessionProgress,
    TreatmentSession,
)
from treatments.photos.services import ACCEPTED_TYPES, clean_photo
from treatments.services import NO_RECEIVE, SESSION_FIELDS, NewLot

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
        else:
            # Not suitable: the reason to go ahead is the first thing the form asks.
            self.order_fields(["override_reason"])
            self.fields["override_reason"].help_text = (
                "The screening found this consultation not suitable. Record who decided to go "
                "ahead and why (a specialist's clearance, a different area), or defer."
            )
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
    adverse_event = forms.BooleanField(
        label="Stopped for an adverse event",
        required=False,
        help_text="A reaction to the treatment: the client is not offered maintenance sessions "
        "afterwards. Record the event itself from the session it followed.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, course, reason_required=False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("ended_on", timezone.localdate())
        kwargs["initial"].setdefault("version", course.version)
        super().__init__(*args, **kwargs)
        self.fields["end_reason"].required = reason_required
        if reason_required:
            self.fields["end_reason"].error_messages["required"] = "Say why the course is stopped."
        else:
            del self.fields["adverse_event"]  # only a stopped course ends for a reaction

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
            "device_serial",
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


LOT_REQUIRED = (
    "Choose the lot from the pack in hand, scan it, or receive a new lot with its expiry date."
)
LOT_REQUIRED_SAME = "Choose the lot from the pack in hand, or tick the last session's lot."
NEW_LOT_EXPIRY = "Give the new lot's expiry date, as printed on the pack."
NOT_OFFERED = "{product} is not offered for sessions: choose a product from the list."


def lot_label(lot):
    label = f"{lot.lot_number} · {lot.expiry_display}"
    if lot.status != Lot.Status.IN_USE:
        label += f" · {lot.get_status_display().lower()}"
    return label


class LotSelect(forms.Select):
    """The lots' select: each option names its product (data-product), so the page's script
    shows only the chosen product's lots."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lot_products = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        product = self.lot_products.get(str(value))
        if product is not None:
            option["attrs"]["data-product"] = str(product)
        return option


class SessionProductForm(forms.Form):
    """A product applied, with its lot from stock: one of the clinic's in-date lots in use (the
    lot used last time in this course is offered first, as a suggestion to tick, never chosen
    unseen), a scan of the pack's label, or, for staff who may receive lots, a new lot received
    on the spot with its expiry date."""

    # Not required by itself: a scan fills it (clean()); a row naming a lot needs it.
    product = LoadedChoiceField(label="Product", required=False, label_from_instance=product_label)
    scan = forms.CharField(
        label="Scan the pack",
        required=False,
        max_length=MAX_SCAN_LENGTH * 2,
        strip=False,
        help_text="Scan the pack's barcode: product, lot and expiry are filled in.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-scan": ""}),
    )
    lot = LoadedChoiceField(
        label="Lot", required=False, empty_label="Choose the lot", label_from_instance=lot_label
    )
    last_lot = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    same_lot = forms.BooleanField(required=False)
    new_lot_number = forms.CharField(
        label="Or receive a new lot: number",
        required=False,
        max_length=Lot._meta.get_field("lot_number").max_length,
    )
    new_lot_expiry = forms.DateField(label="Expiry date", required=False, widget=DateInput())

    def __init__(self, *args, products, lots=(), last_lots=None, can_receive=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].objects = products
        self.fields["lot"].widget = LotSelect()
        self.fields["lot"].objects = lots
        self.fields["lot"].widget.lot_products = {str(lot.pk): lot.product_id for lot in lots}
        self.last_lots = last_lots or {}
        self.can_receive = can_receive
        if not can_receive:
            del self.fields["new_lot_number"]
            del self.fields["new_lot_expiry"]
        last_lot = (
            self.data.get(self.add_prefix("last_lot"), "")
            if self.is_bound
            else self.initial.get("last_lot", "")
        )
        suggested = self.last_lots.get(str(last_lot))
        if suggested is not None:
            self.fields[
                "same_lot"
            ].label = (
                f"Same lot as last session: {suggested.lot_number} ({suggested.expiry_display})"
            )
        else:
            del self.fields["same_lot"]

    def _from_scan(self, cleaned):
        """Fill the product and lot from the scan, read here with biip (the page's script
        fills the fields as the scan is typed; a page without it, or a scan typed into the
        field, is read on submit). Returns the lot, or None."""
        try:
            scanned = read_scan(cleaned["scan"])
        except ScanError as error:
            self.add_error("scan", str(error))
            return None
        offered = self.fields["product"].objects
        product = offered.get(str(scanned.product.pk))
        if product is None:
            self.add_error("scan", NOT_OFFERED.format(product=scanned.product))
            return None
        if cleaned.get("product") and cleaned["product"] != product:
            self.add_error(
                "scan", f"The scan is of {product}, not {cleaned['product']}: check the pack."
            )
            return None
        cleaned["product"] = product
        if scanned.lot is not None:
            return scanned.lot
        if not self.can_receive:
            self.add_error(
                "scan", NO_RECEIVE.format(number=scanned.scan.lot_number, product=product)
            )
            return None
        if scanned.scan.expiry_date is None:
            self.add_error("scan", "The scan has no expiry date (AI 17): type it below.")
            return None
        return NewLot(scanned.scan.lot_number, scanned.scan.expiry_date)

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in ("product", "lot", "scan")):
            return cleaned
        lot = None
        if (cleaned.get("scan") or "").strip():
            lot = self._from_scan(cleaned)
            if lot is None:
                return cleaned
        product = cleaned.get("product")
        if product is None:
            if lot is not None or cleaned.get("lot") or cleaned.get("new_lot_number"):
                self.add_error("product", "Choose the product.")
            return cleaned
        new_number = (cleaned.get("new_lot_number") or "").strip()
        if lot is None and cleaned.get("lot"):
            lot = cleaned["lot"]
        elif lot is None and new_number:
            if not cleaned.get("new_lot_expiry"):
                if "new_lot_expiry" not in self.errors:
                    self.add_error("new_lot_expiry", NEW_LOT_EXPIRY)
                return cleaned
            lot = NewLot(new_number, cleaned["new_lot_expiry"])
        elif lot is None and cleaned.get("same_lot"):
            lot = self.last_lots.get(str(cleaned.get("last_lot")))
        if lot is None:
            self.add_error("lot", LOT_REQUIRED_SAME if "same_lot" in self.fields else LOT_REQUIRED)
            return cleaned
        if isinstance(lot, Lot) and lot.product_id != product.pk:
            self.add_error("lot", f"Lot {lot.lot_number} is not a lot of {product}.")
            return cleaned
        cleaned["lot"] = lot
        return cleaned


class BaseSessionProductFormSet(BaseRowFormSet):
    key = "product"

    def products(self):
        return [(f.cleaned_data["product"], f.cleaned_data["lot"]) for f in self.chosen_forms()]


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


# Appointments ----------------------------------------------------------------------------------


def bookable_staff():
    """Who a visit can be booked with: staff with a clinical role who can sign in."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[roles.AESTHETICIAN, roles.MANAGER])
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def staff_name(user):
    return user.get_full_name() or user.get_username()


class BookingForm(forms.Form):
    """The date, time and practitioner of a booking. `staff`: the users to offer (read once by
    the page, which may draw many of these forms); `required`: whether a booking must be given
    (a form that books only for one of its choices checks it in its own clean())."""

    booked_date = forms.DateField(label="Date", required=False, widget=DateInput())
    booked_time = forms.TimeField(
        label="Time",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )
    booked_with = forms.TypedChoiceField(label="With", coerce=int, empty_value=None, required=False)

    BOOKING_FIELDS = ("booked_date", "booked_time", "booked_with")
    MISSING = {
        "booked_date": "Give the day of the appointment.",
        "booked_time": "Give the time of the appointment.",
        "booked_with": "Choose who the client will see.",
    }

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["booked_with"].choices = [
            ("", "Choose who"),
            *((user.pk, staff_name(user)) for user in staff),
        ]

    def clean_booking(self):
        """The booking as book_appointment() takes it ({"date", "time", "practitioner"}), with
        an error next to each missing part; None when one is missing."""
        cleaned = self.cleaned_data
        missing = [name for name in self.BOOKING_FIELDS if cleaned.get(name) in (None, "")]
        for name in missing:
            if name not in self.errors:
                self.add_error(name, self.MISSING[name])
        if missing or any(name in self.errors for name in self.BOOKING_FIELDS):
            return None
        practitioner = bookable_staff().filter(pk=cleaned["booked_with"]).first()
        if practitioner is None:
            self.add_error("booked_with", "Choose who the client will see.")
            return None
        return {
            "date": cleaned["booked_date"],
            "time": cleaned["booked_time"],
            "practitioner": practitioner,
        }


class AppointmentForm(BookingForm):
    """Book a visit from the client's page or a course's page."""

    course = forms.TypedChoiceField(label="For", coerce=int, empty_value=None, required=False)
    note = forms.CharField(label="Note", max_length=200, required=False)

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.courses = {course.pk: course for course in courses}
        self.fields["course"].choices = [
            *(
                (course.pk, f"{course.concern_names or 'Course'}: {course.progress_label}")
                for course in courses
            ),
            ("", "A visit to discuss a new course"),
        ]

    def clean(self):
        cleaned = super().clean()
        cleaned["booking"] = self.clean_booking()
        cleaned["course_object"] = self.courses.get(cleaned.get("course"))
        return cleaned
