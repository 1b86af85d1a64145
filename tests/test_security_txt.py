"""/.well-known/security.txt (RFC 9116): the clinic's contact for security problems."""

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

URL = "/.well-known/security.txt"


def fields(response):
    lines = response.content.decode().splitlines()
    pairs = [line.split(": ", 1) for line in lines if line]
    return [(name, value) for name, value in pairs]


def test_security_txt_names_the_configured_contacts_and_policy(client, settings):
    settings.SECURITY_CONTACT = ["mailto:security@clinic.example", "https://clinic.example/sec"]
    settings.SECURITY_POLICY_URL = "https://clinic.example/disclosure"

    response = client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    found = fields(response)
    assert ("Contact", "mailto:security@clinic.example") in found
    assert ("Contact", "https://clinic.example/sec") in found
    assert ("Policy", "https://clinic.example/disclosure") in found
    assert ("Canonical", "http://testserver/.well-known/security.txt") in found
    [expires] = [value for name, value in found if name == "Expires"]
    expires_at = datetime.datetime.strptime(expires, "%Y-%m-%dT%H:%M:%S%z")
    # RFC 9116: in the future, and less than a year ahead.
    assert timezone.now() < expires_at < timezone.now() + datetime.timedelta(days=365)


def test_without_a_contact_there_is_no_security_txt(client, settings):
    settings.SECURITY_CONTACT = []

    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_security_txt_needs_no_sign_in(client, settings):
    settings.SECURITY_CONTACT = ["mailto:security@clinic.example"]
    assert client.get(URL).status_code == HTTPStatus.OK
