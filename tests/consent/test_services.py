"""Signing, the signature's checks, the frozen PDF, withdrawal, expiry and the gates on courses,
sessions, numbing and photos."""

import datetime
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from consent.models import ConsentDocument, Kind, SignedConsent
from consent.services import (
    create_draft,
    current_version,
    publish_version,
    sign_consent,
    withdraw_consent,
)
from consent.signature import BLANK, NOT_A_SIGNATURE, TOO_LARGE, clean_signature
from tests.consent.conftest import png_data_url
from treatments.photos.services import add_photo

pytestmark = pytest.mark.django_db


def pdf_text(signed):
    with signed.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def reconsent(manager, kind=Kind.TREATMENT, text="## Updated\nA new risk is named."):
    draft = create_draft(
        document=ConsentDocument.objects.get(kind=kind),
        text=text,
        by=manager,
        requires_reconsent=True,
    )
    return publish_version(version=draft, by=manager)


class TestSigning:
    def test_a_drawn_signature_is_kept_with_the_text_hash_witness_and_pdf(
        self, make_client, practitioner, drawn
    ):
        client = make_client(first_name="Zoë", last_name="Łukasiewicz-Øster")
        version = current_version(Kind.TREATMENT)
        signed = sign_consent(
            client=client,
            version=version,
            witness=practitioner,
            signer_name="Zoë Łukasiewicz-Øster",
            signature_data_url=drawn,
        )
        assert signed.is_signed and signed.document_version == version
        assert signed.text_sha256 == version.text_sha256
        assert signed.witness == practitioner and signed.relationship == "client"
        with signed.signature.open("rb") as stored:
            assert Image.open(stored).format == "PNG"
        text = pdf_text(signed)
        assert version.text_sha256 in text.replace(" ", "")
        assert "Zoë Łukasiewicz-Øster" in text
        assert "Redness and swelling, like a sunburn" in text
        assert "Tram-track marks" in text
        assert "Alex Smith" in text  # the witness

    def test_the_pdf_carries_the_clinics_details(self, make_client, sign):
        from catalogue.models import ClinicDetails

        ClinicDetails.objects.create(
            name="Glow Skin Clinic",
            phone="020 7946 0000",
            out_of_hours_advice="Call NHS 111 for a reaction at night.",
        )
        text = pdf_text(sign(make_client(), Kind.PHOTOGRAPHS))
        assert "Glow Skin Clinic" in text and "020 7946 0000" in text
        assert "Call NHS 111" in text
        assert "Signature typed as the full name" in text

    def test_a_parent_or_guardian_signs_for_a_client(self, make_client, sign):
        signed = sign(
            make_client(),
            signer_name="Pat Guardian",
            typed_name="pat guardian",
            relationship="guardian",
        )
        assert signed.get_relationship_display() == "Parent or guardian"
        assert "Pat Guardian (parent or guardian)" in pdf_text(signed)

    @pytest.mark.parametrize(
        ("extra", "field", "message"),
        [
            ({}, "signature", "Sign on the pad, or type the full name instead."),
            ({"typed_name": "Somebody Else"}, "typed_name", "exactly as given"),
            ({"signer_name": "  "}, "signer_name", "Give the signer's full name."),
            ({"relationship": "friend", "typed_name": "Jo Bloggs"}, "relationship", "Choose who"),
        ],
    )
    def test_what_is_missing_is_refused_and_nothing_is_saved(
        self, make_client, practitioner, extra, field, message
    ):
        values = {"signer_name": "Jo Bloggs", **extra}
        with pytest.raises(ValidationError) as refused:
            sign_consent(
                client=make_client(),
                version=current_version(Kind.TREATMENT),
                witness=practitioner,
                **values,
            )
        assert message in " ".join(refused.value.message_dict[field])
        assert not SignedConsent.objects.exists()

    def test_only_the_latest_published_version_is_signed(self, make_client, manager, sign):
        old = current_version(Kind.TREATMENT)
        reconsent(manager)
        with pytest.raises(ValidationError, match="newer version"):
            sign(make_client(), version=old)

    def test_both_a_drawing_and_a_typed_name_are_refused(self, make_client, sign, drawn):
        with pytest.raises(ValidationError, match="not both"):
            sign(make_client(), signature_data_url=drawn)


class TestSignatureChecks:
    def test_a_pad_drawing_passes(self, drawn):
        assert clean_signature(drawn).startswith(b"\x89PNG")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", NOT_A_SIGNATURE),
            ("data:image/jpeg;base64,AAAA", NOT_A_SIGNATURE),
            ("data:image/png;base64,not base64!!", NOT_A_SIGNATURE),
            ("data:image/png;base64,iVBORw0KGgo=", NOT_A_SIGNATURE),  # a PNG's start only
            (png_data_url(fmt="JPEG", mode="RGB"), NOT_A_SIGNATURE),  # a JPEG called PNG
            (png_data_url(ink=False), BLANK),
            (png_data_url(size=(5000, 200)), TOO_LARGE),
            ("data:image/png;base64," + "A" * 800_000, TOO_LARGE),
            ("<script>alert(1)</script>", NOT_A_SIGNATURE),
        ],
    )
    def test_anything_but_a_real_signature_is_refused_with_a_message(self, value, message):
        with pytest.raises(ValidationError) as refused:
            clean_signature(value)
        assert refused.value.messages == [message]


