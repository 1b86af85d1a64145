"""The roles get the appointments' permissions: aestheticians view, book and change them (as for
every clinical record), managers keep them (every permission, their audit rows' too). As in the
catalogue's 0008, what this needs is written out as it stood when it ran."""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"
MODELS = ("appointment", "historicalappointment")
EVERY = [f"{action}_{model}" for model in MODELS for action in ("add", "change", "delete", "view")]
CLINICAL = [f"{action}_appointment" for action in ("add", "change", "view")]


def permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="treatments", content_type__model__in=MODELS, codename__in=codenames
    )


def give(apps, schema_editor):
    # Django creates them after `migrate` finishes (post_migrate); the groups need them now.
    create_permissions(installed_apps.get_app_config("treatments"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for name, codenames in [(MANAGER, EVERY), (AESTHETICIAN, CLINICAL)]:
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*permissions(apps, codenames))


def take_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=[MANAGER, AESTHETICIAN]):
        group.permissions.remove(*permissions(apps, EVERY))


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0015_appointments"),
        ("clinic", "0004_submissions_saved_once"),
    ]

    operations = [migrations.RunPython(give, take_back)]
