"""The list tags (treatments/templatetags/lists.py) give what the built-ins they replace give."""

import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.html import strip_tags

from treatments.templatetags import lists


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
