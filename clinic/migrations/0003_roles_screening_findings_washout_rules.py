"""Give the roles the permissions of screening findings and washout rules: aestheticians record
findings at a consultation and read the rules; managers may do everything with both (and with
their audit rows, as with every model of the app).

As in 0001, what this needs is written out as it stood when it ran.
"""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

AESTHETICIAN_PERMISSIONS = [
    ("consultations", "add_screeningfinding"),
    ("consultations", "change_screeningfinding"),
    ("consultations", "view_screeningfinding"),
    ("consultations", "view_washoutrule"),
]


def grant(apps, schema_editor):
    # Django creates permissions after `migrate` finishes (post_migrate); the groups need them
    # now: the same function, called the same way (see 0002).
    create_permissions(installed_apps.get_app_config("consultations"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    aesthetician, _ = Group.objects.get_or_create(name=AESTHETICIAN)
    aesthetician.permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in AESTHETICIAN_PERMISSIONS
        )
    )
    # Managers: every permission of the app, the new models' audit rows' included.
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.add(*Permission.objects.filter(content_type__app_label="consultations"))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_roles_photos_reports"),
        ("consultations", "0010_screening_findings_washout_rules_thrombosis"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
