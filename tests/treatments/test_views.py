"""The workspace's Today, course, session and catalogue pages, through the Django test client."""

import datetime
import uuid
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Product
from clinic.models import Submission
from stock.models import Lot
from tests.pages import SIGNED_IN_QUERIES, SIGNED_IN_QUERIES_WITH_REDIS, field_errors, text
from treatments.models import Course, SessionProgress, TreatmentSession
from treatments.services import (
    complete_course,
    log_session,
    stop_course,
    update_session,
    void_session,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


# A course longer than its concern's maximum is started with a reason.
LONG_COURSE = "A long course, to log many sessions on it."


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


# Access -----------------------------------------------------------------------------------------


@pytest.fixture
def urls(make_course, log):
    course = make_course()
    session = log(course, days_ago(1))
    return {
        "today": reverse("today"),
        "course-create": reverse("treatments:course-create", kwargs={"pk": course.consultation_id}),
        "course-detail": reverse("treatments:course-detail", kwargs={"pk": course.pk}),
        "session-create": reverse("treatments:session-create", kwargs={"pk": course.pk}),
        "session-update": reverse("treatments:session-update", kwargs={"pk": session.pk}),
        "concern-list": reverse("catalogue:concern-list"),
        "concern-detail": reverse("catalogue:concern-detail", kwargs={"slug": "acne-scars"}),
    }


@pytest.mark.parametrize(
    "name",
    [
        "today",
        "course-create",
        "course-detail",
        "session-create",
        "session-update",
        "concern-list",
        "concern-detail",
    ],
)
def test_pages_require_sign_in_and_load_when_signed_in(client, signed_in, urls, name):
    url = urls[name]

    anonymous = client.get(url)
    response = signed_in.get(url)

    assert anonymous.status_code == HTTPStatus.FOUND
    assert anonymous["Location"] == f"{reverse('login')}?next={url}"
    assert response.status_code == HTTPStatus.OK


def test_ending_a_course_requires_sign_in(client, make_course):
    course = make_course()

    response = client.post(
        reverse("treatments:course-stop", kwargs={"pk": course.pk}), {"stop-end_reason": "x"}
    )

    assert response.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/999999/courses/new/",
        "/courses/999999/",
        "/courses/999999/sessions/new/",
        "/sessions/999999/edit/",
        "/catalogue/no-such-concern/",
        "/courses/99999999999999999999999999/",
        "/sessions/99999999999999999999999999/edit/",
        "/courses/one/",
        "/catalogue/Not a slug/",
    ],
)
def test_unknown_or_malformed_ids_are_not_found(signed_in, path):
    assert signed_in.get(path).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/999999/courses/new/",
        "/courses/999999/sessions/new/",
        "/sessions/999999/edit/",
        "/courses/999999/",
    ],
)
def test_anonymous_visitors_learn_nothing_about_ids(client, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("login"))


def test_unknown_course_cannot_be_stopped(signed_in):
    response = signed_in.post("/courses/999999/stop/", {"stop-end_reason": "x"})

    assert response.status_code == HTTPStatus.NOT_FOUND


# Today ------------------------------------------------------------------------------------------


def test_today_lists_due_and_overdue_courses_and_my_sessions(
    signed_in, make_client, make_consultation, make_course, log, make_user
):
    due_today = make_course(make_consultation(make_client(first_name="Dana", last_name="Due")))
    log(due_today, TODAY() - datetime.timedelta(weeks=4))
    overdue = make_course(make_consultation(make_client(first_name="Otto", last_name="Over")))
    log(overdue, TODAY() - datetime.timedelta(weeks=6))
    later = make_course(make_consultation(make_client(first_name="Lena", last_name="Later")))
    log(later, days_ago(3))
    archived = make_course(make_consultation(make_client(first_name="Arch", last_name="Ived")))
    log(archived, TODAY() - datetime.timedelta(weeks=6))
    archived.client.archived = True
    archived.client.save()

    response = signed_in.get(reverse("today"))
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert [course.pk for course in response.context["due_page"]] == [overdue.pk, due_today.pk]
    assert "Otto Over" in page and "Overdue since" in page
    assert "Dana Due" in page and "Due today" in page
    assert "Arch Ived" not in text(response).split("My recent sessions")[0]
    assert "Lena Later" in page  # in my recent sessions, not in the due list
    assert len(response.context["recent_sessions"]) == 4
    assert 'action="/clients/"' in response.content.decode()


def test_today_shows_only_my_recent_sessions(signed_in, make_course, log, make_user):
    course = make_course()
    log(course, days_ago(2))
    signed_in.force_login(make_user("someone-else"))

    response = signed_in.get(reverse("today"))

    assert list(response.context["recent_sessions"]) == []
    assert "You have not logged a session yet." in text(response)


@pytest.mark.parametrize("size", [2, 30])
def test_today_runs_bounded_queries(
    signed_in, make_course, log, django_assert_max_num_queries, size
):
    for n in range(size):
        course = make_course(planned_sessions=6)
        log(course, TODAY() - datetime.timedelta(weeks=4, days=n))

    # Today's appointments, the courses due, counted up to a cap, their concerns, my recent
    # sessions, the follow-up calls due and the clients to sign consent again.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 6):
        response = signed_in.get(reverse("today"))

    assert response.status_code == HTTPStatus.OK
    assert response.context["due_page"].paginator.count == size


# Starting a course ------------------------------------------------------------------------------


