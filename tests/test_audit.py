"""The audit trail in the managers' admin: history, client record accesses, voiding, and
optimistic locking of the admin's change forms."""

import datetime
import re
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Concern, Product
from consultations.models import Client, ClientAccess
from tests.pages import text
from tests.treatments.test_record_admin import admin_form_data, page_queries
from treatments.models import TreatmentSession
from treatments.services import stop_course, update_session, void_session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def new_course(make_client, make_consultation, make_course, log, product):
    """Ada Lovelace's course of three with a session logged today (with a serum) by Alex Smith."""

    def make(**client_fields):
        fields = {"first_name": "Ada", "last_name": "Lovelace", **client_fields}
        course = make_course(make_consultation(make_client(**fields)))
        log(course, products=[(product("Hyaluronic"), "LOT-1")])
        course.refresh_from_db()
        return course

    return make


def change_url(record):
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def history_url(record):
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk])


def history_rows(response):
    """The history table's rows as text, newest first."""
    table = response.content.decode().split('id="change-history"')[1].split("</table>")[0]
    return [text_of(row) for row in re.findall(r"<tr\b.*?</tr>", table, re.S)[1:]]


def text_of(fragment):
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split()).replace("&rarr;", "→")


def admin_messages(response):
    """The admin's messages on a page: (level, text) pairs."""
    found = re.findall(r'<li class="(\w+)">(.*?)</li>', response.content.decode(), re.S)
    return [(level, text_of(message)) for level, message in found if level in LEVELS]


LEVELS = {"success", "error", "warning", "info"}


# History: who changed what, when -------------------------------------------------------------


def test_a_change_in_the_admin_shows_in_the_history_with_the_managers_name(
    manager_client, make_client
):
    client = make_client(last_name="Example")
    data = admin_form_data(manager_client.get(change_url(client)), last_name="Renamed")
    assert manager_client.post(change_url(client), data).status_code == HTTPStatus.FOUND

    response = manager_client.get(history_url(client))

    assert response.status_code == HTTPStatus.OK
    changed, created = history_rows(response)
    assert "Changed Maria Manager" in changed
    assert "Last name: Example → Renamed" in changed
    assert "Version" not in changed  # bookkeeping is in the who and when columns
    assert "Created Alex Smith" in created


def test_a_change_through_a_service_shows_the_aesthetician(
    manager_client, new_course, practitioner
):
    session = new_course().sessions.get()
    update_session(session=session, by=practitioner, notes="Client asked for less depth.")

    changed, created = history_rows(manager_client.get(history_url(session)))

    assert "Changed Alex Smith" in changed
    assert "Notes: - → Client asked for less depth." in changed
    assert "Created Alex Smith" in created


def test_a_records_history_reads_that_record_only(make_client):
    first, second = make_client(), make_client()
    first.phone = "020 7946 0999"
    first.save()

    assert [row.phone for row in first.history.all()][0] == "020 7946 0999"
    assert first.history.count() == 2
    assert second.history.count() == 1


@pytest.mark.parametrize(("model", "field"), [(Concern, "summary"), (Product, "notes")])
def test_catalogue_and_product_changes_keep_their_history(manager_client, model, field):
    record = model.objects.order_by("pk").first()
    for value in ("Checked.", "Checked twice."):
        data = admin_form_data(manager_client.get(change_url(record)), **{field: value})
        assert manager_client.post(change_url(record), data).status_code == HTTPStatus.FOUND

    rows = history_rows(manager_client.get(history_url(record)))

    assert "Changed Maria Manager" in rows[0]
    assert "Checked. → Checked twice." in rows[0]


def test_history_rows_cannot_be_edited_or_deleted_through_the_app(manager_client, make_client):
    client = make_client(last_name="Original")
    client.last_name = "Second"
    client.stamp(None)
    client.save()
    first = client.history.earliest("history_id")
    version = reverse(
        "admin:consultations_client_simple_history", args=[client.pk, first.history_id]
    )
    # No admin for the historical models themselves.
    assert not [m for m in admin.site._registry if m._meta.model_name.startswith("historical")]

    shown = manager_client.get(version)
    assert shown.status_code == HTTPStatus.OK
    assert "Original" in shown.content.decode()
    assert 'name="_save"' not in shown.content.decode()  # revert is off

    form = shown.context["adminform"].form
    data = {name: form[name].value() for name in ("first_name", "date_of_birth", "skin_type")}
    response = manager_client.post(version, {**data, "last_name": "Original", "version": "2"})

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    client.refresh_from_db()
    assert client.last_name == "Second"
    assert client.history.count() == 2
    assert manager_client.get(history_url(client)).status_code == HTTPStatus.OK


