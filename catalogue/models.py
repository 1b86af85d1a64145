"""Reference data both workflows read: the concern catalogue, treatment areas and products.

Managers keep it in the admin; migrations load the shipped rows. Nothing here depends on
clients, consultations or sessions.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from biip import ParseError
from biip.gtin import Gtin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse

from clinic.history import AuditTrail

DEPTH_MIN = Decimal("0.25")
DEPTH_MAX = Decimal("3.00")
DEPTH_VALIDATORS = [MinValueValidator(DEPTH_MIN), MaxValueValidator(DEPTH_MAX)]
DEPTH_MESSAGE = "Needle depth must be between 0.25 and 3.0 mm."


def mm(depth):
    """A depth as the chart writes it: 0.25, 0.5, 1.0."""
    text = f"{Decimal(depth):.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class BodyArea(models.Model):
    """An area of the body a practitioner treats, with its needle depth chart.

    Areas nest: the full face is made of the forehead, the eyes, the nose, the cheeks and the
    mouth. A finding on a part affects a course on the whole, and a finding on the whole affects
    every part (`overlapping_area_codes`). An area's depth ranges may be left blank when it is
    made of parts: it then spans its parts' ranges. Records keep an area by its code.
    """

    code = models.SlugField(
        max_length=20,
        unique=True,
        help_text="The short name records keep; it cannot change once the area is saved.",
    )
    name = models.CharField(max_length=60, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name="part of",
        help_text="The larger area this one belongs to (the cheeks belong to the full face).",
    )
    thin_min_mm = models.DecimalField(
        "thin skin from (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    thin_max_mm = models.DecimalField(
        "thin skin to (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    thick_min_mm = models.DecimalField(
        "thick skin from (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    thick_max_mm = models.DecimalField(
        "thick skin to (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    max_mm = models.DecimalField(
        "hard maximum (mm)",
        max_digits=3,
        decimal_places=2,
        validators=DEPTH_VALIDATORS,
        help_text="Deeper than this, the practitioner must record why.",
    )
    position = models.PositiveSmallIntegerField(
        "order", default=0, help_text="Where the area comes in lists (smallest first)."
    )

    history = AuditTrail()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "body area"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_mm__gte=DEPTH_MIN) & Q(max_mm__lte=DEPTH_MAX),
                name="bodyarea_max_range",
                violation_error_message="The hard maximum lies in 0.25-3.0 mm.",
            ),
            *(
                models.CheckConstraint(
                    condition=(
                        Q(**{f"{skin}_min_mm__isnull": True, f"{skin}_max_mm__isnull": True})
                    )
                    | (
                        Q(**{f"{skin}_min_mm__gte": DEPTH_MIN})
                        & Q(**{f"{skin}_max_mm__gte": F(f"{skin}_min_mm")})
                        & Q(**{f"{skin}_max_mm__lte": F("max_mm")})
                    ),
                    name=f"bodyarea_{skin}_range",
                    violation_error_message=(
                        f"The {skin}-skin range runs from 0.25 mm up to the hard maximum."
                    ),
                )
                for skin in ("thin", "thick")
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        for skin in ("thin", "thick"):
            low, high = getattr(self, f"{skin}_min_mm"), getattr(self, f"{skin}_max_mm")
            if (low is None) != (high is None):
                errors[f"{skin}_max_mm"] = "Give both ends of the range, or neither."
            elif low is not None and low > high:
                errors[f"{skin}_max_mm"] = "The range must run from the shallower depth."
            elif high is not None and self.max_mm is not None and high > self.max_mm:
                errors[f"{skin}_max_mm"] = "The range cannot go past the hard maximum."
        if self.parent_id is not None and self.pk is not None:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    errors["parent"] = "An area cannot be part of itself or of one of its parts."
                    break
                seen.add(ancestor.pk)
                ancestor = ancestor.parent
        if errors:
            raise ValidationError(errors)


# The area chart as the session form and the services read it: from Django's cache (shared by
# every worker with DJANGO_REDIS_URL), so logging a session reads no area row; a change to an
# area forgets it at once and again when the change commits. Without Redis each worker keeps its
# own copy, refreshed at the latest after CHART_CACHE_SECONDS.
CHART_CACHE_KEY = "catalogue:area-chart:1"
CHART_CACHE_SECONDS = 300
CHART_FIELDS = (
    "code",
    "name",
    "parent__code",
    "thin_min_mm",
    "thin_max_mm",
    "thick_min_mm",
    "thick_max_mm",
    "max_mm",
)


@dataclass(frozen=True)
class AreaLimits:
    """One area of the chart: its ranges for thin and thick skin and its hard maximum."""

    code: str
    name: str
    parent: str | None
    thin: tuple[Decimal, Decimal]
    thick: tuple[Decimal, Decimal]
    max_mm: Decimal

    @property
    def low(self):
        return min(self.thin[0], self.thick[0])

    @property
    def high(self):
        return max(self.thin[1], self.thick[1])

    @property
    def range_display(self):
        """ "0.25-0.5 mm, max 0.5": from the thin skin's shallowest to the thick skin's deepest."""
        span = mm(self.low) if self.low == self.high else f"{mm(self.low)}-{mm(self.high)}"
        return f"{span} mm, max {mm(self.max_mm)}"

    @property
    def label(self):
        return f"{self.name} ({self.range_display})"

    def first_depth(self, suggested=None, *, low_end=False):
        """Where a course's first session starts in this area: within the thin-skin range (the
        conservative one), at its low end for skin that needs it (Fitzpatrick IV-VI) or without
        a suggestion, else at `suggested` (the concerns' depth) brought inside the range."""
        low, high = self.thin
        if low_end or suggested is None:
            return low
        return min(max(Decimal(suggested), low), high)


class AreaChart(Mapping):
    """The body areas by code (AreaLimits), in the managers' order, with their nesting."""

    def __init__(self, rows):
        self._rows = {row["code"]: row for row in rows}
        self._parts = {}
        for row in rows:
            if row["parent__code"]:
                self._parts.setdefault(row["parent__code"], []).append(row["code"])
        self._areas = {code: self._limits(code) for code in self._rows}

    def _descendants(self, code, seen=None):
        seen = set() if seen is None else seen
        for part in self._parts.get(code, ()):
            if part not in seen:
                seen.add(part)
                self._descendants(part, seen)
        return seen

    def _ancestors(self, code):
        found, parent = set(), self._rows[code]["parent__code"]
        while parent and parent in self._rows and parent not in found and parent != code:
            found.add(parent)
            parent = self._rows[parent]["parent__code"]
        return found

    def _limits(self, code):
        row = self._rows[code]
        parts = [self._rows[part] for part in self._descendants(code)]

        def span(skin):
            low, high = row[f"{skin}_min_mm"], row[f"{skin}_max_mm"]
            if low is not None:
                return (low, high)
            # Blank: the area spans its parts' ranges (full face), or 0.25 to its maximum.
            lows = [p[f"{skin}_min_mm"] for p in parts if p[f"{skin}_min_mm"] is not None]
            highs = [p[f"{skin}_max_mm"] for p in parts if p[f"{skin}_max_mm"] is not None]
            if not lows:
                return (DEPTH_MIN, row["max_mm"])
            return (min(lows), min(max(highs), row["max_mm"]))

        return AreaLimits(
            code=code,
            name=row["name"],
            parent=row["parent__code"],
            thin=span("thin"),
            thick=span("thick"),
            max_mm=row["max_mm"],
        )

    def __getitem__(self, code):
        return self._areas[code]

    def __iter__(self):
        return iter(self._areas)

    def __len__(self):
        return len(self._areas)

    def name(self, code):
        """The area's name, or its code when the chart no longer has it."""
        return self._areas[code].name if code in self._areas else code

    def choices(self, *, ranges=False):
        """(code, name) pairs for a select, or with each area's range (`ranges`)."""
        return [(a.code, a.label if ranges else a.name) for a in self._areas.values()]

    def overlapping(self, code):
        """The area, the areas it is part of and its parts: a finding on any of them concerns
        a treatment of `code`."""
        if code not in self._rows:
            return {code}
        return {code} | self._ancestors(code) | self._descendants(code)


def area_chart():
    """The area chart, from the cache or in one query."""
    rows = cache.get(CHART_CACHE_KEY)
    if rows is None:
        rows = list(BodyArea.objects.values(*CHART_FIELDS))
        cache.set(CHART_CACHE_KEY, rows, CHART_CACHE_SECONDS)
    return AreaChart(rows)


def forget_area_chart():
    cache.delete(CHART_CACHE_KEY)


def overlapping_area_codes(code):
    """`code`, the areas that contain it and the areas it contains: the cheeks give the cheeks
    and the full face; the full face gives itself and every facial area."""
    return area_chart().overlapping(code)


def area_code(area):
    """The code of `area`, given as a BodyArea or as its code."""
    return area.code if isinstance(area, BodyArea) else area


@receiver(post_save, sender=BodyArea)
@receiver(post_delete, sender=BodyArea)
def _area_changed(**kwargs):
    # Now, and once the change is visible to every connection (a page that read the chart
    # before the commit may have cached the old one meanwhile).
    forget_area_chart()
    transaction.on_commit(forget_area_chart)


class Concern(models.Model):
    """One entry of the concern catalogue: what micro-needling can honestly do for it."""

    class Evidence(models.TextChoices):
        VERY_LOW = "very_low", "Very low"
        LOW = "low", "Low"
        LOW_MODERATE = "low_moderate", "Low to moderate"
        MODERATE = "moderate", "Moderate"
        HIGH = "high", "High"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.CharField(max_length=200, help_text="One line for lists and pickers.")
    benefit = models.TextField(
        "what micro-needling can do",
        help_text="Plain words a client understands, honest about the evidence.",
    )
    evidence_summary = models.TextField(
        "claims and evidence",
        help_text="What clinics claim beside what published studies show.",
    )
    evidence_level = models.CharField(max_length=20, choices=Evidence)
    sources = models.TextField(blank=True, help_text="Studies and reviews behind the figures.")
    sessions_min = models.PositiveSmallIntegerField("typical sessions (min)", null=True, blank=True)
    sessions_typical = models.PositiveSmallIntegerField(
        "usual course length",
        null=True,
        blank=True,
        help_text="The course length most studies used; suggested as the planned count.",
    )
    sessions_max = models.PositiveSmallIntegerField("typical sessions (max)", null=True, blank=True)
    sessions_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Where the range comes from, e.g. a clinic's figure beside the studies'.",
    )
    # The typical range above is what clinics quote; where published studies used another,
    # both are shown (stretch marks: 2-12 as clinics quote it, 1-6 in studies).
    studied_sessions_min = models.PositiveSmallIntegerField(
        "sessions in studies (min)",
        null=True,
        blank=True,
        help_text="The fewest sessions the published studies gave; empty when none was published.",
    )
    studied_sessions_max = models.PositiveSmallIntegerField(
        "sessions in studies (max)", null=True, blank=True
    )
    interval_weeks = models.PositiveSmallIntegerField(
        "usual interval (weeks)", null=True, blank=True
    )
    interval_min_weeks = models.PositiveSmallIntegerField(
        "shortest interval (weeks)", null=True, blank=True
    )
    interval_max_weeks = models.PositiveSmallIntegerField(
        "longest interval (weeks)", null=True, blank=True
    )
    depth_min_mm = models.DecimalField(
        "needle depth from (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    depth_max_mm = models.DecimalField(
        "needle depth to (mm)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=DEPTH_VALIDATORS,
    )
    depth_guidance = models.TextField("needle depth guidance", blank=True)
    cautions = models.TextField(blank=True, help_text="Shown whenever this concern is recorded.")
    combinations = models.TextField(
        "combination options", blank=True, help_text="Treatments often paired with needling."
    )
    scar_concern = models.BooleanField(
        default=False, help_text="A scar concern: keloid tendency triggers a caution."
    )
    pigment_concern = models.BooleanField(
        default=False, help_text="A pigment concern: extra caution on Fitzpatrick IV-VI skin."
    )
    inflammatory_concern = models.BooleanField(
        default=False,
        help_text="Active inflammation (acne, rosacea): needling may spread or flare it.",
    )
    rf_only = models.BooleanField(
        "evidence for RF micro-needling only",
        default=False,
        # Rows written by the migration that first shipped the catalogue, which predates this
        # field (the browser tests load it so again), take the default from the database.
        db_default=False,
        help_text="The studies used radiofrequency micro-needling (rosacea): a course records an "
        "RF device, or why it uses another.",
    )

    follow_up_days = models.PositiveSmallIntegerField(
        "follow-up call after (days)",
        null=True,
        blank=True,
        default=2,
        validators=[MaxValueValidator(14)],
        help_text="Days after a session to call the client and ask how the skin settled (2: the "
        "48-72 hour check that catches most reactions). 0 or empty: no call for this concern.",
    )

    history = AuditTrail()

    class Meta:
        db_table = "treatments_concern"  # the table it had in treatments
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(sessions_min__isnull=True)
                    & Q(sessions_max__isnull=True)
                    & Q(sessions_typical__isnull=True)
                )
                | (
                    Q(sessions_min__gte=1)
                    & Q(sessions_max__gte=F("sessions_min"))
                    & Q(sessions_typical__gte=F("sessions_min"))
                    & Q(sessions_typical__lte=F("sessions_max"))
                ),
                name="concern_sessions_ordered",
                violation_error_message="Sessions must satisfy 1 <= min <= usual <= max.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(studied_sessions_min__isnull=True) & Q(studied_sessions_max__isnull=True)
                )
                | (
                    Q(studied_sessions_min__gte=1)
                    & Q(studied_sessions_max__gte=F("studied_sessions_min"))
                ),
                name="concern_studied_sessions_ordered",
                violation_error_message="Sessions in studies must satisfy 1 <= min <= max.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(interval_weeks__isnull=True)
                    & Q(interval_min_weeks__isnull=True)
                    & Q(interval_max_weeks__isnull=True)
                )
                | (
                    Q(interval_min_weeks__gte=1)
                    & Q(interval_weeks__gte=F("interval_min_weeks"))
                    & Q(interval_max_weeks__gte=F("interval_weeks"))
                ),
                name="concern_interval_ordered",
                violation_error_message="Intervals must satisfy 1 <= shortest <= usual <= longest.",
            ),
            models.CheckConstraint(
                condition=(Q(depth_min_mm__isnull=True) & Q(depth_max_mm__isnull=True))
                | (
                    Q(depth_min_mm__gte=DEPTH_MIN)
                    & Q(depth_max_mm__gte=F("depth_min_mm"))
                    & Q(depth_max_mm__lte=DEPTH_MAX)
                ),
                name="concern_depth_ordered",
                violation_error_message="Depths must lie in 0.25-3.0 mm with from <= to.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalogue:concern-detail", kwargs={"slug": self.slug})

    @property
    def has_typical_course(self):
        return self.sessions_min is not None

    @property
    def sessions_display(self):
        if not self.has_typical_course:
            return "No established course"
        if self.sessions_min == self.sessions_max:
            return f"{self.sessions_min} sessions"
        return f"{self.sessions_min}-{self.sessions_max} sessions"

    @property
    def studied_sessions_display(self):
        low, high = self.studied_sessions_min, self.studied_sessions_max
        if low is None:
            return "No published course"
        if low == high:
            return f"{low} session{'s' if low != 1 else ''}"
        return f"{low}-{high} sessions"

    @property
    def studies_differ(self):
        """Whether published studies used another range than the one clinics quote."""
        return self.studied_sessions_min is not None and (
            self.studied_sessions_min,
            self.studied_sessions_max,
        ) != (self.sessions_min, self.sessions_max)

    @property
    def sessions_basis(self):
        """Where the typical range comes from, in words to follow it."""
        if self.studies_differ:
            return "as clinics quote it"
        if self.has_typical_course and self.studied_sessions_min is not None:
            return "as in published studies"
        return ""

    @property
    def interval_display(self):
        if self.interval_weeks is None:
            return "Not established"
        usual = "every week" if self.interval_weeks == 1 else f"every {self.interval_weeks} weeks"
        if self.interval_min_weeks == self.interval_max_weeks:
            return usual
        return f"{usual} ({self.interval_min_weeks}-{self.interval_max_weeks})"

    def clean(self):
        super().clean()
        errors = {}
        sessions = (self.sessions_min, self.sessions_typical, self.sessions_max)
        if any(v is not None for v in sessions):
            if any(v is None for v in sessions):
                errors["sessions_max"] = (
                    "Fill in the minimum, usual and maximum sessions, or leave all three empty "
                    "when no course is established."
                )
            elif self.sessions_min < 1:
                errors["sessions_min"] = "A course has at least 1 session."
            elif not self.sessions_min <= self.sessions_typical <= self.sessions_max:
                errors["sessions_max"] = (
                    "The usual course length must lie between the minimum and maximum sessions."
                )
        studied = (self.studied_sessions_min, self.studied_sessions_max)
        if (studied[0] is None) != (studied[1] is None):
            errors["studied_sessions_max"] = (
                "Give both ends of the range studies used, or neither when none was published."
            )
        elif studied[0] is not None and not 1 <= studied[0] <= studied[1]:
            errors["studied_sessions_max"] = (
                "The range studies used runs from at least 1 session to its maximum."
            )
        intervals = (self.interval_min_weeks, self.interval_weeks, self.interval_max_weeks)
        if any(v is not None for v in intervals):
            if any(v is None for v in intervals):
                errors["interval_max_weeks"] = (
                    "Fill in the shortest, usual and longest interval, or leave all three empty."
                )
            elif self.interval_min_weeks < 1:
                errors["interval_min_weeks"] = "The shortest interval is at least 1 week."
            elif not self.interval_min_weeks <= self.interval_weeks <= self.interval_max_weeks:
                errors["interval_weeks"] = (
                    "The usual interval must lie between the shortest and longest interval."
                )
        if (self.depth_min_mm is None) != (self.depth_max_mm is None):
            errors["depth_max_mm"] = "Give both ends of the depth range, or neither."
        elif self.depth_min_mm is not None and self.depth_min_mm > self.depth_max_mm:
            errors["depth_max_mm"] = "The depth range must run from the shallower depth."
        if errors:
            raise ValidationError(errors)


