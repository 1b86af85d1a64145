"""Playwright driving Debian's Chromium against pytest-django's live server.

Run them with `.venv/bin/pytest -m browser` (they also run in the full suite). They need
/usr/bin/chromium (`.ci/ensure-chromium` installs it) and skip with a clear reason without it.
"""

import importlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from catalogue.models import forget_area_chart
from clinic import roles
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
def catalogue(transactional_db):
    """The shipped catalogue and area chart: transactional tests flush tables, so load them again
    if they are gone."""
    Concern = apps.get_model("catalogue", "Concern")
    if not Concern.objects.exists():
        # The migration that ships it, run against the models as they stood then (same tables).
        shipped = importlib.import_module("treatments.migrations.0002_catalogue")
        state = MigrationLoader(connection).project_state(("treatments", "0002_catalogue"))
        shipped.load_catalogue(state.apps, None)
    assert Concern.objects.filter(slug="acne-scars").exists()
    BodyArea = apps.get_model("catalogue", "BodyArea")
    if not BodyArea.objects.exists():
        # The area chart likewise (catalogue 0003).
        chart = importlib.import_module("catalogue.migrations.0003_body_area_chart")
        state = MigrationLoader(connection).project_state(("catalogue", "0003_body_area_chart"))
        chart.load_chart(state.apps, SimpleNamespace(connection=connection))
        forget_area_chart()
    assert BodyArea.objects.filter(code="periorbital").exists()


@pytest.fixture
def role_groups(transactional_db):
    """The two roles (clinic/migrations/0001_roles.py), made again after a flush removed them."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    aesthetician, _ = Group.objects.get_or_create(name=roles.AESTHETICIAN)
    for app_label, codename in roles.AESTHETICIAN_PERMISSIONS:
        aesthetician.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    manager, _ = Group.objects.get_or_create(name=roles.MANAGER)
    manager.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=roles.MANAGER_APPS)
    )


@pytest.fixture
def page(chromium, live_server, catalogue, role_groups):
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
