"""Ids in addresses: a malformed, huge, negative or unknown id is a 404 (never a 500, never a
page), on every workspace and admin address that names a record."""

import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver

from clinic import urls as project_urls

pytestmark = pytest.mark.django_db

BAD_IDS = {
    "huge": "99999999999999999999999999",
    "beyond 64 bits": "9223372036854775808",
    "negative": "-1",
    "unknown": "999999",
    "text": "1 OR 1=1",
    "unicode": "é💉",
    "NUL": "\x00",
}
CONVERTER = re.compile(r"<(?:\w+:)?\w+>")


REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def plain(route):
    """A router's regular-expression route (the API's) written as a path route: <pk>."""
    return REGEX_GROUP.sub(r"<\1>", route).replace("^", "").removesuffix("$")


def routes(patterns, prefix=""):
    """Every route (as written, with its <converters>) under `patterns`."""
    for pattern in patterns:
        route = plain(prefix + str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and CONVERTER.search(route):
            yield route


# Every address of the workspace and the reports (the admin's are checked below).
WORKSPACE_ROUTES = sorted(
    route
    for route in set(routes(project_urls.urlpatterns))
    if not route.startswith(("admin/", "accounts/"))
)


def address(route, value):
    return "/" + CONVERTER.sub(quote(value, safe=""), route)


def browser_for(user):
    browser = Browser(raise_request_exception=False)
    browser.force_login(user)
    return browser


def request(browser, url):
    """GET `url` (through the permanent redirect of an old address to today's), or POST to it
    when it only takes POST."""
    response = browser.get(url)
    if response.status_code == 301:
        response = browser.get(response.url)
    if response.status_code == 405:
        response = browser.post(url, {})
    return response


def test_the_workspace_addresses_with_ids_are_all_covered():
    assert "clients/<int:pk>/edit/" in WORKSPACE_ROUTES
    assert "catalogue/<slug:slug>/" in WORKSPACE_ROUTES
    assert len(WORKSPACE_ROUTES) >= 11


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_a_bad_id_in_a_workspace_address_is_not_found(manager, value):
    """A manager, who may open every workspace and report page."""
    browser = browser_for(manager)
    statuses = {
        route: request(browser, address(route, value)).status_code for route in WORKSPACE_ROUTES
    }
    assert statuses == dict.fromkeys(WORKSPACE_ROUTES, 404)


def admin_routes():
    """Every admin route naming a record, for every registered model."""
    found = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        found += [prefix + route for route in routes(model_admin.get_urls())]
    return found


def test_the_admin_addresses_with_ids_are_all_covered():
    found = admin_routes()
    assert "admin/consultations/client/<path:object_id>/change/" in found
    assert "admin/treatments/treatmentsession/<path:object_id>/history/" in found


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_a_bad_id_in_an_admin_address_is_not_found(manager, value):
    """Not found (404), or the admin's own answer: back to the index saying the record does not
    exist (302), or refused (403) where the page is refused for every record."""
    browser = browser_for(manager)
    statuses = {
        route: request(browser, address(route, value)).status_code for route in admin_routes()
    }
    wrong = {route: status for route, status in statuses.items() if status not in {302, 403, 404}}
    assert not wrong
