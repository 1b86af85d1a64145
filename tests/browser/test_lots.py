"""Scan to fill: a keyboard-wedge scanner types a pack's GS1 label into the session form's scan
field (the group separator between a variable-length lot and the next element, Enter at the
end), and the row's product, lot and expiry are filled in."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from stock.models import Lot
from treatments.models import SessionProduct

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GS = "\x1d"  # the group separator (FNC1) a scanner types after a variable-length element
GTIN = "09506000134352"


def label(lot_number, expiry, serial="SN0042"):
    """A GS1 DataMatrix's element string as a scanner types it: GTIN (01), expiry (17, YYMMDD),
    lot (10, variable: ended by the group separator), serial (21)."""
    return f"01{GTIN}17{expiry:%y%m%d}10{lot_number}{GS}21{serial}"


def test_a_scanned_label_fills_product_lot_and_expiry(signed_in_page, make_course, product):
    page = signed_in_page
    page.set_viewport_size({"width": 768, "height": 1024})
    serum = product("Hyaluronic")
    serum.gtin = GTIN
    serum.save(update_fields=["gtin"])
    expiry = timezone.localdate() + datetime.timedelta(days=300)
    course = make_course(planned_sessions=6)
    page.goto(f"/courses/{course.pk}/sessions/new/")

    # A pack whose lot is not in stock yet: product chosen, the new lot's number and expiry
    # filled in, to be received with the session.
    page.locator("[data-add-row=products]").click()
    scan = page.locator("#id_products-0-scan")
    scan.click()
    scan.press_sequentially(label("ABC123", expiry))
    scan.press("Enter")
    expect(page.locator("#id_products-0-product")).to_have_value(str(serum.pk))
    expect(page.locator("#id_products-0-new_lot_number")).to_have_value("ABC123")
    expect(page.locator("#id_products-0-new_lot_expiry")).to_have_value(expiry.isoformat())
    expect(page.locator("[data-scan-message]").first).to_contain_text("new lot ABC123")
    expect(scan).to_have_value("")  # read: ready for the next pack

    page.get_by_label("I asked the client what changed since the last visit").check()
    page.get_by_label("Your rating").select_option(label="Slight improvement")
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 1 of 6 logged")).to_be_visible()
    lot = Lot.objects.get(product=serum, lot_number="ABC123")
    assert lot.expiry_date == expiry
    assert SessionProduct.objects.get(session__course=course).lot == lot

    # The same pack scanned at the next session: now in stock, its lot is chosen in the list.
    page.goto(f"/courses/{course.pk}/sessions/new/")
    scan = page.locator("#id_products-0-scan")
    scan.click()
    scan.press_sequentially(label("abc123", expiry, serial="SN0043"))
    scan.press("Enter")
    expect(page.locator("#id_products-0-product")).to_have_value(str(serum.pk))
    expect(page.locator("#id_products-0-lot")).to_have_value(str(lot.pk))
    expect(page.locator("[data-scan-message]").first).to_contain_text(
        f"lot ABC123, expires {expiry.isoformat()}"
    )


def test_a_bad_scan_says_what_is_wrong_and_fills_nothing(signed_in_page, make_course, product):
    page = signed_in_page
    serum = product("Hyaluronic")
    serum.gtin = GTIN
    serum.save(update_fields=["gtin"])
    course = make_course(planned_sessions=6)
    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.locator("[data-add-row=products]").click()
    scan = page.locator("#id_products-0-scan")
    scan.click()
    scan.press_sequentially("0109506000134353" + "10ABC")  # a wrong check digit
    scan.press("Enter")
    expect(page.locator("[data-scan-message]").first).to_contain_text("check digit")
    expect(page.locator("#id_products-0-product")).to_have_value("")
