"""Admin exports of clients, courses and sessions (CSV and Excel) keep the current filters."""

from http import HTTPStatus

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from devtools.management.commands.benchmark import FormReader

pytestmark = pytest.mark.django_db

CSV, XLSX = "0", "1"


def export(manager, model, query, file_format):
    browser = DjangoClient()
    browser.force_login(manager)
    url = reverse(f"admin:{model}_export") + query
    page = browser.get(url)
    assert page.status_code == HTTPStatus.OK
    reader = FormReader()
    reader.feed(page.content.decode())
    return browser.post(url, {**reader.data, "format": file_format})


def test_client_export_keeps_the_search_and_filters(manager, make_client):
    make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    make_client(first_name="Grace", last_name="Hopper")
    response = export(manager, "consultations_client", "?q=lovelace&archived__exact=0", CSV)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "ada@example.com" in body
    assert "Hopper" not in body
    assert response["Content-Type"].startswith("text/csv")


def test_course_and_session_exports_name_concerns_depths_and_lots(
    manager, make_course, log, product
):
    course = make_course()
    log(course, products=[(product("Hyaluronic"), "HA-7781")])
    courses = export(manager, "treatments_course", "", CSV).content.decode()
    assert "Atrophic acne scars (cheeks and chin)" in courses
    sessions = export(manager, "treatments_treatmentsession", "", CSV).content.decode()
    assert "Cheeks and chin: 1.50" in sessions
    assert "lot HA-7781" in sessions


def test_excel_export(manager, make_client):
    make_client()
    response = export(manager, "consultations_client", "", XLSX)
    assert response.status_code == HTTPStatus.OK
    assert response.content[:2] == b"PK"  # an .xlsx file is a zip archive


def test_spreadsheet_formulas_are_escaped(manager, make_client):
    make_client(last_name='=HYPERLINK("http://evil.example")')
    body = export(manager, "consultations_client", "", CSV).content.decode()
    assert ",=HYPERLINK" not in body


def test_aestheticians_cannot_export(practitioner):
    browser = DjangoClient()
    browser.force_login(practitioner)
    response = browser.get(reverse("admin:consultations_client_export"))
    assert response.status_code == HTTPStatus.FOUND
