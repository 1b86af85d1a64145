"""A course for several concerns that is safe for each of them, and a course that departs from
the catalogue only with a reason: the suggestion, the service, the start-course form and its
live suggestion, the admin (issue 14)."""

import itertools
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Concern
from tests.pages import SIGNED_IN_QUERIES, field_errors, text
from tests.treatments.test_record_admin import admin_form_data
from treatments.models import Course, CourseConcern, Device
from treatments.services import change_course, start_course, suggest_course

pytestmark = pytest.mark.django_db

REASON = "Client's dermatologist asked for it; discussed and agreed."


def in_range(concern, interval):
    return concern.interval_min_weeks <= interval <= concern.interval_max_weeks


@pytest.fixture
def every_concern(make_consultation):
    """One consultation recording every concern of the shipped catalogue."""
    slugs = sorted(Concern.objects.values_list("slug", flat=True))
    consultation = make_consultation(concerns=[(slug, "face") for slug in slugs])
    return consultation, {rc.concern.slug: rc for rc in consultation.concerns.all()}


# The suggestion for every pair of the catalogue -------------------------------------------------


def test_no_suggestion_for_a_pair_of_concerns_breaks_either_ones_interval_range_or_maximum(
    every_concern,
):
    consultation, recorded = every_concern
    pairs = list(itertools.combinations(sorted(recorded), 2))
    assert len(pairs) == 66  # the twelve concerns the catalogue ships

    separate = []
    for pair in pairs:
        chosen = [recorded[slug] for slug in pair]
        concerns = [rc.concern for rc in chosen]
        suggestion = suggest_course(consultation=consultation, recorded_concerns=chosen)
        timed = [c for c in concerns if c.interval_weeks]
        with_course = [c for c in concerns if c.has_typical_course]

        if suggestion.interval_fits_all:
            for concern in timed:
                assert in_range(concern, suggestion.interval_weeks), pair
        else:
            separate.append(pair)
            assert suggestion.interval_weeks is None and suggestion.sessions is None, pair
            grouped = [c for course in suggestion.separate_courses for c in course.concerns]
            assert sorted(c.slug for c in grouped) == sorted(c.slug for c in timed), pair
            for course in suggestion.separate_courses:
                for concern in course.concerns:
                    assert in_range(concern, course.interval_weeks), pair
                    assert course.sessions <= concern.sessions_max, pair
        if suggestion.sessions is not None:
            for concern in with_course:
                assert suggestion.sessions <= concern.sessions_max, pair
            for plan, planned in suggestion.planned_per_concern(suggestion.sessions):
                if plan.concern.has_typical_course:
                    assert plan.concern.sessions_min <= plan.usual_sessions, pair
                    assert planned <= plan.concern.sessions_max, pair
        # Taken as suggested (with an RF device for rosacea), the course needs no reason, except
        # for a concern with no established course at all.
        departures = suggestion.departures(
            planned_sessions=suggestion.sessions,
            interval_weeks=suggestion.interval_weeks,
            device=Device.RF,
        )
        expected = {"concerns"} if "active-acne" in pair else set()
        assert set(departures) == expected, (pair, departures)

    # Sun damage is needled every 2 weeks exactly; most facial concerns every 4.
    assert ("fine-lines-wrinkles", "sun-damage") in separate
    assert ("acne-scars", "sun-damage") not in separate


def test_every_concern_alone_gets_its_own_usual_course(every_concern):
    consultation, recorded = every_concern
    for slug, rc in recorded.items():
        suggestion = suggest_course(consultation=consultation, recorded_concerns=[rc])
        concern = rc.concern
        assert suggestion.sessions == concern.sessions_typical, slug
        assert suggestion.interval_weeks == concern.interval_weeks, slug


