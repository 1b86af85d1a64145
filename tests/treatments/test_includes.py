"""The rows of the two longest lists staff open all day, drawn by their template includes."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tests.pages import visible_text
from treatments.models import Course, TreatmentSession
from treatments.services import void_session

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("voided_at", "position", "shown"),
    [
        (None, 3, "Session 3 of 6"),
        (None, 1, "Session 1 of 6"),
        (datetime.datetime(2026, 3, 4, 10, tzinfo=datetime.UTC), None, "Voided session"),
    ],
)
def test_a_session_is_named_by_its_place_in_its_course(voided_at, position, shown):
    session = TreatmentSession(voided_at=voided_at)
    session.position = position

    label = render_to_string(
        "includes/session_label.html",
        {"session": session, "course": Course(planned_sessions=6)},
    )

    assert visible_text(label) == shown
    assert ("text-decoration-line-through" in label) == (voided_at is not None)


@pytest.fixture
def timeline_card(make_consultation, make_course, log, practitioner):
    """The timeline card of the second session of a six-session course, as the client page
    reads it: the course, the session's place in it and whether its author may correct it."""
    practitioner.first_name, practitioner.last_name = "Jo", "Doe"
    practitioner.save()
    course = make_course(make_consultation(held_on=datetime.date(2026, 1, 5)), planned_sessions=6)
    log(course, datetime.date(2026, 2, 2))

    def draw(may_correct=True, editable=True, **fields):
        session = log(course, datetime.date(2026, 3, 4), **{"pain_score": 3, **fields})
        session = TreatmentSession.objects.select_related("practitioner", "voided_by").get(
            pk=session.pk
        )
        session.course, session.position, session.editable = course, 2, editable
        context = {"session": session, "may_correct": may_correct}
        return session, render_to_string("includes/timeline_session.html", context)

    return draw


def test_the_timeline_card_shows_the_session_and_links_its_course(timeline_card):
    session, card = timeline_card(areas=[("cheeks", "1.50")])

    assert visible_text(card) == (
        "4 Mar 2026 · Session 2 of 6 Atrophic acne scars (cheeks and chin) Jo Doe "
        "Motorised pen: Cheeks and chin at 1.50 mm · Redness (erythema) · pain 3/10 Correct or void"
    )
    assert f'href="{reverse("treatments:course-detail", args=[session.course_id])}"' in card
    assert f'href="{reverse("treatments:session-update", args=[session.pk])}"' in card
    assert "voided" not in card and "line-through" not in card


@pytest.mark.parametrize(("editable", "may_correct"), [(False, True), (True, False)])
def test_the_timeline_card_offers_a_correction_only_when_both_allow_it(
    timeline_card, editable, may_correct
):
    session, card = timeline_card(may_correct=may_correct, editable=editable)

    assert "Correct or void" not in card
    assert reverse("treatments:session-update", args=[session.pk]) not in card


def test_the_timeline_card_without_pain_score_or_practitioner_name(timeline_card, practitioner):
    practitioner.first_name = practitioner.last_name = ""
    practitioner.save()

    _session, card = timeline_card(pain_score=None)

    assert "pain" not in visible_text(card)
    assert practitioner.username in visible_text(card)


def test_the_timeline_card_escapes_what_staff_typed_and_keeps_its_lines(timeline_card):
    _session, card = timeline_card(notes='Mild <b>redness</b> & "dryness"\nSPF advised')

    assert (
        '<div class="small fst-italic">Mild &lt;b&gt;redness&lt;/b&gt; &amp; &quot;dryness&quot;'
        "<br>SPF advised</div>"
    ) in card


def test_the_timeline_card_strikes_a_voided_session_and_says_who_voided_it_and_why(
    timeline_card, manager
):
    manager.first_name, manager.last_name = "Max", "Roe"
    manager.save()
    session, _card = timeline_card(notes="Fine")
    void_session(session=session, reason="Logged on <the wrong> client", by=manager)
    session.refresh_from_db()
    session.position, session.editable = None, False

    card = render_to_string(
        "includes/timeline_session.html", {"session": session, "may_correct": True}
    )

    voided_on = timezone.localdate().strftime("%-d %b %Y")
    assert 'class="card mb-2 timeline-session voided"' in card
    assert "Voided session" in visible_text(card)
    assert f"Voided {voided_on} by Max Roe: Logged on <the wrong> client" in visible_text(card)
    assert "&lt;the wrong&gt;" in card
    assert card.count("text-decoration-line-through text-body-secondary") == 3  # date, facts, notes


@pytest.fixture
def due_row(make_client, make_consultation, make_course):
    """Today's row for a six-session course with two sessions logged, due on `next_due_on`."""
    client = make_client(first_name="Ivy", last_name="O'Neil <Jr>")
    course = make_course(
        make_consultation(client, concerns=(("stretch-marks", "abdomen"),)), planned_sessions=6
    )

    def draw(today, next_due_on, may_log=True):
        course.sessions_logged, course.next_due_on = 2, next_due_on
        context = {"course": course, "today": today, "may_log": may_log}
        return course, render_to_string("includes/due_course.html", context)

    return draw


def test_a_due_course_shows_the_client_the_course_and_a_button_for_the_next_session(due_row):
    today = datetime.date(2026, 3, 10)

    course, row = due_row(today, next_due_on=today)

    assert visible_text(row) == (
        "Ivy O'Neil <Jr> Due today Stretch marks (striae) (abdomen) Session 2 of 6 done "
        "Log session 3"
    )
    assert "O&#x27;Neil &lt;Jr&gt;" in row
    assert f'href="{reverse("treatments:client-detail", args=[course.client_id])}"' in row
    assert f'href="{reverse("treatments:session-create", args=[course.pk])}?next=/"' in row


def test_a_course_overdue_says_since_when_and_offers_no_button_without_leave(due_row):
    today = datetime.date(2026, 3, 10)

    _course, row = due_row(today, next_due_on=datetime.date(2026, 2, 24), may_log=False)

    assert "Overdue since 24 Feb" in visible_text(row)
    assert "text-bg-danger" in row
    assert "Log session" not in row
