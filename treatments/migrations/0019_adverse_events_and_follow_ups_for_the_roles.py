"""Give the roles the permissions of adverse events and follow-up calls: aestheticians view, add
and change them (never delete); managers may do everything with them and their audit rows.

As in clinic's role migrations, what this needs is written out as it stood when it ran.
"""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

AESTHETICIAN_PERMISSIONS = [
    ("treatments", f"{action}_{model}")
    for model in ("adverseevent", "followupcall")
    for action in ("view", "add", "change")
]


def grant(apps, schema_editor):
    create_permissions(installed_apps.get_app_config("treatments"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    aesthetician, _ = Group.objects.get_or_create(name=AESTHETICIAN)
    aesthetician.permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in AESTHETICIAN_PERMISSIONS
        )
    )
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.add(*Permission.objects.filter(content_type__app_label="treatments"))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0004_submissions_saved_once"),
        ("treatments", "0018_lots_from_the_typed_lot_numbers"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