def test_three_concerns_without_a_shared_interval_need_the_fewest_separate_courses(
    every_concern,
):
    consultation, recorded = every_concern
    chosen = [recorded[s] for s in ("sun-damage", "fine-lines-wrinkles", "texture-pores")]

    suggestion = suggest_course(consultation=consultation, recorded_concerns=chosen)

    assert [(c.names, c.interval_weeks) for c in suggestion.separate_courses] == [
        ("Sun damage", 2),
        ("Fine lines and wrinkles, Texture, tone and enlarged pores", 4),
    ]


def test_the_same_concern_in_two_areas_counts_once(make_consultation):
    consultation = make_consultation(concerns=[("melasma", "cheeks"), ("melasma", "forehead")])

    suggestion = suggest_course(consultation=consultation)

    [plan] = suggestion.plans
    assert len(plan.recorded_concerns) == 2
    assert (suggestion.sessions, suggestion.interval_weeks) == (6, 4)


# Starting a course: departures from the catalogue need a reason --------------------------------


@pytest.fixture
def start(practitioner):
    def begin(consultation, *, planned_sessions, interval_weeks, **extra):
        return start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=planned_sessions,
            interval_weeks=interval_weeks,
            practitioner=practitioner,
            by=practitioner,
            cautions_acknowledged=True,
            **extra,
        )

    return begin


class TestStartingACourseThatDepartsFromTheCatalogue:
    def test_an_interval_shorter_than_a_concerns_shortest_needs_a_reason(
        self, make_consultation, start
    ):
        consultation = make_consultation(concerns=[("fine-lines-wrinkles", "forehead")])

        with pytest.raises(ValidationError) as refused:
            start(consultation, planned_sessions=4, interval_weeks=2)

        errors = refused.value.message_dict
        assert errors["interval_weeks"] == [
            "Fine lines and wrinkles is needled every 4 weeks at the most: every 2 weeks is "
            "sooner than it allows."
        ]
        assert "Say why the course departs" in errors["departure_reason"][0]
        assert not Course.objects.exists()

        course = start(consultation, planned_sessions=4, interval_weeks=2, departure_reason=REASON)
        assert course.departure_reason == REASON

    def test_more_sessions_than_a_concerns_maximum_need_a_reason(self, make_consultation, start):
        consultation = make_consultation(
            concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")]
        )

        with pytest.raises(ValidationError) as refused:
            start(consultation, planned_sessions=8, interval_weeks=4)

        assert refused.value.message_dict["planned_sessions"] == [
            "8 sessions pass the usual maximum for Atrophic acne scars (6 sessions): its "
            "treatment stops at session 6."
        ]
        course = start(consultation, planned_sessions=8, interval_weeks=4, departure_reason=REASON)
        counts = {
            link.recorded_concern.concern.slug: link.planned_sessions
            for link in course.course_concerns.select_related("recorded_concern__concern")
        }
        assert counts == {"acne-scars": 6, "stretch-marks": 8}

    def test_a_course_within_the_catalogue_needs_no_reason(self, make_consultation, start):
        consultation = make_consultation(
            concerns=[("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")]
        )

        course = start(consultation, planned_sessions=6, interval_weeks=4)

        assert course.departure_reason == ""
        assert sorted(course.course_concerns.values_list("planned_sessions", flat=True)) == [6, 6]

    def test_active_acne_cannot_start_without_an_override_reason(self, make_consultation, start):
        consultation = make_consultation(concerns=[("active-acne", "cheeks")])

        with pytest.raises(ValidationError) as refused:
            start(consultation, planned_sessions=1, interval_weeks=4)

        assert refused.value.message_dict["concerns"] == [
            "Active acne and blackheads has no established course: micro-needling is not an "
            "established treatment for it."
        ]
        assert "departure_reason" in refused.value.message_dict
        course = start(consultation, planned_sessions=1, interval_weeks=4, departure_reason=REASON)
        assert course.course_concerns.get().planned_sessions == 1

    def test_rosacea_plans_an_rf_device_or_records_why_not(self, make_consultation, start):
        consultation = make_consultation(concerns=[("rosacea", "cheeks")])

        with pytest.raises(ValidationError) as refused:
            start(consultation, planned_sessions=2, interval_weeks=4, device=Device.PEN)
        assert refused.value.message_dict["device"][0].startswith(
            "The evidence for Rosacea redness is for radiofrequency micro-needling only"
        )
        with pytest.raises(ValidationError, match="plan an RF device"):
            start(consultation, planned_sessions=2, interval_weeks=4)

        rf = start(consultation, planned_sessions=2, interval_weeks=4, device=Device.RF)
        assert (rf.device, rf.departure_reason) == (Device.RF, "")
        pen = start(
            make_consultation(concerns=[("rosacea", "cheeks")]),
            planned_sessions=2,
            interval_weeks=4,
            device=Device.PEN,
            departure_reason=REASON,
        )
        assert pen.departure_reason == REASON

    def test_every_departure_is_named_at_once(self, make_consultation, start):
        consultation = make_consultation(
            concerns=[("rosacea", "cheeks"), ("active-acne", "forehead")]
        )

        with pytest.raises(ValidationError) as refused:
            start(consultation, planned_sessions=3, interval_weeks=1)

        assert set(refused.value.message_dict) == {
            "interval_weeks",
            "planned_sessions",
            "concerns",
            "device",
            "departure_reason",
        }


