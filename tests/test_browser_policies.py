"""Browser policies on every response: a Content-Security-Policy without unsafe-inline or
unsafe-eval, a Permissions-Policy allowing only this origin's camera, Referrer-Policy and
Cross-Origin-Opener-Policy. tests/browser/test_csp.py checks that no page breaks the policy in
Chromium; the template scan below finds inline code before a browser does."""

import re
from http import HTTPStatus

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATE_ROOTS = [settings.BASE_DIR / "templates"] + [
    path for path in settings.BASE_DIR.glob("*/templates") if path.is_dir()
]
INLINE_CODE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>"),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.S),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.S),
    "<style> block": re.compile(r"<style\b"),
}


def policy(response):
    return dict(
        (directive.split(" ", 1) + [""])[:2]
        for directive in response["Content-Security-Policy"].split("; ")
    )


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/admin/login/", "/no-such-page/"])
def test_every_response_carries_the_browser_policies(client, path):
    response = client.get(path)
    csp = policy(response)
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data: blob:"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["base-uri"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    assert "camera=(self)" in permissions
    assert "microphone=()" in permissions
    assert "geolocation=()" in permissions
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_signed_in_page_carries_them_too(signed_in):
    response = signed_in.get("/")
    assert response.status_code == HTTPStatus.OK
    assert "script-src 'self'" in response["Content-Security-Policy"]


def templates():
    return sorted(path for root in TEMPLATE_ROOTS for path in root.rglob("*.html"))


def test_the_scan_finds_inline_code():
    found = {
        name
        for name, pattern in INLINE_CODE.items()
        for sample in (
            "<script>alert(1)</script>",
            '<button onclick="go()">',
            '<div class="x"\n style="width: 1px">',
            "<style>p {}</style>",
        )
        if pattern.search(sample)
    }
    assert found == set(INLINE_CODE)
    assert not any(
        pattern.search('<script src="/static/x.js"></script><script type="application/json">')
        for pattern in INLINE_CODE.values()
    )


@pytest.mark.parametrize("template", templates(), ids=lambda path: str(path.name))
def test_no_template_has_inline_code(template):
    """No inline script, event handler, style attribute or <style> block: the policy would
    refuse them (scripts and styles belong in the static files)."""
    text = template.read_text()
    assert [name for name, pattern in INLINE_CODE.items() if pattern.search(text)] == []
