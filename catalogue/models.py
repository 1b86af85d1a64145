"""Reference data both workflows read: the concern catalogue, treatment areas and products.

Managers keep it in the admin; migrations load the shipped rows. Nothing here depends on
clients, consultations or sessions.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from clinic.history import AuditTrail

DEPTH_MIN = Decimal("0.25")
DEPTH_MAX = Decimal("3.00")
DEPTH_VALIDATORS = [MinValueValidator(DEPTH_MIN), MaxValueValidator(DEPTH_MAX)]
DEPTH_MESSAGE = "Needle depth must be between 0.25 and 3.0 mm."


class Area(models.TextChoices):
    """Treatment areas, from the device makers' depth charts."""

    FACE = "face", "Full face"
    FOREHEAD = "forehead", "Forehead"
    PERIORBITAL = "periorbital", "Around the eyes"
    PERIORAL = "perioral", "Around the mouth"
    CHEEKS = "cheeks", "Cheeks and chin"
    NECK = "neck", "Neck"
    DECOLLETE = "decollete", "Décolleté"
    ARMS = "arms", "Arms"
    HANDS = "hands", "Hands"
    BACK = "back", "Back"
    ABDOMEN = "abdomen", "Abdomen"
    BUTTOCKS = "buttocks", "Buttocks"
    THIGHS = "thighs", "Thighs"
    SCALP = "scalp", "Scalp"


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


class Product(models.Model):
    class Kind(models.TextChoices):
        SERUM = "serum", "Serum"
        NUMBING = "numbing", "Numbing cream"
        AFTERCARE = "aftercare", "Aftercare"

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=Kind)
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
