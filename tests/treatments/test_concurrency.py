"""Courses count right under any interleaving, on PostgreSQL with real concurrent transactions.

Each test runs two (or more) transactions in threads, each with its own database connection,
and forces the interleaving: the first holds the course's lock, having written, until the
second is seen waiting for that lock (in pg_stat_activity); then the first commits. Whatever
the order, a course's status, count, last session and next due date agree with its sessions
that count, and a refusal is a message, never a server error.
"""

import datetime
import threading
from decimal import Decimal
from functools import partial
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from clinic.admin import RECORD_BUSY
from tests.pages import field_errors, text
from tests.treatments.test_record_admin import admin_form_data
from tests.treatments.test_views import session_data
from treatments.models import Course
from treatments.services import (
    change_course,
    correct_session,
    log_session,
    start_course,
    void_session,
)
from treatments.views import COURSE_BUSY

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="interleaves transactions on PostgreSQL"
    ),
    # Real transactions, seen by other connections; the catalogue and the roles, which
    # migrations load, are put back for each test.
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,  # seconds each: emptying the tables after a transactional test
]

TODAY = timezone.localdate
WAIT = 20  # seconds any step may take before the test fails instead of hanging


def weeks_ago(n):
    return TODAY() - datetime.timedelta(weeks=n)


class Worker(threading.Thread):
    """Runs `action` in its own thread, so with its own database connection."""

    def __init__(self, action):
        super().__init__(daemon=True)
        self.action = action
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.action()
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            self.error = error
        finally:
            connections.close_all()

    def outcome(self):
        self.join(WAIT)
        assert not self.is_alive(), "still running: a transaction never finished"
        return self.result


def waiting_for_a_lock():
    """How many connections to the test database are waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def until_waiting(count):
    deadline = timezone.now() + datetime.timedelta(seconds=WAIT)
    while waiting_for_a_lock() < count:
        assert timezone.now() < deadline, f"{count} transactions never waited for the lock"
        threading.Event().wait(0.02)


def interleave(first, *then):
    """Run `first` in a transaction that keeps its locks until every action in `then`, each
    started in a thread of its own, waits for one; then commit `first`. The workers, `first`'s
    first, once all have finished."""
    written, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                result = first()
                written.set()
                assert release.wait(WAIT)
            return result
        finally:
            written.set()

    holder = Worker(hold)
    holder.start()
    assert written.wait(WAIT)
    assert holder.error is None, holder.error
    waiters = []
    for action in then:  # started one by one: they are granted the lock in this order
        waiters.append(Worker(action))
        waiters[-1].start()
        until_waiting(len(waiters))
    release.set()
    for worker in (holder, *waiters):
        worker.outcome()
    return holder, *waiters


def hold_lock(course):
    """An action for interleave(): lock `course` and write nothing."""
    return partial(Course.objects.select_for_update().get, pk=course.pk)


def assert_agrees_with_its_sessions(course):
    """The course's status, count, last session and next due date, from its sessions."""
    course.refresh_from_db()
    valid = list(course.sessions.valid().order_by("performed_on"))
    last = valid[-1].performed_on if valid else None
    numbers = list(course.sessions.values_list("number", flat=True).order_by("number"))
    assert numbers == list(range(1, len(numbers) + 1))
    assert (course.sessions_logged, course.last_session_on) == (len(valid), last)
    if course.status == Course.Status.ACTIVE:
        assert course.sessions_logged < course.planned_sessions
        due = last + datetime.timedelta(weeks=course.interval_weeks) if last else course.start_date
        assert (course.next_due_on, course.ended_on) == (due, None)
    else:
        assert course.next_due_on is None
    return course


@pytest.fixture
def course_with(make_course, log):
    """A course of `planned` sessions with sessions logged `weeks` weeks ago (oldest first)."""

    def make(planned, *weeks):
        course = make_course(planned_sessions=planned, interval_weeks=2)
        sessions = [log(course, weeks_ago(n)) for n in weeks]
        return course, sessions

    return make


@pytest.fixture
def logs(practitioner):
    """An action logging a session on `course` (today unless `on`), as the practitioner."""

    def action(course, on=None, by=None):
        by = by or practitioner
        return partial(
            log_session,
            course=course,
            practitioner=by,
            by=by,
            performed_on=on or TODAY(),
            areas=[("cheeks", Decimal("1.50"))],
            check_asked=True,
            # Sessions here are dated for the race, not the interval (tested elsewhere).
            interval_reason=SOONER,
        )

    return action


SOONER = "Sessions dated for the race, not for the interval."


def posts(browser, url, data):
    return partial(browser.post, url, data)


# Log and log ------------------------------------------------------------------------------------


def test_two_sessions_logged_at_once_on_a_course_with_room_are_both_logged(course_with, logs):
    course, _ = course_with(4, 6)

    first, second = interleave(logs(course), logs(course))

    assert (first.error, second.error) == (None, None)
    assert (first.result.number, second.result.number) == (2, 3)
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.ACTIVE, "session 3 of 4")


