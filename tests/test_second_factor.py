"""A second factor (#20 item 4): required for managers and the admin, offered to aestheticians;
enrolment with recovery codes shown once; wrong codes count towards the sign-in lock; a reset
by another manager; nobody raises their own power in the admin."""

import datetime
import re
from http import HTTPStatus

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import roles
from clinic.second_factor import SESSION_KEY
from tests.conftest import PASSWORD
from tests.pages import field_errors, text

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/second-factor/"
ENROL = "/accounts/second-factor/enrol/"


def sign_in(browser, user):
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    return browser


def code_for(device):
    return f"{TOTP(device.bin_key).token():06d}"


def authenticator(user):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def enrolment_code(page):
    secret = re.search(r'user-select-all">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    import base64

    key = base64.b32decode(secret.replace(" ", ""))
    return f"{TOTP(key).token():06d}"


# Managers: enrolment before anything ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/clients/", "/admin/", "/reports/"])
def test_a_manager_without_an_authenticator_is_sent_to_enrolment_first(client, manager, path):
    sign_in(client, manager)
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(ENROL + "?next=")


def test_enrolment_confirms_the_app_and_shows_recovery_codes_once(client, manager):
    sign_in(client, manager)
    page = client.get(ENROL + "?next=/reports/")
    assert page.context["qr_code"].startswith("data:image/svg+xml")
    assert "Your account can read and export every client" in text(page)

    done = client.post(ENROL, {"code": enrolment_code(page), "next": "/reports/"})

    assert done.status_code == HTTPStatus.OK
    codes = done.context["codes"]
    assert len(codes) == 10
    assert all(code in done.content.decode() for code in codes)
    assert TOTPDevice.objects.get(user=manager).confirmed
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert DEVICE_ID_SESSION_KEY in client.session
    assert client.get("/reports/").status_code == HTTPStatus.OK
    # Shown once: the enrolment page now only says it is set up.
    again = client.get(ENROL, follow=True)
    assert "Your second factor is set up" in text(again)
    assert not any(code in again.content.decode() for code in codes)


def test_a_wrong_enrolment_code_is_refused_next_to_the_field_and_counted(client, manager):
    sign_in(client, manager)
    client.get(ENROL)

    response = client.post(ENROL, {"code": "000000"})

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_code") == [
        "That code is not right, or has been used. Try the code shown now."
    ]
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert AccessFailureLog.objects.filter(username=manager.username).count() == 1


# Signing in with a code -------------------------------------------------------------------------


def test_a_manager_with_an_authenticator_types_its_code_after_the_password(client, manager):
    device = authenticator(manager)
    sign_in(client, manager)
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"

    wrong = client.post(VERIFY, {"code": "123456", "next": "/admin/"})
    assert field_errors(wrong, "id_code") == [
        "That code is not right, or has been used. Try the code shown now."
    ]
    # django-otp makes the device wait a moment after a wrong code (1 s, doubling).
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2), tick=True):
        right = client.post(VERIFY, {"code": code_for(device), "next": "/admin/"})
    assert right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_a_recovery_code_works_once(client, manager):
    authenticator(manager)
    recovery = StaticDevice.objects.create(user=manager, name="Recovery", confirmed=True)
    recovery.token_set.create(token="abcd1234")
    sign_in(client, manager)

    assert client.post(VERIFY, {"code": "ABCD 1234"})["Location"] == "/"
    client.post(reverse("logout"))
    sign_in(client, manager)
    reused = client.post(VERIFY, {"code": "abcd1234"})
    assert reused.status_code == HTTPStatus.OK
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_wrong_codes_lock_the_account_as_wrong_passwords_do(client, manager, settings):
    authenticator(manager)
    sign_in(client, manager)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "000000"}).status_code == HTTPStatus.OK

    locked = client.post(VERIFY, {"code": "000000"})

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in client.session
    # The password no longer signs in either, until the cool-off.
    again = client.post(reverse("login"), {"username": manager.username, "password": PASSWORD})
    assert again.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize(
    "code",
    ["", " ", "x" * 1000, "' OR 1=1 --", "１２３４５６", "12345\x00", "<script>", "-1", "1e6"],
)
def test_hostile_codes_are_refused_with_a_message(client, manager, code):
    device = authenticator(manager)
    sign_in(client, manager)

    for path in (VERIFY, ENROL):
        response = client.post(path, {"code": code})
        assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
        if response.status_code == HTTPStatus.OK:
            assert field_errors(response, "id_code")
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert list(TOTPDevice.objects.filter(user=manager)) == [device]


