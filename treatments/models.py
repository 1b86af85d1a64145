"""What micro-needling offers (the catalogue) and what was done (courses and sessions)."""

import datetime
import uuid
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from catalogue.models import (
    DEPTH_MAX,
    DEPTH_MESSAGE,
    DEPTH_MIN,
    DEPTH_VALIDATORS,
    BodyArea,
    Product,
    area_chart,
)
from clinic.formats import day
from clinic.history import AuditTrail
from clinic.models import NOTE_MAX_LENGTH, REASON_MAX_LENGTH, Stamped, Voidable
from consent.services import found_in, session_consent_annotations
from consultations.models import Client, Consultation, RecordedConcern
from stock.models import Lot


class Device(models.TextChoices):
    """Needling devices: what a session used, and what a course plans to use."""

    PEN = "pen", "Motorised pen"
    ROLLER = "roller", "Roller"
    STAMP = "stamp", "Stamp"
    RF = "rf", "Radiofrequency micro-needling"


class CourseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Course.Status.ACTIVE)

    def due_by(self, date):
        """Active courses whose next session is due on or before `date`."""
        return self.active().filter(next_due_on__lte=date)

    def overdue(self, today=None):
        return self.active().filter(next_due_on__lt=today or timezone.localdate())

    def with_concerns(self):
        """Courses with their concerns and the concerns' catalogue entries, in one more query
        for all of them: what `concern_names` reads, for pages listing many courses."""
        return self.prefetch_related(
            models.Prefetch(
                "course_concerns",
                queryset=CourseConcern.objects.select_related(
                    "recorded_concern__concern", "recorded_concern__area"
                ),
            )
        )

    def locked_with_counts(self):
        """Courses locked until the transaction ends (their own rows, not the rows joined to
        them), then their concerns with their sessions' figures (`Course.session_counts()`).

        The client's valid consents ride along too (consent.services.found_in()).

        Lock first, then count. Under READ COMMITTED a statement sees what was committed when
        it began: counts read in the statement that waits for the lock would miss the sessions
        the transaction holding it logged or voided. The figures ride on the concerns' query,
        the statement after the lock, which the session form and the services read anyway.
        """
        sessions = (
            TreatmentSession.objects.filter(course=OuterRef("course")).order_by().values("course")
        )
        valid = sessions.filter(voided_at__isnull=True)
        concerns = CourseConcern.objects.select_related("recorded_concern__concern").annotate(
            highest_number=Subquery(sessions.annotate(value=Max("number")).values("value")),
            valid_count=Coalesce(Subquery(valid.annotate(value=Count("pk")).values("value")), 0),
            last_valid_on=Subquery(valid.annotate(value=Max("performed_on")).values("value")),
            # Whether any booking waits on the course: logging a session then marks the day's
            # appointment attended, and a course without one reads no appointment at all.
            has_booking=Exists(
                Appointment.objects.filter(
                    course=OuterRef("course"), status=Appointment.Status.BOOKED
                )
            ),
            # The client's consents a session goes ahead on, read after the lock as well.
            **session_consent_annotations(OuterRef("course__client")),
        )
        return self.select_for_update(of=("self",)).prefetch_related(
            models.Prefetch("course_concerns", queryset=concerns)
        )


class SessionCounts(NamedTuple):
    """A course's sessions counted: `highest_number` among all of them (voided ones keep
    their number), `valid` and `last_valid_on` among those that count."""

    highest_number: int | None
    valid: int
    last_valid_on: datetime.date | None
    has_booking: bool = True  # unknown: look


