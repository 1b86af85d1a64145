"""The area chart and the course's interval on the session form, in the workspace and the admin:
the pre-filled depth, each area's range beside it, and every refusal next to its field with the
input kept."""

import datetime
import re
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import Client
from tests.pages import field_errors, text
from tests.treatments.test_record_admin import admin_form_data
from tests.treatments.test_views import session_data
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def eyes_course(make_client, make_consultation, make_course):
    """A 4-weekly course for fine lines around the eyes (chart: 0.25-0.5 mm, max 0.5)."""

    def make(skin_type=Client.SkinType.II):
        consultation = make_consultation(
            make_client(skin_type=skin_type),
            concerns=(("fine-lines-wrinkles", "periorbital"),),
        )
        return make_course(consultation, planned_sessions=4, interval_weeks=4)

    return make


def session_form(course):
    return reverse("treatments:session-create", kwargs={"pk": course.pk})


def input_value(response, input_id):
    """The value an input of the page holds (what the practitioner typed, kept)."""
    tag = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', response.content.decode()).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else None


# The form pre-fills each area's depth from the chart and shows its range


def test_a_periorbital_first_session_starts_at_most_at_the_areas_maximum(signed_in, eyes_course):
    course = eyes_course()

    response = signed_in.get(session_form(course))

    (row,) = response.context["areas"].initial
    assert row["area"] == "periorbital"
    assert row["depth_mm"] <= course.course_concerns.get().recorded_concern.area.max_mm
    assert input_value(response, "id_areas-0-depth_mm") == "0.25"


@pytest.mark.parametrize(
    ("skin_type", "depth"), [(Client.SkinType.II, "1.00"), (Client.SkinType.V, "0.50")]
)
def test_fitzpatrick_iv_to_vi_starts_at_the_low_end_of_the_range(
    signed_in, make_client, make_consultation, make_course, skin_type, depth
):
    consultation = make_consultation(
        make_client(skin_type=skin_type), concerns=(("acne-scars", "cheeks"),)
    )
    course = make_course(consultation)

    response = signed_in.get(session_form(course))

    assert input_value(response, "id_areas-0-depth_mm") == depth


def test_the_next_session_starts_from_the_previous_sessions_depth(signed_in, eyes_course, log):
    course = eyes_course()
    log(course, days_ago(28), areas=[("periorbital", "0.50")])

    response = signed_in.get(session_form(course))

    assert input_value(response, "id_areas-0-depth_mm") == "0.50"


def test_each_area_is_offered_with_its_range_and_maximum(signed_in, eyes_course):
    response = signed_in.get(session_form(eyes_course()))

    page = response.content.decode()
    assert '<option value="periorbital" selected>Around the eyes (0.25-0.5 mm, max 0.5)' in page
    assert "Cheeks and chin (0.5-2.0 mm, max 2.0)" in page
    assert "Around the eyes: 0.25-0.5 mm, max 0.5" in text(response)  # the guidance beside


# A depth above the area's maximum


def test_a_depth_above_the_maximum_is_refused_on_its_row_with_the_input_kept(
    signed_in, eyes_course
):
    course = eyes_course()
    data = session_data(course, areas=[("cheeks", "1.50"), ("periorbital", "3.00")])

    response = signed_in.post(session_form(course), data)

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_areas-1-depth_mm") == [
        "Around the eyes: 3.00 mm is deeper than the area chart allows (0.25-0.5 mm, max 0.5). "
        "Lower it, or record why this area is needled deeper."
    ]
    assert field_errors(response, "id_areas-0-depth_mm") == []
    assert field_errors(response, "id_depth_reason") == [
        "Say why Around the eyes at 3.0 mm is needled deeper than the area chart's maximum."
    ]
    assert input_value(response, "id_areas-1-depth_mm") == "3.00"
    assert "Tolerated well." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_with_a_reason_the_deep_session_is_logged_and_the_timeline_shows_why(
    signed_in, eyes_course
):
    course = eyes_course()
    data = session_data(
        course, areas=[("periorbital", "0.75")], depth_reason="Thick skin; 0.5 mm last time."
    )

    response = signed_in.post(session_form(course), data, follow=True)

    assert "Session 1 of 4 logged" in text(response)
    assert "Deeper than the area chart Thick skin; 0.5 mm last time." in text(response)
    assert TreatmentSession.objects.get().depth_reason == "Thick skin; 0.5 mm last time."


