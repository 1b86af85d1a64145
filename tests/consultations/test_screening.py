import pytest
from django.core.exceptions import ValidationError

from consultations.models import Client, Consultation
from consultations.screening import ABSOLUTE, RELATIVE
from consultations.services import record_consultation

pytestmark = pytest.mark.django_db

Outcome = Consultation.Outcome


def test_clear_screening_on_type_ii_skin_is_suitable(make_consultation):
    consultation = make_consultation(concerns=[("fine-lines-wrinkles", "face")])
    assessment = consultation.assess()
    assert consultation.outcome == Outcome.SUITABLE
    assert assessment.contraindications == []
    assert assessment.cautions == []


@pytest.mark.parametrize(("answer", "reason", "area_bound"), ABSOLUTE)
def test_every_absolute_contraindication_makes_it_not_suitable(
    make_consultation, answer, reason, area_bound
):
    consultation = make_consultation(**{answer: True})
    assert consultation.outcome == Outcome.NOT_SUITABLE
    assessment = consultation.assess()
    assert assessment.contraindications == [reason]
    assert assessment.blocks("cheeks")


@pytest.mark.parametrize(("answer", "caution"), RELATIVE)
def test_every_relative_contraindication_is_a_caution(make_consultation, answer, caution):
    consultation = make_consultation(concerns=[("fine-lines-wrinkles", "face")], **{answer: True})
    assert consultation.outcome == Outcome.CAUTIONS
    assert caution in consultation.assess().cautions
    assert not consultation.assess().blocked_areas


def test_an_infection_in_one_area_blocks_only_that_area(make_consultation):
    consultation = make_consultation(
        concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")],
        infection_in_area=True,
        affected_area="cheeks",
    )
    assessment = consultation.assess()
    assert assessment.blocks("cheeks")
    assert not assessment.blocks("abdomen")


def test_a_bleeding_disorder_blocks_every_area_whatever_the_affected_area(make_consultation):
    consultation = make_consultation(bleeding_disorder=True, affected_area="cheeks")
    assert consultation.assess().blocks("scalp")


def test_keloid_tendency_with_a_scar_concern_adds_a_combined_caution(make_consultation):
    scars = make_consultation(concerns=[("acne-scars", "cheeks")], keloid_tendency=True)
    lines = make_consultation(concerns=[("fine-lines-wrinkles", "face")], keloid_tendency=True)
    assert any(
        "Keloid tendency with a scar concern (Atrophic acne scars)" in c
        for c in scars.assess().cautions
    )
    assert not any("with a scar concern" in c for c in lines.assess().cautions)


def test_fitzpatrick_iv_to_vi_is_a_pigment_caution_stronger_with_pigment_concerns(
    make_client, make_consultation
):
    client = make_client(skin_type=Client.SkinType.V)
    consultation = make_consultation(client, concerns=[("melasma", "cheeks")])
    cautions = consultation.assess().cautions
    assert consultation.outcome == Outcome.CAUTIONS
    assert any("Fitzpatrick type V" in c and "21.9%" in c for c in cautions)
    assert any("Pigment concern on type V skin" in c for c in cautions)


def test_isotretinoin_in_the_last_six_months_is_a_caution(make_consultation):
    consultation = make_consultation(isotretinoin_recent=True)
    assert any("Isotretinoin" in c for c in consultation.assess().cautions)


def test_active_acne_as_a_concern_warns_of_spreading_bacteria(make_consultation):
    consultation = make_consultation(concerns=[("active-acne", "cheeks")])
    assert consultation.outcome == Outcome.CAUTIONS
    assert any("spread bacteria" in c for c in consultation.assess().cautions)


def test_anticoagulants_with_melasma_warn_against_tranexamic_acid(make_consultation):
    consultation = make_consultation(concerns=[("melasma", "cheeks")], anticoagulants=True)
    assert any(
        "Anticoagulants with Melasma" in c and "tranexamic acid" in c
        for c in consultation.assess().cautions
    )


class TestRecordConsultation:
    def test_needs_at_least_one_concern(self, make_client, practitioner):
        with pytest.raises(ValidationError, match="at least one concern"):
            record_consultation(
                client=make_client(), practitioner=practitioner, by=practitioner, concerns=[]
            )
        assert not Consultation.objects.exists()

    def test_the_same_concern_twice_for_one_area_saves_nothing(
        self, make_client, practitioner, concern
    ):
        twice = [{"concern": concern("melasma"), "area": "cheeks"}] * 2
        with pytest.raises(ValidationError, match="recorded twice"):
            record_consultation(
                client=make_client(), practitioner=practitioner, by=practitioner, concerns=twice
            )
        assert not Consultation.objects.exists()

    def test_archived_client_is_refused(self, make_client, practitioner, concern):
        with pytest.raises(ValidationError, match="archived"):
            record_consultation(
                client=make_client(archived=True),
                practitioner=practitioner,
                by=practitioner,
                concerns=[{"concern": concern("melasma"), "area": "cheeks"}],
            )

    def test_consent_time_is_recorded_when_consent_is_given(self, make_consultation):
        consultation = make_consultation(consent_given=True, consent_by="Jo Bloggs")
        assert consultation.consent_at is not None
        assert consultation.consent_by == "Jo Bloggs"
