import logging
import time
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

logger = logging.getLogger("clinic.outage")

# When the signed-in user's session was last saved (seconds since the epoch).
ACTIVE_AT = "clinic_active_at"
# A form posted after the session ended, waiting for its author to sign in again.
KEPT_FORM = "clinic_kept_form"
# How long it waits: long enough to sign in, short enough not to linger.
KEPT_FORM_SECONDS = 15 * 60
# Set on a request the database failed: the answer must not touch the database again.
DATABASE_UNAVAILABLE = "clinic_database_unavailable"


def mark_active(session):
    """Note activity now; the session is saved, and its idle deadline moved, with the response."""
    session[ACTIVE_AT] = int(time.time())


def idle_seconds_left(session):
    """Seconds until a signed-in session ends without activity, as of this response.

    IdleLogoffMiddleware moves the deadline with this response when the last save is
    IDLE_DEADLINE_RESOLUTION seconds old; otherwise it stands where the last save put it.
    """
    since = time.time() - session.get(ACTIVE_AT, 0)
    if since >= settings.IDLE_DEADLINE_RESOLUTION:
        return settings.SESSION_COOKIE_AGE
    return max(0, int(settings.SESSION_COOKIE_AGE - since))


def database_unavailable(request):
    return getattr(request, DATABASE_UNAVAILABLE, False)


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
            and not database_unavailable(request)
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
        if database_unavailable(request):
            return response  # the outage page sets its own; the user cannot be read now
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


def _keeps(name):
    """Fields a kept or retried form carries: never the CSRF token or a password."""
    return name != "csrfmiddlewaretoken" and "password" not in name.lower()


def posted_fields(request):
    """The posted fields as [name, [values]] pairs, files left out (request.POST has none)."""
    return [[name, values] for name, values in request.POST.lists() if _keeps(name)]


def _sends_to_sign_in(request, response):
    """Is `response` the sign-in page's redirect, to come back to this very address?"""
    if response.status_code not in {301, 302, 303, 307, 308} or not response.has_header("Location"):
        return False
    location = urlsplit(response["Location"])
    return location.path == resolve_url(settings.LOGIN_URL) and parse_qs(location.query).get(
        "next"
    ) == [request.get_full_path()]


def _expired_sessions_user(request):
    """The id of the user whose session the browser still names, although it has ended.

    The ended session's row stays in the database until `clearsessions` removes it; signing out
    removes it at once, and then nobody is known (nothing is kept). Only database-backed session
    engines (`db`, `cached_db`) keep such rows.
    """
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    model_class = getattr(type(request.session), "get_model_class", None)
    if not key or model_class is None:
        return None
    ended = model_class().objects.filter(session_key=key).first()
    return ended.get_decoded().get(SESSION_KEY) if ended else None


class KeepTypedWorkMiddleware:
    """A form posted after the idle logoff waits, kept server-side, for its author to sign in.

    The sign-in page's redirect replaces the refused POST. The posted fields (never files,
    passwords or the CSRF token) are kept in the new, signed-out session, which the browser
    carries by its random cookie: nothing of the form goes into an address or a log, and every
    worker reads the same session store. Signing in keeps the session's data (Django cycles its
    key), and `clinic.signals` drops the kept form at once if someone else signed in. The page
    the sign-in returns to gets the fields (`kept_form` in its template context), and
    `clinic/kept_form.js` puts them back into its form: the practitioner checks and saves it
    themselves, so nothing is saved that they did not see.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "POST"
            and _sends_to_sign_in(request, response)
            and not request.user.is_authenticated
        ):
            self.keep(request)
        return response

    def keep(self, request):
        try:
            author = _expired_sessions_user(request)
        except DatabaseError:
            return  # the database is gone too: the sign-in page will say so
        fields = posted_fields(request)
        if author is None or not fields:
            return
        request.session[KEPT_FORM] = {
            "path": request.get_full_path(),
            "user": author,
            "fields": fields,
            "kept_at": int(time.time()),
        }
        minutes = settings.SESSION_COOKIE_AGE // 60
        messages.info(
            request,
            f"You were signed out after {minutes} minutes without activity, to protect client "
            "records. Sign in again: what you entered is kept, and shown to you to save.",
        )

    def process_template_response(self, request, response):
        """Give the page the sign-in came back to the form kept for it, once."""
        if request.method != "GET" or response.status_code != 200:
            return response
        try:
            # Pages that check the sign-in have read the session already: no query here.
            kept = request.session.get(KEPT_FORM)
            if kept is None or not request.user.is_authenticated:
                return response
        except DatabaseError:
            return response  # the page's own reads will fail and answer 503
        del request.session[KEPT_FORM]
        if (
            kept["path"] == request.get_full_path()
            and kept["user"] == str(request.user.pk)
            and time.time() - kept["kept_at"] < KEPT_FORM_SECONDS
        ):
            response.context_data = {**(response.context_data or {}), "kept_form": kept["fields"]}
        return response


def drop_kept_form_of_others(session, user):
    """At sign-in: a form kept for another user is discarded, never shown to this one."""
    kept = session.get(KEPT_FORM)
    if kept is not None and kept["user"] != str(user.pk):
        del session[KEPT_FORM]


class DatabaseOutageMiddleware:
    """The database not answering is a 503 in the app's look, not a bare 500, and loses no form.

    A view that expects a database error it can explain (a lock timeout on a busy course)
    catches it itself; what reaches here escaped. The page is drawn without the database: no
    context processors, no user, no messages. A posted form comes back as hidden fields in a
    "Try again" form with a fresh CSRF token, posting to the same address, so nothing has to be
    typed again; chosen files cannot be kept, and the page says so.
    """

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        return answer_database_unavailable(request, exception)


# What the database not answering raises.
DATABASE_ERRORS = (OperationalError, InterfaceError)


def answer_database_unavailable(request, exception):
    """The 503 answer to `exception`, for a middleware that reads the database itself (its
    errors do not reach process_exception, which sees only the view's)."""
    setattr(request, DATABASE_UNAVAILABLE, True)
    logger.error(
        "database unavailable: %s %s answered 503",
        request.method,
        request.path,
        exc_info=exception,
    )
    return outage_response(request)


def outage_response(request):
    posted = request.method == "POST"
    context = {
        "retry_url": request.get_full_path(),
        "retry_fields": [
            (name, value) for name, values in posted_fields(request) for value in values
        ]
        if posted
        else None,
        "files_dropped": posted and bool(request.FILES),
        "csrf_token": get_token(request),
    }
    # No request: no context processors, which would read the user and their permissions.
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(DatabaseOutageMiddleware.RETRY_AFTER_SECONDS)
    patch_cache_control(response, no_store=True, no_cache=True, private=True)
    return response
