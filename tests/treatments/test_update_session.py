"""`update_session`: its author corrects a session on the day it was logged."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinic.locking import StaleRecord
from treatments.models import Course, SessionProgress, TreatmentSession
from treatments.services import (
    change_course,
    correct_session,
    session_edit_refusal,
    update_session,
    void_session,
)

pytestmark = pytest.mark.django_db


def areas_of(session):
    return [(a.area_id, a.depth_mm) for a in session.areas.all()]


def test_author_replaces_areas_products_and_progress(
    make_course, log, practitioner, product, make_lot
):
    course = make_course()
    make_lot(product("Peptide"), "PEP-9")
    session = log(course, products=[(product("Hyaluronic"), "HA-1")])
    rc = course.course_concerns.get().recorded_concern

    update_session(
        session=session,
        by=practitioner,
        pain_score=4,
        areas=[("cheeks", Decimal("1.25")), ("forehead", Decimal("0.50"))],
        products=[(product("Peptide"), " PEP-9 ")],
        progress=[(rc, SessionProgress.Rating.SLIGHT, None)],
    )

    session.refresh_from_db()
    assert session.pain_score == 4
    assert areas_of(session) == [
        ("cheeks", Decimal("1.25")),
        ("forehead", Decimal("0.50")),
    ]
    assert [p.lot_number for p in session.products_used.all()] == ["PEP-9"]
    assert [p.practitioner_rating for p in session.progress.all()] == [2]
    assert session.updated_by == practitioner


def test_rows_not_given_are_left_alone(make_course, log, practitioner):
    session = log(make_course())

    update_session(session=session, by=practitioner, notes="Client fainted briefly; fine after.")

    session.refresh_from_db()
    assert session.notes.startswith("Client fainted")
    assert areas_of(session) == [("cheeks", Decimal("1.50"))]


def test_a_new_date_moves_the_next_due_date(make_course, log, practitioner):
    course = make_course(planned_sessions=3, interval_weeks=4)
    session = log(course)
    earlier = timezone.localdate() - datetime.timedelta(days=2)

    update_session(session=session, by=practitioner, performed_on=earlier)

    course.refresh_from_db()
    assert course.last_session_on == earlier
    assert course.next_due_on == earlier + datetime.timedelta(weeks=4)


def test_a_course_completed_by_its_last_session_ends_on_the_corrected_date(
    make_course, log, practitioner
):
    course = make_course(planned_sessions=1)
    session = log(course)
    earlier = timezone.localdate() - datetime.timedelta(days=1)

    update_session(session=session, by=practitioner, performed_on=earlier)

    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED
    assert course.ended_on == earlier


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"areas": [("cheeks", Decimal("3.50"))]}, "depth_mm"),
        ({"areas": []}, "areas"),
        ({"areas": [("cheeks", Decimal("1")), ("cheeks", Decimal("2"))]}, "areas"),
        ({"performed_on": datetime.date(2999, 1, 1)}, "performed_on"),
        ({"performed_on": datetime.date(2000, 1, 1)}, "performed_on"),
        ({"pain_score": 11}, "pain_score"),
    ],
)
def test_corrections_are_validated_and_change_nothing(
    make_course, log, practitioner, changes, field
):
    session = log(make_course())

    with pytest.raises(ValidationError) as refused:
        update_session(session=session, by=practitioner, **changes)

    assert field in refused.value.message_dict
    session = TreatmentSession.objects.get(pk=session.pk)
    assert areas_of(session) == [("cheeks", Decimal("1.50"))]
    assert session.performed_on == timezone.localdate()


def test_a_lot_number_is_required(make_course, log, practitioner, product):
    session = log(make_course())

    with pytest.raises(ValidationError) as refused:
        update_session(session=session, by=practitioner, products=[(product("Hyaluronic"), "")])

    assert "products" in refused.value.message_dict


def test_progress_only_for_the_courses_concerns(make_course, make_consultation, log, practitioner):
    session = log(make_course())
    stranger = make_consultation().concerns.get()

    with pytest.raises(ValidationError) as refused:
        update_session(session=session, by=practitioner, progress=[(stranger, 2, None)])

    assert "progress" in refused.value.message_dict


def test_only_the_author_may_correct(make_course, log, make_user):
    session = log(make_course())
    colleague = make_user("colleague")

    assert session_edit_refusal(session=session, user=colleague).startswith("Only the practitioner")
    with pytest.raises(PermissionDenied):
        update_session(session=session, by=colleague, pain_score=1)


def test_only_on_the_day_it_was_logged(make_course, log, practitioner):
    session = log(make_course(), timezone.localdate() - datetime.timedelta(days=1))
    TreatmentSession.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    session.refresh_from_db()

    assert "corrected only on the day" in session_edit_refusal(session=session, user=practitioner)
    with pytest.raises(PermissionDenied):
        update_session(session=session, by=practitioner, pain_score=1)


def test_unknown_fields_are_a_programming_error(make_course, log, practitioner):
    session = log(make_course())

    with pytest.raises(TypeError):
        update_session(session=session, by=practitioner, number=7)


def test_a_correction_based_on_an_older_version_is_refused_and_changes_nothing(
    make_course, log, practitioner
):
    session = log(make_course(), pain_score=3)
    shown = session.version
    update_session(session=session, by=practitioner, pain_score=5)  # in another tab

    with pytest.raises(StaleRecord) as refused:
        update_session(
            session=session,
            by=practitioner,
            expected_version=shown,
            notes="Mild swelling.",
            areas=[("cheeks", Decimal("2.00"))],
        )

    assert "pain (0-10): “3” → “5”" in refused.value.messages[0]
    session = TreatmentSession.objects.get(pk=session.pk)
    assert (session.pain_score, session.notes, session.version) == (5, "", shown + 1)
    assert areas_of(session) == [("cheeks", Decimal("1.50"))]


def test_a_correction_based_on_the_current_version_goes_through(make_course, log, practitioner):
    session = log(make_course())

    update_session(session=session, by=practitioner, expected_version=session.version, pain_score=2)

    session.refresh_from_db()
    assert (session.pain_score, session.version) == (2, 2)


def test_a_voided_session_cannot_be_corrected(make_course, log, practitioner):
    session = log(make_course())
    void_session(session=session, reason="Logged on the wrong course.", by=practitioner)
    session.refresh_from_db()

    assert "voided" in session_edit_refusal(session=session, user=practitioner)
    with pytest.raises(PermissionDenied):
        update_session(session=session, by=practitioner, pain_score=1)


# correct_session: a manager's correction (the admin) ------------------------------------------


def test_a_manager_corrects_another_practitioners_older_session(make_course, log, manager):
    course = make_course(planned_sessions=3, interval_weeks=4)
    session = log(course, timezone.localdate() - datetime.timedelta(days=10))
    moved = timezone.localdate() - datetime.timedelta(days=9)

    correct_session(session=session, by=manager, performed_on=moved, practitioner=manager)

    session.refresh_from_db()
    course.refresh_from_db()
    assert (session.performed_on, session.practitioner, session.updated_by) == (
        moved,
        manager,
        manager,
    )
    assert course.next_due_on == moved + datetime.timedelta(weeks=4)


def test_a_manager_cannot_correct_a_voided_session(make_course, log, practitioner, manager):
    session = log(make_course())
    void_session(session=session, reason="Logged twice.", by=practitioner)

    with pytest.raises(ValidationError, match="voided"):
        correct_session(session=session, by=manager, notes="Changed.")


# change_course: a manager's change to a course (the admin) --------------------------------------


def test_a_course_never_plans_fewer_sessions_than_it_has_logged(make_course, log, manager):
    course = make_course(planned_sessions=3)
    log(course)
    log(course)

    with pytest.raises(ValidationError) as refused:
        change_course(course=course, by=manager, planned_sessions=1)

    assert refused.value.message_dict["planned_sessions"] == [
        "This course has 2 sessions logged: it cannot plan fewer."
    ]
    course.refresh_from_db()
    assert course.planned_sessions == 3


def test_a_course_planned_down_to_its_logged_sessions_is_completed(
    make_course, log, manager, practitioner
):
    course = make_course(planned_sessions=4)
    log(course, timezone.localdate() - datetime.timedelta(weeks=4))
    last = log(course, timezone.localdate() - datetime.timedelta(weeks=1))

    change_course(course=course, by=manager, planned_sessions=2)

    course.refresh_from_db()
    assert (course.status, course.progress_label) == (Course.Status.COMPLETED, "session 2 of 2")
    assert (course.ended_on, course.next_due_on) == (last.performed_on, None)
    # Completed by its count, as logging its last session completes it: a void reopens it.
    void_session(session=last, reason="Logged on the wrong course.", by=practitioner)
    course.refresh_from_db()
    assert (course.status, course.progress_label) == (Course.Status.ACTIVE, "session 1 of 2")


def test_a_course_with_every_planned_session_logged_is_not_reopened(make_course, log, manager):
    course = make_course(planned_sessions=2)
    log(course)
    log(course)

    with pytest.raises(ValidationError) as refused:
        change_course(course=course, by=manager, status=Course.Status.ACTIVE, ended_on=None)

    assert refused.value.message_dict["status"] == [
        "All 2 planned sessions of this course are logged: plan more sessions to keep it active."
    ]
    change_course(
        course=course, by=manager, status=Course.Status.ACTIVE, ended_on=None, planned_sessions=3
    )
    course.refresh_from_db()
    assert (course.status, course.progress_label) == (Course.Status.ACTIVE, "session 2 of 3")


def test_changing_a_course_recounts_it_and_stamps_it(make_course, log, manager):
    course = make_course(planned_sessions=3, interval_weeks=4)
    session = log(course)

    change_course(course=course, by=manager, planned_sessions=5, interval_weeks=2)

    course.refresh_from_db()
    assert course.progress_label == "session 1 of 5"
    assert course.next_due_on == session.performed_on + datetime.timedelta(weeks=2)
    assert course.updated_by == manager


def test_ending_a_course_needs_its_date(make_course, manager):
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        change_course(course=course, by=manager, status=Course.Status.STOPPED, end_reason="Moved.")

    assert "ended_on" in refused.value.message_dict
