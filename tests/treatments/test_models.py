from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CheckConstraint

from catalogue.models import BodyArea
from consultations.models import RecordedConcern
from treatments.models import (
    Course,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)

pytestmark = pytest.mark.django_db


def violates(constraint):
    return pytest.raises(IntegrityError, match=constraint)


class TestCourseAndSessionRules:
    def test_planned_sessions_below_one_are_refused(self, make_course):
        course = make_course()
        course.planned_sessions = 0
        with pytest.raises(ValidationError) as refused:
            course.full_clean()
        assert "planned_sessions" in refused.value.message_dict
        with transaction.atomic(), violates("course_planned_sessions_range"):
            Course.objects.filter(pk=course.pk).update(planned_sessions=0)

    def test_a_stopped_course_needs_a_reason(self, make_course):
        course = make_course()
        course.status = Course.Status.STOPPED
        with pytest.raises(ValidationError) as refused:
            course.full_clean()
        assert refused.value.message_dict["end_reason"] == ["Say why the course was stopped."]
        with transaction.atomic(), violates("course_stopped_has_reason"):
            Course.objects.filter(pk=course.pk).update(
                status="stopped", end_reason="", ended_on=course.start_date
            )

    def test_labels_name_every_area_of_the_chart_by_its_name(self, concern):
        for area in BodyArea.objects.all():
            treated = SessionArea(area=area, depth_mm=Decimal("1.50"))
            recorded = RecordedConcern(concern=concern("acne-scars"), area=area)

            assert str(treated) == f"{area.name} at 1.50 mm"
            assert str(recorded) == f"Atrophic acne scars ({area.name.lower()})"

    def test_courses_read_with_their_concerns_are_named_without_a_query_each(
        self, make_consultation, make_course, django_assert_num_queries
    ):
        concerns = (
            ("stretch-marks", "thighs"),
            ("acne-scars", "cheeks"),
            ("hyperpigmentation", "decollete"),
        )
        for n in (1, 2, 3):
            make_course(make_consultation(concerns=concerns[:n]))

        with django_assert_num_queries(2):
            courses = Course.objects.with_concerns().order_by("pk")
            names = [course.concern_names for course in courses]

        assert names == [
            "Stretch marks (striae) (thighs)",
            "Stretch marks (striae) (thighs), Atrophic acne scars (cheeks and chin)",
            "Stretch marks (striae) (thighs), Atrophic acne scars (cheeks and chin), "
            "Hyperpigmentation and PIH (décolleté)",
        ]

    def test_a_course_without_concerns_reads_no_names(self, make_course):
        course = make_course()
        course.course_concerns.all().delete()

        assert Course.objects.with_concerns().get(pk=course.pk).concern_names == ""

    def test_depth_outside_the_device_range_is_refused(self, make_course, log):
        session = log(make_course())
        area = SessionArea(session=session, area_id="forehead", depth_mm=Decimal("3.25"))
        with pytest.raises(ValidationError) as refused:
            area.full_clean()
        assert "between 0.25 and 3.0 mm" in str(refused.value)
        with transaction.atomic(), violates("sessionarea_depth_range"):
            SessionArea.objects.create(session=session, area_id="forehead", depth_mm="0.10")

    def test_pain_above_ten_and_blank_lots_are_refused_by_the_database(
        self, make_course, log, product, make_lot
    ):
        session = log(make_course())
        with transaction.atomic(), violates("session_pain_score_range"):
            TreatmentSession.objects.filter(pk=session.pk).update(pain_score=11)
        with transaction.atomic(), violates("sessionproduct_lot_given"):
            SessionProduct.objects.create(
                session=session,
                product=product("Hyaluronic"),
                lot=make_lot(product("Hyaluronic")),
                lot_number="",
            )

    def test_session_numbers_are_unique_within_a_course(self, make_course, log):
        course = make_course()
        first = log(course)
        second = log(course)
        with transaction.atomic(), pytest.raises(IntegrityError):
            TreatmentSession.objects.filter(pk=second.pk).update(number=first.number)

    def test_an_ended_course_needs_an_end_date(self, make_course):
        course = make_course()
        course.status = Course.Status.COMPLETED
        with pytest.raises(ValidationError) as refused:
            course.full_clean()
        assert refused.value.message_dict["ended_on"] == ["Give the date the course ended."]
        with transaction.atomic(), violates("course_ended_has_date"):
            Course.objects.filter(pk=course.pk).update(status="completed", ended_on=None)


# The services check a session and its rows with full_clean(validate_constraints=False): the
# fields' validators and clean() repeat every check constraint, so each one must be caught without
# asking the database, and still be kept by it.
def _breaking(name, session, recorded_concern, product):
    """A row of the session models that breaks the check constraint `name`."""
    if name == "session_number_positive":
        session.number = 0
        return session
    if name == "session_void_has_reason":
        session.voided_at, session.void_reason = session.updated_at, ""
        return session
    if name == "session_pain_score_range":
        session.pain_score = 11
        return session
    if name == "sessionarea_depth_range":
        return SessionArea(session=session, area_id="forehead", depth_mm=Decimal("3.25"))
    if name == "sessionproduct_lot_given":
        return SessionProduct(session=session, product=product, lot_number="")
    if name == "sessionprogress_rating_range":
        return SessionProgress(
            session=session,
            recorded_concern=recorded_concern,
            **{"practitioner_rating": 6, "client_rating": None},
        )
    raise AssertionError(f"no breaking row for {name}: add one")


SESSION_ROW_MODELS = [TreatmentSession, SessionArea, SessionProduct, SessionProgress]
# Foreign keys, which full_clean() checks with a query each (the services exclude them too).
PARENTS = [
    "session",
    "course",
    "practitioner",
    "product",
    "recorded_concern",
    "area",
    "created_by",
    "updated_by",
    "voided_by",
]


@pytest.mark.parametrize(
    "name",
    [
        constraint.name
        for model in SESSION_ROW_MODELS
        for constraint in model._meta.constraints
        if isinstance(constraint, CheckConstraint)
    ],
)
def test_session_check_constraints_are_repeated_in_python(
    name, make_course, log, product, django_assert_num_queries
):
    course = make_course()
    session = log(course)
    recorded_concern = course.course_concerns.get().recorded_concern
    row = _breaking(name, session, recorded_concern, product("Hyaluronic"))

    with django_assert_num_queries(0), pytest.raises(ValidationError):
        row.full_clean(exclude=PARENTS, validate_constraints=False)
