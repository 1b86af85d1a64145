"""The demo's stock: products with their GTINs (so a scan finds them), lots with expiries (a few
expiring soon), one lot recalled with its recipients being called, and a few adverse events
traced to it.

Runs after the demo year is logged: the sessions name the lots `year.lot_for` received.
"""

import datetime

from catalogue.models import Product, gtin_14
from reports.recall import record_contact_attempt
from stock.models import Lot
from stock.services import recall_lot, receive_lot
from treatments.aftercare import record_adverse_event
from treatments.models import ContactAttempt, SessionProduct

# GTIN-13s on the demo's packs (GS1's range for examples, 950 prefix); the check digit is
# worked out (catalogue.models.gtin_14 checks it).
GTINS = {
    "ha": "950600013435",
    "vitc": "950600013436",
    "peptide": "950600013437",
    "txa": "950600013438",
    "lidocaine": "950600013439",
    "lidocaine_prilocaine": "950600013440",
    "spf": "950600013441",
}
NEEDLES = "Needle cartridge, 12 pin (demo)"
NEEDLES_GTIN = "950600013442"
# The lot recalled by its manufacturer, and why; the clients who received it after the
# adverse events it is tied to are being called.
RECALLED = ("peptide", "PP-2291")
RECALL_NOTICE = "Manufacturer's field safety notice FSN-2291: sterility of the lot not assured."


def check_digit(digits):
    """The GS1 check digit of `digits` (the GTIN without it)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def with_check_digit(digits):
    return gtin_14(digits + check_digit(digits))


def add_demo_stock(demo):
    for key, digits in GTINS.items():
        product = demo.products.get(key)
        if product is not None and not product.gtin:
            product.gtin = with_check_digit(digits)
            product.save(update_fields=["gtin"])
    needles, _ = Product.objects.get_or_create(
        name=NEEDLES,
        defaults={"kind": Product.Kind.NEEDLES, "gtin": with_check_digit(NEEDLES_GTIN)},
    )
    # A box of cartridges received last week, and a serum lot not opened yet.
    receive_lot(
        product=needles,
        lot_number="NC-5512",
        expiry_date=demo.today + datetime.timedelta(days=720),
        received_on=demo.days_ago(7),
        quantity=50,
        by=demo.manager,
    )
    if "ha" in demo.products:
        receive_lot(
            product=demo.products["ha"],
            lot_number="HA-42650",
            expiry_date=demo.today + datetime.timedelta(days=540),
            received_on=demo.days_ago(3),
            quantity=20,
            by=demo.manager,
        )
    recall_the_lot(demo)


def recall_the_lot(demo):
    key, number = RECALLED
    if key not in demo.products:
        return
    lot = Lot.objects.for_product_number(demo.products[key], number).first()
    if lot is None:
        return
    uses = list(
        SessionProduct.objects.filter(lot=lot, session__voided_at__isnull=True)
        .select_related("session__course__client")
        .order_by("session__performed_on", "pk")
    )
    # Two reactions after sessions with the lot: what made the clinic ask the manufacturer.
    for use, (kind, severity, outcome) in zip(
        uses[::7][:2],
        (("swelling", "moderate", "resolved"), ("infection", "mild", "resolved")),
        strict=False,
    ):
        session = use.session
        onset = min(session.performed_on + datetime.timedelta(days=2), demo.today)
        record_adverse_event(
            session=session,
            by=session.practitioner,
            kind=kind,
            severity=severity,
            onset_on=onset,
            action_taken="Cold compresses and aftercare reviewed; seen again after a week.",
            outcome=outcome,
            resolved_on=min(onset + datetime.timedelta(days=9), demo.today),
            reported_by="follow_up",
        )
    recall_lot(lot=lot, reason=RECALL_NOTICE, by=demo.manager)
    # The first recipients have been called; the others are still on the lot report's list.
    for use in uses[:2]:
        record_contact_attempt(
            client=use.session.course.client,
            course=None,
            reason=ContactAttempt.Reason.LOT_RECALL,
            outcome=ContactAttempt.Outcome.CONTACTED,
            note="Told about the recall; no reaction since.",
            lot=lot,
            by=demo.manager,
        )
