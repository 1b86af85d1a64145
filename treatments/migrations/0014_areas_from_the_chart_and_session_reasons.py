"""Sessions' areas and photos keep their area as a key to the area chart (catalogue.BodyArea),
on the same columns and codes; a session keeps why it went deeper than an area's maximum and
why it came sooner than its course's interval."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_body_area_chart"),
        ("treatments", "0013_pre_session_check_and_override_areas"),
        ("consultations", "0011_areas_from_the_chart"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="photo",
            options={"ordering": ["area_id", "angle", "taken_on", "pk"]},
        ),
        migrations.AddField(
            model_name="historicaltreatmentsession",
            name="depth_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when an area is needled deeper than the area chart's maximum.",
                verbose_name="why deeper than the area's maximum",
            ),
        ),
        migrations.AddField(
            model_name="historicaltreatmentsession",
            name="interval_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when the session comes sooner than the course's interval allows.",
                verbose_name="why sooner than the course's interval",
            ),
        ),
        migrations.AddField(
            model_name="treatmentsession",
            name="depth_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when an area is needled deeper than the area chart's maximum.",
                verbose_name="why deeper than the area's maximum",
            ),
        ),
        migrations.AddField(
            model_name="treatmentsession",
            name="interval_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when the session comes sooner than the course's interval allows.",
                verbose_name="why sooner than the course's interval",
            ),
        ),
        migrations.AlterField(
            model_name="historicalphoto",
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
            model_name="photo",
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
        migrations.AlterField(
            model_name="sessionarea",
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