def course_data(consultation, **fields):
    data = {
        "concerns": [str(rc.pk) for rc in consultation.concerns.all()],
        "planned_sessions": "4",
        "interval_weeks": "4",
        "start_date": TODAY().isoformat(),
        "notes": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_course_form_is_prefilled_with_the_suggestion(signed_in, make_consultation):
    consultation = make_consultation(
        concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead"))
    )

    response = signed_in.get(reverse("treatments:course-create", kwargs={"pk": consultation.pk}))
    form = response.context["form"]

    assert form["planned_sessions"].value() == 4
    assert form["interval_weeks"].value() == 4
    assert sorted(form["concerns"].value()) == sorted(rc.pk for rc in consultation.concerns.all())
    assert "override_reason" not in form.fields  # the screening blocks nothing
    assert "The catalogue suggests" in text(response)


def test_course_is_started_with_the_chosen_concerns(signed_in, make_consultation, practitioner):
    consultation = make_consultation(
        concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead"))
    )
    scars = consultation.concerns.get(concern__slug="acne-scars")

    response = signed_in.post(
        reverse("treatments:course-create", kwargs={"pk": consultation.pk}),
        course_data(consultation, concerns=[str(scars.pk)], planned_sessions="5"),
    )

    course = Course.objects.get(consultation=consultation)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == course.get_absolute_url()
    assert [pc.recorded_concern for pc in course.course_concerns.all()] == [scars]
    assert course.planned_sessions == 5
    assert course.suggested_sessions == 3
    assert course.practitioner == practitioner
    assert course.next_due_on == TODAY()


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"planned_sessions": "0"}, "id_planned_sessions", "Plan between 1 and 52 sessions."),
        ({"planned_sessions": "-3"}, "id_planned_sessions", "Plan between 1 and 52 sessions."),
        ({"planned_sessions": "99"}, "id_planned_sessions", "Plan between 1 and 52 sessions."),
        ({"planned_sessions": "six"}, "id_planned_sessions", "Enter a whole number."),
        (
            {"interval_weeks": "0"},
            "id_interval_weeks",
            "The interval must be between 1 and 52 weeks.",
        ),
        (
            {"concerns": None},
            "id_concerns",
            "Choose at least one of the consultation's concerns to treat.",
        ),
        ({"start_date": "31/31/2024"}, "id_start_date", "Enter a valid date."),
    ],
)
def test_course_refusals_appear_next_to_their_field(
    signed_in, make_consultation, fields, field_id, message
):
    consultation = make_consultation()

    response = signed_in.post(
        reverse("treatments:course-create", kwargs={"pk": consultation.pk}),
        course_data(consultation, notes="Client prefers mornings.", **fields),
    )

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, field_id) == [message]
    assert "Client prefers mornings." in response.content.decode()
    assert not Course.objects.exists()


def test_a_concern_from_another_consultation_is_refused(signed_in, make_consultation):
    consultation = make_consultation()
    other = make_consultation()

    response = signed_in.post(
        reverse("treatments:course-create", kwargs={"pk": consultation.pk}),
        course_data(consultation, concerns=[str(other.concerns.get().pk)]),
    )

    assert field_errors(response, "id_concerns") == [
        f"Select a valid choice. {other.concerns.get().pk} is not one of the available choices."
    ]
    assert not Course.objects.exists()


def test_not_suitable_needs_an_override_reason(signed_in, make_consultation):
    consultation = make_consultation(bleeding_disorder=True)
    url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    refused = signed_in.post(url, course_data(consultation, override_reason=""))

    assert refused.status_code == HTTPStatus.OK
    [message] = field_errors(refused, "id_override_reason")
    assert message.startswith("The screening found this consultation not suitable")
    assert not Course.objects.exists()

    accepted = signed_in.post(
        url,
        course_data(consultation, override_reason="Haematologist cleared her in writing."),
    )

    assert accepted.status_code == HTTPStatus.FOUND
    course = Course.objects.get()
    assert course.override_reason == "Haematologist cleared her in writing."


def test_screening_cautions_must_be_acknowledged(signed_in, make_consultation):
    consultation = make_consultation(isotretinoin_recent=True)
    url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    page = text(signed_in.get(url))
    refused = signed_in.post(url, course_data(consultation))

    assert "Isotretinoin in the last 6 months" in page
    assert field_errors(refused, "id_cautions_acknowledged") == [
        "Confirm that you have weighed the screening cautions with the client."
    ]
    assert not Course.objects.exists()
    assert (
        signed_in.post(url, course_data(consultation, cautions_acknowledged="on")).status_code
        == HTTPStatus.FOUND
    )


def test_a_course_needs_a_signed_treatment_consent(signed_in, make_consultation):
    consultation = make_consultation(signed=False)

    response = signed_in.post(
        reverse("treatments:course-create", kwargs={"pk": consultation.pk}),
        course_data(consultation),
    )

    assert response.status_code == HTTPStatus.OK
    assert "The client has no valid signed consent" in text(response)
    assert not Course.objects.exists()


@pytest.mark.parametrize("concerns", [1, 4])
def test_course_form_runs_bounded_queries(
    signed_in, make_consultation, django_assert_max_num_queries, concerns
):
    rows = (
        ("acne-scars", "cheeks"),
        ("fine-lines-wrinkles", "forehead"),
        ("stretch-marks", "abdomen"),
        ("melasma", "face"),
    )[:concerns]
    consultation = make_consultation(concerns=rows)

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 5):
        response = signed_in.get(
            reverse("treatments:course-create", kwargs={"pk": consultation.pk})
        )

    assert response.status_code == HTTPStatus.OK


def test_the_start_page_offers_the_course_already_running_from_the_consultation(
    signed_in, make_course
):
    running = make_course()

    response = signed_in.get(
        reverse("treatments:course-create", kwargs={"pk": running.consultation_id})
    )

    assert "A course from this consultation is already running" in text(response)
    assert f'href="{running.get_absolute_url()}"' in response.content.decode()
    assert "Open the course already running" in text(response)
    assert "start_another" in response.context["form"].fields


def test_a_second_course_from_a_consultation_takes_a_ticked_box(signed_in, make_course):
    running = make_course()
    consultation = running.consultation
    url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    refused = signed_in.post(url, course_data(consultation, notes="A second area."))
    started = signed_in.post(url, course_data(consultation, start_another="on"))

    assert refused.status_code == HTTPStatus.OK
    assert field_errors(refused, "id_start_another") == [
        "A course from this consultation is already running: open it, or tick this box to "
        "start another one alongside it."
    ]
    assert "A second area." in refused.content.decode()
    assert started.status_code == HTTPStatus.FOUND
    assert consultation.courses.count() == 2


