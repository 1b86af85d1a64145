"""A session obeys the area chart and the course's interval (the services' rules).

Deeper than an area's hard maximum, or sooner than the course's interval allows, a session is
refused unless the practitioner records why; the reason stays with the session.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.models import BodyArea
from treatments.models import TreatmentSession
from treatments.services import (
    correct_session,
    earliest_next_on,
    early_days,
    log_session,
    void_session,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days_ago(days):
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def eyes_course(make_consultation, make_course):
    """A 4-weekly course for fine lines around the eyes (chart: 0.25-0.5 mm, max 0.5)."""
    consultation = make_consultation(concerns=(("fine-lines-wrinkles", "periorbital"),))
    return make_course(consultation, planned_sessions=4, interval_weeks=4)


@pytest.fixture
def new_session(practitioner):
    def make(course, depth, *, performed_on=None, area="periorbital", **details):
        return log_session(
            course=course,
            practitioner=practitioner,
            by=practitioner,
            performed_on=performed_on or TODAY(),
            areas=[(area, Decimal(depth))],
            **{"check_asked": True, **details},
        )

    return make


# Depth by area


def test_a_depth_within_the_areas_maximum_needs_no_reason(eyes_course, new_session):
    session = new_session(eyes_course, "0.50")

    assert session.depth_reason == ""


def test_a_depth_above_the_areas_maximum_is_refused_without_a_reason(eyes_course, new_session):
    with pytest.raises(ValidationError) as refused:
        new_session(eyes_course, "3.00")

    errors = refused.value.error_dict
    (depth,) = errors["depth_mm"]
    assert depth.params == {"area": "periorbital"}  # a form shows it on that area's row
    assert depth.messages == [
        "Around the eyes: 3.00 mm is deeper than the area chart allows (0.25-0.5 mm, max 0.5). "
        "Lower it, or record why this area is needled deeper."
    ]
    assert refused.value.message_dict["depth_reason"] == [
        "Say why Around the eyes at 3.0 mm is needled deeper than the area chart's maximum."
    ]
    assert not TreatmentSession.objects.exists()


def test_a_depth_above_the_maximum_with_a_reason_is_kept_with_the_session(eyes_course, new_session):
    session = new_session(eyes_course, "0.75", depth_reason="  Thick skin, tolerated 0.5 well. ")

    session.refresh_from_db()
    assert session.depth_reason == "Thick skin, tolerated 0.5 well."
    (version,) = session.history.all()
    assert version.depth_reason == "Thick skin, tolerated 0.5 well."


def test_each_area_of_a_session_is_held_to_its_own_maximum(
    make_consultation, make_course, practitioner
):
    consultation = make_consultation(concerns=(("acne-scars", "cheeks"),))
    course = make_course(consultation)

    with pytest.raises(ValidationError) as refused:
        log_session(
            course=course,
            practitioner=practitioner,
            by=practitioner,
            areas=[("cheeks", Decimal("2.00")), ("forehead", Decimal("1.00"))],
            check_asked=True,
        )

    assert [e.params["area"] for e in refused.value.error_dict["depth_mm"]] == ["forehead"]


@pytest.mark.parametrize("depth", ["0.20", "3.25"])
def test_depths_stay_within_the_devices_range_whatever_the_reason(eyes_course, new_session, depth):
    with pytest.raises(ValidationError) as refused:
        new_session(eyes_course, depth, depth_reason="The client asked for it.")

    assert refused.value.message_dict["depth_mm"] == [
        "Needle depth must be between 0.25 and 3.0 mm."
    ]
    assert not TreatmentSession.objects.exists()


def test_an_area_not_in_the_chart_is_refused(eyes_course, new_session):
    with pytest.raises(ValidationError) as refused:
        new_session(eyes_course, "0.50", area="elbow")

    assert refused.value.message_dict["area"] == [
        "elbow is not an area of the chart: choose one from the list."
    ]


def test_the_chart_as_the_manager_left_it_applies(eyes_course, new_session):
    with pytest.raises(ValidationError):
        new_session(eyes_course, "0.75")
    periorbital = BodyArea.objects.get(code="periorbital")
    periorbital.max_mm = Decimal("0.75")
    periorbital.save()

    assert new_session(eyes_course, "0.75").depth_reason == ""


# The course's interval


def test_weekly_courses_may_come_a_day_early_and_longer_ones_three_days(eyes_course):
    assert (early_days(1), early_days(2), early_days(4)) == (1, 3, 3)
    assert earliest_next_on(eyes_course, days_ago(28)) == days_ago(3)
    assert earliest_next_on(eyes_course, None) is None


def test_the_next_day_on_a_four_weekly_course_is_refused_without_a_reason(eyes_course, new_session):
    new_session(eyes_course, "0.25", performed_on=days_ago(1))

    with pytest.raises(ValidationError) as refused:
        new_session(eyes_course, "0.25")

    message = refused.value.message_dict["performed_on"][0]
    assert message.startswith("This course is every 4 weeks: the previous session was on ")
    expected = days_ago(1) + datetime.timedelta(days=25)
    assert f"so the next is due from {expected:%-d %b %Y} (3 days early at most)" in message
    assert refused.value.message_dict["interval_reason"] == [
        "Say why this session comes sooner than the course's interval allows."
    ]
    assert eyes_course.sessions.count() == 1


def test_a_session_sooner_than_the_interval_with_a_reason_is_kept_with_it(eyes_course, new_session):
    new_session(eyes_course, "0.25", performed_on=days_ago(14))

    session = new_session(eyes_course, "0.25", interval_reason="Travelling next month.")

    assert session.interval_reason == "Travelling next month."
    assert session.history.get().interval_reason == "Travelling next month."


@pytest.mark.parametrize(("weeks", "gap", "allowed"), [(4, 25, True), (4, 24, False)])
def test_the_interval_allows_a_few_days_early(
    make_consultation, make_course, new_session, weeks, gap, allowed
):
    course = make_course(
        make_consultation(concerns=(("acne-scars", "cheeks"),)), interval_weeks=weeks
    )
    new_session(course, "1.00", area="cheeks", performed_on=days_ago(gap))

    if allowed:
        assert new_session(course, "1.00", area="cheeks")
    else:
        with pytest.raises(ValidationError):
            new_session(course, "1.00", area="cheeks")


def test_a_weekly_course_allows_one_day_early(make_consultation, make_course, new_session):
    course = make_course(
        make_consultation(concerns=(("hair-thinning", "scalp"),)), interval_weeks=1
    )
    new_session(course, "1.50", area="scalp", performed_on=days_ago(6))
    assert new_session(course, "1.50", area="scalp")  # 6 days: one early

    with pytest.raises(ValidationError):
        new_session(course, "1.50", area="scalp", performed_on=TODAY())  # same day: too soon


def test_a_voided_session_does_not_hold_the_next_one_back(eyes_course, new_session, practitioner):
    new_session(eyes_course, "0.25", performed_on=days_ago(30))
    mistaken = new_session(eyes_course, "0.25", performed_on=days_ago(2), interval_reason="x")
    void_session(session=mistaken, reason="Logged on the wrong course.", by=practitioner)

    assert new_session(eyes_course, "0.25").interval_reason == ""


def test_all_refusals_of_a_session_come_at_once(eyes_course, new_session):
    new_session(eyes_course, "0.25", performed_on=days_ago(1))

    with pytest.raises(ValidationError) as refused:
        new_session(eyes_course, "1.00")

    assert set(refused.value.message_dict) == {
        "depth_mm",
        "depth_reason",
        "performed_on",
        "interval_reason",
    }


# Corrections (the admin's and the author's) follow the same rules


def test_a_correction_deeper_than_the_maximum_needs_a_reason(eyes_course, new_session, manager):
    session = new_session(eyes_course, "0.50")

    with pytest.raises(ValidationError) as refused:
        correct_session(session=session, by=manager, areas=[("periorbital", Decimal("1.00"))])
    assert "depth_reason" in refused.value.message_dict

    correct_session(
        session=session,
        by=manager,
        areas=[("periorbital", Decimal("1.00"))],
        depth_reason="Recorded wrongly at first; the device showed 1.0.",
    )
    session.refresh_from_db()
    assert session.depth_reason == "Recorded wrongly at first; the device showed 1.0."


def test_clearing_the_reason_of_a_deep_session_is_refused(eyes_course, new_session, manager):
    session = new_session(eyes_course, "0.75", depth_reason="Thick skin.")

    with pytest.raises(ValidationError) as refused:
        correct_session(session=session, by=manager, depth_reason="")

    assert "depth_reason" in refused.value.message_dict


def test_moving_a_session_closer_to_the_one_before_needs_a_reason(
    eyes_course, new_session, manager
):
    new_session(eyes_course, "0.25", performed_on=days_ago(40))
    session = new_session(eyes_course, "0.25", performed_on=days_ago(10))

    with pytest.raises(ValidationError) as refused:
        correct_session(session=session, by=manager, performed_on=days_ago(30))

    assert "interval_reason" in refused.value.message_dict
    session.refresh_from_db()
    assert session.performed_on == days_ago(10)
