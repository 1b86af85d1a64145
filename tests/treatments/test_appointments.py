"""Appointments, lightly: a booking (from the recall list, the client's page or a course's
page) keeps the client off the overdue lists, Today lists the day's bookings first, and logging
the session that day marks the booking attended."""

import datetime
import uuid
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reports.recall import recall_courses
from tests.pages import field_errors, text
from treatments.models import Appointment
from treatments.services import book_appointment, complete_course

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
NINE = datetime.time(9, 0)


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def overdue(make_course, log):
    """A four-weekly course whose next session was due ten days ago."""
    course = make_course(planned_sessions=6)
    log(course, TODAY() - days(38))
    course.refresh_from_db()
    assert course.next_due_on == TODAY() - days(10)
    return course


def book(course, practitioner, on=None, at=NINE, **extra):
    return book_appointment(
        client=course.client,
        course=course,
        date=on or TODAY(),
        time=at,
        practitioner=practitioner,
        by=practitioner,
        **extra,
    )


def due_on_today(response):
    return [course.pk for course in response.context["due_page"].object_list]


# The rules ---------------------------------------------------------------------------------------


def test_a_booked_client_leaves_todays_overdue_list(signed_in, overdue, practitioner):
    assert due_on_today(signed_in.get(reverse("today"))) == [overdue.pk]

    book(overdue, practitioner, on=TODAY() + days(3))

    assert due_on_today(signed_in.get(reverse("today"))) == []


def test_a_booking_whose_day_passed_without_a_session_puts_the_course_back(
    signed_in, overdue, practitioner
):
    appointment = book(overdue, practitioner, on=TODAY() + days(1))
    Appointment.objects.filter(pk=appointment.pk).update(date=TODAY() - days(1))

    assert due_on_today(signed_in.get(reverse("today"))) == [overdue.pk]


def test_a_booked_client_leaves_the_recall_lists(
    overdue, practitioner, make_course, make_consultation, log
):
    ended = make_course(make_consultation(held_on=TODAY() - days(320)), planned_sessions=1)
    log(ended, TODAY() - days(300))
    ended.refresh_from_db()
    ended_on = ended.ended_on
    assert ended.status == "completed" and ended_on <= TODAY() - days(180)
    listed = {line["id"] for line in recall_courses(today=TODAY())}
    assert {overdue.pk, ended.pk} <= listed

    book(overdue, practitioner, on=TODAY() + days(2))
    book_appointment(  # a maintenance visit: no active course to book it for
        client=ended.client,
        date=TODAY() + days(5),
        time=NINE,
        practitioner=practitioner,
        by=practitioner,
    )

    listed = {line["id"] for line in recall_courses(today=TODAY())}
    assert overdue.pk not in listed
    assert ended.pk not in listed


def test_today_lists_todays_bookings_first_with_log_session(signed_in, overdue, practitioner):
    book(overdue, practitioner, at=datetime.time(14, 30))

    response = signed_in.get(reverse("today"))

    page = text(response)
    assert page.index("Booked today") < page.index("Due today and overdue")
    assert f"14:30 · {overdue.client.full_name}" in page
    log_url = reverse("treatments:session-create", kwargs={"pk": overdue.pk})
    content = response.content.decode()
    assert content.index(log_url) < content.index('id="due-heading"')
    assert due_on_today(response) == []  # booked today: listed once, with its booking


def test_logging_the_session_marks_the_days_booking_attended(overdue, practitioner, log):
    today = book(overdue, practitioner)
    later = book(overdue, practitioner, on=TODAY() + days(28))

    log(overdue, TODAY())

    today.refresh_from_db()
    later.refresh_from_db()
    assert today.status == Appointment.Status.ATTENDED
    assert today.version == 2 and today.updated_by == practitioner
    assert today.history.count() == 2  # booked, then attended: both kept
    assert later.status == Appointment.Status.BOOKED


