"""Sign-in throttling per network address, beside django-axes' lock per username.

django-axes locks a username after DJANGO_LOCKOUT_FAILURES failed attempts. That alone lets one
address try many usernames unhindered, so failures are also counted per address (from axes'
failure log, which every worker shares through the database):

- slowed: SIGN_IN_ADDRESS_SLOW failures within a minute, and the address waits out that minute;
- blocked: SIGN_IN_ADDRESS_BLOCK failures within SIGN_IN_ADDRESS_COOLOFF, and the address waits
  until the oldest of them is that old.

Either answers 429 with the time to come back, for the app's and the admin's sign-in forms, the
second factor's code forms and the password-change form (whose wrong codes and old passwords
count as failed sign-ins of that user, so the username lock applies to them too). Other
addresses are not affected. Behind a proxy
(DJANGO_BEHIND_PROXY), the address is the one the proxy appended to X-Forwarded-For, never one
the client wrote.
"""

import datetime
import logging

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from clinic.middleware import DATABASE_ERRORS, answer_database_unavailable

logger = logging.getLogger("clinic.auth")
MINUTE = datetime.timedelta(minutes=1)


def client_address(request):
    """The address the request came from: REMOTE_ADDR, or behind the clinic's proxy the last
    address in X-Forwarded-For (the one the proxy itself appended). AXES_CLIENT_IP_CALLABLE."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


def retry_at(failures, *, limit, window, now):
    """When an address with `failures` (times, newest first) may try again, or None."""
    recent = [at for at in failures if at > now - window]
    if len(recent) < limit:
        return None
    return recent[limit - 1] + window


def address_wait(request, now=None):
    """The time this request's address may sign in again, or None when it may now."""
    now = now or timezone.now()
    cooloff = settings.SIGN_IN_ADDRESS_COOLOFF
    limit = max(settings.SIGN_IN_ADDRESS_BLOCK, settings.SIGN_IN_ADDRESS_SLOW)
    failures = list(
        AccessFailureLog.objects.filter(
            ip_address=client_address(request), attempt_time__gt=now - max(cooloff, MINUTE)
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)[:limit]
    )
    waits = [
        retry_at(failures, limit=settings.SIGN_IN_ADDRESS_SLOW, window=MINUTE, now=now),
        retry_at(failures, limit=settings.SIGN_IN_ADDRESS_BLOCK, window=cooloff, now=now),
    ]
    return max((wait for wait in waits if wait), default=None)


def refused(request, until):
    logger.warning(
        "sign-in throttled: address=%s path=%s until=%s",
        client_address(request),
        request.path,
        until.isoformat(timespec="seconds"),
    )
    response = TemplateResponse(
        request,
        "registration/throttled.html",
        {"until": until, "cooloff": settings.SIGN_IN_ADDRESS_COOLOFF},
        status=429,
    )
    response["Retry-After"] = str(max(1, int((until - timezone.now()).total_seconds()) + 1))
    # Answered from the middleware, before any view: rendered here.
    return response.render()


def count_wrong_old_password(request, user):
    """A wrong old password on the password-change form is a failed sign-in of that user: the
    sign-in log, the username lock and the address throttle all count it."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


class SignInThrottleMiddleware:
    """Refuse sign-in and password-change posts from an address that failed too often."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in self.guarded_paths():
            try:
                until = address_wait(request)
            except DATABASE_ERRORS as error:
                return answer_database_unavailable(request, error)
            if until:
                return refused(request, until)
        return self.get_response(request)

    @staticmethod
    def guarded_paths():
        return {
            reverse("login"),
            reverse("admin:login"),
            reverse("password_change"),
            reverse("second-factor-verify"),
            reverse("second-factor-enrol"),
        }
