"""Tags for the workspace's long lists, where work repeated on every row adds up.

Each does what a built-in does, without the part that costs on every call: `row_url` reverses a
route once per page instead of once per row, the date filters format a date directly instead
of parsing a format string and looking up the locale's formats each time, and `session_label`
prints in Python what an included template would render through a context of its own.

`due_course` (Today's worklist) and `timeline_session` (a client's timeline) write the rows of
the two longest lists staff open all day: in the template engine, a node per condition and per
value cost 30 to 80 microseconds a row. They escape what they print as the templates did.
"""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.template.loader import get_template
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.html import format_html
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


# Classes striking through what a voided record showed.
STRUCK = "text-decoration-line-through text-body-secondary"


@register.simple_tag(takes_context=True)
def due_course(context, plan, today, may_log):
    """A course due back on Today's worklist (treatments/today.html): the client, how overdue,
    the course's concerns and sessions, and a button to log the next session when `may_log`.
    `plan` comes as TodayView reads it: `client` loaded and `concern_names` annotated."""
    if plan.next_due_on < today:
        due = format_html(
            '<span class="badge text-bg-danger">Overdue since {}</span>',
            day_month(plan.next_due_on),
        )
    else:
        due = mark_safe('<span class="badge text-bg-primary">Due today</span>')
    log = ""
    if may_log:
        log = format_html(
            '<a class="btn btn-sm btn-primary" href="{}">Log session {}</a>',
            row_url(context, "treatments:session-create", plan.pk),
            plan.sessions_logged + 1,
        )
    return format_html(
        '<div class="list-group-item">'
        '<div class="d-flex flex-wrap justify-content-between gap-2">'
        '<a class="fw-semibold" href="{}">{}</a>{}</div>'
        '<div class="small text-body-secondary">{}</div>'
        '<div class="d-flex flex-wrap justify-content-between align-items-center gap-2 mt-1">'
        '<span class="small">Session {} of {} done</span>{}</div>'
        "</div>",
        row_url(context, "consultations:client-detail", plan.client_id),
        plan.client.full_name,
        due,
        plan.concern_names,
        plan.sessions_logged,
        plan.planned_sessions,
        log,
    )


@register.simple_tag(takes_context=True)
def timeline_session(context, session, may_correct):
    """A session on a client's timeline (consultations/client_detail.html), as a card: when and
    which of its course, the practitioner, the areas and the skin's response, the notes, and a
    link to correct it when it is `editable` and the user `may_correct` sessions. `session`
    comes as ClientDetailView reads it: `plan`, `position`, `concern_names`, `area_names` and
    `editable` set, `practitioner` and `voided_by` loaded."""
    voided = session.is_voided
    struck = format_html(" {}", STRUCK) if voided else ""
    practitioner = session.practitioner
    parts = [
        format_html(
            '<li class="card mb-2 timeline-session{}"><div class="card-body py-2">'
            '<div class="d-flex flex-wrap justify-content-between gap-2">'
            '<span><strong{}>{}</strong> · <a href="{}">{}</a> '
            '<span class="text-body-secondary small">{}</span></span>'
            '<span class="small text-body-secondary">{}</span></div>',
            " voided" if voided else "",
            format_html(' class="{}"', STRUCK) if voided else "",
            day_month_year(session.performed_on),
            row_url(context, "treatments:plan-detail", session.plan_id),
            session_label(session, session.plan),
            session.concern_names,
            practitioner.get_full_name() or practitioner.get_username(),
        )
    ]
    if voided:
        parts.append(get_template("includes/voided_note.html").render({"record": session}))
    parts.append(
        format_html(
            '<div class="small{}">{}: {} · {}{}</div>',
            struck,
            session.get_device_display(),
            session.area_names,
            session.get_skin_response_display(),
            "" if session.pain_score is None else f" · pain {session.pain_score}/10",
        )
    )
    if session.notes:
        parts.append(
            format_html(
                '<div class="small fst-italic{}">{}</div>', struck, linebreaksbr(session.notes)
            )
        )
    if session.editable and may_correct:
        parts.append(
            format_html(
                '<a class="btn btn-sm btn-outline-secondary mt-1" href="{}">Correct or void</a>',
                row_url(context, "treatments:session-update", session.pk),
            )
        )
    parts.append("</div></li>")
    return mark_safe("".join(parts))
