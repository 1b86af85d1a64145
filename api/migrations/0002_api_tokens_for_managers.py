"""Managers issue and revoke API tokens (the admin never deletes them). As the catalogue's role
migrations do, what this needs is written out as it stood when it ran."""

from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGER = "Manager"
# Every permission of the app, as managers have for every app they keep; the admin never
# deletes a token (it is revoked).
CODENAMES = ["add_apitoken", "change_apitoken", "delete_apitoken", "view_apitoken"]


def permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="api", codename__in=CODENAMES)


def give(apps, schema_editor):
    create_permissions(installed_apps.get_app_config("api"), apps=apps, verbosity=0)
    group = apps.get_model("auth", "Group").objects.filter(name=MANAGER).first()
    if group is not None:
        group.permissions.add(*permissions(apps))


def take_back(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=MANAGER).first()
    if group is not None:
        group.permissions.remove(*permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_api_tokens"),
        ("clinic", "0004_submissions_saved_once"),
    ]

    operations = [migrations.RunPython(give, take_back)]