@pytest.mark.parametrize("end", ["complete", "stop"])
def test_a_course_that_ended_does_not_hold_back_a_new_one(
    signed_in, make_course, practitioner, end
):
    ended = make_course()
    finish = complete_course if end == "complete" else stop_course
    finish(course=ended, by=practitioner, reason="Moved away.", on=TODAY())
    url = reverse("treatments:course-create", kwargs={"pk": ended.consultation_id})

    page = signed_in.get(url)
    started = signed_in.post(url, course_data(ended.consultation))

    assert "already running" not in text(page)
    assert started.status_code == HTTPStatus.FOUND


# A course's page, completing and stopping -------------------------------------------------------


def test_course_page_shows_progress_sessions_and_next_due(signed_in, make_course, log, product):
    course = make_course(planned_sessions=6)
    log(course, days_ago(30), products=[(product("Hyaluronic"), "HA-2291")])
    log(course, days_ago(2))

    response = signed_in.get(course.get_absolute_url())
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "Session 2 of 6" in page
    assert f"Next session due {days_ago(2) + datetime.timedelta(weeks=4):%-d %b %Y}" in page
    assert "lot HA-2291" in page
    assert "Log session 3 of 6" in page


def test_stopping_a_course_needs_a_reason_next_to_the_field(signed_in, make_course):
    course = make_course()

    response = signed_in.post(
        reverse("treatments:course-stop", kwargs={"pk": course.pk}),
        {"stop-ended_on": TODAY().isoformat(), "stop-end_reason": "  "},
    )

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_stop-end_reason") == ["Say why the course is stopped."]
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


def test_a_course_is_stopped_with_its_reason(signed_in, make_course):
    course = make_course()

    response = signed_in.post(
        reverse("treatments:course-stop", kwargs={"pk": course.pk}),
        {"stop-ended_on": TODAY().isoformat(), "stop-end_reason": "Moved abroad."},
    )

    course.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND
    assert course.status == Course.Status.STOPPED
    assert course.end_reason == "Moved abroad."


def test_a_course_is_completed_by_hand_once(signed_in, make_course):
    course = make_course()
    url = reverse("treatments:course-complete", kwargs={"pk": course.pk})
    data = {"complete-ended_on": TODAY().isoformat(), "complete-end_reason": "Happy early."}

    first = signed_in.post(url, data)
    second = signed_in.post(url, data)

    course.refresh_from_db()
    assert first.status_code == HTTPStatus.FOUND
    assert course.status == Course.Status.COMPLETED
    assert second.status_code == HTTPStatus.OK
    assert "This course is already completed." in text(second)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2999-01-01", "A course cannot end in the future."),
        ("2000-01-01", "A course cannot end before it started."),
        ("yesterday", "Enter a valid date."),
    ],
)
def test_ending_on_an_impossible_date_is_refused_next_to_the_date(
    signed_in, make_course, day, message
):
    course = make_course()

    response = signed_in.post(
        reverse("treatments:course-complete", kwargs={"pk": course.pk}),
        {"complete-ended_on": day, "complete-end_reason": ""},
    )

    assert field_errors(response, "id_complete-ended_on") == [message]
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


def test_ending_a_course_is_a_post(signed_in, make_course):
    course = make_course()

    assert (
        signed_in.get(reverse("treatments:course-stop", kwargs={"pk": course.pk})).status_code
        == HTTPStatus.METHOD_NOT_ALLOWED
    )


def test_the_old_plan_addresses_lead_to_the_course_pages_for_good(signed_in, make_course):
    course = make_course()
    moved = {
        f"/plans/{course.pk}/": course.get_absolute_url(),
        f"/plans/{course.pk}/sessions/new/": reverse(
            "treatments:session-create", kwargs={"pk": course.pk}
        ),
        f"/consultations/{course.consultation_id}/plans/new/": reverse(
            "treatments:course-create", kwargs={"pk": course.consultation_id}
        ),
    }

    for old, new in moved.items():
        response = signed_in.get(old)
        assert (response.status_code, response.url) == (HTTPStatus.MOVED_PERMANENTLY, new)
        assert signed_in.get(response.url).status_code == HTTPStatus.OK
    # The end-of-course forms post from the course page only: their old addresses are gone.
    for action in ("complete", "stop"):
        response = signed_in.post(f"/plans/{course.pk}/{action}/", {})
        assert response.status_code == HTTPStatus.NOT_FOUND
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


@pytest.mark.parametrize("sessions", [1, 12])
def test_course_page_runs_bounded_queries(
    signed_in, make_course, log, product, practitioner, django_assert_max_num_queries, sessions
):
    course = make_course(planned_sessions=20, departure_reason=LONG_COURSE)
    for n in range(sessions):
        session = log(course, days_ago(110 - n * 7), products=[(product("Hyaluronic"), f"LOT{n}")])
        if n % 2:
            void_session(session=session, reason="Logged twice.", by=practitioner)

    # ... and the access record's insert
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 8):
        response = signed_in.get(course.get_absolute_url())

    assert response.status_code == HTTPStatus.OK


# Logging a session ------------------------------------------------------------------------------


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def session_data(course, *, areas=(("cheeks", "1.50"),), products=(), **fields):
    """POST data for the session form: every area, product and concern rating given."""
    data = {
        "performed_on": TODAY().isoformat(),
        "device": TreatmentSession.Device.PEN,
        "device_model": "Dermapen 4",
        "numbing": "",
        "skin_response": TreatmentSession.Response.PINPOINT_BLEEDING,
        "pain_score": "3",
        "notes": "Tolerated well.",
        "check_asked": "on",
        **management("areas", len(areas), len(areas)),
        **management("products", len(products), len(products)),
    }
    for index, (area, depth) in enumerate(areas):
        data[f"areas-{index}-area"] = area
        data[f"areas-{index}-depth_mm"] = depth
    for index, (product, lot) in enumerate(products):
        data[f"products-{index}-product"] = str(product.pk)
        if isinstance(lot, Lot):
            data[f"products-{index}-lot"] = str(lot.pk)
        elif lot:
            # A lot not yet in stock, received on the spot with its expiry.
            data[f"products-{index}-new_lot_number"] = lot
            data[f"products-{index}-new_lot_expiry"] = (
                TODAY() + datetime.timedelta(days=300)
            ).isoformat()
    for pc in course.course_concerns.all():
        data[f"progress-{pc.recorded_concern_id}-practitioner_rating"] = "2"
        data[f"progress-{pc.recorded_concern_id}-client_rating"] = "3"
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_first_session_form_starts_from_the_concerns_areas_and_depth_guidance(
    signed_in, make_consultation, make_course
):
    consultation = make_consultation(
        concerns=(("acne-scars", "cheeks"), ("stretch-marks", "abdomen"))
    )
    course = make_course(consultation)

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    initial = response.context["areas"].initial
    # The concerns' depths (1.5 and 1.75 mm) inside each area's thin-skin range: a first
    # session is conservative.
    assert {row["area"]: row["depth_mm"] for row in initial} == {
        "cheeks": Decimal("1.00"),
        "abdomen": Decimal("1.50"),
    }
    page = text(response)
    assert "Log session 1 of 3" in page
    assert "Depth guidance" in page
    assert "scar trials used 1.5 mm" in page


