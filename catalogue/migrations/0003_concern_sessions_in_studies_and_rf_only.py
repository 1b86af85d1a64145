"""Concerns keep the range of sessions published studies used beside the one clinics quote, and
say when the evidence is for RF micro-needling only (rosacea)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0002_first_versions_of_the_shipped_catalogue"),
    ]

    operations = [
        migrations.AddField(
            model_name="concern",
            name="rf_only",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="The studies used radiofrequency micro-needling (rosacea): a course records an RF device, or why it uses another.",
                verbose_name="evidence for RF micro-needling only",
            ),
        ),
        migrations.AddField(
            model_name="concern",
            name="studied_sessions_max",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="sessions in studies (max)"
            ),
        ),
        migrations.AddField(
            model_name="concern",
            name="studied_sessions_min",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="The fewest sessions the published studies gave; empty when none was published.",
                null=True,
                verbose_name="sessions in studies (min)",
            ),
        ),
        migrations.AddField(
            model_name="historicalconcern",
            name="rf_only",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="The studies used radiofrequency micro-needling (rosacea): a course records an RF device, or why it uses another.",
                verbose_name="evidence for RF micro-needling only",
            ),
        ),
        migrations.AddField(
            model_name="historicalconcern",
            name="studied_sessions_max",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="sessions in studies (max)"
            ),
        ),
        migrations.AddField(
            model_name="historicalconcern",
            name="studied_sessions_min",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="The fewest sessions the published studies gave; empty when none was published.",
                null=True,
                verbose_name="sessions in studies (min)",
            ),
        ),
        migrations.AddConstraint(
            model_name="concern",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("studied_sessions_min__isnull", True),
                        ("studied_sessions_max__isnull", True),
                    ),
                    models.Q(
                        ("studied_sessions_min__gte", 1),
                        ("studied_sessions_max__gte", models.F("studied_sessions_min")),
                    ),
                    _connector="OR",
                ),
                name="concern_studied_sessions_ordered",
                violation_error_message="Sessions in studies must satisfy 1 <= min <= max.",
            ),
        ),
    ]
