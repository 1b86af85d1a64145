"""Staff accounts and roles in the managers' admin, where nobody can raise their own power.

- No form offers superuser status: it is given only from the command line (createsuperuser).
- A manager cannot change their own roles, permissions or staff status, and can give others only
  roles and permissions they hold themselves.
- "Reset second factor": another user's authenticator and recovery codes are removed (recorded
  in the admin's log); they set it up again at their next sign-in.
- django-otp's own device admins, which show the secret keys, are not offered.

Registered when the clinic app is ready (clinic.apps), after the admin has found Django's own
User and Group admins, which these replace.
"""

import logging

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Count, Q
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.second_factor import reset_devices

logger = logging.getLogger("clinic.auth")
User = get_user_model()
SELF_FIELDS = ("is_staff", "is_active", "groups", "user_permissions")


def held_permissions(user):
    """The permissions `user` has (their own and their roles'), as a queryset."""
    if user.is_superuser:
        return Permission.objects.all()
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()


def groups_within(user):
    """The roles whose every permission `user` holds."""
    if user.is_superuser:
        return Group.objects.all()
    held = held_permissions(user).values("pk")
    return Group.objects.annotate(
        beyond=Count("permissions", filter=~Q(permissions__in=held))
    ).filter(beyond=0)


class StaffAdmin(UserAdmin):
    fieldsets = tuple(
        (
            name,
            {
                **options,
                "fields": tuple(field for field in options["fields"] if field != "is_superuser"),
            },
        )
        for name, options in UserAdmin.fieldsets
    )
    actions = ("reset_second_factor",)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return (*readonly, *SELF_FIELDS)
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "user_permissions":
            kwargs["queryset"] = held_permissions(request.user).select_related("content_type")
        elif db_field.name == "groups":
            kwargs["queryset"] = groups_within(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.action(description="Reset second factor of selected users", permissions=["change"])
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(
                    request,
                    "You cannot reset your own second factor: ask another manager.",
                    messages.ERROR,
                )
                continue
            removed = reset_devices(user)
            self.log_change(request, user, "Reset the second factor (authenticator, codes).")
            logger.warning(
                "second factor reset: username=%s by=%s devices=%s",
                user.get_username(),
                request.user.get_username(),
                removed,
            )
            self.message_user(
                request,
                f"{user.get_username()}'s second factor was reset: they set it up again at "
                "their next sign-in.",
                messages.SUCCESS,
            )


class RoleAdmin(GroupAdmin):
    """Roles: a manager gives a role only permissions they hold, and cannot change their own."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions":
            kwargs["queryset"] = held_permissions(request.user).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser and request.user.groups.contains(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser and request.user.groups.contains(obj):
            return False
        return super().has_delete_permission(request, obj)


def register(site=admin.site):
    for model in (User, Group, TOTPDevice, StaticDevice):
        if site.is_registered(model):
            site.unregister(model)
    site.register(User, StaffAdmin)
    site.register(Group, RoleAdmin)
