"""One write per submission: every create form posted twice (a double click, a resend, a retry
after a timeout), one after the other or at the same moment, saves once and shows the first
result (clinic.submissions)."""

import datetime
import io
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Concern
from clinic.models import Submission
from consultations.models import Client, Consultation
from tests.consultations.test_views import client_data, concerns_management, findings_management
from tests.pages import submission_keys, text
from tests.treatments.test_concurrency import until_waiting
from tests.treatments.test_photos import image_bytes, upload
from tests.treatments.test_views import course_data, session_data
from treatments.models import ContactAttempt, Course, Photo, TreatmentSession

pytestmark = pytest.mark.django_db

ALREADY_SAVED = "This was already saved at"


@dataclass
class CreateForm:
    """A create form as a user meets it: the page that draws it, where it posts, what it posts
    (made afresh for each post: an uploaded file is read once) and the rows it writes."""

    browser: Browser
    page_url: str
    post_url: str
    data: Callable[[], dict]
    rows: Callable[[], int]

    def key(self):
        return submission_keys(self.browser.get(self.page_url))[0]

    def post(self, key, **extra):
        return self.browser.post(self.post_url, {**self.data(), "submission_key": key}, **extra)


CREATES = ["client", "consultation", "course", "session", "recall contact", "photos"]


@pytest.fixture
def create_form(request, signed_in, manager_client, make_client, make_consultation, make_course):
    kind = request.param
    if kind == "client":
        url = reverse("consultations:client-create")
        # The same person twice is flagged as a possible duplicate: the practitioner confirms
        # "This is a different person" on both forms.
        return CreateForm(
            signed_in, url, url, lambda: client_data(different_person="on"), Client.objects.count
        )
    if kind == "consultation":
        person = make_client()
        url = reverse("consultations:consultation-create", kwargs={"pk": person.pk})
        return CreateForm(
            signed_in, url, url, lambda: consultation_data(), Consultation.objects.count
        )
    if kind == "course":
        consultation = make_consultation()
        url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})
        return CreateForm(
            signed_in, url, url, lambda: course_data(consultation), Course.objects.count
        )
    if kind == "session":
        course = make_course()
        url = reverse("treatments:session-create", kwargs={"pk": course.pk})
        return CreateForm(
            signed_in,
            url,
            url,
            # A second session the same day is sooner than the interval: it says why.
            lambda: session_data(course, interval_reason="Two forms in one test."),
            TreatmentSession.objects.count,
        )
    if kind == "recall contact":
        course = make_course()  # started 120 days ago, no session yet: overdue
        return CreateForm(
            manager_client,
            reverse("reports:recall"),
            reverse("reports:recall-contact"),
            lambda: {
                "client": course.client_id,
                "course": course.pk,
                "reason": ContactAttempt.Reason.DUE,
                "outcome": ContactAttempt.Outcome.NO_ANSWER,
                "note": "",
            },
            ContactAttempt.objects.count,
        )
    assert kind == "photos"
    consultation = make_consultation(photo_consent=True)
    return CreateForm(
        signed_in,
        consultation.get_absolute_url(),
        reverse("treatments:consultation-photo-create", args=[consultation.pk]),
        lambda: {"photos": [upload(image_bytes())], "photo_area": "cheeks", "photo_angle": "front"},
        Photo.objects.count,
    )


def consultation_data():
    return {
        "held_on": timezone.localdate().isoformat(),
        "consent_given": "on",
        "consent_by": "The client",
        "consent_scope": "Micro-needling of the recorded areas",
        "notes": "",
        **concerns_management(total=1),
        **findings_management(),
        "concerns-0-concern": str(Concern.objects.get(slug="acne-scars").pk),
        "concerns-0-area": "cheeks",
        "concerns-0-severity": "moderate",
    }


# Posted twice, one after the other -------------------------------------------------------------


@pytest.mark.parametrize("create_form", CREATES, indirect=True)
def test_a_form_posted_twice_saves_once_and_shows_the_first_result(create_form):
    key = create_form.key()

    first = create_form.post(key)
    second = create_form.post(key, follow=True)

    assert first.status_code == HTTPStatus.FOUND
    assert create_form.rows() == 1
    assert second.redirect_chain == [(first["Location"], HTTPStatus.FOUND)]
    assert second.status_code == HTTPStatus.OK
    assert ALREADY_SAVED in text(second)
    assert Submission.objects.get(key=key).url == first["Location"]


