"""The list tags (treatments/templatetags/lists.py) give what the built-ins they replace give."""

import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import reverse
from django.utils.html import strip_tags

from consultations.models import Client
from tests.pages import visible_text
from treatments.models import TreatmentPlan, TreatmentSession
from treatments.templatetags import lists

User = get_user_model()


def render(source, **context):
    return Template("{% load lists %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("viewname", "pk"),
    [
        ("consultations:client-detail", 7),
        ("consultations:consultation-detail", 1),
        ("treatments:plan-detail", 40_213),
        ("treatments:session-create", 9),
        ("treatments:session-update", 1_000_001),
    ],
)
def test_row_url_gives_the_url_tags_address(viewname, pk):
    assert render("{% row_url viewname pk %}", viewname=viewname, pk=pk) == reverse(
        viewname, args=[pk]
    )


def test_row_url_reverses_a_route_once_per_page_and_keeps_nothing_between_pages():
    rows = "{% for pk in keys %}{% row_url 'treatments:plan-detail' pk %} {% endfor %}"

    with mock.patch.object(lists, "reverse", wraps=reverse) as reversing:
        first = render(rows, keys=[1, 22, 333])
        second = render(rows, keys=[4])

    assert first.split() == [reverse("treatments:plan-detail", args=[pk]) for pk in (1, 22, 333)]
    assert second.split() == [reverse("treatments:plan-detail", args=[4])]
    assert reversing.call_count == 2


@pytest.mark.parametrize(
    "day",
    [datetime.date(2026, month, day) for month in range(1, 13) for day in (1, 9, 28)]
    + [datetime.date(2024, 2, 29), datetime.date(1999, 12, 31)],
)
def test_date_filters_match_the_date_filter(day):
    assert render("{{ day|day_month_year }}", day=day) == render('{{ day|date:"j M Y" }}', day=day)
    assert render("{{ day|day_month }}", day=day) == render('{{ day|date:"j M" }}', day=day)


def test_date_filters_show_a_moment_on_the_clinics_calendar_day():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    moment = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)

    shown = render("{{ moment|day_month_year }} / {{ moment|day_month }}", moment=moment)

    assert shown == "1 Jul 2026 / 1 Jul"
    assert shown == render('{{ moment|date:"j M Y" }} / {{ moment|date:"j M" }}', moment=moment)


def test_date_filters_show_nothing_for_no_date():
    assert render("[{{ day|day_month_year }}|{{ day|day_month }}]", day=None) == "[|]"


@pytest.mark.parametrize(
    ("voided_at", "position", "shown"),
    [
        (None, 3, "Session 3 of 6"),
        (None, 1, "Session 1 of 6"),
        (datetime.datetime(2026, 3, 4, 10, tzinfo=datetime.UTC), None, "Voided session"),
    ],
)
def test_session_label_names_the_session_in_its_course(voided_at, position, shown):
    session = SimpleNamespace(is_voided=voided_at is not None, position=position)
    plan = SimpleNamespace(planned_sessions=6)

    label = render("{% session_label session plan %}", session=session, plan=plan)

    assert strip_tags(label) == shown
    assert ("text-decoration-line-through" in label) == (voided_at is not None)


def timeline_session(may_correct=True, editable=True, **fields):
    """The timeline card of an unsaved session, set up as the client page reads it."""
    values = {
        "pk": 41,
        "plan": TreatmentPlan(pk=7, planned_sessions=6),
        "practitioner": User(username="jdoe", first_name="Jo", last_name="Doe"),
        "performed_on": datetime.date(2026, 3, 4),
        "device": TreatmentSession.Device.PEN,
        "skin_response": TreatmentSession.Response.ERYTHEMA,
        "pain_score": 3,
        "notes": "",
    }
    session = TreatmentSession(**{**values, **fields})
    session.position = None if session.is_voided else 2
    session.editable = editable
    session.concern_names = "Acne scars (cheeks and chin)"
    session.area_rows = [[1, "cheeks", 1.5]]  # as with_area_names() reads them
    return render(
        "{% timeline_session session may_correct %}", session=session, may_correct=may_correct
    )