def test_next_session_form_is_prefilled_from_the_previous_session(
    signed_in, make_course, log, product
):
    course = make_course(planned_sessions=6)
    numbing = product("Lidocaine 4%")
    log(
        course,
        days_ago(28),
        areas=[("cheeks", Decimal("1.25")), ("forehead", Decimal("0.50"))],
        device=TreatmentSession.Device.STAMP,
        device_model="Stamp 36",
        numbing=numbing,
        products=[(product("Hyaluronic"), "HA-1"), (product("Peptide"), "PEP-7")],
    )

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))
    form = response.context["form"]

    assert form["device"].value() == TreatmentSession.Device.STAMP
    assert form["device_model"].value() == "Stamp 36"
    assert form["numbing"].value() == numbing.pk
    assert form["performed_on"].value() == TODAY()
    assert [(row["area"], row["depth_mm"]) for row in response.context["areas"].initial] == [
        ("cheeks", Decimal("1.25")),
        ("forehead", Decimal("0.50")),
    ]
    # The lots are offered to confirm, not filled in.
    lots = [Lot.objects.get(lot_number=number).pk for number in ("HA-1", "PEP-7")]
    assert [row["last_lot"] for row in response.context["products"].initial] == lots
    assert [row["lot"].value() for row in response.context["products"]][:2] == [None, None]


def test_products_no_longer_in_use_are_not_offered(signed_in, make_course, log, product):
    course = make_course()
    serum = product("Peptide")
    log(course, days_ago(28), products=[(serum, "PEP-7")])
    Product.objects.filter(pk=serum.pk).update(in_use=False)

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    assert response.context["products"].initial == []
    assert "Peptide serum" not in response.content.decode()
    assert "Vitamin A serum" not in response.content.decode()  # not for open skin


def test_a_session_is_logged_and_the_client_page_confirms_it(
    signed_in, make_course, product, practitioner
):
    course = make_course(planned_sessions=6)
    data = session_data(
        course,
        areas=[("cheeks", "1.50"), ("forehead", "0.50")],
        products=[(product("Hyaluronic"), "HA-2291")],
        numbing=str(product("Lidocaine 4%").pk),
    )

    response = signed_in.post(
        reverse("treatments:session-create", kwargs={"pk": course.pk}), data, follow=True
    )

    session = TreatmentSession.objects.get(course=course)
    assert response.redirect_chain == [(course.client.get_absolute_url(), HTTPStatus.FOUND)]
    assert f"Session 1 of 6 logged for {course.client}." in text(response)
    assert session.practitioner == practitioner
    assert session.created_by == practitioner
    assert session.pain_score == 3
    assert [(a.area_id, a.depth_mm) for a in session.areas.all()] == [
        ("cheeks", Decimal("1.50")),
        ("forehead", Decimal("0.50")),
    ]
    assert [str(p) for p in session.products_used.all()] == [
        "Hyaluronic acid serum (sterile, needling grade) (lot HA-2291)"
    ]
    [rating] = session.progress.all()
    assert (rating.practitioner_rating, rating.client_rating) == (
        SessionProgress.Rating.SLIGHT,
        SessionProgress.Rating.MODERATE,
    )
    course.refresh_from_db()
    assert course.sessions_logged == 1


def test_the_last_session_completes_the_course(signed_in, make_course, log):
    course = make_course(planned_sessions=2)
    log(course, days_ago(28))

    response = signed_in.post(
        reverse("treatments:session-create", kwargs={"pk": course.pk}),
        session_data(course),
        follow=True,
    )

    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED
    assert "Session 2 of 2 logged" in text(response)
    assert "The course is complete." in text(response)


def test_removed_and_blank_rows_are_not_saved(signed_in, make_course):
    course = make_course()
    data = session_data(course, areas=[("cheeks", "1.50"), ("forehead", "0.50")])
    data["areas-1-DELETE"] = "on"
    data.update(management("areas", 3, 2))
    data.update({"areas-2-area": "", "areas-2-depth_mm": ""})

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert response.status_code == HTTPStatus.FOUND
    session = TreatmentSession.objects.get()
    assert [a.area_id for a in session.areas.all()] == ["cheeks"]


@pytest.mark.parametrize(
    ("change", "field_id", "message"),
    [
        ({"areas-0-depth_mm": "3.50"}, "id_areas-0-depth_mm", "between 0.25 and 3.0 mm"),
        ({"areas-0-depth_mm": "0.10"}, "id_areas-0-depth_mm", "between 0.25 and 3.0 mm"),
        ({"areas-0-depth_mm": "deep"}, "id_areas-0-depth_mm", "Enter a number."),
        ({"areas-0-depth_mm": "NaN"}, "id_areas-0-depth_mm", "Enter a number."),
        ({"areas-0-area": ""}, "id_areas-0-area", "This field is required."),
        ({"areas-0-DELETE": "on"}, "id_areas-0-area", "Record at least one treated area"),
        ({"performed_on": "2999-12-31"}, "id_performed_on", "cannot be logged in the future"),
        ({"performed_on": "2001-01-01"}, "id_performed_on", "a session cannot be earlier"),
        ({"pain_score": "11"}, "id_pain_score", "Pain is scored from 0 to 10."),
        ({"pain_score": "-1"}, "id_pain_score", "Pain is scored from 0 to 10."),
        ({"device": "laser"}, "id_device", "Select a valid choice."),
        ({"numbing": "999999"}, "id_numbing", "Select a valid choice."),
    ],
)
def test_session_refusals_appear_next_to_their_field_with_input_kept(
    signed_in, make_course, change, field_id, message
):
    course = make_course()
    data = session_data(course, **change)

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert response.status_code == HTTPStatus.OK
    errors = field_errors(response, field_id)
    assert len(errors) == 1 and message in errors[0]
    content = response.content.decode()
    assert 'value="Dermapen 4"' in content
    assert "Tolerated well." in content
    assert not TreatmentSession.objects.exists()


