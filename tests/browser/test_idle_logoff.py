"""The idle logoff in Chromium: the warning and "Stay signed in", and a session typed across the
logoff kept through signing in again, shown back filled in, and saved by the practitioner."""

import datetime
import re

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from treatments.models import SessionProgress, TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES = "Mild erythema on the left cheek, settled within the hour"


@pytest.fixture
def short_idle(settings):
    """A six-second idle period, warned four seconds before; every request moves it on.

    Ask for it before `signed_in_page`, so that the sign-in already has it."""
    settings.SESSION_COOKIE_AGE = 6
    settings.IDLE_WARNING_SECONDS = 4
    settings.IDLE_DEADLINE_RESOLUTION = 0


def session_key(page):
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    return cookie["value"]


def test_the_warning_offers_to_stay_signed_in_and_an_untouched_page_then_signs_out(
    short_idle, signed_in_page
):
    page = signed_in_page
    page.goto("/clients/")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()

    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_contain_text("You will be signed out in 1 minute to protect client records.")
    before = Session.objects.get(session_key=session_key(page)).expire_date
    warning.get_by_role("button", name="Stay signed in").click()

    expect(warning).to_be_hidden()
    assert Session.objects.get(session_key=session_key(page)).expire_date > before
    expect(page).to_have_url(re.compile(r"/clients/$"))

    # Nothing was typed: when the time runs out the page leaves for the sign-in page.
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Fclients%2F$"), timeout=15_000)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_session_typed_across_the_logoff_is_kept_through_signing_in_and_saved_by_hand(
    short_idle, signed_in_page, settings, make_course, practitioner
):
    page = signed_in_page
    course = make_course(planned_sessions=6)
    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.get_by_role("button", name="Add an area").click()
    page.locator("#id_areas-1-area").select_option("forehead")
    page.locator("#id_areas-1-depth_mm").fill("0.75")
    page.get_by_label("Pain (0-10)").fill("4")
    page.locator("select[name$='-practitioner_rating']").select_option(label="Slight improvement")
    page.locator("#id_notes").fill(NOTES)
    page.get_by_label("I asked the client what changed since the last visit").check()

    # Time runs out while typing: the page stays, with what was typed, and says so.
    expect(page.locator("#idle-warning")).to_contain_text(
        "You have been signed out to protect client records.", timeout=15_000
    )
    expect(page.locator("#id_notes")).to_have_value(NOTES)
    settings.SESSION_COOKIE_AGE = 15 * 60  # the next sign-in lasts the test
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    page.get_by_role("button", name="Log session").click()
    expect(
        page.get_by_text("You were signed out after 15 minutes without activity")
    ).to_be_visible()
    assert not TreatmentSession.objects.exists()
    page.get_by_label("Username").fill(practitioner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(rf"/courses/{course.pk}/sessions/new/$"))
    notice = page.get_by_text("Your entry was kept while you signed in again. Check it and save.")
    expect(notice).to_be_visible()
    expect(page.locator("#id_notes")).to_have_value(NOTES)
    expect(page.get_by_label("Pain (0-10)")).to_have_value("4")
    expect(page.locator("#id_areas-1-area")).to_have_value("forehead")
    expect(page.locator("#id_areas-1-depth_mm")).to_have_value("0.75")
    rating = page.locator("select[name$='-practitioner_rating']")
    expect(rating).to_have_value(str(SessionProgress.Rating.SLIGHT))
    assert not TreatmentSession.objects.exists()  # nothing saved that was not seen

    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 1 of 6 logged")).to_be_visible()
    session = TreatmentSession.objects.get(course=course)
    assert session.notes == NOTES
    assert session.pain_score == 4
    assert sorted(row.area_id for row in session.areas.all()) == ["cheeks", "forehead"]
