"""Admin exports of clients, courses and sessions (CSV and Excel) keep the current filters."""

import csv
import io
from http import HTTPStatus

import openpyxl
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


# Exports carry text, never formulas (OWASP "CSV injection" payloads).
PAYLOADS = [
    '=HYPERLINK("http://evil.example/","Open")',
    '==HYPERLINK("http://evil.example/","Open")',
    "=1+2",
    "+1+2",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "=cmd|' /C notepad'!'A1'",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_in_a_csv_export_is_text_and_kept_whole(manager, make_client, payload):
    make_client(last_name=payload, notes="-5")
    body = export(manager, "consultations_client", "", CSV).content.decode()

    [row] = list(csv.DictReader(io.StringIO(body)))[:1]
    assert row["last_name"] == "'" + payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_in_an_excel_export_is_text_and_kept_whole(manager, make_client, payload):
    make_client(last_name=payload)
    content = export(manager, "consultations_client", "", XLSX).content

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("last_name") + 1)
    assert cell.data_type == "s"
    # (XML reads a carriage return back as a line feed: the file's format, not the escaping.)
    assert cell.value == "'" + payload.replace("\r", "\n")


def test_plain_values_and_numbers_are_not_marked(manager, make_client):
    make_client(last_name="O'Neil", phone="-5")
    body = export(manager, "consultations_client", "", CSV).content.decode()

    [row] = list(csv.DictReader(io.StringIO(body)))
    assert (row["last_name"], row["phone"]) == ("O'Neil", "-5")


def test_an_unknown_export_parameter_is_not_an_error(manager, make_client):
    make_client(last_name="Lovelace")
    browser = DjangoClient()
    browser.force_login(manager)

    response = browser.get(reverse("admin:consultations_client_export") + "?foo=1", follow=True)

    assert response.redirect_chain == [(reverse("admin:consultations_client_changelist"), 302)]
    assert "The export link has a filter this list does not know" in response.content.decode()
