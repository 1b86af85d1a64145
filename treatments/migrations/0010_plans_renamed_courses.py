"""Treatment plans are called courses in the code too, as they always were on the pages.

Tables, columns, indexes and constraints take the new names; the rows stay. Django renames the
models' content types itself (after each RenameModel); their permissions' codenames are renamed
here, so the groups keep exactly the permissions they had.

The indexes and the unique constraints on the renamed `plan` columns are dropped before the
renames and made again after: SQLite rebuilds a table to rename a foreign key column, and the
rebuild would still look for the `plan` field they name.
"""

from django.conf import settings
from django.db import migrations, models

# (old model name, new model name), historical models included.
RENAMED_MODELS = [
    ("TreatmentPlan", "Course"),
    ("PlanConcern", "CourseConcern"),
    ("HistoricalTreatmentPlan", "HistoricalCourse"),
    ("HistoricalPlanConcern", "HistoricalCourseConcern"),
]
# Models (as named after the renames) whose `plan` field becomes `course`.
COURSE_FIELDS = [
    "TreatmentSession",
    "HistoricalTreatmentSession",
    "CourseConcern",
    "HistoricalCourseConcern",
    "ContactAttempt",
    "HistoricalContactAttempt",
]
ACTIONS = ["add", "change", "delete", "view"]
# Check constraints named after the model: (old name, new name, condition, message).
CHECKS = [
    (
        "plan_planned_sessions_range",
        "course_planned_sessions_range",
        models.Q(planned_sessions__gte=1) & models.Q(planned_sessions__lte=52),
        "A course has between 1 and 52 sessions.",
    ),
    (
        "plan_interval_range",
        "course_interval_range",
        models.Q(interval_weeks__gte=1) & models.Q(interval_weeks__lte=52),
        "The interval is between 1 and 52 weeks.",
    ),
    (
        "plan_stopped_has_reason",
        "course_stopped_has_reason",
        ~models.Q(status="stopped") | ~models.Q(end_reason=""),
        "Say why the course was stopped.",
    ),
    (
        "plan_ended_has_date",
        "course_ended_has_date",
        models.Q(status="active") | models.Q(ended_on__isnull=False),
        None,
    ),
]


def rename_permissions(apps, schema_editor, *, backwards=False):
    """Rename the renamed models' permissions: add_treatmentplan becomes add_course, and so on.

    Their names ("Can add treatment course") come from the verbose names, which did not change;
    they are set as Django makes them all the same. Custom permissions (view_reports) keep theirs.
    """
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(schema_editor.connection.alias)
    for old, new in RENAMED_MODELS:
        # The models have their new names in this migration's state, both ways.
        verbose_name = apps.get_model("treatments", new)._meta.verbose_name_raw
        source, target = (new, old) if backwards else (old, new)
        for action in ACTIONS:
            permissions.filter(
                content_type__app_label="treatments", codename=f"{action}_{source.lower()}"
            ).update(codename=f"{action}_{target.lower()}", name=f"Can {action} {verbose_name}")


def rename_permissions_back(apps, schema_editor):
    rename_permissions(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("consultations", "0009_contact_attempts_moved_to_treatments"),
        ("treatments", "0009_contact_attempts_from_consultations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="treatmentsession", name="session_plan_date_idx"),
        migrations.RemoveConstraint(model_name="treatmentsession", name="session_number_unique"),
        migrations.RemoveIndex(model_name="contactattempt", name="contact_plan_idx"),
        migrations.RemoveConstraint(model_name="planconcern", name="planconcern_once_per_plan"),
        *[migrations.RenameModel(old_name=old, new_name=new) for old, new in RENAMED_MODELS],
        *[
            migrations.RenameField(model_name=model, old_name="plan", new_name="course")
            for model in COURSE_FIELDS
        ],
        # What only Django sees: the reverse accessors and the ordering by the renamed field.
        migrations.AlterField(
            model_name="course",
            name="client",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT,
                related_name="courses",
                to="consultations.client",
            ),
        ),
        migrations.AlterField(
            model_name="course",
            name="consultation",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT,
                related_name="courses",
                to="consultations.consultation",
            ),
        ),
        migrations.AlterField(
            model_name="course",
            name="practitioner",
            field=models.ForeignKey(
                help_text="The practitioner leading the course.",
                on_delete=models.deletion.PROTECT,
                related_name="courses",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="course",
            name="concerns",
            field=models.ManyToManyField(
                related_name="courses",
                through="treatments.CourseConcern",
                to="consultations.recordedconcern",
            ),
        ),
        migrations.AlterField(
            model_name="courseconcern",
            name="course",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT,
                related_name="course_concerns",
                to="treatments.course",
            ),
        ),
        migrations.AlterField(
            model_name="courseconcern",
            name="recorded_concern",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT,
                related_name="course_links",
                to="consultations.recordedconcern",
            ),
        ),
        migrations.AlterModelOptions(
            name="courseconcern",
            options={"ordering": ["course", "pk"], "verbose_name": "concern treated"},
        ),
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(fields=["course", "performed_on"], name="session_course_date_idx"),
        ),
        migrations.AddConstraint(
            model_name="treatmentsession",
            constraint=models.UniqueConstraint(
                fields=("course", "number"), name="session_number_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="contactattempt",
            index=models.Index(fields=["course", "attempted_at"], name="contact_course_idx"),
        ),
        migrations.AddConstraint(
            model_name="courseconcern",
            constraint=models.UniqueConstraint(
                fields=("course", "recorded_concern"), name="courseconcern_once_per_course"
            ),
        ),
        migrations.RenameIndex(
            model_name="course",
            old_name="plan_status_due_idx",
            new_name="course_status_due_idx",
        ),
        migrations.RenameIndex(
            model_name="course",
            old_name="plan_client_status_idx",
            new_name="course_client_status_idx",
        ),
        # Django has no operation to rename a constraint: each is made again under its new name.
        *[
            operation
            for old, new, condition, message in CHECKS
            for operation in (
                migrations.RemoveConstraint(model_name="course", name=old),
                migrations.AddConstraint(
                    model_name="course",
                    constraint=models.CheckConstraint(
                        condition=condition, name=new, violation_error_message=message
                    ),
                ),
            )
        ],
        migrations.RunPython(rename_permissions, rename_permissions_back),
    ]
