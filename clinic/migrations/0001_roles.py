"""Create the Aesthetician and Manager groups with their permissions."""

from django.db import migrations

from clinic import roles


def create_roles(apps, schema_editor):
    roles.sync_groups(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[roles.AESTHETICIAN, roles.MANAGER]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
        ("consultations", "0003_history_versions_voiding_access"),
        ("treatments", "0003_history_versions_voiding"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
