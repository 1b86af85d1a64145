"""The catalogue as every new database ships it, and the rules its rows keep."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalogue.models import Concern, Product

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
        assert model.history.count() == model.objects.count() > 0
        assert set(model.history.values_list("history_type", "history_user")) == {("+", None)}


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