class TestChangingACourse:
    def test_a_manager_cannot_pass_a_concerns_maximum_without_a_reason(self, make_course, manager):
        course = make_course(planned_sessions=3)

        with pytest.raises(ValidationError) as refused:
            change_course(course=course, by=manager, planned_sessions=9)
        assert set(refused.value.message_dict) == {"planned_sessions", "departure_reason"}

        change_course(course=course, by=manager, planned_sessions=9, departure_reason=REASON)
        link = course.course_concerns.get()
        assert link.planned_sessions == 6  # acne scars' maximum
        assert [v.planned_sessions for v in link.history.order_by("history_id")] == [3, 6]
        assert link.history.first().history_user == manager

    def test_the_concerns_counts_follow_the_courses(self, make_course, manager):
        course = make_course(planned_sessions=3)

        change_course(course=course, by=manager, planned_sessions=5)

        assert course.course_concerns.get().planned_sessions == 5

    def test_what_does_not_change_is_not_checked_again(self, make_course, manager):
        course = make_course(planned_sessions=9, departure_reason=REASON)
        Course.objects.filter(pk=course.pk).update(departure_reason="")  # as before the rules

        change_course(course=course, by=manager, notes="Prefers mornings.", interval_weeks=5)

        course.refresh_from_db()
        assert (course.notes, course.interval_weeks) == ("Prefers mornings.", 5)

    def test_a_rosacea_course_changed_to_a_plain_pen_needs_a_reason(
        self, make_consultation, make_course, manager
    ):
        course = make_course(
            make_consultation(concerns=[("rosacea", "cheeks")]),
            planned_sessions=2,
            device=Device.RF,
        )

        with pytest.raises(ValidationError) as refused:
            change_course(course=course, by=manager, device=Device.PEN)

        assert set(refused.value.message_dict) == {"device", "departure_reason"}


# The start-course form -------------------------------------------------------------------------


def course_url(consultation):
    return reverse("treatments:course-create", kwargs={"pk": consultation.pk})


def suggestion_url(consultation, **params):
    query = "&".join(
        f"{name}={value}"
        for name, values in params.items()
        for value in (values if isinstance(values, list) else [values])
    )
    url = reverse("treatments:course-suggestion", kwargs={"pk": consultation.pk})
    return f"{url}?{query}"


