"""The permissions backend: Django's ModelBackend, reading a user's permissions in one query."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

FIELDS = ("content_type__app_label", "codename")


class RoleBackend(ModelBackend):
    """ModelBackend, reading a user's own permissions and their roles' (their groups') in one
    query, a UNION, instead of one each. Every signed-in page checks them, and logging a session
    has no query to spare (README, "Performance policy")."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        # Kept on the user object for the request, as ModelBackend keeps its own.
        if not hasattr(user_obj, "clinic_permissions"):
            if user_obj.is_superuser:
                found = Permission.objects.values_list(*FIELDS)
            else:
                own = Permission.objects.filter(user=user_obj).values_list(*FIELDS).order_by()
                roles = Permission.objects.filter(group__user=user_obj).values_list(*FIELDS)
                found = own.union(roles.order_by())
            user_obj.clinic_permissions = {f"{app}.{codename}" for app, codename in found}
        return user_obj.clinic_permissions