def test_a_booking_cannot_be_in_the_past_or_for_an_ended_course(overdue, practitioner):
    with pytest.raises(ValidationError) as refused:
        book(overdue, practitioner, on=TODAY() - days(1))
    assert "This date has passed" in str(refused.value)

    complete_course(course=overdue, by=practitioner)
    overdue.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        book(overdue, practitioner, on=TODAY() + days(1))
    assert "book the visit without it" in str(refused.value)
    assert not Appointment.objects.exists()


# Booking from the client's page and the course's -----------------------------------------------


def booking_data(practitioner, **fields):
    values = {
        "booked_date": (TODAY() + days(7)).isoformat(),
        "booked_time": "10:15",
        "booked_with": practitioner.pk,
        "note": "",
        "submission_key": str(uuid.uuid4()),
    }
    values.update(fields)
    return values


def test_booking_from_the_course_page_stores_date_time_and_practitioner(
    signed_in, overdue, practitioner
):
    course_page = signed_in.get(overdue.get_absolute_url())
    url = reverse("treatments:appointment-create", kwargs={"pk": overdue.client_id})
    assert f"{url}?course={overdue.pk}" in course_page.content.decode()
    form = signed_in.get(f"{url}?course={overdue.pk}")
    assert form.context["form"]["course"].value() == overdue.pk

    response = signed_in.post(url, booking_data(practitioner, course=overdue.pk))

    assert response.status_code == HTTPStatus.FOUND
    appointment = Appointment.objects.get()
    assert (appointment.client, appointment.course, appointment.practitioner) == (
        overdue.client,
        overdue,
        practitioner,
    )
    assert (appointment.date, appointment.time) == (TODAY() + days(7), datetime.time(10, 15))
    assert appointment.created_by == practitioner


def test_the_clients_page_shows_the_next_appointment(signed_in, overdue, practitioner):
    book(overdue, practitioner, on=TODAY() + days(9), at=datetime.time(11, 0))
    book(overdue, practitioner, on=TODAY() + days(2), at=datetime.time(16, 45))

    page = text(signed_in.get(overdue.client.get_absolute_url()))

    soon = TODAY() + days(2)
    assert f"Next appointment {soon:%a} {soon.day} {soon:%b %Y} at 16:45" in page


def test_a_booking_posted_twice_is_stored_once(signed_in, overdue, practitioner):
    url = reverse("treatments:appointment-create", kwargs={"pk": overdue.client_id})
    data = booking_data(practitioner, course=overdue.pk)

    signed_in.post(url, data)
    again = signed_in.post(url, data, follow=True)

    assert Appointment.objects.count() == 1
    assert "already saved" in text(again)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"booked_date": ""}, "booked_date", "Give the day of the appointment."),
        ({"booked_date": "31/02/2030"}, "booked_date", "Enter a valid date."),
        ({"booked_date": "2001-01-01"}, "booked_date", "This date has passed"),
        ({"booked_time": "25:99"}, "booked_time", "Enter a valid time."),
        ({"booked_with": "999999"}, "booked_with", "Select a valid choice."),
        ({"booked_with": "<script>"}, "booked_with", "Select a valid choice."),
        ({"course": "999999"}, "course", "Select a valid choice."),
        ({"note": "x" * 201}, "note", "at most 200 characters"),
    ],
)
def test_a_bad_booking_is_refused_next_to_its_field_and_nothing_is_saved(
    signed_in, overdue, practitioner, fields, field, message
):
    url = reverse("treatments:appointment-create", kwargs={"pk": overdue.client_id})

    response = signed_in.post(url, booking_data(practitioner, **{"course": overdue.pk, **fields}))

    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in field_errors(response, f"id_{field}"))
    assert not Appointment.objects.exists()


# From the recall list ----------------------------------------------------------------------------


def test_booked_in_the_recall_list_needs_the_appointment(manager_client, overdue):
    response = manager_client.post(
        reverse("reports:recall-contact"),
        {
            "client": overdue.client_id,
            "course": overdue.pk,
            "reason": "due",
            "outcome": "booked",
            "booked_time": "09:00",
        },
    )

    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert "Give the day of the appointment." in page
    assert "Choose who the client will see." in page
    assert not Appointment.objects.exists()
    assert not overdue.contact_attempts.exists()
