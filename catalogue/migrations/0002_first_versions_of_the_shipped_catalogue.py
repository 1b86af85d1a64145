"""The concerns and products a migration shipped get their first audit row, so their history
starts where they did: "+", no user, at the time of this migration."""

from django.db import migrations
from django.utils import timezone


def add_first_versions(apps, schema_editor):
    db = schema_editor.connection.alias
    now = timezone.now()
    for name in ("Concern", "Product"):
        model = apps.get_model("catalogue", name)
        history = apps.get_model("catalogue", f"Historical{name}")
        audited = history.objects.using(db).values_list("id", flat=True)
        fields = [field.attname for field in model._meta.concrete_fields]
        history.objects.using(db).bulk_create(
            history(
                **{field: getattr(row, field) for field in fields},
                history_date=now,
                history_type="+",
                history_change_reason="Shipped with the catalogue",
            )
            for row in model.objects.using(db).exclude(pk__in=audited)
        )


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(add_first_versions, migrations.RunPython.noop)]
