"""After a session: the follow-up call 48-72 hours later, and adverse events recorded and
followed until they resolve. Records are never deleted."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.locking import check_version
from treatments.models import AdverseEvent, FollowUpCall, TreatmentSession

EVENT_FIELDS = (
    "kind",
    "kind_detail",
    "onset_on",
    "severity",
    "action_taken",
    "outcome",
    "resolved_on",
    "reported_by",
    "notes",
)
# Sessions whose call is this many days overdue drop off the call list: by then the client is
# asked at the next visit (the pre-session check asks about a reaction to the last session).
CALL_LIST_DAYS = 14


def calls_due(*, today=None, limit=50):
    """Sessions whose follow-up call is due and not yet made, oldest first."""
    today = today or timezone.localdate()
    return (
        TreatmentSession.objects.valid()
        .filter(
            follow_up_on__lte=today,
            follow_up_on__gte=today - datetime.timedelta(days=CALL_LIST_DAYS),
            follow_up_call__isnull=True,
            course__client__archived=False,
        )
        .select_related("course__client", "practitioner")
        .order_by("follow_up_on", "pk")[:limit]
    )


@transaction.atomic
def record_adverse_event(*, session, by, **fields):
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"record_adverse_event() got {', '.join(sorted(unknown))}")
    session = TreatmentSession.objects.select_related("course__client").get(pk=session.pk)
    if session.is_voided:
        raise ValidationError(
            "This session was voided: record the event on the session it followed."
        )
    event = AdverseEvent(session=session, **fields)
    event.kind_detail = event.kind_detail.strip()
    event.stamp(by)
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def update_adverse_event(*, event, by, expected_version=None, **fields):
    """Follow an event up: its outcome, resolved date, action taken (never deleted)."""
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"update_adverse_event() got {', '.join(sorted(unknown))}")
    event = check_version(AdverseEvent, event.pk, expected_version)
    for name, value in fields.items():
        setattr(event, name, value)
    event.stamp(by)
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def record_follow_up_call(*, session, outcome, by, note=""):
    """The follow-up call made: the session leaves the call list. A reaction reported is then
    recorded as an adverse event (the page opens its form)."""
    session = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    existing = FollowUpCall.objects.filter(session=session).first()
    if existing is not None:
        return existing  # called already (another tablet, a double click): recorded once
    call = FollowUpCall(session=session, outcome=outcome, note=note.strip())
    call.stamp(by)
    call.full_clean(exclude=["session"])
    call.save()
    return call
