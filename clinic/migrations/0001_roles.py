"""Create the Aesthetician and Manager groups with their permissions.

Everything this needs is written out here as it stood when it ran (clinic/roles.py says what the
roles are today): a migration must replay the same way on an empty database, whatever the code
has become since.
"""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

# (app_label, codename): the clinical records to read, add and correct, the catalogue to read.
AESTHETICIAN_PERMISSIONS = [
    ("consultations", "add_client"),
    ("consultations", "add_consultation"),
    ("consultations", "add_recordedconcern"),
    ("consultations", "change_client"),
    ("consultations", "change_consultation"),
    ("consultations", "change_recordedconcern"),
    ("consultations", "view_client"),
    ("consultations", "view_consultation"),
    ("consultations", "view_recordedconcern"),
    ("treatments", "add_planconcern"),
    ("treatments", "add_sessionarea"),
    ("treatments", "add_sessionproduct"),
    ("treatments", "add_sessionprogress"),
    ("treatments", "add_treatmentplan"),
    ("treatments", "add_treatmentsession"),
    ("treatments", "change_planconcern"),
    ("treatments", "change_sessionarea"),
    ("treatments", "change_sessionproduct"),
    ("treatments", "change_sessionprogress"),
    ("treatments", "change_treatmentplan"),
    ("treatments", "change_treatmentsession"),
    ("treatments", "view_concern"),
    ("treatments", "view_planconcern"),
    ("treatments", "view_product"),
    ("treatments", "view_sessionarea"),
    ("treatments", "view_sessionproduct"),
    ("treatments", "view_sessionprogress"),
    ("treatments", "view_treatmentplan"),
    ("treatments", "view_treatmentsession"),
]

# Managers: every permission of these apps.
MANAGER_APPS = ["consultations", "treatments", "axes", "auth"]


def create_app_permissions(apps, app_labels):
    """Create the apps' content types and permissions for the models of this migration's state.

    Django creates them after `migrate` finishes (post_migrate); the groups need them now. This
    calls the same function as post_migrate, the same way: the installed app's config, the models
    of the migration's `apps`.
    """
    for app_label in app_labels:
        create_permissions(installed_apps.get_app_config(app_label), apps=apps, verbosity=0)


def create_roles(apps, schema_editor):
    create_app_permissions(apps, MANAGER_APPS)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    aesthetician, _ = Group.objects.get_or_create(name=AESTHETICIAN)
    aesthetician.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in AESTHETICIAN_PERMISSIONS
        ]
    )
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGER_APPS))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[AESTHETICIAN, MANAGER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("consultations", "0003_history_versions_voiding_access"),
        ("treatments", "0003_history_versions_voiding"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