def test_an_address_that_fails_too_often_is_throttled_on_the_code_form_too(
    client, manager, make_user, settings
):
    settings.SIGN_IN_ADDRESS_SLOW = 3
    authenticator(manager)
    for n in range(3):
        other = make_user(f"other{n}")
        client.post(reverse("login"), {"username": other.username, "password": "wrong"})
    sign_in_refused = client.post(
        reverse("login"), {"username": manager.username, "password": PASSWORD}
    )
    assert sign_in_refused.status_code == HTTPStatus.TOO_MANY_REQUESTS


# Aestheticians: offered, then asked -------------------------------------------------------------


def test_an_aesthetician_signs_in_without_a_second_factor_and_may_set_one_up(client, practitioner):
    sign_in(client, practitioner)
    assert client.get("/").status_code == HTTPStatus.OK

    page = client.get(ENROL)
    assert "Your account can read and export" not in text(page)
    client.post(ENROL, {"code": enrolment_code(page)})
    client.post(reverse("logout"))

    sign_in(client, practitioner)
    assert client.get("/")["Location"].startswith(VERIFY)


# The admin --------------------------------------------------------------------------------------


def test_the_admin_needs_the_second_factor_too(client, manager, rf):
    from django.contrib import admin
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/admin/")
    request.user, request.session = manager, SessionStore()
    assert not admin.site.has_permission(request)  # the password alone
    request.session[DEVICE_ID_SESSION_KEY] = authenticator(manager).persistent_id
    assert admin.site.has_permission(request)


def test_a_session_from_before_the_second_factor_is_asked_for_it(client, manager):
    client.force_login(manager, verified=False)
    session = client.session
    del session[SESSION_KEY]  # signed in before the upgrade
    session.save()

    response = client.get("/clients/")

    assert response["Location"].startswith(ENROL)


def test_a_manager_resets_another_users_second_factor_and_it_is_recorded(
    manager_client, manager, make_user
):
    colleague = make_user("colleague", role=roles.MANAGER)
    authenticator(colleague)
    StaticDevice.objects.create(user=colleague, name="Recovery", confirmed=True)
    url = reverse("admin:auth_user_changelist")

    manager_client.post(
        url, {"action": "reset_second_factor", "_selected_action": [colleague.pk, manager.pk]}
    )

    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticDevice.objects.filter(user=colleague).exists()
    assert TOTPDevice.objects.filter(user=manager).exists()  # not their own
    entry = LogEntry.objects.get(object_id=str(colleague.pk))
    assert entry.user == manager
    assert "Reset the second factor" in entry.get_change_message()


def test_no_admin_form_offers_superuser_status(manager_client, make_user, manager):
    other = make_user("someone")
    page = manager_client.get(reverse("admin:auth_user_change", args=[other.pk]))
    assert 'name="is_superuser"' not in page.content.decode()
    assert 'name="groups"' in page.content.decode()


def test_a_manager_cannot_change_their_own_roles_or_permissions(manager_client, manager):
    page = manager_client.get(reverse("admin:auth_user_change", args=[manager.pk]))
    content = page.content.decode()
    assert 'name="groups"' not in content
    assert 'name="user_permissions"' not in content
    assert 'name="is_staff"' not in content


def test_a_manager_cannot_give_a_permission_they_do_not_have(manager_client, make_user):
    other = make_user("someone")
    beyond = Permission.objects.get(codename="add_logentry")
    page = manager_client.get(reverse("admin:auth_user_change", args=[other.pk]))
    offered = page.context["adminform"].form.fields["user_permissions"].queryset
    assert beyond not in offered
    assert offered.filter(codename="view_client").exists()


def test_a_manager_cannot_change_their_own_role(manager_client):
    own = Group.objects.get(name=roles.MANAGER)
    page = manager_client.get(reverse("admin:auth_group_change", args=[own.pk]))
    assert 'name="permissions"' not in page.content.decode()
    posted = manager_client.post(
        reverse("admin:auth_group_change", args=[own.pk]), {"name": "Manager", "permissions": []}
    )
    assert posted.status_code == HTTPStatus.FORBIDDEN
    assert own.permissions.exists()


def test_the_authenticator_admins_with_their_secrets_are_not_offered(manager_client):
    assert manager_client.get("/admin/otp_totp/totpdevice/").status_code == HTTPStatus.NOT_FOUND


def test_the_demo_manager_has_the_published_authenticator():
    from devtools.demo import year

    staff, _created, _reset = year.ensure_staff()
    device = TOTPDevice.objects.get(user=staff[year.MANAGER_USERNAME])
    import base64

    assert device.bin_key == base64.b32decode(year.DEMO_TOTP_SECRET)
    year.ensure_staff()  # again: still one
    assert TOTPDevice.objects.filter(user=staff[year.MANAGER_USERNAME]).count() == 1
