"""Sign-in protection, sessions and production settings."""

import datetime
import logging
import os
import subprocess
import sys
import uuid
from http import HTTPStatus
from pathlib import Path

import pytest
import redis
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as DjangoClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.middleware import ACTIVE_AT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


def sign_in(browser, username, password):
    return browser.post(LOGIN, {"username": username, "password": password})


def fail_times(browser, username, times):
    for _ in range(times):
        sign_in(browser, username, "not-the-password")


class TestLockout:
    def test_five_failures_lock_the_username_and_the_right_password_does_not_get_in(
        self, practitioner
    ):
        browser = DjangoClient()
        fail_times(browser, practitioner.username, 5)
        response = sign_in(browser, practitioner.username, PASSWORD)
        assert response.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS}
        assert "locked" in response.content.decode().lower()
        assert "_auth_user_id" not in browser.session

    def test_the_lock_holds_from_any_address(self, practitioner):
        for n in range(5):
            DjangoClient(REMOTE_ADDR=f"10.0.0.{n + 1}").post(
                LOGIN, {"username": practitioner.username, "password": "wrong-password!"}
            )
        elsewhere = DjangoClient(REMOTE_ADDR="192.0.2.99")
        response = sign_in(elsewhere, practitioner.username, PASSWORD)
        assert response.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS}

    def test_four_failures_still_let_the_right_password_in_and_reset_the_count(self, practitioner):
        browser = DjangoClient()
        fail_times(browser, practitioner.username, 4)
        response = sign_in(browser, practitioner.username, PASSWORD)
        assert response.status_code == HTTPStatus.FOUND
        assert browser.session["_auth_user_id"] == str(practitioner.pk)
        assert not AccessAttempt.objects.filter(username=practitioner.username).exists()

    def test_another_username_is_not_locked(self, practitioner, make_user):
        other = make_user("other")
        browser = DjangoClient()
        fail_times(browser, practitioner.username, 5)
        assert sign_in(browser, other.username, PASSWORD).status_code == HTTPStatus.FOUND

    def test_the_lock_ends_after_the_cool_off(self, practitioner, settings):
        settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
        browser = DjangoClient()
        fail_times(browser, practitioner.username, 5)
        sixteen_minutes_ago = timezone.now() - datetime.timedelta(minutes=16)
        AccessAttempt.objects.filter(username=practitioner.username).update(
            attempt_time=sixteen_minutes_ago
        )
        assert sign_in(browser, practitioner.username, PASSWORD).status_code == HTTPStatus.FOUND

    def test_sign_ins_are_logged(self, practitioner, caplog):
        browser = DjangoClient()
        with caplog.at_level(logging.INFO, logger="clinic.auth"):
            sign_in(browser, practitioner.username, "wrong-password!")
            sign_in(browser, practitioner.username, PASSWORD)
        messages = [r.getMessage() for r in caplog.records if r.name == "clinic.auth"]
        assert f"sign-in failed: username={practitioner.username} address=127.0.0.1" in messages
        assert f"sign-in succeeded: username={practitioner.username} address=127.0.0.1" in messages
        assert AccessLog.objects.filter(username=practitioner.username).exists()


class TestPasswords:
    @pytest.mark.parametrize("password", ["short-pw-1", "abcdefghijk", "123456789012345"])
    def test_weak_or_short_passwords_are_refused(self, password):
        with pytest.raises(ValidationError):
            validate_password(password)

    def test_twelve_characters_that_pass_djangos_validators_are_accepted(self):
        validate_password("micro-needle-42")


