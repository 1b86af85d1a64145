"""Every page, the admin's included, keeps to the Content-Security-Policy: Chromium refuses
nothing on any of them (no inline script, handler or style, nothing from elsewhere).

A workspace page goes into tests/browser/workspace_pages.py, whose pages the tablet test opens
with the policy watched; any other page into PAGES below (one line: its address, with the records
it needs named in braces); the admin's lists and add forms are found from its index by themselves.
"""

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.browser.conftest import sign_in, watch_csp
from treatments.models import Photo
from treatments.photos.services import add_photos

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The pages to check, signed in as a manager (who may open all of them). Names in braces are the
# records made by `records` below.
PAGES = [
    # The workspace's pages, printouts and reports are in tests/browser/workspace_pages.py: the
    # tablet test (test_tablet.py) opens each of them with the policy watched. Here, the rest:
    "/accounts/password_change/",
    "/accounts/second-factor/enrol/",  # set up already: back to Today with a message
    "/api/docs/",
    # Error pages
    "/clients/999999/",
    # The admin: pages its index does not link to (lists and add forms are found from it)
    "/admin/",
    "/admin/consultations/client/{client}/change/",
    "/admin/consultations/client/{client}/history/",
    "/admin/consultations/client/export/",
    "/admin/treatments/consultation/{consultation}/change/",
    "/admin/treatments/course/{course}/change/",
    "/admin/treatments/course/export/",
    "/admin/treatments/treatmentsession/{session}/change/",
    "/admin/treatments/treatmentsession/export/",
    "/admin/auth/user/{manager}/change/",
    "/admin/auth/user/{manager}/password/",
    "/admin/password_change/",
]
# Pages a signed-out visitor sees.
SIGNED_OUT_PAGES = ["/accounts/login/", "/admin/login/"]
# Pages of a practitioner signing in who has no second factor yet (they are offered one).
ENROLMENT_PAGES = ["/accounts/second-factor/enrol/"]


@pytest.fixture
def records(manager, make_consultation, make_course, log):
    consultation = make_consultation(photo_consent=True)
    course = make_course(consultation)
    session = log(course)
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(picture, format="JPEG")
    add_photos(
        client=consultation.client,
        session=session,
        image_files=[SimpleUploadedFile("p.jpg", picture.getvalue(), "image/jpeg")],
        area="cheeks",
        angle=Photo.Angle.FRONT,
        by=manager,
    )
    return {
        "client": consultation.client_id,
        "consultation": consultation.pk,
        "course": course.pk,
        "session": session.pk,
        "manager": manager.pk,
    }


def refusals_on(page, paths):
    """{path: [what Chromium refused]} for each of `paths` that had any."""
    found = {}
    violations = watch_csp(page)
    for path in paths:
        violations.clear()
        page.goto(path)
        page.wait_for_load_state("load")
        violations.extend(page.evaluate("window.cspViolations || []"))
        if violations:
            found[path] = sorted(set(violations))
    return found


def admin_index_links(page):
    """The admin index's lists and add forms."""
    page.goto("/admin/")
    hrefs = page.locator("#content-main a").evaluate_all("links => links.map(a => a.href)")
    return sorted({urlsplit(href).path for href in hrefs if "/admin/" in href})


def test_no_page_breaks_the_content_security_policy(page, manager, practitioner, records):
    assert refusals_on(page, SIGNED_OUT_PAGES) == {}
    sign_in(page, practitioner)
    assert refusals_on(page, ENROLMENT_PAGES) == {}
    page.context.clear_cookies()

    sign_in(page, manager)
    paths = [path.format(**records) for path in PAGES]
    paths += [path for path in admin_index_links(page) if path not in paths]
    assert len(paths) > len(PAGES)  # the admin's lists were found
    assert refusals_on(page, paths) == {}


def test_an_injected_inline_script_is_refused(page, manager):
    """The policy is really enforced: a script written into a page does not run, and is seen."""
    sign_in(page, manager)
    violations = watch_csp(page)
    page.goto("/clients/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_function("(window.cspViolations || []).length > 0")
    assert page.evaluate("window.injected") is None
    assert page.evaluate("window.cspViolations")[0].startswith("script-src-elem")
    assert violations  # the console said so too