def form_data(consultation, **fields):
    data = {
        "concerns": [str(rc.pk) for rc in consultation.concerns.all()],
        "planned_sessions": "3",
        "interval_weeks": "4",
        "start_date": timezone.localdate().isoformat(),
        "notes": "Client prefers mornings.",
        # Inflammatory concerns (active acne, rosacea) bring a screening caution to acknowledge.
        "cautions_acknowledged": "on",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("concerns", "fields", "field_id", "message"),
    [
        (
            [("fine-lines-wrinkles", "forehead")],
            {"interval_weeks": "2"},
            "id_interval_weeks",
            "Fine lines and wrinkles is needled every 4 weeks at the most: every 2 weeks is "
            "sooner than it allows.",
        ),
        (
            [("acne-scars", "cheeks")],
            {"planned_sessions": "8"},
            "id_planned_sessions",
            "8 sessions pass the usual maximum for Atrophic acne scars (6 sessions): its "
            "treatment stops at session 6.",
        ),
        (
            [("active-acne", "cheeks")],
            {},
            "id_concerns",
            "Active acne and blackheads has no established course: micro-needling is not an "
            "established treatment for it.",
        ),
        (
            [("rosacea", "cheeks")],
            {"planned_sessions": "2", "device": Device.PEN},
            "id_device",
            "The evidence for Rosacea redness is for radiofrequency micro-needling only (plain "
            "needling may make it worse): plan an RF device.",
        ),
    ],
)
def test_a_departure_without_a_reason_is_refused_next_to_its_field(
    signed_in, make_consultation, concerns, fields, field_id, message
):
    consultation = make_consultation(concerns=concerns)

    response = signed_in.post(course_url(consultation), form_data(consultation, **fields))

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, field_id) == [message]
    assert field_errors(response, "id_departure_reason") == [
        "Say why the course departs from the catalogue, or change it to fit the catalogue."
    ]
    assert "Client prefers mornings." in response.content.decode()  # the input is kept
    assert message in text(response)  # the suggestion beside the form says it too
    assert not Course.objects.exists()

    started = signed_in.post(
        course_url(consultation), form_data(consultation, departure_reason=REASON, **fields)
    )

    assert started.status_code == HTTPStatus.FOUND
    assert Course.objects.get().departure_reason == REASON


def test_a_new_form_ticks_the_concerns_with_a_course_and_plans_rf_for_rosacea(
    signed_in, make_consultation
):
    consultation = make_consultation(concerns=[("rosacea", "cheeks"), ("active-acne", "forehead")])
    rosacea = consultation.concerns.get(concern__slug="rosacea")

    response = signed_in.get(course_url(consultation))
    form = response.context["form"]

    assert form["concerns"].value() == [rosacea.pk]
    assert (form["planned_sessions"].value(), form["interval_weeks"].value()) == (2, 4)
    assert form["device"].value() == Device.RF
    page = text(response)
    assert "2 sessions, every 4 weeks." in page
    assert "Rosacea redness" in page and "2 sessions as in published studies" in page


def test_the_course_form_shows_the_clinics_range_beside_the_studies(signed_in, make_consultation):
    consultation = make_consultation(concerns=[("stretch-marks", "abdomen")])

    page = text(signed_in.get(course_url(consultation)))

    assert "2-12 sessions as clinics quote it; studies used 1-6 sessions" in page


def test_without_a_shared_interval_the_form_says_so_and_proposes_separate_courses(
    signed_in, make_consultation
):
    consultation = make_consultation(
        concerns=[("sun-damage", "face"), ("fine-lines-wrinkles", "forehead")]
    )

    response = signed_in.get(course_url(consultation))

    page = text(response)
    assert "No one interval suits every concern ticked" in page
    assert "Sun damage: 6 sessions, every 2 weeks" in page
    assert "Fine lines and wrinkles: 4 sessions, every 4 weeks" in page
    assert response.context["form"]["interval_weeks"].value() is None