def test_history_page_queries_do_not_grow_with_the_versions(manager_client, make_client, manager):
    client = make_client()

    def edit(times):
        for n in range(times):
            client.notes = f"Note {client.version} {n}"
            client.stamp(manager)
            client.save()

    edit(2)
    few = page_queries(manager_client, history_url(client))
    edit(20)
    assert page_queries(manager_client, history_url(client)) == few


# A session's areas, products and ratings: kept in the session's own audit rows -----------------


def test_a_correction_of_a_sessions_rows_shows_in_its_history(
    manager_client, new_course, practitioner, product, make_lot
):
    session = new_course().sessions.get()
    serum = product("Hyaluronic")
    update_session(
        session=session,
        by=practitioner,
        areas=[("cheeks", Decimal("1.75")), ("forehead", Decimal("0.50"))],
        products=[(serum, make_lot(serum, "LOT-2"))],
    )

    changed, created = history_rows(manager_client.get(history_url(session)))

    assert "Changed Alex Smith" in changed
    assert (
        "Areas treated: Cheeks and chin 1.50 mm → Cheeks and chin 1.75 mm; Forehead 0.50 mm"
        in changed
    )
    assert f"Products applied: {serum}, lot LOT-1 → {serum}, lot LOT-2" in changed
    assert "Progress ratings" not in changed  # not corrected
    assert "Created Alex Smith" in created
    assert [v.rows["products"] for v in session.history.order_by("history_id")] == [
        [{"product": serum.pk, "lot_number": "LOT-1"}],
        [{"product": serum.pk, "lot_number": "LOT-2"}],
    ]


def test_a_voided_sessions_audit_row_keeps_its_rows(new_course, manager):
    session = new_course().sessions.get()

    void_session(session=session, reason="Logged on the wrong client.", by=manager)

    created, voided = session.history.order_by("history_id")
    assert voided.voided_by == manager
    assert voided.rows == created.rows
    assert [row["lot_number"] for row in voided.rows["products"]] == ["LOT-1"]


def test_rows_changed_in_the_admin_are_in_the_sessions_audit_row(
    manager_client, new_course, manager, product, make_lot
):
    session = new_course().sessions.get()
    lot = make_lot(product("Hyaluronic"), "LOT-9")  # received before the manager corrects
    page = change_url(session)
    data = admin_form_data(
        manager_client.get(page),
        **{"areas-0-depth_mm": "1.25", "products_used-0-lot": str(lot.pk)},
    )

    assert manager_client.post(page, data).status_code == HTTPStatus.FOUND

    created, changed = session.history.order_by("history_id")
    assert (changed.history_type, changed.history_user) == ("~", manager)
    assert changed.rows["areas"] == [{"area": "cheeks", "depth_mm": "1.25"}]
    assert changed.rows["products"] == [
        {"product": product("Hyaluronic").pk, "lot_number": "LOT-9"}
    ]
    assert changed.rows["progress"] == created.rows["progress"]
    shown = history_rows(manager_client.get(history_url(session)))[0]
    assert "Areas treated: Cheeks and chin 1.50 mm → Cheeks and chin 1.25 mm" in shown


def test_a_stale_session_edit_names_the_rows_someone_else_changed(
    manager_client, new_course, practitioner
):
    session = new_course().sessions.get()
    shown = manager_client.get(change_url(session))
    update_session(session=session, by=practitioner, areas=[("cheeks", Decimal("1.75"))])

    refused = manager_client.post(
        change_url(session), admin_form_data(shown, notes="The manager's note.")
    )

    assert refused.status_code == HTTPStatus.OK
    assert "areas treated: “Cheeks and chin 1.50 mm” → “Cheeks and chin 1.75 mm”" in text(refused)
    session.refresh_from_db()
    assert session.notes == ""


