"""Selectors for the managers' reports: plain functions that return the figures.

Every function makes a fixed number of queries whatever the amount of data, so the report pages
stay fast with years of a chain's records. Voided sessions never count. The recall worklist's
selectors live with its service, in reports/recall.py.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from catalogue.models import Concern
from stock.models import Lot
from treatments.models import (
    AdverseEvent,
    Course,
    CourseConcern,
    Device,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)


def months_before(day, months):
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def staff_name(user):
    return (user.get_full_name() or user.get_username()) if user else ""


def practitioners():
    """Staff who lead a course or logged a session: the choices of the practitioner filters."""
    return (
        get_user_model()
        .objects.filter(
            Exists(Course.objects.filter(practitioner=OuterRef("pk")))
            | Exists(TreatmentSession.objects.filter(practitioner=OuterRef("pk")))
        )
        .order_by("first_name", "last_name", "username")
    )


# Outcomes against the catalogue -----------------------------------------------------------------


def median(histogram):
    """The median of values given as {value: how many times}; None when there are none."""
    total = sum(histogram.values())
    if not total:
        return None

    def nth(index):
        seen = 0
        for value in sorted(histogram):
            seen += histogram[value]
            if index < seen:
                return value

    if total % 2:
        return nth(total // 2)
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


@dataclass
class ConcernOutcome:
    """How courses for one catalogue concern went, beside the catalogue's typical range."""

    concern: Concern
    started: int = 0
    completed: int = 0
    stopped: int = 0
    active: int = 0
    # Sessions that counted in each completed course: {sessions: courses}.
    completion: dict = field(default_factory=dict)
    # Average practitioner rating by session position: {position: (average, ratings)}.
    ratings: dict = field(default_factory=dict)
    # Concerns the practitioner chose not to assess at a session: counted apart, never averaged.
    not_assessed: int = 0

    @property
    def sessions_min(self):
        return min(self.completion, default=None)

    @property
    def sessions_max(self):
        return max(self.completion, default=None)

    @property
    def sessions_median(self):
        return median(self.completion)

    @property
    def outside_typical(self):
        """Completed courses shorter or longer than the catalogue's typical range."""
        if not self.concern.has_typical_course:
            return 0
        low, high = self.concern.sessions_min, self.concern.sessions_max
        return sum(n for sessions, n in self.completion.items() if not low <= sessions <= high)


def _course_filter(prefix, *, started_from=None, started_to=None, practitioner=None):
    conditions = {}
    if started_from:
        conditions[f"{prefix}start_date__gte"] = started_from
    if started_to:
        conditions[f"{prefix}start_date__lte"] = started_to
    if practitioner is not None:
        conditions[f"{prefix}practitioner"] = practitioner
    return Q(**conditions)


def _ratings_by_position(filters):
    """{(concern id, session position): (sum of practitioner ratings, ratings)}, where a session's
    position counts only the sessions of its course that were not voided.

    The database sums the ratings by session number; the few courses with a voided session
    then have their later ratings moved from their number to their position.
    """
    voided = TreatmentSession.objects.filter(
        _course_filter("course__", **filters), voided_at__isnull=False
    ).order_by()
    voided_numbers = defaultdict(list)
    for course, number in voided.values_list("course", "number"):
        voided_numbers[course].append(number)
    ratings = SessionProgress.objects.filter(
        _course_filter("session__course__", **filters),
        session__voided_at__isnull=True,
        practitioner_rating__isnull=False,
    ).order_by()

    sums = defaultdict(lambda: [0, 0])
    for concern, number, total, count in ratings.values_list(
        "recorded_concern__concern", "session__number"
    ).annotate(total=Sum("practitioner_rating"), count=Count("pk")):
        sums[concern, number] = [total, count]
    if voided_numbers:
        moved = ratings.filter(session__course__in=voided.values("course")).values_list(
            "recorded_concern__concern", "session__course", "session__number", "practitioner_rating"
        )
        for concern, course, number, rating in moved:
            position = number - sum(1 for n in voided_numbers[course] if n < number)
            if position != number:
                sums[concern, number][0] -= rating
                sums[concern, number][1] -= 1
                sums[concern, position][0] += rating
                sums[concern, position][1] += 1
    return {key: tuple(value) for key, value in sums.items() if value[1]}