def test_without_javascript_the_suggestion_follows_the_ticks_on_update(
    signed_in, make_consultation
):
    consultation = make_consultation(
        concerns=[("hair-thinning", "scalp"), ("acne-scars", "cheeks")]
    )
    hair = consultation.concerns.get(concern__slug="hair-thinning")

    response = signed_in.post(
        course_url(consultation),
        form_data(consultation, concerns=[str(hair.pk)], refresh="1", planned_sessions="4"),
    )

    assert response.status_code == HTTPStatus.OK
    assert not Course.objects.exists()
    form = response.context["form"]
    assert not form.is_bound  # nothing to refuse yet
    assert form["concerns"].value() == [hair.pk]
    assert (form["planned_sessions"].value(), form["interval_weeks"].value()) == (12, 1)
    assert "Client prefers mornings." in response.content.decode()
    assert "12 sessions, every week." in text(response)


def test_the_live_suggestion_is_a_fragment_for_the_concerns_ticked(
    signed_in, make_consultation, django_assert_max_num_queries
):
    consultation = make_consultation(
        concerns=[
            ("sun-damage", "face"),
            ("acne-scars", "cheeks"),
            ("rosacea", "forehead"),
        ]
    )
    ids = {rc.concern.slug: rc.pk for rc in consultation.concerns.all()}

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 3):
        both = signed_in.get(
            suggestion_url(consultation, concerns=[ids["sun-damage"], ids["acne-scars"]])
        )

    assert both.status_code == HTTPStatus.OK
    content = both.content.decode()
    assert content.lstrip().startswith("<section")  # a fragment, not a page
    assert "<html" not in content
    assert 'data-sessions="6"' in content and 'data-interval="2"' in content
    assert "6 sessions, every 2 weeks." in text(both)

    rosacea = signed_in.get(suggestion_url(consultation, concerns=ids["rosacea"]))
    assert 'data-device="rf"' in rosacea.content.decode()
    assert "departs from the catalogue" not in text(rosacea)

    typed = signed_in.get(
        suggestion_url(consultation, concerns=ids["acne-scars"], planned_sessions=9, device="pen")
    )
    page = text(typed)
    assert "This course departs from the catalogue" in page
    assert "9 sessions pass the usual maximum for Atrophic acne scars (6 sessions)" in page
    assert "6 (stops at its maximum)" in page

    nothing = signed_in.get(suggestion_url(consultation, planned_sessions="lots"))
    assert nothing.status_code == HTTPStatus.OK
    assert "Tick the concerns this course treats." in text(nothing)


def test_the_live_suggestion_only_reads_the_consultations_own_concerns(
    signed_in, make_consultation
):
    consultation, other = make_consultation(), make_consultation()

    response = signed_in.get(suggestion_url(consultation, concerns=[other.concerns.get().pk, "x"]))

    assert response.status_code == HTTPStatus.OK
    assert "Tick the concerns this course treats." in text(response)


# What the course records, where it is read -------------------------------------------------------


def test_the_course_page_and_printout_show_each_concerns_count_and_the_reason(
    signed_in, make_consultation, make_course
):
    consultation = make_consultation(
        concerns=[("acne-scars", "cheeks"), ("stretch-marks", "abdomen")]
    )
    course = make_course(consultation, planned_sessions=8, departure_reason=REASON)

    page = text(signed_in.get(course.get_absolute_url()))
    printout = text(signed_in.get(reverse("reports:course-print", kwargs={"pk": course.pk})))

    assert f"Departs from the catalogue {REASON}" in page
    assert "Planned: 6 of the course's 8 (its treatment stops there)" in page
    assert "This course plans 6 sessions for it, then stops treating it." in printout
    assert "This course plans 8 sessions for it." in printout
    assert "2-12 sessions as clinics quote it; published studies used 1-6 sessions" in printout


def test_the_first_session_of_an_rf_course_uses_the_rf_device(
    signed_in, make_consultation, make_course
):
    course = make_course(
        make_consultation(concerns=[("rosacea", "cheeks")]),
        planned_sessions=2,
        device=Device.RF,
    )

    response = signed_in.get(reverse("treatments:session-create", kwargs={"pk": course.pk}))

    assert response.context["form"]["device"].value() == Device.RF