GTIN_INVALID = "Not a valid GTIN: {error}"


def gtin_14(value):
    """A GTIN-8, -12, -13 or -14 as its 14 digits, checked (check digit included) by biip;
    raises ValidationError with what is wrong."""
    try:
        return Gtin.parse(value.strip()).as_gtin_14()
    except ParseError as error:
        raise ValidationError(GTIN_INVALID.format(error=error), code="invalid_gtin") from None


class Product(models.Model):
    class Kind(models.TextChoices):
        SERUM = "serum", "Serum"
        NUMBING = "numbing", "Numbing cream"
        AFTERCARE = "aftercare", "Aftercare"
        NEEDLES = "needles", "Needle cartridge or roller head"

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=Kind)
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        help_text="The barcode number on the pack (8, 12, 13 or 14 digits), so a scan finds the "
        "product. Kept as 14 digits.",
    )
    active_ingredient = models.CharField(max_length=200, blank=True)
    approved_for_needling = models.BooleanField(
        default=True,
        help_text="Only serums made for needling belong on open skin (granulomas are reported "
        "after other vitamin C serums).",
    )
    in_use = models.BooleanField(default=True, help_text="Offered when logging a session.")
    notes = models.TextField(blank=True)

    history = AuditTrail()

    class Meta:
        db_table = "treatments_product"  # the table it had in treatments
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.gtin in ("", None):
            self.gtin = None  # unique only when set
        else:
            try:
                self.gtin = gtin_14(self.gtin)
            except ValidationError as error:
                raise ValidationError({"gtin": error}) from None


