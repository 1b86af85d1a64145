"""The README's tour, page by page on the demo data: each page opens at the width staff use it
(a 768 px tablet for aestheticians, a 1366 px laptop for managers).

With SAVE_SCREENSHOTS=1 it also saves the README's screenshots into docs/screenshots/:
`SAVE_SCREENSHOTS=1 .venv/bin/pytest -m browser tests/browser/test_tour.py`, then commit them.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from devtools.demo.year import AESTHETICIAN_PASSWORD, MANAGER_PASSWORD
from tests.browser.conftest import sign_in
from treatments.models import Photo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
User = get_user_model()


def shoot(page, name):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_the_tour_for_aestheticians_and_managers(page):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    photo = Photo.objects.filter(session__isnull=False).order_by("pk").first()

    page.set_viewport_size(TABLET)
    sign_in(page, User.objects.get(username="alex"), AESTHETICIAN_PASSWORD)
    expect(page.get_by_role("heading", name="Booked today")).to_be_visible()
    shoot(page, "1-today-tablet")

    page.goto(f"/clients/{photo.client_id}/")
    expect(page.get_by_role("heading", name="Next appointment")).to_be_visible()
    shoot(page, "2-client-tablet")

    area, angle = photo.area_id, photo.angle
    page.goto(f"/clients/{photo.client_id}/photos/compare/?area={area}&angle={angle}")
    page.get_by_role("button", name="Overlay").click()
    page.get_by_label("of the later photo").fill("35")
    shoot(page, "3-photo-overlay-tablet")

    page.context.clear_cookies()
    page.set_viewport_size(LAPTOP)
    sign_in(page, User.objects.get(username="manager"), MANAGER_PASSWORD)
    page.goto(f"/clients/{photo.client_id}/record/")
    page.locator("summary.record-line").first.click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    shoot(page, "4-client-record-laptop")

    page.goto("/reports/recall/")
    shoot(page, "5-recall-laptop")
    page.set_viewport_size(TABLET)
    page.goto("/reports/recall/")
    shoot(page, "6-recall-cards-tablet")