class Course(Stamped):
    """A course of treatment for a client's recorded concerns."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="courses")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="courses")
    concerns = models.ManyToManyField(
        RecordedConcern, through="CourseConcern", related_name="courses"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="courses",
        help_text="The practitioner leading the course.",
    )
    start_date = models.DateField(default=timezone.localdate)
    suggested_sessions_min = models.PositiveSmallIntegerField(null=True, blank=True)
    suggested_sessions_max = models.PositiveSmallIntegerField(null=True, blank=True)
    suggested_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The catalogue's suggestion when the course started."
    )
    suggested_interval_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    planned_sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    interval_weeks = models.PositiveSmallIntegerField(
        "interval (weeks)", validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text="Why the course was stopped or completed early.",
    )
    stopped_for_adverse_event = models.BooleanField(
        "stopped for an adverse event",
        default=False,
        help_text="The course was stopped because of an adverse event: the client is not "
        "offered maintenance.",
    )
    override_reason = models.TextField(
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text="Required to start a course in an area the screening found not suitable.",
    )
    override_areas = models.JSONField(
        "areas overridden",
        default=list,
        blank=True,
        editable=False,
        help_text="The areas of the screening's findings that the override reason covers "
        "('all': findings in every area); sessions there are allowed.",
    )
    device = models.CharField(
        "planned device",
        max_length=10,
        choices=Device,
        blank=True,
        help_text="The device the course plans to use; rosacea's evidence is for RF "
        "micro-needling only.",
    )
    departure_reason = models.TextField(
        "why the course departs from the catalogue",
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text="Required when the interval is shorter than a concern's shortest, the count "
        "passes a concern's maximum, a concern has no established course, or a concern studied "
        "with RF micro-needling is planned with another device.",
    )
    cautions_acknowledged = models.BooleanField(
        default=False, help_text="The practitioner weighed the screening cautions."
    )
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    # Kept up to date by the services that log sessions, for fast lists at any size.
    sessions_logged = models.PositiveSmallIntegerField(default=0, editable=False)
    last_session_on = models.DateField(null=True, blank=True, editable=False)
    next_due_on = models.DateField(
        "next session due", null=True, blank=True, editable=False, db_index=True
    )

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = "treatment course"
        permissions = [("view_reports", "Can view the managers' reports")]
        indexes = [
            models.Index(fields=["status", "next_due_on", "id"], name="course_status_due_idx"),
            models.Index(fields=["client", "status"], name="course_client_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1) & Q(planned_sessions__lte=52),
                name="course_planned_sessions_range",
                violation_error_message="A course has between 1 and 52 sessions.",
            ),
            models.CheckConstraint(
                condition=Q(interval_weeks__gte=1) & Q(interval_weeks__lte=52),
                name="course_interval_range",
                violation_error_message="The interval is between 1 and 52 weeks.",
            ),
            models.CheckConstraint(
                condition=~Q(status="stopped") | ~Q(end_reason=""),
                name="course_stopped_has_reason",
                violation_error_message="Say why the course was stopped.",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(ended_on__isnull=False),
                name="course_ended_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.client}: {self.concern_names or 'course'} from {day(self.start_date)}"

    def get_absolute_url(self):
        return reverse("treatments:course-detail", kwargs={"pk": self.pk})

    @property
    def concern_names(self):
        """The course's concerns: "Acne scars (cheeks and chin), Melasma (face)". A list of
        courses reads them with CourseQuerySet.with_concerns()."""
        return ", ".join(str(pc.recorded_concern) for pc in self.course_concerns.all())

    @property
    def progress_label(self):
        return f"session {self.sessions_logged} of {self.planned_sessions}"

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    def is_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.is_active and self.next_due_on is not None and self.next_due_on < today

    def clean(self):
        super().clean()
        errors = {}
        if self.planned_sessions is not None and not 1 <= self.planned_sessions <= 52:
            errors["planned_sessions"] = "Plan between 1 and 52 sessions."
        if self.interval_weeks is not None and not 1 <= self.interval_weeks <= 52:
            errors["interval_weeks"] = "The interval must be between 1 and 52 weeks."
        if self.status == self.Status.STOPPED and not self.end_reason.strip():
            errors["end_reason"] = "Say why the course was stopped."
        if self.status != self.Status.ACTIVE and not self.ended_on:
            errors["ended_on"] = "Give the date the course ended."
        if errors:
            raise ValidationError(errors)

    def refresh_progress(self, counted=None):
        """Recount logged sessions and the next due date from the sessions themselves.

        `counted`: {"logged": n, "last": date} when the caller has just counted the sessions that
        count (under the course's lock), to spare the query.
        """
        if counted is None:
            counted = {"logged": 0, "last": None}
            if self.pk:
                counted = self.sessions.valid().aggregate(
                    logged=Count("pk"), last=Max("performed_on")
                )
        self.sessions_logged = counted["logged"]
        self.last_session_on = counted["last"]
        if not self.is_active:
            self.next_due_on = None
        elif self.last_session_on:
            self.next_due_on = self.last_session_on + datetime.timedelta(weeks=self.interval_weeks)
        else:
            self.next_due_on = self.start_date

    def session_counts(self):
        """The course's SessionCounts as `Course.objects.locked_with_counts()` read them, after
        taking its lock; None for a course read otherwise.

        A course without concerns (none is started so) is counted here, under the same lock.
        """
        links = list(self.course_concerns.all())
        if not links:
            counted = self.sessions.aggregate(
                highest=Max("number"),
                valid=Count("pk", filter=Q(voided_at__isnull=True)),
                last=Max("performed_on", filter=Q(voided_at__isnull=True)),
            )
            return SessionCounts(counted["highest"], counted["valid"], counted["last"])
        first = links[0]
        if not hasattr(first, "valid_count"):
            return None
        return SessionCounts(
            first.highest_number, first.valid_count, first.last_valid_on, first.has_booking
        )

    def consents_found(self):
        """The client's valid consents ({kind: states}) as `locked_with_counts()` read them
        after the lock; None for a course read otherwise (or without concerns)."""
        links = list(self.course_concerns.all())
        if not links or not hasattr(links[0], "consent_treatment"):
            return None
        return found_in(links[0])


class CourseConcern(models.Model):
    """A recorded concern that a course addresses, and how many of its sessions treat it."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="course_concerns")
    recorded_concern = models.ForeignKey(
        RecordedConcern, on_delete=models.PROTECT, related_name="course_links"
    )
    planned_sessions = models.PositiveSmallIntegerField(
        "planned sessions for this concern",
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="The course's sessions, up to the concern's maximum: treatment of the concern "
        "stops there.",
    )

    history = AuditTrail()

    class Meta:
        ordering = ["course", "pk"]
        verbose_name = "concern treated"
        constraints = [
            models.UniqueConstraint(
                fields=["course", "recorded_concern"], name="courseconcern_once_per_course"
            ),
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1) & Q(planned_sessions__lte=52),
                name="courseconcern_planned_sessions_range",
                violation_error_message="A concern is planned for between 1 and 52 sessions.",
            ),
        ]

    def __str__(self):
        return str(self.recorded_concern)

    @staticmethod
    def planned_for(concern, course_sessions):
        """How many of a course's `course_sessions` treat `concern`: all of them, up to the
        concern's maximum (none: every session)."""
        if concern.sessions_max is None:
            return course_sessions
        return min(course_sessions, concern.sessions_max)