def test_timeline_session_shows_the_session_and_links_its_course():
    card = timeline_session()

    assert visible_text(card) == (
        "4 Mar 2026 · Session 2 of 6 Acne scars (cheeks and chin) Jo Doe "
        "Motorised pen: Cheeks and chin at 1.50 mm · Redness (erythema) · pain 3/10 Correct or void"
    )
    assert f'href="{reverse("treatments:plan-detail", args=[7])}"' in card
    assert f'href="{reverse("treatments:session-update", args=[41])}"' in card
    assert "voided" not in card and "line-through" not in card


@pytest.mark.parametrize(("editable", "may_correct"), [(False, True), (True, False)])
def test_timeline_session_offers_a_correction_only_when_both_allow_it(editable, may_correct):
    card = timeline_session(may_correct=may_correct, editable=editable)

    assert "Correct or void" not in card
    assert reverse("treatments:session-update", args=[41]) not in card


def test_timeline_session_without_pain_score_or_practitioner_name():
    card = timeline_session(pain_score=None, practitioner=User(username="jdoe"))

    assert "pain" not in visible_text(card)
    assert "jdoe" in visible_text(card)


def test_timeline_session_escapes_what_staff_typed_and_keeps_its_lines():
    card = timeline_session(notes='Mild <b>redness</b> & "dryness"\nSPF advised')

    assert (
        '<div class="small fst-italic">Mild &lt;b&gt;redness&lt;/b&gt; &amp; &quot;dryness&quot;'
        "<br>SPF advised</div>"
    ) in card


def test_timeline_session_strikes_a_voided_session_and_says_who_voided_it_and_why():
    voided_at = datetime.datetime(2026, 3, 5, 9, tzinfo=datetime.UTC)
    card = timeline_session(
        voided_at=voided_at,
        voided_by=User(username="boss", first_name="Max", last_name="Roe"),
        void_reason="Logged on <the wrong> client",
        notes="Fine",
        editable=False,
    )

    assert 'class="card mb-2 timeline-session voided"' in card
    assert "Voided session" in visible_text(card)
    assert "Voided 5 Mar 2026 by Max Roe: Logged on <the wrong> client" in visible_text(card)
    assert "&lt;the wrong&gt;" in card
    assert card.count("text-decoration-line-through text-body-secondary") == 3  # date, facts, notes


def due_course(today, may_log=True, **fields):
    plan = TreatmentPlan(
        pk=12,
        client=Client(pk=5, first_name="Ivy", last_name="O'Neil <Jr>"),
        planned_sessions=6,
        sessions_logged=2,
        **fields,
    )
    plan.concern_rows = [[3, "Stretch marks", "abdomen"]]  # as with_concern_names() reads them
    return render("{% due_course plan today may_log %}", plan=plan, today=today, may_log=may_log)


def test_due_course_shows_the_client_the_course_and_a_button_for_the_next_session():
    today = datetime.date(2026, 3, 10)

    row = due_course(today, next_due_on=today)

    assert visible_text(row) == (
        "Ivy O'Neil <Jr> Due today Stretch marks (abdomen) Session 2 of 6 done Log session 3"
    )
    assert "O&#x27;Neil &lt;Jr&gt;" in row
    assert f'href="{reverse("consultations:client-detail", args=[5])}"' in row
    assert f'href="{reverse("treatments:session-create", args=[12])}"' in row


def test_due_course_says_since_when_a_course_is_overdue_and_offers_no_button_without_leave():
    today = datetime.date(2026, 3, 10)

    row = due_course(today, may_log=False, next_due_on=datetime.date(2026, 2, 24))

    assert "Overdue since 24 Feb" in visible_text(row)
    assert "text-bg-danger" in row
    assert "Log session" not in row
