from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0008_recorded_concern_from_catalogue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's picture of the models moves.
            state_operations=[
                migrations.RemoveField(
                    model_name="historicalcontactattempt",
                    name="client",
                ),
                migrations.RemoveField(
                    model_name="historicalcontactattempt",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="historicalcontactattempt",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalcontactattempt",
                    name="plan",
                ),
                migrations.RemoveField(
                    model_name="historicalcontactattempt",
                    name="updated_by",
                ),
                migrations.DeleteModel(
                    name="ContactAttempt",
                ),
                migrations.DeleteModel(
                    name="HistoricalContactAttempt",
                ),
            ],
        ),
    ]
