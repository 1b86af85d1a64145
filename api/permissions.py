"""The workspace's roles, for the API: the model permissions the roles give (clinic/roles.py)."""

from rest_framework.permissions import DjangoModelPermissions

MANAGER_PERMISSION = "treatments.view_reports"


def is_manager(user):
    """Managers correct any record and change courses, as they do in the admin."""
    return user.has_perm(MANAGER_PERMISSION)


class RolePermissions(DjangoModelPermissions):
    """Reading needs the model's view permission, creating its add permission, changing (and
    voiding, completing, stopping) its change permission. A view's `action_permissions` names
    other permissions for its actions: {"update": ["treatments.view_reports"]}."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method.lower() not in view.http_method_names:
            return True  # answered 405: the API deletes nothing
        extra = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if extra is not None:
            return request.user.has_perms(extra)
        return super().has_permission(request, view)
