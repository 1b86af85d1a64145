"""Idle logoff loses no typed work: the warning before it, "Stay signed in", and a form posted
after it kept until its author signs in again and shown back to them, never saved unseen."""

import datetime
import json
import logging
import re
import time
from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from clinic.middleware import ACTIVE_AT, KEPT_FORM
from consultations.models import Client
from tests.conftest import PASSWORD
from tests.pages import text
from tests.treatments.test_views import session_data
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NOTES = "Mild erythema on the left cheek, settled within the hour"
KEPT_NOTICE = "Your entry was kept while you signed in again. Check it and save."


def sign_in(browser, user, next_url=""):
    return browser.post(LOGIN, {"username": user.username, "password": PASSWORD, "next": next_url})


@pytest.fixture
def browser(practitioner):
    """A practitioner signed in through the sign-in page, as a real browser would be."""
    browser = DjangoClient()
    assert sign_in(browser, practitioner).status_code == HTTPStatus.FOUND
    return browser


def end_session(browser):
    """The idle period has passed: the session row is still there, expired."""
    key = browser.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )


def kept_fields(response):
    found = re.search(
        r'<script id="kept-form" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return dict(json.loads(found.group(1))) if found else None


def idle_warning(response):
    found = re.search(
        r'<div id="idle-warning"[^>]*data-seconds-left="(\d+)"', response.content.decode()
    )
    return int(found.group(1)) if found else None


class TestTheWarningBeforeTheIdleLogoff:
    def test_signed_in_pages_say_when_the_session_ends_and_offer_to_stay_signed_in(self, browser):
        response = browser.get(reverse("today"))

        assert 15 * 60 - 2 <= idle_warning(response) <= 15 * 60
        content = response.content.decode()
        assert 'data-warn-seconds="120"' in content
        assert "You will be signed out in 2 minutes to protect client records." in text(response)
        assert "Stay signed in" in text(response)
        assert "clinic/idle_warning.js" in content

    def test_the_seconds_left_count_from_the_last_save_of_the_session(self, browser):
        session = browser.session
        session[ACTIVE_AT] = int(time.time()) - 30  # saved half a minute ago, not rewritten now
        session.save()

        seconds = idle_warning(browser.get(reverse("today")))

        assert 15 * 60 - 32 <= seconds <= 15 * 60 - 30

    def test_the_sign_in_page_has_no_warning(self, client):
        response = client.get(LOGIN)
        assert idle_warning(response) is None
        assert "clinic/idle_warning.js" not in response.content.decode()

    def test_stay_signed_in_moves_the_deadline_on(self, browser):
        key = browser.cookies["sessionid"].value
        session = browser.session
        session[ACTIVE_AT] = int(time.time()) - 10  # a page 10 s ago did not rewrite it
        session.save()
        soon = timezone.now() + datetime.timedelta(minutes=1)
        Session.objects.filter(session_key=key).update(expire_date=soon)

        response = browser.post(reverse("stay-signed-in"), HTTP_ACCEPT="application/json")

        assert response.status_code == HTTPStatus.OK
        assert response.json() == {"signed_in": True, "seconds_left": 15 * 60}
        deadline = Session.objects.get(session_key=key).expire_date
        assert deadline > timezone.now() + datetime.timedelta(minutes=14)

    def test_stay_signed_in_without_javascript_returns_to_the_page(self, browser):
        response = browser.post(reverse("stay-signed-in"), {"next": "/clients/"})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == "/clients/"

    def test_stay_signed_in_goes_nowhere_else(self, browser):
        response = browser.post(reverse("stay-signed-in"), {"next": "https://elsewhere.example/"})
        assert response["Location"] == reverse("today")

    def test_stay_signed_in_after_the_logoff_says_so(self, browser):
        end_session(browser)

        response = browser.post(reverse("stay-signed-in"), HTTP_ACCEPT="application/json")

        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"signed_in": False}

    def test_stay_signed_in_only_takes_a_post(self, browser):
        assert browser.get(reverse("stay-signed-in")).status_code == HTTPStatus.METHOD_NOT_ALLOWED


