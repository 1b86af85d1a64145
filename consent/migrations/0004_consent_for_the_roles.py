"""The roles get consent's permissions: managers every one (documents, versions, consents and
their audit rows); aestheticians read the documents, and record and withdraw consents (add and
change: a signed consent's only change is its withdrawal). As in the other role migrations,
what this needs is written out as it stood when it ran."""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"
AESTHETICIAN_CODENAMES = [
    "view_consentdocument",
    "view_consentversion",
    "view_signedconsent",
    "add_signedconsent",
    "change_signedconsent",
]


def give(apps, schema_editor):
    # Django creates them after `migrate` finishes (post_migrate); the groups need them now.
    create_permissions(installed_apps.get_app_config("consent"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label="consent")
    manager = Group.objects.filter(name=MANAGER).first()
    if manager is not None:
        manager.permissions.add(*ours)
    aesthetician = Group.objects.filter(name=AESTHETICIAN).first()
    if aesthetician is not None:
        aesthetician.permissions.add(*ours.filter(codename__in=AESTHETICIAN_CODENAMES))


def take_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label="consent")
    for group in Group.objects.filter(name__in=[MANAGER, AESTHETICIAN]):
        group.permissions.remove(*ours)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_tick_box_consent_recorded_before_signing"),
        ("clinic", "0004_submissions_saved_once"),
    ]

    operations = [migrations.RunPython(give, take_back)]
