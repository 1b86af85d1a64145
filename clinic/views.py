"""View mixins every workspace page shares."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Signed out: the sign-in page. Signed in without the page's permission (no role): 403.

    The roles (clinic/roles.py) give aestheticians and managers the workspace's permissions.
    """
