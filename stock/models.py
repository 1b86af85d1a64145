"""The clinic's stock: lots of its products, with their expiry and status.

A lot belongs to a product of the catalogue. Sessions (treatments) name the lot they used, so a
manufacturer's recall finds every client who received it. Nothing here knows about clients.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Product
from clinic.models import Stamped


class LotQuerySet(models.QuerySet):
    def usable(self, on=None):
        """Lots a session on `on` (today) may use: in use, with an expiry on or after that day.
        A lot recorded before the clinic kept stock has no known expiry and is never offered."""
        on = on or timezone.localdate()
        return self.filter(status=Lot.Status.IN_USE, expiry_date__gte=on)

    def expiring(self, *, today=None, days=None):
        """Lots in use whose expiry falls within `days` (LOT_EXPIRY_WARNING_DAYS) of `today`,
        those already expired included: what the managers should take off the shelf soon."""
        today = today or timezone.localdate()
        days = settings.LOT_EXPIRY_WARNING_DAYS if days is None else days
        return self.filter(
            status=Lot.Status.IN_USE,
            expiry_date__lte=today + datetime.timedelta(days=days),
        )

    def for_product_number(self, product, lot_number):
        """The lot of `product` numbered `lot_number`, whatever the case as typed."""
        return self.filter(product=product, lot_number__iexact=lot_number.strip())


class Lot(Stamped):
    """A lot (batch) of a product the clinic has in stock, as printed on the pack."""

    class Status(models.TextChoices):
        IN_USE = "in_use", "In use"
        QUARANTINED = "quarantined", "Quarantined"
        RECALLED = "recalled", "Recalled"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(
        max_length=50, help_text="As printed on the pack (GS1 application identifier 10)."
    )
    expiry_date = models.DateField(
        null=True,
        blank=True,
        help_text="Use by (AI 17). Empty only for lots recorded before the clinic kept stock: "
        "their expiry is unknown and they are never offered as in date.",
    )
    received_on = models.DateField(
        "date received", null=True, blank=True, default=timezone.localdate
    )
    quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units received (optional)."
    )
    recorded_before_stock = models.BooleanField(
        default=False,
        editable=False,
        help_text="Made from a lot number typed on a session before the clinic kept stock.",
    )
    status = models.CharField(max_length=12, choices=Status, default=Status.IN_USE)
    status_reason = models.TextField(
        "reason",
        blank=True,
        help_text="Why the lot was quarantined or recalled (the recall notice's reference).",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    notes = models.TextField(blank=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "expiry_date", "lot_number"]
        permissions = [("receive_lot", "Can receive a lot on the spot while logging a session")]
        indexes = [
            # "in-date lots in use for this product", read by every session form.
            models.Index(
                fields=["product", "status", "expiry_date"], name="lot_product_usable_idx"
            ),
            models.Index(fields=["status", "expiry_date"], name="lot_status_expiry_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                "product",
                Upper("lot_number"),
                name="lot_number_once_per_product",
                violation_error_message="This product already has a lot with this number.",
            ),
            models.CheckConstraint(condition=~Q(lot_number=""), name="lot_number_given"),
            models.CheckConstraint(
                condition=Q(status="in_use") | ~Q(status_reason=""),
                name="lot_blocked_has_reason",
                violation_error_message="Say why the lot is quarantined or recalled.",
            ),
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=False) | Q(recorded_before_stock=True),
                name="lot_expiry_given",
                violation_error_message="Give the lot's expiry date.",
            ),
        ]

    def __str__(self):
        return f"{self.product} lot {self.lot_number}"

    def get_absolute_url(self):
        return reverse("stock:lot-list") + f"#lot-{self.pk}"

    @property
    def expiry_display(self):
        if self.expiry_date is None:
            return "expiry unknown (recorded before stock)"
        return f"expires {self.expiry_date:%d %b %Y}"

    def refusal(self, on=None):
        """Why a session on `on` (today) may not use this lot, or "" when it may."""
        on = on or timezone.localdate()
        if self.status == self.Status.RECALLED:
            return f"Lot {self.lot_number} of {self.product} is recalled: {self.status_reason}"
        if self.status == self.Status.QUARANTINED:
            return f"Lot {self.lot_number} of {self.product} is quarantined: {self.status_reason}"
        if self.expiry_date is None:
            return (
                f"Lot {self.lot_number} of {self.product} was recorded before the clinic kept "
                "stock and its expiry is unknown: receive the pack in hand as a lot with its "
                "expiry."
            )
        if self.expiry_date < on:
            return (
                f"Lot {self.lot_number} of {self.product} expired on {self.expiry_date:%d %b %Y}."
            )
        return ""

    def clean(self):
        super().clean()
        errors = {}
        self.lot_number = (self.lot_number or "").strip()
        if not self.lot_number:
            errors["lot_number"] = "Give the lot number printed on the pack."
        if self.expiry_date is None and not self.recorded_before_stock:
            errors["expiry_date"] = "Give the expiry date printed on the pack."
        if self.status != self.Status.IN_USE and not self.status_reason.strip():
            errors["status_reason"] = "Say why the lot is quarantined or recalled."
        if self.received_on and self.received_on > timezone.localdate():
            errors["received_on"] = "A lot cannot be received in the future."
        if errors:
            raise ValidationError(errors)