# A session sooner than the course's interval


def test_the_next_day_on_a_four_weekly_course_is_refused_next_to_the_date(
    signed_in, eyes_course, log
):
    course = eyes_course()
    log(course, days_ago(1), areas=[("periorbital", "0.25")])
    data = session_data(course, areas=[("periorbital", "0.25")])

    response = signed_in.post(session_form(course), data)

    assert response.status_code == HTTPStatus.OK
    (message,) = field_errors(response, "id_performed_on")
    assert message.startswith("This course is every 4 weeks: the previous session was on")
    assert field_errors(response, "id_interval_reason") == [
        "Say why this session comes sooner than the course's interval allows."
    ]
    assert input_value(response, "id_performed_on") == TODAY().isoformat()
    assert course.sessions.count() == 1


def test_the_form_says_from_when_the_next_session_is_due(signed_in, eyes_course, log):
    course = eyes_course()
    log(course, days_ago(1), areas=[("periorbital", "0.25")])

    response = signed_in.get(session_form(course))

    earliest = days_ago(1) + datetime.timedelta(days=25)
    assert f"the next session is due from {earliest.day} {earliest:%b %Y}" in text(response)


def test_with_a_reason_the_early_session_is_logged_and_the_timeline_shows_why(
    signed_in, eyes_course, log
):
    course = eyes_course()
    log(course, days_ago(1), areas=[("periorbital", "0.25")])
    data = session_data(
        course, areas=[("periorbital", "0.25")], interval_reason="Redone: the pen jammed."
    )

    response = signed_in.post(session_form(course), data, follow=True)

    assert "Session 2 of 4 logged" in text(response)
    assert "Sooner than the interval Redone: the pen jammed." in text(response)


def test_a_correction_keeps_the_rules(signed_in, eyes_course, log):
    course = eyes_course()
    session = log(course, areas=[("periorbital", "0.50")])
    url = reverse("treatments:session-update", kwargs={"pk": session.pk})

    response = signed_in.post(url, session_data(course, areas=[("periorbital", "1.00")]))

    assert response.status_code == HTTPStatus.OK
    assert "deeper than the area chart allows" in field_errors(response, "id_areas-0-depth_mm")[0]
    assert input_value(response, "id_areas-0-depth_mm") == "1.00"
    assert str(session.areas.get().depth_mm) == "0.50"


# The admin goes through the same rules, with the refusal next to the field


def admin_session_page(session):
    return reverse("admin:treatments_treatmentsession_change", args=[session.pk])


def test_the_admin_refuses_a_depth_above_the_maximum_on_its_row(manager_client, eyes_course, log):
    session = log(eyes_course(), areas=[("periorbital", "0.50")])
    page = admin_session_page(session)

    response = manager_client.post(
        page, admin_form_data(manager_client.get(page), **{"areas-0-depth_mm": "2.00"})
    )

    assert response.status_code == HTTPStatus.OK
    assert "deeper than the area chart allows" in response.content.decode()
    assert 'value="2.00"' in response.content.decode()  # the input is kept
    assert str(session.areas.get().depth_mm) == "0.50"

    response = manager_client.post(
        page,
        admin_form_data(
            manager_client.get(page),
            **{"areas-0-depth_mm": "0.75", "depth_reason": "Corrected from the device log."},
        ),
    )
    assert response.status_code == HTTPStatus.FOUND
    session.refresh_from_db()
    assert session.depth_reason == "Corrected from the device log."
    assert str(session.areas.get().depth_mm) == "0.75"


def test_the_admin_refuses_a_date_sooner_than_the_interval_next_to_the_date(
    manager_client, eyes_course, log
):
    course = eyes_course()
    log(course, days_ago(40), areas=[("periorbital", "0.25")])
    session = log(course, days_ago(10), areas=[("periorbital", "0.25")])
    page = admin_session_page(session)
    moved = days_ago(30).isoformat()

    response = manager_client.post(
        page, admin_form_data(manager_client.get(page), performed_on=moved)
    )

    assert response.status_code == HTTPStatus.OK
    form = response.context["adminform"].form
    assert form.errors["performed_on"][0].startswith("This course is every 4 weeks")
    assert form.errors["interval_reason"]
    assert f'value="{moved}"' in response.content.decode()
    session.refresh_from_db()
    assert session.performed_on == days_ago(10)
