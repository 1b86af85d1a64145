"""Recorded concerns and the screening's affected area keep their area as a key to the area
chart (catalogue.BodyArea), on the same columns and codes. No affected area was stored as "":
it becomes NULL first (and "" again on the way back), so the key finds no missing area."""

import django.db.models.deletion
from django.db import migrations, models

AFFECTED_HELP = (
    "Where an infection, lesion or keloid was found. Leave blank if it affects every area."
)


def blank_to_null(apps, schema_editor):
    db = schema_editor.connection.alias
    for name in ("Consultation", "HistoricalConsultation"):
        model = apps.get_model("consultations", name)
        model.objects.using(db).filter(affected_area="").update(affected_area=None)


def null_to_blank(apps, schema_editor):
    db = schema_editor.connection.alias
    for name in ("Consultation", "HistoricalConsultation"):
        model = apps.get_model("consultations", name)
        model.objects.using(db).filter(affected_area__isnull=True).update(affected_area="")


def nullable_code():
    return models.CharField(max_length=20, blank=True, null=True, help_text=AFFECTED_HELP)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_body_area_chart"),
        ("consultations", "0010_screening_findings_washout_rules_thrombosis"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consultation", name="affected_area", field=nullable_code()
        ),
        migrations.AlterField(
            model_name="historicalconsultation", name="affected_area", field=nullable_code()
        ),
        migrations.RunPython(blank_to_null, null_to_blank),
        migrations.AlterField(
            model_name="consultation",
            name="affected_area",
            field=models.ForeignKey(
                blank=True,
                db_column="affected_area",
                db_index=False,
                help_text=AFFECTED_HELP,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalogue.bodyarea",
                to_field="code",
            ),
        ),
        migrations.AlterField(
            model_name="historicalconsultation",
            name="affected_area",
            field=models.ForeignKey(
                blank=True,
                db_column="affected_area",
                db_constraint=False,
                help_text=AFFECTED_HELP,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="catalogue.bodyarea",
                to_field="code",
            ),
        ),
        migrations.AlterField(
            model_name="historicalrecordedconcern",
            name="area",
            field=models.ForeignKey(
                blank=True,
                db_column="area",
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="catalogue.bodyarea",
                to_field="code",
            ),
        ),
        migrations.AlterField(
            model_name="recordedconcern",
            name="area",
            field=models.ForeignKey(
                db_column="area",
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalogue.bodyarea",
                to_field="code",
            ),
        ),
    ]
