"""Course suggestion and the writes that span several treatment models."""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from catalogue.models import DEPTH_MAX, DEPTH_MESSAGE, DEPTH_MIN, area_chart, area_code, mm
from clinic.formats import day
from clinic.locking import check_version
from consent.services import treatment_refusals
from consultations.models import Consultation
from consultations.screening import PRE_SESSION_FIELDS
from consultations.services import blocking_areas, check_session, course_refusals
from stock.models import Lot
from stock.services import receive_lot
from treatments.models import (
    SESSION_ROWS,
    Appointment,
    Course,
    CourseConcern,
    Device,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)

# Foreign keys of a session's rows, checked by the services rather than by a query each.
ROW_PARENTS = ["session", "product", "lot", "recorded_concern", "area"]
# A new session's own foreign keys: the course, the users and the numbing cream are objects
# already loaded (clean() checks the cream's kind).
SESSION_PARENTS = ["course", "practitioner", "created_by", "updated_by", "numbing"]

NO_COURSE = (
    "{concern}: no typical course is established, so it does not shape the suggested range. "
    "Decide the number of sessions with the client."
)
DEPARTURE_REASON_NEEDED = (
    "Say why the course departs from the catalogue, or change it to fit the catalogue."
)


def _weeks(n):
    return "every week" if n == 1 else f"every {n} weeks"


def _sessions(n):
    return "1 session" if n == 1 else f"{n} sessions"


def usual_sessions(concern, interval_weeks=None):
    """The usual course of `concern` at `interval_weeks` (None: at its usual interval).

    A course spaced wider than the concern's usual interval keeps about the same length in weeks,
    so it has fewer sessions (hair thinning: 12 weekly, or 4 monthly), never outside the
    concern's typical range. None for a concern with no established course.
    """
    if not concern.has_typical_course:
        return None
    count = concern.sessions_typical
    usual = concern.interval_weeks
    if interval_weeks and usual and interval_weeks > usual:
        count = math.ceil(count * usual / interval_weeks)
    return max(concern.sessions_min, min(count, concern.sessions_max))


def _interval_in(concerns, low, high):
    """The longest usual interval among `concerns`, each brought inside [low, high]."""
    return max(min(max(c.interval_weeks, low), high) for c in concerns)


def _shared_interval(concerns):
    """(interval, separate courses) for treating `concerns` (with intervals) together.

    The interval lies inside every concern's [shortest, longest] range: the longest usual
    interval in their overlap. Without an overlap the interval is None and the concerns are
    split into as few courses as can each keep one interval: (concerns, interval) pairs.
    """
    if not concerns:
        return None, []
    low = max(c.interval_min_weeks for c in concerns)
    high = min(c.interval_max_weeks for c in concerns)
    if low <= high:
        return _interval_in(concerns, low, high), []
    # Fewest groups of overlapping ranges: by the end of their ranges, each group takes every
    # range that reaches back to the end of the group's first one.
    groups = []
    for concern in sorted(concerns, key=lambda c: (c.interval_max_weeks, c.name)):
        if groups and concern.interval_min_weeks <= groups[-1][0]:
            groups[-1][1].append(concern)
        else:
            groups.append((concern.interval_max_weeks, [concern]))
    separate = []
    for end, members in groups:
        low = max(c.interval_min_weeks for c in members)
        separate.append((sorted(members, key=lambda c: c.name), _interval_in(members, low, end)))
    return None, separate


def _course_count(concerns, interval_weeks):
    """(count, cut short) for a course treating `concerns` (each with a typical course) every
    `interval_weeks`: the longest usual course among them, never past one's maximum, and what
    to tell the practitioner about the concerns that would need more."""
    if not concerns:
        return None, []
    usual = {concern: usual_sessions(concern, interval_weeks) for concern in concerns}
    ceiling = min(concern.sessions_max for concern in concerns)
    stopping = " and ".join(c.name for c in concerns if c.sessions_max == ceiling)
    cut_short = [
        f"{concern.name} usually takes {_sessions(count)}, but {stopping} stops at {ceiling}: "
        "plan its other sessions in a course of its own."
        for concern, count in usual.items()
        if count > ceiling
    ]
    return min(max(usual.values()), ceiling), cut_short


@dataclass
class ConcernPlan:
    """One concern of a suggested course: its usual count at the course's interval."""

    concern: object
    recorded_concerns: list
    usual_sessions: int | None

    @property
    def sessions_max(self):
        return self.concern.sessions_max


@dataclass
class SeparateCourse:
    """Concerns that can share a course when not all of them can: their interval and count."""

    concerns: list
    recorded_concerns: list
    interval_weeks: int
    sessions: int | None

    @property
    def names(self):
        return ", ".join(concern.name for concern in self.concerns)


@dataclass
class CourseSuggestion:
    """What the catalogue suggests for treating several recorded concerns in one course."""

    recorded_concerns: list
    sessions_min: int | None
    sessions_max: int | None
    sessions: int | None
    interval_weeks: int | None
    outcome: str
    contraindications: list[str] = field(default_factory=list)
    # From the screening: the practitioner acknowledges these before a course starts.
    cautions: list[str] = field(default_factory=list)
    # From the catalogue: what to bear in mind for each concern.
    concern_cautions: list[str] = field(default_factory=list)
    blocked_concerns: list = field(default_factory=list)
    # Each concern (once, by name) with its usual count at the suggested interval.
    plans: list[ConcernPlan] = field(default_factory=list)
    # When no interval suits every concern: the courses to plan instead.
    separate_courses: list[SeparateCourse] = field(default_factory=list)
    # Concerns whose usual count the course cannot reach without passing another's maximum.
    cut_short: list[str] = field(default_factory=list)

    @property
    def all_cautions(self):
        return self.cautions + self.concern_cautions

    @property
    def needs_override(self):
        return bool(self.blocked_concerns)

    @property
    def interval_fits_all(self):
        return not self.separate_courses

    @property
    def range_display(self):
        if self.sessions_min is None:
            return "No established range"
        if self.sessions_min == self.sessions_max:
            return f"{self.sessions_min} sessions"
        return f"{self.sessions_min}-{self.sessions_max} sessions"

    @property
    def concerns(self):
        return [plan.concern for plan in self.plans]

    def planned_per_concern(self, planned_sessions):
        """[(plan, sessions of the course that treat its concern)] for a course of
        `planned_sessions` (None: not chosen yet)."""
        return [
            (
                plan,
                None
                if planned_sessions is None
                else CourseConcern.planned_for(plan.concern, planned_sessions),
            )
            for plan in self.plans
        ]

    def departures(self, *, planned_sessions, interval_weeks, device):
        """How a course of `planned_sessions` every `interval_weeks` with `device` departs from
        the catalogue for these concerns (plan_departures)."""
        return plan_departures(
            self.concerns,
            planned_sessions=planned_sessions,
            interval_weeks=interval_weeks,
            device=device,
        )