class ContactAttempt(Stamped):
    """A recall call, message or e-mail to a client, and how it went."""

    class Reason(models.TextChoices):
        DUE = "due", "Session due or overdue"
        MAINTENANCE = "maintenance", "Maintenance after a course"
        LOT_RECALL = "lot_recall", "Lot recall"

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", "Contacted, no booking yet"
        NO_ANSWER = "no_answer", "No answer"
        BOOKED = "booked", "Booked"
        DECLINED = "declined", "Declined"
        DO_NOT_CONTACT = "do_not_contact", "Do not contact"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contact_attempts")
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_attempts",
        help_text="The course the recall is about.",
    )
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_attempts",
        help_text="The recalled lot the client was told about.",
    )
    reason = models.CharField(max_length=20, choices=Reason)
    outcome = models.CharField(max_length=20, choices=Outcome)
    attempted_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        db_table = "consultations_contactattempt"  # the table it had in consultations
        ordering = ["-attempted_at", "-pk"]
        indexes = [
            models.Index(fields=["client", "attempted_at"], name="contact_client_idx"),
            models.Index(fields=["course", "attempted_at"], name="contact_course_idx"),
            models.Index(fields=["lot", "client"], name="contact_lot_idx"),
        ]

    def __str__(self):
        return f"{self.client}: {self.get_outcome_display()} ({day(self.attempted_at)})"


