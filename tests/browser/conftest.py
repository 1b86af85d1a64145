"""Playwright driving Debian's Chromium against pytest-django's live server.

Run them with `.venv/bin/pytest -m browser` (they also run in the full suite). They need
/usr/bin/chromium (`.ci/ensure-chromium` installs it) and skip with a clear reason without it.
"""

import os
from pathlib import Path

import pytest
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.live_server_helper import LiveServer

from clinic.second_factor import required_for
from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in the test thread; the test's own database work
# (fixtures, assertions) is ordinary synchronous Django code, so allow it there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium: run .ci/ensure-chromium "
            "(or `sudo apt-get install chromium`) to run the browser tests."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving plain HTTP.

    The server builds its middleware once, when it starts: before the function-scoped settings
    fixture in tests/conftest.py turns the HTTPS redirect off. So it is turned off here too.
    """
    addr = request.config.getvalue("liveserver") or os.getenv(
        "DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"
    )
    with override_settings(SECURE_SSL_REDIRECT=False):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 900}
    )
    context.set_default_timeout(10_000)
    browser_page = context.new_page()
    yield browser_page
    context.close()


@pytest.fixture
def signed_in_page(page, practitioner):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(practitioner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    return page


def sign_in(page, user, password=PASSWORD):
    """Sign `user` in through the sign-in page, as a person would: with the code of their
    authenticator app (one is set up for them) when they need a second factor."""
    device = None
    if required_for(user):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Browser test authenticator", defaults={"confirmed": True}
        )
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if device is not None:
        page.get_by_label("Code").fill(f"{TOTP(device.bin_key).token():06d}")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state("load")
    return page


# Noted in the page itself (Playwright's init scripts run outside the page's policy): each
# refusal as "directive what source:line".
CSP_LISTENER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} ${event.blockedURI || "inline"} ` +
      `${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def watch_csp(page):
    """Note what the Content-Security-Policy refuses on `page` from its next document on.

    Returns the console's "Refused to ..." messages, a list that grows; each document's
    securitypolicyviolation events are in its `window.cspViolations`.
    """
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(CSP_LISTENER)
    return refused