def plan_departures(concerns, *, planned_sessions, interval_weeks, device):
    """How a course treating `concerns`, of `planned_sessions` every `interval_weeks` with
    `device`, departs from the catalogue: {field: [messages]}, empty when it does not.

    A course may depart only with a recorded reason (start_course, change_course).
    """
    found = {}

    def add(name, message):
        found.setdefault(name, []).append(message)

    for concern in sorted(set(concerns), key=lambda c: c.name):
        shortest = concern.interval_min_weeks
        if interval_weeks is not None and shortest and interval_weeks < shortest:
            add(
                "interval_weeks",
                f"{concern.name} is needled {_weeks(shortest)} at the most: "
                f"{_weeks(interval_weeks)} is sooner than it allows.",
            )
        most = concern.sessions_max
        if planned_sessions is not None and most and planned_sessions > most:
            add(
                "planned_sessions",
                f"{_sessions(planned_sessions)} pass the usual maximum for {concern.name} "
                f"({_sessions(most)}): its treatment stops at session {most}.",
            )
        if not concern.has_typical_course:
            add(
                "concerns",
                f"{concern.name} has no established course: micro-needling is not an "
                "established treatment for it.",
            )
        if concern.rf_only and device != Device.RF:
            add(
                "device",
                f"The evidence for {concern.name} is for radiofrequency micro-needling only "
                "(plain needling may make it worse): plan an RF device.",
            )
    return found


def suggest_course(*, consultation, recorded_concerns=None):
    """Suggest a course for `recorded_concerns` (default: all of the consultation's concerns).

    - Range: the widest typical range among the concerns (smallest minimum to largest maximum).
    - Interval: inside every concern's [shortest, longest] interval, the longest usual interval
      in that overlap; when the ranges do not overlap, None, and `separate_courses` says which
      concerns to treat in which course, at which interval.
    - Count: the longest usual course among the concerns at that interval (usual_sessions), but
      never past a concern's maximum; `cut_short` names the concerns that would need more.
      Each concern keeps its own count (`plans`): the course's sessions up to its maximum.
    - Cautions: every screening caution (to acknowledge), and each concern's own cautions,
      including those for concerns without an established course. Concerns in an area the
      screening found not suitable are listed as blocked.
    """
    if recorded_concerns is None:
        recorded_concerns = list(consultation.concerns.select_related("concern"))
    assessment = consultation.assess()
    by_concern = {}
    for rc in recorded_concerns:
        by_concern.setdefault(rc.concern, []).append(rc)
    concerns = sorted(by_concern, key=lambda c: c.name)
    with_course = [c for c in concerns if c.has_typical_course]

    sessions_min = min((c.sessions_min for c in with_course), default=None)
    sessions_max = max((c.sessions_max for c in with_course), default=None)
    interval, separate = _shared_interval([c for c in concerns if c.interval_weeks])
    plans = [ConcernPlan(c, by_concern[c], usual_sessions(c, interval)) for c in concerns]

    sessions, cut_short = None, []
    if not separate:
        sessions, cut_short = _course_count(with_course, interval)
    separate_courses = [
        SeparateCourse(
            concerns=members,
            recorded_concerns=[rc for c in members for rc in by_concern[c]],
            interval_weeks=weeks,
            sessions=_course_count([c for c in members if c.has_typical_course], weeks)[0],
        )
        for members, weeks in separate
    ]

    concern_cautions = []
    for concern in concerns:
        if concern.cautions:
            concern_cautions.append(f"{concern.name}: {concern.cautions}")
        if not concern.has_typical_course:
            concern_cautions.append(NO_COURSE.format(concern=concern.name))
    return CourseSuggestion(
        recorded_concerns=list(recorded_concerns),
        sessions_min=sessions_min,
        sessions_max=sessions_max,
        sessions=sessions,
        interval_weeks=interval,
        outcome=assessment.outcome,
        contraindications=assessment.contraindications,
        cautions=assessment.cautions,
        concern_cautions=concern_cautions,
        blocked_concerns=[rc for rc in recorded_concerns if assessment.blocks(rc.area_id)],
        plans=plans,
        separate_courses=separate_courses,
        cut_short=cut_short,
    )


def start_date_refusal(start_date, today=None):
    """Why a course cannot start on `start_date`, or "": it must fall within the window around
    today the settings give (COURSE_START_DAYS_BEFORE and _AFTER), so a mistyped year is caught."""
    today = today or timezone.localdate()
    earliest = today - datetime.timedelta(days=settings.COURSE_START_DAYS_BEFORE)
    latest = today + datetime.timedelta(days=settings.COURSE_START_DAYS_AFTER)
    if start_date < earliest or start_date > latest:
        return f"A course starts between {day(earliest)} and {day(latest)}: check the year."
    return ""