class AppointmentQuerySet(models.QuerySet):
    def booked(self):
        return self.filter(status=Appointment.Status.BOOKED)

    def upcoming(self, today=None):
        """Booked appointments on or after `today` (default: the clinic's today)."""
        return self.booked().filter(date__gte=today or timezone.localdate())


class Appointment(Stamped):
    """A booked visit: when, with whom, for which course. Never deleted: a booking that does not
    happen is cancelled or marked missed, so the record shows it."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="appointments")
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        help_text="The course the visit continues; empty for a visit to discuss a new one.",
    )
    date = models.DateField()
    time = models.TimeField()
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.BOOKED)
    note = models.CharField(max_length=200, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["date", "time", "pk"]
        indexes = [
            # Today's appointments, and "is this course or client booked from today on?".
            models.Index(fields=["status", "date", "time"], name="appointment_day_idx"),
            models.Index(fields=["course", "status", "date"], name="appointment_course_idx"),
            models.Index(fields=["client", "status", "date"], name="appointment_client_idx"),
        ]

    def __str__(self):
        return f"{self.client}: {self.date:%d %b %Y} at {self.time:%H:%M}"

    def get_absolute_url(self):
        return reverse("treatments:client-detail", kwargs={"pk": self.client_id})

    def clean(self):
        super().clean()
        if self.course_id and self.client_id and self.course.client_id != self.client_id:
            raise ValidationError({"course": "This course belongs to another client."})


class SessionQuerySet(models.QuerySet):
    def valid(self):
        """Sessions that count: not voided."""
        return self.filter(voided_at__isnull=True)

    def with_details(self):
        return self.select_related("course__client", "practitioner", "numbing").prefetch_related(
            areas_with_names(),
            "products_used__product",
            models.Prefetch(
                "progress",
                queryset=SessionProgress.objects.select_related(
                    "recorded_concern__concern", "recorded_concern__area"
                ),
            ),
        )


def areas_with_names():
    """A session's areas with the areas' names, in the same query: what `area_names` and a
    session area's `str()` read."""
    return models.Prefetch("areas", queryset=SessionArea.objects.select_related("area"))


