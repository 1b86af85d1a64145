"""A database outage answers 503 in the app's look, and a posted form can be sent again without
typing it; errors answer the app's own 500 page. Both are drawn without the database."""

import html
import re
import socket
from contextlib import contextmanager
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import InterfaceError, OperationalError, connection
from django.test import Client as DjangoClient
from django.urls import reverse
from django.views import defaults

from consultations.models import Client
from tests.pages import text
from treatments.views import TodayView

pytestmark = pytest.mark.django_db

NOTES = "Prefers afternoon appointments; keloid on the left shoulder"


@contextmanager
def database_down(error=OperationalError):
    """Every query fails as it does when the server is gone, the page's own and Django's."""

    def refuse(execute, sql, params, many, context):
        raise error("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def browser(practitioner):
    """Signed in; errors answered as a browser sees them, not raised into the test."""
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(practitioner)
    return browser


def hidden_fields(response):
    """The hidden inputs of the page's "Try again" form, as (name, value) pairs."""
    content = response.content.decode()
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', content, re.S)
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    return html.unescape(form.group(1)), [(name, html.unescape(value)) for name, value in pairs]


def client_data(**fields):
    return {
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1990-02-03",
        "email": "nora@example.com",
        "phone": "07700 900555",
        "skin_type": "III",
        "notes": NOTES,
        **fields,
    }


class TestADatabaseOutage:
    @pytest.mark.parametrize("error", [OperationalError, InterfaceError])
    def test_a_page_answers_503_with_retry_after_in_the_apps_look(self, browser, error):
        with database_down(error):
            response = browser.get(reverse("consultations:client-list"))

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response["Retry-After"] == "30"
        assert "no-store" in response["Cache-Control"]
        page = text(response)
        assert "The clinic's records cannot be reached just now" in page
        assert "Clinic tracker" in page  # the app's navigation bar, from base.html
        assert "Server Error" not in page
        assert f'href="{reverse("consultations:client-list")}">Try again' in (
            response.content.decode().replace("\n", "")
        )

    def test_a_posted_form_comes_back_to_send_again_without_typing_it(self, browser):
        url = reverse("consultations:client-create")

        with database_down():
            response = browser.post(url, client_data())

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        action, fields = hidden_fields(response)
        assert action == url
        assert ("notes", NOTES) in fields
        assert ("last_name", "Quinn") in fields
        assert "csrfmiddlewaretoken" in dict(fields)  # a fresh token for the new form
        assert "Try again" in text(response)
        assert not Client.objects.filter(last_name="Quinn").exists()

    def test_trying_again_once_the_database_is_back_saves_what_was_typed(self, browser):
        url = reverse("consultations:client-create")
        with database_down():
            action, fields = hidden_fields(browser.post(url, client_data()))

        data = {}
        for name, value in fields:
            data.setdefault(name, []).append(value)
        response = browser.post(action, data)

        assert response.status_code == HTTPStatus.FOUND
        assert Client.objects.get(last_name="Quinn").notes == NOTES

    def test_a_form_with_several_values_for_a_field_keeps_them_all(self, browser):
        with database_down():
            response = browser.post(
                reverse("consultations:client-create"), {"tag": ["one", "two"], "x": '&<>"'}
            )

        _, fields = hidden_fields(response)
        assert ("tag", "one") in fields
        assert ("tag", "two") in fields
        assert ("x", '&<>"') in fields

    def test_the_retry_form_holds_no_password(self, client):
        browser = DjangoClient(raise_request_exception=False)
        with database_down():
            response = browser.post(
                "/accounts/login/", {"username": "alex", "password": "the-secret-password"}
            )

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        _, fields = hidden_fields(response)
        assert ("username", "alex") in fields
        assert "the-secret-password" not in response.content.decode()

    def test_chosen_files_are_said_to_need_choosing_again(self, browser, make_course):
        course = make_course()
        url = reverse("treatments:session-create", kwargs={"pk": course.pk})
        photo = SimpleUploadedFile("face.jpg", b"\xff\xd8 jpeg", "image/jpeg")

        with database_down():
            response = browser.post(url, {"notes": NOTES, "photos": photo})

        assert "Chosen photos cannot be kept: add them again once it is saved." in text(response)
        _, fields = hidden_fields(response)
        assert "photos" not in dict(fields)

    def test_the_outage_is_logged_without_what_was_typed(self, browser, caplog):
        with database_down():
            browser.post(reverse("consultations:client-create"), client_data())

        outage = [r for r in caplog.records if r.name == "clinic.outage"]
        assert outage[0].getMessage() == "database unavailable: POST /clients/new/ answered 503"
        assert "keloid" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_database_server_that_does_not_answer_is_a_503_too(practitioner):
    """Not a simulated refusal: the connection goes to a port where no server listens."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database cannot be taken away from the test")
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(practitioner)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=closed_port)
    try:
        response = browser.post(reverse("consultations:client-create"), client_data())
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert ("notes", NOTES) in hidden_fields(response)[1]
    assert not Client.objects.filter(last_name="Quinn").exists()


class TestTheErrorPage:
    def test_an_error_answers_the_apps_own_500_page(self, browser, monkeypatch):
        def broken(self, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(TodayView, "get_context_data", broken)

        response = browser.get(reverse("today"))

        assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
        page = text(response)
        assert "Something went wrong" in page
        assert "Clinic tracker" in page
        assert "a bug" not in page

    def test_the_500_page_is_drawn_without_the_database(self, rf):
        with database_down():
            response = defaults.server_error(rf.get("/"))

        assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
        assert "Something went wrong" in text(response)
