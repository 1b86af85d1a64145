import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("consultations", "0007_client_search_one_trigram_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's picture of the models moves.
            state_operations=[
                migrations.AlterField(
                    model_name="historicalrecordedconcern",
                    name="concern",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalogue.concern",
                    ),
                ),
                migrations.AlterField(
                    model_name="recordedconcern",
                    name="concern",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recorded",
                        to="catalogue.concern",
                    ),
                ),
            ],
        ),
    ]