class TreatmentSession(Voidable, Stamped):
    Device = Device

    class Response(models.TextChoices):
        NONE = "none", "No visible reaction"
        MILD_ERYTHEMA = "mild_erythema", "Mild redness"
        ERYTHEMA = "erythema", "Redness (erythema)"
        PINPOINT_BLEEDING = "pinpoint_bleeding", "Pinpoint bleeding (end point)"
        SWELLING = "swelling", "Swelling"
        ADVERSE = "adverse", "Adverse reaction (see notes)"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(
        editable=False, help_text="Position in the course: session 1, 2, 3..."
    )
    performed_on = models.DateField("date", default=timezone.localdate)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    device = models.CharField(max_length=10, choices=Device, default=Device.PEN)
    device_model = models.CharField(max_length=100, blank=True, help_text="e.g. Dermapen 4.")
    device_serial = models.CharField(
        "device serial number",
        max_length=100,
        blank=True,
        help_text="The pen's or roller's serial number, where the clinic records one.",
    )
    numbing = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Product.Kind.NUMBING},
        verbose_name="numbing cream",
    )
    skin_response = models.CharField(
        "immediate skin response", max_length=20, choices=Response, default=Response.ERYTHEMA
    )
    pain_score = models.PositiveSmallIntegerField(
        "pain (0-10)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
        help_text="As the client rates it: 0 none, 10 worst imaginable.",
    )
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    # The pre-session check (consultations.screening.PRE_SESSION): what changed since the last
    # visit, asked before every session and kept with it.
    check_asked = models.BooleanField(
        "I asked the client what changed since the last visit", default=False
    )
    check_new_infection = models.BooleanField(
        "new infection or cold sore in an area to treat", default=False
    )
    check_pregnant = models.BooleanField("pregnant or breastfeeding now", default=False)
    check_isotretinoin = models.BooleanField("isotretinoin since the last visit", default=False)
    check_new_medicines = models.BooleanField(
        "new medicines, such as anticoagulants", default=False
    )
    check_tan_on = models.DateField(
        "tan or sunburn since the last visit: when",
        null=True,
        blank=True,
        help_text="Leave empty if none.",
    )
    check_reaction = models.BooleanField(
        "a reaction to the last session",
        default=False,
        help_text="Prolonged redness, swelling, pigment change or a breakout.",
    )
    check_retinoids_on = models.DateField(
        "retinoids or acids last used on",
        null=True,
        blank=True,
        help_text="Leave empty if none in the last weeks.",
    )
    check_acknowledged = models.BooleanField(
        "I have weighed the check's cautions with the client", default=False
    )
    depth_reason = models.TextField(
        "why deeper than the area's maximum",
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text="Required when an area is needled deeper than the area chart's maximum.",
    )
    interval_reason = models.TextField(
        "why sooner than the course's interval",
        max_length=REASON_MAX_LENGTH,
        blank=True,
        help_text="Required when the session comes sooner than the course's interval allows.",
    )
    follow_up_on = models.DateField(
        "follow-up call due",
        null=True,
        blank=True,
        editable=False,
        help_text="When to call the client after the session (its concerns' follow-up days); "
        "empty: no call.",
    )

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_on", "-pk"]
        verbose_name = "treatment session"
        indexes = [
            models.Index(fields=["performed_on"], name="session_date_idx"),
            # With the key last, "my sessions, newest first" (Today) reads in index order.
            models.Index(
                fields=["practitioner", "performed_on", "id"], name="session_practitioner_idx"
            ),
            models.Index(fields=["course", "performed_on"], name="session_course_date_idx"),
            models.Index(fields=["follow_up_on"], name="session_follow_up_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="session_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="session_number_positive"),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="session_void_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(pain_score__isnull=True) | Q(pain_score__lte=10),
                name="session_pain_score_range",
                violation_error_message="Pain is scored from 0 to 10.",
            ),
        ]

    def __str__(self):
        return f"Session {self.number} for {self.course.client} on {day(self.performed_on)}"

    def get_absolute_url(self):
        """Sessions are read on their client's page, in the timeline."""
        return reverse("treatments:client-detail", kwargs={"pk": self.course.client_id})

    def clean(self):
        super().clean()
        if self.performed_on and self.performed_on > timezone.localdate():
            raise ValidationError({"performed_on": "A session cannot be logged in the future."})
        if self.pain_score is not None and self.pain_score > 10:
            raise ValidationError({"pain_score": "Pain is scored from 0 to 10."})
        if self.numbing is not None and self.numbing.kind != Product.Kind.NUMBING:
            raise ValidationError({"numbing": "Choose a numbing cream (or none)."})
        if self.number is not None and self.number < 1:
            raise ValidationError("Sessions are numbered from 1.")
        if self.voided_at and not self.void_reason.strip():
            raise ValidationError("Say why this session is voided.")

    @property
    def area_names(self):
        """The areas treated and their depths: "Cheeks and chin at 1.50 mm, Forehead at 0.50 mm".
        A list of sessions reads them with prefetch_related(areas_with_names())."""
        return ", ".join(str(area) for area in self.areas.all())

    def audited_rows(self):
        """The session's areas, products and ratings as each of its audit rows keeps them
        (clinic.history.AuditTrail): the rows a service is writing with it, which it lists by
        kind in `rows_written` before saving the session, and the others as saved."""
        written = getattr(self, "rows_written", {})
        return {
            kind: [
                row.audited()
                for row in (
                    written[kind] if kind in written else model.objects.filter(session=self)
                )
            ]
            for kind, model in SESSION_ROWS.items()
        }

    @staticmethod
    def describe_row_changes(pairs):
        """For (older, newer) pairs of audited rows, the changes each made: a list of
        (label, old, new) texts per pair, products and concerns named in a query each."""
        product_ids, concern_ids = set(), set()
        for pair in pairs:
            for rows in pair:
                product_ids.update(row["product"] for row in rows.get("products", ()))
                concern_ids.update(row["recorded_concern"] for row in rows.get("progress", ()))
        products = Product.objects.in_bulk(product_ids) if product_ids else {}
        concerns = (
            RecordedConcern.objects.select_related("concern", "area").in_bulk(concern_ids)
            if concern_ids
            else {}
        )
        areas = area_chart()

        def text(kind, rows):
            described = [_describe_audited(kind, row, products, concerns, areas) for row in rows]
            return "; ".join(described) or "none"

        changes = []
        for older, newer in pairs:
            changes.append(
                [
                    (model._meta.verbose_name_plural, text(kind, old), text(kind, new))
                    for kind, model in SESSION_ROWS.items()
                    if (old := older.get(kind, [])) != (new := newer.get(kind, []))
                ]
            )
        return changes