def test_a_sessions_history_page_queries_do_not_grow_with_its_corrections(
    manager_client, new_course, practitioner, product, make_lot
):
    session = new_course().sessions.get()
    serums = [product("Hyaluronic"), product("Peptide")]

    def correct(times):
        for n in range(times):
            update_session(
                session=session,
                by=practitioner,
                products=[(serums[n % 2], make_lot(serums[n % 2]))],
                progress=[],
            )

    correct(1)
    few = page_queries(manager_client, history_url(session))
    correct(6)
    assert page_queries(manager_client, history_url(session)) == few


# Access events: who opened which client's record ---------------------------------------------


def test_opening_a_clients_page_in_the_admin_is_recorded(manager_client, manager, make_client):
    client = make_client()

    manager_client.get(change_url(client))
    manager_client.get(history_url(client))

    accesses = list(ClientAccess.objects.order_by("pk"))
    assert [(a.user, a.client, a.via) for a in accesses] == [
        (manager, client, ClientAccess.Via.ADMIN),
        (manager, client, ClientAccess.Via.ADMIN),
    ]
    assert timezone.now() - accesses[0].accessed_at < datetime.timedelta(minutes=1)


def test_saving_or_failing_to_open_a_client_records_no_access(manager_client, make_client):
    client = make_client()
    data = admin_form_data(manager_client.get(change_url(client)), notes="Saved.")
    ClientAccess.objects.all().delete()

    assert manager_client.post(change_url(client), data).status_code == HTTPStatus.FOUND
    for object_id in ("999999", "not-a-number"):
        missing = reverse("admin:consultations_client_change", args=[object_id])
        assert manager_client.get(missing).status_code == HTTPStatus.FOUND
    manager_client.get(reverse("admin:consultations_client_changelist"))

    assert not ClientAccess.objects.exists()


@pytest.fixture
def accesses(make_client, make_user, manager, practitioner):
    ada = make_client(first_name="Ada", last_name="Lovelace")
    grace = make_client(first_name="Grace", last_name="Hopper")
    old = timezone.now() - datetime.timedelta(days=40)
    return {
        "manager-ada-admin": ClientAccess.objects.create(
            user=manager, client=ada, via=ClientAccess.Via.ADMIN
        ),
        "alex-grace-workspace": ClientAccess.objects.create(
            user=practitioner, client=grace, via=ClientAccess.Via.WORKSPACE
        ),
        "alex-ada-workspace-old": ClientAccess.objects.create(
            user=practitioner, client=ada, via=ClientAccess.Via.WORKSPACE, accessed_at=old
        ),
    }


def listed_accesses(browser, params):
    response = browser.get(reverse("admin:consultations_clientaccess_changelist"), params)
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"manager-ada-admin", "alex-grace-workspace", "alex-ada-workspace-old"}),
        ({"via__exact": "workspace"}, {"alex-grace-workspace", "alex-ada-workspace-old"}),
        ({"user": "alex"}, {"alex-grace-workspace", "alex-ada-workspace-old"}),
        ({"q": "lovelace"}, {"manager-ada-admin", "alex-ada-workspace-old"}),
        ({"q": "grace hopper"}, {"alex-grace-workspace"}),
        ({"recent": True}, {"manager-ada-admin", "alex-grace-workspace"}),
    ],
)
def test_managers_list_and_filter_client_record_accesses(
    manager_client, accesses, practitioner, params, expected
):
    params = dict(params)
    if params.pop("user", None):
        params["user__id__exact"] = practitioner.pk
    if params.pop("recent", None):
        # Aware datetimes, as the admin's own date filter sends for a DateTimeField.
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        params["accessed_at__gte"] = (midnight - datetime.timedelta(days=7)).isoformat()
        params["accessed_at__lt"] = (midnight + datetime.timedelta(days=1)).isoformat()
    assert listed_accesses(manager_client, params) == {accesses[key] for key in expected}


def test_the_access_list_shows_who_which_client_when_and_where(manager_client, accesses):
    page = text(manager_client.get(reverse("admin:consultations_clientaccess_changelist")))
    assert "Ada Lovelace" in page
    assert "aesthetician" in page
    assert "Workspace" in page