# Not the recall contact (one contact per call: the same call recorded again within a minute is
# the same contact) nor the course (a second course from a consultation takes a ticked box).
@pytest.mark.parametrize(
    "create_form", ["client", "consultation", "session", "photos"], indirect=True
)
def test_every_page_shown_draws_a_new_key_so_two_forms_save_twice(create_form):
    first, second = create_form.key(), create_form.key()

    create_form.post(first)
    create_form.post(second)

    assert first != second
    assert create_form.rows() == 2


def test_the_repeat_tells_what_the_first_post_saved(signed_in, make_course):
    course = make_course(planned_sessions=4)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    key = submission_keys(signed_in.get(url))[0]

    signed_in.post(url, {**session_data(course), "submission_key": key})
    repeat = signed_in.post(url, {**session_data(course), "submission_key": key}, follow=True)

    said = text(repeat)
    assert f"Session 1 of 4 logged for {course.client}." in said
    assert said.count("Session 1 of 4 logged") == 1  # not the rolled-back second attempt's
    assert "Session 2 of 4" not in said


def test_a_repeat_refused_because_of_the_first_post_shows_the_first_result(signed_in, make_course):
    """The first post completed a one-session course: the repeat is not told "this course is
    completed", it is sent to what the first post saved."""
    course = make_course(planned_sessions=1)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    key = submission_keys(signed_in.get(url))[0]

    first = signed_in.post(url, {**session_data(course), "submission_key": key})
    second = signed_in.post(url, {**session_data(course), "submission_key": key}, follow=True)

    assert second.redirect_chain == [(first["Location"], HTTPStatus.FOUND)]
    assert ALREADY_SAVED in text(second)
    assert "no more sessions can be logged" not in text(second)
    assert course.sessions.count() == 1


def test_a_refused_form_comes_back_with_its_key_and_saves_once_when_corrected(
    signed_in, make_course
):
    course = make_course()
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    key = submission_keys(signed_in.get(url))[0]

    refused = signed_in.post(
        url, {**session_data(course, areas=[("cheeks", "4.00")]), "submission_key": key}
    )
    saved = signed_in.post(url, {**session_data(course), "submission_key": key})
    repeated = signed_in.post(url, {**session_data(course), "submission_key": key})

    assert refused.status_code == HTTPStatus.OK
    assert submission_keys(refused) == [key]
    assert saved.status_code == repeated.status_code == HTTPStatus.FOUND
    assert repeated["Location"] == saved["Location"]
    assert course.sessions.count() == 1


def test_a_failed_photo_upload_keeps_its_key_free(signed_in, make_consultation):
    consultation = make_consultation(photo_consent=True)
    url = reverse("treatments:consultation-photo-create", args=[consultation.pk])
    key = submission_keys(signed_in.get(consultation.get_absolute_url()))[0]
    bad = {"photos": [upload(b"text", "x.jpg")], "photo_area": "cheeks", "submission_key": key}

    refused = signed_in.post(url, bad, follow=True)
    good = {"photos": [upload(image_bytes())], "photo_area": "cheeks", "photo_angle": "front"}
    saved = signed_in.post(url, {**good, "submission_key": key}, follow=True)

    assert "x.jpg is not a photo this tracker accepts" in text(refused)
    assert "1 photo(s) added." in text(saved)
    assert ALREADY_SAVED not in text(saved)
    assert consultation.photos.count() == 1


def test_each_recall_line_has_a_key_of_its_own(manager_client, make_course):
    make_course(), make_course()

    keys = submission_keys(manager_client.get(reverse("reports:recall")))

    assert len(keys) == len(set(keys)) == 2


def test_update_forms_carry_no_key(signed_in, make_client, make_course, log):
    person = make_client()
    session = log(make_course(), timezone.localdate())

    for url in (
        reverse("consultations:client-update", kwargs={"pk": person.pk}),
        reverse("treatments:session-update", kwargs={"pk": session.pk}),
    ):
        assert submission_keys(signed_in.get(url)) == []


def test_another_users_key_is_refused_and_saves_nothing(signed_in, make_user):
    url = reverse("consultations:client-create")
    key = submission_keys(signed_in.get(url))[0]
    signed_in.post(url, {**client_data(), "submission_key": key})
    colleague = Browser()
    colleague.force_login(make_user("colleague"))

    response = colleague.post(url, {**client_data(first_name="Other"), "submission_key": key})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already sent from another account" in response.content.decode()
    assert Client.objects.count() == 1