class SessionArea(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="areas")
    area = models.ForeignKey(
        BodyArea,
        to_field="code",
        db_index=False,  # few areas, never deleted once used: no index to keep on every write
        db_column="area",  # the codes it kept when areas were a fixed list
        on_delete=models.PROTECT,
        related_name="+",
    )
    depth_mm = models.DecimalField(
        "needle depth (mm)", max_digits=3, decimal_places=2, validators=DEPTH_VALIDATORS
    )

    class Meta:
        ordering = ["session", "pk"]
        verbose_name = "area treated"
        verbose_name_plural = "areas treated"
        constraints = [
            models.CheckConstraint(
                condition=Q(depth_mm__gte=DEPTH_MIN) & Q(depth_mm__lte=DEPTH_MAX),
                name="sessionarea_depth_range",
                violation_error_message=DEPTH_MESSAGE,
            ),
            models.UniqueConstraint(fields=["session", "area"], name="sessionarea_once_per_area"),
        ]

    def __str__(self):
        return f"{self.area.name} at {self.depth_mm:.2f} mm"

    def audited(self):
        return {"area": self.area_id, "depth_mm": f"{Decimal(self.depth_mm):.2f}"}

    def clean(self):
        super().clean()
        if self.depth_mm is not None and not DEPTH_MIN <= self.depth_mm <= DEPTH_MAX:
            raise ValidationError({"depth_mm": DEPTH_MESSAGE})


class SessionProduct(models.Model):
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="products_used"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="uses")
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        related_name="uses",
        help_text="The lot from stock, so a manufacturer recall can be traced.",
    )
    lot_number = models.CharField(
        max_length=50,
        help_text="The lot's number as it was recorded (kept for the history of the session).",
    )

    class Meta:
        ordering = ["session", "pk"]
        verbose_name = "product applied"
        verbose_name_plural = "products applied"
        indexes = [models.Index(fields=["product", "lot_number"], name="sessionproduct_lot_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(lot_number=""), name="sessionproduct_lot_given"),
        ]

    def __str__(self):
        return f"{self.product} (lot {self.lot_number})"

    def audited(self):
        return {"product": self.product_id, "lot_number": self.lot_number}


class SessionProgress(models.Model):
    class Rating(models.IntegerChoices):
        WORSE = 0, "Worse"
        NO_CHANGE = 1, "No change"
        SLIGHT = 2, "Slight improvement"
        MODERATE = 3, "Moderate improvement"
        MARKED = 4, "Marked improvement"
        RESOLVED = 5, "Resolved"
        # No rating: the practitioner chose "not assessed" (never a default).
        __empty__ = "Not assessed"

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="progress")
    recorded_concern = models.ForeignKey(
        RecordedConcern, on_delete=models.PROTECT, related_name="progress"
    )
    practitioner_rating = models.PositiveSmallIntegerField(
        choices=Rating,
        null=True,
        blank=True,
        help_text="Empty when the practitioner did not assess this concern at the session.",
    )
    client_rating = models.PositiveSmallIntegerField(
        choices=Rating, null=True, blank=True, help_text="How the client sees it."
    )

    class Meta:
        ordering = ["session", "pk"]
        verbose_name = "progress rating"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "recorded_concern"], name="sessionprogress_once_per_concern"
            ),
            models.CheckConstraint(
                condition=(Q(practitioner_rating__isnull=True) | Q(practitioner_rating__lte=5))
                & (Q(client_rating__isnull=True) | Q(client_rating__lte=5)),
                name="sessionprogress_rating_range",
            ),
        ]

    def __str__(self):
        return f"{self.recorded_concern}: {self.get_practitioner_rating_display()}"

    @classmethod
    def rating_label(cls, rating):
        """A stored rating in words; None is "Not assessed"."""
        return cls.Rating(rating).label if rating is not None else cls.Rating.__empty__

    def audited(self):
        return {
            "recorded_concern": self.recorded_concern_id,
            "practitioner_rating": self.practitioner_rating,
            "client_rating": self.client_rating,
        }