class TestAFormPostedAfterTheIdleLogoff:
    @pytest.fixture
    def course(self, make_course):
        return make_course(planned_sessions=6)

    @pytest.fixture
    def url(self, course):
        return reverse("treatments:session-create", kwargs={"pk": course.pk})

    def post_after_logoff(self, browser, url, course, **fields):
        end_session(browser)
        return browser.post(url, session_data(course, notes=NOTES, **fields))

    def test_goes_to_the_sign_in_page_saying_the_entry_is_kept_and_saves_nothing(
        self, browser, url, course
    ):
        response = self.post_after_logoff(browser, url, course)

        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == f"{LOGIN}?next={url}"
        assert not TreatmentSession.objects.exists()
        page = text(browser.get(response["Location"]))
        assert "You were signed out after 15 minutes without activity" in page
        assert "what you entered is kept" in page

    def test_is_shown_back_filled_in_after_signing_in_and_still_not_saved(
        self, browser, practitioner, url, course
    ):
        self.post_after_logoff(browser, url, course, pain_score="7")

        signed_in = sign_in(browser, practitioner, next_url=url)
        assert signed_in["Location"] == url
        response = browser.get(url)

        fields = kept_fields(response)
        assert fields["notes"] == [NOTES]
        assert fields["pain_score"] == ["7"]
        assert fields["areas-0-depth_mm"] == ["1.50"]
        assert KEPT_NOTICE in response.content.decode()
        assert "clinic/kept_form.js" in response.content.decode()
        assert not TreatmentSession.objects.exists()

    def test_is_shown_back_once(self, browser, practitioner, url, course):
        self.post_after_logoff(browser, url, course)
        sign_in(browser, practitioner, next_url=url)
        browser.get(url)

        again = browser.get(url)

        assert kept_fields(again) is None
        assert KEPT_NOTICE not in again.content.decode()

    def test_saving_what_was_shown_back_logs_the_session(self, browser, practitioner, url, course):
        self.post_after_logoff(browser, url, course)
        sign_in(browser, practitioner, next_url=url)
        fields = kept_fields(browser.get(url))

        browser.post(url, fields)

        assert TreatmentSession.objects.get(course=course).notes == NOTES

    def test_keeps_neither_passwords_nor_the_csrf_token_nor_files(
        self, browser, practitioner, url, course
    ):
        end_session(browser)
        data = session_data(course, notes=NOTES)
        data.update(
            csrfmiddlewaretoken="a-token",
            new_password1="not-to-be-kept-0",
            photos=SimpleUploadedFile("face.jpg", b"\xff\xd8 not really", "image/jpeg"),
        )
        browser.post(url, data)
        sign_in(browser, practitioner, next_url=url)

        fields = kept_fields(browser.get(url))

        assert fields["notes"] == [NOTES]
        assert not {"csrfmiddlewaretoken", "new_password1", "photos"} & set(fields)

    def test_is_discarded_when_someone_else_signs_in(self, browser, make_user, url, course):
        self.post_after_logoff(browser, url, course)
        colleague = make_user("colleague")

        sign_in(browser, colleague, next_url=url)

        assert KEPT_FORM not in browser.session
        response = browser.get(url)
        assert kept_fields(response) is None
        assert NOTES not in response.content.decode()

    def test_is_not_kept_after_signing_out(self, browser, url, course):
        """Signing out ends the session on the server: nobody is known to give it back to."""
        browser.post(reverse("logout"))

        browser.post(url, session_data(course, notes=NOTES))

        assert KEPT_FORM not in browser.session

    def test_is_not_kept_for_a_browser_that_never_signed_in(self, client, url, course):
        client.post(url, session_data(course, notes=NOTES))
        assert KEPT_FORM not in client.session

    def test_waits_a_quarter_of_an_hour_at_most(self, browser, practitioner, url, course):
        self.post_after_logoff(browser, url, course)
        sign_in(browser, practitioner, next_url=url)
        session = browser.session
        session[KEPT_FORM] = {**session[KEPT_FORM], "kept_at": int(time.time()) - 15 * 60}
        session.save()

        response = browser.get(url)

        assert kept_fields(response) is None
        assert KEPT_FORM not in browser.session

    def test_is_shown_only_on_the_page_it_was_posted_from(self, browser, practitioner, url, course):
        self.post_after_logoff(browser, url, course)
        sign_in(browser, practitioner)  # no next: the sign-in goes to Today

        assert kept_fields(browser.get(reverse("today"))) is None
        assert kept_fields(browser.get(url)) is None

    def test_puts_nothing_typed_into_an_address_or_a_log(
        self, browser, practitioner, url, course, caplog
    ):
        with caplog.at_level(logging.DEBUG):
            response = self.post_after_logoff(browser, url, course)
            sign_in(browser, practitioner, next_url=url)
            browser.get(url)

        assert NOTES not in response["Location"]
        assert "Mild erythema" not in caplog.text

    def test_works_for_any_workspace_form(self, browser, practitioner):
        url = reverse("consultations:client-create")
        end_session(browser)
        fields = {"first_name": "Nora", "last_name": "Quinn", "date_of_birth": "1990-02-03"}

        browser.post(url, {**fields, "skin_type": "III"})
        sign_in(browser, practitioner, next_url=url)

        assert kept_fields(browser.get(url))["last_name"] == ["Quinn"]
        assert not Client.objects.filter(last_name="Quinn").exists()
