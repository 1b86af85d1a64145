"""The admin is the managers' interface: every role on every admin page, and hostile admin URLs."""

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.test import Client as DjangoClient
from django.urls import reverse

from clinic import roles
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
CHANGELISTS = [f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist" for m in REGISTERED]
AUDITED = [m for m in REGISTERED if hasattr(admin.site._registry[m], "history_form_view")]

# Who may not use the admin: (role, is_staff).
REFUSED = {
    "no role": (None, False),
    "no role, staff": (None, True),
    "aesthetician": (roles.AESTHETICIAN, False),
    "aesthetician, staff": (roles.AESTHETICIAN, True),
}


@pytest.fixture
def record(make_client, make_consultation, make_course, log, product):
    """Ada Refused's course, from a consultation, with a session that used a serum."""
    course = make_course(make_consultation(make_client(first_name="Ada", last_name="Refused")))
    log(course, products=[(product("Hyaluronic"), "LOT-1")])
    return course


def pages(course):
    """Every admin changelist, the index, and a client's change and history pages."""
    return [
        reverse("admin:index"),
        *(reverse(name) for name in CHANGELISTS),
        reverse("admin:consultations_client_change", args=[course.client_id]),
        reverse("admin:consultations_client_history", args=[course.client_id]),
        reverse("admin:consultations_consultation_change", args=[course.consultation_id]),
        reverse("admin:treatments_treatmentsession_change", args=[course.sessions.get().pk]),
    ]


def browser_for(user):
    browser = DjangoClient()
    if user is not None:
        browser.force_login(user)
    return browser


def test_anonymous_visitors_are_sent_to_the_admin_sign_in(client, record):
    login = reverse("admin:login")
    for page in pages(record):
        response = client.get(page)
        assert response.status_code == HTTPStatus.FOUND, page
        assert response["Location"].startswith(f"{login}?next="), page


@pytest.mark.parametrize("who", REFUSED)
def test_users_without_the_manager_role_are_refused_every_admin_page(make_user, record, who):
    role, is_staff = REFUSED[who]
    browser = browser_for(make_user("outsider", role=role, is_staff=is_staff))
    login = reverse("admin:login")

    for page in pages(record):
        response = browser.get(page)
        assert response.status_code == HTTPStatus.FOUND, page
        assert response["Location"].startswith(f"{login}?next="), page

    shown = browser.get(reverse("admin:consultations_client_changelist"), follow=True)
    page = shown.content.decode()
    assert "but are not authorized to access this page" in page
    assert "Refused" not in page  # no client data


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_managers_and_superusers_open_every_admin_page(manager, make_user, record, who):
    user = manager if who == "manager" else make_user("root", superuser=True)
    browser = browser_for(user)
    for page in pages(record):
        assert browser.get(page).status_code == HTTPStatus.OK, page


def test_managers_see_every_admin_section(manager):
    page = browser_for(manager).get(reverse("admin:index")).content.decode()
    for model in REGISTERED:
        assert reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") in page


@pytest.mark.parametrize(
    ("who", "signs_in"),
    [
        ("manager", True),
        ("aesthetician", False),
        ("aesthetician, staff", False),
        ("no role, staff", False),
    ],
)
def test_only_managers_can_sign_in_to_the_admin(client, make_user, who, signs_in):
    role, is_staff = {
        "manager": (roles.MANAGER, True),
        **REFUSED,
    }[who]
    user = make_user("signing-in", role=role, is_staff=is_staff)

    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}
    )

    if signs_in:
        assert response.status_code == HTTPStatus.FOUND
        # The password alone opens nothing: the second factor is set up first.
        index = client.get(reverse("admin:index"))
        assert index["Location"].startswith(reverse("second-factor-enrol"))
    else:
        assert response.status_code == HTTPStatus.OK
        assert "Please enter the correct username and password for a staff account" in (
            response.content.decode()
        )
        assert "_auth_user_id" not in client.session


# Hostile admin URLs: 404 or the admin's "doesn't exist" redirect, never a 500 ----------------

BAD_IDS = ["999999", "not-a-number", "-1", "1.5", "99999999999999999999999", "_00", "1_2F2"]


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_unknown_or_malformed_ids_in_change_urls_are_not_found(manager, model, record):
    browser = browser_for(manager)
    info = model._meta.app_label, model._meta.model_name
    for object_id in BAD_IDS:
        response = browser.get(reverse("admin:{}_{}_change".format(*info), args=[object_id]))
        assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.NOT_FOUND), object_id
        if response.status_code == HTTPStatus.FOUND:
            assert response["Location"] == reverse("admin:index"), object_id


@pytest.mark.parametrize("model", AUDITED, ids=lambda model: model._meta.label)
def test_unknown_or_malformed_ids_in_history_urls_are_not_found(manager, model, record):
    browser = browser_for(manager)
    info = model._meta.app_label, model._meta.model_name
    existing = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    for object_id in BAD_IDS:
        history = reverse("admin:{}_{}_history".format(*info), args=[object_id])
        assert browser.get(history).status_code == HTTPStatus.NOT_FOUND, object_id
    for object_id, version_id in [
        *((bad, "1") for bad in BAD_IDS),
        *((existing, bad) for bad in BAD_IDS),
    ]:
        version = reverse("admin:{}_{}_simple_history".format(*info), args=[object_id, version_id])
        assert browser.get(version).status_code == HTTPStatus.NOT_FOUND, (object_id, version_id)


@pytest.mark.parametrize(
    ("page", "field"),
    [
        ("admin:consultations_consultation_add", "client"),
        ("admin:consultations_consultation_add", "concerns-0-concern"),
    ],
)
def test_a_malformed_id_in_an_autocomplete_field_is_refused_politely(manager, page, field):
    browser = browser_for(manager)
    url = reverse(page)
    form = browser.get(url).context["adminform"].form
    for value in (" ", "abc", "1.5", "-1", "99999999999999999999999"):
        data = {
            "practitioner": manager.pk,
            "planned_sessions": "3",
            "interval_weeks": "4",
            "concerns-TOTAL_FORMS": "1",
            "concerns-INITIAL_FORMS": "0",
            field: value,
        }
        response = browser.post(url, {**dict.fromkeys(form.fields, ""), **data})
        assert response.status_code == HTTPStatus.OK, value
        assert "Select a valid choice" in response.content.decode(), value
