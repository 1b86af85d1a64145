import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from catalogue.models import area_chart
from consultations.models import Client
from treatments.models import (
    Course,
    CourseConcern,
    SessionCounts,
    SessionProgress,
    TreatmentSession,
)
from treatments.services import (
    change_course,
    complete_course,
    log_session,
    log_session_on_locked,
    start_course,
    stop_course,
    suggest_course,
    void_session,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
Status = Course.Status


def weeks(n):
    return datetime.timedelta(weeks=n)


class TestSuggestCourse:
    def test_a_single_concern_gives_its_catalogue_course(self, make_consultation):
        consultation = make_consultation(concerns=[("stretch-marks", "abdomen")])
        suggestion = suggest_course(consultation=consultation)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (2, 12)
        assert suggestion.sessions == 6
        assert suggestion.interval_weeks == 4
        assert suggestion.range_display == "2-12 sessions"

    def test_combined_concerns_take_the_widest_range_and_the_longest_usual_course(
        self, make_consultation
    ):
        consultation = make_consultation(
            concerns=[("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")]
        )
        suggestion = suggest_course(consultation=consultation)
        # acne scars 3-6 (usually 3), wrinkles 2-6 (usually 4)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (2, 6)
        assert suggestion.sessions == 4

    def test_interval_is_the_longest_usual_one_inside_every_concerns_range(self, make_consultation):
        # acne scars: 4 (2-6); sun damage: 2 (2-2) -> 2, the only interval both allow
        scars = make_consultation(concerns=[("acne-scars", "cheeks"), ("sun-damage", "face")])
        assert suggest_course(consultation=scars).interval_weeks == 2
        # hair: weekly (1-4); acne scars: 4 (2-6) -> 4, the longer usual interval, in both ranges
        hair = make_consultation(concerns=[("hair-thinning", "scalp"), ("acne-scars", "cheeks")])
        suggestion = suggest_course(consultation=hair)
        assert suggestion.interval_weeks == 4
        # 12 weekly hair sessions become 4 monthly ones, the other trial protocol
        assert {p.concern.slug: p.usual_sessions for p in suggestion.plans} == {
            "hair-thinning": 4,
            "acne-scars": 3,
        }
        assert suggestion.sessions == 4

    def test_without_a_shared_interval_it_says_so_and_suggests_separate_courses(
        self, make_consultation
    ):
        # sun damage: every 2 weeks exactly; fine lines: every 4 weeks exactly
        both = make_consultation(
            concerns=[("sun-damage", "face"), ("fine-lines-wrinkles", "forehead")]
        )
        suggestion = suggest_course(consultation=both)
        assert suggestion.interval_weeks is None and suggestion.sessions is None
        assert not suggestion.interval_fits_all
        assert [(c.names, c.sessions, c.interval_weeks) for c in suggestion.separate_courses] == [
            ("Sun damage", 6, 2),
            ("Fine lines and wrinkles", 4, 4),
        ]

    def test_the_count_stops_at_the_lowest_maximum_and_says_who_is_cut_short(
        self, make_consultation
    ):
        # stretch marks: usually 6 (2-12); rosacea: 2 at most
        consultation = make_consultation(
            concerns=[("stretch-marks", "abdomen"), ("rosacea", "cheeks")]
        )
        suggestion = suggest_course(consultation=consultation)
        assert (suggestion.sessions, suggestion.interval_weeks) == (2, 4)
        [note] = suggestion.cut_short
        assert note.startswith("Stretch marks (striae) usually takes 6 sessions")
        assert "Rosacea redness stops at 2" in note

    def test_each_concern_is_planned_up_to_its_maximum(self, make_consultation):
        consultation = make_consultation(
            concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")]
        )
        per_concern = suggest_course(consultation=consultation).planned_per_concern(10)
        assert {plan.concern.slug: planned for plan, planned in per_concern} == {
            "acne-scars": 6,
            "stretch-marks": 10,
        }

    def test_every_caution_from_screening_and_concerns_is_listed(
        self, make_client, make_consultation
    ):
        client = make_client(skin_type=Client.SkinType.VI)
        consultation = make_consultation(
            client,
            concerns=[("acne-scars", "cheeks"), ("active-acne", "forehead")],
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
            concerns=[("active-acne", "cheeks"), ("melasma", "cheeks")]
        )
        suggestion = suggest_course(consultation=consultation)
        assert (suggestion.sessions_min, suggestion.sessions_max) == (3, 12)
        only_acne = make_consultation(concerns=[("active-acne", "cheeks")])
        suggestion = suggest_course(consultation=only_acne)
        assert suggestion.sessions is None and suggestion.interval_weeks is None
        assert suggestion.range_display == "No established range"

    def test_a_subset_of_concerns_can_be_suggested(self, make_consultation):
        consultation = make_consultation(
            concerns=[("hair-thinning", "scalp"), ("acne-scars", "cheeks")]
        )
        scalp = consultation.concerns.filter(area="scalp")
        suggestion = suggest_course(consultation=consultation, recorded_concerns=scalp)
        assert (suggestion.sessions, suggestion.interval_weeks) == (12, 1)


class TestStartCourse:
    def test_keeps_both_the_suggestion_and_what_was_chosen(self, make_course):
        course = make_course(planned_sessions=5, interval_weeks=6)
        assert course.status == Status.ACTIVE
        assert (course.suggested_sessions, course.suggested_interval_weeks) == (3, 4)
        assert (course.suggested_sessions_min, course.suggested_sessions_max) == (3, 6)
        assert (course.planned_sessions, course.interval_weeks) == (5, 6)
        assert course.next_due_on == course.start_date
        assert course.progress_label == "session 0 of 5"

    def test_not_suitable_is_refused_without_an_override_reason(
        self, make_consultation, make_course
    ):
        consultation = make_consultation(bleeding_disorder=True)
        with pytest.raises(ValidationError) as refused:
            make_course(consultation)
        assert "not suitable" in refused.value.message_dict["override_reason"][0]
        assert not Course.objects.exists()

    def test_not_suitable_goes_ahead_with_a_recorded_override_reason(
        self, make_consultation, make_course
    ):
        consultation = make_consultation(bleeding_disorder=True)
        course = make_course(consultation, override_reason="Haematologist cleared treatment.")
        assert course.override_reason == "Haematologist cleared treatment."

    def test_a_blocked_area_only_matters_when_the_course_treats_it(
        self, make_consultation, practitioner
    ):
        consultation = make_consultation(
            concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")],
            infection_in_area=True,
            affected_area="cheeks",
        )
        course = start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.filter(area="abdomen"),
            planned_sessions=4,
            interval_weeks=4,
            practitioner=practitioner,
            by=practitioner,
        )
        assert [str(pc) for pc in CourseConcern.objects.filter(course=course)] == [
            "Stretch marks (striae) (abdomen)"
        ]

    def test_cautions_must_be_acknowledged(self, make_consultation, make_course):
        consultation = make_consultation(isotretinoin_recent=True)
        with pytest.raises(ValidationError) as refused:
            make_course(consultation, cautions_acknowledged=False)
        assert "cautions_acknowledged" in refused.value.message_dict

    def test_consent_is_required(self, make_consultation, make_course):
        consultation = make_consultation(signed=False)
        with pytest.raises(ValidationError, match="no valid signed consent"):
            make_course(consultation)

    def test_concerns_must_come_from_the_consultation(self, make_consultation, practitioner):
        consultation, other = make_consultation(), make_consultation()
        with pytest.raises(ValidationError) as refused:
            start_course(
                consultation=consultation,
                recorded_concerns=other.concerns.all(),
                planned_sessions=3,
                interval_weeks=4,
                practitioner=practitioner,
                by=practitioner,
            )
        assert "from this consultation" in refused.value.message_dict["concerns"][0]

    def test_each_concern_treated_has_its_audit_row_by_who_started_the_course(
        self, make_course, practitioner
    ):
        course = make_course()

        versions = CourseConcern.history.filter(course_id=course.pk)
        assert [(v.history_type, v.history_user) for v in versions] == [("+", practitioner)]
        assert (
            versions.get().recorded_concern_id == course.course_concerns.get().recorded_concern_id
        )

    def test_planned_sessions_below_one_are_refused(self, make_course):
        with pytest.raises(ValidationError) as refused:
            make_course(planned_sessions=0)
        assert "planned_sessions" in refused.value.message_dict
        assert not Course.objects.exists()