def test_access_events_are_read_only(manager_client, accesses):
    access = accesses["manager-ada-admin"]
    opts = "admin:consultations_clientaccess"

    assert manager_client.get(reverse(f"{opts}_add")).status_code == HTTPStatus.FORBIDDEN
    assert (
        manager_client.get(reverse(f"{opts}_delete", args=[access.pk])).status_code
        == HTTPStatus.FORBIDDEN
    )
    shown = manager_client.get(reverse(f"{opts}_change", args=[access.pk]))
    assert shown.status_code == HTTPStatus.OK
    assert 'name="_save"' not in shown.content.decode()
    manager_client.post(reverse(f"{opts}_change", args=[access.pk]), {"via": "export"})
    access.refresh_from_db()
    assert access.via == ClientAccess.Via.ADMIN
    listing = manager_client.get(reverse(f"{opts}_changelist")).content.decode()
    assert "delete_selected" not in listing


def test_the_access_list_runs_the_same_queries_at_any_size(
    manager_client, make_client, manager, practitioner, django_assert_max_num_queries
):
    url = reverse("admin:consultations_clientaccess_changelist")

    def open_records(count):
        for n in range(count):
            ClientAccess.record(
                user=manager if n % 2 else practitioner,
                client=make_client(),
                via=ClientAccess.Via.WORKSPACE,
            )

    open_records(3)
    few = page_queries(manager_client, url)
    with django_assert_max_num_queries(8):
        manager_client.get(url)
    open_records(30)
    assert page_queries(manager_client, url) == few


# Voiding in the admin -------------------------------------------------------------------------


def void_action(browser, record_or_model, pks, reason=None):
    """Choose "Void selected" on the changelist; with a reason, confirm on the next page."""
    opts = record_or_model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    data = {"action": "void_selected", "_selected_action": [str(pk) for pk in pks]}
    if reason is None:
        data["index"] = "0"
    else:
        data.update(apply="Void", reason=reason)
    return browser.post(url, data, follow=reason is not None)


def test_a_manager_voids_a_session_with_a_reason(manager_client, new_course, manager):
    course = new_course()
    session = course.sessions.get()

    confirm = void_action(manager_client, session, [session.pk])

    assert confirm.status_code == HTTPStatus.OK
    assert str(session) in text(confirm)
    assert "It no longer counts towards its course" in text(confirm)
    assert 'name="reason"' in confirm.content.decode()
    assert not TreatmentSession.objects.get(pk=session.pk).is_voided

    done = void_action(manager_client, session, [session.pk], reason="Logged on the wrong client.")

    assert admin_messages(done) == [("success", "Voided 1 treatment session.")]
    session.refresh_from_db()
    assert session.is_voided
    assert (session.voided_by, session.void_reason) == (manager, "Logged on the wrong client.")
    course.refresh_from_db()
    assert course.sessions_logged == 0
    voiding = history_rows(manager_client.get(history_url(session)))[0]
    assert "Changed Maria Manager" in voiding
    assert "Void reason: - → Logged on the wrong client." in voiding
    assert "Voided by: - → manager" in voiding


def test_voiding_needs_a_reason(manager_client, new_course):
    session = new_course().sessions.get()

    response = void_action(manager_client, session, [session.pk], reason="  ")

    assert response.status_code == HTTPStatus.OK
    assert "This field is required." in text(response)
    session.refresh_from_db()
    assert not session.is_voided


def test_a_refusal_by_the_service_shows_as_an_error_message(manager_client, new_course, manager):
    course = new_course()
    consultation = course.consultation
    voided = new_course(first_name="Grace").consultation
    stop_course(course=voided.courses.get(), reason="Moved away", by=manager)
    void_action(manager_client, voided, [voided.pk], reason="Duplicate.")

    response = void_action(
        manager_client, consultation, [consultation.pk, voided.pk], reason="Wrong client."
    )

    assert response.status_code == HTTPStatus.OK
    shown = admin_messages(response)
    assert [level for level, _ in shown] == ["error", "error"]  # and no success message
    assert {message for _, message in shown} == {
        f"{consultation} was not voided: A course started from this consultation is still "
        "active: stop it before voiding the consultation.",
        f"{voided} was not voided: This consultation is already voided.",
    }
    consultation.refresh_from_db()
    assert not consultation.is_voided


