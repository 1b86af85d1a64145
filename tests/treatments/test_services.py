import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from catalogue.models import Area
from consultations.models import Client
from treatments.models import PlanConcern, SessionProgress, TreatmentPlan, TreatmentSession
from treatments.services import (
    complete_plan,
    log_session,
    log_session_on_locked,
    start_plan,
    stop_plan,
    suggest_course,
    void_session,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
Status = TreatmentPlan.Status


def weeks(n):
    return datetime.timedelta(weeks=n)


class TestSuggestCourse:
    def test_a_single_concern_gives_its_catalogue_course(self, make_consultation):
        consultation = make_consultation(concerns=[("stretch-marks", Area.ABDOMEN)])
        suggestion = suggest_course(consultation=consultation)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (2, 12)
        assert suggestion.sessions == 6
        assert suggestion.interval_weeks == 4
        assert suggestion.range_display == "2-12 sessions"

    def test_combined_concerns_take_the_widest_range_and_the_longest_usual_course(
        self, make_consultation
    ):
        consultation = make_consultation(
            concerns=[("acne-scars", Area.CHEEKS), ("fine-lines-wrinkles", Area.FOREHEAD)]
        )
        suggestion = suggest_course(consultation=consultation)
        # acne scars 3-6 (usually 3), wrinkles 2-6 (usually 4)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (2, 6)
        assert suggestion.sessions == 4

    def test_interval_is_the_shortest_that_every_concern_allows(self, make_consultation):
        # sun damage: every 2 weeks (2-2); fine lines: every 4 weeks (4-4) -> 4
        both = make_consultation(
            concerns=[("sun-damage", Area.FACE), ("fine-lines-wrinkles", Area.FOREHEAD)]
        )
        assert suggest_course(consultation=both).interval_weeks == 4
        # acne scars: 4 (2-6); sun damage: 2 (2-2) -> 2
        scars = make_consultation(concerns=[("acne-scars", Area.CHEEKS), ("sun-damage", Area.FACE)])
        assert suggest_course(consultation=scars).interval_weeks == 2
        # hair: weekly (1-4); acne scars: 4 (2-6) -> 2, never sooner than scars allow
        hair = make_consultation(
            concerns=[("hair-thinning", Area.SCALP), ("acne-scars", Area.CHEEKS)]
        )
        assert suggest_course(consultation=hair).interval_weeks == 2

    def test_every_caution_from_screening_and_concerns_is_listed(
        self, make_client, make_consultation
    ):
        client = make_client(skin_type=Client.SkinType.VI)
        consultation = make_consultation(
            client,
            concerns=[("acne-scars", Area.CHEEKS), ("active-acne", Area.FOREHEAD)],
            keloid_tendency=True,
            isotretinoin_recent=True,
        )
        cautions = " | ".join(suggest_course(consultation=consultation).all_cautions)
        assert "Keloid tendency with a scar concern" in cautions
        assert "Isotretinoin in the last 6 months" in cautions
        assert "Fitzpatrick type VI" in cautions
        assert "spread bacteria" in cautions
        assert "Active acne and blackheads: no typical course is established" in cautions
        assert "Atrophic acne scars: Do not needle over active acne" in cautions

    def test_concerns_without_a_course_do_not_shape_the_range(self, make_consultation):
        consultation = make_consultation(
            concerns=[("active-acne", Area.CHEEKS), ("melasma", Area.CHEEKS)]
        )
        suggestion = suggest_course(consultation=consultation)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (3, 12)
        only_acne = make_consultation(concerns=[("active-acne", Area.CHEEKS)])
        suggestion = suggest_course(consultation=only_acne)
        assert suggestion.sessions is None and suggestion.interval_weeks is None
        assert suggestion.range_display == "No established range"

    def test_a_subset_of_concerns_can_be_suggested(self, make_consultation):
        consultation = make_consultation(
            concerns=[("hair-thinning", Area.SCALP), ("acne-scars", Area.CHEEKS)]
        )
        scalp = consultation.concerns.filter(area=Area.SCALP)
        suggestion = suggest_course(consultation=consultation, recorded_concerns=scalp)
        assert (suggestion.sessions, suggestion.interval_weeks) == (12, 1)


class TestStartPlan:
    def test_keeps_both_the_suggestion_and_what_was_chosen(self, make_plan):
        plan = make_plan(planned_sessions=5, interval_weeks=6)
        assert plan.status == Status.ACTIVE
        assert (plan.suggested_sessions, plan.suggested_interval_weeks) == (3, 4)
        assert (plan.suggested_sessions_min, plan.suggested_sessions_max) == (3, 6)
        assert (plan.planned_sessions, plan.interval_weeks) == (5, 6)
        assert plan.next_due_on == plan.start_date
        assert plan.progress_label == "session 0 of 5"

    def test_not_suitable_is_refused_without_an_override_reason(self, make_consultation, make_plan):
        consultation = make_consultation(bleeding_disorder=True)
        with pytest.raises(ValidationError) as refused:
            make_plan(consultation)
        assert "not suitable" in refused.value.message_dict["override_reason"][0]
        assert not TreatmentPlan.objects.exists()

    def test_not_suitable_goes_ahead_with_a_recorded_override_reason(
        self, make_consultation, make_plan
    ):
        consultation = make_consultation(bleeding_disorder=True)
        plan = make_plan(consultation, override_reason="Haematologist cleared treatment.")
        assert plan.override_reason == "Haematologist cleared treatment."

    def test_a_blocked_area_only_matters_when_the_course_treats_it(
        self, make_consultation, practitioner
    ):
        consultation = make_consultation(
            concerns=[("acne-scars", Area.CHEEKS), ("stretch-marks", Area.ABDOMEN)],
            infection_in_area=True,
            affected_area=Area.CHEEKS,
        )
        plan = start_plan(
            consultation=consultation,
            recorded_concerns=consultation.concerns.filter(area=Area.ABDOMEN),
            planned_sessions=4,
            interval_weeks=4,
            practitioner=practitioner,
            by=practitioner,
        )
        assert [str(pc) for pc in PlanConcern.objects.filter(plan=plan)] == [
            "Stretch marks (striae) (abdomen)"
        ]

    def test_cautions_must_be_acknowledged(self, make_consultation, make_plan):
        consultation = make_consultation(isotretinoin_recent=True)
        with pytest.raises(ValidationError) as refused:
            make_plan(consultation, cautions_acknowledged=False)
        assert "cautions_acknowledged" in refused.value.message_dict

    def test_consent_is_required(self, make_consultation, make_plan):
        consultation = make_consultation(consent_given=False, consent_by="")
        with pytest.raises(ValidationError, match="not given consent"):
            make_plan(consultation)

    def test_concerns_must_come_from_the_consultation(self, make_consultation, practitioner):
        consultation, other = make_consultation(), make_consultation()
        with pytest.raises(ValidationError) as refused:
            start_plan(
                consultation=consultation,
                recorded_concerns=other.concerns.all(),
                planned_sessions=3,
                interval_weeks=4,
                practitioner=practitioner,
                by=practitioner,
            )
        assert "from this consultation" in refused.value.message_dict["concerns"][0]

    def test_planned_sessions_below_one_are_refused(self, make_plan):
        with pytest.raises(ValidationError) as refused:
            make_plan(planned_sessions=0)
        assert "planned_sessions" in refused.value.message_dict
        assert not TreatmentPlan.objects.exists()


class TestLogSession:
    def test_numbers_sessions_and_sets_the_next_due_date(self, make_plan, log):
        plan = make_plan(planned_sessions=3, interval_weeks=4)
        day = plan.start_date + weeks(1)
        first = log(plan, day)
        plan.refresh_from_db()
        assert first.number == 1
        assert plan.progress_label == "session 1 of 3"
        assert plan.last_session_on == day
        assert plan.next_due_on == day + weeks(4)

    def test_completes_the_course_when_the_planned_count_is_reached(self, make_plan, log):
        plan = make_plan(planned_sessions=2)
        log(plan, plan.start_date)
        log(plan, plan.start_date + weeks(4))
        plan.refresh_from_db()
        assert plan.status == Status.COMPLETED
        assert plan.ended_on == plan.start_date + weeks(4)
        assert plan.next_due_on is None
        assert plan.progress_label == "session 2 of 2"

    def test_records_depths_products_lots_and_progress(self, make_plan, log, product):
        plan = make_plan()
        recorded = plan.plan_concerns.get().recorded_concern
        session = log(
            plan,
            areas=[(Area.CHEEKS, Decimal("1.5")), (Area.FOREHEAD, Decimal("0.5"))],
            products=[(product("Hyaluronic"), " HA-2291 ")],
            progress=[(recorded, SessionProgress.Rating.SLIGHT, SessionProgress.Rating.MODERATE)],
            pain_score=4,
            skin_response=TreatmentSession.Response.PINPOINT_BLEEDING,
        )
        assert {(a.area, a.depth_mm) for a in session.areas.all()} == {
            ("cheeks", Decimal("1.50")),
            ("forehead", Decimal("0.50")),
        }
        assert session.products_used.get().lot_number == "HA-2291"
        assert session.progress.get().client_rating == SessionProgress.Rating.MODERATE

    @pytest.mark.parametrize("depth", ["0.20", "3.10"])
    def test_depth_outside_the_device_range_saves_nothing(self, make_plan, log, depth):
        plan = make_plan()
        with pytest.raises(ValidationError, match="between 0.25 and 3.0 mm"):
            log(plan, areas=[(Area.CHEEKS, Decimal(depth))])
        plan.refresh_from_db()
        assert not TreatmentSession.objects.exists()
        assert plan.sessions_logged == 0

    def test_a_session_in_the_future_is_refused(self, make_plan, log):
        plan = make_plan()
        with pytest.raises(ValidationError) as refused:
            log(plan, TODAY() + datetime.timedelta(days=1))
        assert refused.value.message_dict["performed_on"] == [
            "A session cannot be logged in the future."
        ]

    def test_a_session_before_the_course_started_is_refused(self, make_plan, log):
        plan = make_plan()
        with pytest.raises(ValidationError, match="cannot be earlier"):
            log(plan, plan.start_date - datetime.timedelta(days=1))

    @pytest.mark.parametrize("end", ["complete", "stop"])
    def test_no_session_on_a_completed_or_stopped_course(self, make_plan, log, practitioner, end):
        plan = make_plan()
        if end == "complete":
            complete_plan(plan=plan, by=practitioner)
        else:
            stop_plan(plan=plan, reason="Moved abroad", by=practitioner)
        with pytest.raises(ValidationError, match="no more sessions can be logged"):
            log(plan)
        assert not TreatmentSession.objects.exists()

    def test_sessions_are_logged_in_the_order_they_happened(self, make_plan, log):
        plan = make_plan()
        log(plan, plan.start_date + weeks(4))
        with pytest.raises(ValidationError) as refused:
            log(plan, plan.start_date + weeks(2))
        assert "log sessions in the order" in refused.value.message_dict["performed_on"][0]
        assert TreatmentSession.objects.count() == 1

    def test_needs_at_least_one_area_and_each_area_once(self, make_plan, log):
        plan = make_plan()
        with pytest.raises(ValidationError, match="at least one treated area"):
            log(plan, areas=[])
        with pytest.raises(ValidationError, match="Each area appears once"):
            log(plan, areas=[(Area.CHEEKS, Decimal("1")), (Area.CHEEKS, Decimal("1.5"))])

    def test_products_need_a_lot_number(self, make_plan, log, product):
        plan = make_plan()
        with pytest.raises(ValidationError, match="lot number"):
            log(plan, products=[(product("Hyaluronic"), "  ")])
        assert not TreatmentSession.objects.exists()

    def test_progress_only_for_the_courses_concerns(self, make_plan, make_consultation, log):
        plan = make_plan()
        stranger = make_consultation().concerns.get()
        with pytest.raises(ValidationError, match="Rate only the concerns"):
            log(plan, progress=[(stranger, 3, None)])


class TestEndPlan:
    def test_stopping_needs_a_reason(self, make_plan, practitioner):
        plan = make_plan()
        with pytest.raises(ValidationError) as refused:
            stop_plan(plan=plan, reason="  ", by=practitioner)
        assert refused.value.message_dict["end_reason"] == ["Say why the course is stopped."]
        plan.refresh_from_db()
        assert plan.status == Status.ACTIVE

    def test_stopping_records_reason_date_and_clears_the_due_date(self, make_plan, practitioner):
        plan = stop_plan(plan=make_plan(), reason="Pregnant; resume later", by=practitioner)
        assert plan.status == Status.STOPPED
        assert plan.ended_on == TODAY()
        assert plan.next_due_on is None
        assert plan.updated_by == practitioner

    def test_completing_by_hand(self, make_plan, log, practitioner):
        plan = make_plan(planned_sessions=4)
        log(plan)
        plan = complete_plan(plan=plan, by=practitioner, reason="Happy after one session")
        assert plan.status == Status.COMPLETED
        assert plan.progress_label == "session 1 of 4"

    def test_an_ended_course_cannot_end_again(self, make_plan, practitioner):
        plan = complete_plan(plan=make_plan(), by=practitioner)
        with pytest.raises(ValidationError, match="already completed"):
            stop_plan(plan=plan, reason="x", by=practitioner)


class TestQuerySets:
    def test_due_and_overdue(self, make_plan, log):
        overdue = make_plan(planned_sessions=3, interval_weeks=4)
        log(overdue, TODAY() - weeks(5))
        due_today = make_plan(planned_sessions=3, interval_weeks=4)
        log(due_today, TODAY() - weeks(4))
        later = make_plan(planned_sessions=3, interval_weeks=4)
        log(later, TODAY() - weeks(1))
        assert set(TreatmentPlan.objects.overdue()) == {overdue}
        assert set(TreatmentPlan.objects.due_by(TODAY())) == {overdue, due_today}
        assert overdue.__class__.objects.get(pk=overdue.pk).is_overdue()


# Queries ----------------------------------------------------------------------------------------

# Logging a session: read the course's concerns, lock the course and count its sessions (one
# query), write the session with its audit row (which keeps the session's rows), its areas,
# products and ratings (an insert each) and save the course (with its history), in a savepoint
# (2 queries).
LOG_SESSION_QUERIES = 11


@pytest.mark.parametrize("rows", [1, 5])
def test_logging_a_session_runs_the_same_queries_whatever_its_rows(
    make_plan, product, practitioner, django_assert_max_num_queries, rows
):
    plan = make_plan(planned_sessions=10)
    recorded = plan.plan_concerns.first().recorded_concern
    serum, numbing = product("Hyaluronic"), product("Lidocaine 4%")
    areas = [Area.CHEEKS, Area.FOREHEAD, Area.NECK, Area.SCALP, Area.HANDS][:rows]

    with django_assert_max_num_queries(LOG_SESSION_QUERIES):
        session = log_session(
            plan=plan,
            practitioner=practitioner,
            by=practitioner,
            areas=[(area, Decimal("1.50")) for area in areas],
            products=[(serum, f"LOT-{n}") for n in range(rows)],
            numbing=numbing,
            progress=[(recorded, SessionProgress.Rating.SLIGHT, None)],
        )

    assert session.areas.count() == rows
    assert session.products_used.count() == rows
    (version,) = session.history.all()
    assert version.history_user == practitioner
    assert version.rows == {
        "areas": [{"area": area, "depth_mm": "1.50"} for area in areas],
        "products": [{"product": serum.pk, "lot_number": f"LOT-{n}"} for n in range(rows)],
        "progress": [
            {"recorded_concern": recorded.pk, "practitioner_rating": 2, "client_rating": None}
        ],
    }


def test_a_concern_is_rated_once_a_session(make_plan, practitioner):
    plan = make_plan()
    recorded = plan.plan_concerns.first().recorded_concern

    with pytest.raises(ValidationError) as refused:
        log_session(
            plan=plan,
            practitioner=practitioner,
            by=practitioner,
            areas=[(recorded.area, Decimal("1.50"))],
            progress=[(recorded, 2, None), (recorded, 3, None)],
        )

    assert refused.value.message_dict == {"progress": ["Rate each concern once."]}
    assert not TreatmentSession.objects.exists()


def test_logging_on_a_course_not_read_locked_is_a_programming_error(make_plan, practitioner):
    plan = make_plan()
    session = {"practitioner": practitioner, "by": practitioner, "areas": [(Area.CHEEKS, "1.50")]}

    with (
        pytest.raises(TransactionManagementError, match="locked_with_counts"),
        transaction.atomic(),
    ):
        log_session_on_locked(plan=plan, **session)
    locked = TreatmentPlan.objects.locked_with_counts().get(pk=plan.pk)
    # The test runs in a transaction: as if the course had been read in one since ended.
    with (
        mock.patch.object(connection, "in_atomic_block", False),
        pytest.raises(TransactionManagementError, match="current transaction"),
    ):
        log_session_on_locked(plan=locked, **session)
    assert log_session_on_locked(plan=locked, **session).number == 1


def test_a_locked_course_comes_with_its_session_counts(make_plan, log, practitioner):
    plan = make_plan(planned_sessions=6)
    first = log(plan, TODAY() - weeks(4))
    log(plan, TODAY() - weeks(2))
    void_session(session=first, reason="Logged on the wrong client.", by=practitioner)

    with transaction.atomic():
        locked = TreatmentPlan.objects.locked_with_counts().get(pk=plan.pk)

    assert (locked.highest_number, locked.valid_count, locked.last_valid_on) == (
        2,
        1,
        TODAY() - weeks(2),
    )
    with transaction.atomic():
        empty = TreatmentPlan.objects.locked_with_counts().get(pk=make_plan().pk)
    assert (empty.highest_number, empty.valid_count, empty.last_valid_on) == (None, 0, None)
