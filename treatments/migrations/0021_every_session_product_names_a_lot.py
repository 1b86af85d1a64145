"""Every session product names its lot, now that 0018 gave each typed lot number one.

Apart from 0018: PostgreSQL refuses to alter a table in the transaction that just wrote rows
pointing at it ("pending trigger events")."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0001_lots"),
        ("treatments", "0020_free_text_length_limits"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sessionproduct",
            name="lot",
            field=models.ForeignKey(
                help_text="The lot from stock, so a manufacturer recall can be traced.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="uses",
                to="stock.lot",
            ),
        ),
    ]
