"""A practitioner's day in Chromium: consultation, course, sessions, and the refusals in place."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import Client
from treatments.models import Course, TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def iso(days_ago):
    return (timezone.localdate() - datetime.timedelta(days=days_ago)).isoformat()


def test_consultation_course_and_three_sessions(signed_in_page):
    page = signed_in_page

    # A new client, from the Clients page.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("link", name="New client", exact=True).click()
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Last name").fill("Fields")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Fitzpatrick skin type").select_option("II")
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_text("Maya Fields added.")).to_be_visible()

    # The consultation: one concern, nothing found at screening.
    page.get_by_role("link", name="New consultation", exact=True).click()
    page.locator("#id_held_on").fill(iso(70))
    page.locator("#id_concerns-0-concern").select_option(label="Atrophic acne scars")
    page.locator("#id_concerns-0-area").select_option("cheeks")
    page.get_by_role("button", name="Record consultation").click()
    expect(page.locator("#outcome")).to_contain_text("Suitable")
    expect(page.get_by_text("Needling breaks up the tethered scar bed")).to_be_visible()

    # The client signs the treatment and numbing consents the page asks for (typing the name).
    consultation_url = page.url
    for _document in ("treatment", "numbing"):
        page.get_by_role("link", name="Read and sign it now").first.click()
        page.get_by_label("Or type the full name instead of signing on the pad").fill("Maya Fields")
        page.get_by_role("button", name="Sign and save").click()
        expect(page.get_by_text("signed by Maya Fields")).to_be_visible()
        page.goto(consultation_url)

    # Start the course the catalogue suggests, made a little longer.
    page.get_by_role("link", name="Start course", exact=True).click()
    expect(page.get_by_label("Planned sessions")).to_have_value("3")
    page.get_by_label("Planned sessions").fill("4")
    page.get_by_label("Start date").fill(iso(60))
    page.get_by_role("button", name="Start course").click()
    expect(page.get_by_text("Course started: 4 sessions, every 4 weeks.")).to_be_visible()

    # Three sessions, four weeks apart, from the course's page; each returns there (where the
    # practitioner started). The first starts in the cheeks' thin-skin range (0.5-1.0 mm); the
    # next ones repeat it.
    for number, days_ago in ((1, 56), (2, 28), (3, 0)):
        page.get_by_role("link", name=f"Log session {number} of 4").first.click()
        expect(page.locator("#id_areas-0-area")).to_have_value("cheeks")
        expect(page.locator("#id_areas-0-depth_mm")).to_have_value("1.00")
        page.locator("#id_performed_on").fill(iso(days_ago))
        page.get_by_label("Pain (0-10)").fill("3")
        # Nothing is pre-rated: the practitioner rates the concern each time.
        expect(page.get_by_label("Your rating")).to_have_value("")
        page.get_by_label("Your rating").select_option(label="Slight improvement")
        page.get_by_label("I asked the client what changed since the last visit").check()
        page.get_by_role("button", name="Log session").click()
        expect(page.get_by_text(f"Session {number} of 4 logged for Maya Fields.")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/courses/\d+/$"))

    expect(page.locator(".course-progress")).to_have_text("Session 3 of 4")
    client = Client.objects.get(last_name="Fields")
    course = Course.objects.get(client=client)
    assert course.sessions_logged == 3
    assert course.status == Course.Status.ACTIVE
    assert TreatmentSession.objects.filter(course=course).count() == 3


def test_validation_errors_are_shown_in_place(signed_in_page, make_course):
    page = signed_in_page
    course = make_course(planned_sessions=6)

    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.locator("#id_areas-0-depth_mm").fill("3.5")
    page.get_by_label("Device model").fill("Dermapen 4")
    page.get_by_role("button", name="Log session").click()

    depth_error = page.locator("#error_1_id_areas-0-depth_mm")
    expect(depth_error).to_have_text("Needle depth must be between 0.25 and 3.0 mm.")
    expect(depth_error).to_be_visible()
    expect(page.locator("#id_areas-0-depth_mm")).to_have_value("3.5")
    expect(page.get_by_label("Device model")).to_have_value("Dermapen 4")
    assert not TreatmentSession.objects.exists()

    # The consultation form keeps everything and points at the date in the future.
    page.goto(f"/clients/{course.client_id}/consultations/new/")
    page.locator("#id_held_on").fill(iso(-3))
    page.locator("#id_concerns-0-concern").select_option(label="Melasma")
    page.locator("#id_concerns-0-area").select_option("face")
    page.get_by_label("Notes").last.fill("Worse after summer.")
    page.get_by_role("button", name="Record consultation").click()

    date_error = page.locator("#error_1_id_held_on")
    expect(date_error).to_have_text("A consultation cannot be dated in the future.")
    expect(date_error).to_be_visible()
    expect(page.locator("#id_concerns-0-area")).to_have_value("face")
    expect(page.get_by_label("Notes").last).to_have_value("Worse after summer.")


def test_concern_information_appears_while_concerns_are_chosen(signed_in_page, make_client):
    page = signed_in_page
    person = make_client()

    page.goto(f"/clients/{person.pk}/consultations/new/")
    info = page.locator("#concern-info")
    expect(info).to_contain_text("Choose a concern")

    page.locator("#id_concerns-0-concern").select_option(label="Atrophic acne scars")
    expect(info).to_contain_text("Needling breaks up the tethered scar bed")
    expect(info).to_contain_text("3-6 sessions")
    expect(info).to_contain_text("every 4 weeks")

    page.locator("#id_concerns-1-concern").select_option(label="Stretch marks (striae)")
    expect(info.locator(".concern-info-card")).to_have_count(2)

    # A fourth row, added in the page, gets its information too.
    page.get_by_role("button", name="Add another concern").click()
    expect(page.locator("#id_concerns-TOTAL_FORMS")).to_have_value("4")
    page.locator("#id_concerns-3-concern").select_option(label="Melasma")
    expect(info.locator(".concern-info-card")).to_have_count(3)

    page.locator("#id_concerns-0-concern").select_option("")
    expect(info.locator(".concern-info-card")).to_have_count(2)
    expect(info).not_to_contain_text("tethered scar bed")


def test_a_mistaken_session_is_voided_from_the_course_page(signed_in_page, make_course, log):
    page = signed_in_page
    course = make_course(planned_sessions=6)
    log(course, timezone.localdate() - datetime.timedelta(days=28))
    mistaken = log(course, timezone.localdate())

    page.goto(f"/courses/{course.pk}/")
    expect(page.locator(".course-progress")).to_have_text("Session 2 of 6")
    card = page.locator(f"#session-{mistaken.pk}")
    card.get_by_text("Void", exact=True).click()
    card.get_by_role("button", name="Void this session").click()
    # Without a reason the void page asks for one, next to the field.
    expect(page.locator("#error_1_id_void_reason")).to_have_text("Say why this session is voided.")
    page.get_by_label("Why is this session voided?").fill("Logged on the wrong client's course.")
    page.get_by_role("button", name="Void this session").click()

    expect(page.get_by_text("Session 2 of 6 voided")).to_be_visible()
    expect(page.locator(".course-progress")).to_have_text("Session 1 of 6")
    voided = page.locator(f"#session-{mistaken.pk}")
    expect(voided).to_contain_text("Voided session")
    expect(voided).to_contain_text("Logged on the wrong client's course.")
    expect(voided.get_by_role("link", name="Correct")).to_have_count(0)
    mistaken.refresh_from_db()
    assert mistaken.is_voided


def test_an_edit_overtaken_by_a_colleagues_is_refused_then_saved_on_purpose(
    signed_in_page, make_client, make_user
):
    page = signed_in_page
    person = make_client(first_name="Nora", last_name="Quinn", phone="07700 900111")

    page.goto(f"/clients/{person.pk}/edit/")
    page.get_by_label("Email").fill("nora.new@example.com")
    # A colleague saves a new phone number while the form is open.
    sam = make_user("sam", first_name="Sam", last_name="Okafor")
    person.phone = "07700 900222"
    person.stamp(sam)
    person.save()
    page.get_by_role("button", name="Save client").click()

    alert = page.locator(".alert-danger")
    expect(alert).to_contain_text("This record was changed while you were editing it.")
    expect(alert).to_contain_text("Sam Okafor")
    expect(alert).to_contain_text("phone: “07700 900111” → “07700 900222”")
    expect(page.get_by_label("Email")).to_have_value("nora.new@example.com")
    page.get_by_label("Phone").fill("07700 900222")
    page.get_by_role("button", name="Save client").click()

    expect(page.get_by_text("Nora Quinn's details saved.")).to_be_visible()
    person.refresh_from_db()
    assert (person.phone, person.email) == ("07700 900222", "nora.new@example.com")


def test_the_pre_session_check_refuses_beside_its_question_and_keeps_the_form(
    signed_in_page, make_course
):
    page = signed_in_page
    course = make_course(planned_sessions=6)

    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.get_by_label("Device model").fill("Dermapen 4")
    page.get_by_label("Your rating").select_option(label="Not assessed")
    page.get_by_label("I asked the client what changed since the last visit").check()
    page.get_by_label("New infection or cold sore in an area to treat").check()
    page.get_by_role("button", name="Log session").click()

    error = page.locator("#error_1_id_check_new_infection")
    expect(error).to_contain_text("A new infection or cold sore in an area to treat")
    expect(page.get_by_label("Device model")).to_have_value("Dermapen 4")
    assert not TreatmentSession.objects.exists()

    # The client is pregnant rather: a caution, logged once it is acknowledged.
    page.get_by_label("New infection or cold sore in an area to treat").uncheck()
    page.get_by_label("Pregnant or breastfeeding now").check()
    page.get_by_role("button", name="Log session").click()
    expect(page.locator("#error_1_id_check_acknowledged")).to_contain_text("Pregnant")
    page.get_by_label("I have weighed the check's cautions with the client").check()
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 1 of 6 logged")).to_be_visible()
    assert TreatmentSession.objects.get().check_pregnant
