"""A client's page and a consultation's (treatments.views), which show the courses and
sessions beside what consultations record, through the Django test client."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import Client
from tests.pages import SIGNED_IN_QUERIES, text
from treatments.models import TreatmentSession
from treatments.services import void_consultation, void_session
from treatments.views import with_positions

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


# Client page ------------------------------------------------------------------------------------


def test_client_page_shows_alerts_courses_and_timeline(
    signed_in, make_client, make_consultation, make_course, log
):
    person = make_client(first_name="Ivy", last_name="Stone", skin_type=Client.SkinType.V)
    consultation = make_consultation(person, active_acne=True)
    course = make_course(consultation, planned_sessions=6)
    log(course, TODAY() - datetime.timedelta(days=40))
    log(course, TODAY() - datetime.timedelta(days=10))
    later = make_consultation(person, held_on=TODAY() - datetime.timedelta(days=5))

    response = signed_in.get(person.get_absolute_url())
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "Ivy Stone" in page
    assert "Fitzpatrick type V" in page  # pigment-risk caution from the latest consultation
    assert "Session 2 of 6" in page
    assert (
        f"Next due {course.sessions.first().performed_on + datetime.timedelta(weeks=4):%-d %b %Y}"
        in page
    )
    timeline = response.context["timeline"]
    assert [kind for kind, _item in timeline] == [
        "consultation",
        "session",
        "session",
        "consultation",
    ]
    assert timeline[0][1] == later
    content = response.content.decode()
    assert reverse("treatments:session-create", kwargs={"pk": course.pk}) in content
    assert reverse("treatments:course-create", kwargs={"pk": later.pk}) in content
    assert reverse("treatments:course-create", kwargs={"pk": consultation.pk}) not in content


def test_client_page_shows_contraindications(signed_in, make_consultation):
    consultation = make_consultation(bleeding_disorder=True)

    page = text(signed_in.get(consultation.client.get_absolute_url()))

    assert "Do not treat without a recorded reason" in page
    assert "Bleeding disorder: micro-needling makes the skin bleed." in page


def test_client_page_highlights_an_overdue_course(signed_in, make_course, log):
    course = make_course()
    log(course, TODAY() - datetime.timedelta(weeks=6))

    page = text(signed_in.get(course.client.get_absolute_url()))

    assert "Overdue since" in page


def test_client_page_numbers_sessions_among_those_that_count(
    signed_in, make_course, log, practitioner
):
    course = make_course(planned_sessions=4)
    mistaken = log(course, TODAY() - datetime.timedelta(days=60))
    first = log(course, TODAY() - datetime.timedelta(days=30))
    second = log(course, TODAY() - datetime.timedelta(days=2))
    void_session(session=mistaken, reason="Logged on the wrong client.", by=practitioner)

    response = signed_in.get(course.client.get_absolute_url())
    content = response.content.decode()
    page = text(response)

    # Counted in Python on this page, as the subquery of `with_positions` counts elsewhere.
    shown = {
        item.pk: item.position for kind, item in response.context["timeline"] if kind == "session"
    }
    counted = with_positions(TreatmentSession.objects.filter(course=course)).values_list(
        "pk", "position"
    )
    assert shown == dict(counted) == {mistaken.pk: None, first.pk: 1, second.pk: 2}
    assert "Voided session" in page
    assert "Session 1 of 4" in page and "Session 2 of 4" in page
    assert page.count(course.concern_names) >= 3  # the course's concerns beside each session
    assert page.count("Cheeks and chin at 1.50 mm") == 3  # each session's areas
    # Logged today by the signed-in practitioner: correctable, except the voided one.
    for session in (first, second):
        assert reverse("treatments:session-update", args=[session.pk]) in content
    assert reverse("treatments:session-update", args=[mistaken.pk]) not in content


def test_a_voided_consultation_shows_as_voided_and_offers_no_course(
    signed_in, make_client, make_consultation, manager
):
    person = make_client()
    standing = make_consultation(person, held_on=TODAY() - datetime.timedelta(days=30))
    mistaken = make_consultation(
        person, held_on=TODAY() - datetime.timedelta(days=2), bleeding_disorder=True
    )
    void_consultation(consultation=mistaken, reason="Recorded for the wrong client.", by=manager)

    response = signed_in.get(person.get_absolute_url())
    content = response.content.decode()
    page = text(response)

    assert "Voided" in page
    assert "by Maria Manager: Recorded for the wrong client." in page
    assert reverse("treatments:course-create", kwargs={"pk": mistaken.pk}) not in content
    assert reverse("treatments:course-create", kwargs={"pk": standing.pk}) in content
    # The alerts come from the latest consultation that stands, not the voided one.
    assert response.context["latest_consultation"] == standing
    assert "Do not treat without a recorded reason" not in page


def test_a_voided_consultations_page_says_so_and_cannot_start_a_course(
    signed_in, make_consultation, manager
):
    consultation = make_consultation()
    void_consultation(consultation=consultation, reason="Duplicate entry.", by=manager)
    course_create = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    response = signed_in.get(consultation.get_absolute_url())
    form_page = signed_in.get(course_create)
    refused = signed_in.post(
        course_create,
        {
            "concerns": [str(consultation.concerns.get().pk)],
            "planned_sessions": "3",
            "interval_weeks": "4",
            "start_date": TODAY().isoformat(),
        },
    )

    assert "This consultation was voided" in text(response)
    assert "Duplicate entry." in text(response)
    assert course_create not in response.content.decode()
    assert "no course can start from it" in text(form_page)
    assert 'name="planned_sessions"' not in form_page.content.decode()
    assert refused.status_code == HTTPStatus.OK
    assert not consultation.courses.exists()


@pytest.mark.parametrize("size", [1, 8])
def test_client_page_runs_bounded_queries(
    signed_in,
    make_client,
    make_consultation,
    make_course,
    log,
    practitioner,
    django_assert_max_num_queries,
    size,
):
    person = make_client()
    for n in range(size):
        consultation = make_consultation(
            person,
            concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")),
            held_on=TODAY() - datetime.timedelta(days=400 - n * 40),
        )
        course = make_course(consultation, planned_sessions=3)
        for k in range(2):
            session = log(course, consultation.held_on + datetime.timedelta(days=7 * (k + 1)))
        void_session(session=session, reason="Logged twice.", by=practitioner)
        mistaken = make_consultation(person, held_on=consultation.held_on)
        void_consultation(consultation=mistaken, reason="Wrong client.", by=practitioner)
        make_client()

    # The client; from its record (treatments.selectors.ClientRecord, shared with the admin and
    # the export): consultations with their staff, their concerns, courses with their concerns,
    # sessions with their staff and areas, their adverse events; photos; the next appointment;
    # the access record; the client's consents and the published consent versions (2, shared by
    # the consent panel and the photos' flag).
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 13):
        response = signed_in.get(person.get_absolute_url())

    assert response.status_code == HTTPStatus.OK
    assert len(response.context["timeline"]) == size * 4


# Consultation page ------------------------------------------------------------------------------


def test_consultation_page_explains_outcome_concerns_and_suggested_course(
    signed_in, make_consultation
):
    consultation = make_consultation(
        concerns=(("acne-scars", "cheeks"), ("stretch-marks", "abdomen")),
        infection_in_area=True,
        affected_area="cheeks",
    )

    response = signed_in.get(consultation.get_absolute_url())
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "Not suitable / defer" in page
    assert "Active infection in the area: treat the infection first." in page
    assert "Needling breaks up the tethered scar bed" in page  # the concern's benefit text
    assert "3-6 sessions" in page
    assert "Not suitable here" in page  # the cheeks, where the infection is
    assert "Suggested course" in page
    assert "start a course only with a recorded override reason" in page
    assert reverse("treatments:course-create", kwargs={"pk": consultation.pk}) in (
        response.content.decode()
    )


def test_consultation_page_for_a_suitable_client(signed_in, make_consultation):
    consultation = make_consultation(concerns=(("fine-lines-wrinkles", "forehead"),))

    page = text(signed_in.get(consultation.get_absolute_url()))

    assert "Suitable: the screening found no contraindications or cautions." in page
    assert "4 sessions" in page or "2-6 sessions" in page


@pytest.mark.parametrize("size", [1, 6])
def test_consultation_page_runs_bounded_queries(
    signed_in, make_client, make_consultation, make_course, django_assert_max_num_queries, size
):
    person = make_client()
    rows = (
        ("acne-scars", "cheeks"),
        ("fine-lines-wrinkles", "forehead"),
        ("stretch-marks", "abdomen"),
        ("melasma", "face"),
    )[: min(size, 4)]
    consultation = make_consultation(person, concerns=rows)
    for _ in range(size):
        make_course(consultation)

    # ... and the client's valid consents, for the signing prompt
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 6):
        response = signed_in.get(consultation.get_absolute_url())

    assert response.status_code == HTTPStatus.OK
