"""The start-course form in Chromium: the suggestion follows the concerns as they are ticked."""

import pytest
from playwright.sync_api import expect

from treatments.models import Course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_suggestion_follows_the_ticks_and_a_departure_needs_a_reason(
    signed_in_page, make_consultation
):
    page = signed_in_page
    consultation = make_consultation(
        concerns=[
            ("acne-scars", "cheeks"),
            ("sun-damage", "decollete"),
            ("fine-lines-wrinkles", "forehead"),
        ]
    )

    page.goto(f"/consultations/{consultation.pk}/courses/new/")
    suggestion = page.locator("#course-suggestion")
    expect(suggestion).to_contain_text("No one interval suits every concern ticked")
    # With JavaScript the suggestion is live: no button to update it.
    expect(page.get_by_role("button", name="Update the suggestion")).to_be_hidden()

    page.get_by_label("Fine lines and wrinkles", exact=False).uncheck()
    expect(suggestion).to_contain_text("6 sessions, every 2 weeks.")
    expect(page.get_by_label("Planned sessions")).to_have_value("6")
    expect(page.get_by_label("Interval (weeks)")).to_have_value("2")

    # A count past acne scars' maximum is flagged as it is typed, and refused without a reason.
    page.get_by_label("Planned sessions").fill("8")
    expect(suggestion).to_contain_text("8 sessions pass the usual maximum for Atrophic acne scars")
    # Ticking another concern keeps what the practitioner typed.
    page.get_by_label("Fine lines and wrinkles", exact=False).check()
    expect(suggestion).to_contain_text("No one interval suits every concern ticked")
    expect(page.get_by_label("Planned sessions")).to_have_value("8")
    page.get_by_label("Fine lines and wrinkles", exact=False).uncheck()
    expect(suggestion).to_contain_text("6 sessions, every 2 weeks.")

    page.get_by_role("button", name="Start course").click()
    expect(page.locator("#error_1_id_planned_sessions")).to_contain_text(
        "its treatment stops at session 6"
    )
    expect(page.get_by_label("Planned sessions")).to_have_value("8")
    assert not Course.objects.exists()

    page.get_by_label("Why the course departs from the catalogue").fill(
        "Deep rolling scars: agreed with the client to review after six."
    )
    page.get_by_role("button", name="Start course").click()
    expect(page.get_by_text("Course started: 8 sessions, every 2 weeks.")).to_be_visible()
    course = Course.objects.get()
    assert course.departure_reason.startswith("Deep rolling scars")
