"""Give the roles the lots' permissions: aestheticians see lots and receive one on the spot while
logging a session; managers may do everything with lots (and with their audit rows).

As in clinic's role migrations, what this needs is written out as it stood when it ran.
"""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

AESTHETICIAN_PERMISSIONS = [("stock", "view_lot"), ("stock", "receive_lot")]


def grant(apps, schema_editor):
    # Django creates permissions after `migrate` finishes (post_migrate); the groups need them
    # now.
    create_permissions(installed_apps.get_app_config("stock"), apps=apps, verbosity=0)
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
    manager.permissions.add(*Permission.objects.filter(content_type__app_label="stock"))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0004_submissions_saved_once"),
        ("stock", "0001_lots"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
