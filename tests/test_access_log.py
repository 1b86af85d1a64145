"""Every read of a client's health data is logged: who, which client, what, when (ClientAccess);
every bulk export once, with its filters and row count (ExportRecord). Managers list and filter
both in the admin."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from clinic.formats import day
from clinic.models import ExportRecord
from consultations.models import ClientAccess
from tests.pages import text
from tests.test_admin_exports import CSV, XLSX, export

pytestmark = pytest.mark.django_db


def accesses():
    return [
        (access.user.username, access.client_id, access.via, access.what)
        for access in ClientAccess.objects.order_by("pk").select_related("user")
    ]


@pytest.fixture
def course(make_course, log, product):
    course = make_course()
    log(course, products=[(product("Hyaluronic"), "HA-1")])
    return course


def test_the_workspace_pages_of_a_record_are_logged(signed_in, course):
    consultation = course.consultation
    signed_in.get(reverse("treatments:consultation-detail", args=[consultation.pk]))
    signed_in.get(reverse("treatments:course-detail", args=[course.pk]))
    signed_in.get(reverse("reports:course-print", args=[course.pk]))

    held_on = day(consultation.held_on)
    assert accesses() == [
        (
            "aesthetician",
            course.client_id,
            "workspace",
            f"consultation {consultation.pk} of {held_on}",
        ),
        ("aesthetician", course.client_id, "workspace", f"course {course.pk}"),
        ("aesthetician", course.client_id, "workspace", f"printout of course {course.pk}"),
    ]


def test_a_refused_page_is_not_logged(client, make_user, course):
    client.force_login(make_user(role=None))
    response = client.get(reverse("treatments:course-detail", args=[course.pk]))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert accesses() == []


def test_each_client_on_the_recall_list_is_logged_once(manager_client, make_course, log):
    courses = [make_course() for _ in range(3)]
    for course in courses:
        log(course, performed_on=course.start_date)

    response = manager_client.get(reverse("reports:recall"))

    listed = {course.client_id for course in courses if course.client.full_name in text(response)}
    assert listed
    assert sorted(a[1] for a in accesses()) == sorted(listed)
    assert {a[3] for a in accesses()} == {"recall list"}


def test_the_lot_report_logs_its_clients_and_its_csv_is_an_export(manager_client, course, product):
    hyaluronic = product("Hyaluronic")
    query = {"product": hyaluronic.pk, "lot": "HA-1"}
    manager_client.get(reverse("reports:lots"), query)
    assert accesses() == [
        ("manager", course.client_id, "workspace", f"lot report: {hyaluronic} lot HA-1")
    ]

    response = manager_client.get(reverse("reports:lots"), {**query, "format": "csv"})
    assert response.status_code == HTTPStatus.OK
    record = ExportRecord.objects.get()
    assert (record.user.username, record.rows, record.file_format) == ("manager", 1, "csv")
    assert "lot=HA-1" in record.filters
    assert len(accesses()) == 1  # one entry per export, not per row


def test_the_admin_change_pages_of_a_record_are_logged(manager_client, course):
    session = course.sessions.get()
    for name, pk in [
        ("consultations_consultation", course.consultation_id),
        ("treatments_course", course.pk),
        ("treatments_treatmentsession", session.pk),
    ]:
        response = manager_client.get(reverse(f"admin:{name}_change", args=[pk]))
        assert response.status_code == HTTPStatus.OK

    assert accesses() == [
        ("manager", course.client_id, "admin", f"consultation {course.consultation_id}"),
        ("manager", course.client_id, "admin", f"treatment course {course.pk}"),
        ("manager", course.client_id, "admin", f"treatment session {session.pk}"),
    ]


@pytest.mark.parametrize(
    ("model", "what"),
    [
        ("consultations_client", "clients"),
        ("treatments_course", "treatment courses"),
        ("treatments_treatmentsession", "treatment sessions"),
    ],
)
def test_an_admin_export_is_logged_once_with_its_filters_and_rows(manager, course, model, what):
    response = export(manager, model, "?q=Example", XLSX)
    assert response.status_code == HTTPStatus.OK

    record = ExportRecord.objects.get()
    assert (record.user, record.what, record.filters, record.rows) == (
        manager,
        what,
        "q=Example",
        1,
    )
    assert record.file_format == "xlsx"


def test_a_csv_export_of_nothing_is_logged_too(manager, course):
    export(manager, "consultations_client", "?q=nobody-has-this-name", CSV)
    assert ExportRecord.objects.get().rows == 0


def test_managers_list_and_filter_accesses_and_exports(manager_client, manager, make_client):
    ada, grace = make_client(first_name="Ada"), make_client(first_name="Grace")
    ClientAccess.record(user=manager, client=ada, via=ClientAccess.Via.WORKSPACE, what="course 1")
    ClientAccess.record(user=manager, client=grace, via=ClientAccess.Via.PHOTO, what="photo 2")
    ExportRecord.record(user=manager, what="clients", filters="q=ada", rows=3, file_format="csv")
    url = reverse("admin:consultations_clientaccess_changelist")

    by_client = text(manager_client.get(url, {"client__id__exact": ada.pk}))
    assert "course 1" in by_client
    assert "photo 2" not in by_client
    by_via = text(manager_client.get(url, {"via__exact": "photo"}))
    assert "photo 2" in by_via
    assert "course 1" not in by_via
    by_user = manager_client.get(url, {"user__id__exact": manager.pk})
    assert by_user.status_code == HTTPStatus.OK

    exports = manager_client.get(reverse("admin:clinic_exportrecord_changelist"))
    assert "q=ada" in text(exports)
    assert exports.status_code == HTTPStatus.OK
    refused = manager_client.get(reverse("admin:clinic_exportrecord_add"))
    assert refused.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    "query",
    [
        "?foo=1",
        "?q=%00",
        "?created_at__gte=not-a-date",
        "?o=999",
        "?q=" + "x" * 5000,
        "?q=' OR 1=1",
    ],
)
def test_hostile_export_addresses_never_answer_500_or_log_an_export(manager_client, query):
    url = reverse("admin:consultations_client_export") + query
    response = manager_client.get(url)
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    posted = manager_client.post(url, {"format": "99", "resource": "0"})
    assert posted.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("lot", ["=HYPERLINK(1)", "x" * 51, "\x00", "' OR 1=1", ""])
def test_hostile_lot_report_queries_are_refused_or_answered_never_500(manager_client, product, lot):
    response = manager_client.get(
        reverse("reports:lots"), {"product": product("Hyaluronic").pk, "lot": lot, "format": "csv"}
    )
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    if response.status_code == HTTPStatus.OK and response["Content-Type"].startswith("text/csv"):
        assert ExportRecord.objects.get().rows == 0
    else:
        assert not ExportRecord.objects.exists()
