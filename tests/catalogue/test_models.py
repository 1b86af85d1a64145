"""The catalogue as every new database ships it, and the rules its rows keep."""

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from catalogue.models import Concern, Product

CORRECTION = importlib.import_module(
    "catalogue.migrations.0004_catalogue_corrected_against_the_sources"
)
CORRECTION_REASON = "Corrected against the published sources"

pytestmark = pytest.mark.django_db

CATALOGUE_SLUGS = {
    "acne-scars",
    "atrophic-scars",
    "stretch-marks",
    "fine-lines-wrinkles",
    "skin-laxity",
    "texture-pores",
    "hyperpigmentation",
    "melasma",
    "sun-damage",
    "rosacea",
    "hair-thinning",
    "active-acne",
}


def violates(constraint):
    return pytest.raises(IntegrityError, match=constraint)


class TestShippedCatalogue:
    def test_every_concern_of_the_domain_notes_ships_with_migrate(self):
        assert set(Concern.objects.values_list("slug", flat=True)) >= CATALOGUE_SLUGS

    def test_every_shipped_concern_is_complete_and_valid(self):
        for concern in Concern.objects.all():
            concern.full_clean()
            assert concern.benefit and concern.evidence_summary and concern.summary
            assert concern.evidence_level in Concern.Evidence.values
            assert concern.sources

    @pytest.mark.parametrize(
        ("slug", "sessions", "interval", "evidence"),
        [
            ("acne-scars", (3, 3, 6), (2, 4, 6), "moderate"),
            ("stretch-marks", (2, 6, 12), (2, 4, 4), "low_moderate"),
            ("fine-lines-wrinkles", (2, 4, 6), (4, 4, 4), "low_moderate"),
            ("sun-damage", (6, 6, 6), (2, 2, 2), "low"),
            ("hair-thinning", (4, 12, 12), (1, 1, 4), "moderate"),
            ("rosacea", (2, 2, 2), (4, 4, 4), "very_low"),
        ],
    )
    def test_figures_match_the_domain_notes(self, concern, slug, sessions, interval, evidence):
        row = concern(slug)
        assert (row.sessions_min, row.sessions_typical, row.sessions_max) == sessions
        assert (row.interval_min_weeks, row.interval_weeks, row.interval_max_weeks) == interval
        assert row.evidence_level == evidence

    def test_stretch_marks_give_the_clinic_range_and_note_the_studies(self, concern):
        row = concern("stretch-marks")
        assert row.sessions_display == "2-12 sessions"
        assert "1-6" in row.sessions_note
        assert (row.depth_min_mm, row.depth_max_mm) == (Decimal("1.50"), Decimal("2.00"))

    def test_active_acne_has_no_course_and_says_needling_is_not_a_treatment(self, concern):
        row = concern("active-acne")
        assert not row.has_typical_course
        assert row.sessions_display == "No established course"
        assert "not a treatment" in row.benefit
        assert "spread bacteria" in row.cautions
        assert row.inflammatory_concern

    def test_catalogue_is_honest_about_the_seed_claims(self, concern):
        assert "not what trials show" in concern("acne-scars").evidence_summary
        assert "does not revive dead follicles" in concern("hair-thinning").benefit
        assert "no evidence it reduces oil" in concern("texture-pores").evidence_summary

    def test_risk_flags_drive_the_screening(self, concern):
        assert {c.slug for c in Concern.objects.filter(scar_concern=True)} == {
            "acne-scars",
            "atrophic-scars",
            "stretch-marks",
        }
        assert concern("melasma").pigment_concern
        assert concern("rosacea").inflammatory_concern

    def test_common_serums_and_numbing_creams_ship_as_products(self):
        kinds = set(Product.objects.values_list("kind", flat=True))
        assert {Product.Kind.SERUM, Product.Kind.NUMBING} <= kinds
        assert Product.objects.filter(name__startswith="Hyaluronic acid").exists()
        assert not Product.objects.get(name="Vitamin A serum").approved_for_needling


def test_every_shipped_entry_starts_its_history_when_it_was_shipped():
    for model in (Concern, Product):
        first = model.history.filter(history_type="+")
        assert first.count() == model.objects.count() > 0
        assert set(first.values_list("history_user", flat=True)) == {None}
    assert not Product.history.exclude(history_type="+").exists()