class TestLogSession:
    def test_numbers_sessions_and_sets_the_next_due_date(self, make_course, log):
        course = make_course(planned_sessions=3, interval_weeks=4)
        day = course.start_date + weeks(1)
        first = log(course, day)
        course.refresh_from_db()
        assert first.number == 1
        assert course.progress_label == "session 1 of 3"
        assert course.last_session_on == day
        assert course.next_due_on == day + weeks(4)

    def test_completes_the_course_when_the_planned_count_is_reached(self, make_course, log):
        course = make_course(planned_sessions=2)
        log(course, course.start_date)
        log(course, course.start_date + weeks(4))
        course.refresh_from_db()
        assert course.status == Status.COMPLETED
        assert course.ended_on == course.start_date + weeks(4)
        assert course.next_due_on is None
        assert course.progress_label == "session 2 of 2"

    def test_records_depths_products_lots_and_progress(self, make_course, log, product):
        course = make_course()
        recorded = course.course_concerns.get().recorded_concern
        session = log(
            course,
            areas=[("cheeks", Decimal("1.5")), ("forehead", Decimal("0.5"))],
            products=[(product("Hyaluronic"), " HA-2291 ")],
            progress=[(recorded, SessionProgress.Rating.SLIGHT, SessionProgress.Rating.MODERATE)],
            pain_score=4,
            skin_response=TreatmentSession.Response.PINPOINT_BLEEDING,
        )
        assert {(a.area_id, a.depth_mm) for a in session.areas.all()} == {
            ("cheeks", Decimal("1.50")),
            ("forehead", Decimal("0.50")),
        }
        assert session.products_used.get().lot_number == "HA-2291"
        assert session.progress.get().client_rating == SessionProgress.Rating.MODERATE

    @pytest.mark.parametrize("depth", ["0.20", "3.10"])
    def test_depth_outside_the_device_range_saves_nothing(self, make_course, log, depth):
        course = make_course()
        with pytest.raises(ValidationError, match="between 0.25 and 3.0 mm"):
            log(course, areas=[("cheeks", Decimal(depth))])
        course.refresh_from_db()
        assert not TreatmentSession.objects.exists()
        assert course.sessions_logged == 0

    def test_a_session_in_the_future_is_refused(self, make_course, log):
        course = make_course()
        with pytest.raises(ValidationError) as refused:
            log(course, TODAY() + datetime.timedelta(days=1))
        assert refused.value.message_dict["performed_on"] == [
            "A session cannot be logged in the future."
        ]

    def test_a_session_before_the_course_started_is_refused(self, make_course, log):
        course = make_course()
        with pytest.raises(ValidationError, match="cannot be earlier"):
            log(course, course.start_date - datetime.timedelta(days=1))

    @pytest.mark.parametrize("end", ["complete", "stop"])
    def test_no_session_on_a_completed_or_stopped_course(self, make_course, log, practitioner, end):
        course = make_course()
        if end == "complete":
            complete_course(course=course, by=practitioner)
        else:
            stop_course(course=course, reason="Moved abroad", by=practitioner)
        with pytest.raises(ValidationError, match="no more sessions can be logged"):
            log(course)
        assert not TreatmentSession.objects.exists()

    def test_sessions_are_logged_in_the_order_they_happened(self, make_course, log):
        course = make_course()
        log(course, course.start_date + weeks(4))
        with pytest.raises(ValidationError) as refused:
            log(course, course.start_date + weeks(2))
        assert "log sessions in the order" in refused.value.message_dict["performed_on"][0]
        assert TreatmentSession.objects.count() == 1

    def test_needs_at_least_one_area_and_each_area_once(self, make_course, log):
        course = make_course()
        with pytest.raises(ValidationError, match="at least one treated area"):
            log(course, areas=[])
        with pytest.raises(ValidationError, match="Each area appears once"):
            log(course, areas=[("cheeks", Decimal("1")), ("cheeks", Decimal("1.5"))])

    def test_products_need_a_lot_number(self, make_course, log, product):
        course = make_course()
        with pytest.raises(ValidationError, match="lot number"):
            log(course, products=[(product("Hyaluronic"), "  ")])
        assert not TreatmentSession.objects.exists()

    def test_progress_only_for_the_courses_concerns(self, make_course, make_consultation, log):
        course = make_course()
        stranger = make_consultation().concerns.get()
        with pytest.raises(ValidationError, match="Rate only the concerns"):
            log(course, progress=[(stranger, 3, None)])


