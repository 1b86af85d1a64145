import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consultations.models import Client, Consultation, WashoutRule
from consultations.screening import ABSOLUTE, RELATIVE, Wait, add_months
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


# Findings in an area, and findings with a date --------------------------------------------------

TODAY = timezone.localdate


def days_ago(n):
    return TODAY() - datetime.timedelta(days=n)


def finding(kind, area="", on=None):
    return {"kind": kind, "area": area, "on": on}


def test_months_are_calendar_months_and_a_missing_day_is_the_months_last():
    assert add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2026, 1, 15), 1) == datetime.date(2026, 2, 15)
    assert Wait(2, "weeks", True).clears_on(datetime.date(2026, 5, 1)) == datetime.date(2026, 5, 15)
    assert Wait(3, "days", True).clears_on(datetime.date(2026, 5, 1)) == datetime.date(2026, 5, 4)


def test_the_shipped_washout_rules_are_the_domain_files():
    rules = {
        rule.kind: (rule.wait_amount, rule.wait_unit, rule.blocks)
        for rule in WashoutRule.objects.all()
    }
    assert rules == {
        "isotretinoin": (6, "months", False),  # label advice, mixed evidence: a caution
        "peel_or_laser": (2, "weeks", True),
        "filler": (2, "weeks", True),
        "tan_or_sunburn": (2, "weeks", True),
        "retinoids": (3, "days", True),
    }
    assert WashoutRule.history.count() == 5


def test_an_infection_found_in_two_areas_blocks_those_and_what_contains_them_only(
    make_consultation,
):
    consultation = make_consultation(
        concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")],
        findings=[
            finding("infection_in_area", "cheeks"),
            finding("infection_in_area", "neck"),
        ],
    )
    assessment = consultation.assess()

    assert consultation.infection_in_area  # the finding ticks its answer
    assert consultation.outcome == Outcome.NOT_SUITABLE
    assert assessment.contraindications == [
        "Active infection in the area: treat the infection first. (cheeks and chin, neck)"
    ]
    assert assessment.blocks("cheeks") and assessment.blocks("neck")
    assert assessment.blocks("face")  # the full face contains the cheeks
    assert not assessment.blocks("forehead")
    assert not assessment.blocks("abdomen")


def test_a_full_face_finding_blocks_every_facial_area(make_consultation):
    consultation = make_consultation(findings=[finding("lesion_in_area", "face")])
    assessment = consultation.assess()
    assert all(assessment.blocks(area) for area in ("cheeks", "periorbital", "face"))
    assert not assessment.blocks("neck")


def test_a_finding_in_every_area_blocks_every_area(make_consultation):
    consultation = make_consultation(findings=[finding("keloid_in_area")])
    assert consultation.keloid_in_area
    assert consultation.assess().blocks("scalp")


def test_a_peel_in_the_area_within_its_window_defers_with_the_date_it_clears(make_consultation):
    peeled = days_ago(125)  # five days before the consultation (held 120 days ago)
    consultation = make_consultation(findings=[finding("peel_or_laser", "cheeks", peeled)])
    clears = peeled + datetime.timedelta(weeks=2)

    assert consultation.outcome == Outcome.NOT_SUITABLE
    assert consultation.assess().contraindications == [
        f"Chemical peel, laser or IPL (cheeks and chin) on {peeled:%-d %b %Y}: no needling there "
        f"until {clears:%-d %b %Y} (2 weeks after)."
    ]
    assert not consultation.assess().blocked_areas  # a wait, not something to override


def test_a_peel_before_its_window_or_in_another_area_does_not_count(make_consultation):
    long_ago = make_consultation(findings=[finding("peel_or_laser", "cheeks", days_ago(200))])
    elsewhere = make_consultation(findings=[finding("filler", "forehead", days_ago(125))])
    assert long_ago.outcome == elsewhere.outcome == Outcome.SUITABLE


def test_isotretinoin_within_six_months_is_a_caution_that_says_when_it_clears(make_consultation):
    last_dose = days_ago(180)  # two months before the consultation
    consultation = make_consultation(findings=[finding("isotretinoin", on=last_dose)])

    assert consultation.isotretinoin_recent
    assert consultation.outcome == Outcome.CAUTIONS
    clears = add_months(last_dose, 6)
    assert any(f"until {clears:%-d %b %Y}" in c for c in consultation.assess().cautions)


def test_a_manager_can_make_isotretinoin_a_wait_that_refuses(make_consultation):
    WashoutRule.objects.filter(kind="isotretinoin").update(blocks=True, wait_amount=4)
    consultation = make_consultation(findings=[finding("isotretinoin", on=days_ago(180))])

    assert consultation.outcome == Outcome.NOT_SUITABLE
    clears = add_months(days_ago(180), 4)
    assert any(
        f"no needling until {clears:%-d %b %Y}" in c
        for c in consultation.assess().contraindications
    )


def test_an_isotretinoin_answer_from_before_dates_stays_a_caution(make_consultation):
    consultation = make_consultation(isotretinoin_recent=True)
    assert any("no date recorded" in c for c in consultation.assess().cautions)


def test_history_of_thrombosis_warns_against_tranexamic_acid_with_a_pigment_concern(
    make_consultation,
):
    consultation = make_consultation(concerns=[("melasma", "cheeks")], thrombosis_history=True)
    cautions = consultation.assess().cautions
    assert consultation.outcome == Outcome.CAUTIONS
    assert any(c.startswith("History of thrombosis: tranexamic acid") for c in cautions)
    assert any("History of thrombosis with Melasma" in c for c in cautions)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (finding("peel_or_laser", "cheeks"), "on", "Give the date: the wait runs from it."),
        (finding("filler", on=datetime.date(2026, 1, 1)), "area", "Choose the area it was in."),
        (
            finding("isotretinoin", "cheeks", datetime.date(2026, 1, 1)),
            "area",
            "It affects every area: leave the area empty.",
        ),
        (
            finding("infection_in_area", "cheeks", datetime.date(2026, 1, 1)),
            "on",
            "This finding does not lapse: leave the date empty.",
        ),
        (finding("tan_or_sunburn", on=TODAY() + datetime.timedelta(days=1)), "on", "in the future"),
    ],
)
def test_a_finding_without_what_its_rule_needs_saves_nothing(
    make_client, practitioner, concern, bad, field, message
):
    with pytest.raises(ValidationError) as refused:
        record_consultation(
            client=make_client(),
            practitioner=practitioner,
            by=practitioner,
            concerns=[{"concern": concern("melasma"), "area": "cheeks"}],
            findings=[bad],
        )
    assert any(message in m for m in refused.value.message_dict[field])
    assert not Consultation.objects.exists()


def test_the_same_finding_twice_in_one_area_saves_nothing(make_client, practitioner, concern):
    with pytest.raises(ValidationError, match="recorded twice"):
        record_consultation(
            client=make_client(),
            practitioner=practitioner,
            by=practitioner,
            concerns=[{"concern": concern("melasma"), "area": "cheeks"}],
            findings=[finding("keloid_in_area", "cheeks")] * 2,
        )
    assert not Consultation.objects.exists()


def test_the_consultation_keeps_a_copy_of_its_findings(make_consultation):
    consultation = make_consultation(
        findings=[
            finding("filler", "perioral", days_ago(130)),
            finding("lesion_in_area", "neck"),
        ]
    )
    assert [str(found) for found in consultation.found] == [
        f"Filler or neuromodulator in the area: date (around the mouth): {days_ago(130):%-d %b %Y}",
        "Skin cancer, suspicious lesion or warts (neck)",
    ]
    assert consultation.findings.count() == 2