def test_the_correction_of_the_shipped_catalogue_is_in_its_history():
    corrections = Concern.history.filter(history_type="~")
    assert set(corrections.values_list("history_user", "history_change_reason")) == {
        (None, CORRECTION_REASON)
    }
    rosacea = corrections.get(slug="rosacea")
    assert rosacea.sources.startswith("Park 2016")
    assert rosacea.prev_record.sources == "PMC6122507."


class TestCorrectedCatalogue:
    """The shipped rows as corrected against the published sources (issue 14)."""

    def test_alam_2014_gave_three_sessions_two_weeks_apart(self, concern):
        scars = concern("acne-scars")
        assert "three sessions given two weeks apart" in scars.evidence_summary
        assert "monthly" not in scars.evidence_summary
        assert "JAMA Dermatol 150:844" in scars.sources
        assert "2 weeks apart" in scars.sources
        assert "review of 58 scar studies" in scars.sources

    def test_each_source_is_cited_for_the_concern_it_studied(self, concern):
        assert concern("melasma").sources.startswith("Saleh 2019")
        assert "33656167" not in concern("melasma").sources  # the fine-lines study
        assert "26549251" in concern("melasma").sources
        assert "33656167" in concern("fine-lines-wrinkles").sources
        assert "PMC7764156" not in concern("fine-lines-wrinkles").sources  # the scar review
        assert concern("sun-damage").sources.startswith("El-Domyati 2015")
        assert "III-IV" in concern("sun-damage").benefit
        assert concern("rosacea").sources.startswith("Park 2016, Dermatol Surg 42:1362")
        assert "13.6%" in concern("rosacea").evidence_summary
        assert concern("active-acne").sources.startswith("Harris 2015")
        assert "AAD" not in concern("active-acne").sources  # about home devices

    def test_the_102_percent_is_a_measure_under_the_skin_not_a_visible_doubling(self, concern):
        benefit = concern("fine-lines-wrinkles").benefit
        assert "on ultrasound by 102%" in benefit
        assert "doubled" not in benefit
        assert "surrogate" in concern("fine-lines-wrinkles").sources

    def test_the_21_9_percent_series_was_white_striae_in_mixed_skin_types(self, concern):
        cautions = concern("stretch-marks").cautions
        assert "striae alba" in cautions and "mixed skin types" in cautions
        assert "21.9%" in cautions and "Arch Dermatol Res 2023" in cautions
        assert "Alster & Li 2020 saw none in types I-V" in cautions
        assert "Arch Dermatol Res 2023 (n=32" in concern("stretch-marks").sources

    def test_rosacea_evidence_is_for_rf_micro_needling_only(self, concern):
        assert {c.slug for c in Concern.objects.filter(rf_only=True)} == {"rosacea"}
        assert "RF micro-needling" in concern("rosacea").evidence_summary

    def test_scar_and_fine_line_depths_start_where_the_area_chart_does(self, concern):
        # Around the eyes (and the mouth) the chart starts at 0.25 mm.
        assert concern("fine-lines-wrinkles").depth_min_mm == Decimal("0.25")
        assert concern("acne-scars").depth_min_mm == Decimal("0.25")
        assert concern("acne-scars").depth_max_mm == Decimal("2.00")
        assert "scar trials used 1.5 mm" in concern("acne-scars").depth_guidance

    def test_stretch_marks_show_the_clinics_range_beside_the_studies(self, concern):
        row = concern("stretch-marks")
        assert (row.studied_sessions_min, row.studied_sessions_max) == (1, 6)
        assert row.studies_differ
        assert f"{row.sessions_display} {row.sessions_basis}" == "2-12 sessions as clinics quote it"
        assert row.studied_sessions_display == "1-6 sessions"

    def test_every_concern_with_a_course_says_what_studies_used(self, concern):
        for row in Concern.objects.exclude(slug="active-acne"):
            assert row.studied_sessions_min is not None, row.slug
        assert {c.slug for c in Concern.objects.all() if c.studies_differ} == {
            "stretch-marks",
            "fine-lines-wrinkles",
        }
        scars = concern("acne-scars")
        assert not scars.studies_differ and scars.sessions_basis == "as in published studies"
        acne = concern("active-acne")
        assert acne.studied_sessions_display == "No published course"
        assert acne.sessions_basis == ""