def concern_outcomes(*, started_from=None, started_to=None, practitioner=None):
    """Per catalogue concern: courses started, completed, stopped and still active; sessions to
    completion (completed courses' counted sessions); average practitioner progress rating by
    session position. Courses are chosen by start date and leading practitioner. A course
    counts once for each concern it treats (once even when it treats it in two areas)."""
    filters = {
        "started_from": started_from,
        "started_to": started_to,
        "practitioner": practitioner,
    }
    outcomes = {c.pk: ConcernOutcome(concern=c) for c in Concern.objects.order_by("name")}
    courses = (
        CourseConcern.objects.filter(_course_filter("course__", **filters))
        .order_by()
        .values_list("recorded_concern__concern", "course__status", "course__sessions_logged")
        .annotate(courses=Count("course", distinct=True))
    )
    for concern, status, sessions, count in courses:
        outcome = outcomes[concern]
        outcome.started += count
        if status == Course.Status.COMPLETED:
            outcome.completed += count
            outcome.completion[sessions] = count
        elif status == Course.Status.STOPPED:
            outcome.stopped += count
        else:
            outcome.active += count

    for (concern, position), (total, count) in _ratings_by_position(filters).items():
        outcomes[concern].ratings[position] = (total / count, count)
    not_assessed = (
        SessionProgress.objects.filter(
            _course_filter("session__course__", **filters),
            session__voided_at__isnull=True,
            practitioner_rating__isnull=True,
        )
        .order_by()
        .values_list("recorded_concern__concern")
        .annotate(count=Count("pk"))
    )
    for concern, count in not_assessed:
        outcomes[concern].not_assessed = count
    return list(outcomes.values())


# Adverse events, per concern, device and needle depth band -----------------------------------

# Bands of a session's deepest needle depth: (upper bound in mm, label); the last has none.
DEPTH_BANDS = (
    (Decimal("0.50"), "Up to 0.5 mm"),
    (Decimal("1.00"), "Over 0.5 to 1.0 mm"),
    (Decimal("1.50"), "Over 1.0 to 1.5 mm"),
    (None, "Over 1.5 mm"),
)


@dataclass
class EventCount:
    label: str
    events: int = 0
    severe: int = 0


def _depth_band():
    """The band of the event's session's deepest area, as an expression (DEPTH_BANDS' index)."""
    deepest = Subquery(
        SessionArea.objects.filter(session=OuterRef("session"))
        .order_by("-depth_mm")
        .values("depth_mm")[:1]
    )
    return Case(
        *(
            When(deepest_mm__lte=high, then=Value(index))
            for index, (high, _label) in enumerate(DEPTH_BANDS)
            if high is not None
        ),
        default=Value(len(DEPTH_BANDS) - 1),
        output_field=IntegerField(),
    ), deepest


def adverse_event_counts(*, started_from=None, started_to=None, practitioner=None):
    """Adverse events after the sessions of the courses chosen (as concern_outcomes chooses
    them; voided sessions left out), and how many were severe: {"concern": [...], "device":
    [...], "depth": [...]} of EventCount, the concerns by name, the devices and depth bands in
    their order, each with events only. An event after a course treating two concerns counts
    for each; by device and depth band each event counts once. Two grouped queries."""
    events = AdverseEvent.objects.filter(
        _course_filter(
            "session__course__",
            started_from=started_from,
            started_to=started_to,
            practitioner=practitioner,
        ),
        session__voided_at__isnull=True,
    ).order_by()
    severe = Count("pk", filter=Q(severity=AdverseEvent.Severity.SEVERE))
    band, deepest = _depth_band()
    by_session = (
        events.annotate(deepest_mm=deepest)
        .annotate(band=band)
        .values_list("session__device", "band")
        .annotate(events=Count("pk"), severe=severe)
    )
    devices = {value: EventCount(str(label)) for value, label in Device.choices}
    bands = [EventCount(label) for _high, label in DEPTH_BANDS]
    for device, band_index, count, severe_count in by_session:
        row = devices.setdefault(device, EventCount(str(device)))
        row.events += count
        row.severe += severe_count
        bands[band_index].events += count
        bands[band_index].severe += severe_count
    by_concern = (
        events.values_list("session__course__course_concerns__recorded_concern__concern__name")
        .annotate(
            events=Count("pk", distinct=True),
            severe=Count("pk", distinct=True, filter=Q(severity=AdverseEvent.Severity.SEVERE)),
        )
        .order_by("session__course__course_concerns__recorded_concern__concern__name")
    )
    return {
        "concern": [EventCount(name, n, s) for name, n, s in by_concern if name],
        "device": [row for row in devices.values() if row.events],
        "depth": [row for row in bands if row.events],
    }