class TestEndCourse:
    def test_stopping_needs_a_reason(self, make_course, practitioner):
        course = make_course()
        with pytest.raises(ValidationError) as refused:
            stop_course(course=course, reason="  ", by=practitioner)
        assert refused.value.message_dict["end_reason"] == ["Say why the course is stopped."]
        course.refresh_from_db()
        assert course.status == Status.ACTIVE

    def test_stopping_records_reason_date_and_clears_the_due_date(self, make_course, practitioner):
        course = stop_course(course=make_course(), reason="Pregnant; resume later", by=practitioner)
        assert course.status == Status.STOPPED
        assert course.ended_on == TODAY()
        assert course.next_due_on is None
        assert course.updated_by == practitioner

    def test_completing_by_hand(self, make_course, log, practitioner):
        course = make_course(planned_sessions=4)
        log(course)
        course = complete_course(course=course, by=practitioner, reason="Happy after one session")
        assert course.status == Status.COMPLETED
        assert course.progress_label == "session 1 of 4"

    def test_an_ended_course_cannot_end_again(self, make_course, practitioner):
        course = complete_course(course=make_course(), by=practitioner)
        with pytest.raises(ValidationError, match="already completed"):
            stop_course(course=course, reason="x", by=practitioner)


class TestQuerySets:
    def test_due_and_overdue(self, make_course, log):
        overdue = make_course(planned_sessions=3, interval_weeks=4)
        log(overdue, TODAY() - weeks(5))
        due_today = make_course(planned_sessions=3, interval_weeks=4)
        log(due_today, TODAY() - weeks(4))
        later = make_course(planned_sessions=3, interval_weeks=4)
        log(later, TODAY() - weeks(1))
        assert set(Course.objects.overdue()) == {overdue}
        assert set(Course.objects.due_by(TODAY())) == {overdue, due_today}
        assert overdue.__class__.objects.get(pk=overdue.pk).is_overdue()


