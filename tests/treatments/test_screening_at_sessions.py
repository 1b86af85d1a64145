"""The screening at every session and at the start of a course: blocked areas and their overrides,
washout windows with the date they clear, the pre-session check, and a consultation's age.
Service level first, then the workspace's pages and the admin."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from catalogue.models import area_chart
from consultations.models import Consultation, WashoutRule
from consultations.screening import add_months
from tests.pages import SIGNED_IN_QUERIES_WITH_REDIS, field_errors, text
from tests.treatments.test_record_admin import admin_form_data
from tests.treatments.test_views import LOG_SESSION_POST_QUERIES, course_data, session_data
from treatments.models import Course, TreatmentSession
from treatments.services import correct_session, log_session, start_course, update_session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def days_ago(n):
    return TODAY() - datetime.timedelta(days=n)


def finding(kind, area="", on=None):
    return {"kind": kind, "area": area, "on": on}


def refusal(error, field):
    return " ".join(error.value.message_dict[field])


@pytest.fixture
def cheeks_infected(make_consultation):
    """Scars on the cheeks and stretch marks on the abdomen; an infection on the cheeks."""
    return make_consultation(
        concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")],
        findings=[finding("infection_in_area", "cheeks")],
    )


@pytest.fixture
def begin(practitioner):
    """Start a course on some of `consultation`'s concerns (all by default)."""

    def start(consultation, *, concerns=None, **extra):
        chosen = [
            rc
            for rc in consultation.concerns.select_related("concern")
            if concerns is None or rc.area_id in concerns
        ]
        values = {"start_date": consultation.held_on, "cautions_acknowledged": True}
        values.update(extra)
        return start_course(
            consultation=consultation,
            recorded_concerns=chosen,
            planned_sessions=6,
            interval_weeks=4,
            practitioner=practitioner,
            by=practitioner,
            **values,
        )

    return start


@pytest.fixture
def session_on(practitioner):
    """Log a session on `course` today on `areas`, the check asked, plus `answers`."""

    def log(course, *areas, performed_on=None, **answers):
        return log_session(
            course=course,
            practitioner=practitioner,
            by=practitioner,
            performed_on=performed_on or TODAY(),
            # Within each area's range, and sessions as the tests date them: the chart and the
            # interval have tests of their own (test_session_rules.py).
            areas=[(area, min(Decimal("1.00"), area_chart()[area].max_mm)) for area in areas],
            **{"check_asked": True, "interval_reason": "Back to back in tests.", **answers},
        )

    return log


# Areas the screening blocked ------------------------------------------------------------------


def test_a_session_on_a_blocked_area_is_refused_without_an_override(
    cheeks_infected, begin, session_on
):
    course = begin(cheeks_infected, concerns=["abdomen"])  # nothing blocked: no override

    for area in ("cheeks", "face"):  # the area, and one that contains it
        with pytest.raises(ValidationError) as refused:
            session_on(course, "abdomen", area)
        assert "Active infection in the area: treat the infection first." in refusal(
            refused, "areas"
        )
        assert "no override was recorded for it when the course started" in refusal(
            refused, "areas"
        )
    assert not TreatmentSession.objects.exists()
    assert session_on(course, "abdomen", "forehead").number == 1


def test_an_area_inside_a_blocked_area_is_refused_too(make_consultation, begin, session_on):
    consultation = make_consultation(
        concerns=[("stretch-marks", "abdomen")],
        findings=[finding("lesion_in_area", "face")],
    )
    course = begin(consultation)

    with pytest.raises(ValidationError, match="Skin cancer, a suspicious lesion"):
        session_on(course, "periorbital")


def test_the_override_names_the_finding_areas_and_lets_sessions_there_go_ahead(
    cheeks_infected, begin, session_on
):
    with pytest.raises(ValidationError) as refused:
        begin(cheeks_infected)
    assert "Record why the course goes ahead anyway" in refusal(refused, "override_reason")

    course = begin(cheeks_infected, override_reason="Healed; GP letter on file.")

    assert course.override_areas == ["cheeks"]
    assert session_on(course, "cheeks").number == 1
    assert session_on(course, "face").number == 2


def test_a_finding_in_every_area_blocks_every_session_unless_overridden(
    make_consultation, begin, session_on
):
    consultation = make_consultation(bleeding_disorder=True)
    course = begin(consultation, override_reason="Haematologist agreed; pressure ready.")
    assert course.override_areas == ["all"]
    assert session_on(course, "cheeks").number == 1

    # A course whose override named no area (started before overrides did) is refused anywhere.
    Course.objects.filter(pk=course.pk).update(override_areas=[])
    with pytest.raises(ValidationError, match="Bleeding disorder"):
        session_on(course, "scalp")


