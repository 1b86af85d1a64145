"""Versions: drafts, publishing that freezes, new drafts from published text, old versions kept;
signed consents that cannot be edited or deleted."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consent.models import ConsentDocument, ConsentVersion, Frozen, Kind, sha256_text, text_blocks
from consent.services import create_draft, current_version, new_draft_from, publish_version

pytestmark = pytest.mark.django_db


def treatment_document():
    return ConsentDocument.objects.get(kind=Kind.TREATMENT)


class TestShippedDocuments:
    def test_three_documents_ship_with_a_published_first_version(self):
        for kind in (Kind.TREATMENT, Kind.NUMBING, Kind.PHOTOGRAPHS):
            version = current_version(kind)
            assert version.number == 1 and version.is_published
            assert version.text_sha256 == sha256_text(version.text)

    def test_the_treatment_consent_names_every_risk_and_the_aftercare(self):
        text = current_version(Kind.TREATMENT).text.lower()
        for risk in [
            "redness and swelling",
            "1 to 3 days",
            "pinpoint bleeding",
            "post-inflammatory hyperpigmentation",
            "infection",
            "cold sore",
            "tram-track",
            "granulomas",
            "3 to 6 months",
            "results vary",
            "not painless",
            "## aftercare",
            "sunscreen",
            "48 to 72 hours",
        ]:
            assert risk in text, risk

    def test_text_with_headings_and_points_reads_as_blocks(self):
        blocks = text_blocks("## Risks\n- Redness\n- Swelling\n\nA paragraph\nthat runs on.")
        assert [b.kind for b in blocks] == ["heading", "points", "paragraph"]
        assert blocks[1].points == ("Redness", "Swelling")
        assert blocks[2].text == "A paragraph that runs on."


class TestVersioning:
    def test_a_draft_is_not_offered_until_published(self, manager):
        draft = create_draft(document=treatment_document(), text="## New\nText.", by=manager)
        assert draft.number == 2 and not draft.is_published
        assert current_version(Kind.TREATMENT).number == 1
        publish_version(version=draft, by=manager)
        offered = current_version(Kind.TREATMENT)
        assert offered.pk == draft.pk and offered.published_by == manager
        assert offered.text_sha256 == sha256_text("## New\nText.")

    def test_a_published_version_is_frozen(self, manager):
        version = current_version(Kind.TREATMENT)
        version.text = "Changed after publishing."
        with pytest.raises(Frozen):
            version.save()
        with pytest.raises(Frozen):
            version.delete()
        version.refresh_from_db()
        assert version.text != "Changed after publishing."

    def test_editing_a_published_version_starts_a_new_draft_with_its_text(self, manager):
        published = current_version(Kind.TREATMENT)
        draft = new_draft_from(version=published, by=manager)
        assert (draft.number, draft.text, draft.status) == (2, published.text, "draft")
        # The old version stays readable, unchanged.
        assert ConsentVersion.objects.get(pk=published.pk).text == published.text

    def test_one_draft_at_a_time(self, manager):
        create_draft(document=treatment_document(), text="One", by=manager)
        with pytest.raises(ValidationError, match="already has a draft"):
            create_draft(document=treatment_document(), text="Two", by=manager)
        with transaction.atomic(), pytest.raises(IntegrityError):
            ConsentVersion.objects.create(document=treatment_document(), number=9, text="x")

    def test_publishing_twice_is_refused(self, manager):
        with pytest.raises(ValidationError, match="already published"):
            publish_version(version=current_version(Kind.TREATMENT), by=manager)

    def test_a_draft_needs_text(self, manager):
        with pytest.raises(ValidationError, match="Write the text"):
            create_draft(document=treatment_document(), text="   ", by=manager)

    def test_a_second_document_of_a_kind_is_refused(self):
        with transaction.atomic(), pytest.raises(IntegrityError):
            ConsentDocument.objects.create(kind=Kind.TREATMENT, title="Another")
        ConsentDocument.objects.create(kind=Kind.OTHER, title="Peel")
        ConsentDocument.objects.create(kind=Kind.OTHER, title="Laser")  # "other": several


class TestSignedConsentIsFrozen:
    def test_a_signed_consent_cannot_be_edited_or_deleted(self, make_client, sign):
        signed = sign(make_client())
        signed.signer_name = "Someone else"
        with pytest.raises(Frozen):
            signed.save()
        with pytest.raises(Frozen):
            signed.save(update_fields=["signer_name"])
        with pytest.raises(Frozen):
            signed.delete()
        signed.refresh_from_db()
        assert signed.signer_name != "Someone else"
