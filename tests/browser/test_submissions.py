"""A create form sent twice from Chromium (clicked again while the first post is on its way, or
sent again after going back to it) saves once."""

import pytest
from playwright.sync_api import expect

from consultations.models import Client
from treatments.models import TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_client_form(page):
    page.goto("/clients/new/")
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Last name").fill("Fields")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Fitzpatrick skin type").select_option("II")


def test_a_second_click_while_the_first_is_on_its_way_adds_one_client(signed_in_page):
    """The first post reaches the server, but its answer is slow to come back (held here): the
    practitioner clicks again, and the form is sent a second time."""
    page = signed_in_page
    held = []

    def hold_the_first_answer(route):
        answer = route.fetch(max_redirects=0)  # the server has the post
        if route.request.method == "POST" and not held:
            held.append(answer)
        else:
            route.fulfill(response=answer)

    page.route("**/clients/new/", hold_the_first_answer)
    new_client_form(page)
    button = page.get_by_role("button", name="Save client").element_handle()
    button.click(no_wait_after=True)
    while not held:
        page.wait_for_timeout(50)
    page.keyboard.press("Enter")  # on the button, still focused: a locator would wait

    expect(page.get_by_text("This was already saved at")).to_be_visible()
    expect(page.get_by_role("heading", name="Maya Fields")).to_be_visible()
    assert Client.objects.filter(last_name="Fields").count() == 1


def test_back_and_send_again_adds_one_client(signed_in_page):
    page = signed_in_page
    new_client_form(page)
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_text("Maya Fields added.")).to_be_visible()

    page.go_back()
    page.get_by_role("button", name="Save client").click()

    expect(page.get_by_role("heading", name="Maya Fields")).to_be_visible()
    assert Client.objects.filter(last_name="Fields").count() == 1


def test_back_and_log_again_logs_one_session(signed_in_page, make_course):
    course = make_course(planned_sessions=4)
    page = signed_in_page
    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.get_by_label("Pain (0-10)").fill("3")
    page.get_by_label("Your rating").select_option(label="Not assessed")
    page.get_by_label("I asked the client what changed since the last visit").check()
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text(f"Session 1 of 4 logged for {course.client}.")).to_be_visible()

    page.go_back()
    expect(page.get_by_label("Pain (0-10)")).to_have_value("3")  # as the browser kept it
    page.get_by_role("button", name="Log session").click()

    expect(page.get_by_text("This was already saved at")).to_be_visible()
    assert TreatmentSession.objects.filter(course=course).count() == 1
