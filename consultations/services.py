"""Writes that span several consultation models."""

from django.core.exceptions import ValidationError
from django.db import transaction

from consultations.models import Consultation, RecordedConcern


@transaction.atomic
def record_consultation(*, client, practitioner, concerns, by, **details):
    """Save a consultation with its recorded concerns and derive its screening outcome.

    `concerns` is a list of dicts with keys concern, area, severity (optional) and notes
    (optional); `details` are Consultation fields (held_on, screening answers, consent, notes).
    """
    if not concerns:
        raise ValidationError("Record at least one concern the client wants treated.")
    if client.archived:
        raise ValidationError("This client is archived: restore the client before a consultation.")
    consultation = Consultation(client=client, practitioner=practitioner, **details)
    consultation.stamp(by)
    consultation.full_clean()
    consultation.save()

    seen = set()
    for item in concerns:
        key = (item["concern"].pk, item["area"])
        if key in seen:
            raise ValidationError(
                f"{item['concern']} is recorded twice for the same area; record it once."
            )
        seen.add(key)
        recorded = RecordedConcern(consultation=consultation, **item)
        recorded.stamp(by)
        recorded.full_clean(exclude=["consultation"])
        recorded.save()

    consultation.refresh_outcome()
    return consultation