# A session's own rows by the name its audit rows keep them under (TreatmentSession.audited_rows).
SESSION_ROWS = {"areas": SessionArea, "products": SessionProduct, "progress": SessionProgress}


def _describe_audited(kind, row, products, concerns, areas):
    """One row as an audit row keeps it (`audited()`), in words; `areas`: the area chart."""
    if kind == "areas":
        return f"{areas.name(row['area'])} {row['depth_mm']} mm"
    if kind == "products":
        product = products.get(row["product"], f"product #{row['product']}")
        return f"{product}, lot {row['lot_number']}"
    concern = concerns.get(row["recorded_concern"], f"concern #{row['recorded_concern']}")
    text = f"{concern}: {SessionProgress.rating_label(row['practitioner_rating'])}"
    if row["client_rating"] is not None:
        text += f" (client: {SessionProgress.rating_label(row['client_rating'])})"
    return text


def photo_storage():
    """Private storage for photos: never under a public media or static URL (see settings)."""
    return storages["photos"]


def photo_path(photo, filename):
    return f"clients/{photo.client_id}/{uuid.uuid4().hex}.jpg"


def thumbnail_path(photo, filename):
    return f"clients/{photo.client_id}/thumbs/{uuid.uuid4().hex}.jpg"


class Photo(Stamped):
    """A before-and-after photo of one area from one angle, at a session or a consultation."""

    class Angle(models.TextChoices):
        FRONT = "front", "Front"
        LEFT = "left", "Left"
        RIGHT = "right", "Right"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="photos")
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photos",
        help_text="A 'before' photo taken at the consultation.",
    )
    area = models.ForeignKey(
        BodyArea,
        to_field="code",
        db_index=False,  # few areas, never deleted once used: no index to keep on every write
        db_column="area",  # the codes it kept when areas were a fixed list
        on_delete=models.PROTECT,
        related_name="+",
    )
    angle = models.CharField(max_length=10, choices=Angle, default=Angle.FRONT)
    taken_on = models.DateField(default=timezone.localdate)
    image = models.ImageField(storage=photo_storage, upload_to=photo_path, max_length=200)
    thumbnail = models.ImageField(storage=photo_storage, upload_to=thumbnail_path, max_length=200)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["area_id", "angle", "taken_on", "pk"]
        indexes = [
            models.Index(
                fields=["client", "area", "angle", "taken_on"], name="photo_client_area_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=True, consultation__isnull=False)
                | Q(session__isnull=False, consultation__isnull=True),
                name="photo_session_or_consultation",
                violation_error_message="A photo belongs to a session or to a consultation.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.client}: {self.area.name}, {self.get_angle_display().lower()}, "
            f"{day(self.taken_on)}"
        )


class AdverseEvent(Stamped):
    """A reaction after a session, recorded and followed until it resolves; never deleted.

    Through its session it is tied to the lots used, the device and the depths."""

    class Kind(models.TextChoices):
        PROLONGED_ERYTHEMA = "prolonged_erythema", "Prolonged erythema (over 3 days)"
        SWELLING = "swelling", "Swelling"
        INFECTION = "infection", "Infection"
        COLD_SORE = "cold_sore", "Cold-sore reactivation"
        PIH = "pih", "Post-inflammatory hyperpigmentation"
        TRAM_TRACK = "tram_track", "Tram-track marks"
        GRANULOMA = "granuloma", "Granuloma"
        ALLERGIC = "allergic", "Allergic or contact reaction"
        ACNE_FLARE = "acne_flare", "Acne flare"
        MILIA = "milia", "Milia"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Outcome(models.TextChoices):
        ONGOING = "ongoing", "Ongoing"
        IMPROVING = "improving", "Improving"
        RESOLVED = "resolved", "Resolved"
        RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with a lasting change"

    class Reporter(models.TextChoices):
        CLIENT = "client", "The client"
        FOLLOW_UP = "follow_up", "The client, at the follow-up call"
        PRACTITIONER = "practitioner", "A practitioner of the clinic"
        OTHER_CLINICIAN = "other_clinician", "Another clinician (GP, dermatologist)"

    RESOLVED = (Outcome.RESOLVED, Outcome.RESOLVED_WITH_SEQUELAE)

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=30, choices=Kind)
    kind_detail = models.CharField(
        "what it was", max_length=200, blank=True, help_text="Required for 'other'."
    )
    onset_on = models.DateField("onset", default=timezone.localdate)
    severity = models.CharField(max_length=10, choices=Severity)
    action_taken = models.TextField(
        blank=True, help_text="Advice given, treatment, referral (GP, dermatologist)."
    )
    outcome = models.CharField(max_length=30, choices=Outcome, default=Outcome.ONGOING)
    resolved_on = models.DateField("resolved on", null=True, blank=True)
    reported_by = models.CharField(max_length=20, choices=Reporter, default=Reporter.CLIENT)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-onset_on", "-pk"]
        indexes = [models.Index(fields=["session", "onset_on"], name="adverseevent_session_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True)
                | Q(outcome__in=["resolved", "resolved_with_sequelae"]),
                name="adverseevent_resolved_date_when_resolved",
                violation_error_message="Only a resolved event has a resolved date.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=F("onset_on")),
                name="adverseevent_resolved_after_onset",
                violation_error_message="An event resolves on or after its onset.",
            ),
        ]

    def __str__(self):
        severity = self.get_severity_display().lower()
        return f"{self.get_kind_display()} ({severity}), {self.onset_on:%d %b %Y}"

    def get_absolute_url(self):
        return reverse("treatments:adverse-event-update", kwargs={"pk": self.pk})

    @property
    def is_resolved(self):
        return self.outcome in self.RESOLVED

    def clean(self):
        super().clean()
        errors = {}
        today = timezone.localdate()
        if self.kind == self.Kind.OTHER and not self.kind_detail.strip():
            errors["kind_detail"] = "Say what the reaction was."
        if self.onset_on and self.onset_on > today:
            errors["onset_on"] = "The onset cannot be in the future."
        elif self.onset_on and self.session_id and self.onset_on < self.session.performed_on:
            errors["onset_on"] = (
                f"The session was on {self.session.performed_on:%d %b %Y}: an event after it "
                "starts on or after that day."
            )
        if self.outcome in self.RESOLVED and not self.resolved_on:
            errors["resolved_on"] = "Give the date it resolved."
        elif self.outcome not in self.RESOLVED and self.resolved_on:
            errors["resolved_on"] = "Only a resolved event has a resolved date: choose its outcome."
        elif self.resolved_on and self.resolved_on > today:
            errors["resolved_on"] = "The resolved date cannot be in the future."
        elif self.resolved_on and self.onset_on and self.resolved_on < self.onset_on:
            errors["resolved_on"] = "An event resolves on or after its onset."
        if errors:
            raise ValidationError(errors)


class FollowUpCall(Stamped):
    """The call 48-72 hours after a session: how the skin settled. Recording it takes the
    session off Today's call list."""

    class Outcome(models.TextChoices):
        FINE = "fine", "Fine: settling as expected"
        REACTION = "reaction", "Reaction reported"
        NO_ANSWER = "no_answer", "No answer (stop calling)"

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="follow_up_call"
    )
    outcome = models.CharField(max_length=20, choices=Outcome)
    called_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-called_at", "-pk"]
        verbose_name = "follow-up call"

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.called_at:%d %b %Y})"