def check_course_plan(*, suggestion, planned_sessions, interval_weeks, device, departure_reason):
    """Refuse a course that departs from the catalogue (suggestion.departures) without a
    reason: ValidationError keyed by the fields concerned and `departure_reason`."""
    departures = suggestion.departures(
        planned_sessions=planned_sessions, interval_weeks=interval_weeks, device=device
    )
    if departures and not (departure_reason or "").strip():
        raise ValidationError({**departures, "departure_reason": DEPARTURE_REASON_NEEDED})


RUNNING_MEANWHILE = (
    "A course from this consultation was started a moment ago (by someone else, or in another "
    "tab): open it from the client's page. Nothing was saved."
)


@transaction.atomic
def start_course(
    *,
    consultation,
    recorded_concerns,
    planned_sessions,
    interval_weeks,
    practitioner,
    by,
    start_date=None,
    override_reason="",
    cautions_acknowledged=False,
    notes="",
    device="",
    departure_reason="",
    refuse_if_running=False,
):
    """Start a course from a consultation, keeping both the suggestion and what was chosen.

    The consultation is locked first, so two starts from it never run at once. With
    `refuse_if_running` (the workspace, unless the practitioner ticked "start another"), a course
    from the consultation already running, or started a moment ago, refuses the new one.

    A course that departs from the catalogue (an interval shorter than a concern's shortest, a
    count past a concern's maximum, a concern with no established course, a concern studied with
    RF micro-needling only planned with another device) needs `departure_reason`. Each concern
    is planned for the course's sessions up to its maximum.
    """
    recorded_concerns = list(recorded_concerns)
    errors = {}
    if not recorded_concerns:
        errors["concerns"] = "Choose at least one of the consultation's concerns to treat."
    elif any(rc.consultation_id != consultation.pk for rc in recorded_concerns):
        errors["concerns"] = "Every concern must come from this consultation."
    if consultation.client.archived:
        errors["__all__"] = "This client is archived: restore the client before a new course."
    if consultation.is_voided:
        errors["__all__"] = "This consultation was voided: record a new consultation first."
    if errors:
        raise ValidationError(errors)
    # One start at a time from a consultation: a second waits here until the first commits.
    Consultation.objects.select_for_update().only("pk").get(pk=consultation.pk)
    if refuse_if_running and consultation.courses.filter(status=Course.Status.ACTIVE).exists():
        raise ValidationError(RUNNING_MEANWHILE, code="running")
    # The consent it starts on, read under a lock that a withdrawal waits for.
    if refusals := treatment_refusals(client=consultation.client_id, new_course=True):
        raise ValidationError(refusals, code="consent")

    suggestion = suggest_course(consultation=consultation, recorded_concerns=recorded_concerns)
    if suggestion.needs_override and not override_reason.strip():
        blocked = ", ".join(str(rc) for rc in suggestion.blocked_concerns)
        errors["override_reason"] = (
            f"The screening found this consultation not suitable ({blocked}). Record why the "
            "course goes ahead anyway, or defer it."
        )
    if suggestion.cautions and not cautions_acknowledged:
        errors["cautions_acknowledged"] = (
            "Confirm that you have weighed the screening cautions with the client."
        )
    start_date = start_date or timezone.localdate()
    areas = [rc.area_id for rc in recorded_concerns]
    if refusal := start_date_refusal(start_date):
        errors["start_date"] = refusal
    else:
        # The screening on the start date: a consultation not too old, no blocking washout.
        errors.update(
            course_refusals(consultation=consultation, areas=areas, start_date=start_date)
        )
    try:
        check_course_plan(
            suggestion=suggestion,
            planned_sessions=planned_sessions,
            interval_weeks=interval_weeks,
            device=device,
            departure_reason=departure_reason,
        )
    except ValidationError as departures:
        errors.update(departures.message_dict)
    if errors:
        raise ValidationError(errors)

    course = Course(
        client=consultation.client,
        consultation=consultation,
        practitioner=practitioner,
        start_date=start_date,
        suggested_sessions_min=suggestion.sessions_min,
        suggested_sessions_max=suggestion.sessions_max,
        suggested_sessions=suggestion.sessions,
        suggested_interval_weeks=suggestion.interval_weeks,
        planned_sessions=planned_sessions,
        interval_weeks=interval_weeks,
        override_reason=override_reason.strip(),
        # Sessions on these areas go ahead on the strength of the override reason.
        override_areas=(
            blocking_areas(consultation=consultation, areas=areas)
            if suggestion.needs_override
            else []
        ),
        cautions_acknowledged=cautions_acknowledged,
        notes=notes,
        device=device or "",
        departure_reason=(departure_reason or "").strip(),
    )
    course.refresh_progress()
    course.stamp(by)
    course.full_clean()
    course.save()
    # Each concern treated gets its audit row, as a course's other records do.
    bulk_create_with_history(
        [
            CourseConcern(
                course=course,
                recorded_concern=rc,
                planned_sessions=CourseConcern.planned_for(rc.concern, planned_sessions),
            )
            for rc in recorded_concerns
        ],
        CourseConcern,
        default_user=by,
    )
    return course


@transaction.atomic
def log_session(*, course, **details):
    """Log a session on an active course; complete the course when its planned count is reached.

    Locks the course, then counts its sessions. The arguments are log_session_on_locked()'s.
    """
    locked = Course.objects.select_related("consultation").locked_with_counts().get(pk=course.pk)
    return _log_session(locked, locked.session_counts(), lots_read=False, **details)


def log_session_on_locked(*, course, **details):
    """log_session() on a course the caller has read, in its transaction, with
    `Course.objects.locked_with_counts()`: the session form reads it so with the page's
    details, to check the form against the course as the session will be saved on it.

    `areas`: (area, depth_mm) pairs; `products`: (product, lot) pairs, the lot a Lot, a lot
    number or a NewLot (`check_lots`); `progress`: (recorded_concern, practitioner_rating,
    client_rating or None) triples. The Lots given were read in the current transaction, after
    the course's lock (the session form reads them so): their status and expiry are checked as
    read, so a lot recalled since the page was shown is refused.
    """
    counts = course.session_counts()
    if not (transaction.get_connection().in_atomic_block and counts is not None):
        raise TransactionManagementError(
            "log_session_on_locked() needs a course read with "
            "Course.objects.locked_with_counts() in the current transaction; "
            "log_session() reads it so itself."
        )
    return _log_session(course, counts, lots_read=True, **details)


