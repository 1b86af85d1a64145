"""Consent on the shared pages, each through one include line: the client page's panel, who
needs to (re-)consent on Today, and the prompt to sign on the course and session forms."""

from django import template

from consent.models import Kind, SignedConsent
from consent.services import client_consents, consent_status, has_valid
from consultations.models import Client

register = template.Library()

WORKLIST_SIZE = 20


@register.inclusion_tag("consent/_client_panel.html", takes_context=True)
def consent_panel(context, client):
    """Where the client stands with each consent, and every consent on record (5 queries)."""
    records = client_consents(client)
    return {
        "client": client,
        "statuses": consent_status(client, records),
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


@register.inclusion_tag("consent/_photos_withdrawn.html")
def photos_flag(client):
    """When the client's consent to photographs was withdrawn and none counts now: the flag on
    the photos already taken (1 query, 2 when withdrawn)."""
    withdrawn = (
        SignedConsent.objects.filter(client=client, document__kind=Kind.PHOTOGRAPHS)
        .exclude(withdrawn_at=None)
        .order_by("-withdrawn_at")
        .first()
    )
    if withdrawn is not None and has_valid(client, Kind.PHOTOGRAPHS):
        withdrawn = None  # signed again since
    return {"withdrawn": withdrawn}


@register.inclusion_tag("consent/_prompt.html", takes_context=True)
def consent_prompt(context, client, kinds="treatment"):
    """Links to sign the consents of `kinds` (comma-separated) that `client` lacks (1 query)."""
    wanted = [kind for kind in kinds.split(",") if kind in Kind.values]
    missing = []
    for kind in wanted:
        valid = SignedConsent.objects.valid(kind).filter(client=client)
        if kind == Kind.TREATMENT:
            valid = valid.filter(state=SignedConsent.State.SIGNED)
        if not valid.exists():
            missing.append((kind, Kind(kind).label))
    return {"client": client, "missing": missing, "perms": context.get("perms")}
