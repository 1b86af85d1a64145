"""Issue #19 through the Django test client: cautions each once and collapsed once weighed,
ending a course behind one confirmation page, a not-suitable outcome as a warning, going back
where the practitioner came from after a session, one date format, the favicon."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.formats import day
from consultations.screening import PIGMENT_RISK
from tests.pages import SIGNED_IN_QUERIES, text
from tests.treatments.test_views import session_data
from treatments.models import Course, TreatmentSession

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
PIGMENT = PIGMENT_RISK.format(skin_type="V")


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def pigment_client(make_client):
    return make_client(skin_type="V")


# Cautions ---------------------------------------------------------------------------------------


def test_each_caution_appears_once_on_the_consultation_page_prominent_until_weighed(
    signed_in, make_consultation, pigment_client
):
    consultation = make_consultation(
        pigment_client, concerns=(("melasma", "cheeks"), ("melasma", "forehead"))
    )
    melasma = consultation.concerns.first().concern

    page = signed_in.get(consultation.get_absolute_url())
    content = text(page)

    assert content.count(PIGMENT) == 1
    assert content.count(melasma.cautions) == 1  # two areas, one concern: listed once
    assert "Cautions to weigh and acknowledge" in content
    assert "acknowledged by" not in content


def test_cautions_weighed_when_a_course_started_are_one_line_on_every_page(
    signed_in, make_consultation, make_course, pigment_client, practitioner
):
    consultation = make_consultation(pigment_client, concerns=(("acne-scars", "cheeks"),))
    course = make_course(consultation, planned_sessions=6)  # cautions_acknowledged
    line = f"acknowledged by {practitioner.get_full_name()} on {day(course.created_at)}"

    for url in (
        consultation.get_absolute_url(),
        pigment_client.get_absolute_url(),
        reverse("treatments:session-create", kwargs={"pk": course.pk}),
    ):
        content = text(signed_in.get(url))
        assert line in content, url
        assert content.count(PIGMENT) == 1, url
        assert "Cautions to weigh and acknowledge" not in content, url
        assert 'class="alert alert-light border py-1 cautions cautions-acknowledged"' in (
            signed_in.get(url).content.decode()
        )


def test_a_course_started_without_the_tick_leaves_the_cautions_prominent(
    signed_in, make_consultation, pigment_client
):
    consultation = make_consultation(pigment_client)
    Course.objects.filter(consultation=consultation).update(cautions_acknowledged=False)

    content = text(signed_in.get(pigment_client.get_absolute_url()))

    assert "Cautions to weigh and acknowledge" in content
    assert content.count(PIGMENT) == 1


def test_the_consultation_page_reads_its_cautions_in_bounded_queries(
    signed_in, make_consultation, make_course, pigment_client, django_assert_max_num_queries
):
    consultation = make_consultation(pigment_client)
    for _ in range(3):
        make_course(consultation)

    # The consultation page's own, with the client's valid consents for the signing prompt.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 6):
        assert signed_in.get(consultation.get_absolute_url()).status_code == HTTPStatus.OK


# Ending a course --------------------------------------------------------------------------------


def test_the_course_page_offers_one_end_course_button_and_no_open_forms(signed_in, make_course):
    course = make_course(planned_sessions=6)

    page = signed_in.get(course.get_absolute_url()).content.decode()

    end = reverse("treatments:course-end", kwargs={"pk": course.pk})
    assert f'href="{end}">End course</a>' in page
    assert reverse("treatments:course-complete", kwargs={"pk": course.pk}) not in page
    assert reverse("treatments:course-stop", kwargs={"pk": course.pk}) not in page


def test_ending_a_course_is_confirmed_on_its_own_page_which_says_what_is_lost(
    signed_in, make_course
):
    course = make_course(planned_sessions=6)

    page = signed_in.get(reverse("treatments:course-end", kwargs={"pk": course.pk}))

    content = text(page)
    assert "End this course?" in content
    assert "Session 0 of 6 logged. 6 planned sessions would not take place." in content
    assert "Complete the course" in content and "Stop the course" in content
    assert "Keep the course running" in content
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE  # opening the page ends nothing

    done = signed_in.post(
        reverse("treatments:course-complete", kwargs={"pk": course.pk}),
        {"complete-ended_on": TODAY().isoformat(), "complete-end_reason": "Happy early."},
    )
    assert done.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED
    ended = text(signed_in.get(reverse("treatments:course-end", kwargs={"pk": course.pk})))
    assert "This course is already completed" in ended
    assert "Complete the course" not in ended


@pytest.mark.parametrize("sessions", [0, 4])
def test_the_end_course_page_reads_in_bounded_queries(
    signed_in, make_course, log, django_assert_max_num_queries, sessions
):
    course = make_course(planned_sessions=6)
    for weeks in range(sessions, 0, -1):
        log(course, days_ago(weeks * 28))

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 2):
        page = signed_in.get(reverse("treatments:course-end", kwargs={"pk": course.pk}))
    assert page.status_code == HTTPStatus.OK


def test_a_refused_stop_shows_the_end_page_again_with_the_message(signed_in, make_course):
    course = make_course()

    refused = signed_in.post(
        reverse("treatments:course-stop", kwargs={"pk": course.pk}),
        {"stop-ended_on": TODAY().isoformat(), "stop-end_reason": ""},
    )

    assert refused.status_code == HTTPStatus.OK
    assert "End this course?" in text(refused)
    assert "Say why the course is stopped." in text(refused)


# A not-suitable outcome -------------------------------------------------------------------------


def consultation_data(**extra):
    data = {
        "held_on": TODAY().isoformat(),
        "consent_given": "on",
        "consent_by": "the client",
        "consent_scope": "Micro-needling as discussed",
        "concerns-TOTAL_FORMS": "1",
        "concerns-INITIAL_FORMS": "0",
        "concerns-0-concern": "",
        "concerns-0-area": "cheeks",
        "concerns-0-severity": "moderate",
        "findings-TOTAL_FORMS": "0",
        "findings-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return data


def test_a_not_suitable_consultation_is_a_warning_with_start_course_secondary(
    signed_in, make_client, concern
):
    person = make_client()
    url = reverse("consultations:consultation-create", kwargs={"pk": person.pk})

    response = signed_in.post(
        url,
        consultation_data(
            **{"concerns-0-concern": str(concern("acne-scars").pk), "bleeding_disorder": "on"}
        ),
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain, text(response)
    assert "alert-warning" in page and "Consultation recorded: not suitable / defer." in page
    assert "alert-success alert-dismissible" not in page
    consultation = response.context["consultation"]
    start = reverse("treatments:course-create", kwargs={"pk": consultation.pk})
    assert f'<a class="btn btn-outline-secondary" href="{start}">Start course</a>' in page
    assert "start a course only with a recorded override reason" in text(response)

    form = signed_in.get(start).context["form"]
    assert next(iter(form.fields)) == "override_reason"


def test_a_suitable_consultation_keeps_start_course_primary(signed_in, make_consultation):
    consultation = make_consultation()
    start = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    page = signed_in.get(consultation.get_absolute_url()).content.decode()

    assert f'<a class="btn btn-primary" href="{start}">Start course</a>' in page


# Back where she came from -----------------------------------------------------------------------


def test_a_session_logged_from_today_goes_back_to_today(signed_in, make_course, log):
    course = make_course(planned_sessions=6)
    log(course, days_ago(30))
    Course.objects.filter(pk=course.pk).update(next_due_on=TODAY())
    today = signed_in.get(reverse("today")).content.decode()
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})
    assert f'href="{url}?next=/"' in today

    form = signed_in.get(f"{url}?next=/")
    assert 'name="next" value="/"' in form.content.decode()
    logged = signed_in.post(url, session_data(course, next="/"))

    assert logged.status_code == HTTPStatus.FOUND
    assert logged["Location"] == "/"
    assert TreatmentSession.objects.filter(course=course).count() == 2


@pytest.mark.parametrize(
    "hostile",
    ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "\\\\evil.example"],
)
def test_a_next_address_off_the_site_is_ignored(signed_in, make_course, hostile):
    course = make_course(planned_sessions=6)
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})

    form = signed_in.get(url, {"next": hostile}).content.decode()
    logged = signed_in.post(url, session_data(course, next=hostile))

    assert "evil" not in form.split('id="session-form"')[1].split("</form>")[0]
    assert logged.status_code == HTTPStatus.FOUND
    assert logged["Location"] == course.client.get_absolute_url()


def test_without_next_a_session_goes_back_to_the_client(signed_in, make_course):
    course = make_course(planned_sessions=6)

    logged = signed_in.post(
        reverse("treatments:session-create", kwargs={"pk": course.pk}), session_data(course)
    )

    assert logged["Location"] == course.client.get_absolute_url()


# One date format; the favicon --------------------------------------------------------------------


def test_dates_read_the_same_on_pages_and_in_messages(signed_in, make_course):
    course = make_course(planned_sessions=6)
    started = course.start_date
    written = f"{started.day} {started:%b %Y}"  # "3 Jan 2026", never "03 Jan" or "03/01/2026"

    assert day(datetime.date(2026, 1, 3)) == "3 Jan 2026"
    assert str(course).endswith(f"from {written}")
    page = text(signed_in.get(course.get_absolute_url()))
    assert f"Course from {written}" in page
    assert f"{started:%d/%m/%Y}" not in page

    logged = signed_in.post(
        reverse("treatments:session-create", kwargs={"pk": course.pk}),
        session_data(course),
        follow=True,
    )
    due = TODAY() + datetime.timedelta(weeks=4)
    assert f"Next session due {due.day} {due:%b %Y}." in text(logged)


def test_the_favicon_answers(client):
    response = client.get("/favicon.ico")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"].endswith("clinic/favicon.ico")
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/clinic/favicon.ico"' in page
