"""Consent on the shared pages, each through one include line: the client page's panel, who
needs to (re-)consent on Today, and the prompt to sign on the course and session forms."""

from django import template

from consent.models import Kind, SignedConsent
from consent.services import client_consents, consent_status
from consultations.models import Client

register = template.Library()

WORKLIST_SIZE = 20


def _client_view(context, client):
    """(statuses, records) of `client` for this page, read once: the panel and the photos'
    flag share them (2 queries)."""
    request = context.get("request")
    cache = getattr(request, "_consent_views", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._consent_views = cache
    if client.pk not in cache:
        records = client_consents(client)
        cache[client.pk] = (consent_status(client, records), records)
    return cache[client.pk]


@register.inclusion_tag("consent/_client_panel.html", takes_context=True)
def consent_panel(context, client):
    """Where the client stands with each consent, and every consent on record."""
    statuses, records = _client_view(context, client)
    return {
        "client": client,
        "statuses": statuses,
        "records": records,
        "perms": context.get("perms"),
    }


@register.inclusion_tag("consent/_worklist.html", takes_context=True)
def consent_worklist(context):
    """Clients with a running course whose treatment consent does not count as signed any
    more (never signed, recorded before signing, expired, withdrawn or superseded): 1 query."""
    signed = SignedConsent.objects.valid(Kind.TREATMENT, signed_only=True).values("client")
    clients = (
        Client.objects.current()
        .filter(courses__status="active")
        .exclude(pk__in=signed)
        .distinct()
        .order_by("last_name", "first_name", "pk")[: WORKLIST_SIZE + 1]
    )
    clients = list(clients)
    return {
        "clients": clients[:WORKLIST_SIZE],
        "more": len(clients) > WORKLIST_SIZE,
        "perms": context.get("perms"),
    }


@register.inclusion_tag("consent/_photos_withdrawn.html", takes_context=True)
def photos_flag(context, client):
    """When the client's consent to photographs was withdrawn and none counts now: the flag on
    the photos already taken."""
    statuses, _records = _client_view(context, client)
    photographs = next(s for s in statuses if s.kind == Kind.PHOTOGRAPHS)
    return {"withdrawn": photographs.withdrawn}


@register.inclusion_tag("consent/_prompt.html", takes_context=True)
def consent_prompt(context, client, kinds="treatment"):
    """Links to sign the consents of `kinds` (comma-separated) that `client` lacks (1 query).
    The treatment consent counts only signed here: the prompt asks to sign it for good."""
    wanted = [kind for kind in kinds.split(",") if kind in Kind.values]
    found = {}
    for kind, state in (
        SignedConsent.objects.valid(wanted)
        .filter(client=client)
        .values_list("document__kind", "state")
    ):
        found.setdefault(kind, set()).add(state)
    missing = [
        (kind, Kind(kind).label)
        for kind in wanted
        if not (
            SignedConsent.State.SIGNED in found.get(kind, set())
            if kind == Kind.TREATMENT
            else found.get(kind)
        )
    ]
    return {"client": client, "missing": missing, "perms": context.get("perms")}
