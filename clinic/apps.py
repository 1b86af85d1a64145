from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicConfig(AppConfig):
    """The project itself: roles, sign-in logging and cross-app wiring."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic import (
            signals,  # noqa: F401  (connects the sign-in log receivers)
            staff_admin,
        )

        # After the admin found Django's user and group admins (its app comes first).
        staff_admin.register()


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin, served by the managers-only site (INSTALLED_APPS names this class)."""

    default = False  # not the config of the `clinic` app itself
    default_site = "clinic.admin.ManagersAdminSite"