# Queries ----------------------------------------------------------------------------------------

# Logging a session: read the course's concerns, lock the course and count its sessions (one
# query), write the session with its audit row (which keeps the session's rows), its areas,
# products and ratings (an insert each) and save the course (with its history), in a savepoint
# (2 queries); and read the products' lots again, locked (one query). The client's valid
# consents ride on the concerns' query, after the lock.
LOG_SESSION_QUERIES = 12


@pytest.mark.parametrize("rows", [1, 5])
def test_logging_a_session_runs_the_same_queries_whatever_its_rows(
    make_course, product, practitioner, make_lot, django_assert_max_num_queries, rows
):
    course = make_course(planned_sessions=10, departure_reason="A long course for the test.")
    recorded = course.course_concerns.first().recorded_concern
    serum, numbing = product("Hyaluronic"), product("Lidocaine 4%")
    areas = ["cheeks", "forehead", "neck", "scalp", "hands"][:rows]
    area_chart()  # in the cache, as a running clinic has it
    lots = [make_lot(serum, f"LOT-{n}") for n in range(rows)]

    with django_assert_max_num_queries(LOG_SESSION_QUERIES):
        session = log_session(
            course=course,
            check_asked=True,
            practitioner=practitioner,
            by=practitioner,
            areas=[(area, Decimal("0.75")) for area in areas],
            products=[(serum, lot) for lot in lots],
            numbing=numbing,
            progress=[(recorded, SessionProgress.Rating.SLIGHT, None)],
        )

    assert session.areas.count() == rows
    assert session.products_used.count() == rows
    (version,) = session.history.all()
    assert version.history_user == practitioner
    assert version.rows == {
        "areas": [{"area": area, "depth_mm": "0.75"} for area in areas],
        "products": [{"product": serum.pk, "lot_number": f"LOT-{n}"} for n in range(rows)],
        "progress": [
            {"recorded_concern": recorded.pk, "practitioner_rating": 2, "client_rating": None}
        ],
    }


def test_a_concern_is_rated_once_a_session(make_course, practitioner):
    course = make_course()
    recorded = course.course_concerns.first().recorded_concern

    with pytest.raises(ValidationError) as refused:
        log_session(
            course=course,
            check_asked=True,
            practitioner=practitioner,
            by=practitioner,
            areas=[(recorded.area, Decimal("1.50"))],
            progress=[(recorded, 2, None), (recorded, 3, None)],
        )

    assert refused.value.message_dict == {"progress": ["Rate each concern once."]}
    assert not TreatmentSession.objects.exists()


def test_no_session_is_logged_beyond_the_planned_count(make_course, log):
    course = make_course(planned_sessions=2)
    log(course, TODAY() - weeks(4))
    log(course, TODAY() - weeks(2))
    # However a course came to be marked active with all its sessions logged.
    Course.objects.filter(pk=course.pk).update(status=Course.Status.ACTIVE, ended_on=None)

    with pytest.raises(ValidationError) as refused:
        log(course)

    assert refused.value.messages == [
        "All 2 planned sessions of this course are logged. Ask a manager to plan more, or start "
        "a new course if treatment continues."
    ]
    assert course.sessions.count() == 2