class ClinicDetails(models.Model):
    """The clinic's own details, kept once by a manager: on consent copies and printouts.

    One row (`ClinicDetails.current()`); until a manager saves it, the defaults below stand in.
    """

    WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

    name = models.CharField(max_length=120, default="Micro-needling clinic")
    address = models.TextField(blank=True, max_length=400)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    out_of_hours_advice = models.TextField(
        blank=True,
        max_length=1000,
        help_text="What a client should do about a reaction when the clinic is closed.",
    )
    open_monday = models.BooleanField("Monday", default=True)
    open_tuesday = models.BooleanField("Tuesday", default=True)
    open_wednesday = models.BooleanField("Wednesday", default=True)
    open_thursday = models.BooleanField("Thursday", default=True)
    open_friday = models.BooleanField("Friday", default=True)
    open_saturday = models.BooleanField("Saturday", default=True)
    open_sunday = models.BooleanField("Sunday", default=False)

    history = AuditTrail()

    class Meta:
        verbose_name = "clinic details"
        verbose_name_plural = "clinic details"

    def __str__(self):
        return self.name

    @classmethod
    def current(cls):
        """The saved details, from the cache or in one query; the defaults before any save."""
        details = cache.get(DETAILS_CACHE_KEY)
        if details is None:
            details = cls.objects.order_by("pk").first() or cls()
            cache.set(DETAILS_CACHE_KEY, details, DETAILS_CACHE_SECONDS)
        return details

    def clean(self):
        if not any(self.open_on(day) for day in range(7)):
            raise ValidationError("The clinic needs at least one opening day.")

    def open_on(self, weekday):
        """Whether the clinic opens on `weekday` (0 = Monday, as date.weekday() counts)."""
        return getattr(self, f"open_{self.WEEKDAYS[weekday]}")

    def opening_days_display(self):
        """ "Monday to Saturday" or "Monday, Wednesday, Friday"."""
        days = [
            day.capitalize() for number, day in enumerate(self.WEEKDAYS) if self.open_on(number)
        ]
        numbers = [number for number in range(7) if self.open_on(number)]
        if len(days) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"{days[0]} to {days[-1]}"
        return ", ".join(days)

    def next_opening_day(self, day):
        """`day` if the clinic opens then, else the next day it does."""
        for offset in range(7):
            candidate = day + datetime.timedelta(days=offset)
            if self.open_on(candidate.weekday()):
                return candidate
        return day


DETAILS_CACHE_KEY = "catalogue:clinic-details:v1"
DETAILS_CACHE_SECONDS = 300


def forget_clinic_details():
    cache.delete(DETAILS_CACHE_KEY)


@receiver(post_save, sender=ClinicDetails)
def _details_changed(**kwargs):
    forget_clinic_details()
    transaction.on_commit(forget_clinic_details)
