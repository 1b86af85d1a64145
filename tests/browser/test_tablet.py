"""The workspace on a 768 x 1024 tablet and a 1366 x 768 laptop, page by page (workspace_pages.py):
who is signed in, the client search, no sideways scrolling, touch targets of 44 x 44 px, no
serious or critical accessibility fault (axe-core, from the npm registry), and nothing the
Content-Security-Policy refuses."""

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from clinic import roles
from consent.models import SignedConsent
from stock.services import recall_lot
from tests.browser.conftest import sign_in, watch_csp
from tests.browser.workspace_pages import MANAGER, PAGES
from treatments.aftercare import record_adverse_event
from treatments.photos.services import add_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"tablet": (768, 1024), "laptop": (1366, 768)}
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
MIN_TARGET = 44

# Every control a finger may aim at, with its hit area: a checkbox's or radio's is its label's
# too (a click on the label ticks it). Links inside a sentence are exempt (WCAG 2.5.8's inline
# exception): those whose parent has text of its own around them.
TARGETS_JS = """min => {
  const visible = el => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 1
      && box.height > 1 && !el.closest("[hidden], .visually-hidden, .d-none");
  };
  const inline = el => el.tagName === "A" && [...el.parentElement.childNodes].some(
    node => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
  const describe = el => `${el.tagName.toLowerCase()} "${(el.innerText || el.value
    || el.getAttribute("aria-label") || el.name || "").trim().slice(0, 40)}"`;
  const small = [];
  const controls = document.querySelectorAll(
    "a[href], button, summary, select, textarea, input:not([type=hidden])");
  for (const el of controls) {
    if (!visible(el) && !(el.type === "checkbox" || el.type === "radio")) continue;
    if (inline(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === "checkbox" || el.type === "radio") {
      const label = el.id && document.querySelector(`label[for="${el.id}"]`);
      if (!label || !visible(label)) continue;
      const around = label.getBoundingClientRect();
      box = {width: Math.max(box.right, around.right) - Math.min(box.left, around.left),
             height: Math.max(box.bottom, around.bottom) - Math.min(box.top, around.top)};
    }
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      small.push(`${describe(el)} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): `
      + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""


@pytest.fixture
def records(
    make_client, make_consultation, make_course, log, product, practitioner, make_lot, manager
):
    """One client with a bit of everything a page shows: a pigment-risk caution, a course with
    two sessions (the latest today, so it can be corrected and voided), and a second, not-suitable
    consultation (a bleeding disorder)."""
    today = timezone.localdate()
    client = make_client(
        first_name="Adaeze",
        last_name="Okonkwo-Fairweather",
        skin_type="V",
        email="adaeze.okonkwo-fairweather.long.address@example.com",
    )
    consultation = make_consultation(
        client, concerns=(("acne-scars", "cheeks"),), photo_consent=True
    )
    course = make_course(consultation, planned_sessions=6)
    serum = product("Hyaluronic")
    log(course, today - datetime.timedelta(days=56), products=[(serum, "LOT-1")])
    session = log(course, today)
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 110, 90)).save(picture, "PNG")
    add_photo(
        client=client,
        session=session,
        image_file=SimpleUploadedFile("cheek.png", picture.getvalue()),
        area="cheeks",
        angle="front",
        by=practitioner,
    )
    not_suitable = make_consultation(
        client, concerns=(("acne-scars", "cheeks"),), bleeding_disorder=True
    )
    # A reaction after today's session; a session two days ago, so Today has a follow-up call;
    # stock: a lot expiring soon, and a recalled lot (with its session) for the stock page and
    # the lot report.
    event = record_adverse_event(
        session=session, by=practitioner, kind="swelling", severity="mild", onset_on=today
    )
    other = make_course(make_consultation(make_client(first_name="Bea", last_name="Quinn")))
    recalled = make_lot(product("Peptide"), "PP-9")
    log(other, today - datetime.timedelta(days=2), products=[(product("Peptide"), recalled)])
    recall_lot(lot=recalled, reason="Manufacturer's notice FSN-9.", by=manager)
    make_lot(serum, "LOT-SOON", expiry_date=today + datetime.timedelta(days=10))
    return SimpleNamespace(
        consent=SignedConsent.objects.filter(client=client, document__kind="photographs").get(),
        event=event,
        recalled=recalled,
        client=client,
        consultation=consultation,
        not_suitable=not_suitable,
        course=course,
        session=session,
        product=serum,
    )


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_fits_the_screen_with_large_targets_and_no_serious_fault(
    viewport, chromium, live_server, records, practitioner, make_user
):
    width, height = VIEWPORTS[viewport]
    manager = make_user("maria", role=roles.MANAGER, first_name="Maria", last_name="Manager")
    axe = AXE.read_text()
    problems = []
    for role, user in ((roles.AESTHETICIAN, practitioner), (MANAGER, manager)):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, user)
        refused = watch_csp(page)
        for entry in [p for p in PAGES if p.role == role]:
            response = page.goto(entry.path(records))
            where = f"{entry.name} ({entry.path(records)})"
            if not response.ok:
                problems.append(f"{where}: HTTP {response.status}")
                continue
            if refused or page.evaluate("window.cspViolations"):
                problems.append(f"{where}: refused by the CSP: {refused}")
                refused.clear()
            signed_in = page.locator("#signed-in-as")
            if not signed_in.is_visible() or user.get_full_name() not in signed_in.inner_text():
                problems.append(f"{where}: the signed-in user's name is not shown")
            if not signed_in.get_by_text("Not you?").is_visible():
                problems.append(f'{where}: no "Not you? Sign out"')
            if not page.get_by_role("searchbox", name="Find a client").is_visible():
                problems.append(f"{where}: the client search is not reachable")
            if (overflow := page.evaluate(OVERFLOW_JS)) > 0:
                problems.append(f"{where}: the page scrolls sideways by {overflow} px")
            for small in page.evaluate(TARGETS_JS, MIN_TARGET):
                problems.append(f"{where}: touch target under 44 px: {small}")
            page.evaluate(axe)  # not a <script>: the page's Content-Security-Policy stays whole
            for violation in page.evaluate(AXE_JS):
                problems.append(f"{where}: axe: {violation}")
        context.close()
    assert not problems, "\n".join(problems)


def test_a_skip_link_leads_to_the_page_and_focus_is_plain_to_see(signed_in_page):
    page = signed_in_page
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # The menu's links show a strong ring on the dark bar: a black outline inside a yellow one.
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the clinic's name
    brand = page.locator(".navbar-brand")
    expect(brand).to_be_focused()
    ring = brand.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineWidth, s.boxShadow]; }"
    )
    assert ring[0] == "3px"
    assert "255, 221, 0" in ring[1]


def test_the_signed_in_name_and_sign_out_are_at_hand_on_a_shared_tablet(
    signed_in_page, practitioner
):
    page = signed_in_page
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/clients/")
    bar = page.locator("#signed-in-as")
    expect(bar).to_contain_text("Signed in as Alex Smith.")
    expect(bar).to_contain_text("Not you?")
    search = page.get_by_role("searchbox", name="Find a client")
    search.fill("nobody")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/clients/\?q=nobody$"))
    bar.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_formset_remove_box_is_ticked_from_its_whole_label(signed_in_page, make_course, log):
    page = signed_in_page
    page.set_viewport_size({"width": 768, "height": 1024})
    course = make_course(planned_sessions=6)
    log(
        course,
        timezone.localdate() - datetime.timedelta(days=40),
        areas=[("cheeks", Decimal("1.0"))],
    )
    page.goto(f"/courses/{course.pk}/sessions/new/")
    remove = page.locator("#id_areas-0-DELETE")
    label = page.locator("label[for=id_areas-0-DELETE]")
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    # Its whole line is the target: a tap at the label's far end ticks it.
    assert box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET
    x, y = box["x"] + box["width"] - 5, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    expect(remove).to_be_checked()
