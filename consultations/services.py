"""Writes that span several consultation models."""

from django.core.exceptions import ValidationError
from django.db import transaction

from catalogue.models import area_code
from consultations.models import Consultation, RecordedConcern


@transaction.atomic
def record_consultation(*, client, practitioner, concerns, by, **details):
    """Save a consultation with its recorded concerns and derive its screening outcome.

    `concerns` is a list of dicts with keys concern, area (a BodyArea or its code), severity
    (optional) and notes (optional); `details` are Consultation fields (held_on, screening
    answers, consent, notes; `affected_area` a BodyArea or its code).
    """
    if not concerns:
        raise ValidationError("Record at least one concern the client wants treated.")
    if client.archived:
        raise ValidationError("This client is archived: restore the client before a consultation.")
    if "affected_area" in details:  # a BodyArea, its code, or blank for none
        details["affected_area_id"] = area_code(details.pop("affected_area")) or None
    consultation = Consultation(client=client, practitioner=practitioner, **details)
    consultation.stamp(by)
    consultation.full_clean()
    consultation.save()

    seen = set()
    for item in concerns:
        fields = {**item, "area_id": area_code(item["area"])}
        del fields["area"]
        key = (item["concern"].pk, fields["area_id"])
        if key in seen:
            raise ValidationError(
                f"{item['concern']} is recorded twice for the same area; record it once."
            )
        seen.add(key)
        recorded = RecordedConcern(consultation=consultation, **fields)
        recorded.stamp(by)
        recorded.full_clean(exclude=["consultation"])
        recorded.save()

    consultation.refresh_outcome()
    return consultation