def _log_session(
    course,
    counts,
    *,
    lots_read,
    practitioner,
    areas,
    by,
    performed_on=None,
    device=TreatmentSession.Device.PEN,
    device_model="",
    device_serial="",
    numbing=None,
    products=(),
    skin_response=TreatmentSession.Response.ERYTHEMA,
    pain_score=None,
    progress=(),
    notes="",
    depth_reason="",
    interval_reason="",
    **check,
):
    """Log a session on `course`, locked, whose sessions `counts` counted once it was locked
    (`Course.objects.locked_with_counts()`).

    `check`: the pre-session check's answers (consultations.screening.PRE_SESSION_FIELDS).
    """
    unknown = set(check) - set(PRE_SESSION_FIELDS)
    if unknown:
        raise TypeError(f"log_session() got unexpected arguments: {', '.join(sorted(unknown))}")
    if course.status != Course.Status.ACTIVE:
        raise ValidationError(
            f"This course is {course.get_status_display().lower()}: no more sessions can be logged "
            "on it. Start a new course if treatment continues."
        )
    if counts.valid >= course.planned_sessions:
        raise ValidationError(
            f"All {course.planned_sessions} planned sessions of this course are logged. Ask a "
            "manager to plan more, or start a new course if treatment continues."
        )
    # The consents it goes ahead on, read under a lock that a withdrawal waits for.
    if refusals := treatment_refusals(
        client=course.client_id,
        new_course=False,
        numbing=numbing is not None,
        found=course.consents_found(),  # read after the course's lock, with its counts
    ):
        raise ValidationError(refusals, code="consent")
    performed_on = performed_on or timezone.localdate()
    _check_session_date(course, performed_on)
    if counts.last_valid_on and performed_on < counts.last_valid_on:
        raise ValidationError(
            {
                "performed_on": f"The last session of this course was on "
                f"{day(counts.last_valid_on)}; log sessions in the order they happened."
            }
        )
    course_concern_ids = {link.recorded_concern_id for link in course.course_concerns.all()}
    areas, progress = _check_rows(course, areas, progress, course_concern_ids)
    check_chart_and_interval(
        course,
        areas=areas,
        depth_reason=depth_reason,
        performed_on=performed_on,
        previous_on=counts.last_valid_on,
        interval_reason=interval_reason,
    )
    check_session(
        consultation=course.consultation,
        overridden_areas=course.override_areas,
        areas=[area_code(area) for area, _depth in areas],
        performed_on=performed_on,
        answers=check,
    )

    session = TreatmentSession(
        course=course,
        number=(counts.highest_number or 0) + 1,
        performed_on=performed_on,
        practitioner=practitioner,
        device=device,
        device_model=device_model,
        device_serial=device_serial.strip(),
        numbing=numbing,
        skin_response=skin_response,
        pain_score=pain_score,
        notes=notes,
        depth_reason=depth_reason.strip(),
        interval_reason=interval_reason.strip(),
        **check,
    )
    session.follow_up_on = follow_up_on(course, performed_on)
    session.stamp(by)
    # The session's number is taken under the course's lock and clean() repeats the rules its
    # check constraints keep, so only the fields and clean() are checked here.
    session.full_clean(exclude=SESSION_PARENTS, validate_constraints=False)
    products = check_lots(products, by=by, on=performed_on, read=lots_read)
    rows = _build_rows(session, areas=areas, products=products, progress=progress)
    _save_with_rows(session, rows, replace=False)

    # The course's figures with the new session, counted under its lock.
    counted = {
        "logged": counts.valid + 1,
        "last": max(counts.last_valid_on or performed_on, performed_on),
    }
    course.refresh_progress(counted)
    if course.sessions_logged >= course.planned_sessions:
        course.status = Course.Status.COMPLETED
        course.ended_on = course.last_session_on
        course.refresh_progress(counted)
    course.stamp(by)
    course.save()
    if counts.has_booking:
        _attend_appointments(course, performed_on, by)
    return session


def _attend_appointments(course, day, by):
    """The course's appointment booked for `day`, now kept: marked attended."""
    for appointment in Appointment.objects.booked().filter(course=course, date=day):
        appointment.status = Appointment.Status.ATTENDED
        appointment.stamp(by)
        appointment.save(update_fields=["status", "updated_at", "updated_by", "version"])


def _check_correction_screening(course, session, saved, areas):
    """The screening's refusals for what a correction changes: areas it adds (all of them when
    it moves the session to another day) and the pre-session answers as corrected. A session
    logged before the check existed is not asked for it."""
    if areas is None:
        checked = []
    elif session.performed_on != saved["performed_on"]:
        checked = [area for area, _depth in areas]
    else:
        checked = [area for area, _depth in areas if area not in saved["areas"]]
    check_session(
        consultation=course.consultation,
        overridden_areas=course.override_areas,
        areas=checked,
        performed_on=session.performed_on,
        answers={name: getattr(session, name) for name in PRE_SESSION_FIELDS},
        new=False,
    )


def _check_session_date(course, performed_on):
    if performed_on and performed_on < course.start_date:
        raise ValidationError(
            {
                "performed_on": f"The course started on {day(course.start_date)}; a session "
                "cannot be earlier."
            }
        )


# A session may come a little before the course's interval has passed (a client moving an
# appointment): up to 3 days early, or 1 day on a weekly course. Sooner needs a recorded reason.
EARLY_DAYS = 3
EARLY_DAYS_WEEKLY = 1

