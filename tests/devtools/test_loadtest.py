"""`manage.py loadtest` prepares what wrk sends: real sign-ins, CSRF tokens and session forms.

The run itself (gunicorn and wrk, 30 seconds) is `make loadtest`; these check that what it
sends is what the application accepts, so a run measures work done, not refusals.
"""

import random
from http import HTTPStatus
from urllib.parse import parse_qsl

import pytest
from django.core.management import call_command
from django.test import Client as DjangoClient
from django.urls import reverse

from devtools.management.commands import loadtest
from stock.models import Lot
from treatments.models import Course, SessionProduct, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def bulk_data():
    call_command("seed_demo", "--clients", "30", "--sessions", "120", stdout=None)


def browser_with(cookie_header):
    """A test client that checks CSRF and carries the load test's Cookie header."""
    browser = DjangoClient(enforce_csrf_checks=True)
    for pair in cookie_header.split("; "):
        name, value = pair.split("=", 1)
        browser.cookies[name] = value
    return browser


def test_prepared_sessions_are_signed_in_and_log_real_sessions(bulk_data):
    user = loadtest.aestheticians()[0]
    csrf_cookie, csrf_token = loadtest.csrf_pair()
    browser = browser_with(f"sessionid={loadtest.signed_in_session(user)}; csrftoken={csrf_cookie}")
    slots, courses = loadtest.session_slots(random.Random(1), 12, csrf_token)
    before = TreatmentSession.objects.count()

    today = browser.get(reverse("today"))
    answers = [browser.post(path, dict(parse_qsl(body))) for path, body in slots]

    assert today.status_code == HTTPStatus.OK
    assert today.context["user"] == user
    assert len(slots) == 12 and courses <= 12
    assert [answer.status_code for answer in answers] == [HTTPStatus.FOUND] * 12
    assert TreatmentSession.objects.count() == before + 12
    # Each names a serum's lot from stock, in use and in date.
    logged = TreatmentSession.objects.order_by("-pk")[:12]
    lots = SessionProduct.objects.filter(session__in=logged).values_list("lot__status", flat=True)
    assert list(lots) == [Lot.Status.IN_USE] * 12


def test_no_course_is_given_more_sessions_than_it_has_left(bulk_data):
    slots, _ = loadtest.session_slots(random.Random(1), 10_000, "token")
    per_course = {}
    for path, _body in slots:
        per_course[path] = per_course.get(path, 0) + 1
    for course in Course.objects.active():
        path = reverse("treatments:session-create", args=[course.pk])
        assert per_course.get(path, 0) <= course.planned_sessions - course.sessions_logged
