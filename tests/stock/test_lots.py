"""Lots are stock: the session form picks them, refuses blocked ones with the reason, receives a
new lot on the spot; the scan endpoint; recall; adverse events; follow-up calls."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Product
from clinic import roles
from reports.recall import recall_courses
from stock.models import Lot
from stock.services import recall_lot
from tests.treatments.test_views import session_data
from treatments.aftercare import CALL_LIST_DAYS, calls_due
from treatments.models import AdverseEvent, ContactAttempt, FollowUpCall, TreatmentSession
from treatments.services import NewLot, log_session, stop_course

pytestmark = pytest.mark.django_db
GS = "\x1d"
GTIN = "09506000134352"


def TODAY():
    return timezone.localdate()


@pytest.fixture
def serum(product):
    serum = product("Hyaluronic")
    Product.objects.filter(pk=serum.pk).update(gtin=GTIN)
    serum.refresh_from_db()
    return serum


def log_url(course):
    return reverse("treatments:session-create", kwargs={"pk": course.pk})


def test_the_gtin_is_checked_and_kept_as_14_digits(product):
    serum = product("Hyaluronic")
    serum.gtin = "9506000134352"
    serum.full_clean()
    assert serum.gtin == GTIN
    serum.gtin = "9506000134353"
    with pytest.raises(ValidationError) as refused:
        serum.full_clean()
    assert "check digit" in str(refused.value.message_dict["gtin"])


@pytest.mark.parametrize(
    ("status", "expiry_days", "says"),
    [
        (Lot.Status.RECALLED, 300, "is recalled: As the test says."),
        (Lot.Status.QUARANTINED, 300, "is quarantined: As the test says."),
        (Lot.Status.IN_USE, -1, "expired on"),
    ],
)
def test_a_blocked_or_expired_lot_is_refused_with_the_reason_and_nothing_saved(
    signed_in, make_course, serum, make_lot, status, expiry_days, says
):
    course = make_course()
    lot = make_lot(
        serum, "HA-9", expiry_date=TODAY() + datetime.timedelta(days=expiry_days), status=status
    )
    response = signed_in.post(log_url(course), session_data(course, products=[(serum, lot)]))
    assert response.status_code == HTTPStatus.OK
    assert says in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_a_lot_recalled_between_page_and_submit_is_refused(
    signed_in, make_course, serum, make_lot, manager
):
    course = make_course()
    lot = make_lot(serum, "HA-1")
    page = signed_in.get(log_url(course))
    assert f'value="{lot.pk}"' in page.content.decode()
    recall_lot(lot=lot, reason="Manufacturer notice 2025-17", by=manager)
    response = signed_in.post(log_url(course), session_data(course, products=[(serum, lot)]))
    assert "is recalled: Manufacturer notice 2025-17" in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_service_refuses_a_recalled_lot_too(make_course, serum, make_lot, practitioner):
    course = make_course()
    lot = make_lot(serum, "HA-1", status=Lot.Status.RECALLED)
    with pytest.raises(ValidationError, match="recalled"):
        log_session(
            course=course,
            practitioner=practitioner,
            by=practitioner,
            check_asked=True,
            areas=[("cheeks", Decimal("1.50"))],
            products=[(serum, lot)],
        )
    assert not TreatmentSession.objects.exists()


def test_a_new_lot_is_received_on_the_spot_with_the_session(signed_in, make_course, serum):
    course = make_course()
    response = signed_in.post(log_url(course), session_data(course, products=[(serum, "NEW-7")]))
    assert response.status_code == HTTPStatus.FOUND
    lot = Lot.objects.get(lot_number="NEW-7")
    assert lot.expiry_date and lot.created_by.username == "aesthetician"
    assert TreatmentSession.objects.get().products_used.get().lot == lot


def test_without_the_permission_no_lot_is_received(make_course, serum, make_user):
    course = make_course()
    user = make_user("nobody-receives", role=roles.AESTHETICIAN)
    user.groups.first().permissions.remove(
        *user.groups.first().permissions.filter(codename="receive_lot")
    )
    user = type(user).objects.get(pk=user.pk)
    with pytest.raises(ValidationError, match="may not receive lots"):
        log_session(
            course=course,
            practitioner=user,
            by=user,
            check_asked=True,
            areas=[("cheeks", Decimal("1.50"))],
            products=[(serum, NewLot("X-1", TODAY()))],
        )
    assert not Lot.objects.exists()


def test_a_scan_typed_into_the_form_is_read_on_submit(signed_in, make_course, serum, make_lot):
    course = make_course()
    lot = make_lot(serum, "ABC123")
    data = session_data(course, products=[])
    data.update(
        {
            "products-TOTAL_FORMS": "1",
            "products-INITIAL_FORMS": "0",
            "products-0-scan": f"]d201{GTIN}10abc123{GS}17300500",
        }
    )
    response = signed_in.post(log_url(course), data)
    assert response.status_code == HTTPStatus.FOUND
    assert TreatmentSession.objects.get().products_used.get().lot == lot


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("01095060001343531OABC", "GS1"),
        (f"0104006381333931{GS}10B2", "No product has the GTIN"),
        ("", "Scan the pack"),
        ("x" * 1000, "Scan the pack"),
        (f"01{GTIN}17251331" + "10X", "could not be read"),
    ],
)
def test_the_scan_endpoint_says_what_is_wrong_never_a_500(signed_in, serum, code, says):
    response = signed_in.get(reverse("stock:scan"), {"code": code})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert says in response.json()["error"]


def test_the_scan_endpoint_fills_product_lot_and_expiry(signed_in, serum):
    response = signed_in.get(reverse("stock:scan"), {"code": f"(01){GTIN}(17)300500(10)NEW-1"})
    assert response.json() | {} == response.json()
    body = response.json()
    assert (body["product"], body["lot_number"], body["expiry_date"], body["in_stock"]) == (
        serum.pk,
        "NEW-1",
        "2030-05-31",
        False,
    )


def test_managers_see_expiring_and_recalled_lots(
    manager_client, serum, make_lot, manager, django_assert_max_num_queries
):
    soon = make_lot(serum, "SOON", expiry_date=TODAY() + datetime.timedelta(days=20))
    make_lot(serum, "LATER", expiry_date=TODAY() + datetime.timedelta(days=200))
    recall_lot(lot=make_lot(serum, "BAD"), reason="Notice 7", by=manager)
    with django_assert_max_num_queries(12):
        page = manager_client.get(reverse("stock:lot-list")).content.decode()
    expiring = page.split('id="expiring-heading"')[1].split('id="blocked-heading"')[0]
    assert soon.lot_number in expiring and "LATER" not in expiring
    assert "Notice 7" in page


def test_a_lot_is_received_on_the_stock_page_and_a_duplicate_refused(manager_client, serum):
    data = {"product": serum.pk, "lot_number": "R-1", "expiry_date": "2031-01-31"}
    assert manager_client.post(reverse("stock:lot-receive"), data).status_code == 302
    again = manager_client.post(reverse("stock:lot-receive"), {**data, "lot_number": "r-1"})
    assert "already has a lot with this number" in again.content.decode()
    assert Lot.objects.count() == 1
    bad = manager_client.post(reverse("stock:lot-receive"), {**data, "expiry_date": "31/31/31"})
    assert bad.status_code == HTTPStatus.OK and Lot.objects.count() == 1


def test_recalling_lists_recipients_records_contacts_and_blocks(
    manager_client, make_course, log, serum, make_lot
):
    course = make_course()
    lot = make_lot(serum, "HA-7")
    log(course, TODAY() - datetime.timedelta(days=3), products=[(serum, lot)])
    url = reverse("reports:lots")
    query = {"product": serum.pk, "lot": "ha-7"}
    page = manager_client.get(url, query).content.decode()
    assert "Recall this lot" in page and course.client.full_name in page
    manager_client.post(
        reverse("stock:lot-status", kwargs={"pk": lot.pk}),
        {"status": "recalled", "status_reason": "Notice 9", "next": f"{url}?product={serum.pk}"},
    )
    lot.refresh_from_db()
    assert lot.status == Lot.Status.RECALLED and lot.refusal()
    response = manager_client.post(
        f"{reverse('reports:lot-contact')}?product={serum.pk}&lot=HA-7",
        {
            "client": course.client.pk,
            "reason": "lot_recall",
            "lot": lot.pk,
            "outcome": "contacted",
            "note": "Told her",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    attempt = ContactAttempt.objects.get()
    assert (attempt.lot, attempt.reason, attempt.course) == (lot, "lot_recall", None)
    csv = manager_client.get(url, {**query, "format": "csv"}).content.decode()
    assert "Recalled" in csv and "Contacted, no booking yet" in csv


def test_adverse_events_are_recorded_shown_and_followed(
    signed_in, make_course, log, serum, make_lot, manager_client
):
    course = make_course()
    session = log(course, TODAY() - datetime.timedelta(days=3), products=[(serum, "HA-3")])
    url = reverse("treatments:adverse-event-create", kwargs={"pk": session.pk})
    refused = signed_in.post(
        url,
        {
            "kind": "other",
            "severity": "mild",
            "onset_on": "2099-01-01",
            "outcome": "ongoing",
            "reported_by": "client",
        },
    )
    assert "Say what the reaction was." in refused.content.decode()
    assert not AdverseEvent.objects.exists()
    response = signed_in.post(
        url,
        {
            "kind": "swelling",
            "severity": "moderate",
            "onset_on": TODAY().isoformat(),
            "outcome": "ongoing",
            "reported_by": "client",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    event = AdverseEvent.objects.get()
    page = signed_in.get(course.client.get_absolute_url()).content.decode()
    assert "Swelling" in page
    update = reverse("treatments:adverse-event-update", kwargs={"pk": event.pk})
    form = signed_in.get(update).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "outcome": "resolved"}
    data.update(onset_on=TODAY().isoformat(), resolved_on=TODAY().isoformat())
    assert signed_in.post(update, data).status_code == HTTPStatus.FOUND
    event.refresh_from_db()
    assert event.is_resolved and event.version == 2
    lots = manager_client.get(reverse("reports:lots"), {"product": serum.pk, "lot": "HA-3"})
    assert "Swelling" in lots.content.decode()


def test_follow_up_calls_are_listed_on_today_and_taken_off_by_the_call(signed_in, make_course, log):
    course = make_course()
    session = log(course, TODAY() - datetime.timedelta(days=2))
    assert session.follow_up_on == session.performed_on + datetime.timedelta(days=2)
    assert list(calls_due()) == [session]
    today = signed_in.get(reverse("today")).content.decode()
    assert "Follow-up calls" in today
    response = signed_in.post(
        reverse("treatments:follow-up-call", kwargs={"pk": session.pk}), {"outcome": "reaction"}
    )
    assert "from=follow-up" in response["Location"]
    assert FollowUpCall.objects.get().outcome == "reaction"
    assert list(calls_due()) == []


def test_a_course_stopped_for_an_adverse_event_is_left_out_of_maintenance(
    make_course, make_consultation, log, practitioner
):
    course = make_course(make_consultation(held_on=TODAY() - datetime.timedelta(days=500)))
    log(course, TODAY() - datetime.timedelta(days=400))
    stop_course(
        course=course,
        reason="Granuloma",
        by=practitioner,
        on=TODAY() - datetime.timedelta(days=390),
        adverse_event=True,
    )
    assert not [line for line in recall_courses(today=TODAY()) if line["id"] == course.pk]


def test_the_end_course_page_stops_a_course_for_an_adverse_event_out_of_maintenance(
    signed_in, make_course, make_consultation, make_client, log
):
    def ended_course(adverse_event):
        consultation = make_consultation(
            make_client(), held_on=TODAY() - datetime.timedelta(days=500)
        )
        course = make_course(consultation)
        log(course, TODAY() - datetime.timedelta(days=400))
        course.refresh_from_db()
        data = {
            "stop-ended_on": (TODAY() - datetime.timedelta(days=390)).isoformat(),
            "stop-end_reason": "Granuloma on the left cheek." if adverse_event else "Moved.",
            "stop-version": str(course.version),
        }
        if adverse_event:
            data["stop-adverse_event"] = "on"
        response = signed_in.post(reverse("treatments:course-stop", kwargs={"pk": course.pk}), data)
        assert response.status_code == HTTPStatus.FOUND
        course.refresh_from_db()
        return course

    page = signed_in.get(
        reverse("treatments:course-end", kwargs={"pk": make_course().pk})
    ).content.decode()
    # Offered on the stop form only (a completed course did not end for a reaction).
    assert page.count("Stopped for an adverse event") == 1
    assert 'name="stop-adverse_event"' in page and "complete-adverse_event" not in page

    reaction, moved = ended_course(adverse_event=True), ended_course(adverse_event=False)

    assert reaction.status == moved.status == "stopped"
    assert (reaction.stopped_for_adverse_event, moved.stopped_for_adverse_event) == (True, False)
    recalled = {line["id"] for line in recall_courses(today=TODAY())}
    assert moved.pk in recalled  # offered maintenance, as any ended course
    assert reaction.pk not in recalled
    # The stop is in the course's history, with the adverse event.
    assert reaction.history.order_by("-history_id").first().stopped_for_adverse_event


def test_the_follow_up_call_is_due_48_to_72_hours_after_then_overdue_and_set_per_concern(
    signed_in, make_course, make_consultation, make_client, log, concern
):
    """Concern.follow_up_days (2 by default): the call falls due that day after the session
    (48-72 hours), is overdue after it, and drops off the list after CALL_LIST_DAYS; a concern
    without follow-up days has no call; a course of several concerns calls at the soonest."""

    def session_for(slugs, days_ago):
        consultation = make_consultation(make_client(), concerns=[(s, "cheeks") for s in slugs])
        return log(make_course(consultation), TODAY() - datetime.timedelta(days=days_ago))

    Concern = type(concern("acne-scars"))
    Concern.objects.filter(slug="fine-lines-wrinkles").update(follow_up_days=3)
    Concern.objects.filter(slug="hyperpigmentation").update(follow_up_days=None)
    yesterday = session_for(["acne-scars"], 1)  # 24-48 hours: not yet
    due = session_for(["acne-scars"], 2)  # 48-72 hours: due today
    overdue = session_for(["acne-scars"], 3)  # past 72 hours: overdue
    long_ago = session_for(["acne-scars"], 2 + CALL_LIST_DAYS + 1)  # asked at the next visit
    later = session_for(["fine-lines-wrinkles"], 2)  # this concern calls on day 3
    none = session_for(["hyperpigmentation"], 2)  # this concern has no call
    soonest = session_for(["fine-lines-wrinkles", "acne-scars"], 2)

    assert yesterday.follow_up_on == TODAY() + datetime.timedelta(days=1)
    assert later.follow_up_on == TODAY() + datetime.timedelta(days=1)
    assert none.follow_up_on is None
    assert soonest.follow_up_on == TODAY()
    assert list(calls_due()) == [overdue, due, soonest]  # overdue first
    assert long_ago not in list(calls_due())

    page = signed_in.get(reverse("today"))
    items = [
        " ".join(item.split())
        for item in page.content.decode().split('<li class="list-group-item">')[1:]
        if "follow-up" in item
    ]
    assert len(items) == 3
    assert "Overdue" in items[0] and "Due today" not in items[0]
    assert "Due today" in items[1] and "Overdue" not in items[1]
    assert "48-72 hours" in page.content.decode()
