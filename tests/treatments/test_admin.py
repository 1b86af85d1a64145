"""The managers' admin for the catalogue, products, courses and sessions."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Concern, Product
from tests.treatments.test_record_admin import admin_form_data, page_queries
from treatments import admin as treatments_admin
from treatments.models import Course, SessionProduct, TreatmentSession
from treatments.services import log_session, start_course

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAYS = datetime.timedelta(days=1)
Device = TreatmentSession.Device


@pytest.fixture
def second_practitioner(make_user):
    return make_user("second", first_name="Sam", last_name="Jones")


@pytest.fixture
def new_course(make_client, make_consultation, practitioner, product, make_lot):
    """A client's course of `planned` sessions with sessions logged `sessions` days after start."""

    def make(
        *,
        slug="acne-scars",
        area="cheeks",
        started_days_ago=120,
        sessions=(30, 60),
        planned=3,
        by=None,
        device=Device.PEN,
        lot="LOT-A",
        **client_fields,
    ):
        by = by or practitioner
        consultation = make_consultation(
            make_client(**client_fields),
            concerns=((slug, area),),
            held_on=TODAY - started_days_ago * DAYS,
        )
        course = start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=planned,
            interval_weeks=4,
            practitioner=by,
            by=by,
            start_date=consultation.held_on,
            cautions_acknowledged=True,
        )
        recorded = consultation.concerns.get()
        for days in sessions:
            log_session(
                course=course,
                check_asked=True,
                practitioner=by,
                by=by,
                performed_on=consultation.held_on + days * DAYS,
                areas=[(area, Decimal("1.50"))],
                device=device,
                numbing=product("Lidocaine 4"),
                products=[(product("Hyaluronic"), make_lot(product("Hyaluronic"), lot))],
                progress=[(recorded, 3, None)],
            )
        course.refresh_from_db()
        return course

    return make


@pytest.fixture
def courses(new_course, second_practitioner):
    return {
        # Active, last session 60 days ago on a 4-week interval: overdue.
        "overdue": new_course(first_name="Olive"),
        # Active, one roller session 10 days ago by the second practitioner: due in 18 days.
        "recent": new_course(
            first_name="Rita",
            slug="melasma",
            started_days_ago=20,
            sessions=(10,),
            by=second_practitioner,
            device=Device.ROLLER,
            lot="LOT-B",
        ),
        # All three sessions logged: completed.
        "completed": new_course(first_name="Cora", started_days_ago=400, sessions=(30, 60, 90)),
    }


def url(name, *args):
    app = "catalogue" if name.startswith(("concern_", "product_")) else "treatments"
    return reverse(f"admin:{app}_{name}", args=args)


def listed(client, name, params=None):
    response = client.get(url(f"{name}_changelist"), params or {})
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


# Pages load ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "concern_changelist",
        "concern_add",
        "product_changelist",
        "product_add",
        "course_changelist",
        "treatmentsession_changelist",
        "sessionproduct_changelist",
    ],
)
def test_changelists_and_add_pages_load(manager_client, courses, name):
    assert manager_client.get(url(name)).status_code == HTTPStatus.OK


@pytest.mark.parametrize("name", ["course_add", "treatmentsession_add"])
def test_courses_and_sessions_are_started_and_logged_in_the_workspace_only(
    manager_client, courses, name
):
    """One way in, with the suggestion, screening and session checks the workspace makes."""
    assert manager_client.get(url(name)).status_code == HTTPStatus.FORBIDDEN
    page = manager_client.get(url(name.replace("_add", "_changelist"))).content.decode()
    assert url(name) not in page


def test_change_pages_load(manager_client, courses):
    course = courses["overdue"]
    session = course.sessions.first()
    for page in (
        url("concern_change", Concern.objects.get(slug="melasma").pk),
        url("product_change", Product.objects.first().pk),
        url("course_change", course.pk),
        url("treatmentsession_change", session.pk),
        url("sessionproduct_change", session.products_used.first().pk),
    ):
        assert manager_client.get(page).status_code == HTTPStatus.OK, page


def test_the_old_course_addresses_of_the_admin_lead_to_todays_for_good(manager_client, courses):
    course = courses["overdue"]
    moved = {
        "/admin/treatments/treatmentplan/?status__exact=active": url("course_changelist")
        + "?status__exact=active",
        f"/admin/treatments/treatmentplan/{course.pk}/change/": url("course_change", course.pk),
    }

    for old, new in moved.items():
        response = manager_client.get(old)
        assert (response.status_code, response.url) == (HTTPStatus.MOVED_PERMANENTLY, new)
        assert manager_client.get(response.url).status_code == HTTPStatus.OK