@pytest.mark.parametrize(
    "url",
    [
        reverse("catalogue:concern-list"),
        reverse("catalogue:concern-detail", kwargs={"slug": "stretch-marks"}),
    ],
)
def test_the_catalogue_shows_the_clinics_range_beside_the_studies(signed_in, url):
    page = text(signed_in.get(url))

    assert "Typical sessions 2-12 sessions as clinics quote it" in page
    assert "In studies 1-6 sessions" in page


def test_the_consultation_shows_both_ranges_and_separate_courses(signed_in, make_consultation):
    consultation = make_consultation(
        concerns=[("stretch-marks", "abdomen"), ("sun-damage", "decollete")]
    )
    page = text(signed_in.get(consultation.get_absolute_url()))
    assert "every 2 weeks" in page  # stretch marks (2-4 weeks) and sun damage (2) share one

    consultation = make_consultation(
        concerns=[("stretch-marks", "abdomen"), ("sun-damage", "decollete")]
        + [("fine-lines-wrinkles", "face")]
    )
    page = text(signed_in.get(consultation.get_absolute_url()))

    assert "Typical sessions 2-12 sessions as clinics quote it" in page
    assert "In studies 1-6 sessions" in page
    assert "No one interval suits every concern" in page


def test_the_consultation_form_offers_both_ranges(signed_in, make_client):
    person = make_client()

    response = signed_in.get(reverse("consultations:consultation-create", kwargs={"pk": person.pk}))

    stretch = Concern.objects.get(slug="stretch-marks")
    info = response.context["catalogue_info"][str(stretch.pk)]
    assert (info["sessions"], info["studied"]) == (
        "2-12 sessions as clinics quote it",
        "1-6 sessions",
    )
    assert "2-12 sessions as clinics quote it, 1-6 sessions in studies" in text(response)


# The admin goes through the same rules ---------------------------------------------------------


def test_the_admin_refuses_a_departure_without_a_reason_next_to_its_field(
    manager_client, make_course
):
    course = make_course(planned_sessions=3)
    page = reverse("admin:treatments_course_change", args=[course.pk])

    refused = manager_client.post(
        page, admin_form_data(manager_client.get(page), planned_sessions="9", notes="Kept.")
    )

    assert refused.status_code == HTTPStatus.OK
    form = refused.context["adminform"].form
    assert form.errors["planned_sessions"] == [
        "9 sessions pass the usual maximum for Atrophic acne scars (6 sessions): its treatment "
        "stops at session 6."
    ]
    assert "Say why the course departs" in form.errors["departure_reason"][0]
    assert form["notes"].value() == "Kept."
    course.refresh_from_db()
    assert course.planned_sessions == 3

    saved = manager_client.post(
        page,
        admin_form_data(manager_client.get(page), planned_sessions="9", departure_reason=REASON),
    )

    assert saved.status_code == HTTPStatus.FOUND
    course.refresh_from_db()
    assert (course.planned_sessions, course.departure_reason) == (9, REASON)
    assert CourseConcern.objects.get(course=course).planned_sessions == 6


def test_the_admin_refuses_a_plain_pen_for_rosacea_without_a_reason(
    manager_client, make_consultation, make_course
):
    course = make_course(
        make_consultation(concerns=[("rosacea", "cheeks")]),
        planned_sessions=2,
        device=Device.RF,
    )
    page = reverse("admin:treatments_course_change", args=[course.pk])

    refused = manager_client.post(
        page, admin_form_data(manager_client.get(page), device=Device.PEN)
    )

    assert refused.status_code == HTTPStatus.OK
    assert "plan an RF device" in refused.context["adminform"].form.errors["device"][0]
    course.refresh_from_db()
    assert course.device == Device.RF
