"""Who the client is and what they asked for: clients, consultations and recorded concerns."""

import datetime
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import Q
from django.db.models.functions import Lower, Replace
from django.urls import reverse
from django.utils import timezone

from catalogue.models import BodyArea, Concern, area_chart
from clinic.formats import day
from clinic.history import AuditTrail
from clinic.models import NOTE_MAX_LENGTH, Stamped, Voidable
from consultations import screening


class Joined(models.Func):
    """SQL's `||` over text columns that are never NULL: plain enough to index."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = models.TextField()


SEARCHED_FIELDS = ("first_name", "last_name", "email", "phone")


def search_text():
    """What the client search reads: names, email and phone in one text.

    On PostgreSQL a trigram index covers exactly this expression as `icontains` compiles it
    (migration 0007), so one index answers a word wherever it appears in a client's details.
    """
    parts = []
    for name in SEARCHED_FIELDS:
        parts += [models.F(name), models.Value(" ")]
    return Joined(*parts[:-1])


def squashed(text):
    """`text` as the duplicate check compares it: lower case, without spaces."""
    return "".join((text or "").split()).lower()


def _squashed(field):
    return Replace(Lower(field), models.Value(" "), models.Value(""))


class ClientQuerySet(models.QuerySet):
    def current(self):
        return self.filter(archived=False)

    def possible_duplicates(self, *, first_name, last_name, date_of_birth, email="", phone=""):
        """Clients who may be the person described: the same name and date of birth, or the
        same phone or email, ignoring case and spaces (`Client.matches()` says which)."""
        same_person = Q()
        if first_name and last_name and date_of_birth:
            same_person |= Q(
                date_of_birth=date_of_birth,
                first_squashed=squashed(first_name),
                last_squashed=squashed(last_name),
            )
        if squashed(email):
            same_person |= Q(email_squashed=squashed(email))
        if squashed(phone):
            same_person |= Q(phone_squashed=squashed(phone))
        if not same_person:
            return self.none()
        return self.alias(
            first_squashed=_squashed("first_name"),
            last_squashed=_squashed("last_name"),
            email_squashed=_squashed("email"),
            phone_squashed=_squashed("phone"),
        ).filter(same_person)

    def search(self, text):
        """Clients whose name, email or phone contains every word of `text`, in any case."""
        words = text.split()
        if not words:
            return self
        if connections[self.db].vendor == "postgresql":
            # The trigram index covers the joined text (search_text()).
            query = self.alias(search_text=search_text())
            for word in words:
                query = query.filter(search_text__icontains=word)
            return query
        # Without that index every client is read: each word is looked for field by field, which
        # SQLite does in less than half the time of joining the fields first. A word holds no
        # space, so none can run across two fields: the same clients are found either way.
        query = self
        for word in words:
            query = query.filter(
                Q(*(Q(**{f"{name}__icontains": word}) for name in SEARCHED_FIELDS), _connector=Q.OR)
            )
        return query


class Client(Stamped):
    class SkinType(models.TextChoices):
        I = "I", "I: always burns, never tans"  # noqa: E741
        II = "II", "II: usually burns, tans minimally"
        III = "III", "III: sometimes burns, tans gradually"
        IV = "IV", "IV: rarely burns, tans easily"
        V = "V", "V: very rarely burns, brown skin"
        VI = "VI", "VI: never burns, dark brown to black skin"

    PIGMENT_RISK_SKIN_TYPES = {SkinType.IV, SkinType.V, SkinType.VI}

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    skin_type = models.CharField(
        "Fitzpatrick skin type",
        max_length=3,
        choices=SkinType,
        help_text="Types IV-VI are more prone to post-inflammatory hyperpigmentation.",
    )
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    archived = models.BooleanField(
        default=False,
        help_text="Archived clients are hidden from daily lists; their records are kept.",
    )
    do_not_contact = models.BooleanField(
        default=False, help_text="The client asked not to be contacted for recalls."
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="client_name_idx"),
            models.Index(fields=["email"], name="client_email_idx"),
            models.Index(fields=["phone"], name="client_phone_idx"),
            models.Index(fields=["date_of_birth"], name="client_dob_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=datetime.date(1900, 1, 1)),
                name="client_date_of_birth_plausible",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("treatments:client-detail", kwargs={"pk": self.pk})

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    def matches(self, *, first_name, last_name, date_of_birth, email="", phone=""):
        """What this client shares with the person described: ["name and date of birth",
        "phone", "email"], compared as possible_duplicates() compares them."""
        found = []
        if (
            self.date_of_birth == date_of_birth
            and squashed(self.first_name) == squashed(first_name)
            and squashed(self.last_name) == squashed(last_name)
        ):
            found.append("name and date of birth")
        if squashed(phone) and squashed(self.phone) == squashed(phone):
            found.append("phone")
        if squashed(email) and squashed(self.email) == squashed(email):
            found.append("email")
        return found

    @property
    def pigment_risk(self):
        return self.skin_type in self.PIGMENT_RISK_SKIN_TYPES

    def clean(self):
        super().clean()
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
        if self.date_of_birth and self.date_of_birth < datetime.date(1900, 1, 1):
            raise ValidationError({"date_of_birth": "Check the date of birth: it is before 1900."})


class Consultation(Voidable, Stamped):
    class Outcome(models.TextChoices):
        SUITABLE = "suitable", "Suitable"
        CAUTIONS = "cautions", "Suitable with cautions"
        NOT_SUITABLE = "not_suitable", "Not suitable / defer"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consultations")
    held_on = models.DateField("date", default=timezone.localdate)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations"
    )

    # Screening: absolute contraindications (do not treat the area).
    infection_in_area = models.BooleanField(
        "active infection in the area", default=False, help_text=screening.HELP["infection"]
    )
    lesion_in_area = models.BooleanField(
        "skin cancer, suspicious lesion or warts in the area", default=False
    )
    keloid_in_area = models.BooleanField("keloid scars in the area", default=False)
    bleeding_disorder = models.BooleanField("bleeding disorder", default=False)
    allergy_metal_or_anaesthetic = models.BooleanField(
        "allergy to metal or to the numbing cream", default=False
    )
    affected_area = models.ForeignKey(
        BodyArea,
        to_field="code",
        db_index=False,  # few areas, never deleted once used: no index to keep on every write
        db_column="affected_area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Before findings had areas of their own: where an infection, lesion or keloid "
        "was found (blank: every area). Findings now record their areas.",
    )
    # Screening: relative contraindications (practitioner decides, caution acknowledged).
    keloid_tendency = models.BooleanField("tendency to keloid scarring", default=False)
    active_acne = models.BooleanField("active acne in the area", default=False)
    cold_sore_history = models.BooleanField("history of cold sores", default=False)
    isotretinoin_recent = models.BooleanField(
        "isotretinoin in the last 6 months", default=False, help_text="Roaccutane and generics."
    )
    anticoagulants = models.BooleanField("takes anticoagulants", default=False)
    thrombosis_history = models.BooleanField(
        "history of thrombosis", default=False, help_text=screening.HELP["thrombosis"]
    )
    immunosuppressed = models.BooleanField(
        "immunosuppression or poor healing",
        default=False,
        help_text=screening.HELP["immunosuppressed"],
    )
    skin_condition_flare = models.BooleanField(
        "eczema, psoriasis or rosacea flare in the area", default=False
    )
    pregnant_or_breastfeeding = models.BooleanField("pregnant or breastfeeding", default=False)
    recent_tan_or_sunburn = models.BooleanField("recent tan or sunburn", default=False)

    consent_given = models.BooleanField(
        default=False, help_text="The client consented to micro-needling as discussed."
    )
    photo_consent = models.BooleanField(
        "consent to photographs",
        default=False,
        help_text="The client agreed to clinical before-and-after photos, kept privately.",
    )
    consent_by = models.CharField(
        "consent given by",
        max_length=200,
        blank=True,
        help_text="The client, or the person consenting on their behalf.",
    )
    consent_at = models.DateTimeField("consent recorded at", null=True, blank=True)
    consent_scope = models.CharField(
        "consent covers",
        max_length=300,
        blank=True,
        default="Micro-needling of the recorded areas, numbing cream and serums",
    )
    outcome = models.CharField(
        max_length=20,
        choices=Outcome,
        default=Outcome.SUITABLE,
        editable=False,
        help_text="Derived from the screening answers and the recorded concerns.",
    )
    screening_findings = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="The findings' kind, area and date, copied from them by refresh_outcome() so "
        "every page reads them with the consultation.",
    )
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["client", "held_on"], name="consultation_client_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_given=False)
                | (Q(consent_at__isnull=False) & ~Q(consent_by="")),
                name="consultation_consent_complete",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="consultation_void_has_reason",
            ),
        ]

    def __str__(self):
        return f"Consultation with {self.client} on {day(self.held_on)}"

    def get_absolute_url(self):
        return reverse("treatments:consultation-detail", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        errors = {}
        if self.held_on and self.held_on > timezone.localdate():
            errors["held_on"] = "A consultation cannot be dated in the future."
        if self.consent_given and not self.consent_by.strip():
            errors["consent_by"] = "Say who gave consent (the client or their representative)."
        if self.consent_given and not self.consent_at:
            self.consent_at = timezone.now()
        if errors:
            raise ValidationError(errors)

    def assess(self):
        """Screening outcome and its reasons, from the answers, the findings and the recorded
        concerns (prefetched with the consultation when the caller read them)."""
        return screening.assess(self, list(self.concerns.all()))

    def screening_age_refusal(self, on):
        """Why this consultation cannot start a course on `on` (it is too old), or ""."""
        months = settings.SCREENING_VALID_MONTHS
        if on < screening.add_months(self.held_on, months):
            return ""
        return (
            f"The consultation was on {day(self.held_on)}: screening older than {months} "
            "months cannot start a new course. Record a new consultation first."
        )

    @property
    def found(self):
        """Its findings (screening.Found), as `screening_findings` keeps them."""
        return [screening.Found.from_json(item) for item in self.screening_findings]

    @cached_property
    def washout_waits(self):
        """{kind: Wait} of the washout rules its findings need: one query, none without them."""
        kinds = screening.washout_kinds(self.found)
        return WashoutRule.waits(kinds) if kinds else {}

    def refresh_outcome(self):
        """Copy the findings onto the consultation, tick the answers they give (an infection
        found on the cheeks is an infection found), and derive the outcome again."""
        findings = [finding.found for finding in self.findings.order_by("pk")]
        self.screening_findings = [found.as_json() for found in findings]
        self.__dict__.pop("washout_waits", None)
        answers = {screening.FINDING_KINDS[found.kind].answer for found in findings} - {""}
        for answer in answers:
            setattr(self, answer, True)
        self.outcome = self.assess().outcome
        self.save(update_fields=["outcome", "screening_findings", *sorted(answers)])


FINDING_KINDS = [(kind, finding.label) for kind, finding in screening.FINDING_KINDS.items()]
WASHOUT_KINDS = list(screening.WASHOUT_KINDS.items())


class WashoutRule(models.Model):
    """How long a washout finding blocks needling (or calls for a caution), after its date.

    One row per kind, shipped by a migration with the domain file's defaults; managers change
    the wait and whether it blocks in the admin.
    """

    class Unit(models.TextChoices):
        DAYS = screening.DAYS, "days"
        WEEKS = screening.WEEKS, "weeks"
        MONTHS = screening.MONTHS, "months"

    kind = models.CharField(max_length=20, choices=WASHOUT_KINDS, unique=True)
    wait_amount = models.PositiveSmallIntegerField(
        "wait", validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    wait_unit = models.CharField("unit", max_length=10, choices=Unit, default=Unit.WEEKS)
    blocks = models.BooleanField(
        "refuses inside the window",
        default=True,
        help_text="Ticked: a course or session inside the window is refused until it clears. "
        "Not ticked: it is a caution the practitioner acknowledges.",
    )
    note = models.TextField(blank=True, help_text="Where the wait comes from.")

    history = AuditTrail()

    class Meta:
        ordering = ["kind"]
        verbose_name = "washout rule"
        constraints = [
            models.CheckConstraint(
                condition=Q(wait_amount__gte=1) & Q(wait_amount__lte=120),
                name="washoutrule_wait_range",
                violation_error_message="The wait is between 1 and 120.",
            ),
        ]

    def __str__(self):
        effect = "refused" if self.blocks else "caution"
        return f"{self.get_kind_display()}: {self.wait} ({effect})"

    @property
    def wait(self):
        return screening.Wait(self.wait_amount, self.wait_unit, self.blocks)

    @classmethod
    def waits(cls, kinds):
        """{kind: Wait} for `kinds`, in one query."""
        return {rule.kind: rule.wait for rule in cls.objects.filter(kind__in=kinds)}


class ScreeningFinding(Stamped):
    """Something found at screening in one area (or in every area), or with a date that lapses:
    an infection, lesion or keloid where it is; a peel, laser or filler in an area, isotretinoin
    or a tan with its date. Several per consultation; one area each."""

    consultation = models.ForeignKey(
        "Consultation", on_delete=models.PROTECT, related_name="findings"
    )
    kind = models.CharField("finding", max_length=20, choices=FINDING_KINDS)
    area = models.CharField(
        max_length=20,
        blank=True,
        help_text="The area's code in the area chart. Blank: it affects every area.",
    )
    on = models.DateField(
        "date",
        null=True,
        blank=True,
        help_text="For a finding that lapses: the last dose, the procedure or the sunburn.",
    )
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["consultation", "pk"]
        verbose_name = "screening finding"
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "kind", "area"],
                name="screeningfinding_once_per_area",
                violation_error_message="This finding is already recorded for that area.",
            ),
        ]

    def __str__(self):
        where = area_chart().name(self.area).lower() if self.area else "every area"
        text = f"{self.get_kind_display()} ({where})"
        return f"{text}, {day(self.on)}" if self.on else text

    @property
    def found(self):
        return screening.Found(self.kind, self.area or "", self.on)

    def clean(self):
        super().clean()
        kind = screening.FINDING_KINDS.get(self.kind)
        if kind is None:
            return
        errors = {}
        if kind.area == "required" and not self.area:
            errors["area"] = "Choose the area it was in."
        if kind.area == "none" and self.area:
            errors["area"] = "It affects every area: leave the area empty."
        elif self.area and self.area not in area_chart():
            errors["area"] = "Choose an area of the area chart."
        if kind.washout and self.on is None:
            errors["on"] = "Give the date: the wait runs from it."
        if not kind.washout and self.on is not None:
            errors["on"] = "This finding does not lapse: leave the date empty."
        if self.on and self.on > timezone.localdate():
            errors["on"] = "This date is in the future."
        if errors:
            raise ValidationError(errors)


class RecordedConcern(Stamped):
    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="concerns"
    )
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="recorded")
    area = models.ForeignKey(
        BodyArea,
        to_field="code",
        db_index=False,  # few areas, never deleted once used: no index to keep on every write
        db_column="area",  # the codes it kept when areas were a fixed list
        on_delete=models.PROTECT,
        related_name="+",
    )
    severity = models.CharField(max_length=10, choices=Severity, default=Severity.MODERATE)
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["consultation", "pk"]
        verbose_name = "recorded concern"
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "concern", "area"],
                name="recordedconcern_once_per_area",
                violation_error_message="This concern is already recorded for that area.",
            ),
        ]

    def __str__(self):
        """How a recorded concern reads in lists: "Acne scars (cheeks and chin)"."""
        return f"{self.concern} ({self.area.name.lower()})"


class ClientAccess(models.Model):
    """Someone opened a client's record: who, which client, when, and where."""

    class Via(models.TextChoices):
        WORKSPACE = "workspace", "Workspace"
        ADMIN = "admin", "Admin"
        EXPORT = "export", "Export"
        PHOTO = "photo", "Photo viewed"
        API = "api", "API"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_accesses"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="accesses")
    accessed_at = models.DateTimeField(default=timezone.now, db_index=True)
    via = models.CharField(max_length=10, choices=Via)
    what = models.CharField(
        max_length=200, blank=True, help_text="What was read: a course, a printout, an export."
    )

    class Meta:
        ordering = ["-accessed_at", "-pk"]
        verbose_name = "client record access"
        verbose_name_plural = "client record accesses"
        indexes = [
            models.Index(fields=["client", "accessed_at"], name="clientaccess_client_idx"),
            models.Index(fields=["user", "accessed_at"], name="clientaccess_user_idx"),
        ]

    def __str__(self):
        return f"{self.user} opened {self.client} ({self.get_via_display()})"

    @classmethod
    def record(cls, *, user, client, via, what=""):
        return cls.objects.create(
            user=user, client_id=getattr(client, "pk", client), via=via, what=what[:200]
        )

    @classmethod
    def record_many(cls, *, user, clients, via, what=""):
        """One row per client listed on a page (a report), in one insert."""
        ids = dict.fromkeys(getattr(client, "pk", client) for client in clients)
        return cls.objects.bulk_create(
            cls(user=user, client_id=client_id, via=via, what=what[:200]) for client_id in ids
        )
