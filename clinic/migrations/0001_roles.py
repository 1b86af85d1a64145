"""Create the Aesthetician and Manager groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# The roles as they stood when this migration was written: later changes to clinic/roles.py
# must not change what replaying it does.
AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"
CLINICAL = {
    "consultations": ["client", "consultation", "recordedconcern"],
    "treatments": [
        "treatmentplan",
        "planconcern",
        "treatmentsession",
        "sessionarea",
        "sessionproduct",
        "sessionprogress",
        "photo",
    ],
}
CATALOGUE = {"treatments": ["concern", "product"]}
MANAGER_APPS = ["consultations", "treatments", "axes", "auth"]


def sync_groups(apps):
    """Create both groups and give each its permissions, of the models that exist by now."""
    # Permissions are normally created after migrate; create them now so the groups get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [
        (app, f"{action}_{model}")
        for app, models in CLINICAL.items()
        for model in models
        for action in ("view", "add", "change")
    ] + [(app, f"view_{model}") for app, models in CATALOGUE.items() for model in models]
    aesthetician, _ = Group.objects.get_or_create(name=AESTHETICIAN)
    aesthetician.permissions.set(
        permission
        for app_label, codename in wanted
        for permission in Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        )
    )
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGER_APPS))


def create_roles(apps, schema_editor):
    sync_groups(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[AESTHETICIAN, MANAGER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
        ("consultations", "0003_history_versions_voiding_access"),
        ("treatments", "0003_history_versions_voiding"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
