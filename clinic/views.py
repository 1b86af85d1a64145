"""View mixins every workspace page shares, the idle warning's "Stay signed in", and the
project's own small pages."""

import datetime

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from clinic.middleware import mark_active
from clinic.signin import count_wrong_old_password


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Signed out: the sign-in page. Signed in without the page's permission (no role): 403.

    The roles (clinic/roles.py) give aestheticians and managers the workspace's permissions.
    """


@require_POST
def stay_signed_in(request):
    """Move the idle deadline on: "Stay signed in" on the warning before the idle logoff.

    The warning's script asks for JSON (the seconds now left); without JavaScript the form posts
    here and comes back to the page it was on (`next`).
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = resolve_url("today")
    if not request.user.is_authenticated:
        if wants_json:
            return JsonResponse({"signed_in": False}, status=401)
        return redirect_to_login(back)
    mark_active(request.session)
    if wants_json:
        return JsonResponse({"signed_in": True, "seconds_left": settings.SESSION_COOKIE_AGE})
    return redirect(back)


def favicon(request):
    """`/favicon.ico`, which browsers ask for whatever the page links: the static icon."""
    return redirect(static("clinic/favicon.ico"), permanent=True)


class SecurityTxtView(TemplateView):
    """`/.well-known/security.txt` (RFC 9116): whom to tell about a security problem.

    The contact and policy are the clinic's own (settings.SECURITY_CONTACT and
    SECURITY_POLICY_URL); without a contact there is no one to name, so there is no file.
    """

    template_name = "security.txt"
    content_type = "text/plain; charset=utf-8"
    # The file says how long it holds; a deployment serving it keeps it fresh by itself.
    valid_for = datetime.timedelta(days=180)

    def get(self, request, *args, **kwargs):
        if not settings.SECURITY_CONTACT:
            raise Http404("No security contact is configured.")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        expires = (timezone.now() + self.valid_for).replace(microsecond=0)
        return {
            **super().get_context_data(**kwargs),
            "contacts": settings.SECURITY_CONTACT,
            "policy": settings.SECURITY_POLICY_URL,
            "expires": expires.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "canonical": self.request.build_absolute_uri(),
        }


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, where a wrong old password counts as a failed sign-in: after
    DJANGO_LOCKOUT_FAILURES of them the account is locked and the session signed out, as the
    sign-in form would have locked it."""

    def post(self, request, *args, **kwargs):
        if self.locked():
            return self.locked_out()
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password"):
            count_wrong_old_password(self.request, self.request.user)
            if self.locked():
                return self.locked_out()
        return super().form_invalid(form)

    def locked(self):
        credentials = {"username": self.request.user.get_username()}
        return AxesProxyHandler.is_locked(self.request, credentials)

    def locked_out(self):
        username = self.request.user.get_username()
        logout(self.request)
        context = {
            "username": username,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
        }
        return TemplateResponse(self.request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


def bad_request(request, exception):
    """The 400 page (handler400), saying what usually causes it here: more files in one post
    than DATA_UPLOAD_MAX_NUMBER_FILES. Drawn like Django's, without the request's context."""
    return HttpResponseBadRequest(
        render_to_string("400.html", {"photo_limit": settings.PHOTO_MAX_PER_UPLOAD})
    )
