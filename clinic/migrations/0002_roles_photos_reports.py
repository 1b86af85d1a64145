"""Give the roles the permissions of photos, recall contacts and the managers' reports."""

from django.db import migrations

from clinic import roles


def sync(apps, schema_editor):
    roles.sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_roles"),
        ("consultations", "0004_photos_recall_reports"),
        ("treatments", "0004_photos_recall_reports"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
