"""View mixins every workspace page shares, and the idle warning's "Stay signed in"."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clinic.middleware import mark_active


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
