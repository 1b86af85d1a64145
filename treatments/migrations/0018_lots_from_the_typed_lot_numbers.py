"""Every lot number typed on a session before the clinic kept stock becomes a lot of its product,
and the sessions point at it.

Such a lot's expiry was never recorded: it stays empty, the lot is marked "recorded before
stock", and it is never offered as in date (a practitioner receives the pack in hand as a new
lot). Lot numbers that differ only in case are one lot, spelt as first recorded. The typed text
stays on each session's row, for its history.
"""

from django.db import migrations


def lots_from_typed_numbers(apps, schema_editor):
    SessionProduct = apps.get_model("treatments", "SessionProduct")
    Lot = apps.get_model("stock", "Lot")
    groups = {}
    for pk, product_id, number in (
        SessionProduct.objects.filter(lot__isnull=True)
        .order_by("pk")
        .values_list("pk", "product_id", "lot_number")
    ):
        key = (product_id, number.strip().upper())
        groups.setdefault(key, {"number": number.strip(), "rows": []})["rows"].append(pk)
    for (product_id, upper), group in groups.items():
        lot = Lot.objects.filter(product_id=product_id, lot_number__iexact=upper).first()
        if lot is None:
            lot = Lot.objects.create(
                product_id=product_id,
                lot_number=group["number"],
                expiry_date=None,
                received_on=None,
                recorded_before_stock=True,
                status="in_use",
            )
        rows = group["rows"]
        for start in range(0, len(rows), 500):
            SessionProduct.objects.filter(pk__in=rows[start : start + 500]).update(lot=lot)


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0001_lots"),
        ("treatments", "0017_lots_adverse_events_follow_up_calls"),
    ]

    operations = [
        migrations.RunPython(lots_from_typed_numbers, migrations.RunPython.noop),
    ]
