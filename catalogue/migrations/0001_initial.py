"""The catalogue moves from `treatments` into its own app, keeping its tables (and their
history tables), its content types and so its permissions and admin log entries."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

MOVED = ["concern", "historicalconcern", "product", "historicalproduct"]


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
    relabel(apps, schema_editor, "treatments", "catalogue")


def move_content_types_back(apps, schema_editor):
    relabel(apps, schema_editor, "catalogue", "treatments")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clinic", "0002_roles_photos_reports"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("treatments", "0007_session_rows_in_session_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's picture of the models moves.
            state_operations=[
                migrations.CreateModel(
                    name="Product",
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
                        ("name", models.CharField(max_length=150, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("serum", "Serum"),
                                    ("numbing", "Numbing cream"),
                                    ("aftercare", "Aftercare"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("active_ingredient", models.CharField(blank=True, max_length=200)),
                        (
                            "approved_for_needling",
                            models.BooleanField(
                                default=True,
                                help_text="Only serums made for needling belong on open skin (granulomas are reported after other vitamin C serums).",
                            ),
                        ),
                        (
                            "in_use",
                            models.BooleanField(
                                default=True, help_text="Offered when logging a session."
                            ),
                        ),
                        ("notes", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "treatments_product",
                        "ordering": ["kind", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="Concern",
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
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("slug", models.SlugField(max_length=100, unique=True)),
                        (
                            "summary",
                            models.CharField(
                                help_text="One line for lists and pickers.", max_length=200
                            ),
                        ),
                        (
                            "benefit",
                            models.TextField(
                                help_text="Plain words a client understands, honest about the evidence.",
                                verbose_name="what micro-needling can do",
                            ),
                        ),
                        (
                            "evidence_summary",
                            models.TextField(
                                help_text="What clinics claim beside what published studies show.",
                                verbose_name="claims and evidence",
                            ),
                        ),
                        (
                            "evidence_level",
                            models.CharField(
                                choices=[
                                    ("very_low", "Very low"),
                                    ("low", "Low"),
                                    ("low_moderate", "Low to moderate"),
                                    ("moderate", "Moderate"),
                                    ("high", "High"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "sources",
                            models.TextField(
                                blank=True, help_text="Studies and reviews behind the figures."
                            ),
                        ),
                        (
                            "sessions_min",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="typical sessions (min)"
                            ),
                        ),
                        (
                            "sessions_typical",
                            models.PositiveSmallIntegerField(
                                blank=True,
                                help_text="The course length most studies used; suggested as the planned count.",
                                null=True,
                                verbose_name="usual course length",
                            ),
                        ),
                        (
                            "sessions_max",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="typical sessions (max)"
                            ),
                        ),
                        (
                            "sessions_note",
                            models.CharField(
                                blank=True,
                                help_text="Where the range comes from, e.g. a clinic's figure beside the studies'.",
                                max_length=300,
                            ),
                        ),
                        (
                            "interval_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="usual interval (weeks)"
                            ),
                        ),
                        (
                            "interval_min_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="shortest interval (weeks)"
                            ),
                        ),
                        (
                            "interval_max_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="longest interval (weeks)"
                            ),
                        ),
                        (
                            "depth_min_mm",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                max_digits=3,
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0.25")),
                                    django.core.validators.MaxValueValidator(Decimal("3.00")),
                                ],
                                verbose_name="needle depth from (mm)",
                            ),
                        ),
                        (
                            "depth_max_mm",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                max_digits=3,
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0.25")),
                                    django.core.validators.MaxValueValidator(Decimal("3.00")),
                                ],
                                verbose_name="needle depth to (mm)",
                            ),
                        ),
                        (
                            "depth_guidance",
                            models.TextField(blank=True, verbose_name="needle depth guidance"),
                        ),
                        (
                            "cautions",
                            models.TextField(
                                blank=True, help_text="Shown whenever this concern is recorded."
                            ),
                        ),
                        (
                            "combinations",
                            models.TextField(
                                blank=True,
                                help_text="Treatments often paired with needling.",
                                verbose_name="combination options",
                            ),
                        ),
                        (
                            "scar_concern",
                            models.BooleanField(
                                default=False,
                                help_text="A scar concern: keloid tendency triggers a caution.",
                            ),
                        ),
                        (
                            "pigment_concern",
                            models.BooleanField(
                                default=False,
                                help_text="A pigment concern: extra caution on Fitzpatrick IV-VI skin.",
                            ),
                        ),
                        (
                            "inflammatory_concern",
                            models.BooleanField(
                                default=False,
                                help_text="Active inflammation (acne, rosacea): needling may spread or flare it.",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "treatments_concern",
                        "ordering": ["name"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(
                                        ("sessions_min__isnull", True),
                                        ("sessions_max__isnull", True),
                                        ("sessions_typical__isnull", True),
                                    ),
                                    models.Q(
                                        ("sessions_min__gte", 1),
                                        ("sessions_max__gte", models.F("sessions_min")),
                                        ("sessions_typical__gte", models.F("sessions_min")),
                                        ("sessions_typical__lte", models.F("sessions_max")),
                                    ),
                                    _connector="OR",
                                ),
                                name="concern_sessions_ordered",
                                violation_error_message="Sessions must satisfy 1 <= min <= usual <= max.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(
                                        ("interval_weeks__isnull", True),
                                        ("interval_min_weeks__isnull", True),
                                        ("interval_max_weeks__isnull", True),
                                    ),
                                    models.Q(
                                        ("interval_min_weeks__gte", 1),
                                        ("interval_weeks__gte", models.F("interval_min_weeks")),
                                        ("interval_max_weeks__gte", models.F("interval_weeks")),
                                    ),
                                    _connector="OR",
                                ),
                                name="concern_interval_ordered",
                                violation_error_message="Intervals must satisfy 1 <= shortest <= usual <= longest.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(
                                        ("depth_min_mm__isnull", True),
                                        ("depth_max_mm__isnull", True),
                                    ),
                                    models.Q(
                                        ("depth_min_mm__gte", Decimal("0.25")),
                                        ("depth_max_mm__gte", models.F("depth_min_mm")),
                                        ("depth_max_mm__lte", Decimal("3.00")),
                                    ),
                                    _connector="OR",
                                ),
                                name="concern_depth_ordered",
                                violation_error_message="Depths must lie in 0.25-3.0 mm with from <= to.",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalConcern",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(db_index=True, max_length=100)),
                        ("slug", models.SlugField(max_length=100)),
                        (
                            "summary",
                            models.CharField(
                                help_text="One line for lists and pickers.", max_length=200
                            ),
                        ),
                        (
                            "benefit",
                            models.TextField(
                                help_text="Plain words a client understands, honest about the evidence.",
                                verbose_name="what micro-needling can do",
                            ),
                        ),
                        (
                            "evidence_summary",
                            models.TextField(
                                help_text="What clinics claim beside what published studies show.",
                                verbose_name="claims and evidence",
                            ),
                        ),
                        (
                            "evidence_level",
                            models.CharField(
                                choices=[
                                    ("very_low", "Very low"),
                                    ("low", "Low"),
                                    ("low_moderate", "Low to moderate"),
                                    ("moderate", "Moderate"),
                                    ("high", "High"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "sources",
                            models.TextField(
                                blank=True, help_text="Studies and reviews behind the figures."
                            ),
                        ),
                        (
                            "sessions_min",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="typical sessions (min)"
                            ),
                        ),
                        (
                            "sessions_typical",
                            models.PositiveSmallIntegerField(
                                blank=True,
                                help_text="The course length most studies used; suggested as the planned count.",
                                null=True,
                                verbose_name="usual course length",
                            ),
                        ),
                        (
                            "sessions_max",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="typical sessions (max)"
                            ),
                        ),
                        (
                            "sessions_note",
                            models.CharField(
                                blank=True,
                                help_text="Where the range comes from, e.g. a clinic's figure beside the studies'.",
                                max_length=300,
                            ),
                        ),
                        (
                            "interval_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="usual interval (weeks)"
                            ),
                        ),
                        (
                            "interval_min_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="shortest interval (weeks)"
                            ),
                        ),
                        (
                            "interval_max_weeks",
                            models.PositiveSmallIntegerField(
                                blank=True, null=True, verbose_name="longest interval (weeks)"
                            ),
                        ),
                        (
                            "depth_min_mm",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                max_digits=3,
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0.25")),
                                    django.core.validators.MaxValueValidator(Decimal("3.00")),
                                ],
                                verbose_name="needle depth from (mm)",
                            ),
                        ),
                        (
                            "depth_max_mm",
                            models.DecimalField(
                                blank=True,
                                decimal_places=2,
                                max_digits=3,
                                null=True,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0.25")),
                                    django.core.validators.MaxValueValidator(Decimal("3.00")),
                                ],
                                verbose_name="needle depth to (mm)",
                            ),
                        ),
                        (
                            "depth_guidance",
                            models.TextField(blank=True, verbose_name="needle depth guidance"),
                        ),
                        (
                            "cautions",
                            models.TextField(
                                blank=True, help_text="Shown whenever this concern is recorded."
                            ),
                        ),
                        (
                            "combinations",
                            models.TextField(
                                blank=True,
                                help_text="Treatments often paired with needling.",
                                verbose_name="combination options",
                            ),
                        ),
                        (
                            "scar_concern",
                            models.BooleanField(
                                default=False,
                                help_text="A scar concern: keloid tendency triggers a caution.",
                            ),
                        ),
                        (
                            "pigment_concern",
                            models.BooleanField(
                                default=False,
                                help_text="A pigment concern: extra caution on Fitzpatrick IV-VI skin.",
                            ),
                        ),
                        (
                            "inflammatory_concern",
                            models.BooleanField(
                                default=False,
                                help_text="Active inflammation (acne, rosacea): needling may spread or flare it.",
                            ),
                        ),
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
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical concern",
                        "verbose_name_plural": "historical concerns",
                        "db_table": "treatments_historicalconcern",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalProduct",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(db_index=True, max_length=150)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("serum", "Serum"),
                                    ("numbing", "Numbing cream"),
                                    ("aftercare", "Aftercare"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("active_ingredient", models.CharField(blank=True, max_length=200)),
                        (
                            "approved_for_needling",
                            models.BooleanField(
                                default=True,
                                help_text="Only serums made for needling belong on open skin (granulomas are reported after other vitamin C serums).",
                            ),
                        ),
                        (
                            "in_use",
                            models.BooleanField(
                                default=True, help_text="Offered when logging a session."
                            ),
                        ),
                        ("notes", models.TextField(blank=True)),
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
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical product",
                        "verbose_name_plural": "historical products",
                        "db_table": "treatments_historicalproduct",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
