"""The REST API: writes through the workspace's services and rules, refusals keyed by field,
optimistic locking, roles, tokens, throttling, access logging, filters and cursor pages."""

import datetime
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, hash_secret
from catalogue.models import Product
from clinic import roles
from consultations.models import Client, ClientAccess
from stock.models import Lot
from treatments.models import Course, TreatmentSession

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def new_client(**extra):
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "skin_type": "II",
        **extra,
    }


# Clients -------------------------------------------------------------------------------------


def test_a_client_is_added_and_read_back_with_her_version(api):
    created = api.post(f"{V1}/clients/", new_client(), format="json")
    assert created.status_code == HTTPStatus.CREATED, created.json()
    client = Client.objects.get(pk=created.json()["id"])
    assert client.version == 1 and client.created_by.username == "aesthetician"
    assert client.history.count() == 1
    read = api.get(f"{V1}/clients/{client.pk}/")
    assert read.json()["last_name"] == "Lovelace" and read.json()["version"] == 1


def test_a_refused_client_answers_400_with_the_models_message_by_field(api):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = api.post(f"{V1}/clients/", new_client(date_of_birth=future), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"date_of_birth": ["The date of birth cannot be in the future."]}
    assert not Client.objects.exists()


def test_an_update_without_a_version_is_refused(api, make_client):
    client = make_client()
    response = api.patch(f"{V1}/clients/{client.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "version" in response.json()


def test_a_stale_update_answers_409_with_the_current_version_and_what_changed(
    api, make_client, manager, token_for
):
    client = make_client()
    first = token_for(manager).patch(
        f"{V1}/clients/{client.pk}/", {"version": 1, "phone": "01234 567890"}, format="json"
    )
    assert first.status_code == HTTPStatus.OK and first.json()["version"] == 2
    stale = api.patch(f"{V1}/clients/{client.pk}/", {"version": 1, "notes": "x"}, format="json")
    assert stale.status_code == HTTPStatus.CONFLICT
    body = stale.json()
    assert body["current_version"] == 2
    assert any("Maria Manager" in line and "01234 567890" in line for line in body["changes"])
    client.refresh_from_db()
    assert client.notes == "" and client.version == 2


def test_there_are_no_deletes(api, make_client):
    client = make_client()
    response = api.delete(f"{V1}/clients/{client.pk}/")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert Client.objects.filter(pk=client.pk).exists()


# Consultations -------------------------------------------------------------------------------


def test_a_consultation_is_recorded_through_the_service_with_its_outcome(api, make_client):
    client = make_client()
    response = api.post(
        f"{V1}/consultations/",
        {
            "client": client.pk,
            "consent_given": True,
            "consent_by": "The client",
            "active_acne": True,
            "concerns": [{"concern": "acne-scars", "area": "cheeks", "severity": "moderate"}],
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    body = response.json()
    assert body["outcome"] == "cautions"
    assert body["screening"]["cautions"]
    assert body["concerns"][0]["concern"] == "acne-scars"


def test_a_course_without_signed_consent_is_refused_as_in_the_workspace(api, make_consultation):
    consultation = make_consultation(signed=False)
    response = api.post(
        f"{V1}/courses/",
        {"consultation": consultation.pk, "planned_sessions": 3, "interval_weeks": 4},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "consent" in str(response.json()).lower()
    assert not Course.objects.exists()


def test_a_consultation_is_voided_with_a_reason_not_deleted(api, make_consultation):
    consultation = make_consultation()
    refused = api.post(
        f"{V1}/consultations/{consultation.pk}/void/", {"reason": " "}, format="json"
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    voided = api.post(
        f"{V1}/consultations/{consultation.pk}/void/", {"reason": "Wrong client"}, format="json"
    )
    assert voided.status_code == HTTPStatus.OK
    assert voided.json()["void_reason"] == "Wrong client"


# Courses and sessions ------------------------------------------------------------------------


def test_a_course_starts_through_start_course_and_its_refusals_are_keyed(
    api, make_consultation, concern
):
    consultation = make_consultation(keloid_in_area=True)
    refused = api.post(
        f"{V1}/courses/",
        {"consultation": consultation.pk, "planned_sessions": 3, "interval_weeks": 4},
        format="json",
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "override_reason" in refused.json()
    assert not Course.objects.exists()
    started = api.post(
        f"{V1}/courses/",
        {
            "consultation": consultation.pk,
            "planned_sessions": 3,
            "interval_weeks": 4,
            "override_reason": "Keloid far from the cheeks; dermatologist agreed.",
            "cautions_acknowledged": True,
            "start_date": consultation.held_on.isoformat(),
        },
        format="json",
    )
    assert started.status_code == HTTPStatus.CREATED, started.json()
    assert started.json()["suggested_sessions_min"] is not None


def session_body(course, **extra):
    area = course.course_concerns.first().recorded_concern.area_id
    return {
        "course": course.pk,
        "areas": [{"area": area, "depth_mm": "1.00"}],
        "check_asked": True,
        "products": [],
        **extra,
    }


def test_a_session_is_logged_with_areas_products_lots_and_ratings(api, make_course, make_lot):
    course = make_course()
    link = course.course_concerns.first()
    serum = Product.objects.filter(kind=Product.Kind.SERUM).first()
    lot = make_lot(serum, "LOT-42")
    response = api.post(
        f"{V1}/sessions/",
        session_body(
            course,
            products=[{"product": serum.pk, "lot": lot.pk}],
            progress=[{"recorded_concern": link.recorded_concern_id, "practitioner_rating": 2}],
            pain_score=3,
        ),
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    body = response.json()
    assert body["number"] == 1
    assert body["products"] == [
        {
            "product": serum.pk,
            "lot": lot.pk,
            "lot_number": "LOT-42",
            "lot_expiry_date": lot.expiry_date.isoformat(),
        }
    ]
    assert body["progress"][0]["practitioner_rating"] == 2
    course.refresh_from_db()
    assert course.sessions_logged == 1


def test_a_sessions_lot_is_named_by_its_number_from_stock(api, make_course, make_lot):
    course = make_course()
    serum = Product.objects.filter(kind=Product.Kind.SERUM).first()
    make_lot(serum, "LOT-43")
    response = api.post(
        f"{V1}/sessions/",
        session_body(course, products=[{"product": serum.pk, "lot_number": "lot-43"}]),
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["products"][0]["lot_number"] == "LOT-43"


@pytest.mark.parametrize(
    ("lot", "message"),
    [
        ({"lot_number": "NOT-RECEIVED"}, "is not in stock"),
        ({"status": "recalled"}, "is recalled"),
        ({"status": "quarantined"}, "is quarantined"),
        ({"expired": True}, "expired on"),
        ({}, "Give the lot"),
    ],
)
def test_a_sessions_lot_not_in_stock_or_not_usable_is_refused_with_the_reason(
    api, make_course, make_lot, lot, message
):
    course = make_course()
    serum = Product.objects.filter(kind=Product.Kind.SERUM).first()
    row = {"product": serum.pk}
    if "lot_number" in lot:
        row["lot_number"] = lot["lot_number"]
    elif lot:
        stocked = make_lot(serum, status=lot.get("status", "in_use"))
        if lot.get("expired"):
            Lot.objects.filter(pk=stocked.pk).update(
                expiry_date=timezone.localdate() - datetime.timedelta(days=1)
            )
        row["lot"] = stocked.pk
    response = api.post(f"{V1}/sessions/", session_body(course, products=[row]), format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in str(response.json()), response.json()
    assert not course.sessions.exists()


def test_session_safety_checks_apply_as_in_the_workspace(api, make_course):
    course = make_course()
    unasked = api.post(f"{V1}/sessions/", session_body(course, check_asked=False), format="json")
    assert unasked.status_code == HTTPStatus.BAD_REQUEST
    assert "check_asked" in unasked.json()
    too_deep = api.post(
        f"{V1}/sessions/",
        session_body(course, areas=[{"area": "periorbital", "depth_mm": "1.50"}]),
        format="json",
    )
    assert too_deep.status_code == HTTPStatus.BAD_REQUEST
    assert "depth_reason" in too_deep.json()
    assert not TreatmentSession.objects.exists()


def test_a_session_deeper_than_the_chart_goes_ahead_with_its_reason(api, make_course):
    course = make_course()
    area = course.course_concerns.first().recorded_concern.area_id
    response = api.post(
        f"{V1}/sessions/",
        session_body(
            course,
            areas=[{"area": area, "depth_mm": "2.50"}],
            depth_reason="Deep boxcar scars; discussed with the client.",
        ),
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.json()


def test_a_session_correction_needs_the_current_version(api, make_course, log):
    session = log(make_course())
    ok = api.patch(
        f"{V1}/sessions/{session.pk}/", {"version": 1, "notes": "Corrected"}, format="json"
    )
    assert ok.status_code == HTTPStatus.OK, ok.json()
    stale = api.patch(f"{V1}/sessions/{session.pk}/", {"version": 1, "notes": "x"}, format="json")
    assert stale.status_code == HTTPStatus.CONFLICT
    assert stale.json()["current_version"] == 2


def test_another_aesthetician_cannot_correct_or_void_a_session(
    make_course, log, make_user, token_for
):
    session = log(make_course())
    other = token_for(make_user("other"))
    patched = other.patch(
        f"{V1}/sessions/{session.pk}/", {"version": 1, "notes": "x"}, format="json"
    )
    assert patched.status_code == HTTPStatus.FORBIDDEN
    assert "Only the practitioner" in patched.json()["detail"]
    voided = other.post(f"{V1}/sessions/{session.pk}/void/", {"reason": "x"}, format="json")
    assert voided.status_code == HTTPStatus.FORBIDDEN


def test_a_manager_voids_a_session_with_a_reason(manager_api, make_course, log):
    session = log(make_course())
    response = manager_api.post(
        f"{V1}/sessions/{session.pk}/void/", {"reason": "Logged twice"}, format="json"
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["voided_at"]


def test_only_managers_change_a_course_and_stale_changes_answer_409(api, manager_api, make_course):
    course = make_course()
    body = {"version": course.version, "notes": "Planned with the client"}
    assert api.patch(f"{V1}/courses/{course.pk}/", body, format="json").status_code == 403
    changed = manager_api.patch(f"{V1}/courses/{course.pk}/", body, format="json")
    assert changed.status_code == HTTPStatus.OK, changed.json()
    again = manager_api.patch(f"{V1}/courses/{course.pk}/", body, format="json")
    assert again.status_code == HTTPStatus.CONFLICT


def test_a_course_is_stopped_with_a_reason(api, make_course):
    course = make_course()
    refused = api.post(
        f"{V1}/courses/{course.pk}/stop/", {"version": course.version}, format="json"
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json() == {"end_reason": ["Say why the course is stopped."]}
    stopped = api.post(
        f"{V1}/courses/{course.pk}/stop/",
        {"version": course.version, "reason": "Moved away"},
        format="json",
    )
    assert stopped.status_code == HTTPStatus.OK and stopped.json()["status"] == "stopped"


# Roles, tokens, throttling -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [(roles.AESTHETICIAN, 200, 201), (roles.MANAGER, 200, 201), (None, 403, 403)],
)
def test_roles_as_in_the_workspace(make_user, token_for, role, read, write):
    api = token_for(make_user(role=role))
    assert api.get(f"{V1}/clients/").status_code == read
    assert api.post(f"{V1}/clients/", new_client(), format="json").status_code == write


def test_anonymous_and_bad_tokens_answer_401():
    anonymous = APIClient()
    assert anonymous.get(f"{V1}/clients/").status_code in (401, 403)
    for header in ["Bearer nonsense", "Bearer ct_abcdefgh_wrong", "Bearer", "Bearer a b"]:
        anonymous.credentials(HTTP_AUTHORIZATION=header)
        assert anonymous.get(f"{V1}/clients/").status_code == HTTPStatus.UNAUTHORIZED


def test_a_token_is_kept_only_as_its_hash_and_is_revocable(api, practitioner, manager):
    token = ApiToken.objects.get(user=practitioner)
    secret = api.secret.split("_", 2)[2]
    assert secret not in (token.secret_hash, token.prefix)
    assert token.secret_hash == hash_secret(secret)
    assert api.get(f"{V1}/clients/").status_code == HTTPStatus.OK
    token.refresh_from_db()
    assert token.last_used_at is not None
    token.revoke(by=manager)
    assert api.get(f"{V1}/clients/").status_code == HTTPStatus.UNAUTHORIZED


def test_managers_issue_a_token_in_the_admin_and_see_it_once(manager_client, practitioner):
    response = manager_client.post(
        "/admin/api/apitoken/add/", {"user": practitioner.pk, "name": "Booking"}, follow=True
    )
    assert response.status_code == HTTPStatus.OK
    [message] = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    secret = message.split(" is ")[1].split(" ")[0]
    token = ApiToken.objects.get(name="Booking")
    assert secret.startswith(f"ct_{token.prefix}_")
    assert token.secret_hash == hash_secret(secret.split("_", 2)[2])
    assert secret not in manager_client.get(f"/admin/api/apitoken/{token.pk}/change/").text
    manager_client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.is_revoked


def test_an_aesthetician_cannot_issue_tokens(signed_in):
    assert signed_in.get("/admin/api/apitoken/add/").status_code in (302, 403)


def test_requests_are_throttled_per_token(settings, api, manager_api):
    settings.API_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert api.get(f"{V1}/catalogue/concerns/").status_code == HTTPStatus.OK
    refused = api.get(f"{V1}/catalogue/concerns/")
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "detail" in refused.json()
    assert manager_api.get(f"{V1}/catalogue/concerns/").status_code == HTTPStatus.OK


def test_the_browser_session_works_with_csrf_enforced(practitioner):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(practitioner)
    assert browser.get(f"{V1}/clients/").status_code == HTTPStatus.OK
    posted = browser.post(f"{V1}/clients/", new_client(), format="json")
    assert posted.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF" in posted.json()["detail"]


# Access log, filters, pages ------------------------------------------------------------------


def test_every_client_record_read_is_logged(api, make_client, make_course, log, practitioner):
    clients = [make_client() for _ in range(3)]
    api.get(f"{V1}/clients/")
    logged = ClientAccess.objects.filter(via=ClientAccess.Via.API, user=practitioner)
    assert sorted(logged.values_list("client_id", flat=True)) == sorted(c.pk for c in clients)
    course = make_course()
    log(course)
    api.get(f"{V1}/sessions/")
    api.get(f"{V1}/courses/{course.pk}/")
    assert logged.filter(client=course.client, what="Sessions (API)").count() == 1
    assert logged.filter(client=course.client, what="Courses (API)").count() == 1


def test_filters_by_client_practitioner_dates_and_status(
    api, make_course, make_client, log, make_user
):
    course = make_course()
    other = make_course()
    log(course)
    log(other)
    by_client = api.get(f"{V1}/sessions/", {"client": course.client_id}).json()["results"]
    assert [s["course"] for s in by_client] == [course.pk]
    today = timezone.localdate().isoformat()
    dated = api.get(f"{V1}/sessions/", {"performed_on_after": today}).json()["results"]
    assert len(dated) == 2
    stopped = api.get(f"{V1}/courses/", {"status": "stopped"}).json()["results"]
    assert stopped == []
    nobody = make_user("nobody")
    mine = api.get(f"{V1}/courses/", {"practitioner": nobody.pk}).json()["results"]
    assert mine == []


@pytest.mark.parametrize(
    "query",
    [
        {"client": "abc"},
        {"client": "99999999999999999999999"},
        {"performed_on_after": "yesterday"},
        {"status": "maybe"},
        {"voided": "perhaps"},
        {"page_size": "-1"},
    ],
)
def test_bad_filters_never_answer_500(api, query):
    response = api.get(f"{V1}/sessions/" if "status" not in query else f"{V1}/courses/", query)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)


@pytest.mark.parametrize("path", ["clients/abc/", "clients/99999999999999999999999/", "x/"])
def test_malformed_ids_answer_404(api, path):
    assert api.get(f"{V1}/{path}").status_code == HTTPStatus.NOT_FOUND


def test_cursor_pages_walk_the_list_and_a_bad_cursor_is_refused(api, make_client):
    for _ in range(5):
        make_client()
    first = api.get(f"{V1}/clients/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert {c["id"] for c in second["results"]}.isdisjoint({c["id"] for c in first["results"]})
    assert api.get(f"{V1}/clients/", {"cursor": "garbage"}).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"first_name": ["a"], "date_of_birth": 12}',
        '{"concerns": "x"}',
        "[1, 2]",
        '{"first_name": "' + "a" * 3_000_000 + '"}',
    ],
)
def test_hostile_bodies_answer_4xx(api, body):
    for path in ["clients/", "consultations/", "sessions/", "courses/"]:
        response = api.generic("POST", f"{V1}/{path}", body, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_wrong_types_in_a_session_are_refused_by_field(api, make_course):
    course = make_course()
    response = api.post(
        f"{V1}/sessions/",
        {"course": course.pk, "areas": [{"area": "nowhere", "depth_mm": "deep"}], "pain_score": 11},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) >= {"areas.0.area", "areas.0.depth_mm", "pain_score"}


@pytest.mark.parametrize("count", [3, 12])
def test_list_pages_read_a_bounded_number_of_queries(
    api, make_course, log, count, django_assert_max_num_queries
):
    for _ in range(count):
        log(make_course())
    for path in ["clients/", "consultations/", "courses/", "sessions/"]:
        with django_assert_max_num_queries(12):
            assert api.get(f"{V1}/{path}").status_code == HTTPStatus.OK


def test_the_schema_and_its_documentation_are_served_from_packages(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == HTTPStatus.OK
    docs = client.get("/api/docs/")
    assert docs.status_code == HTTPStatus.OK
    assert "drf_spectacular_sidecar" in docs.text and "cdn" not in docs.text.lower()


def test_a_nul_character_in_a_catalogue_code_is_refused_not_a_server_error(api, make_client):
    # PostgreSQL cannot compare text holding NUL: the code is refused before any query.
    response = api.post(
        f"{V1}/consultations/",
        {
            "client": make_client().pk,
            "concerns": [{"concern": "acne\x00scars", "area": "cheeks\x00"}],
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"concerns.0.concern", "concerns.0.area"}
