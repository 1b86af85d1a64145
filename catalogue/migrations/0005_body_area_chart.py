"""Body areas become reference data: the area chart (device makers' depth charts, from
shared/domain/MICRONEEDLING.md) with thin- and thick-skin ranges, a hard maximum and the parts
the full face is made of. The codes are those records kept when areas were a fixed list, plus
the nose. Each area gets its first audit row, as the shipped catalogue did (0002)."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

# (code, name, part of, thin skin, thick skin, hard maximum): as the chart stood when shipped.
# Blank ranges: the area spans its parts' (the full face). The chart gives no figures for the
# hands; they ship with the neck's (thin skin there too), for the clinic to review.
THIN_FACE = ("0.25", "0.50")
BODY = (("1.50", "1.50"), ("1.50", "2.00"), "2.50")
CHART = [
    ("face", "Full face", None, None, None, "2.00"),
    ("forehead", "Forehead", "face", THIN_FACE, ("0.50", "0.75"), "0.75"),
    ("periorbital", "Around the eyes", "face", ("0.25", "0.25"), ("0.25", "0.50"), "0.50"),
    ("nose", "Nose", "face", THIN_FACE, ("0.50", "1.00"), "1.00"),
    ("cheeks", "Cheeks and chin", "face", ("0.50", "1.00"), ("1.00", "2.00"), "2.00"),
    ("perioral", "Around the mouth", "face", ("0.25", "0.25"), ("0.25", "0.75"), "0.75"),
    ("neck", "Neck", None, THIN_FACE, ("0.50", "1.00"), "1.00"),
    ("decollete", "Décolleté", None, THIN_FACE, ("0.50", "1.00"), "1.00"),
    ("abdomen", "Abdomen", None, *BODY),
    ("thighs", "Thighs", None, *BODY),
    ("buttocks", "Buttocks", None, *BODY),
    ("arms", "Arms", None, *BODY),
    ("back", "Back", None, *BODY),
    ("hands", "Hands", None, THIN_FACE, ("0.50", "1.00"), "1.00"),
    ("scalp", "Scalp", None, ("1.50", "1.50"), ("1.50", "1.50"), "1.50"),
]


def load_chart(apps, schema_editor):
    db = schema_editor.connection.alias
    BodyArea = apps.get_model("catalogue", "BodyArea")
    History = apps.get_model("catalogue", "HistoricalBodyArea")
    now = timezone.now()
    areas = {}
    for position, (code, name, parent, thin, thick, maximum) in enumerate(CHART, start=1):
        thin, thick = thin or (None, None), thick or (None, None)
        areas[code], _ = BodyArea.objects.using(db).get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": areas[parent] if parent else None,
                "thin_min_mm": thin[0] and Decimal(thin[0]),
                "thin_max_mm": thin[1] and Decimal(thin[1]),
                "thick_min_mm": thick[0] and Decimal(thick[0]),
                "thick_max_mm": thick[1] and Decimal(thick[1]),
                "max_mm": Decimal(maximum),
                "position": position * 10,
            },
        )
    audited = History.objects.using(db).values_list("id", flat=True)
    fields = [field.attname for field in BodyArea._meta.concrete_fields]
    History.objects.using(db).bulk_create(
        History(
            **{field: getattr(area, field) for field in fields},
            history_date=now,
            history_type="+",
            history_change_reason="Shipped with the area chart",
        )
        for area in BodyArea.objects.using(db).exclude(pk__in=audited).order_by("pk")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0004_catalogue_corrected_against_the_sources"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BodyArea",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.SlugField(
                        help_text="The short name records keep; it cannot change once the area is saved.",
                        max_length=20,
                        unique=True,
                    ),
                ),
                ("name", models.CharField(max_length=60, unique=True)),
                (
                    "thin_min_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thin skin from (mm)",
                    ),
                ),
                (
                    "thin_max_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thin skin to (mm)",
                    ),
                ),
                (
                    "thick_min_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thick skin from (mm)",
                    ),
                ),
                (
                    "thick_max_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thick skin to (mm)",
                    ),
                ),
                (
                    "max_mm",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="Deeper than this, the practitioner must record why.",
                        max_digits=3,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="hard maximum (mm)",
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="Where the area comes in lists (smallest first).",
                        verbose_name="order",
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        help_text="The larger area this one belongs to (the cheeks belong to the full face).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="parts",
                        to="catalogue.bodyarea",
                        verbose_name="part of",
                    ),
                ),
            ],
            options={
                "verbose_name": "body area",
                "ordering": ["position", "name"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalBodyArea",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.SlugField(
                        help_text="The short name records keep; it cannot change once the area is saved.",
                        max_length=20,
                    ),
                ),
                ("name", models.CharField(db_index=True, max_length=60)),
                (
                    "thin_min_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thin skin from (mm)",
                    ),
                ),
                (
                    "thin_max_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thin skin to (mm)",
                    ),
                ),
                (
                    "thick_min_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thick skin from (mm)",
                    ),
                ),
                (
                    "thick_max_mm",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=3,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="thick skin to (mm)",
                    ),
                ),
                (
                    "max_mm",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="Deeper than this, the practitioner must record why.",
                        max_digits=3,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0.25")),
                            django.core.validators.MaxValueValidator(Decimal("3.00")),
                        ],
                        verbose_name="hard maximum (mm)",
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="Where the area comes in lists (smallest first).",
                        verbose_name="order",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
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
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The larger area this one belongs to (the cheeks belong to the full face).",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalogue.bodyarea",
                        verbose_name="part of",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical body area",
                "verbose_name_plural": "historical body areas",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddConstraint(
            model_name="bodyarea",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("max_mm__gte", Decimal("0.25")), ("max_mm__lte", Decimal("3.00"))
                ),
                name="bodyarea_max_range",
                violation_error_message="The hard maximum lies in 0.25-3.0 mm.",
            ),
        ),
        migrations.AddConstraint(
            model_name="bodyarea",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("thin_max_mm__isnull", True), ("thin_min_mm__isnull", True)),
                    models.Q(
                        ("thin_min_mm__gte", Decimal("0.25")),
                        ("thin_max_mm__gte", models.F("thin_min_mm")),
                        ("thin_max_mm__lte", models.F("max_mm")),
                    ),
                    _connector="OR",
                ),
                name="bodyarea_thin_range",
                violation_error_message="The thin-skin range runs from 0.25 mm up to the hard maximum.",
            ),
        ),
        migrations.AddConstraint(
            model_name="bodyarea",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("thick_max_mm__isnull", True), ("thick_min_mm__isnull", True)),
                    models.Q(
                        ("thick_min_mm__gte", Decimal("0.25")),
                        ("thick_max_mm__gte", models.F("thick_min_mm")),
                        ("thick_max_mm__lte", models.F("max_mm")),
                    ),
                    _connector="OR",
                ),
                name="bodyarea_thick_range",
                violation_error_message="The thick-skin range runs from 0.25 mm up to the hard maximum.",
            ),
        ),
        # Back: the table goes with its rows (deleting them first would leave PostgreSQL deferred
        # key checks pending on the table it then alters).
        migrations.RunPython(load_chart, migrations.RunPython.noop),
    ]