def test_logging_on_a_course_not_read_locked_is_a_programming_error(make_course, practitioner):
    course = make_course()
    session = {
        "practitioner": practitioner,
        "by": practitioner,
        "areas": [("cheeks", "1.50")],
        "check_asked": True,
    }

    with (
        pytest.raises(TransactionManagementError, match="locked_with_counts"),
        transaction.atomic(),
    ):
        log_session_on_locked(course=course, **session)
    locked = Course.objects.locked_with_counts().get(pk=course.pk)
    # The test runs in a transaction: as if the course had been read in one since ended.
    with (
        mock.patch.object(connection, "in_atomic_block", False),
        pytest.raises(TransactionManagementError, match="current transaction"),
    ):
        log_session_on_locked(course=locked, **session)
    assert log_session_on_locked(course=locked, **session).number == 1


def test_a_locked_course_comes_with_its_session_counts(make_course, log, practitioner):
    course = make_course(planned_sessions=6)
    first = log(course, TODAY() - weeks(4))
    log(course, TODAY() - weeks(2))
    void_session(session=first, reason="Logged on the wrong client.", by=practitioner)

    with transaction.atomic():
        locked = Course.objects.locked_with_counts().get(pk=course.pk)

    assert locked.session_counts() == SessionCounts(
        highest_number=2, valid=1, last_valid_on=TODAY() - weeks(2), has_booking=False
    )
    with transaction.atomic():
        empty = Course.objects.locked_with_counts().get(pk=make_course().pk)
    assert empty.session_counts() == SessionCounts(None, 0, None, False)
    # Read otherwise, a course has no counts to log a session from.
    assert Course.objects.with_concerns().get(pk=course.pk).session_counts() is None


@pytest.mark.parametrize(
    ("days", "refused"), [(-731, True), (-730, False), (366, False), (367, True)]
)
def test_a_course_starts_within_the_window_around_today(
    make_consultation, practitioner, settings, days, refused
):
    # The window, whatever the consultation's age (a screening goes stale after 12 months).
    settings.SCREENING_VALID_MONTHS = 120
    consultation = make_consultation(held_on=TODAY() - datetime.timedelta(days=800))
    start = TODAY() + datetime.timedelta(days=days)

    def start_it():
        return start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=3,
            interval_weeks=4,
            practitioner=practitioner,
            by=practitioner,
            start_date=start,
            cautions_acknowledged=True,
        )

    if refused:
        with pytest.raises(ValidationError) as refusal:
            start_it()
        assert "check the year" in refusal.value.message_dict["start_date"][0]
        assert not Course.objects.exists()
    else:
        assert start_it().start_date == start


def test_a_manager_cannot_move_a_course_start_out_of_the_window(make_course, manager):
    course = make_course()

    with pytest.raises(ValidationError) as refusal:
        change_course(course=course, by=manager, start_date=datetime.date(9999, 12, 31))

    assert "start_date" in refusal.value.message_dict
    course.refresh_from_db()
    assert course.start_date != datetime.date(9999, 12, 31)


def test_a_course_without_concerns_is_counted_under_its_lock(make_course, log):
    course = make_course(planned_sessions=6)
    log(course, TODAY() - weeks(2))
    CourseConcern.objects.filter(course=course).delete()

    with transaction.atomic():
        locked = Course.objects.locked_with_counts().get(pk=course.pk)
        counts = locked.session_counts()

    assert counts == SessionCounts(1, 1, TODAY() - weeks(2))


def test_the_workspace_start_is_refused_when_a_course_from_the_consultation_runs(
    make_consultation, practitioner
):
    consultation = make_consultation()

    def start(**extra):
        return start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=3,
            interval_weeks=4,
            practitioner=practitioner,
            by=practitioner,
            start_date=consultation.held_on,
            cautions_acknowledged=True,
            **extra,
        )

    start(refuse_if_running=True)
    with pytest.raises(ValidationError, match="was started a moment ago"):
        start(refuse_if_running=True)
    assert Course.objects.filter(consultation=consultation).count() == 1
    # Ticking "start another" is a deliberate second course.
    start(refuse_if_running=False)
    assert Course.objects.filter(consultation=consultation).count() == 2