def test_a_session_logged_on_a_course_just_completed_is_refused_in_the_form(
    course_with, logs, signed_in
):
    course, _ = course_with(3, 6, 4)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    data = session_data(course, notes="Notes of the second practitioner.", interval_reason=SOONER)

    first, second = interleave(logs(course), posts(signed_in, url, data))

    assert (first.error, second.error) == (None, None)
    response = second.result
    assert response.status_code == HTTPStatus.OK
    assert "This course is completed: no more sessions can be logged on it." in text(response)
    assert "Notes of the second practitioner." in response.content.decode()
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.COMPLETED, "session 3 of 3")


def test_five_managers_logging_the_last_session_at_once_write_it_once(course_with, make_user):
    course, _ = course_with(6, 10, 8, 6, 4, 2)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    managers = []
    for n in range(5):
        browser = DjangoClient()
        browser.force_login(make_user(f"manager{n}", role=roles.MANAGER))
        managers.append(posts(browser, url, session_data(course, interval_reason=SOONER)))

    _, *waiters = interleave(hold_lock(course), *managers)

    assert [w.error for w in waiters] == [None] * 5
    statuses = sorted(w.result.status_code for w in waiters)
    assert statuses == [HTTPStatus.OK] * 4 + [HTTPStatus.FOUND]
    for refused in (w.result for w in waiters if w.result.status_code == HTTPStatus.OK):
        assert "This course is completed" in text(refused)
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.COMPLETED, "session 6 of 6")
    assert course.sessions.count() == 6


# Log and void -----------------------------------------------------------------------------------


def test_a_session_logged_while_another_is_voided_counts_only_valid_sessions(
    course_with, logs, practitioner
):
    course, (_, second) = course_with(3, 4, 2)
    voids = partial(void_session, session=second, reason="Wrong client.", by=practitioner)

    first, logged = interleave(voids, logs(course))

    assert (first.error, logged.error) == (None, None)
    assert logged.result.number == 3
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.ACTIVE, "session 2 of 3")


def test_a_session_voided_while_the_last_is_logged_reopens_the_course(
    course_with, logs, practitioner
):
    course, (_, second) = course_with(3, 4, 2)
    voids = partial(void_session, session=second, reason="Wrong client.", by=practitioner)

    logged, voided = interleave(logs(course), voids)

    assert (logged.error, voided.error) == (None, None)
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.ACTIVE, "session 2 of 3")


# Log and correct --------------------------------------------------------------------------------


def test_a_session_logged_while_another_is_redated_is_checked_against_the_new_date(
    course_with, logs, practitioner
):
    course, (_, second) = course_with(4, 6, 4)
    redates = partial(correct_session, session=second, by=practitioner, performed_on=weeks_ago(1))

    corrected, logged = interleave(redates, logs(course, on=weeks_ago(2)))

    assert corrected.error is None
    assert isinstance(logged.error, ValidationError)
    assert "log sessions in the order they happened" in logged.error.messages[0]
    course = assert_agrees_with_its_sessions(course)
    assert course.last_session_on == weeks_ago(1)


def test_a_session_redated_while_the_last_is_logged_keeps_the_course_complete(
    course_with, logs, practitioner
):
    course, (_, second) = course_with(3, 6, 4)
    redates = partial(correct_session, session=second, by=practitioner, performed_on=weeks_ago(3))

    logged, corrected = interleave(logs(course), redates)

    assert (logged.error, corrected.error) == (None, None)
    course = assert_agrees_with_its_sessions(course)
    assert course.status == Course.Status.COMPLETED
    assert course.ended_on == course.last_session_on == TODAY()


# The admin's paths ------------------------------------------------------------------------------


def test_a_managers_correction_in_the_admin_while_a_session_is_logged(
    course_with, logs, manager_client
):
    course, (_, second) = course_with(3, 6, 4)
    url = reverse("admin:treatments_treatmentsession_change", args=[second.pk])
    data = admin_form_data(manager_client.get(url), performed_on=weeks_ago(3).isoformat())

    logged, corrected = interleave(logs(course), posts(manager_client, url, data))

    assert (logged.error, corrected.error) == (None, None)
    assert corrected.result.status_code == HTTPStatus.FOUND
    second.refresh_from_db()
    assert second.performed_on == weeks_ago(3)
    course = assert_agrees_with_its_sessions(course)
    assert course.ended_on == course.last_session_on == TODAY()


def test_a_course_changed_in_the_admin_while_a_session_is_logged_is_refused_as_stale(
    course_with, logs, manager_client
):
    course, _ = course_with(4, 6, 4)
    url = reverse("admin:treatments_course_change", args=[course.pk])
    data = admin_form_data(manager_client.get(url), planned_sessions="2")

    logged, changed = interleave(logs(course), posts(manager_client, url, data))

    assert (logged.error, changed.error) == (None, None)
    assert changed.result.status_code == HTTPStatus.OK
    assert "This record was changed while you were editing it." in text(changed.result)
    course = assert_agrees_with_its_sessions(course)
    assert (course.planned_sessions, course.progress_label) == (4, "session 3 of 4")