# Catalogue and products -----------------------------------------------------------------------


# Course and session filters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"practitioner__id__exact": "second"}, {"recent"}),
        ({"concern": "melasma"}, {"recent"}),
        ({"concern": "acne-scars"}, {"overdue", "completed"}),
        ({"start_date__gte": TODAY - 30 * DAYS, "start_date__lt": TODAY + DAYS}, {"recent"}),
        ({"status__exact": "completed"}, {"completed"}),
        ({"overdue": "yes"}, {"overdue"}),
        ({"overdue": "no"}, {"recent", "completed"}),
    ],
)
def test_course_filters_narrow_the_list(
    manager_client, courses, second_practitioner, params, expected
):
    if params.get("practitioner__id__exact") == "second":
        params = {"practitioner__id__exact": second_practitioner.pk}
    assert listed(manager_client, "course", params) == {courses[k] for k in expected}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"practitioner__id__exact": "second"}, {"recent"}),
        ({"concern": "melasma"}, {"recent"}),
        ({"concern": "acne-scars"}, {"overdue", "completed"}),
        ({"device__exact": "roller"}, {"recent"}),
        ({"device__exact": "pen"}, {"overdue", "completed"}),
        ({"performed_on__gte": TODAY - 30 * DAYS, "performed_on__lt": TODAY + DAYS}, {"recent"}),
    ],
)
def test_session_filters_narrow_the_list(
    manager_client, courses, second_practitioner, params, expected
):
    if params.get("practitioner__id__exact") == "second":
        params = {"practitioner__id__exact": second_practitioner.pk}
    sessions = {s for k in expected for s in courses[k].sessions.all()}
    assert listed(manager_client, "treatmentsession", params) == sessions


def test_lot_search_shows_who_received_a_lot(manager_client, courses):
    response = manager_client.get(url("sessionproduct_changelist"), {"q": "lot-b"})
    assert set(response.context["cl"].result_list) == set(
        SessionProduct.objects.filter(lot_number="LOT-B")
    )
    assert "Rita Example" in response.content.decode()


# Courses: derived fields, stamps --------------------------------------------------------------


def test_a_courses_concerns_and_their_counts_are_read_only(manager_client, courses):
    course = courses["overdue"]
    response = manager_client.get(url("course_change", course.pk))
    (inline,) = response.context["inline_admin_formsets"]
    assert not inline.formset.forms[0].fields.keys() & {"recorded_concern", "planned_sessions"}
    assert not inline.has_add_permission
    assert "Atrophic acne scars (cheeks and chin)" in response.content.decode()


def test_course_derived_fields_are_read_only(manager_client, courses):
    page = manager_client.get(url("course_change", courses["overdue"].pk))
    form = page.context["adminform"].form
    for name in ("sessions_logged", "next_due_on", "suggested_sessions", "client"):
        assert name not in form.fields
    for name in ("status", "end_reason", "planned_sessions", "interval_weeks"):
        assert name in form.fields
    assert "session 2 of 3" in page.content.decode()


def test_a_course_cannot_plan_fewer_sessions_than_it_has_logged(manager_client, courses):
    course = courses["overdue"]  # 2 sessions logged
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), planned_sessions="1")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert "This course has 2 sessions logged: it cannot plan fewer." in response.content.decode()
    course.refresh_from_db()
    assert course.planned_sessions == 3


def test_a_course_planned_down_to_its_sessions_in_the_admin_is_completed(manager_client, courses):
    course = courses["overdue"]  # 2 of 3 sessions logged
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), planned_sessions="2")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert (course.status, course.progress_label) == (Course.Status.COMPLETED, "session 2 of 2")
    assert course.ended_on == course.last_session_on


def test_a_course_with_all_its_sessions_is_not_reopened_in_the_admin(manager_client, courses):
    course = courses["completed"]
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), status=Course.Status.ACTIVE, ended_on="")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert (
        "All 3 planned sessions of this course are logged: plan more sessions to keep it active."
        in response.content.decode()
    )
    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED


def test_planning_the_sessions_logged_completes_nothing_but_recounts(manager_client, courses):
    course = courses["overdue"]
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), planned_sessions="6", interval_weeks="2")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert course.progress_label == "session 2 of 6"
    assert course.next_due_on == course.last_session_on + datetime.timedelta(weeks=2)
    assert course.history.first().history_type == "~"


