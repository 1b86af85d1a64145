"""Writes that span several consultation models, and the screening checks that courses and
sessions run against a consultation (treatments' services call them)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from catalogue.models import area_code
from consultations import screening
from consultations.models import Consultation, RecordedConcern, ScreeningFinding, WashoutRule


@transaction.atomic
def record_consultation(*, client, practitioner, concerns, by, findings=(), **details):
    """Save a consultation with its recorded concerns and findings, and derive its outcome.

    `concerns` is a list of dicts with keys concern, area (a BodyArea or its code), severity
    (optional) and notes (optional); `findings` a list of dicts with keys kind, area (a code,
    optional, blank: every area), on (the date, for findings that lapse) and notes (optional);
    `details` are Consultation fields (held_on, screening answers, consent, notes;
    `affected_area` a BodyArea or its code). A finding ticks its yes/no answer
    (Consultation.refresh_outcome).
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

    seen = set()
    for item in findings:
        finding = ScreeningFinding(
            consultation=consultation, **{**item, "area": area_code(item.get("area") or "")}
        )
        key = (finding.kind, finding.area)
        if key in seen:
            raise ValidationError(
                {"findings": f"{finding} is recorded twice for the same area; record it once."}
            )
        seen.add(key)
        finding.stamp(by)
        finding.full_clean(exclude=["consultation"])
        finding.save()

    consultation.refresh_outcome()
    return consultation


def course_refusals(*, consultation, areas, start_date):
    """Why a course on `areas` from `start_date` may not start from `consultation`, beyond its
    absolute findings (which an override reason lifts): {field: [messages]}.

    The consultation must be recent enough (settings.SCREENING_VALID_MONTHS), and no washout
    that blocks may be in force for those areas on the start date (it says when it clears).
    Cautioning washouts are among the assessment's cautions, acknowledged with them.
    """
    errors = {}
    too_old = consultation.screening_age_refusal(start_date)
    if too_old:
        errors["start_date"] = [too_old]
    waits = consultation.washout_waits
    for washout in screening.washouts_in_force(consultation.found, waits, start_date, areas):
        if washout.blocks:
            errors.setdefault("start_date", []).append(str(washout))
    return errors


def check_session(*, consultation, overridden_areas, areas, performed_on, answers, new=True):
    """Refuse a session (ValidationError keyed by field) that the screening does not allow:
    an area the consultation's absolute findings block without the course's override, a
    washout window, or the pre-session check's answers (see screening.session_refusals).

    The findings come with the consultation; the washout rules they and the answers need are
    read in one query, and only when there are some.
    """
    kinds = screening.washout_kinds(consultation.found) | {
        kind for name, kind in screening.PRE_SESSION_WASHOUTS.items() if answers.get(name)
    }
    errors = screening.session_refusals(
        consultation=consultation,
        overridden=set(overridden_areas),
        areas=areas,
        performed_on=performed_on,
        answers=answers,
        rules=WashoutRule.waits(kinds) if kinds else {},
        new=new,
    )
    if errors:
        raise ValidationError(errors)


def blocking_areas(*, consultation, areas):
    """The areas of the consultation's absolute findings (ALL_AREAS for those in every area)
    that affect any of `areas`: what a course on those areas overrides."""
    blocked = screening.absolute_findings(consultation, consultation.found)
    return sorted(
        where for where in blocked if any(screening.overlaps(area, where) for area in areas)
    )