class TestSessions:
    def test_sign_in_issues_a_new_session_id(self, practitioner):
        browser = DjangoClient()
        browser.get(LOGIN)
        browser.session.save()
        before = browser.cookies["sessionid"].value if "sessionid" in browser.cookies else None
        sign_in(browser, practitioner.username, PASSWORD)
        after = browser.cookies["sessionid"].value
        assert after and after != before

    def test_logout_invalidates_the_old_session(self, practitioner):
        browser = DjangoClient()
        sign_in(browser, practitioner.username, PASSWORD)
        stolen = browser.cookies["sessionid"].value
        browser.post(reverse("logout"))
        thief = DjangoClient()
        thief.cookies["sessionid"] = stolen
        response = thief.get(reverse("today"))
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(LOGIN)

    def test_idle_sessions_expire_after_the_configured_period(self, practitioner, settings):
        assert settings.SESSION_COOKIE_AGE == 15 * 60
        browser = DjangoClient()
        sign_in(browser, practitioner.username, PASSWORD)
        session = browser.session
        session.set_expiry(-1)  # as if the idle period had passed
        session.save()
        response = browser.get(reverse("today"))
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(LOGIN)

    def test_a_request_a_minute_after_the_last_save_pushes_the_idle_deadline_back(self, signed_in):
        key = signed_in.cookies["sessionid"].value
        session = signed_in.session
        session[ACTIVE_AT] -= 61
        session.save()
        soon = timezone.now() + datetime.timedelta(minutes=1)
        Session.objects.filter(session_key=key).update(expire_date=soon)

        signed_in.get(reverse("today"))

        deadline = Session.objects.get(session_key=key).expire_date
        assert timezone.now() + datetime.timedelta(minutes=14) < deadline
        assert deadline <= timezone.now() + datetime.timedelta(minutes=15)

    def test_requests_within_a_minute_of_the_last_save_do_not_rewrite_the_session(self, signed_in):
        key = signed_in.cookies["sessionid"].value
        deadline = Session.objects.get(session_key=key).expire_date

        with CaptureQueriesContext(connection) as queries:
            signed_in.get(reverse("today"))

        assert Session.objects.get(session_key=key).expire_date == deadline
        assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"]]

    def test_a_sign_out_in_one_worker_is_seen_by_the_others_through_redis(
        self, practitioner, settings, django_assert_num_queries
    ):
        """With DJANGO_REDIS_URL, sessions are `cached_db` in Redis. Each worker has its own
        connection to it: here a second cache alias stands for a second gunicorn worker."""
        url = os.environ.get("DJANGO_REDIS_URL") or "redis://127.0.0.1:6379/0"
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip(f"Redis is not reachable at {url}")
        # A prefix of this test's own: the Redis server may be shared.
        redis_cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
        settings.CACHES = {"default": redis_cache, "other-worker": redis_cache}
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

        def other_worker(key):
            with override_settings(SESSION_CACHE_ALIAS="other-worker"):
                return cached_db.SessionStore(key)

        browser = DjangoClient()
        sign_in(browser, practitioner.username, PASSWORD)
        key = browser.cookies["sessionid"].value
        with django_assert_num_queries(0):  # read from Redis, not from the database
            assert other_worker(key).load()[SESSION_KEY] == str(practitioner.pk)

        browser.post(reverse("logout"))

        signed_out = other_worker(key)
        assert signed_out.load() == {}
        assert signed_out.session_key is None
        thief = DjangoClient()
        thief.cookies["sessionid"] = key
        assert thief.get(reverse("today"))["Location"].startswith(LOGIN)

    def test_the_idle_clock_starts_at_sign_in(self, practitioner):
        browser = DjangoClient()
        sign_in(browser, practitioner.username, PASSWORD)
        assert abs(browser.session[ACTIVE_AT] - timezone.now().timestamp()) < 5


def test_signed_in_pages_are_not_cached(signed_in):
    cache_control = signed_in.get(reverse("today"))["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def run_settings(code, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, *code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "clinic.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9Lm2Vb8Nc4Zr6Ty1Wu5Hs0Jd3Fg" * 2,
    "DJANGO_ALLOWED_HOSTS": "clinic.example.com",
}


def test_production_settings_pass_djangos_deployment_checks():
    result = run_settings(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_idle_period_and_lockout_come_from_the_environment():
    result = run_settings(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, "
            "s.SECURE_PROXY_SSL_HEADER)",
        ],
        DJANGO_IDLE_MINUTES="5",
        DJANGO_LOCKOUT_FAILURES="3",
        DJANGO_LOCKOUT_MINUTES="60",
        DJANGO_BEHIND_PROXY="1",
        **PRODUCTION,
    )
    assert result.stdout.split(" ", 2)[:2] == ["300", "3"], result.stderr
    assert "1:00:00 ('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout


class TestPermissions:
    """Django's ModelBackend (clinic.backends.RoleBackend), after axes' backend: a role's
    permissions come from its group."""

    def test_own_and_role_permissions_are_read_in_one_query_once_a_request(
        self, practitioner, django_assert_num_queries
    ):
        practitioner.user_permissions.add(Permission.objects.get(codename="change_concern"))
        user = type(practitioner).objects.get(pk=practitioner.pk)  # as a request loads it

        with django_assert_num_queries(1):
            assert user.has_perm("catalogue.change_concern")
            assert user.has_perms(["treatments.add_treatmentsession", "consultations.view_client"])
            assert user.has_module_perms("treatments")

    def test_role_permissions_come_from_the_group(self, practitioner):
        assert practitioner.has_perm("treatments.add_treatmentsession")
        assert not practitioner.has_perm("catalogue.change_concern")

    def test_a_users_own_permissions_count_too(self, make_user):
        user = make_user(role=None)
        user.user_permissions.add(Permission.objects.get(codename="view_concern"))
        assert user.get_all_permissions() == {"catalogue.view_concern"}

    def test_own_and_group_permissions_are_combined(self, practitioner):
        practitioner.user_permissions.add(Permission.objects.get(codename="change_concern"))
        permissions = practitioner.get_all_permissions()
        assert {"catalogue.change_concern", "treatments.add_treatmentsession"} <= permissions

    def test_superusers_have_every_permission_and_inactive_users_none(self, make_user):
        assert make_user(superuser=True).get_all_permissions() == {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.select_related("content_type")
        }
        inactive = make_user(is_active=False)
        assert inactive.get_all_permissions() == set()
        assert not inactive.has_perm("catalogue.view_concern")

    def test_an_inactive_user_is_signed_out(self, signed_in, practitioner):
        practitioner.is_active = False
        practitioner.save()

        response = signed_in.get(reverse("today"))

        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(LOGIN)
