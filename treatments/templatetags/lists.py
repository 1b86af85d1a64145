"""Tags for the workspace's long lists, where work repeated on every row adds up.

Each does what a built-in does, without the part that costs on every call: `row_url` reverses a
route once per page instead of once per row, the date filters format a date directly instead
of parsing a format string and looking up the locale's formats each time, and `session_label`
prints in Python what an included template would render through a context of its own.
"""

from django import template
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe

register = template.Library()

# Stands for a row's key in a route reversed once per page: no real key is this large.
KEY_MARKER = 9_876_543_210_123


@register.simple_tag(takes_context=True)
def row_url(context, viewname, pk):
    """`{% url viewname pk %}` for a route taking one integer key, as a list's rows use it:
    the route is reversed once per page and each row's key put in the place of the marker."""
    routes = context.render_context.dicts[0].setdefault(row_url, {})
    if viewname not in routes:
        routes[viewname] = reverse(viewname, args=[KEY_MARKER]).split(str(KEY_MARKER))
    before, after = routes[viewname]
    return f"{before}{int(pk)}{after}"


@register.simple_tag
def session_label(session, plan):
    """ "Session 2 of 6" for a session that counts (`position`, as treatments.views.with_positions
    annotates it), "Voided session" struck through for one that does not."""
    if session.is_voided:
        return mark_safe('<span class="text-decoration-line-through">Voided session</span>')
    return f"Session {session.position} of {plan.planned_sessions}"


@register.filter(expects_localtime=True)
def day_month_year(value):
    """`value|date:"j M Y"`: 4 Mar 2026."""
    if value in (None, ""):
        return ""
    return f"{value.day} {MONTHS_3[value.month].title()} {value.year}"


@register.filter(expects_localtime=True)
def day_month(value):
    """`value|date:"j M"`: 4 Mar."""
    if value in (None, ""):
        return ""
    return f"{value.day} {MONTHS_3[value.month].title()}"
