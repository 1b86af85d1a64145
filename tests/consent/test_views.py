"""The consent pages: signing on the tablet-sized page, hostile input on it, the PDF download
(role-checked and logged), withdrawal, the client page and Today; the admin's read-only rules."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from clinic import roles
from consent.models import ConsentDocument, ConsentVersion, Kind, SignedConsent
from consent.services import create_draft, current_version, publish_version
from consultations.models import ClientAccess
from tests.consent.conftest import png_data_url
from tests.pages import SIGNED_IN_QUERIES, submission_keys, text

pytestmark = pytest.mark.django_db


def sign_url(client, kind=Kind.TREATMENT):
    return reverse("consent:sign", args=[client.pk, kind])


def sign_data(page, **values):
    version = current_version(Kind.TREATMENT)
    data = {
        "version": version.pk,
        "signer_name": "Jo Bloggs",
        "relationship": "client",
        "signature": png_data_url(),
        "typed_name": "",
        "submission_key": submission_keys(page)[0],
    }
    data.update(values)
    return data


class TestSigningPage:
    def test_the_page_shows_the_exact_version_and_the_pad(self, signed_in, make_client):
        client = make_client()
        response = signed_in.get(sign_url(client))
        assert response.status_code == HTTPStatus.OK
        page = response.content.decode()
        assert "Tram-track marks" in text(response)
        assert "version 1" in text(response)
        assert 'id="signature-pad"' in page
        assert "signature_pad/signature_pad.umd.min.js" in page
        assert "consent/signing.js" in page
        # No inline script, handler or style (CSP without unsafe-inline).
        assert not re.search(r"<script>(?!\s*$)|<script(?![^>]*\bsrc=)[^>]*>[^<]", page)
        assert not re.search(r"\son[a-z]+=|\sstyle=|<style", page)

    def test_signing_saves_one_consent_witnessed_by_the_practitioner(
        self, signed_in, make_client, practitioner
    ):
        client = make_client()
        page = signed_in.get(sign_url(client))
        data = sign_data(page, signer_name=client.full_name)
        response = signed_in.post(sign_url(client), data)
        assert response.status_code == HTTPStatus.FOUND
        signed = SignedConsent.objects.get(client=client)
        assert signed.witness == practitioner and signed.signature and signed.pdf
        # The same post again (a double tap): saved once.
        again = signed_in.post(sign_url(client), data, follow=True)
        assert "saved once" in text(again)
        assert SignedConsent.objects.filter(client=client).count() == 1

    def test_the_typed_name_is_the_accessible_alternative(self, signed_in, make_client):
        client = make_client()
        page = signed_in.get(sign_url(client, Kind.PHOTOGRAPHS))
        data = sign_data(page, signature="", typed_name="jo  bloggs")
        data["version"] = current_version(Kind.PHOTOGRAPHS).pk
        response = signed_in.post(sign_url(client, Kind.PHOTOGRAPHS), data)
        assert response.status_code == HTTPStatus.FOUND
        assert SignedConsent.objects.get(client=client).typed_name == "jo bloggs"

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"signature": ""}, "Sign on the pad, or type the full name instead."),
            ({"signature": "data:image/png;base64,%%%"}, "The signature could not be read"),
            ({"signature": "data:text/html,<script>alert(1)</script>"}, "could not be read"),
            ({"signature": png_data_url(ink=False)}, "The pad is empty"),
            ({"signature": png_data_url(size=(9000, 100))}, "too large"),
            ({"signature": "data:image/png;base64," + "A" * 900_000}, "too large"),
            ({"signature": "", "typed_name": "Someone Else"}, "exactly as given"),
            ({"signer_name": ""}, "This field is required."),
            ({"signer_name": "x" * 500}, "at most 200 characters"),
            ({"relationship": "owner"}, "Select a valid choice"),
            ({"version": "abc"}, "A newer version"),
            ({"version": "999999"}, "A newer version"),
        ],
    )
    def test_hostile_input_gets_a_message_and_saves_nothing(
        self, signed_in, make_client, values, message
    ):
        client = make_client()
        page = signed_in.get(sign_url(client))
        response = signed_in.post(sign_url(client), sign_data(page, **values))
        assert response.status_code == HTTPStatus.OK
        assert message in text(response)
        assert not SignedConsent.objects.exists()
        # What was typed is kept; the drawing is not sent back.
        if values.get("signer_name") is None:
            assert 'value="Jo Bloggs"' in response.content.decode()

    def test_unknown_kinds_and_clients_are_not_found(self, signed_in, make_client):
        client = make_client()
        assert signed_in.get(f"/clients/{client.pk}/consent/tattoo/sign/").status_code == 404
        assert signed_in.get("/clients/999999/consent/treatment/sign/").status_code == 404

    def test_without_a_role_the_page_is_refused(self, client, make_user, make_client):
        client.force_login(make_user(role=None))
        assert client.get(sign_url(make_client())).status_code == HTTPStatus.FORBIDDEN


class TestPdfDownload:
    def test_staff_download_it_and_the_access_is_logged(
        self, signed_in, make_client, sign, practitioner
    ):
        signed = sign(make_client())
        response = signed_in.get(reverse("consent:pdf", args=[signed.pk]))
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        access = ClientAccess.objects.get(client=signed.client)
        assert access.user == practitioner and access.what.startswith("consent PDF")

    def test_without_a_role_it_is_refused(self, client, make_user, make_client, sign):
        signed = sign(make_client())
        client.force_login(make_user(role=None))
        assert client.get(reverse("consent:pdf", args=[signed.pk])).status_code == 403
        assert not ClientAccess.objects.exists()


class TestWithdrawal:
    def test_a_withdrawal_through_the_form_needs_a_reason(self, signed_in, make_client, sign):
        signed = sign(make_client(), Kind.PHOTOGRAPHS)
        url = reverse("consent:withdraw", args=[signed.pk])
        response = signed_in.post(url, {"reason": ""})
        assert "This field is required." in text(response)
        response = signed_in.post(url, {"reason": "Does not want photos any more."})
        assert response.status_code == HTTPStatus.FOUND
        signed.refresh_from_db()
        assert signed.is_withdrawn
        page = signed_in.get(signed.client.get_absolute_url())
        assert "Withdrawn" in text(page) and "Does not want photos any more." in text(page)


class TestClientPageAndToday:
    def test_the_client_page_shows_each_consent_and_who_must_sign(
        self, signed_in, make_consultation, django_assert_max_num_queries
    ):
        client = make_consultation().client
        with django_assert_max_num_queries(SIGNED_IN_QUERIES + 30):
            response = signed_in.get(client.get_absolute_url())
        page = text(response)
        assert "Micro-needling treatment: Signed" in page
        assert "Clinical photographs: Needs signing" in page
        assert sign_url(client, Kind.PHOTOGRAPHS) in response.content.decode()

    def test_today_lists_clients_to_sign_again(self, signed_in, make_course, manager):
        course = make_course()
        assert "To sign consent again" not in text(signed_in.get("/"))
        draft = create_draft(
            document=ConsentDocument.objects.get(kind="treatment"),
            text="## New\nText.",
            by=manager,
            requires_reconsent=True,
        )
        publish_version(version=draft, by=manager)
        response = signed_in.get("/")
        assert "To sign consent again" in text(response)
        assert course.client.full_name in text(response)

    def test_starting_a_course_without_consent_links_to_signing(self, signed_in, make_consultation):
        consultation = make_consultation(signed=False)
        response = signed_in.get(reverse("treatments:course-create", args=[consultation.pk]))
        assert "has no valid signed consent" in text(response)
        assert sign_url(consultation.client) in response.content.decode()


class TestAdmin:
    def test_managers_write_a_draft_and_publish_it(self, manager_client, manager):
        document = ConsentDocument.objects.get(kind="numbing")
        response = manager_client.post(
            reverse("admin:consent_consentversion_add"),
            {"document": document.pk, "text": "## Numbing\nNew text.", "requires_reconsent": "on"},
        )
        assert response.status_code == HTTPStatus.FOUND
        draft = ConsentVersion.objects.get(document=document, status="draft")
        assert draft.number == 2 and draft.created_by == manager
        manager_client.post(
            reverse("admin:consent_consentversion_changelist"),
            {"action": "publish", "_selected_action": [draft.pk]},
        )
        draft.refresh_from_db()
        assert draft.is_published and draft.requires_reconsent

    def test_a_published_version_is_read_only_in_the_admin(self, manager_client):
        version = current_version(Kind.TREATMENT)
        url = reverse("admin:consent_consentversion_change", args=[version.pk])
        page = manager_client.get(url)
        assert page.status_code == HTTPStatus.OK
        assert 'name="text"' not in page.content.decode()
        response = manager_client.post(url, {"text": "Rewritten", "document": version.document_id})
        assert response.status_code == HTTPStatus.FORBIDDEN
        delete = reverse("admin:consent_consentversion_delete", args=[version.pk])
        assert manager_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
        version.refresh_from_db()
        assert version.text != "Rewritten"

    def test_a_signed_consent_is_read_only_in_the_admin(self, manager_client, make_client, sign):
        signed = sign(make_client())
        url = reverse("admin:consent_signedconsent_change", args=[signed.pk])
        page = manager_client.get(url)
        assert page.status_code == HTTPStatus.OK
        assert "Record a withdrawal" in page.content.decode()
        response = manager_client.post(url, {"signer_name": "Forged"})
        assert response.status_code == HTTPStatus.FORBIDDEN
        delete = reverse("admin:consent_signedconsent_delete", args=[signed.pk])
        assert manager_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
        assert manager_client.get(reverse("admin:consent_signedconsent_add")).status_code == 403
        signed.refresh_from_db()
        assert signed.signer_name != "Forged"

    def test_the_new_draft_action_copies_a_published_text(self, manager_client):
        version = current_version(Kind.PHOTOGRAPHS)
        manager_client.post(
            reverse("admin:consent_consentversion_changelist"),
            {"action": "new_draft", "_selected_action": [version.pk]},
        )
        draft = ConsentVersion.objects.get(document=version.document, status="draft")
        assert draft.text == version.text and draft.number == 2

    def test_aestheticians_read_documents_and_sign_but_do_not_write_versions(self):
        assert ("consent", "add_signedconsent") in roles.AESTHETICIAN_PERMISSIONS
        assert ("consent", "change_consentversion") not in roles.AESTHETICIAN_PERMISSIONS


def test_withdrawn_photo_consent_flags_the_photos_already_taken(
    signed_in, make_consultation, manager
):
    from consent.services import withdraw_consent

    client = make_consultation(photo_consent=True).client
    gallery = reverse("treatments:client-photos", args=[client.pk])
    assert "Consent to photographs withdrawn" not in text(signed_in.get(gallery))
    consent = SignedConsent.objects.get(client=client, document__kind="photographs")
    withdraw_consent(consent=consent, reason="Does not want photos kept.", by=manager)
    assert "Consent to photographs withdrawn" in text(signed_in.get(gallery))
    assert "Consent to photographs withdrawn" in text(signed_in.get(client.get_absolute_url()))


def test_the_history_export_holds_each_consent_with_its_pdf(manager_client, make_consultation):
    import base64
    import json

    client = make_consultation().client
    response = manager_client.get(reverse("reports:client-export", args=[client.pk]))
    consents = json.loads(response.content)["consents"]
    assert sorted(c["document"] for c in consents) == [
        "Micro-needling treatment consent",
        "Numbing cream consent",
    ]
    for consent in consents:
        assert consent["state"] == "Signed" and len(consent["text_sha256"]) == 64
        assert base64.b64decode(consent["pdf_base64"]).startswith(b"%PDF")
        assert consent["pdf_url"] == reverse("consent:pdf", args=[consent["id"]])
