"""The managers' report pages, exports and the course printout, through the Django test client."""

import csv
import datetime
import io
import json
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ClinicDetails, Concern
from clinic import roles
from consultations.models import Client, ClientAccess
from reports.recall import record_contact_attempt
from tests.pages import SIGNED_IN_QUERIES, field_errors, text
from treatments.aftercare import record_adverse_event
from treatments.models import Appointment, ContactAttempt
from treatments.services import complete_course, log_session, void_session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
Outcome = ContactAttempt.Outcome


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def new_course(make_client, make_consultation, make_course):
    """A course for a new client (with `client_fields`), started `started` days ago."""

    def make(started=60, *, concerns=(("acne-scars", "cheeks"),), planned=6, **client_fields):
        consultation = make_consultation(
            make_client(**client_fields), concerns=concerns, held_on=days_ago(started)
        )
        return make_course(consultation, planned_sessions=planned)

    return make


@pytest.fixture
def overdue(new_course, log, product):
    """A course whose next session was due 12 days ago, with a serum lot and a rating."""
    course = new_course(60)
    recorded = course.course_concerns.get().recorded_concern
    log(
        course,
        days_ago(40),
        products=[(product("Hyaluronic"), "HA-7731")],
        progress=[(recorded, 2, 3)],
    )
    return course


# Who may open the reports ----------------------------------------------------------------------

VISITORS = ["anonymous", "no role", roles.AESTHETICIAN, roles.MANAGER]
REPORTS = ["index", "recall", "outcomes", "activity", "lots", "client-export"]


@pytest.fixture
def visitor(request, make_user):
    browser = Browser()
    if request.param != "anonymous":
        role = None if request.param == "no role" else request.param
        browser.force_login(make_user(f"visitor-{request.param}".replace(" ", "-"), role=role))
    return browser


def report_url(name, course):
    if name == "client-export":
        return reverse("reports:client-export", kwargs={"pk": course.client_id})
    return reverse(f"reports:{name}")


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("name", REPORTS)
def test_reports_are_for_managers_only(visitor, request, name, overdue):
    url = report_url(name, overdue)

    response = visitor.get(url)

    param = request.node.callspec.params["visitor"]
    if param == "anonymous":
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == f"{reverse('login')}?next={url}"
    elif param == roles.MANAGER:
        assert response.status_code == HTTPStatus.OK
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_only_managers_record_recall_contacts(visitor, request, overdue):
    url = reverse("reports:recall-contact")
    data = {
        "client": overdue.client_id,
        "course": overdue.pk,
        "reason": "due",
        "outcome": Outcome.CONTACTED,
    }

    response = visitor.post(url, data)

    param = request.node.callspec.params["visitor"]
    if param == "anonymous":
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("login"))
    elif param == roles.MANAGER:
        assert response.status_code == HTTPStatus.FOUND
        assert ContactAttempt.objects.count() == 1
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN
    if param != roles.MANAGER:
        assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
def test_every_role_that_sees_a_course_may_print_it(visitor, request, overdue):
    url = reverse("reports:course-print", kwargs={"pk": overdue.pk})

    response = visitor.get(url)

    expected = {
        "anonymous": HTTPStatus.FOUND,
        "no role": HTTPStatus.FORBIDDEN,
        roles.AESTHETICIAN: HTTPStatus.OK,
        roles.MANAGER: HTTPStatus.OK,
    }[request.node.callspec.params["visitor"]]
    assert response.status_code == expected


