"""Recall contacts move from `consultations` to `treatments`, beside the courses they are
about, keeping their table, audit table, content types and permissions."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

MOVED = ["contactattempt", "historicalcontactattempt"]


def relabel(apps, schema_editor, old, new):
    """Point the moved models' content types (and with them their permissions) at `new`."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if types.filter(app_label=old, model=model).exists():
            # A `migrate` that stopped between the move's steps let post_migrate make an empty
            # twin under the new label: the old one holds the groups' permissions, so it stays.
            types.filter(app_label=new, model=model).delete()
            types.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):
    relabel(apps, schema_editor, "consultations", "treatments")


def move_content_types_back(apps, schema_editor):
    relabel(apps, schema_editor, "treatments", "consultations")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("clinic", "0002_roles_photos_reports"),
        ("consultations", "0009_contact_attempts_moved_to_treatments"),
        ("treatments", "0008_catalogue_moved_to_its_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's picture of the models moves.
            state_operations=[
                migrations.CreateModel(
                    name="HistoricalContactAttempt",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "version",
                            models.PositiveIntegerField(
                                default=1,
                                editable=False,
                                help_text="Raised by every change, so a save based on an older version is refused.",
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("due", "Session due or overdue"),
                                    ("maintenance", "Maintenance after a course"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("contacted", "Contacted, no booking yet"),
                                    ("no_answer", "No answer"),
                                    ("booked", "Booked"),
                                    ("declined", "Declined"),
                                    ("do_not_contact", "Do not contact"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("attempted_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("note", models.TextField(blank=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "client",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="consultations.client",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                help_text="The course the recall is about.",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="treatments.treatmentplan",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical contact attempt",
                        "verbose_name_plural": "historical contact attempts",
                        "db_table": "consultations_historicalcontactattempt",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="ContactAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "version",
                            models.PositiveIntegerField(
                                default=1,
                                editable=False,
                                help_text="Raised by every change, so a save based on an older version is refused.",
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("due", "Session due or overdue"),
                                    ("maintenance", "Maintenance after a course"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("contacted", "Contacted, no booking yet"),
                                    ("no_answer", "No answer"),
                                    ("booked", "Booked"),
                                    ("declined", "Declined"),
                                    ("do_not_contact", "Do not contact"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("attempted_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("note", models.TextField(blank=True)),
                        (
                            "client",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="contact_attempts",
                                to="consultations.client",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                blank=True,
                                help_text="The course the recall is about.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="contact_attempts",
                                to="treatments.treatmentplan",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "consultations_contactattempt",
                        "ordering": ["-attempted_at", "-pk"],
                        "indexes": [
                            models.Index(
                                fields=["client", "attempted_at"], name="contact_client_idx"
                            ),
                            models.Index(fields=["plan", "attempted_at"], name="contact_plan_idx"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
