"""A course records its planned device and why it departs from the catalogue, and keeps a
planned count per concern (issue 14).

A course started before this planned every one of its sessions for each of its concerns, so that
is each concern's count here, in its audit rows too.
"""

import django.core.validators
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

COUNT_FIELD = models.PositiveSmallIntegerField(
    help_text="The course's sessions, up to the concern's maximum: treatment of the concern stops "
    "there.",
    validators=[
        django.core.validators.MinValueValidator(1),
        django.core.validators.MaxValueValidator(52),
    ],
    verbose_name="planned sessions for this concern",
)


def count_every_session(apps, schema_editor):
    db = schema_editor.connection.alias
    Course = apps.get_model("treatments", "Course")
    planned = Subquery(Course.objects.filter(pk=OuterRef("course_id")).values("planned_sessions"))
    for name in ("CourseConcern", "HistoricalCourseConcern"):
        rows = apps.get_model("treatments", name).objects.using(db)
        rows.filter(planned_sessions__isnull=True).update(planned_sessions=Coalesce(planned, 1))


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0009_contact_attempts_moved_to_treatments"),
        ("treatments", "0011_progress_rating_not_assessed"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="departure_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when the interval is shorter than a concern's shortest, the count passes a concern's maximum, a concern has no established course, or a concern studied with RF micro-needling is planned with another device.",
                verbose_name="why the course departs from the catalogue",
            ),
        ),
        migrations.AddField(
            model_name="course",
            name="device",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pen", "Motorised pen"),
                    ("roller", "Roller"),
                    ("stamp", "Stamp"),
                    ("rf", "Radiofrequency micro-needling"),
                ],
                help_text="The device the course plans to use; rosacea's evidence is for RF micro-needling only.",
                max_length=10,
                verbose_name="planned device",
            ),
        ),
        migrations.AddField(
            model_name="courseconcern",
            name="planned_sessions",
            field=models.PositiveSmallIntegerField(
                help_text="The course's sessions, up to the concern's maximum: treatment of the concern stops there.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(52),
                ],
                verbose_name="planned sessions for this concern",
            ),
        ),
        migrations.AddField(
            model_name="historicalcourse",
            name="departure_reason",
            field=models.TextField(
                blank=True,
                help_text="Required when the interval is shorter than a concern's shortest, the count passes a concern's maximum, a concern has no established course, or a concern studied with RF micro-needling is planned with another device.",
                verbose_name="why the course departs from the catalogue",
            ),
        ),
        migrations.AddField(
            model_name="historicalcourse",
            name="device",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pen", "Motorised pen"),
                    ("roller", "Roller"),
                    ("stamp", "Stamp"),
                    ("rf", "Radiofrequency micro-needling"),
                ],
                help_text="The device the course plans to use; rosacea's evidence is for RF micro-needling only.",
                max_length=10,
                verbose_name="planned device",
            ),
        ),
        migrations.AddField(
            model_name="historicalcourseconcern",
            name="planned_sessions",
            field=models.PositiveSmallIntegerField(
                help_text="The course's sessions, up to the concern's maximum: treatment of the concern stops there.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(52),
                ],
                verbose_name="planned sessions for this concern",
            ),
        ),
        migrations.RunPython(count_every_session, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="courseconcern", name="planned_sessions", field=COUNT_FIELD
        ),
        migrations.AlterField(
            model_name="historicalcourseconcern", name="planned_sessions", field=COUNT_FIELD
        ),
        migrations.AddConstraint(
            model_name="courseconcern",
            constraint=models.CheckConstraint(
                condition=models.Q(("planned_sessions__gte", 1), ("planned_sessions__lte", 52)),
                name="courseconcern_planned_sessions_range",
                violation_error_message="A concern is planned for between 1 and 52 sessions.",
            ),
        ),
    ]
