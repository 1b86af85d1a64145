"""The managers' report figures (reports.selectors, reports.recall), against values
computed by hand."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.models import area_chart
from consultations.models import Client
from reports.recall import Recall, recall_courses, recall_items, record_contact_attempt
from reports.selectors import (
    concern_outcomes,
    course_schedule,
    lot_sessions,
    median,
    months_before,
    practitioner_activity,
)
from treatments.models import ContactAttempt, Course
from treatments.services import (
    complete_course,
    log_session,
    start_course,
    stop_course,
    void_session,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
Outcome = ContactAttempt.Outcome


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def colleague(make_user):
    return make_user("beth", first_name="Beth", last_name="Jones")


@pytest.fixture
def new_course(make_consultation, practitioner, settings):
    """A course started `started` days ago, led by `lead` (default: the practitioner).

    The reports look back over years of records: courses may start up to 5 years ago here."""
    settings.COURSE_START_DAYS_BEFORE = 5 * 366

    def make(*, started=200, concerns=(("acne-scars", "cheeks"),), lead=None, planned=6, **kw):
        # More sessions than a concern's maximum need a reason: the practitioner's, or this.
        reason = (
            "More sessions than the catalogue's maximum, for the figures." if planned > 6 else ""
        )
        consultation = make_consultation(concerns=concerns, held_on=days_ago(started), **kw)
        return start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=planned,
            interval_weeks=4,
            practitioner=lead or practitioner,
            by=practitioner,
            start_date=days_ago(started),
            cautions_acknowledged=True,
            departure_reason=reason,
        )

    return make


@pytest.fixture
def session(practitioner, make_lot):
    """Log a session `ago` days ago by `by` (default: the practitioner), rating each concern,
    at 1.5 mm or its area's maximum. The reports' figures are dated as each test needs, sooner
    than the interval too (with a reason, as the service asks)."""

    def make(course, ago, *ratings, by=None, products=()):
        concerns = [pc.recorded_concern for pc in course.course_concerns.order_by("pk")]
        area = concerns[0].area_id
        return log_session(
            course=course,
            check_asked=True,
            practitioner=by or practitioner,
            by=by or practitioner,
            performed_on=days_ago(ago),
            interval_reason="Dated as the test needs it.",
            areas=[(area, min(Decimal("1.50"), area_chart()[area].max_mm))],
            products=[(product, make_lot(product, lot)) for product, lot in products],
            progress=[(rc, rating, None) for rc, rating in zip(concerns, ratings, strict=False)],
        )

    return make


def contact(course, outcome, *, ago=0, reason=ContactAttempt.Reason.DUE, by):
    return record_contact_attempt(
        client=course.client,
        course=course,
        reason=reason,
        outcome=outcome,
        note="",
        by=by,
        attempted_at=timezone.now() - datetime.timedelta(days=ago),
    )


# Dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 8, 31), 6, datetime.date(2026, 2, 28)),
        (datetime.date(2024, 8, 31), 6, datetime.date(2024, 2, 29)),
        (datetime.date(2026, 3, 15), 6, datetime.date(2025, 9, 15)),
        (datetime.date(2026, 1, 1), 12, datetime.date(2025, 1, 1)),
    ],
)
def test_months_before_keeps_the_day_or_the_months_last_day(day, months, expected):
    assert months_before(day, months) == expected


@pytest.mark.parametrize(
    ("histogram", "expected"),
    [
        ({}, None),
        ({4: 1}, 4),
        ({2: 1, 3: 1, 6: 1}, 3),
        ({2: 1, 3: 1, 6: 1, 7: 1}, 4.5),
        ({3: 2, 5: 1}, 3),
        ({3: 1, 5: 3}, 5),
        ({3: 2, 5: 2}, 4),
    ],
)
def test_median_of_a_histogram(histogram, expected):
    assert median(histogram) == expected


# Recall worklist -------------------------------------------------------------------------------


def recall(**filters):
    return {line["id"]: line["recall"] for line in recall_courses(today=TODAY(), **filters)}


def test_due_and_overdue_courses_within_a_week_are_listed(new_course, session):
    overdue = new_course(started=60)
    session(overdue, 40)  # due 12 days ago
    due_soon = new_course(started=60)
    session(due_soon, 25)  # due in 3 days
    due_in_a_week = new_course(started=60)
    session(due_in_a_week, 21)  # due in 7 days
    due_in_eight_days = new_course(started=60)
    session(due_in_eight_days, 20)
    not_started = new_course(started=3)  # no session: due from its start

    assert recall() == {
        overdue.pk: Recall.OVERDUE,
        not_started.pk: Recall.OVERDUE,
        due_soon.pk: Recall.DUE,
        due_in_a_week.pk: Recall.DUE,
    }
    assert list(recall()) == [overdue.pk, not_started.pk, due_soon.pk, due_in_a_week.pk]


def test_archived_and_do_not_contact_clients_are_never_listed(new_course, make_client):
    archived = new_course(started=30)
    Client.objects.filter(pk=archived.client_id).update(archived=True)
    new_course(started=30, client=make_client(do_not_contact=True))
    listed = new_course(started=30)

    assert set(recall()) == {listed.pk}


def test_a_booked_or_declined_contact_since_the_last_session_settles_a_due_course(
    new_course, session, manager
):
    booked = new_course(started=60)
    session(booked, 40)
    contact(booked, Outcome.BOOKED, ago=2, by=manager)
    declined = new_course(started=60)
    session(declined, 40)
    contact(declined, Outcome.DECLINED, ago=0, by=manager)
    booked_before_last_session = new_course(started=100)
    session(booked_before_last_session, 80)
    contact(booked_before_last_session, Outcome.BOOKED, ago=50, by=manager)
    session(booked_before_last_session, 40)
    contacted = new_course(started=60)
    session(contacted, 40)
    contact(contacted, Outcome.NO_ANSWER, ago=3, by=manager)
    contact(contacted, Outcome.CONTACTED, ago=1, by=manager)
    booked_on_the_start_day = new_course(started=10)  # no session yet: counts from the start
    contact(booked_on_the_start_day, Outcome.BOOKED, ago=10, by=manager)

    assert set(recall()) == {booked_before_last_session.pk, contacted.pk}
    items = {
        item.course.pk: item for item in recall_items(recall_courses(today=TODAY()), today=TODAY())
    }
    assert items[contacted.pk].last_attempt.outcome == Outcome.CONTACTED
    # The booking before the last session was for that session: not this recall's contact.
    assert items[booked_before_last_session.pk].last_attempt is None


def test_a_do_not_contact_outcome_takes_the_client_off_every_list(new_course, session, manager):
    course = new_course(started=60)
    session(course, 40)

    attempt = contact(course, Outcome.DO_NOT_CONTACT, by=manager)

    course.client.refresh_from_db()
    assert course.client.do_not_contact is True
    assert course.client.updated_by == manager
    assert attempt.created_by == manager
    assert recall() == {}


def ended(new_course, *, ago, started=None, how="complete", by, **kw):
    course = new_course(started=started or ago + 100, **kw)
    if how == "complete":
        return complete_course(course=course, by=by, on=days_ago(ago))
    return stop_course(course=course, by=by, reason="Moved away", on=days_ago(ago))


def test_maintenance_lists_clients_whose_last_course_ended_six_months_ago_or_more(
    new_course, make_client, practitioner
):
    six_months = (TODAY() - months_before(TODAY(), 6)).days
    seven_months = ended(new_course, ago=six_months + 30, by=practitioner)
    exactly_six = ended(new_course, ago=six_months, how="stop", by=practitioner)
    five_months = ended(new_course, ago=six_months - 30, by=practitioner)
    # A client whose older course ended long ago but whose newer one ended recently.
    client = make_client()
    older = ended(new_course, ago=700, client=client, by=practitioner)
    newer = ended(new_course, ago=60, client=client, by=practitioner)
    # A client with two old courses: listed once, for the most recent.
    twice = make_client()
    ended(new_course, ago=900, client=twice, by=practitioner)
    latest = ended(new_course, ago=300, client=twice, by=practitioner)
    # A client who ended a course long ago and has an active one now.
    active_client = make_client()
    ended(new_course, ago=400, client=active_client, by=practitioner)
    active = new_course(started=100, client=active_client)

    listed = recall(reason=Recall.MAINTENANCE)

    assert listed == {
        seven_months.pk: Recall.MAINTENANCE,
        exactly_six.pk: Recall.MAINTENANCE,
        latest.pk: Recall.MAINTENANCE,
    }
    assert list(listed) == [latest.pk, seven_months.pk, exactly_six.pk]  # longest ago first
    assert {five_months.pk, older.pk, newer.pk, active.pk}.isdisjoint(listed)


def test_a_maintenance_contact_booked_since_the_course_ended_settles_it(
    new_course, practitioner, manager
):
    booked = ended(new_course, ago=300, by=practitioner)
    contact(booked, Outcome.BOOKED, ago=10, reason=ContactAttempt.Reason.MAINTENANCE, by=manager)
    no_answer = ended(new_course, ago=300, by=practitioner)
    contact(no_answer, Outcome.NO_ANSWER, reason=ContactAttempt.Reason.MAINTENANCE, by=manager)
    # A "due" booking made before the course ended does not settle the maintenance recall.
    due_booking = ended(new_course, ago=300, started=400, by=practitioner)
    ContactAttempt.objects.create(
        client=due_booking.client,
        course=due_booking,
        reason=ContactAttempt.Reason.DUE,
        outcome=Outcome.BOOKED,
        attempted_at=timezone.now() - datetime.timedelta(days=350),
    )

    assert set(recall()) == {no_answer.pk, due_booking.pk}
    items = {
        item.course.pk: item for item in recall_items(recall_courses(today=TODAY()), today=TODAY())
    }
    assert items[no_answer.pk].last_attempt.outcome == Outcome.NO_ANSWER
    assert items[due_booking.pk].last_attempt is None


def test_recall_filters_by_reason_last_practitioner_and_concern(
    new_course, session, colleague, practitioner
):
    overdue = new_course(started=60, concerns=(("fine-lines-wrinkles", "forehead"),))
    session(overdue, 40, by=colleague)  # led by the practitioner, last seen by the colleague
    due = new_course(started=60)
    session(due, 25)
    maintenance = ended(new_course, ago=300, lead=colleague, by=practitioner)

    assert set(recall(reason=Recall.OVERDUE)) == {overdue.pk}
    assert set(recall(reason=Recall.DUE)) == {due.pk}
    assert set(recall(reason=Recall.MAINTENANCE)) == {maintenance.pk}
    assert set(recall(practitioner=colleague)) == {overdue.pk, maintenance.pk}
    assert set(recall(practitioner=practitioner)) == {due.pk}
    fine_lines = overdue.course_concerns.get().recorded_concern.concern
    assert set(recall(concern=fine_lines)) == {overdue.pk}


def test_recall_items_say_when_and_who(new_course, session, colleague, practitioner):
    overdue = new_course(started=60)
    session(overdue, 41, by=colleague)  # due 13 days ago
    tomorrow = new_course(started=60)
    session(tomorrow, 27)  # due in 1 day
    today = new_course(started=60)
    session(today, 28)
    yesterday = new_course(started=60)
    session(yesterday, 29)
    no_session = new_course(started=1, lead=colleague)
    ended_on = months_before(TODAY(), 8)
    maintenance = ended(new_course, ago=(TODAY() - ended_on).days, by=practitioner)

    items = {
        item.course.pk: item for item in recall_items(recall_courses(today=TODAY()), today=TODAY())
    }

    assert items[overdue.pk].status == "Overdue by 13 days"
    assert items[overdue.pk].last_practitioner == colleague
    assert items[yesterday.pk].status == "Overdue by 1 day"
    assert items[today.pk].status == "Due today"
    assert items[tomorrow.pk].status == "Due in 1 day"
    assert items[tomorrow.pk].last_practitioner == practitioner
    assert items[no_session.pk].last_practitioner == colleague  # the lead when none was logged
    assert items[maintenance.pk].status == "Course ended 8 months ago"
    assert items[maintenance.pk].contact_reason == ContactAttempt.Reason.MAINTENANCE
    assert [str(c) for c in items[overdue.pk].concerns] == ["Atrophic acne scars (cheeks and chin)"]


# Recording a contact ---------------------------------------------------------------------------


def test_a_contact_for_another_clients_course_is_refused(new_course, make_client, manager):
    course = new_course(started=30)

    with pytest.raises(ValidationError) as refused:
        record_contact_attempt(
            client=make_client(),
            course=course,
            reason=ContactAttempt.Reason.DUE,
            outcome=Outcome.BOOKED,
            by=manager,
        )

    assert refused.value.message_dict == {"course": ["This course belongs to another client."]}
    assert not ContactAttempt.objects.exists()


def test_contacting_a_client_who_asked_not_to_be_is_refused(new_course, make_client, manager):
    course = new_course(started=30, client=make_client(do_not_contact=True))

    with pytest.raises(ValidationError, match="asked not to be contacted"):
        contact(course, Outcome.BOOKED, by=manager)
    contact(course, Outcome.DO_NOT_CONTACT, by=manager)  # recording the wish again is fine

    assert ContactAttempt.objects.get().outcome == Outcome.DO_NOT_CONTACT


def test_contacting_an_archived_client_is_refused(new_course, manager):
    course = new_course(started=30)
    Client.objects.filter(pk=course.client_id).update(archived=True)

    with pytest.raises(ValidationError, match="archived"):
        contact(course, Outcome.CONTACTED, by=manager)


# Outcomes against the catalogue ----------------------------------------------------------------


@pytest.fixture
def outcomes_data(new_course, session, colleague, practitioner):
    """Five acne-scar courses (one also treating fine lines) with ratings, computed by hand:

    P1: 3 of 3 sessions, completed; ratings 1, 2, 4.
    P2: 3 sessions, the second (rated 5) voided, then completed by hand: 2 sessions count;
        ratings 2, 3 at positions 1 and 2.
    P3: acne scars and fine lines, 6 of 6 sessions, completed; acne 0, 3 then unrated;
        fine lines 2 at session 1.
    P4: stopped after 1 session rated 3.
    P5: led by the colleague, started 500 days ago, active, 1 session rated 1.
    """
    p1 = new_course(started=200, planned=3)
    for ago, rating in [(200, 1), (172, 2), (144, 4)]:
        session(p1, ago, rating)
    p2 = new_course(started=200, planned=5)
    session(p2, 200, 2)
    voided = session(p2, 172, 5)
    session(p2, 144, 3)
    void_session(session=voided, reason="Logged on the wrong client", by=practitioner)
    complete_course(course=p2, by=practitioner, reason="Happy with the result", on=days_ago(100))
    p3 = new_course(
        started=200,
        planned=6,
        concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")),
    )
    session(p3, 200, 0, 2)
    session(p3, 172, 3)
    for ago in (144, 116, 88, 60):
        session(p3, ago)
    p4 = new_course(started=200)
    session(p4, 200, 3)
    stop_course(course=p4, by=practitioner, reason="Moved away", on=days_ago(150))
    p5 = new_course(started=500, lead=colleague)
    session(p5, 500, 1, by=colleague)
    for course in (p1, p2, p3):
        course.refresh_from_db()
        assert course.status == Course.Status.COMPLETED
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5}


def by_slug(outcomes):
    return {outcome.concern.slug: outcome for outcome in outcomes}


def test_outcomes_per_concern_against_the_catalogue(outcomes_data):
    outcomes = by_slug(concern_outcomes())
    acne, lines = outcomes["acne-scars"], outcomes["fine-lines-wrinkles"]

    assert (acne.started, acne.completed, acne.stopped, acne.active) == (5, 3, 1, 1)
    assert acne.completion == {3: 1, 2: 1, 6: 1}
    assert (acne.sessions_min, acne.sessions_median, acne.sessions_max) == (2, 3, 6)
    assert acne.outside_typical == 1  # P2's 2 sessions, below the typical 3-6
    assert acne.ratings == {
        1: (pytest.approx(7 / 5), 5),
        2: (pytest.approx(8 / 3), 3),
        3: (pytest.approx(4.0), 1),
    }
    assert (lines.started, lines.completed, lines.stopped, lines.active) == (1, 1, 0, 0)
    assert (lines.sessions_min, lines.sessions_median, lines.sessions_max) == (6, 6, 6)
    assert lines.outside_typical == 0
    assert lines.ratings == {1: (pytest.approx(2.0), 1)}
    untouched = outcomes["melasma"]
    assert (untouched.started, untouched.completion, untouched.ratings) == (0, {}, {})
    assert len(outcomes) == 12  # every catalogue concern, in name order


def test_outcomes_filtered_by_start_date_and_practitioner(outcomes_data, colleague):
    recent = by_slug(concern_outcomes(started_from=days_ago(300)))["acne-scars"]
    old = by_slug(concern_outcomes(started_to=days_ago(300)))["acne-scars"]
    exact = by_slug(concern_outcomes(started_from=days_ago(500), started_to=days_ago(500)))
    theirs = by_slug(concern_outcomes(practitioner=colleague))["acne-scars"]

    assert (recent.started, recent.active) == (4, 0)
    assert recent.ratings[1] == (pytest.approx(6 / 4), 4)
    assert (old.started, old.completed, old.active, old.ratings) == (1, 0, 1, {1: (1.0, 1)})
    assert exact["acne-scars"].started == 1
    assert (theirs.started, theirs.ratings) == (1, {1: (1.0, 1)})


# Practitioner activity -------------------------------------------------------------------------


def test_sessions_per_practitioner_per_week_and_month(new_course, session, colleague, practitioner):
    today = TODAY()
    monday = today - datetime.timedelta(days=today.weekday())
    first = today.replace(day=1)
    year_ago = new_course(started=800, planned=20)
    # Outside both windows, then the first day of each window.
    session(year_ago, (today - months_before(first, 12)).days)
    session(year_ago, (today - months_before(first, 11)).days)
    session(year_ago, (today - (monday - datetime.timedelta(weeks=12))).days)
    session(year_ago, (today - (monday - datetime.timedelta(weeks=11))).days)
    mistaken = session(year_ago, (today - monday).days)
    session(year_ago, (today - monday).days)
    session(year_ago, 0, by=colleague)
    void_session(session=mistaken, reason="Duplicate", by=practitioner)

    activity = practitioner_activity(today=today)

    assert activity.weeks[0] == monday - datetime.timedelta(weeks=11)
    assert activity.weeks[-1] == monday
    assert activity.months[0] == months_before(first, 11)
    assert activity.months[-1] == first
    rows = {row.practitioner: row for row in activity.rows}
    assert [row.name for row in activity.rows] == ["Alex Smith", "Beth Jones"]
    assert rows[practitioner].weekly == [1] + [0] * 10 + [1]
    assert rows[colleague].weekly == [0] * 11 + [1]
    expected_months = [0] * 12
    for day in [
        months_before(first, 11),
        monday - datetime.timedelta(weeks=12),
        monday - datetime.timedelta(weeks=11),
        monday,
    ]:
        expected_months[(day.year - first.year) * 12 + day.month - first.month + 11] += 1
    assert rows[practitioner].monthly == expected_months
    assert rows[colleague].monthly == [0] * 11 + [1]


def test_no_activity_no_rows():
    assert practitioner_activity(today=TODAY()).rows == []


# Lot traceability ------------------------------------------------------------------------------


def test_lot_sessions_match_the_lot_ignoring_case_and_leave_voided_ones_out(
    new_course, session, product, practitioner
):
    serum, other = product("Hyaluronic"), product("Peptide")
    first = new_course(started=100, planned=10)
    a = session(first, 90, products=[(serum, "AB123")])
    b = session(first, 60, products=[(serum, "ab123 "), (other, "X1")])
    session(first, 30, products=[(serum, "AB1234")])
    session(first, 20, products=[(other, "AB123")])
    voided = session(first, 10, products=[(serum, "AB123")])
    void_session(session=voided, reason="Wrong client", by=practitioner)
    second = new_course(started=100)
    c = session(second, 50, products=[(serum, "Ab123")])

    found = lot_sessions(product=serum, lot=" ab123 ")

    assert list(found) == [c, b, a]


# Course printout -------------------------------------------------------------------------------


def test_course_schedule_gives_done_sessions_then_target_dates(new_course, session, practitioner):
    course = new_course(started=60, planned=4)
    first = session(course, 56)
    second = session(course, 28)
    course.refresh_from_db()

    schedule = course_schedule(course, [first, second])

    assert [(s.position, s.on, s.done) for s in schedule] == [
        (1, days_ago(56), True),
        (2, days_ago(28), True),
        (3, TODAY(), False),
        (4, TODAY() + datetime.timedelta(weeks=4), False),
    ]
    stopped = stop_course(course=course, by=practitioner, reason="Moved away")
    assert [s.position for s in course_schedule(stopped, [first, second])] == [1, 2]


def record_the_call(course, by, **details):
    return record_contact_attempt(
        client=course.client,
        course=course,
        reason=ContactAttempt.Reason.DUE,
        outcome=Outcome.NO_ANSWER,
        by=by,
        **{"note": "Left a voicemail.", **details},
    )


def test_the_same_call_recorded_twice_at_once_is_one_contact(new_course, manager):
    course = new_course(started=30)

    first = record_the_call(course, manager)
    again = record_the_call(course, manager)

    assert again == first
    assert ContactAttempt.objects.count() == 1


def test_a_call_alike_but_a_minute_later_or_by_someone_else_is_another_contact(
    new_course, manager, practitioner
):
    course = new_course(started=30)
    first = record_the_call(course, manager)
    ContactAttempt.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=61)
    )

    record_the_call(course, manager)
    record_the_call(course, practitioner)
    record_the_call(course, manager, note="Spoke to her husband.")

    assert ContactAttempt.objects.count() == 4


def test_calls_entered_afterwards_for_different_times_are_each_kept(new_course, manager):
    course = new_course(started=30)
    earlier = timezone.now() - datetime.timedelta(days=3)

    record_the_call(course, manager, attempted_at=earlier)
    record_the_call(course, manager, attempted_at=earlier + datetime.timedelta(days=1))
    record_the_call(course, manager, attempted_at=earlier)

    assert ContactAttempt.objects.count() == 2


def test_outcomes_count_not_assessed_apart_and_never_average_it(new_course, practitioner):
    course = new_course(started=100)
    rc = course.course_concerns.get().recorded_concern
    for days, rating in [(90, 3), (60, None), (30, None)]:
        log_session(
            course=course,
            check_asked=True,
            practitioner=practitioner,
            by=practitioner,
            performed_on=days_ago(days),
            areas=[(rc.area, Decimal("1.50"))],
            progress=[(rc, rating, None)],
        )

    acne = by_slug(concern_outcomes())["acne-scars"]

    assert acne.ratings == {1: (pytest.approx(3.0), 1)}
    assert acne.not_assessed == 2