def test_a_product_without_its_lot_number_is_refused_next_to_the_lot(
    signed_in, make_course, product
):
    course = make_course()
    data = session_data(course, products=[(product("Hyaluronic"), "")])

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert field_errors(response, "id_products-0-lot") == [
        "Choose the lot from the pack in hand, scan it, or receive a new lot with its expiry date."
    ]
    assert not TreatmentSession.objects.exists()


def test_the_same_area_twice_is_refused(signed_in, make_course):
    course = make_course()
    data = session_data(course, areas=[("cheeks", "1.50"), ("cheeks", "1.00")])

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert "Each area appears once" in text(response)
    assert not TreatmentSession.objects.exists()


def test_a_progress_rating_is_needed_for_each_concern(signed_in, make_course):
    course = make_course()
    rc = course.course_concerns.get().recorded_concern
    data = session_data(course, **{f"progress-{rc.pk}-practitioner_rating": ""})

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert field_errors(response, f"id_progress-{rc.pk}-practitioner_rating") == [
        "Rate the progress, or choose “Not assessed”: nothing is assumed."
    ]
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize("status", ["complete", "stop"])
def test_no_session_on_an_ended_course(signed_in, make_course, status):
    course = make_course()
    signed_in.post(
        reverse(f"treatments:course-{status}", kwargs={"pk": course.pk}),
        {f"{status}-ended_on": TODAY().isoformat(), f"{status}-end_reason": "Done."},
    )
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})

    page = signed_in.get(url)
    refused = signed_in.post(url, session_data(course))

    assert "no more sessions can be logged" in text(page)
    assert refused.status_code == HTTPStatus.OK
    assert "no more sessions can be logged on it" in text(refused)
    assert "Tolerated well." in refused.content.decode()  # the input is kept
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize("sessions", [1, 10])
def test_session_form_runs_bounded_queries(
    signed_in, make_course, log, product, django_assert_max_num_queries, sessions
):
    course = make_course(planned_sessions=20, departure_reason=LONG_COURSE)
    for n in range(sessions):
        log(course, days_ago(110 - n * 10), products=[(product("Hyaluronic"), f"LOT{n}")])

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 9):
        response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    assert response.status_code == HTTPStatus.OK


# Logging a session: the course read locked with its session counts, its concerns, and the
# products with their lots offered (in use and in date, and the lots the rows name) in one query,
# after the course's lock: a lot recalled since the page was shown is refused (3); the session
# with its audit row, which keeps the session's rows (2), its areas, products and ratings (3),
# the course with its audit row (2) and the form's one-time key (clinic.submissions, 1), in the
# request's transaction (2: a savepoint here, BEGIN and COMMIT in production). The same count
# whatever the rows posted. With the signed-in user's queries it is 15 with the session read
# from Redis (DJANGO_REDIS_URL), as production runs it: the performance policy's budget.
LOG_SESSION_POST_QUERIES = 12


@pytest.mark.parametrize(("sessions", "rows"), [(1, 1), (10, 3)])
def test_logging_a_session_runs_bounded_queries(
    sessions_as_with_redis,
    signed_in,
    make_course,
    log,
    product,
    make_lot,
    django_assert_max_num_queries,
    sessions,
    rows,
):
    # Weekly: the sessions ten days apart, and today's, keep to the course's interval.
    course = make_course(planned_sessions=20, interval_weeks=1, departure_reason=LONG_COURSE)
    for n in range(sessions):
        log(course, days_ago(110 - n * 10), products=[(product("Hyaluronic"), f"LOT{n}")])
    areas = [("cheeks", "1.50"), ("forehead", "0.50"), ("neck", "0.75")][:rows]
    serums = [product("Hyaluronic"), product("Peptide"), product("Vitamin C")][:rows]
    data = session_data(
        course,
        areas=areas,
        products=[(serum, make_lot(serum, f"NEW{n}")) for n, serum in enumerate(serums)],
        numbing=product("Lidocaine 4%").pk,
        submission_key=str(uuid.uuid4()),  # as the page draws it
    )

    with django_assert_max_num_queries(SIGNED_IN_QUERIES_WITH_REDIS + LOG_SESSION_POST_QUERIES):
        response = signed_in.post(
            reverse("treatments:session-create", kwargs={"pk": course.pk}), data
        )

    assert response.status_code == HTTPStatus.FOUND
    session = course.sessions.get(number=sessions + 1)
    assert session.areas.count() == session.products_used.count() == rows
    assert session.numbing.name.startswith("Lidocaine")
    assert Submission.objects.filter(key=data["submission_key"]).exists()


def test_a_tampered_session_form_is_an_error_not_a_crash(signed_in, make_course):
    course = make_course()
    data = session_data(course)
    del data["areas-TOTAL_FORMS"]
    data["products-TOTAL_FORMS"] = "many"

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert response.status_code == HTTPStatus.OK
    assert "The session is not logged yet" in text(response)
    assert not TreatmentSession.objects.exists()


# Correcting a session ---------------------------------------------------------------------------


