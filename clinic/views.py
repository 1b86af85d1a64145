"""View mixins every workspace page shares, and the project's own small pages."""

import datetime

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Signed out: the sign-in page. Signed in without the page's permission (no role): 403.

    The roles (clinic/roles.py) give aestheticians and managers the workspace's permissions.
    """


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
