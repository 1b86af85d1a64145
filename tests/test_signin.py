"""Sign-in throttled per address beside the per-username lock (clinic.signin); no reset pages."""

import datetime
from http import HTTPStatus

import pytest
from axes.models import AccessFailureLog
from django.test import Client as DjangoClient
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(address, username, password="not-the-password", **extra):
    return DjangoClient(REMOTE_ADDR=address, **extra).post(
        LOGIN, {"username": username, "password": password}
    )


def test_an_address_trying_many_usernames_is_slowed_then_a_colleague_elsewhere_gets_in(
    practitioner, settings
):
    settings.SIGN_IN_ADDRESS_SLOW = 5
    for n in range(5):
        assert attempt("203.0.113.9", f"guess{n}").status_code == HTTPStatus.OK

    refused = attempt("203.0.113.9", practitioner.username, PASSWORD)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed sign-ins from this network" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert "_auth_user_id" not in refused.client.session
    # Not tried, so not counted either.
    assert AccessFailureLog.objects.count() == 5
    other = attempt("198.51.100.7", practitioner.username, PASSWORD)
    assert other.status_code == HTTPStatus.FOUND


def test_the_pause_lifts_after_a_minute(practitioner, settings):
    settings.SIGN_IN_ADDRESS_SLOW = 3
    for n in range(3):
        attempt("203.0.113.9", f"guess{n}")
    AccessFailureLog.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=61)
    )

    assert attempt("203.0.113.9", practitioner.username, PASSWORD).status_code == HTTPStatus.FOUND


def test_many_failures_within_the_cooloff_block_the_address_until_it_ends(practitioner, settings):
    settings.SIGN_IN_ADDRESS_SLOW = 100
    settings.SIGN_IN_ADDRESS_BLOCK = 8
    settings.SIGN_IN_ADDRESS_COOLOFF = datetime.timedelta(minutes=15)
    for n in range(8):
        attempt("203.0.113.9", f"guess{n}")
    # Spread over the last ten minutes: slow enough for the per-minute pause, not for this.
    AccessFailureLog.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    )

    refused = attempt("203.0.113.9", practitioner.username, PASSWORD)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 4 * 60 <= int(refused["Retry-After"]) <= 5 * 60 + 1

    AccessFailureLog.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert attempt("203.0.113.9", practitioner.username, PASSWORD).status_code == HTTPStatus.FOUND


def test_the_admin_sign_in_is_throttled_too(manager, settings):
    settings.SIGN_IN_ADDRESS_SLOW = 2
    for n in range(2):
        attempt("203.0.113.9", f"guess{n}")

    response = DjangoClient(REMOTE_ADDR="203.0.113.9").post(
        reverse("admin:login"), {"username": manager.username, "password": PASSWORD}
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(practitioner, settings):
    settings.BEHIND_PROXY = True
    settings.SIGN_IN_ADDRESS_SLOW = 3
    # The client writes its own X-Forwarded-For; the proxy appends the real address.
    for n in range(3):
        attempt("10.0.0.2", f"guess{n}", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.9")

    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    same = attempt("10.0.0.2", practitioner.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert same.status_code == HTTPStatus.TOO_MANY_REQUESTS
    other = attempt(
        "10.0.0.2",
        practitioner.username,
        PASSWORD,
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
    )
    assert other.status_code == HTTPStatus.FOUND


def test_wrong_old_passwords_count_as_failed_sign_ins_and_lock_the_account(
    practitioner, settings, caplog
):
    settings.SIGN_IN_ADDRESS_SLOW = 100
    browser = DjangoClient(REMOTE_ADDR="198.51.100.7")
    browser.force_login(practitioner)
    url = reverse("password_change")
    data = {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}

    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = browser.post(url, {**data, "old_password": f"guess-{n}"})
        assert response.status_code == HTTPStatus.OK
    response = browser.post(url, {**data, "old_password": "last-guess"})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Account locked" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert AccessFailureLog.objects.filter(username=practitioner.username).count() == 5
    assert "sign-in failed: username=aesthetician" in caplog.text
    # The right old password no longer helps, and nor does signing in.
    practitioner.refresh_from_db()
    assert practitioner.check_password(PASSWORD)
    again = attempt("198.51.100.7", practitioner.username, PASSWORD)
    assert "_auth_user_id" not in again.client.session


def test_the_right_old_password_still_changes_it(practitioner):
    browser = DjangoClient()
    browser.force_login(practitioner)

    response = browser.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    practitioner.refresh_from_db()
    assert practitioner.check_password("a-new-long-passphrase")


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
    ],
)
def test_there_is_no_self_service_password_reset(client, path):
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    assert client.post(path, {"email": "someone@example.com"}).status_code == HTTPStatus.NOT_FOUND


def test_the_sign_in_page_says_who_resets_a_password(client):
    assert "A manager can set a new one" in client.get(LOGIN).content.decode()