DEPTH_ABOVE_MAX = (
    "{area}: {depth} mm is deeper than the area chart allows ({range}). Lower it, or record "
    "why this area is needled deeper."
)
DEPTH_REASON_NEEDED = "Say why {areas} {verb} needled deeper than the area chart's maximum."
TOO_SOON = (
    "This course is every {interval}: the previous session was on {previous}, so the "
    "next is due from {earliest} ({early} early at most). Choose a later date, or "
    "record why this session comes sooner."
)
TOO_SOON_REASON = "Say why this session comes sooner than the course's interval allows."
UNKNOWN_AREA = "{area} is not an area of the chart: choose one from the list."


def previous_session_on(session):
    """The date of the session before `session` in its course (the last that counts), or None."""
    return (
        TreatmentSession.objects.valid()
        .filter(course_id=session.course_id, number__lt=session.number)
        .aggregate(last=Max("performed_on"))["last"]
    )


def early_days(interval_weeks):
    """How many days before its interval has passed a course's next session may come."""
    return EARLY_DAYS_WEEKLY if interval_weeks <= 1 else EARLY_DAYS


def earliest_next_on(course, previous_on):
    """The first date the course's interval allows a session after one on `previous_on`."""
    if previous_on is None:
        return None
    return (
        previous_on
        + datetime.timedelta(weeks=course.interval_weeks)
        - datetime.timedelta(days=early_days(course.interval_weeks))
    )


def _about_area(message, code, area):
    """A refusal about one area, which a form shows on that area's row (`params["area"]`).
    With params, Django formats the message with `%`: a literal one is doubled."""
    return ValidationError(message.replace("%", "%%"), code=code, params={"area": area})


def check_chart_and_interval(
    course, *, areas, depth_reason, performed_on, previous_on, interval_reason
):
    """The session's areas against the area chart, and its date against the course's interval.

    `areas`: (area code, depth) pairs, or None when they are not changing; `previous_on`: the
    course's session before this one (None: none, or the date is not changing). Each depth lies
    in 0.25-3.0 mm (the rows' own check); above the area's hard maximum it needs
    `depth_reason`; a session sooner than `earliest_next_on` needs `interval_reason`. Every
    refusal is raised at once, keyed by field; a depth's carries its area (`params["area"]`) so
    a form can show it on that area's row.
    """
    errors = {}
    if areas is not None:
        chart = area_chart()
        unknown = [area for area, _ in areas if area not in chart]
        if unknown:
            errors["area"] = [
                _about_area(UNKNOWN_AREA.format(area=area), "unknown_area", area)
                for area in unknown
            ]
        depths = [
            (chart[area], depth)
            for area, depth in areas
            if area in chart and isinstance(depth, Decimal) and depth.is_finite()
        ]
        # Outside the device's range: refused whatever the reason (and the row says so).
        outside = [
            _about_area(DEPTH_MESSAGE, "depth_range", limits.code)
            for limits, depth in depths
            if not DEPTH_MIN <= depth <= DEPTH_MAX
        ]
        if outside:
            errors["depth_mm"] = outside
        too_deep = [
            (limits, depth) for limits, depth in depths if limits.max_mm < depth <= DEPTH_MAX
        ]
        if too_deep and not depth_reason.strip():
            errors["depth_mm"] = errors.get("depth_mm", []) + [
                _about_area(
                    DEPTH_ABOVE_MAX.format(
                        area=limits.name, depth=f"{depth:.2f}", range=limits.range_display
                    ),
                    "above_area_maximum",
                    limits.code,
                )
                for limits, depth in too_deep
            ]
            names = [f"{limits.name} at {mm(depth)} mm" for limits, depth in too_deep]
            errors["depth_reason"] = DEPTH_REASON_NEEDED.format(
                areas=", ".join(names), verb="is" if len(names) == 1 else "are"
            )
    earliest = earliest_next_on(course, previous_on)
    if earliest and performed_on and performed_on < earliest and not interval_reason.strip():
        weeks = course.interval_weeks
        days = early_days(weeks)
        errors["performed_on"] = TOO_SOON.format(
            interval="week" if weeks == 1 else f"{weeks} weeks",
            previous=day(previous_on),
            earliest=day(earliest),
            early="1 day" if days == 1 else f"{days} days",
        )
        errors["interval_reason"] = TOO_SOON_REASON
    if errors:
        raise ValidationError(errors)


def _as_decimal(depth):
    """A depth as a Decimal ("1.50" too); what is not a number is left for the row's checks."""
    if isinstance(depth, Decimal) or depth is None:
        return depth
    try:
        return Decimal(str(depth))
    except InvalidOperation:
        return depth


def _check_rows(course, areas, progress, course_concern_ids=None):
    """Validate a session's areas and progress ratings against its course; None means unchanged.

    `course_concern_ids`: the course's recorded concerns, when the caller has them.
    """
    if areas is not None:
        areas = [(area_code(area), _as_decimal(depth)) for area, depth in areas]
        if not areas:
            raise ValidationError({"areas": "Record at least one treated area with its depth."})
        if len({area for area, _ in areas}) != len(areas):
            raise ValidationError({"areas": "Each area appears once; record one depth per area."})
    if progress is not None:
        progress = list(progress)
        if course_concern_ids is None:
            course_concern_ids = set(
                course.course_concerns.values_list("recorded_concern_id", flat=True)
            )
        if any(rc.pk not in course_concern_ids for rc, _, _ in progress):
            raise ValidationError({"progress": "Rate only the concerns this course treats."})
        if len({rc.pk for rc, _, _ in progress}) != len(progress):
            raise ValidationError({"progress": "Rate each concern once."})
    return areas, progress


@dataclass(frozen=True)
class NewLot:
    """A lot not yet in stock, received on the spot while logging a session (the pack in hand:
    its number and expiry, typed or scanned)."""

    lot_number: str
    expiry_date: datetime.date | None


NO_RECEIVE = (
    "Lot {number} of {product} is not in stock, and you may not receive lots: choose a lot "
    "from the list, or ask a manager to receive it."
)
NOT_IN_STOCK = (
    "Lot {number} of {product} is not in stock: choose a lot from the list, or receive it "
    "with its expiry date."
)
LOT_OF_ANOTHER = "Lot {number} is a lot of {other}, not of {product}: choose a lot of {product}."