@pytest.mark.parametrize("key", ["", "not-a-key", "0" * 500])
def test_a_post_without_a_usable_key_saves_as_before(signed_in, key):
    response = signed_in.post(
        reverse("consultations:client-create"), {**client_data(), "submission_key": key}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Client.objects.count() == 1
    assert not Submission.objects.exists()


def test_a_signed_out_post_is_sent_to_sign_in_and_records_nothing(client):
    response = client.post(
        reverse("reports:recall-contact"),
        {"outcome": "booked", "submission_key": "6f1c1b0e-8a5c-4a35-9d7e-2f1f3c0b9a11"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("login"))
    assert not Submission.objects.exists()


# Keys are purged when old -------------------------------------------------------------------------


def test_purge_submissions_removes_keys_older_than_the_days_given(signed_in, practitioner):
    old = Submission.objects.create(
        key="6f1c1b0e-8a5c-4a35-9d7e-2f1f3c0b9a11",
        user=practitioner,
        url="/",
        created_at=timezone.now() - datetime.timedelta(days=31),
    )
    recent = Submission.objects.create(
        key="7f1c1b0e-8a5c-4a35-9d7e-2f1f3c0b9a11", user=practitioner, url="/"
    )
    out = io.StringIO()

    call_command("purge_submissions", stdout=out)

    assert list(Submission.objects.all()) == [recent]
    assert "1 form key saved more than 30 days ago removed." in out.getvalue()
    assert not Submission.objects.filter(pk=old.pk).exists()


# Posted twice at the same moment (PostgreSQL: real connections, real locks) -------------------

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)


def post_at_once(browsers, url, data, *, second_starts):
    """Post `data` from two signed-in browsers in two threads, each on its own database
    connection; the second starts when `second_starts` (an Event) is set."""
    responses, errors = [None, None], []

    def post(n):
        try:
            if n == 1:
                assert second_starts.wait(10)
            responses[n] = browsers[n].post(url, data)
        except Exception as error:  # a 500 would be raised by the test client
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return responses


def two_browsers(user):
    browsers = [Browser(), Browser()]
    for browser in browsers:
        browser.force_login(user)
    return browsers


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_session_posted_twice_at_once_is_logged_once(practitioner, make_course, monkeypatch):
    """The first post holds the course's lock while the second arrives and waits for it."""
    import treatments.views

    course = make_course(planned_sessions=6)
    inside = threading.Event()
    real = treatments.views.log_session_on_locked

    def slow_first(**kwargs):
        if not inside.is_set():
            inside.set()  # the second post starts now, and waits on the course's lock
            time.sleep(0.5)
        return real(**kwargs)

    monkeypatch.setattr(treatments.views, "log_session_on_locked", slow_first)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    data = {**session_data(course), "submission_key": "6f1c1b0e-8a5c-4a35-9d7e-2f1f3c0b9a11"}

    first, second = post_at_once(two_browsers(practitioner), url, data, second_starts=inside)

    assert first.status_code == second.status_code == HTTPStatus.FOUND
    assert first["Location"] == second["Location"] == course.client.get_absolute_url()
    assert course.sessions.count() == 1
    course.refresh_from_db()
    assert course.sessions_logged == 1
    assert Submission.objects.count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_course_started_twice_at_once_is_started_once(
    practitioner, make_consultation, monkeypatch
):
    """The first post starts its course and, before committing, waits until the second is
    waiting for the consultation's lock; when the first commits, the second finds the course
    started and is sent to it, its own rolled back."""
    import treatments.views

    consultation = make_consultation()
    real = treatments.views.start_course
    started = itertools.count()

    def start_and_meet(**kwargs):
        course = real(**kwargs)
        if next(started) == 0:
            until_waiting(1)  # the other post, on the consultation's lock
        return course

    monkeypatch.setattr(treatments.views, "start_course", start_and_meet)
    url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})
    data = {**course_data(consultation), "submission_key": "6f1c1b0e-8a5c-4a35-9d7e-2f1f3c0b9a11"}
    go = threading.Event()
    go.set()

    first, second = post_at_once(two_browsers(practitioner), url, data, second_starts=go)

    course = Course.objects.get(consultation=consultation)
    assert first.status_code == second.status_code == HTTPStatus.FOUND
    assert first["Location"] == second["Location"] == course.get_absolute_url()
    assert course.course_concerns.count() == 1
    assert Submission.objects.count() == 1
