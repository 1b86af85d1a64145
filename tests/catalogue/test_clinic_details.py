"""The clinic's own details: one row, kept by managers, read by every page's brand."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from catalogue.models import ClinicDetails
from tests.treatments.test_record_admin import admin_form_data

pytestmark = pytest.mark.django_db


def test_before_any_save_the_defaults_stand_in():
    details = ClinicDetails.current()
    assert details.pk is None
    assert details.name == "Micro-needling clinic"
    assert details.opening_days_display() == "Monday to Saturday"


def test_opening_days_read_as_a_range_or_a_list():
    details = ClinicDetails(open_tuesday=False, open_thursday=False, open_saturday=False)
    assert details.opening_days_display() == "Monday, Wednesday, Friday"


def test_target_dates_move_to_the_next_opening_day():
    details = ClinicDetails(open_saturday=False, open_sunday=False)
    saturday = datetime.date(2026, 12, 5)
    assert details.next_opening_day(saturday) == datetime.date(2026, 12, 7)
    assert details.next_opening_day(saturday - datetime.timedelta(days=1)) == saturday - (
        datetime.timedelta(days=1)
    )


def test_a_manager_keeps_one_row_and_every_page_shows_its_name(manager_client, client):
    add = reverse("admin:catalogue_clinicdetails_add")
    data = admin_form_data(manager_client.get(add), name="Northside Skin", phone="0161 496 0000")
    assert manager_client.post(add, data).status_code == HTTPStatus.FOUND
    saved = ClinicDetails.objects.get()

    # The list opens the one row; a second cannot be added, and it is never deleted.
    listed = manager_client.get(reverse("admin:catalogue_clinicdetails_changelist"))
    assert listed.url == reverse("admin:catalogue_clinicdetails_change", args=[saved.pk])
    assert manager_client.get(add).status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:catalogue_clinicdetails_delete", args=[saved.pk])
    assert manager_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN

    assert ClinicDetails.current().name == "Northside Skin"
    assert "Northside Skin" in manager_client.get(reverse("today")).content.decode()


def test_a_clinic_that_never_opens_is_refused(manager_client):
    add = reverse("admin:catalogue_clinicdetails_add")
    closed = {f"open_{day}": "" for day in ClinicDetails.WEEKDAYS}
    data = admin_form_data(manager_client.get(add), name="Closed", **closed)
    for day in ClinicDetails.WEEKDAYS:
        data.pop(f"open_{day}", None)

    response = manager_client.post(add, data)

    assert response.status_code == HTTPStatus.OK
    assert "at least one opening day" in response.content.decode()
    assert not ClinicDetails.objects.exists()
