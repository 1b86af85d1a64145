"""What every workspace page's layout needs from the request."""

from functools import partial

from django.conf import settings

from clinic.middleware import idle_seconds_left


def idle_logoff(request):
    """Seconds until the idle logoff, for the warning a signed-in page shows before it.

    A callable, so that a template that does not show the warning never reads the session.
    """
    return {
        "idle_seconds_left": partial(idle_seconds_left, request.session),
        "idle_warning_seconds": settings.IDLE_WARNING_SECONDS,
    }