class TestWithdrawal:
    def test_a_withdrawal_is_recorded_with_its_reason(self, make_client, sign, manager):
        signed = sign(make_client())
        withdraw_consent(consent=signed, reason="Changed her mind.", by=manager)
        signed.refresh_from_db()
        assert signed.is_withdrawn and signed.withdrawn_by == manager
        assert signed.withdrawal_reason == "Changed her mind."
        assert signed.history.count() == 2  # signed, then withdrawn
        with pytest.raises(ValidationError, match="already withdrawn"):
            withdraw_consent(consent=signed, reason="Again", by=manager)

    def test_a_withdrawal_needs_a_reason(self, make_client, sign, manager):
        with pytest.raises(ValidationError, match="Say why"):
            withdraw_consent(consent=sign(make_client()), reason="  ", by=manager)


class TestGates:
    def test_no_course_without_a_signed_treatment_consent(self, make_consultation, make_course):
        consultation = make_consultation(signed=False)
        with pytest.raises(ValidationError, match="no valid signed consent") as refused:
            make_course(consultation)
        sign_url = f"/clients/{consultation.client_id}/consent/treatment/sign/"
        assert sign_url in str(refused.value)

    def test_no_session_once_the_consent_is_withdrawn(self, make_course, log, manager):
        course = make_course()
        consent = SignedConsent.objects.get(client=course.client, document__kind="treatment")
        withdraw_consent(consent=consent, reason="No longer wishes to continue.", by=manager)
        with pytest.raises(ValidationError, match="no valid signed consent"):
            log(course)
        assert not course.sessions.exists()

    def test_a_consent_expires_after_the_configured_months(self, make_course, log, settings):
        course = make_course()
        log(course, performed_on=course.start_date)
        settings.CONSENT_VALID_MONTHS = 3  # the consent was signed today; 3 months on it lapses
        later = timezone.now() + datetime.timedelta(days=95)
        with time_machine.travel(later), pytest.raises(ValidationError, match="expired"):
            log(course)
        settings.CONSENT_VALID_MONTHS = 12  # the default holds a year
        with time_machine.travel(timezone.now() + datetime.timedelta(days=95)):
            assert log(course).pk

    def test_a_version_requiring_reconsent_stops_older_consents(
        self, make_course, log, manager, sign
    ):
        course = make_course()
        reconsent(manager)
        with pytest.raises(ValidationError, match="no valid signed consent"):
            log(course)
        sign(course.client, again=True)  # the new version
        assert log(course).pk

    def test_a_new_version_without_reconsent_keeps_older_consents(self, make_course, log, manager):
        course = make_course()
        draft = create_draft(
            document=ConsentDocument.objects.get(kind="treatment"), text="Typo fixed.", by=manager
        )
        publish_version(version=draft, by=manager)
        assert log(course).pk

    def test_numbing_cream_needs_the_numbing_consent(self, make_course, log, product, manager):
        course = make_course()
        consent = SignedConsent.objects.get(client=course.client, document__kind="numbing")
        withdraw_consent(consent=consent, reason="Reacted to it.", by=manager)
        cream = product("Lidocaine 4")
        with pytest.raises(ValidationError) as refused:
            log(course, numbing=cream)
        assert "numbing cream" in refused.value.message_dict["numbing"][0]
        assert log(course).pk  # without numbing

    def test_photos_need_the_photo_consent_and_stop_when_it_is_withdrawn(
        self, make_consultation, make_course, log, sign, manager
    ):
        from tests.treatments.test_photos import image_bytes

        session = log(make_course(make_consultation()))

        def add():
            return add_photo(
                client=session.course.client,
                session=session,
                image_file=SimpleUploadedFile("a.jpg", image_bytes(), "image/jpeg"),
                area="cheeks",
                angle="front",
                by=manager,
            )

        with pytest.raises(ValidationError, match="not consented to photographs"):
            add()
        consent = sign(session.course.client, Kind.PHOTOGRAPHS)
        assert add().pk
        withdraw_consent(consent=consent, reason="No more photos.", by=manager)
        with pytest.raises(ValidationError, match="withdrew"):
            add()


class TestRecordedBeforeSigning:
    """The tick box's data, carried over by consent's migration 0003."""

    def carry_over(self):
        from importlib import import_module

        from django.apps import apps

        migration = import_module(
            "consent.migrations.0003_tick_box_consent_recorded_before_signing"
        )
        migration.carry_over(apps, None)

    def test_the_tick_box_becomes_a_consent_recorded_before_signing(
        self, make_consultation, make_course, log
    ):
        consultation = make_consultation(
            signed=False, photo_consent=True, consent_by="Pat (mother)"
        )
        make_consultation(signed=False, consent_given=False, consent_by="")  # nothing to carry
        self.carry_over()
        records = SignedConsent.objects.filter(client=consultation.client)
        assert sorted(r.document.kind for r in records) == ["numbing", "photographs", "treatment"]
        for record in records:
            assert record.state == "recorded_before" and not record.is_signed
            assert record.document_version is None and not record.pdf
            assert record.signer_name == "Pat (mother)" and record.relationship == "guardian"
            assert "recorded before signed consent was available" in str(record)
        assert SignedConsent.objects.count() == 3

    def test_it_lets_a_running_course_go_on_but_starts_no_new_one(
        self, make_consultation, make_course, log, sign
    ):
        consultation = make_consultation()
        course = make_course(consultation)
        # As if carried over from the tick box.
        SignedConsent.objects.all().update(state="recorded_before", document_version=None)
        assert SignedConsent.objects.filter(state="recorded_before").count() == 2
        with pytest.raises(ValidationError, match="no valid signed consent"):
            make_course(make_consultation(consultation.client, signed=False))
        assert log(course).pk