def test_a_course_is_not_planned_below_a_session_logged_meanwhile(course_with, logs, manager):
    course, _ = course_with(4, 6, 4)
    plans = partial(change_course, course=course, by=manager, planned_sessions=2)

    logged, planned = interleave(logs(course), plans)

    assert logged.error is None
    assert planned.error.message_dict == {
        "planned_sessions": ["This course has 3 sessions logged: it cannot plan fewer."]
    }
    course = assert_agrees_with_its_sessions(course)
    assert (course.planned_sessions, course.progress_label) == (4, "session 3 of 4")


def test_a_session_logged_while_the_course_is_planned_down_is_refused(course_with, logs, manager):
    course, _ = course_with(4, 6, 4)
    plans = partial(change_course, course=course, by=manager, planned_sessions=2)

    planned, logged = interleave(plans, logs(course))

    assert planned.error is None
    assert "This course is completed" in logged.error.messages[0]
    course = assert_agrees_with_its_sessions(course)
    assert (course.status, course.progress_label) == (Course.Status.COMPLETED, "session 2 of 2")


# A busy course ----------------------------------------------------------------------------------


@pytest.fixture
def short_lock_timeout(monkeypatch):
    """Connections opened from now on wait at most 0.3 s for a lock."""
    options = connection.settings_dict["OPTIONS"]
    monkeypatch.setitem(options, "options", f"{options['options']} -c lock_timeout=300")


def test_a_session_posted_while_its_course_is_saved_answers_try_again_with_the_input_kept(
    course_with, signed_in, short_lock_timeout
):
    course, _ = course_with(4, 6)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    data = session_data(
        course,
        device_model="Dermapen 4 typed",
        notes="Typed before the wait.",
        interval_reason=SOONER,
    )

    _, posted = interleave_busy(course, posts(signed_in, url, data))

    response = posted.result
    assert response.status_code == HTTPStatus.OK
    assert COURSE_BUSY in text(response)
    page = response.content.decode()
    assert 'value="Dermapen 4 typed"' in page
    assert "Typed before the wait." in page
    assert course.sessions.count() == 1


def test_a_course_stopped_while_it_is_saved_answers_try_again_with_the_reason_kept(
    course_with, signed_in, short_lock_timeout
):
    course, _ = course_with(4, 6)
    data = {
        "stop-version": str(course.version),
        "stop-ended_on": TODAY().isoformat(),
        "stop-end_reason": "Moving abroad, typed.",
    }
    url = reverse("treatments:course-stop", kwargs={"pk": course.pk})

    _, posted = interleave_busy(course, posts(signed_in, url, data))

    assert field_errors(posted.result, "id_stop-end_reason") == []
    assert COURSE_BUSY in text(posted.result)
    assert "Moving abroad, typed." in posted.result.content.decode()
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


def test_a_course_changed_in_the_admin_while_it_is_saved_answers_try_again(
    course_with, manager_client, short_lock_timeout
):
    course, _ = course_with(4, 6)
    url = reverse("admin:treatments_course_change", args=[course.pk])
    data = admin_form_data(manager_client.get(url), planned_sessions="6")

    _, posted = interleave_busy(course, posts(manager_client, url, data))

    assert posted.result.status_code == HTTPStatus.FOUND
    assert RECORD_BUSY in text(manager_client.get(posted.result.url))
    course.refresh_from_db()
    assert course.planned_sessions == 4


def interleave_busy(course, action):
    """Hold `course`'s lock while `action` runs in another thread, until it has finished."""
    locked, finished = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Course.objects.select_for_update().get(pk=course.pk)
            locked.set()
            assert finished.wait(WAIT)

    holder = Worker(hold)
    holder.start()
    assert locked.wait(WAIT)
    worker = Worker(action)
    worker.start()
    worker.outcome()
    finished.set()
    holder.outcome()
    assert (holder.error, worker.error) == (None, None)
    return holder, worker


# Start and start ---------------------------------------------------------------------------------


def test_two_courses_started_at_once_from_one_consultation_start_one(
    make_consultation, practitioner
):
    consultation = make_consultation()
    start = partial(
        start_course,
        consultation=consultation,
        recorded_concerns=list(consultation.concerns.all()),
        planned_sessions=3,
        interval_weeks=4,
        practitioner=practitioner,
        by=practitioner,
        start_date=consultation.held_on,
        cautions_acknowledged=True,
        refuse_if_running=True,
    )

    first, second = interleave(start, start)

    assert first.error is None
    assert isinstance(second.error, ValidationError)
    assert "was started a moment ago" in " ".join(second.error.messages)
    assert list(Course.objects.filter(consultation=consultation)) == [first.result]