def test_a_correction_adding_a_blocked_area_is_refused_and_changes_nothing(
    cheeks_infected, begin, session_on, practitioner
):
    course = begin(cheeks_infected, concerns=["abdomen"])
    session = session_on(course, "abdomen")

    with pytest.raises(ValidationError, match="Active infection"):
        update_session(
            session=session,
            by=practitioner,
            areas=[("abdomen", Decimal("1.00")), ("cheeks", Decimal("1.00"))],
        )
    assert list(session.areas.values_list("area", flat=True)) == ["abdomen"]
    # A correction that adds no area is not refused for the areas it keeps.
    update_session(session=session, by=practitioner, areas=[("abdomen", Decimal("1.25"))])


# Washout windows ------------------------------------------------------------------------------


def test_a_course_inside_a_blocking_washout_is_refused_with_the_date_it_clears(
    make_consultation, begin
):
    peeled = days_ago(5)
    consultation = make_consultation(
        held_on=days_ago(2), findings=[finding("peel_or_laser", "cheeks", peeled)]
    )
    clears = peeled + datetime.timedelta(weeks=2)

    with pytest.raises(ValidationError) as refused:
        begin(consultation, start_date=TODAY())
    assert f"no needling there until {clears:%-d %b %Y}" in refusal(refused, "start_date")
    assert not Course.objects.exists()

    assert begin(consultation, start_date=clears).start_date == clears


def test_a_session_inside_a_washout_is_refused_in_that_area_only(
    make_consultation, begin, session_on
):
    filled = days_ago(5)
    consultation = make_consultation(
        held_on=days_ago(3),
        concerns=[("acne-scars", "cheeks")],
        findings=[finding("filler", "forehead", filled)],
    )
    course = begin(consultation)

    for area in ("forehead", "face"):
        with pytest.raises(ValidationError) as refused:
            session_on(course, area)
        clears = filled + datetime.timedelta(weeks=2)
        assert f"no needling there until {clears:%-d %b %Y}" in refusal(refused, "areas")
    assert session_on(course, "cheeks").number == 1


def test_after_its_window_a_washout_no_longer_counts(make_consultation, begin, session_on):
    consultation = make_consultation(
        held_on=days_ago(10), findings=[finding("filler", "forehead", days_ago(20))]
    )
    course = begin(consultation)
    assert session_on(course, "forehead").number == 1


def test_a_cautioning_washout_must_be_acknowledged_at_the_session(
    make_consultation, begin, session_on
):
    consultation = make_consultation(findings=[finding("isotretinoin", on=days_ago(150))])
    course = begin(consultation)
    clears = add_months(days_ago(150), 6)

    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks")
    assert f"until {clears:%-d %b %Y}" in refusal(refused, "check_acknowledged")

    session = session_on(course, "cheeks", check_acknowledged=True)
    assert session.check_acknowledged


def test_a_manager_made_rule_refuses_a_course_it_only_cautioned_before(make_consultation, begin):
    recorded = make_consultation(findings=[finding("isotretinoin", on=days_ago(150))])
    WashoutRule.objects.filter(kind="isotretinoin").update(blocks=True)
    consultation = Consultation.objects.get(pk=recorded.pk)  # as the next page reads it

    with pytest.raises(ValidationError) as refused:
        begin(consultation, start_date=TODAY())
    clears = add_months(days_ago(150), 6)
    assert f"no needling until {clears:%-d %b %Y}" in refusal(refused, "start_date")


# A consultation's age ---------------------------------------------------------------------------


def test_a_consultation_older_than_twelve_months_cannot_start_a_course(
    make_consultation, begin, settings
):
    consultation = make_consultation(held_on=days_ago(400))

    with pytest.raises(ValidationError) as refused:
        begin(consultation, start_date=TODAY())
    assert "screening older than 12 months cannot start a new course" in refusal(
        refused, "start_date"
    )

    settings.SCREENING_VALID_MONTHS = 18
    assert begin(consultation, start_date=TODAY()).pk


# The pre-session check --------------------------------------------------------------------------


def test_the_check_must_be_asked(make_course, practitioner):
    course = make_course()
    with pytest.raises(ValidationError) as refused:
        log_session(
            course=course, practitioner=practitioner, by=practitioner, areas=[("cheeks", 1)]
        )
    assert "Ask the client what changed since the last visit" in refusal(refused, "check_asked")