def test_the_recall_contact_page_takes_only_posts(manager_client):
    response = manager_client.get(reverse("reports:recall-contact"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# Recall worklist -------------------------------------------------------------------------------


def test_recall_lists_who_to_call_with_contact_details(
    manager_client, overdue, new_course, log, make_user
):
    colleague = make_user("beth", first_name="Beth", last_name="Jones")
    due = new_course(60)
    log_session(
        course=due,
        check_asked=True,
        practitioner=colleague,
        by=colleague,
        performed_on=days_ago(25),
        areas=[("cheeks", Decimal("1.50"))],
    )
    not_yet = new_course(60)
    log(not_yet, days_ago(10))

    response = manager_client.get(reverse("reports:recall"))
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "2 clients to contact." in page
    assert overdue.client.full_name in page
    assert overdue.client.phone in page
    assert overdue.client.email in page
    assert "Overdue by 12 days" in page
    assert "Due in 3 days" in page
    assert "Beth Jones" in page  # the due course's last practitioner
    assert "Atrophic acne scars (cheeks and chin)" in page
    assert not_yet.client.full_name not in page
    assert page.index(overdue.client.full_name) < page.index(due.client.full_name)


def test_recall_filters_by_reason(manager_client, overdue, new_course, log):
    due = new_course(60)
    log(due, days_ago(25))

    response = manager_client.get(reverse("reports:recall"), {"reason": "due"})

    assert [item.course for item in response.context["items"]] == [due]


def test_a_bad_recall_filter_is_shown_not_a_500(manager_client, overdue):
    response = manager_client.get(
        reverse("reports:recall"), {"practitioner": "999999", "reason": "someday"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "Select a valid choice." in text(response)
    assert [item.course for item in response.context["items"]] == [overdue]


def test_recording_a_booking_takes_the_course_off_the_worklist(manager_client, overdue, manager):
    url = reverse("reports:recall-contact") + "?reason=overdue"

    response = manager_client.post(
        url,
        {
            "client": overdue.client_id,
            "course": overdue.pk,
            "reason": "due",
            "outcome": Outcome.BOOKED,
            "note": "Thursday 10am",
            "booked_date": (TODAY() + datetime.timedelta(days=2)).isoformat(),
            "booked_time": "10:00",
            "booked_with": manager.pk,
        },
        follow=True,
    )

    assert response.redirect_chain == [(reverse("reports:recall") + "?reason=overdue", 302)]
    attempt = ContactAttempt.objects.get()
    assert (attempt.client, attempt.course, attempt.outcome) == (overdue.client, overdue, "booked")
    assert (attempt.note, attempt.created_by) == ("Thursday 10am", manager)
    appointment = Appointment.objects.get()
    assert (appointment.client, appointment.course, appointment.practitioner) == (
        overdue.client,
        overdue,
        manager,
    )
    assert (appointment.date, appointment.time) == (
        TODAY() + datetime.timedelta(days=2),
        datetime.time(10, 0),
    )
    page = text(response)
    assert f"Contact recorded for {overdue.client}, booked: off the worklist" in page
    assert "Nobody to contact with these filters." in page


def test_no_answer_keeps_the_client_listed_with_the_attempt(manager_client, overdue):
    manager_client.post(
        reverse("reports:recall-contact"),
        {
            "client": overdue.client_id,
            "course": overdue.pk,
            "reason": "due",
            "outcome": Outcome.NO_ANSWER,
            "note": "Voicemail left",
        },
    )

    page = text(manager_client.get(reverse("reports:recall")))

    assert overdue.client.full_name in page
    assert "No answer" in page
    assert "Voicemail left" in page
    assert "by Maria Manager" in page


def test_do_not_contact_marks_the_client(manager_client, overdue):
    response = manager_client.post(
        reverse("reports:recall-contact"),
        {
            "client": overdue.client_id,
            "course": overdue.pk,
            "reason": "due",
            "outcome": Outcome.DO_NOT_CONTACT,
        },
        follow=True,
    )

    assert Client.objects.get(pk=overdue.client_id).do_not_contact is True
    assert "never listed for recalls again" in text(response)


def test_a_contact_without_outcome_is_refused_next_to_its_line(manager_client, overdue):
    response = manager_client.post(
        reverse("reports:recall-contact"),
        {"client": overdue.client_id, "course": overdue.pk, "reason": "due", "note": "Rang"},
    )

    assert response.status_code == HTTPStatus.OK
    assert not ContactAttempt.objects.exists()
    (item,) = response.context["items"]
    assert item.form.errors == {"outcome": ["Choose how the contact went."]}
    assert field_errors(response, f"id_due-{overdue.pk}_outcome") == [
        "Choose how the contact went."
    ]
    content = response.content.decode()
    assert "<details open>" in content
    assert "Rang</textarea>" in content  # what was typed is kept


def test_a_contact_for_a_course_of_another_client_is_refused(manager_client, overdue, new_course):
    other = new_course(60)

    response = manager_client.post(
        reverse("reports:recall-contact"),
        {"client": overdue.client_id, "course": other.pk, "reason": "due", "outcome": "booked"},
    )

    assert response.status_code == HTTPStatus.OK
    assert not ContactAttempt.objects.exists()
    assert "This course belongs to another client: reload the worklist." in text(response)


def test_a_tampered_recall_line_is_refused_politely(manager_client, overdue):
    response = manager_client.post(
        reverse("reports:recall-contact"),
        {"client": "999999", "course": overdue.pk, "reason": "due", "outcome": "booked"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "This recall line was not recognised" in text(response)
    assert not ContactAttempt.objects.exists()


def test_contacting_a_client_who_asked_not_to_be_is_refused_on_the_page(manager_client, overdue):
    Client.objects.filter(pk=overdue.client_id).update(do_not_contact=True)

    response = manager_client.post(
        reverse("reports:recall-contact"),
        {"client": overdue.client_id, "course": overdue.pk, "reason": "due", "outcome": "booked"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "asked not to be contacted" in text(response)
    assert not ContactAttempt.objects.exists()


def populate(size, *, new_course, log, product, practitioner, manager):
    """`size` overdue courses (rated, with a serum lot, a voided session and an unanswered
    call) and `size` clients due a maintenance session."""
    serum = product("Hyaluronic")
    for n in range(size):
        course = new_course(60, concerns=(("acne-scars", "cheeks"), ("melasma", "face")))
        concerns = [pc.recorded_concern for pc in course.course_concerns.all()]
        log(
            course,
            days_ago(40 + n),
            products=[(serum, "LOT-1")],
            progress=[(rc, 2, None) for rc in concerns],
        )
        mistaken = log(course, days_ago(30))
        void_session(session=mistaken, reason="Logged twice", by=practitioner)
        record_contact_attempt(
            client=course.client, course=course, reason="due", outcome="no_answer", by=manager
        )
        old = new_course(400, planned=1)
        log(old, days_ago(300))
        ended = new_course(500)
        complete_course(course=ended, by=practitioner, on=days_ago(250 + n))


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize(
    ("name", "query", "own_queries"),
    [
        ("index", {}, 0),
        # count, page, courses, their concerns, last sessions, practitioners, contacts; the
        # filters' choices; the staff a booking can be with; the access records of the clients
        # listed (one insert)
        ("recall", {}, 10),
        # and the concern chosen
        ("recall", {"reason": "overdue", "concern": "CONCERN"}, 11),
        # concerns, courses, voided sessions, ratings, ratings moved, not assessed; the
        # practitioners' choices; adverse events by device and depth band, and by concern
        ("outcomes", {}, 9),
        ("outcomes", {"started_from": "2020-01-01"}, 9),
        # sessions per day, practitioners
        ("activity", {}, 2),
        # the products; the product chosen, the counts, the page, its clients' access records
        ("lots", {}, 1),
        # With the lot itself, its recall contacts, the adverse events after its sessions and the
        # contact permission; the access records of the clients listed (one insert), or the
        # export's record.
        ("lots", {"product": "PRODUCT", "lot": "lot-1"}, 9),
        ("lots", {"product": "PRODUCT", "lot": "lot-1", "format": "csv"}, 5),
    ],
)
def test_reports_run_bounded_queries(
    manager_client,
    new_course,
    log,
    product,
    practitioner,
    manager,
    concern,
    django_assert_max_num_queries,
    size,
    name,
    query,
    own_queries,
):
    populate(
        size,
        new_course=new_course,
        log=log,
        product=product,
        practitioner=practitioner,
        manager=manager,
    )
    if query.get("product") == "PRODUCT":
        query = {**query, "product": product("Hyaluronic").pk}
    if query.get("concern") == "CONCERN":
        query = {**query, "concern": concern("melasma").pk}

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + own_queries):
        response = manager_client.get(reverse(f"reports:{name}"), query)

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("size", [1, 4])
def test_client_export_and_printout_run_bounded_queries(
    manager_client,
    new_course,
    log,
    product,
    practitioner,
    manager,
    django_assert_max_num_queries,
    size,
):
    populate(
        size,
        new_course=new_course,
        log=log,
        product=product,
        practitioner=practitioner,
        manager=manager,
    )
    course = new_course(100, planned=size + 2)
    for n in range(size):
        log(course, days_ago(90 - 7 * n), products=[(product("Peptide"), f"P{n}")])
        record_contact_attempt(
            client=course.client, course=course, reason="due", outcome="no_answer", by=manager
        )

    # client, consultations, concerns, courses, course concerns, sessions, areas, products used
    # with their products, progress with their concerns, contacts, photos, staff; the access
    # record; the signed consents
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 14):
        export = manager_client.get(
            reverse("reports:client-export", kwargs={"pk": course.client_id})
        )
    # course, concerns, the consultation's concerns (for the client's cautions), sessions; the
    # access record
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 4):
        printout = manager_client.get(reverse("reports:course-print", kwargs={"pk": course.pk}))

    assert export.status_code == printout.status_code == HTTPStatus.OK


# Outcomes and activity -------------------------------------------------------------------------


@pytest.fixture
def finished(new_course, log):
    """Two completed acne-scar courses, of 2 and 3 sessions, rated 1 then 3 at each session."""
    courses = []
    for planned in (2, 3):
        course = new_course(200, planned=planned)
        recorded = course.course_concerns.get().recorded_concern
        for n, rating in zip(range(planned), [1, 3, 3], strict=False):
            log(course, days_ago(190 - 28 * n), progress=[(recorded, rating, None)])
        courses.append(course)
    return courses


def test_outcomes_show_the_figures_beside_the_catalogue(manager_client, finished):
    response = manager_client.get(reverse("reports:outcomes"))
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    # name, typical, started, completed, stopped, active, min · median · max, outside
    assert "Atrophic acne scars 3-6 sessions 2 2 0 0 2 · 2.5 · 3 1" in page
    # averages by session: (1 + 1) / 2, (3 + 3) / 2, 3 / 1
    assert "Atrophic acne scars 1.0 (2) 3.0 (2) 3.0 (1)" in page
    assert "Not assessed" in page
    content = response.content.decode()
    assert content.count("<svg") == 2
    assert "cdn" not in content.lower()


def test_outcomes_count_adverse_events_per_concern_device_and_depth_band(
    manager_client, new_course, log, practitioner
):
    two = new_course(200, concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")))
    one = new_course(200)
    other = new_course(200, concerns=(("stretch-marks", "abdomen"),))
    at_1_5 = log(two, days_ago(150))  # cheeks at 1.5 mm
    roller = log(one, days_ago(150), device="roller", areas=[("cheeks", Decimal("0.50"))])
    voided = log(other, days_ago(150), areas=[("abdomen", Decimal("2.00"))])
    for session, severity in ((at_1_5, "severe"), (at_1_5, "mild"), (roller, "moderate")):
        record_adverse_event(
            session=session,
            by=practitioner,
            kind="swelling",
            severity=severity,
            onset_on=session.performed_on,
        )
    record_adverse_event(
        session=voided,
        by=practitioner,
        kind="infection",
        severity="severe",
        onset_on=voided.performed_on,
    )
    void_session(session=voided, reason="Logged on the wrong client.", by=practitioner)

    response = manager_client.get(reverse("reports:outcomes"))

    counts = response.context["adverse_events"]
    as_rows = {
        name: [(row.label, row.events, row.severe) for row in rows] for name, rows in counts.items()
    }
    assert as_rows == {
        # The course of two concerns counts its events for each.
        "concern": [
            ("Atrophic acne scars", 3, 1),
            (Concern.objects.get(slug="fine-lines-wrinkles").name, 2, 1),
        ],
        "device": [("Motorised pen", 2, 1), ("Roller", 1, 0)],
        "depth": [("Up to 0.5 mm", 1, 0), ("Over 1.0 to 1.5 mm", 2, 1)],
    }
    page = text(response)
    assert "Adverse events" in page and "Per needle depth band" in page
    assert "Over 1.0 to 1.5 mm 2 1" in page
    # Filtered as the rest of the report: none for courses started since.
    later = manager_client.get(
        reverse("reports:outcomes"), {"started_from": days_ago(10).isoformat()}
    )
    assert later.context["adverse_events"] == {"concern": [], "device": [], "depth": []}
    assert "No adverse events recorded" in text(later)


def test_outcomes_refuse_bad_dates_with_a_message(manager_client, finished):
    response = manager_client.get(
        reverse("reports:outcomes"), {"started_from": "2025-13-45", "started_to": "2025-01-01"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "Enter a valid date." in text(response)
    assert "Correct the period above to see the figures." in text(response)


def test_outcomes_refuse_a_period_that_ends_before_it_starts(manager_client, finished):
    response = manager_client.get(
        reverse("reports:outcomes"), {"started_from": "2025-06-01", "started_to": "2025-01-01"}
    )

    assert "The period must end on or after the day it starts." in text(response)


def test_outcomes_for_a_period_without_courses(manager_client, finished):
    response = manager_client.get(reverse("reports:outcomes"), {"started_to": "2000-01-01"})
    page = text(response)

    assert "No course started in this period." in page
    assert "No progress rated for these courses." in page


def test_activity_shows_sessions_per_practitioner(manager_client, finished):
    response = manager_client.get(reverse("reports:activity"))
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "Alex Smith" in page
    assert response.content.decode().count("<svg") == 2
    assert len(response.context["activity"].rows) == 1


def test_activity_without_sessions(manager_client):
    assert "No session was logged in the last 12 months." in text(
        manager_client.get(reverse("reports:activity"))
    )


# Lot traceability ------------------------------------------------------------------------------


@pytest.fixture
def recalled(new_course, log, product, practitioner):
    """Serum lot HA-7731 applied in three sessions to two clients; a voided one left out."""
    serum = product("Hyaluronic")
    first = new_course(100, first_name='=HYPERLINK("http://x")', last_name="Evil", phone="+44 7700")
    log(first, days_ago(90), products=[(serum, "HA-7731")])
    log(first, days_ago(60), products=[(serum, "ha-7731")])
    mistaken = log(first, days_ago(30), products=[(serum, "HA-7731")])
    void_session(session=mistaken, reason="Logged on the wrong client", by=practitioner)
    second = new_course(100, first_name="Grace", last_name="Hopper")
    log(second, days_ago(50), products=[(serum, "HA-7731")])
    other = new_course(100)
    log(other, days_ago(50), products=[(serum, "HA-7732")])
    return serum, first, second


def test_lots_list_every_session_that_received_the_lot(manager_client, recalled):
    serum, first, second = recalled

    response = manager_client.get(reverse("reports:lots"), {"product": serum.pk, "lot": "ha-7731"})
    page = text(response)

    assert "3 sessions for 2 clients received" in page
    assert [s.course for s in response.context["page_obj"]] == [second, first, first]
    assert "Grace Hopper" in page
    assert second.client.phone in page and second.client.email in page
    assert "Download CSV" in page


def test_lots_ask_for_product_and_lot(manager_client):
    response = manager_client.get(reverse("reports:lots"), {"product": "", "lot": ""})
    page = text(response)

    assert response.status_code == HTTPStatus.OK
    assert "Choose the product that was recalled." in page
    assert "Give the lot number from the recall notice." in page


def test_lots_download_as_csv_safe_for_spreadsheets(manager_client, recalled):
    serum, first, second = recalled

    response = manager_client.get(
        reverse("reports:lots"), {"product": serum.pk, "lot": "HA-7731", "format": "csv"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="lot-hyaluronic-acid-serum-sterile-needling-grade-ha-7731.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Session date", "Session", "Client"]
    assert len(rows) == 4
    assert rows[1][:3] == [f"{days_ago(50):%-d %b %Y}", "1", "Grace Hopper"]
    evil = rows[2]
    assert evil[2] == '\'=HYPERLINK("http://x") Evil'
    assert evil[4] == "'+44 7700"
    assert evil[8].endswith(first.get_absolute_url())


# Client export ---------------------------------------------------------------------------------


def test_client_export_gives_the_whole_history_and_is_recorded(
    manager_client, manager, overdue, product
):
    record_contact_attempt(
        client=overdue.client, course=overdue, reason="due", outcome="no_answer", by=manager
    )

    response = manager_client.get(
        reverse("reports:client-export", kwargs={"pk": overdue.client_id})
    )

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="client-{overdue.client_id}-'
    )
    data = json.loads(response.content)
    assert data["client"]["email"] == overdue.client.email
    assert data["client"]["skin_type"] == "II: usually burns, tans minimally"
    (consultation,) = data["consultations"]
    assert consultation["consent_given"] is True
    assert consultation["keloid_tendency"] is False
    assert consultation["practitioner"] == "Alex Smith"
    assert consultation["concerns"][0]["concern"] == "Atrophic acne scars"
    (course,) = data["courses"]
    assert course["concerns"] == ["Atrophic acne scars (cheeks and chin)"]
    (session,) = course["sessions"]
    assert session["products"][0]["lot_number"] == "HA-7731"
    assert session["products"][0]["product"] == product("Hyaluronic").name
    assert session["areas"][0]["depth_mm"] == "1.50"
    assert session["progress"][0]["practitioner_rating"] == "Slight improvement"
    assert data["contact_attempts"][0]["outcome"] == "No answer"
    assert data["exported_by"] == "Maria Manager"
    access = ClientAccess.objects.get(via=ClientAccess.Via.EXPORT)
    assert (access.user, access.client_id) == (manager, overdue.client_id)


def test_no_export_no_access_record_for_an_aesthetician(signed_in, overdue):
    response = signed_in.get(reverse("reports:client-export", kwargs={"pk": overdue.client_id}))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not ClientAccess.objects.filter(via=ClientAccess.Via.EXPORT).exists()


@pytest.mark.parametrize("route", ["/clients/{}/export/", "/courses/{}/print/"])
@pytest.mark.parametrize("value", ["999999", "0", "9223372036854775808", "9" * 26])
def test_unknown_or_absurd_ids_are_a_404(manager_client, route, value):
    response = manager_client.get(route.format(value))

    assert response.status_code == HTTPStatus.NOT_FOUND


# Course printout -------------------------------------------------------------------------------


def test_the_old_printout_address_leads_to_the_printout_for_good(signed_in, overdue):
    response = signed_in.get(f"/plans/{overdue.pk}/print/")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response.url == reverse("reports:course-print", kwargs={"pk": overdue.pk})


def test_the_printout_gives_the_course_dates_and_aftercare(signed_in, overdue):
    response = signed_in.get(reverse("reports:course-print", kwargs={"pk": overdue.pk}))
    page = text(response)
    concern = overdue.course_concerns.get().recorded_concern.concern

    assert response.status_code == HTTPStatus.OK
    assert overdue.client.full_name in page
    assert "Atrophic acne scars (cheeks and chin)" in page
    assert concern.benefit.split("\n")[0][:60] in page
    assert "6 sessions planned, about every 4 weeks" in page
    assert f"1 of 6 {days_ago(40):%a} {days_ago(40).day} {days_ago(40):%b %Y} done" in page
    # Target dates on the days the clinic opens (Monday to Saturday, as it ships).
    clinic = ClinicDetails.current()
    second = clinic.next_opening_day(days_ago(12))
    sixth = clinic.next_opening_day(days_ago(12) + datetime.timedelta(weeks=16))
    assert f"2 of 6 {second:%a} {second.day} {second:%b %Y} overdue: please book" in page
    assert f"6 of 6 {sixth:%a} {sixth.day} {sixth:%b %Y} target date" in page
    assert "Sunscreen: wear it for at least 48 hours after the session, then every day." in page
    assert "No make-up for 24 hours." in page
    assert "No retinoids, acids or vitamin C serums for 2 to 5 days." in page
    assert "No sweating, swimming or sauna for 48 to 72 hours." in page
    assert "reports/print.css" in response.content.decode()


def test_the_printout_names_the_clinic_and_moves_target_dates_to_opening_days(
    signed_in, manager, make_course, log
):
    details = ClinicDetails.current()
    details.name = "Harbour Skin Clinic"
    details.address = "1 Quay Street\nPortsmouth"
    details.phone = "023 9200 0000"
    details.out_of_hours_advice = "Call NHS 111 for a reaction that cannot wait."
    for day in ClinicDetails.WEEKDAYS:
        setattr(details, f"open_{day}", day in ("tuesday", "thursday"))
    details.save()
    course = make_course(planned_sessions=4, interval_weeks=2)
    log(course, TODAY() - datetime.timedelta(days=3))

    response = signed_in.get(reverse("reports:course-print", kwargs={"pk": course.pk}))

    page = text(response)
    assert "Harbour Skin Clinic 1 Quay Street Portsmouth Phone 023 9200 0000" in page
    assert "Open Tuesday, Thursday" in page
    assert "When we are closed: Call NHS 111 for a reaction that cannot wait." in page
    planned = [row for row in response.context["schedule"] if not row.done]
    assert len(planned) == 3
    assert {row.on.strftime("%A") for row in planned} <= {"Tuesday", "Thursday"}
    due = TODAY() - datetime.timedelta(days=3) + datetime.timedelta(weeks=2)
    assert planned[0].on == details.next_opening_day(due)


def test_the_printout_gives_this_clients_cautions_and_sun_advice(
    signed_in, make_client, make_consultation, make_course
):
    person = make_client(skin_type="V")
    consultation = make_consultation(person, concerns=(("melasma", "face"),))
    course = make_course(consultation)

    response = signed_in.get(reverse("reports:course-print", kwargs={"pk": course.pk}))

    cautions = consultation.assess().cautions
    assert cautions  # Fitzpatrick V with a pigment concern
    page = text(response)
    for caution in cautions:
        assert text_of(caution) in page
    assert "Sun protection: use a broad-spectrum sunscreen of SPF 30 or more" in page
    assert "Your skin type marks more easily after treatment" in page
    content = response.content.decode()
    assert content.index('id="client-cautions"') < content.index('id="aftercare-heading"')
    assert "onclick" not in content and "<style" not in content and 'style="' not in content
    assert "reports/print.js" in content


def text_of(markup):
    return " ".join(str(markup).split())