def check_lots(products, *, by, on, kept_lot_ids=(), read=False):
    """The (product, Lot) pairs a session on `on` records, from (product, lot) pairs whose lot
    is a Lot, a lot number (the product's lot of that number) or a NewLot (received now, by
    `by`, who needs the permission). The lots are read again, locked, so one recalled,
    quarantined or expired since the form was shown is refused with the reason; lots already
    recorded on the session (`kept_lot_ids`, a correction) stand as they are. `read`: the Lots
    given were read in this transaction already (log_session_on_locked), as they are now."""
    products = list(products)
    if any(not isinstance(lot, (Lot, NewLot, str)) for _, lot in products):
        raise TypeError("A session's products are (product, Lot, lot number or NewLot) pairs.")
    ids = sorted({lot.pk for _, lot in products if isinstance(lot, Lot)})
    if read:
        locked = {lot.pk: lot for _, lot in products if isinstance(lot, Lot)}
    else:
        # Locked in key order: a recall waits for the session, or the session sees the recall.
        locked = {
            lot.pk: lot for lot in Lot.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
    checked, errors = [], []
    for product, lot in products:
        if isinstance(lot, str):
            number = lot.strip()
            if not number:
                errors.append(f"Give the lot number of {product}.")
                continue
            found = Lot.objects.select_for_update().for_product_number(product, number).first()
            if found is None:
                errors.append(NOT_IN_STOCK.format(number=number, product=product))
                continue
            lot = found
        elif isinstance(lot, NewLot):
            if not by.has_perm("stock.receive_lot"):
                errors.append(NO_RECEIVE.format(number=lot.lot_number, product=product))
                continue
            try:
                lot = receive_lot(
                    product=product, lot_number=lot.lot_number, expiry_date=lot.expiry_date, by=by
                )
            except ValidationError as refusal:
                errors.extend(f"{product}: {message}" for message in refusal.messages)
                continue
        else:
            lot = locked[lot.pk]
        if lot.product_id != product.pk:
            errors.append(
                LOT_OF_ANOTHER.format(number=lot.lot_number, other=lot.product, product=product)
            )
            continue
        lot.product = product
        refusal = "" if lot.pk in kept_lot_ids else lot.refusal(on)
        if refusal:
            errors.append(refusal)
            continue
        checked.append((product, lot))
    if errors:
        raise ValidationError({"products": errors})
    if len({lot.pk for _, lot in checked}) != len(checked):
        raise ValidationError({"products": "Each lot appears once."})
    return checked


def follow_up_on(course, performed_on):
    """When to call the client after a session on `performed_on`: the soonest follow-up of the
    course's concerns (catalogue Concern.follow_up_days); None when every concern has none."""
    days = [
        link.recorded_concern.concern.follow_up_days
        for link in course.course_concerns.all()
        if link.recorded_concern.concern.follow_up_days
    ]
    return performed_on + datetime.timedelta(days=min(days)) if days else None


def _build_rows(session, *, areas=None, products=None, progress=None):
    """A session's rows of each kind given (None: that kind stays as saved), by their name in
    SESSION_ROWS, validated.

    The rows are validated in Python: their parents are the session being written and objects
    already loaded, and `_check_rows` has refused repeated areas and concerns, so the per-row
    database checks (`full_clean`'s foreign key and constraint queries) add nothing.
    """
    rows = {}
    if areas is not None:
        rows["areas"] = [
            SessionArea(session=session, area_id=area, depth_mm=depth) for area, depth in areas
        ]
    if products is not None:
        rows["products"] = [
            SessionProduct(session=session, product=product, lot=lot, lot_number=lot.lot_number)
            for product, lot in products
        ]
    if progress is not None:
        rows["progress"] = [
            SessionProgress(
                session=session,
                recorded_concern=recorded_concern,
                practitioner_rating=practitioner_rating,
                client_rating=client_rating,
            )
            for recorded_concern, practitioner_rating, client_rating in progress
        ]
    for written in rows.values():
        for row in written:
            row.full_clean(exclude=ROW_PARENTS, validate_constraints=False)
    return rows


def _save_with_rows(session, rows, *, replace):
    """Save `session` and write `rows` (from `_build_rows`): each kind in one insert, replacing
    the saved rows of that kind, and the session's audit row keeping them all (see
    TreatmentSession.audited_rows). `replace=False` (a new session) skips deleting rows that
    cannot exist yet."""
    session.rows_written = rows
    try:
        session.save()
    finally:
        del session.rows_written
    for kind, written in rows.items():
        model = SESSION_ROWS[kind]
        if replace:
            model.objects.filter(session=session).delete()
        if written:
            model.objects.bulk_create(written)


def _end_course(course, *, status, by, reason, on, adverse_event=False):
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status != Course.Status.ACTIVE:
        raise ValidationError(f"This course is already {course.get_status_display().lower()}.")
    course.status = status
    course.stopped_for_adverse_event = adverse_event
    course.ended_on = on or timezone.localdate()
    course.end_reason = reason.strip()
    if course.ended_on < course.start_date:
        raise ValidationError({"ended_on": "A course cannot end before it started."})
    course.refresh_progress()
    course.stamp(by)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def complete_course(*, course, by, reason="", on=None):
    """Mark a course completed by hand (for example when the client is happy early)."""
    return _end_course(course, status=Course.Status.COMPLETED, by=by, reason=reason, on=on)


@transaction.atomic
def stop_course(*, course, reason, by, on=None, adverse_event=False):
    """Stop a course early; the reason is required. `adverse_event`: stopped because of an
    adverse event (the client is then left out of the maintenance recall)."""
    if not reason.strip():
        raise ValidationError({"end_reason": "Say why the course is stopped."})
    return _end_course(
        course,
        status=Course.Status.STOPPED,
        by=by,
        reason=reason,
        on=on,
        adverse_event=adverse_event,
    )


SESSION_NOT_AUTHOR = (
    "Only the practitioner who logged this session can correct it. Ask them, or a manager, to "
    "make the correction."
)
SESSION_PAST_DAY = (
    "This session was logged on {day}. Sessions can be corrected only on the day they "
    "were logged; ask a manager to correct older records."
)
SESSION_VOIDED = (
    "This session was voided: it stays on record as it was voided and can no longer be changed."
)
# A session's own fields, in the order the session form draws them.
SESSION_FIELDS = (
    "performed_on",
    "interval_reason",
    "device",
    "device_model",
    "device_serial",
    "numbing",
    "skin_response",
    "pain_score",
    "notes",
    *PRE_SESSION_FIELDS,
    "depth_reason",
)
# What a manager may also correct (correct_session): who performed the session.
CORRECTABLE_FIELDS = {*SESSION_FIELDS, "practitioner"}


def session_edit_refusal(*, session, user, today=None):
    """Why `user` may not correct or void `session` now, or "" when they may.

    The session's practitioner (or whoever logged it) may correct or void it on the calendar day
    it was logged; after that the record stands and managers correct it in the admin. A voided
    session stays as it was voided.
    """
    if session.is_voided:
        return SESSION_VOIDED
    if user.pk not in {session.practitioner_id, session.created_by_id}:
        return SESSION_NOT_AUTHOR
    logged_on = timezone.localdate(session.created_at)
    if logged_on != (today or timezone.localdate()):
        return SESSION_PAST_DAY.format(day=day(logged_on))
    return ""


@transaction.atomic
def update_session(
    *, session, by, areas=None, products=None, progress=None, expected_version=None, **changes
):
    """Correct a session on the day it was logged, by its author (the workspace's correction).

    `changes` are session fields (performed_on, device, device_model, numbing, skin_response,
    pain_score, notes). `areas`, `products` and `progress` take the shapes `log_session` takes
    and, when given, replace the session's rows. The course's progress is recounted.
    `expected_version`: the version the correction was based on; if the session was saved since,
    `clinic.locking.StaleRecord` says who changed what and nothing is written.
    """
    refusal = session_edit_refusal(session=session, user=by)
    if refusal:
        raise PermissionDenied(refusal)
    return correct_session(
        session=session,
        by=by,
        areas=areas,
        products=products,
        progress=progress,
        expected_version=expected_version,
        **changes,
    )


@transaction.atomic
def correct_session(
    *, session, by, areas=None, products=None, progress=None, expected_version=None, **changes
):
    """Correct any session that is not voided, whoever logged it and whenever: a manager's
    correction (the admin). The arguments are update_session()'s."""
    unknown = set(changes) - CORRECTABLE_FIELDS
    if unknown:
        raise TypeError(f"correct_session() cannot change {', '.join(sorted(unknown))}")
    session = check_version(TreatmentSession, session.pk, expected_version)
    if session.is_voided:
        raise ValidationError(SESSION_VOIDED)
    course = Course.objects.select_for_update().get(pk=session.course_id)

    saved = {"performed_on": session.performed_on, "areas": None}
    if areas is not None:
        saved["areas"] = set(session.areas.values_list("area", flat=True))
    for name, value in changes.items():
        setattr(session, name, value)
    _check_session_date(course, session.performed_on)
    areas, progress = _check_rows(course, areas, progress)
    checked_areas = areas
    if checked_areas is None and "depth_reason" in changes:
        checked_areas = list(session.areas.values_list("area", "depth_mm"))
    check_chart_and_interval(
        course,
        areas=checked_areas,
        depth_reason=session.depth_reason,
        performed_on=session.performed_on,
        previous_on=previous_session_on(session),
        interval_reason=session.interval_reason,
    )
    session.depth_reason = session.depth_reason.strip()
    session.interval_reason = session.interval_reason.strip()
    _check_correction_screening(course, session, saved, areas)

    if session.performed_on != saved["performed_on"]:
        session.follow_up_on = follow_up_on(course, session.performed_on)
    session.stamp(by)
    session.full_clean(exclude=SESSION_PARENTS, validate_constraints=False)
    if products is not None:
        kept = set(session.products_used.values_list("lot_id", flat=True))
        products = check_lots(products, by=by, on=session.performed_on, kept_lot_ids=kept)
    rows = _build_rows(session, areas=areas, products=products, progress=progress)
    _save_with_rows(session, rows, replace=True)

    course.refresh_progress()
    if (
        course.status == Course.Status.COMPLETED
        and course.sessions_logged >= course.planned_sessions
    ):
        # Completed by its last session: the course ends on the (corrected) last session date.
        course.ended_on = course.last_session_on
    course.stamp(by)
    course.save()
    return session


COURSE_FIELDS = {
    "stopped_for_adverse_event",
    "practitioner",
    "start_date",
    "planned_sessions",
    "interval_weeks",
    "override_reason",
    "cautions_acknowledged",
    "notes",
    "status",
    "ended_on",
    "end_reason",
    "device",
    "departure_reason",
}
# What a course's departures from the catalogue are about (plan_departures).
PLAN_FIELDS = ("planned_sessions", "interval_weeks", "device")


def check_course_change(*, course, links=None, **values):
    """Refuse a change to `course` that makes it depart from the catalogue without a reason.

    `values`: the course's fields as they would be saved (PLAN_FIELDS and `departure_reason`;
    those left out stay as saved). Only the fields that change are checked, so a course saved
    before these rules keeps what it had. `links`: the course's CourseConcern rows with their
    catalogue entries, when the caller has read them.
    """
    new = {name: values.get(name, getattr(course, name)) for name in PLAN_FIELDS}
    changed = {name for name in PLAN_FIELDS if new[name] != getattr(course, name)}
    if not changed:
        return
    if links is None:
        links = course.course_concerns.select_related("recorded_concern__concern")
    found = plan_departures([link.recorded_concern.concern for link in links], **new)
    found = {name: messages for name, messages in found.items() if name in changed}
    reason = values.get("departure_reason", course.departure_reason)
    if found and not (reason or "").strip():
        raise ValidationError({**found, "departure_reason": DEPARTURE_REASON_NEEDED})


@transaction.atomic
def change_course(*, course, by, expected_version=None, **changes):
    """A manager's change to a course (the admin): its planned sessions and interval, its notes,
    or its status.

    The course is locked and its sessions counted under the lock, so a course never plans
    fewer sessions than it has logged, and its progress and next due date are recounted. An
    active course planned down to the sessions it has logged is completed.
    """
    unknown = set(changes) - COURSE_FIELDS
    if unknown:
        raise TypeError(f"change_course() cannot change {', '.join(sorted(unknown))}")
    course = check_version(Course, course.pk, expected_version)
    moved = changes.get("start_date", course.start_date) != course.start_date
    if moved and (refusal := start_date_refusal(changes["start_date"])):
        raise ValidationError({"start_date": refusal})
    links = list(course.course_concerns.select_related("recorded_concern__concern"))
    check_course_change(course=course, links=links, **changes)
    for name, value in changes.items():
        setattr(course, name, value)
    course.refresh_progress()
    if course.planned_sessions is not None and course.planned_sessions < course.sessions_logged:
        raise ValidationError(
            {
                "planned_sessions": f"This course has {course.sessions_logged} sessions logged: "
                "it cannot plan fewer."
            }
        )
    all_logged = course.sessions_logged and course.sessions_logged >= course.planned_sessions
    if course.is_active and all_logged:
        if "status" in changes:
            raise ValidationError(
                {
                    "status": f"All {course.planned_sessions} planned sessions of this course "
                    "are logged: plan more sessions to keep it active."
                }
            )
        # Its last planned session is logged: completed as logging that session completes it
        # (voiding a session reopens it).
        course.status = Course.Status.COMPLETED
        course.ended_on = course.last_session_on
        course.refresh_progress({"logged": course.sessions_logged, "last": course.last_session_on})
    if course.status != Course.Status.ACTIVE and course.ended_on is None:
        raise ValidationError({"ended_on": "Give the date the course ended."})
    if course.ended_on and course.ended_on < course.start_date:
        raise ValidationError({"ended_on": "A course cannot end before it started."})
    course.stamp(by)
    course.full_clean(
        exclude=["client", "consultation", "practitioner", "created_by", "updated_by"]
    )
    course.save()
    if "planned_sessions" in changes:
        # Each concern keeps its count: the course's sessions, up to the concern's maximum.
        recounted = []
        for link in links:
            count = CourseConcern.planned_for(
                link.recorded_concern.concern, course.planned_sessions
            )
            if link.planned_sessions != count:
                link.planned_sessions = count
                recounted.append(link)
        if recounted:
            bulk_update_with_history(
                recounted, CourseConcern, ["planned_sessions"], default_user=by
            )
    return course


@transaction.atomic
def void_session(*, session, reason, by):
    """Void a mistaken session: it stays on record but no longer counts towards its course.

    A course that its last planned session completed becomes active again when that session is
    voided; a course completed or stopped by hand keeps its status.
    """
    if not reason.strip():
        raise ValidationError({"void_reason": "Say why this session is voided."})
    session = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    if session.is_voided:
        raise ValidationError("This session is already voided.")
    course = Course.objects.select_for_update().get(pk=session.course_id)
    session.voided_at = timezone.now()
    session.voided_by = by
    session.void_reason = reason.strip()
    session.stamp(by)
    session.save()

    completed_by_count = (
        course.status == Course.Status.COMPLETED
        and not course.end_reason
        and course.ended_on == course.last_session_on
    )
    if completed_by_count:
        course.status = Course.Status.ACTIVE
        course.ended_on = None
    course.refresh_progress()
    course.stamp(by)
    course.save()
    return session


@transaction.atomic
def void_consultation(*, consultation, reason, by):
    """Void a mistaken consultation; refused while a course started from it is still active."""
    if not reason.strip():
        raise ValidationError({"void_reason": "Say why this consultation is voided."})
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.is_voided:
        raise ValidationError("This consultation is already voided.")
    if consultation.courses.filter(status=Course.Status.ACTIVE).exists():
        raise ValidationError(
            "A course started from this consultation is still active: stop it before voiding "
            "the consultation."
        )
    consultation.voided_at = timezone.now()
    consultation.voided_by = by
    consultation.void_reason = reason.strip()
    consultation.stamp(by)
    consultation.save()
    return consultation


# Appointments --------------------------------------------------------------------------------


@transaction.atomic
def book_appointment(*, client, date, time, practitioner, by, course=None, note="", today=None):
    """Book `client` on `date` at `time` with `practitioner` (for `course`, an active course of
    theirs, or None for a visit about a new one). A booked client leaves Today's overdue list
    and the recall worklist until the day passes without the session being logged."""
    today = today or timezone.localdate()
    errors = {}
    if date is not None and date < today:
        errors["date"] = "This date has passed: book a day from today on."
    if client.archived:
        errors["__all__"] = f"{client} is archived: restore the client before booking."
    if course is not None:
        if course.client_id != client.pk:
            errors["course"] = "This course belongs to another client."
        elif not course.is_active:
            errors["course"] = (
                f"This course is {course.get_status_display().lower()}: book the visit without "
                "it, to discuss a new course."
            )
    if practitioner is not None and not practitioner.is_active:
        errors["practitioner"] = "This member of staff can no longer sign in: choose another."
    if errors:
        raise ValidationError(errors)
    appointment = Appointment(
        client=client,
        course=course,
        date=date,
        time=time,
        practitioner=practitioner,
        note=note.strip(),
    )
    appointment.stamp(by)
    appointment.full_clean(exclude=["client", "course", "practitioner", "created_by", "updated_by"])
    appointment.save()
    return appointment