def test_voided_rows_show_in_the_lists_and_forms_with_who_when_and_why(
    manager_client, new_course, manager
):
    course = new_course()
    other = new_course(first_name="Grace")
    session = course.sessions.get()
    void_session(session=session, reason="Test entry.", by=manager)
    stop_course(course=course, reason="Moved away", by=manager)
    void_action(manager_client, course.consultation, [course.consultation_id], reason="Duplicate.")

    for voided, kept, reason in (
        (session, other.sessions.get(), "Test entry."),
        (course.consultation, other.consultation, "Duplicate."),
    ):
        opts = voided._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        when = f"{timezone.localdate():%-d %b %Y}"
        assert f"Voided {when}" in text(manager_client.get(url))
        assert f"by Maria Manager: {reason}" in text(manager_client.get(url))
        assert list(manager_client.get(url, {"voided": "yes"}).context["cl"].result_list) == [
            voided
        ]
        assert list(manager_client.get(url, {"voided": "no"}).context["cl"].result_list) == [kept]
        assert f"by Maria Manager: {reason}" in text(manager_client.get(change_url(voided)))


def test_the_clients_history_page_shows_what_was_voided(manager_client, new_course, manager):
    course = new_course()
    void_session(session=course.sessions.get(), reason="Logged twice.", by=manager)
    stop_course(course=course, reason="Moved away", by=manager)
    void_action(
        manager_client, course.consultation, [course.consultation_id], reason="Wrong client."
    )

    page = manager_client.get(change_url(course.client)).content.decode()

    history = text_of(page[page.index('id="client-history"') :])
    assert "(voided) Voided on" in history
    assert "by Maria Manager: Wrong client." in history
    assert "by Maria Manager: Logged twice." in history


# Optimistic locking in the admin --------------------------------------------------------------


def test_two_overlapping_admin_edits_of_a_client_lose_nothing(
    manager_client, make_client, practitioner
):
    client = make_client(phone="07700 900111")
    url = change_url(client)
    shown = manager_client.get(url)
    assert re.search(r'<input type="hidden" name="version" value="1"', shown.content.decode())

    # Meanwhile the aesthetician corrects the phone number.
    other = Client.objects.get(pk=client.pk)
    other.phone = "07700 900222"
    other.stamp(practitioner)
    other.save()

    refused = manager_client.post(url, admin_form_data(shown, notes="Prefers mornings."))

    assert refused.status_code == HTTPStatus.OK
    page = text(refused)
    assert "This record was changed while you were editing it." in page
    assert "Alex Smith" in page
    assert "phone: “07700 900111” → “07700 900222”" in page
    form = refused.context["adminform"].form
    assert form["notes"].value() == "Prefers mornings."
    assert str(form["version"].value()) == "2"
    client.refresh_from_db()
    assert (client.phone, client.notes, client.version) == ("07700 900222", "", 2)

    # Having read the message, the manager keeps the new phone number and saves again.
    again = manager_client.post(url, admin_form_data(refused, phone="07700 900222"))

    assert again.status_code == HTTPStatus.FOUND
    client.refresh_from_db()
    assert (client.phone, client.notes, client.version) == ("07700 900222", "Prefers mornings.", 3)
    assert client.history.count() == 3


@pytest.mark.parametrize("name", ["consultation", "course", "session"])
def test_a_stale_admin_edit_of_a_clinical_record_is_refused(
    manager_client, new_course, practitioner, name
):
    course = new_course()
    record = {
        "consultation": course.consultation,
        "course": course,
        "session": course.sessions.first(),
    }[name]
    shown = manager_client.get(change_url(record))
    changes = {"notes": "The manager's note."}
    if name == "consultation":
        changes["concerns-0-severity"] = "severe"

    other = type(record).objects.get(pk=record.pk)
    other.notes = "The aesthetician's note."
    other.stamp(practitioner)
    other.save()

    refused = manager_client.post(change_url(record), admin_form_data(shown, **changes))

    assert refused.status_code == HTTPStatus.OK
    page = text(refused)
    assert "changed while you were editing" in page
    assert "Alex Smith" in page
    assert "notes: (empty) → “The aesthetician's note.”" in page
    record.refresh_from_db()
    assert record.notes == "The aesthetician's note."
    if name == "consultation":
        assert record.concerns.get().severity != "severe"  # the inline rows were not saved

    again = manager_client.post(change_url(record), admin_form_data(refused))
    assert again.status_code == HTTPStatus.FOUND
    record.refresh_from_db()
    assert record.notes == "The manager's note."