def test_the_author_corrects_a_session_on_the_same_day(signed_in, make_course, log):
    course = make_course(planned_sessions=6)
    session = log(course, TODAY())
    url = reverse("treatments:session-update", kwargs={"pk": session.pk})

    page = signed_in.get(url)
    response = signed_in.post(
        url,
        session_data(course, areas=[("cheeks", "1.75")], pain_score="5"),
        follow=True,
    )

    assert page.context["areas"].initial == [{"area": "cheeks", "depth_mm": Decimal("1.50")}]
    assert "Correct session 1 of 6" in text(page)
    session.refresh_from_db()
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.75")]
    assert session.pain_score == 5
    assert "Session 1 corrected." in text(response)
    assert TreatmentSession.objects.count() == 1


def test_a_correction_with_a_bad_depth_changes_nothing(signed_in, make_course, log):
    course = make_course()
    session = log(course, TODAY())

    response = signed_in.post(
        reverse("treatments:session-update", kwargs={"pk": session.pk}),
        session_data(course, areas=[("cheeks", "4.00")]),
    )

    assert "between 0.25 and 3.0 mm" in field_errors(response, "id_areas-0-depth_mm")[0]
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.50")]


@pytest.mark.parametrize("sessions", [1, 10])
def test_correction_form_runs_bounded_queries(
    signed_in, make_course, log, product, django_assert_max_num_queries, sessions
):
    course = make_course(planned_sessions=20, departure_reason=LONG_COURSE)
    for n in range(sessions):
        last = log(course, days_ago(110 - n * 10), products=[(product("Hyaluronic"), f"LOT{n}")])

    # The lots offered (one query) beside what the page read before lots were stock.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 9):
        response = signed_in.get(reverse("treatments:session-update", kwargs={"pk": last.pk}))

    assert response.status_code == HTTPStatus.OK


def test_another_practitioner_cannot_correct_the_session(signed_in, make_course, log, make_user):
    course = make_course()
    session = log(course, TODAY())
    signed_in.force_login(make_user("colleague"))
    url = reverse("treatments:session-update", kwargs={"pk": session.pk})

    page = signed_in.get(url)
    post = signed_in.post(url, session_data(course, areas=[("cheeks", "2.00")]))

    assert page.status_code == post.status_code == HTTPStatus.FORBIDDEN
    assert "Only the practitioner who logged this session can correct it." in text(page)
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.50")]


def test_a_session_cannot_be_corrected_on_a_later_day(signed_in, make_course, log):
    course = make_course()
    session = log(course, days_ago(1))
    TreatmentSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    url = reverse("treatments:session-update", kwargs={"pk": session.pk})

    page = signed_in.get(url)
    post = signed_in.post(url, session_data(course, areas=[("cheeks", "2.00")]))

    assert page.status_code == post.status_code == HTTPStatus.FORBIDDEN
    assert "Sessions can be corrected only on the day they were logged" in text(page)
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.50")]


def test_correct_links_appear_only_for_sessions_i_may_correct(
    signed_in, make_course, log, make_user
):
    course = make_course()
    mine = log(course, TODAY())
    edit = reverse("treatments:session-update", kwargs={"pk": mine.pk})

    assert edit in signed_in.get(course.client.get_absolute_url()).content.decode()
    signed_in.force_login(make_user("colleague"))
    assert edit not in signed_in.get(course.client.get_absolute_url()).content.decode()


def test_the_second_of_two_overlapping_corrections_is_refused_and_nothing_is_lost(
    signed_in, make_course, log, practitioner
):
    course = make_course(planned_sessions=6)
    session = log(course, TODAY(), pain_score=3)
    url = reverse("treatments:session-update", kwargs={"pk": session.pk})
    shown = signed_in.get(url).context["form"]["version"].value()
    # The same practitioner saves a correction from another tab meanwhile.
    update_session(session=session, by=practitioner, pain_score=5)

    refused = signed_in.post(
        url,
        session_data(course, areas=[("cheeks", "1.75")], notes="Mild swelling.", version=shown),
    )

    assert refused.status_code == HTTPStatus.OK
    page = text(refused)
    assert "This record was changed while you were editing it." in page
    assert "Alex Smith at" in page and "pain (0-10): “3” → “5”" in page
    assert "The correction is not saved yet" in page
    content = refused.content.decode()
    assert "Mild swelling." in content and 'value="1.75"' in content
    session.refresh_from_db()
    assert (session.pain_score, session.notes) == (5, "")
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.50")]

    again = signed_in.post(url, dict(refused.context["form"].data.items()))

    assert again.status_code == HTTPStatus.FOUND
    session.refresh_from_db()
    assert (session.pain_score, session.notes) == (3, "Mild swelling.")
    assert [a.depth_mm for a in session.areas.all()] == [Decimal("1.75")]


@pytest.mark.parametrize("action", ["complete", "stop"])
def test_ending_a_course_that_changed_meanwhile_is_refused_with_what_changed(
    signed_in, make_course, log, make_user, action
):
    course = make_course(planned_sessions=6)
    page = signed_in.get(reverse("treatments:course-end", kwargs={"pk": course.pk}))
    shown = page.context[f"{action}_form"]["version"].value()
    assert f'name="{action}-version" value="{shown}"' in page.content.decode()
    # A colleague logs a session while the end-course page is open.
    colleague = make_user("sam", first_name="Sam", last_name="Okafor")
    log_session(
        course=course,
        check_asked=True,
        practitioner=colleague,
        by=colleague,
        performed_on=TODAY(),
        areas=[("cheeks", Decimal("1.50"))],
    )
    data = {
        f"{action}-ended_on": TODAY().isoformat(),
        f"{action}-end_reason": "Client moving abroad.",
        f"{action}-version": str(shown),
    }
    url = reverse(f"treatments:course-{action}", kwargs={"pk": course.pk})

    refused = signed_in.post(url, data)

    assert refused.status_code == HTTPStatus.OK
    assert "This record was changed while you were editing it." in text(refused)
    assert "Sam Okafor at" in text(refused)
    assert "Session 1 of 6" in text(refused)  # the course as it is now, beside the message
    assert "Client moving abroad." in refused.content.decode()
    course.refresh_from_db()
    assert (course.status, course.sessions_logged) == (Course.Status.ACTIVE, 1)

    again = signed_in.post(url, dict(refused.context[f"{action}_form"].data.items()))

    assert again.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert course.status == (
        Course.Status.COMPLETED if action == "complete" else Course.Status.STOPPED
    )
    assert (course.end_reason, course.sessions_logged) == ("Client moving abroad.", 1)


