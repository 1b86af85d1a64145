"""The writes on the clinic's stock: receiving a lot, quarantining, recalling or releasing it;
and reading a scan into the product and lot it names."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.models import Product
from stock.gs1 import Scan, ScanError, parse_scan
from stock.models import Lot

UNKNOWN_GTIN = (
    "No product has the GTIN {gtin}. A manager adds it to the product in the admin; until "
    "then choose the product by hand."
)
ALREADY_RECEIVED = "Lot {number} of {product} is already in stock: choose it from the list."


@transaction.atomic
def receive_lot(*, product, lot_number, expiry_date, by, received_on=None, quantity=None, notes=""):
    """Record a lot of `product` received into stock; refuses a lot number the product
    already has (in any case)."""
    lot = Lot(
        product=product,
        lot_number=(lot_number or "").strip(),
        expiry_date=expiry_date,
        received_on=received_on or timezone.localdate(),
        quantity=quantity,
        notes=notes.strip(),
    )
    lot.full_clean(validate_constraints=False)
    if Lot.objects.for_product_number(product, lot.lot_number).exists():
        raise ValidationError(
            {"lot_number": ALREADY_RECEIVED.format(number=lot.lot_number, product=product)}
        )
    lot.stamp(by)
    try:
        with transaction.atomic():
            lot.save()
    except IntegrityError:
        # Received at the same moment on another tablet: the lot is in stock all the same.
        raise ValidationError(
            {"lot_number": ALREADY_RECEIVED.format(number=lot.lot_number, product=product)}
        ) from None
    return lot


@transaction.atomic
def change_lot_status(*, lot, status, reason, by):
    """Quarantine, recall or release (back in use) a lot; locked, stamped, with who and when.

    A recalled lot stays recalled: a recall is the manufacturer's word, not the clinic's."""
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    reason = (reason or "").strip()
    if lot.status == Lot.Status.RECALLED:
        raise ValidationError(f"Lot {lot.lot_number} of {lot.product} is recalled: it stays so.")
    if status != Lot.Status.IN_USE and not reason:
        raise ValidationError({"status_reason": "Say why the lot is quarantined or recalled."})
    if status == lot.status:
        return lot
    lot.status = status
    lot.status_reason = reason if status != Lot.Status.IN_USE else ""
    lot.status_changed_at = timezone.now()
    lot.status_changed_by = by
    lot.stamp(by)
    lot.full_clean(validate_constraints=False)
    lot.save()
    return lot


def recall_lot(*, lot, reason, by):
    return change_lot_status(lot=lot, status=Lot.Status.RECALLED, reason=reason, by=by)


@dataclass(frozen=True)
class ScannedLot:
    """A scan read against the clinic's products and stock: the product (by its GTIN), the lot
    when in stock (None: not yet received), and what the label says."""

    scan: Scan
    product: Product
    lot: Lot | None

    def as_json(self):
        lot = self.lot
        return {
            "product": self.product.pk,
            "product_name": self.product.name,
            "lot": lot.pk if lot else None,
            "lot_number": lot.lot_number if lot else self.scan.lot_number,
            "expiry_date": (
                (lot.expiry_date if lot else self.scan.expiry_date).isoformat()
                if (lot and lot.expiry_date) or (not lot and self.scan.expiry_date)
                else ""
            ),
            "serial": self.scan.serial,
            "in_stock": lot is not None,
            "refusal": lot.refusal() if lot else "",
        }


def read_scan(text):
    """The product and lot a scan names; ScanError with a clear message otherwise."""
    scan = parse_scan(text)
    product = Product.objects.filter(gtin=scan.gtin).first()
    if product is None:
        raise ScanError(UNKNOWN_GTIN.format(gtin=scan.gtin))
    lot = Lot.objects.for_product_number(product, scan.lot_number).first()
    return ScannedLot(scan=scan, product=product, lot=lot)
