import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponseBadRequest
from django.utils.cache import patch_cache_control

# When the signed-in user's session was last saved (seconds since the epoch).
ACTIVE_AT = "clinic_active_at"


def mark_active(session):
    """Note activity now; the session is saved, and its idle deadline moved, with the response."""
    session[ACTIVE_AT] = int(time.time())


class IdleLogoffMiddleware:
    """Sign a user out SESSION_COOKIE_AGE seconds (DJANGO_IDLE_MINUTES) after their last request.

    A session row expires SESSION_COOKIE_AGE after it was last saved, so each request must push
    the deadline back by saving the session. Django can save it on every request
    (SESSION_SAVE_EVERY_REQUEST), a database write per page; this saves it only when the last
    save is IDLE_DEADLINE_RESOLUTION seconds old or more. A user is signed out at most the idle
    period after their last request, and at least the idle period minus the resolution.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.accessed
            and SESSION_KEY in session
            and time.time() - session.get(ACTIVE_AT, 0) >= settings.IDLE_DEADLINE_RESOLUTION
        ):
            mark_active(session)
        return response


class NoStoreForSignedInMiddleware:
    """Pages shown to a signed-in user hold client records: browsers and proxies must not keep
    them (Cache-Control: no-store), so a shared tablet's back button or cache shows nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response


class BadQueryValuesMiddleware:
    """Bad values in the address answer 400 with a plain message, never a 500.

    A NUL character in the query string is never meaningful here, and PostgreSQL refuses it in a
    query. A number too large for a date lookup (`?performed_on__year=9223372036854775808`, which
    the admin accepts on any date field) overflows when the query is built.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(
                "The address holds a character that is not allowed (NUL). Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            return HttpResponseBadRequest(
                "A number in the address is out of range. Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return None