def test_a_damaged_version_is_refused_with_a_message(signed_in, make_course, log):
    course = make_course()
    session = log(course, TODAY())

    correction = signed_in.post(
        reverse("treatments:session-update", kwargs={"pk": session.pk}),
        session_data(course, pain_score="7", version="x"),
    )
    stop = signed_in.post(
        reverse("treatments:course-stop", kwargs={"pk": course.pk}),
        {"stop-ended_on": TODAY().isoformat(), "stop-end_reason": "Moved.", "stop-version": "x"},
    )

    assert correction.status_code == stop.status_code == HTTPStatus.OK
    assert "This form arrived damaged" in text(correction)
    assert "This form arrived damaged" in text(stop)
    session.refresh_from_db()
    course.refresh_from_db()
    assert session.pain_score is None
    assert course.status == Course.Status.ACTIVE


# Voiding a session ------------------------------------------------------------------------------


def test_the_author_voids_a_session_with_a_reason_from_the_course_page(
    signed_in, make_course, log, practitioner
):
    course = make_course(planned_sessions=6)
    log(course, days_ago(28))
    mistaken = log(course, TODAY())
    void_url = reverse("treatments:session-void", kwargs={"pk": mistaken.pk})
    course_page = signed_in.get(course.get_absolute_url())
    assert f'action="{void_url}"' in course_page.content.decode()

    response = signed_in.post(
        void_url, {"void_reason": "Logged on the wrong client's course."}, follow=True
    )

    mistaken.refresh_from_db()
    course.refresh_from_db()
    assert response.redirect_chain[-1][0] == course.get_absolute_url()
    assert mistaken.is_voided and mistaken.voided_by == practitioner
    assert mistaken.void_reason == "Logged on the wrong client's course."
    assert course.sessions_logged == 1
    page = text(response)
    assert "Session 2 of 6 voided" in page
    assert "Voided session" in page
    assert "Logged on the wrong client's course." in page
    assert "Session 1 of 6" in page
    assert "Log session 2 of 6" in page
    assert f'action="{void_url}"' not in response.content.decode()
    assert reverse("treatments:session-update", kwargs={"pk": mistaken.pk}) not in (
        response.content.decode()
    )


def test_voided_sessions_are_struck_through_and_do_not_count_in_session_n_of_n(
    signed_in, make_course, log, practitioner
):
    course = make_course(planned_sessions=6)
    log(course, days_ago(56))
    second = log(course, days_ago(28))
    log(course, days_ago(1))
    void_session(session=second, reason="Entered twice.", by=practitioner)

    course_page = signed_in.get(course.get_absolute_url())
    client_page = signed_in.get(course.client.get_absolute_url())
    today = signed_in.get(reverse("today"))
    logging = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    assert [s.position if not s.is_voided else None for s in course_page.context["sessions"]] == [
        1,
        None,
        2,
    ]
    for response in (course_page, client_page):
        page = text(response)
        assert "Session 1 of 6" in page and "Session 2 of 6" in page
        assert "Session 3 of 6" not in page
        assert "Voided session" in page and "Entered twice." in page
        assert "text-decoration-line-through" in response.content.decode()
    recent = text(today).split("My recent sessions")[1]
    assert "Session 1 of 6" in recent and "Session 2 of 6" in recent
    assert "Voided session" in recent
    assert "Log session 3 of 6" in text(logging)


def test_a_void_needs_a_reason_next_to_the_field(signed_in, make_course, log):
    course = make_course()
    session = log(course, TODAY())
    url = reverse("treatments:session-void", kwargs={"pk": session.pk})

    page = signed_in.get(url)
    response = signed_in.post(url, {"void_reason": "   "})

    assert page.status_code == HTTPStatus.OK
    assert "Void session 1 of 3" in text(page)
    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_void_reason") == ["Say why this session is voided."]
    session.refresh_from_db()
    assert not session.is_voided


def test_the_correction_page_offers_voiding_instead(signed_in, make_course, log):
    course = make_course()
    session = log(course, TODAY())

    page = signed_in.get(reverse("treatments:session-update", kwargs={"pk": session.pk}))

    assert "Logged by mistake?" in text(page)
    assert (
        f'action="{reverse("treatments:session-void", kwargs={"pk": session.pk})}"'
        in page.content.decode()
    )


def test_only_the_author_voids_and_only_on_the_day_it_was_logged(
    signed_in, make_course, log, make_user
):
    course = make_course()
    today = log(course, days_ago(10))
    older = log(course, days_ago(5))
    TreatmentSession.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    reason = {"void_reason": "Mistake."}

    old = signed_in.post(reverse("treatments:session-void", kwargs={"pk": older.pk}), reason)
    signed_in.force_login(make_user("colleague"))
    colleague = signed_in.post(reverse("treatments:session-void", kwargs={"pk": today.pk}), reason)

    assert old.status_code == colleague.status_code == HTTPStatus.FORBIDDEN
    assert "Sessions can be corrected only on the day they were logged" in text(old)
    assert "Only the practitioner who logged this session" in text(colleague)
    assert not TreatmentSession.objects.filter(voided_at__isnull=False).exists()


def test_a_voided_session_can_be_neither_corrected_nor_voided_again(
    signed_in, make_course, log, practitioner
):
    course = make_course()
    session = log(course, TODAY())
    void_session(session=session, reason="Wrong client.", by=practitioner)

    correct = signed_in.get(reverse("treatments:session-update", kwargs={"pk": session.pk}))
    again = signed_in.post(
        reverse("treatments:session-void", kwargs={"pk": session.pk}), {"void_reason": "Again."}
    )

    assert correct.status_code == again.status_code == HTTPStatus.FORBIDDEN
    assert "This session was voided" in text(correct)
    session.refresh_from_db()
    assert session.void_reason == "Wrong client."


