"""Log every sign-in, successful or not (django-axes also keeps them in its tables), start the
idle clock at sign-in, and keep a form kept through the sign-in for its author only."""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from clinic.middleware import drop_kept_form_of_others, mark_active
from clinic.second_factor import note_at_sign_in
from clinic.signin import client_address

logger = logging.getLogger("clinic.auth")


def _address(request):
    return (client_address(request) or "?") if request is not None else "?"


@receiver(user_logged_in)
def log_sign_in(sender, request, user, **kwargs):
    logger.info("sign-in succeeded: username=%s address=%s", user.get_username(), _address(request))


@receiver(user_logged_in)
def ask_for_second_factor(sender, request, user, **kwargs):
    """A new session owes its second factor first where the user has or needs one."""
    if request is not None and hasattr(request, "session"):
        note_at_sign_in(request, user)


@receiver(user_logged_in)
def start_idle_clock(sender, request, user, **kwargs):
    """The idle period starts at sign-in (clinic.middleware.IdleLogoffMiddleware)."""
    if request is not None and hasattr(request, "session"):
        mark_active(request.session)


@receiver(user_logged_in)
def keep_kept_form_for_its_author(sender, request, user, **kwargs):
    """A form kept while its author signed in again is shown to them, never to someone else
    signing in on the same browser (clinic.middleware.KeepTypedWorkMiddleware)."""
    if request is not None and hasattr(request, "session"):
        drop_kept_form_of_others(request.session, user)


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    logger.warning(
        "sign-in failed: username=%s address=%s", credentials.get("username"), _address(request)
    )


@receiver(user_logged_out)
def log_sign_out(sender, request, user, **kwargs):
    if user is not None:
        logger.info("sign-out: username=%s address=%s", user.get_username(), _address(request))
