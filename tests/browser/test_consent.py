"""Signing a consent on the tablet-sized page with a signature drawn on the pad."""

import re

import pytest
from playwright.sync_api import expect

from consent.models import SignedConsent
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_signs_on_the_tablet_with_a_drawn_signature(
    chromium, live_server, practitioner, make_client
):
    client = make_client(first_name="Amara", last_name="Okafor")
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 768, "height": 1024}, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(practitioner.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")

        page.goto(f"/clients/{client.pk}/consent/treatment/sign/")
        expect(page.get_by_text("Tram-track marks")).to_be_visible()
        # Nothing wider than the tablet.
        assert page.evaluate("document.documentElement.scrollWidth") <= 768

        # An empty pad is refused with a message, and the name typed is kept.
        page.get_by_role("button", name="Sign and save").click()
        expect(page.get_by_text("Sign on the pad, or type the full name instead.")).to_be_visible()
        expect(page.get_by_label("Signer's full name")).to_have_value("Amara Okafor")

        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        assert box["width"] > 300 and box["height"] >= 200
        page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.7)
        page.mouse.down()
        for step in range(1, 16):
            x = box["x"] + 30 + step * (box["width"] - 60) / 15
            y = box["y"] + box["height"] * (0.3 if step % 2 else 0.7)
            page.mouse.move(x, y, steps=4)
        page.mouse.up()
        clear = page.get_by_role("button", name="Clear the pad")
        assert clear.bounding_box()["height"] >= 44

        page.get_by_role("button", name="Sign and save").click()
        expect(page).to_have_url(re.compile(rf"/clients/{client.pk}/$"))
        expect(page.get_by_text("signed by Amara Okafor")).to_be_visible()

        signed = SignedConsent.objects.get(client=client)
        assert signed.signature and signed.pdf and not signed.typed_name
        assert signed.witness == practitioner
    finally:
        context.close()