def test_stopping_a_course_keeps_progress_right_and_stamps_it(
    manager_client, courses, manager, practitioner
):
    course = courses["overdue"]
    page = url("course_change", course.pk)
    data = admin_form_data(
        manager_client.get(page), status="stopped", end_reason="Moved away", ended_on=TODAY
    )

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert course.status == Course.Status.STOPPED
    assert course.next_due_on is None
    assert course.sessions_logged == 2
    assert (course.created_by, course.updated_by) == (practitioner, manager)


def test_ending_a_course_without_a_date_is_refused_politely(manager_client, courses):
    course = courses["overdue"]
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), status="stopped", end_reason="Moved away")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert "Give the date the course ended." in response.content.decode()
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


# Sessions: numbering, progress, stamps --------------------------------------------------------


def test_session_number_is_read_only(manager_client, courses):
    session = courses["overdue"].sessions.get(number=2)
    response = manager_client.get(url("treatmentsession_change", session.pk))
    assert "number" not in response.context["adminform"].form.fields
    assert "course" not in response.context["adminform"].form.fields


def test_moving_a_session_date_updates_the_course(manager_client, courses, manager):
    course = courses["overdue"]
    session = course.sessions.get(number=2)
    page = url("treatmentsession_change", session.pk)
    data = admin_form_data(manager_client.get(page), performed_on=TODAY - 3 * DAYS)

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND
    session.refresh_from_db()
    course.refresh_from_db()
    assert session.updated_by == manager
    assert course.last_session_on == TODAY - 3 * DAYS
    assert course.next_due_on == TODAY - 3 * DAYS + datetime.timedelta(weeks=4)
    assert not course.is_overdue()


def test_a_managers_correction_is_one_version_with_its_rows_and_recounts_the_course(
    manager_client, courses, manager, product, make_lot
):
    course = courses["overdue"]
    session = course.sessions.get(number=2)
    page = url("treatmentsession_change", session.pk)
    data = admin_form_data(
        manager_client.get(page),
        performed_on=TODAY - 2 * DAYS,
        **{
            "areas-0-depth_mm": "1.25",
            "products_used-TOTAL_FORMS": "1",
            "products_used-0-product": product("Peptide").pk,
            "products_used-0-lot": make_lot(product("Peptide"), "PEP-77").pk,
        },
    )
    versions = session.history.count()

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    session.refresh_from_db()
    assert session.updated_by == manager
    assert session.areas.get().depth_mm == Decimal("1.25")
    assert session.products_used.get().lot_number == "PEP-77"
    assert session.history.count() == versions + 1
    version = session.history.first()
    assert (version.history_type, version.history_user) == ("~", manager)
    assert version.rows["products"] == [{"product": product("Peptide").pk, "lot_number": "PEP-77"}]
    assert version.rows == session.audited_rows()
    course.refresh_from_db()
    assert course.last_session_on == TODAY - 2 * DAYS
    assert course.updated_by == manager


@pytest.mark.parametrize(
    ("performed_on", "message"),
    [
        (TODAY - 30 * DAYS, "a session cannot be earlier"),
        (TODAY + DAYS, "cannot be logged in the future"),
    ],
)
def test_invalid_session_is_refused_politely(manager_client, courses, performed_on, message):
    session = courses["recent"].sessions.get()
    page = url("treatmentsession_change", session.pk)
    data = admin_form_data(manager_client.get(page), performed_on=performed_on)

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    session.refresh_from_db()
    assert session.performed_on != performed_on


def test_session_needs_an_area(manager_client, courses):
    session = courses["recent"].sessions.get()
    page = url("treatmentsession_change", session.pk)
    data = admin_form_data(manager_client.get(page), **{"areas-0-depth_mm": ""})
    response = manager_client.post(page, data)
    assert response.status_code == HTTPStatus.OK
    assert "This field is required." in response.content.decode()
    assert session.areas.count() == 1


@pytest.mark.parametrize("inline", ["areas", "progress"])
def test_rows_resent_as_new_are_refused_not_duplicated(manager_client, courses, inline):
    """A tampered management form turns a session's saved rows into "new" ones."""
    session = courses["overdue"].sessions.first()
    page = url("treatmentsession_change", session.pk)
    data = admin_form_data(manager_client.get(page), **{f"{inline}-INITIAL_FORMS": "0"})
    before = getattr(session, inline).count()

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in response.content.decode()
    assert getattr(session, inline).count() == before


