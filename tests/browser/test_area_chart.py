"""The area chart and the course's interval at the session, in Chromium: what the practitioner
sees pre-filled, and the refusals in place."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from treatments.models import TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_periorbital_depth_and_a_four_weekly_interval_are_kept(
    signed_in_page, make_consultation, make_course
):
    page = signed_in_page
    consultation = make_consultation(concerns=(("fine-lines-wrinkles", "periorbital"),))
    course = make_course(consultation, planned_sessions=4, interval_weeks=4)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    # The first session pre-fills within the eyes' range, which the form shows beside it.
    page.goto(f"/courses/{course.pk}/sessions/new/")
    depth = page.locator("#id_areas-0-depth_mm")
    assert float(depth.input_value()) <= 0.5
    expect(page.locator("#id_areas-0-area option:checked")).to_have_text(
        "Around the eyes (0.25-0.5 mm, max 0.5)"
    )

    # 3.0 mm around the eyes is refused next to the depth, with what was typed kept.
    page.locator("#id_performed_on").fill(yesterday.isoformat())
    page.get_by_label("Your rating").select_option(label="Not assessed")
    page.get_by_label("I asked the client what changed since the last visit").check()
    depth.fill("3.0")
    page.get_by_role("button", name="Log session").click()
    error = page.locator("#error_1_id_areas-0-depth_mm")
    expect(error).to_contain_text("Around the eyes: 3.00 mm is deeper than the area chart allows")
    expect(error).to_be_visible()
    expect(depth).to_have_value("3.0")
    expect(page.locator("#id_performed_on")).to_have_value(yesterday.isoformat())
    assert not TreatmentSession.objects.exists()

    depth.fill("0.25")
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 1 of 4 logged")).to_be_visible()

    # A second session the next day (today) on a 4-weekly course is refused next to the date.
    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.get_by_label("Your rating").select_option(label="No change")
    page.get_by_label("I asked the client what changed since the last visit").check()
    page.get_by_role("button", name="Log session").click()
    date_error = page.locator("#error_1_id_performed_on")
    expect(date_error).to_contain_text("This course is every 4 weeks")
    expect(date_error).to_be_visible()
    reason = page.get_by_label("Why sooner than the course's interval")
    expect(reason).to_be_visible()  # opened beside its message
    assert TreatmentSession.objects.count() == 1

    # With a reason it is logged, and the client's timeline says why.
    reason.fill("Redone: the pen jammed at the first pass.")
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 2 of 4 logged")).to_be_visible()
    expect(page.get_by_text("Redone: the pen jammed at the first pass.")).to_be_visible()