class TestCatalogueCorrectionMigration:
    def test_a_managers_edit_stays_and_the_rest_is_corrected(self):
        Concern.objects.filter(slug="rosacea").update(
            sources="Our dermatologist's summary.",
            evidence_summary=CORRECTION.CORRECTIONS["rosacea"]["evidence_summary"][0],
            studied_sessions_min=None,
            studied_sessions_max=None,
            rf_only=False,
        )

        CORRECTION.correct(django_apps, SimpleNamespace(connection=connection))

        rosacea = Concern.objects.get(slug="rosacea")
        assert rosacea.sources == "Our dermatologist's summary."
        assert rosacea.evidence_summary.startswith("One clinic article suggests needling calms")
        assert "13.6%" in rosacea.evidence_summary
        assert (rosacea.studied_sessions_min, rosacea.studied_sessions_max, rosacea.rf_only) == (
            2,
            2,
            True,
        )
        latest = rosacea.history.first()
        assert (latest.history_type, latest.history_change_reason) == ("~", CORRECTION_REASON)
        assert latest.sources == "Our dermatologist's summary."

    def test_going_back_restores_the_shipped_text_but_not_a_managers(self):
        Concern.objects.filter(slug="sun-damage").update(sources="Edited by the clinic.")

        CORRECTION.uncorrect(django_apps, SimpleNamespace(connection=connection))

        assert Concern.objects.get(slug="sun-damage").sources == "Edited by the clinic."
        assert Concern.objects.get(slug="rosacea").sources == "PMC6122507."
        assert not Concern.history.filter(history_change_reason=CORRECTION_REASON).exists()


class TestConcernRules:
    def test_sessions_out_of_order_are_refused_politely(self, concern):
        row = concern("melasma")
        row.sessions_min, row.sessions_typical, row.sessions_max = 6, 4, 3
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert "between the minimum and maximum" in refused.value.message_dict["sessions_max"][0]

    def test_sessions_out_of_order_are_refused_by_the_database(self, concern):
        with transaction.atomic(), violates("concern_sessions_ordered"):
            Concern.objects.filter(slug="melasma").update(sessions_min=8, sessions_max=3)

    def test_zero_sessions_are_refused_by_the_database(self):
        with transaction.atomic(), violates("concern_sessions_ordered"):
            Concern.objects.filter(slug="melasma").update(sessions_min=0)

    def test_a_partial_session_range_is_refused(self, concern):
        row = concern("melasma")
        row.sessions_max = None
        with pytest.raises(ValidationError, match="leave all three empty"):
            row.full_clean()

    def test_intervals_out_of_order_are_refused(self, concern):
        row = concern("melasma")
        row.interval_min_weeks = 6
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert "interval_weeks" in refused.value.message_dict
        with transaction.atomic(), violates("concern_interval_ordered"):
            Concern.objects.filter(slug="melasma").update(interval_min_weeks=6)

    def test_depth_range_must_be_ordered_and_within_the_device_range(self, concern):
        row = concern("stretch-marks")
        row.depth_min_mm, row.depth_max_mm = Decimal("2.0"), Decimal("1.0")
        with pytest.raises(ValidationError, match="shallower depth"):
            row.full_clean()
        with transaction.atomic(), violates("concern_depth_ordered"):
            Concern.objects.filter(slug="stretch-marks").update(depth_max_mm=Decimal("3.5"))

    def test_the_range_studies_used_is_whole_and_ordered(self, concern):
        row = concern("stretch-marks")
        row.studied_sessions_max = None
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert "Give both ends" in refused.value.message_dict["studied_sessions_max"][0]
        row.studied_sessions_min, row.studied_sessions_max = 6, 1
        with pytest.raises(ValidationError, match="at least 1 session to its maximum"):
            row.full_clean()
        with transaction.atomic(), violates("concern_studied_sessions_ordered"):
            Concern.objects.filter(slug="stretch-marks").update(studied_sessions_min=7)
