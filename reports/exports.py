"""Exports for managers: a client's complete history (right of access) and safe CSV cells."""

import base64
import datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse
from django.utils import timezone

from catalogue.models import BodyArea, Concern, Product
from clinic.exports import formula_safe
from clinic.formats import day, moment
from consent.models import ConsentDocument, ConsentVersion, SignedConsent
from consultations.models import RecordedConcern
from treatments.selectors import ClientRecord

SKIPPED_FIELDS = {"version", "image", "thumbnail"}
# Related rows named in an export; other related records are given by their id.
LABELLED = {BodyArea, Concern, Product, RecordedConcern, ConsentDocument, ConsentVersion}


def csv_cell(value):
    """`value` as CSV text that a spreadsheet shows and never runs (OWASP CSV injection);
    dates as the clinic writes them everywhere ("6 Dec 2026", clinic.formats)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = moment(value)
    elif isinstance(value, datetime.date):
        value = day(value)
    return formula_safe(str(value))


def _plain(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(value) if value is not None and not isinstance(value, bool | int) else value


def _record(obj, users, *, skip=()):
    """A row's fields as plain data: choices as their labels, staff as their names."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIPPED_FIELDS or field.name in skip:
            continue
        if field.is_relation:
            if field.related_model is get_user_model():
                user = users.get(getattr(obj, field.attname))
                data[field.name] = (user.get_full_name() or user.get_username()) if user else None
            elif field.related_model in LABELLED:
                related = getattr(obj, field.name)
                data[field.name] = str(related) if related is not None else None
            else:  # another record of the export: its id
                data[field.name] = getattr(obj, field.attname)
        elif field.choices:
            value = getattr(obj, field.attname)
            data[field.name] = getattr(obj, f"get_{field.name}_display")() if value != "" else ""
        else:
            data[field.name] = _plain(getattr(obj, field.attname))
    return data


def _user_ids(*groups):
    ids = set()
    for rows in groups:
        for row in rows:
            for field in row._meta.concrete_fields:
                if field.is_relation and field.related_model is get_user_model():
                    ids.add(getattr(row, field.attname))
    ids.discard(None)
    return ids


def client_history(client, *, exported_by):
    """Everything recorded about `client`, as plain data for a JSON file, in a fixed number of
    queries: details, consultations with screening and consent, recorded concerns, courses with
    their sessions (areas, products and lots, progress ratings), recall contacts and the list of
    photos (the images themselves are kept privately and given on request)."""
    record = ClientRecord(client, in_full=True)
    consultations, courses, sessions = record.consultations, record.courses, record.sessions
    attempts, photos = record.contact_attempts, record.photos
    consents = list(
        SignedConsent.objects.filter(client=client)
        .select_related("document", "document_version__document")
        .order_by("signed_at", "pk")
    )
    concerns = [rc for consultation in consultations for rc in consultation.concerns.all()]
    users = get_user_model().objects.in_bulk(
        _user_ids([client], consultations, concerns, courses, sessions, attempts, photos, consents)
    )

    by_course = {}
    for session in sessions:
        by_course.setdefault(session.course_id, []).append(
            {
                **_record(session, users, skip={"course"}),
                "areas": [_record(a, users, skip={"session"}) for a in session.areas.all()],
                "products": [
                    _record(p, users, skip={"session"}) for p in session.products_used.all()
                ],
                "progress": [_record(p, users, skip={"session"}) for p in session.progress.all()],
            }
        )
    return {
        "exported_at": _plain(timezone.now()),
        "exported_by": exported_by.get_full_name() or exported_by.get_username(),
        "client": _record(client, users),
        "consultations": [
            {
                **_record(consultation, users, skip={"client"}),
                "concerns": [
                    _record(rc, users, skip={"consultation"}) for rc in consultation.concerns.all()
                ],
            }
            for consultation in consultations
        ],
        "courses": [
            {
                **_record(course, users, skip={"client"}),
                "concerns": [str(pc.recorded_concern) for pc in course.course_concerns.all()],
                "sessions": by_course.get(course.pk, []),
            }
            for course in courses
        ],
        "contact_attempts": [_record(a, users, skip={"client"}) for a in attempts],
        "photos": [
            {
                **_record(p, users, skip={"client"}),
                "image_url": reverse("treatments:photo-image", args=[p.pk]),
                "thumbnail_url": reverse("treatments:photo-thumbnail", args=[p.pk]),
            }
            for p in photos
        ],
        # Each consent with its frozen PDF, so the export holds what the client signed.
        "consents": [_consent(c, users) for c in consents],
    }


def _consent(signed, users):
    data = _record(signed, users, skip={"client", "signature", "pdf"})
    data["pdf_url"] = reverse("consent:pdf", args=[signed.pk]) if signed.pdf else None
    data["pdf_base64"] = None
    if signed.pdf:
        try:
            with signed.pdf.open("rb") as stored:
                data["pdf_base64"] = base64.b64encode(stored.read()).decode("ascii")
        except (FileNotFoundError, OSError):
            data["pdf_missing"] = True  # the storage lost it: the record still says so
    return data
