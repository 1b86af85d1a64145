import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0008_recorded_concern_from_catalogue"),
        ("catalogue", "0001_initial"),
        ("treatments", "0007_session_rows_in_session_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's picture of the models moves.
            state_operations=[
                migrations.DeleteModel(
                    name="Concern",
                ),
                migrations.RemoveField(
                    model_name="historicalproduct",
                    name="history_user",
                ),
                migrations.AlterField(
                    model_name="historicaltreatmentsession",
                    name="numbing",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        limit_choices_to={"kind": "numbing"},
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalogue.product",
                        verbose_name="numbing cream",
                    ),
                ),
                migrations.AlterField(
                    model_name="treatmentsession",
                    name="numbing",
                    field=models.ForeignKey(
                        blank=True,
                        limit_choices_to={"kind": "numbing"},
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="catalogue.product",
                        verbose_name="numbing cream",
                    ),
                ),
                migrations.AlterField(
                    model_name="sessionproduct",
                    name="product",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="uses",
                        to="catalogue.product",
                    ),
                ),
                migrations.DeleteModel(
                    name="HistoricalConcern",
                ),
                migrations.DeleteModel(
                    name="HistoricalProduct",
                ),
                migrations.DeleteModel(
                    name="Product",
                ),
            ],
        ),
    ]