def test_a_new_infection_refuses_the_session_with_the_reason(make_course, session_on):
    course = make_course()
    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks", check_new_infection=True, check_acknowledged=True)
    assert "A new infection or cold sore in an area to treat" in refusal(
        refused, "check_new_infection"
    )
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize(
    ("answer", "caution"),
    [
        ("check_pregnant", "Pregnant or breastfeeding now"),
        ("check_new_medicines", "anticoagulants mean more bleeding"),
        ("check_reaction", "A reaction to the last session"),
        ("check_isotretinoin", "Isotretinoin since the last visit"),  # a caution by default
    ],
)
def test_a_relative_answer_must_be_acknowledged_and_is_kept_with_the_session(
    make_course, session_on, answer, caution
):
    course = make_course()
    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks", **{answer: True})
    assert caution in refusal(refused, "check_acknowledged")

    session = session_on(course, "cheeks", **{answer: True}, check_acknowledged=True)
    session.refresh_from_db()
    assert getattr(session, answer) and session.check_asked and session.check_acknowledged


def test_isotretinoin_since_the_last_visit_refuses_when_the_rule_blocks(make_course, session_on):
    WashoutRule.objects.filter(kind="isotretinoin").update(blocks=True)
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks", check_isotretinoin=True)
    assert f"on {add_months(TODAY(), 6):%-d %b %Y} at the earliest" in refusal(
        refused, "check_isotretinoin"
    )


@pytest.mark.parametrize(
    ("answer", "refused_days_ago", "clear_days_ago", "wait"),
    [
        ("check_tan_on", 7, 14, datetime.timedelta(weeks=2)),
        ("check_retinoids_on", 2, 3, datetime.timedelta(days=3)),
    ],
)
def test_a_dated_answer_refuses_until_its_window_clears(
    make_course, session_on, answer, refused_days_ago, clear_days_ago, wait
):
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks", **{answer: days_ago(refused_days_ago)})
    clears = days_ago(refused_days_ago) + wait
    assert f"until {clears:%-d %b %Y}" in refusal(refused, answer)

    assert session_on(course, "cheeks", **{answer: days_ago(clear_days_ago)}).number == 1


def test_a_dated_answer_after_the_session_is_refused(make_course, session_on):
    course = make_course()
    with pytest.raises(ValidationError) as refused:
        session_on(course, "cheeks", performed_on=days_ago(3), check_tan_on=days_ago(1))
    assert "This date is after the session" in refusal(refused, "check_tan_on")


def test_a_managers_correction_checks_the_answers_it_changes(
    make_course, session_on, manager, practitioner
):
    course = make_course()
    session = session_on(course, "cheeks")
    with pytest.raises(ValidationError, match="A new infection"):
        correct_session(session=session, by=manager, check_new_infection=True)
    session.refresh_from_db()
    assert not session.check_new_infection


# The workspace's pages --------------------------------------------------------------------------


def test_the_session_form_refuses_a_blocked_area_keeping_the_input(
    signed_in, cheeks_infected, begin
):
    course = begin(cheeks_infected, concerns=["abdomen"])
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})

    response = signed_in.post(url, session_data(course, areas=[("cheeks", "1.50")]))

    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert "Cheeks and chin: Active infection in the area: treat the infection first." in page
    assert "Tolerated well." in response.content.decode()  # the input is kept
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"check_asked": None}, "id_check_asked", "Ask the client what changed"),
        ({"check_new_infection": "on"}, "id_check_new_infection", "A new infection or cold sore"),
        ({"check_pregnant": "on"}, "id_check_acknowledged", "Confirm that you have weighed"),
        (
            {"check_tan_on": days_ago(3).isoformat()},
            "id_check_tan_on",
            "no needling until",
        ),
        (
            {"check_retinoids_on": (TODAY() + datetime.timedelta(days=1)).isoformat()},
            "id_check_retinoids_on",
            "This date is after the session",
        ),
    ],
)
def test_the_pre_session_check_refuses_next_to_its_field(
    signed_in, make_course, fields, field_id, message
):
    course = make_course()
    url = reverse("treatments:session-create", kwargs={"pk": course.pk})

    response = signed_in.post(url, session_data(course, **fields))

    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in field_errors(response, field_id)), text(response)
    assert "Tolerated well." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_session_form_asks_the_pre_session_check(signed_in, make_course):
    course = make_course()
    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))
    page = text(response)
    assert "Since the last visit" in page
    assert "I asked the client what changed since the last visit" in page
    assert "retinoids or acids last used on" in page.lower()