def test_voiding_the_session_that_completed_a_course_reopens_it(signed_in, make_course, log):
    course = make_course(planned_sessions=1)
    session = log(course, TODAY())
    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED

    signed_in.post(
        reverse("treatments:session-void", kwargs={"pk": session.pk}),
        {"void_reason": "Logged on the wrong course."},
    )

    course.refresh_from_db()
    assert (course.status, course.sessions_logged) == (Course.Status.ACTIVE, 0)
    assert "Log session 1 of 1" in text(signed_in.get(course.get_absolute_url()))


# Catalogue --------------------------------------------------------------------------------------


def test_catalogue_lists_every_concern_with_its_course(signed_in, concern):
    page = text(signed_in.get(reverse("catalogue:concern-list")))

    assert "Atrophic acne scars" in page
    assert "Active acne and blackheads" in page
    assert "No established course" in page
    assert "3-6 sessions" in page


def test_catalogue_page_explains_a_concern_to_a_client(signed_in, concern):
    scars = concern("acne-scars")

    page = text(signed_in.get(scars.get_absolute_url()))

    assert scars.benefit in page
    assert "3-6 sessions" in page
    assert "Every 4 weeks (2-6)" in page
    assert "Moderate" in page  # evidence level
    assert "Do not needle over active acne" in page  # cautions
    assert "Alam 2014" in page


@pytest.mark.parametrize("url", ["/catalogue/", "/catalogue/acne-scars/"])
def test_catalogue_runs_bounded_queries(
    signed_in, make_course, log, django_assert_max_num_queries, url
):
    for _ in range(5):
        log(make_course(), days_ago(3))

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 2):
        assert signed_in.get(url).status_code == HTTPStatus.OK


# Nothing invented: ratings start empty, a lot from last time is offered, never saved unseen.


def test_progress_ratings_start_empty_even_after_a_rated_session(
    signed_in, make_consultation, make_course, log
):
    course = make_course(make_consultation(held_on=TODAY() - datetime.timedelta(days=60)))
    rc = course.course_concerns.get().recorded_concern
    log(course, TODAY() - datetime.timedelta(days=35), progress=[(rc, 3, None)])

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    rating = response.context["progress_forms"][0]["practitioner_rating"]
    assert rating.value() in (None, "")
    assert "Not assessed" in [label for _, label in rating.field.choices]


def test_not_assessed_is_chosen_explicitly_and_kept_as_no_rating(signed_in, make_course):
    course = make_course()
    rc = course.course_concerns.get().recorded_concern
    data = session_data(course, **{f"progress-{rc.pk}-practitioner_rating": "not-assessed"})

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert response.status_code == 302
    progress = SessionProgress.objects.get()
    assert progress.practitioner_rating is None
    assert progress.get_practitioner_rating_display() == "Not assessed"
    page = signed_in.get(course.get_absolute_url())
    assert "not assessed" in text(page)


def test_a_correction_shows_not_assessed_as_it_was_chosen(signed_in, make_course, log):
    course = make_course()
    rc = course.course_concerns.get().recorded_concern
    session = log(course, progress=[(rc, None, None)])

    response = signed_in.get(reverse("treatments:session-update", kwargs={"pk": session.pk}))

    assert response.context["progress_forms"][0]["practitioner_rating"].value() == "not-assessed"


def last_lot_course(make_consultation, make_course, log, product):
    course = make_course(make_consultation(held_on=TODAY() - datetime.timedelta(days=60)))
    serum = product("Hyaluronic")
    log(course, TODAY() - datetime.timedelta(days=35), products=[(serum, "HA-1")])
    return course, serum


def test_the_last_lot_is_offered_to_confirm_not_filled_in(
    signed_in, make_consultation, make_course, log, product
):
    course, _ = last_lot_course(make_consultation, make_course, log, product)

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    row = response.context["products"][0]
    assert row["lot"].value() is None
    lot = Lot.objects.get(lot_number="HA-1")
    assert (
        row["same_lot"].label
        == f"Same lot as last session: HA-1 (expires {lot.expiry_date:%d %b %Y})"
    )
    assert not row["same_lot"].value()
    # Offered first among the product's lots.
    assert row.fields["lot"].choices[1][0] == str(lot.pk)


def test_a_lot_neither_typed_nor_confirmed_is_refused(
    signed_in, make_consultation, make_course, log, product
):
    course, serum = last_lot_course(make_consultation, make_course, log, product)
    last = Lot.objects.get(lot_number="HA-1")
    data = session_data(course, products=[(serum, "")], **{"products-0-last_lot": str(last.pk)})

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert field_errors(response, "id_products-0-lot") == [
        "Choose the lot from the pack in hand, or tick the last session's lot."
    ]
    assert course.sessions.count() == 1


@pytest.mark.parametrize(("typed", "saved"), [("", "HA-1"), ("HA-2", "HA-2")])
def test_the_confirmed_lot_is_saved_and_a_typed_one_wins(
    signed_in, make_consultation, make_course, log, product, typed, saved
):
    course, serum = last_lot_course(make_consultation, make_course, log, product)
    last = Lot.objects.get(lot_number="HA-1")
    data = session_data(
        course,
        products=[(serum, typed)],
        **{"products-0-last_lot": str(last.pk), "products-0-same_lot": "on"},
    )

    response = signed_in.post(reverse("treatments:session-create", kwargs={"pk": course.pk}), data)

    assert response.status_code == 302
    latest = course.sessions.order_by("-number").first()
    assert [row.lot_number for row in latest.products_used.all()] == [saved]


# A course's start date within a window around today.


@pytest.mark.parametrize("start", ["9999-12-31", "1999-01-01"])
def test_a_start_date_far_from_today_is_refused_next_to_the_field(
    signed_in, make_consultation, start
):
    consultation = make_consultation()
    rc = consultation.concerns.get()
    response = signed_in.post(
        reverse("treatments:course-create", kwargs={"pk": consultation.pk}),
        {
            "concerns": [rc.pk],
            "planned_sessions": "3",
            "interval_weeks": "4",
            "start_date": start,
            "cautions_acknowledged": "on",
        },
    )

    [error] = field_errors(response, "id_start_date")
    assert "check the year" in error
    assert response.context["form"]["start_date"].value() == start
    assert not Course.objects.exists()