# No deletion ----------------------------------------------------------------------------------


def test_courses_and_sessions_cannot_be_deleted(manager_client, courses):
    course = courses["overdue"]
    session = course.sessions.first()
    for name, pk in (
        ("course", course.pk),
        ("treatmentsession", session.pk),
        ("sessionproduct", session.products_used.first().pk),
    ):
        assert (
            "delete_selected" not in manager_client.get(url(f"{name}_changelist")).content.decode()
        )
        change = manager_client.get(url(f"{name}_change", pk))
        assert 'class="deletelink"' not in change.content.decode()
        delete = manager_client.get(url(f"{name}_delete", pk))
        assert delete.status_code == HTTPStatus.FORBIDDEN
    assert manager_client.get(url("sessionproduct_add")).status_code == HTTPStatus.FORBIDDEN


# Bounded queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "bound"),
    [
        ("concern_changelist", None, 8),
        ("concern_add", None, 5),
        ("concern_change", "concern", 6),
        ("concern_history", "concern", 8),  # the shipped version is listed too
        ("product_changelist", None, 8),
        ("product_add", None, 5),
        ("course_changelist", None, 10),
        ("course_change", "course", 10),
        ("course_history", "course", 9),
        ("treatmentsession_changelist", None, 10),
        ("treatmentsession_change", "session", 16),  # the access record's insert included
        ("treatmentsession_history", "session", 9),
        ("sessionproduct_changelist", None, 8),
        ("sessionproduct_change", "lot", 10),
    ],
)
def test_pages_run_a_bounded_number_of_queries(
    manager_client, new_course, django_assert_max_num_queries, name, target, bound
):
    course = new_course()
    session = course.sessions.first()
    args = {
        "concern": [Concern.objects.get(slug="acne-scars").pk],
        "course": [course.pk],
        "session": [session.pk],
        "lot": [session.products_used.first().pk],
    }.get(target, [])
    page = url(name, *args)
    small = page_queries(manager_client, page)
    with django_assert_max_num_queries(bound):
        manager_client.get(page)

    for days_ago in (300, 250, 200, 150, 100):
        new_course(started_days_ago=days_ago, slug="melasma", lot=f"LOT-{days_ago}")

    assert page_queries(manager_client, page) == small
    with django_assert_max_num_queries(bound):
        manager_client.get(page)


def test_a_sessions_inline_rows_share_their_select_lists(
    manager_client, make_consultation, make_course, practitioner, product, make_lot
):
    """Each row's product and concern select is read once for the page, not once per row."""
    consultation = make_consultation(
        concerns=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")),
        held_on=TODAY - 30 * DAYS,
    )
    course = make_course(
        consultation, planned_sessions=6, interval_weeks=1, departure_reason="Weekly, for the test."
    )
    ratings = [(pc.recorded_concern, 3, None) for pc in course.course_concerns.all()]
    sessions = [
        log_session(
            course=course,
            check_asked=True,
            practitioner=practitioner,
            by=practitioner,
            performed_on=TODAY - days * DAYS,
            areas=[("cheeks", Decimal("1.50")), ("forehead", Decimal("0.50"))][:rows],
            products=[
                (product(name), make_lot(product(name), "LOT-1"))
                for name in ("Hyaluronic", "Peptide")
            ][:rows],
            progress=ratings[:rows],
        )
        for days, rows in ((20, 1), (10, 2))
    ]

    one_row, two_rows = (
        page_queries(manager_client, url("treatmentsession_change", s.pk)) for s in sessions
    )

    assert one_row == two_rows


def test_a_refusal_only_the_service_sees_is_reported_not_a_server_error(
    manager_client, courses, monkeypatch
):
    """A colleague's session logged between the form's check and the save, say: the service
    refuses under the course's lock, and the manager is told why."""
    course = courses["overdue"]

    def refuse(**kwargs):
        raise ValidationError("Someone logged a session on this course meanwhile.")

    monkeypatch.setattr(treatments_admin, "change_course", refuse)
    page = url("course_change", course.pk)
    data = admin_form_data(manager_client.get(page), planned_sessions="4")

    response = manager_client.post(page, data, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert "Someone logged a session on this course meanwhile." in response.content.decode()
    course.refresh_from_db()
    assert course.planned_sessions == 3