def test_a_session_with_a_dated_finding_is_logged_within_one_more_query(
    sessions_as_with_redis, signed_in, make_consultation, begin, django_assert_max_num_queries
):
    consultation = make_consultation(findings=[finding("filler", "forehead", days_ago(200))])
    course = begin(consultation)

    # The washout rules its findings need: one query, only for a consultation that has some.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES_WITH_REDIS + LOG_SESSION_POST_QUERIES + 1):
        response = signed_in.post(
            reverse("treatments:session-create", kwargs={"pk": course.pk}), session_data(course)
        )
    assert response.status_code == HTTPStatus.FOUND


def test_the_course_form_refuses_a_stale_consultation_next_to_the_start_date(
    signed_in, make_consultation
):
    consultation = make_consultation(held_on=days_ago(400))
    url = reverse("treatments:course-create", kwargs={"pk": consultation.pk})

    page = signed_in.get(url)
    response = signed_in.post(url, course_data(consultation, notes="Wants to restart."))

    assert "screening older than 12 months" in text(page)
    assert any(
        "screening older than 12 months" in e for e in field_errors(response, "id_start_date")
    )
    assert "Wants to restart." in response.content.decode()
    assert not Course.objects.exists()


def test_the_consultation_form_records_findings_with_their_areas_and_dates(
    signed_in, make_client, concern
):
    person = make_client()
    peeled = days_ago(3)
    data = {
        "held_on": TODAY().isoformat(),
        "consent_given": "on",
        "consent_by": "The client",
        "consent_scope": "Micro-needling",
        "notes": "",
        "concerns-TOTAL_FORMS": "1",
        "concerns-INITIAL_FORMS": "0",
        "concerns-0-concern": str(concern("acne-scars").pk),
        "concerns-0-area": "cheeks",
        "concerns-0-severity": "moderate",
        "findings-TOTAL_FORMS": "3",
        "findings-INITIAL_FORMS": "0",
        "findings-0-kind": "infection_in_area",
        "findings-0-area": "perioral",
        "findings-1-kind": "peel_or_laser",
        "findings-1-area": "cheeks",
        "findings-1-on": peeled.isoformat(),
        "findings-2-kind": "",
    }

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}), data, follow=True
    )

    consultation = person.consultations.get()
    assert [(f.kind, f.area, f.on) for f in consultation.findings.order_by("pk")] == [
        ("infection_in_area", "perioral", None),
        ("peel_or_laser", "cheeks", peeled),
    ]
    assert consultation.infection_in_area
    assert consultation.outcome == "not_suitable"
    clears = peeled + datetime.timedelta(weeks=2)
    assert f"no needling there until {clears:%-d %b %Y}" in text(response)
    assert "Findings:" in text(response)


# The admin --------------------------------------------------------------------------------------


def admin_url(name, *args):
    return reverse(f"admin:{name}", args=args)


def test_an_admin_correction_adding_a_blocked_area_is_refused_with_the_input_kept(
    manager_client, cheeks_infected, begin, session_on
):
    course = begin(cheeks_infected, concerns=["abdomen"])
    session = session_on(course, "abdomen")
    page = admin_url("treatments_treatmentsession_change", session.pk)
    data = admin_form_data(
        manager_client.get(page),
        notes="Corrected by the manager.",
        **{"areas-TOTAL_FORMS": "2", "areas-1-area": "cheeks", "areas-1-depth_mm": "1.00"},
    )

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "Active infection in the area" in content
    assert "Corrected by the manager." in content
    assert list(session.areas.values_list("area", flat=True)) == ["abdomen"]


def test_an_admin_answer_that_refuses_shows_next_to_its_field(
    manager_client, make_course, session_on
):
    session = session_on(make_course(), "cheeks")
    page = admin_url("treatments_treatmentsession_change", session.pk)
    data = admin_form_data(manager_client.get(page), check_new_infection="on")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    form = response.context["adminform"].form
    assert any("A new infection" in e for e in form.errors["check_new_infection"])
    session.refresh_from_db()
    assert not session.check_new_infection


def test_managers_change_a_washout_rule_in_the_admin_with_its_history(manager_client, manager):
    rule = WashoutRule.objects.get(kind="filler")
    page = admin_url("consultations_washoutrule_change", rule.pk)
    data = admin_form_data(manager_client.get(page), wait_amount="3", blocks="")

    response = manager_client.post(page, {k: v for k, v in data.items() if v != ""})

    assert response.status_code == HTTPStatus.FOUND
    rule.refresh_from_db()
    assert (rule.wait_amount, rule.wait_unit, rule.blocks) == (3, "weeks", False)
    assert rule.history.first().history_user == manager
    assert manager_client.get(admin_url("consultations_washoutrule_add")).status_code == 403