# Practitioner activity --------------------------------------------------------------------------


@dataclass
class Activity:
    weeks: list  # Mondays, oldest first
    months: list  # first days of months, oldest first
    rows: list  # PractitionerActivity, by name


@dataclass
class PractitionerActivity:
    practitioner: object
    weekly: list
    monthly: list

    @property
    def name(self):
        return staff_name(self.practitioner)


def practitioner_activity(*, today, weeks=12, months=12):
    """Counted sessions per practitioner for each of the last `weeks` ISO weeks and the last
    `months` calendar months (the current week and month included)."""
    monday = today - datetime.timedelta(days=today.weekday())
    week_starts = [monday - datetime.timedelta(weeks=n) for n in reversed(range(weeks))]
    first = today.replace(day=1)
    month_starts = [months_before(first, n) for n in reversed(range(months))]

    # Sessions per practitioner and day, bucketed here: one light query, the same on every
    # database (no date truncation functions).
    days = (
        TreatmentSession.objects.valid()
        .filter(performed_on__gte=min(week_starts[0], month_starts[0]), performed_on__lte=today)
        .order_by()
        .values_list("practitioner", "performed_on")
        .annotate(n=Count("pk"))
    )
    counts = defaultdict(lambda: defaultdict(int))
    for practitioner, day, n in days:
        if day >= week_starts[0]:
            counts[practitioner][day - datetime.timedelta(days=day.weekday())] += n
        if day >= month_starts[0]:
            counts[practitioner][day.replace(day=1)] += n
    users = get_user_model().objects.in_bulk(counts)
    rows = [
        PractitionerActivity(
            practitioner=users[pk],
            weekly=[found[week] for week in week_starts],
            monthly=[found[month] for month in month_starts],
        )
        for pk, found in counts.items()
    ]
    rows.sort(key=lambda row: (row.name.lower(), row.practitioner.pk))
    return Activity(weeks=week_starts, months=month_starts, rows=rows)


# Lot traceability -------------------------------------------------------------------------------


def lot_sessions(*, product, lot):
    """Counted sessions in which `lot` of `product` was applied (lot matched ignoring case),
    newest first, with their client, practitioner and the number of adverse events recorded
    after each."""
    used = SessionProduct.objects.filter(
        lot__in=Lot.objects.for_product_number(product, lot).values("pk")
    )
    events = (
        AdverseEvent.objects.filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        TreatmentSession.objects.valid()
        .filter(pk__in=used.values("session"))
        .select_related("course__client", "practitioner")
        .annotate(adverse_event_count=Coalesce(Subquery(events), 0))
        .order_by("-performed_on", "-pk")
    )


def lot_adverse_events(sessions, limit=100):
    """The adverse events after `sessions` (lot_sessions()), newest first, with their session's
    client: what a lot's recipients reported."""
    return list(
        AdverseEvent.objects.filter(session__in=sessions.values("pk"))
        .select_related("session__course__client")
        .order_by("-onset_on", "-pk")[:limit]
    )


# Course printout --------------------------------------------------------------------------------


@dataclass
class PlannedSession:
    position: int
    on: datetime.date | None
    done: bool


def course_schedule(course, sessions, *, opening_day=None):
    """The course's sessions: those logged (counted ones, `sessions` in order) with their dates,
    then, for an active course, the remaining planned ones with their target dates, each moved
    to the clinic's next opening day by `opening_day` (a function of a date; none: kept)."""
    opening_day = opening_day or (lambda day: day)
    schedule = [
        PlannedSession(position=n, on=session.performed_on, done=True)
        for n, session in enumerate(sessions, start=1)
    ]
    if course.is_active and course.next_due_on:
        interval = datetime.timedelta(weeks=course.interval_weeks)
        for k, n in enumerate(range(len(schedule) + 1, course.planned_sessions + 1)):
            schedule.append(
                PlannedSession(
                    position=n, on=opening_day(course.next_due_on + k * interval), done=False
                )
            )
    return schedule
