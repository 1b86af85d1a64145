"""A client's record as FHIR R4B resources (fhir.resources.R4B validates them in the tests).

R4B, not R5: the release that booking, EHR and national profiles (US Core, UK Core) run on
today, and the Bulk Data format's. Each resource type has one function, listed in RESOURCES:
`function(record) -> iterable of resource dicts`.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from consent.models import SignedConsent
from consultations.models import Client, Consultation
from treatments.models import Course, SessionProgress, TreatmentSession
from treatments.selectors import ClientRecord

FHIR_RELEASE = "R4B"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PROVENANCE_ACTIVITY = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
LOCAL = "urn:clinic-tracker:"

# The area chart's codes with a SNOMED CT body structure that means the same area. Areas that
# are no single structure ("cheeks and chin", "around the eyes", the décolleté) and areas the
# managers add carry their text only.
AREA_SNOMED = {
    "face": ("89545001", "Face structure"),
    "forehead": ("52795006", "Forehead structure"),
    "nose": ("45206002", "Nasal structure"),
    "neck": ("45048000", "Neck structure"),
    "abdomen": ("113345001", "Abdominal structure"),
    "thighs": ("68367000", "Thigh structure"),
    "buttocks": ("46862004", "Buttock structure"),
    "arms": ("53120007", "Upper limb structure"),
    "back": ("77568009", "Back structure, excluding neck"),
    "hands": ("85562004", "Hand structure"),
    "scalp": ("41695006", "Scalp structure"),
}
SEVERITY_SNOMED = {
    "mild": ("255604002", "Mild"),
    "moderate": ("6736007", "Moderate"),
    "severe": ("24484000", "Severe"),
}
MICRONEEDLING = "Micro-needling (collagen induction therapy)"
GENDER_UNKNOWN = "unknown"


def ref(kind, key, display=None):
    reference = {"reference": f"{kind}/{key}"}
    if display:
        reference["display"] = display
    return reference


def text_concept(text, coding=None):
    concept = {"text": text}
    if coding:
        concept["coding"] = [coding]
    return concept


def body_site(area):
    """An area as a CodeableConcept: SNOMED CT where a structure means it, its name always."""
    known = AREA_SNOMED.get(area.code)
    coding = {"system": SNOMED, "code": known[0], "display": known[1]} if known else None
    return text_concept(area.name, coding)


def instant(value):
    return timezone.localtime(value).isoformat()


def day(value):
    return value.isoformat() if value else None


def person_name(user):
    return user.get_full_name() or user.get_username()


def narrative(text):
    """The resource's human-readable summary (dom-6 asks for one)."""
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>',
    }


def pruned(resource):
    """Without empty values: FHIR allows no empty strings, lists or objects."""
    if isinstance(resource, dict):
        kept = {key: pruned(value) for key, value in resource.items()}
        return {key: value for key, value in kept.items() if value not in (None, "", [], {})}
    if isinstance(resource, list):
        return [pruned(item) for item in resource if item not in (None, "", [], {})]
    return resource


class Everything:
    """What the mappers read for one client: the ClientRecord in full (a fixed number of
    queries) and the staff it names."""

    def __init__(self, client):
        self.client = client
        self.record = ClientRecord(client, in_full=True)
        self.consultations = self.record.consultations
        self.courses = self.record.courses
        self.sessions = self.record.sessions
        self.photos = self.record.photos
        self.consents = list(
            SignedConsent.objects.filter(client=client).select_related(
                "document", "document_version"
            )
        )
        ids = {client.created_by_id}
        ids |= {c.practitioner_id for c in self.consultations}
        ids |= {c.practitioner_id for c in self.courses}
        ids |= {s.practitioner_id for s in self.sessions}
        ids |= {c.witness_id for c in self.consents}
        ids |= set(self.history_users())
        ids.discard(None)
        self.staff = get_user_model().objects.in_bulk(ids)

    def practitioner(self, user_id):
        user = self.staff.get(user_id)
        return ref("Practitioner", user_id, person_name(user) if user else None)

    def history(self):
        """The audit trail of the client's details, consultations, courses and sessions."""
        if not hasattr(self, "_history"):
            self._history = [
                ("Patient", str(self.client.pk), row)
                for row in Client.history.filter(id=self.client.pk).order_by("history_id")
            ]
            self._history += [
                ("Encounter", f"consultation-{row.id}", row)
                for row in Consultation.history.filter(client_id=self.client.pk).order_by(
                    "history_id"
                )
            ]
            self._history += [
                ("CarePlan", f"course-{row.id}", row)
                for row in Course.history.filter(client_id=self.client.pk).order_by("history_id")
            ]
            course_ids = [course.pk for course in self.courses]
            self._history += [
                ("Procedure", f"session-{row.id}", row)
                for row in TreatmentSession.history.filter(course_id__in=course_ids).order_by(
                    "history_id"
                )
            ]
        return self._history

    def history_users(self):
        return [row.history_user_id for _, _, row in self.history()]


# One function per resource type ----------------------------------------------------------------


def patients(everything):
    client = everything.client
    telecom = []
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    if client.phone:
        telecom.append({"system": "phone", "value": client.phone})
    yield {
        "resourceType": "Patient",
        "id": str(client.pk),
        "active": not client.archived,
        "name": [
            {"family": client.last_name, "given": [client.first_name], "text": client.full_name}
        ],
        "birthDate": day(client.date_of_birth),
        "telecom": telecom,
        "extension": [
            {
                "url": f"{LOCAL}fitzpatrick-skin-type",
                "valueString": client.get_skin_type_display(),
            }
        ],
    }


def practitioners(everything):
    for pk, user in everything.staff.items():
        yield {
            "resourceType": "Practitioner",
            "id": str(pk),
            "name": [
                {"text": person_name(user), "family": user.last_name, "given": [user.first_name]}
            ],
        }


def encounters(everything):
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    for consultation in everything.consultations:
        yield {
            "resourceType": "Encounter",
            "id": f"consultation-{consultation.pk}",
            "status": "entered-in-error" if consultation.is_voided else "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [text_concept("Micro-needling consultation")],
            "subject": patient,
            "participant": [{"individual": everything.practitioner(consultation.practitioner_id)}],
            "period": {"start": day(consultation.held_on), "end": day(consultation.held_on)},
            "reasonReference": [
                ref("Condition", f"concern-{rc.pk}") for rc in consultation.concerns.all()
            ],
        }
    for session in everything.sessions:
        yield {
            "resourceType": "Encounter",
            "id": f"session-{session.pk}",
            "status": "entered-in-error" if session.is_voided else "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [text_concept("Micro-needling session")],
            "subject": patient,
            "participant": [{"individual": everything.practitioner(session.practitioner_id)}],
            "period": {"start": day(session.performed_on), "end": day(session.performed_on)},
            "basedOn": [{"reference": f"CarePlan/course-{session.course_id}"}],
        }


def conditions(everything):
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    for consultation in everything.consultations:
        for rc in consultation.concerns.all():
            severity = SEVERITY_SNOMED.get(rc.severity)
            yield {
                "resourceType": "Condition",
                "id": f"concern-{rc.pk}",
                "clinicalStatus": text_concept(
                    "Active", {"system": CLINICAL_STATUS, "code": "active"}
                ),
                "verificationStatus": text_concept(
                    "Entered in error" if consultation.is_voided else "Confirmed",
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "entered-in-error" if consultation.is_voided else "confirmed",
                    },
                ),
                "code": text_concept(
                    rc.concern.name,
                    {
                        "system": f"{LOCAL}concern",
                        "code": rc.concern.slug,
                        "display": rc.concern.name,
                    },
                ),
                "bodySite": [body_site(rc.area)],
                "severity": text_concept(
                    rc.get_severity_display(),
                    {"system": SNOMED, "code": severity[0], "display": severity[1]}
                    if severity
                    else None,
                ),
                "subject": patient,
                "encounter": ref("Encounter", f"consultation-{consultation.pk}"),
                "recordedDate": day(consultation.held_on),
                "recorder": everything.practitioner(consultation.practitioner_id),
                "note": [{"text": rc.notes}] if rc.notes else [],
            }


def consents(everything):
    """Each consent the client signed on the tablet (the document, its version and the SHA-256
    of its text, signer, witness, the frozen PDF), or that a consultation's tick box recorded
    before signing existed; a withdrawn one is inactive, with the withdrawal in its text."""
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    for consent in everything.consents:
        document = consent.document
        signed = consent.state == SignedConsent.State.SIGNED
        version = consent.document_version
        what = f"{document.title}, version {version.number}" if version else document.title
        summary = (
            f"{consent.signer_name} ({consent.get_relationship_display().lower()}) signed "
            f"{what} on {timezone.localtime(consent.signed_at):%d %b %Y}"
            if signed
            else f"{consent.get_state_display()}: {consent.signer_name}, {what}"
        )
        if consent.text_sha256:
            summary += f"; SHA-256 of the text: {consent.text_sha256}"
        if consent.withdrawn_at:
            summary += (
                f". Withdrawn on {timezone.localtime(consent.withdrawn_at):%d %b %Y}: "
                f"{consent.withdrawal_reason}"
            )
        witness = everything.practitioner(consent.witness_id) if consent.witness_id else None
        yield {
            "resourceType": "Consent",
            "id": f"consent-{consent.pk}",
            "status": "inactive" if consent.withdrawn_at else "active",
            "scope": text_concept("Treatment", {"system": CONSENT_SCOPE, "code": "treatment"}),
            "category": [
                text_concept(
                    document.title,
                    {"system": CONSENT_CATEGORY, "code": "59284-0", "display": "Consent Document"},
                )
            ],
            "patient": patient,
            "dateTime": instant(consent.signed_at),
            "performer": [{"display": consent.signer_name}],
            "sourceAttachment": {
                "contentType": "application/pdf",
                "title": f"{what} (signed copy)",
                "url": reverse("consent:pdf", args=[consent.pk]),
            }
            if consent.pdf
            else None,
            "policyRule": text_concept(what),
            "verification": [
                {
                    "verified": True,
                    "verifiedWith": witness,
                    "verificationDate": instant(consent.signed_at),
                }
            ]
            if signed and witness
            else None,
            "provision": {"type": "permit", "action": [text_concept(document.get_kind_display())]},
            "text": narrative(summary),
        }


def care_plans(everything):
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    statuses = {"active": "active", "completed": "completed", "stopped": "revoked"}
    for course in everything.courses:
        yield {
            "resourceType": "CarePlan",
            "id": f"course-{course.pk}",
            "status": statuses[course.status],
            "intent": "plan",
            "title": (
                f"{MICRONEEDLING}: {course.planned_sessions} sessions, "
                f"every {course.interval_weeks} weeks"
            ),
            "description": course.notes,
            "subject": patient,
            "period": {"start": day(course.start_date), "end": day(course.ended_on)},
            "author": everything.practitioner(course.practitioner_id),
            "addresses": [
                ref("Condition", f"concern-{link.recorded_concern_id}")
                for link in course.course_concerns.all()
            ],
            "activity": [
                {
                    "detail": {
                        "kind": "ServiceRequest",
                        "code": text_concept(MICRONEEDLING),
                        "status": "completed"
                        if course.status == "completed"
                        else "in-progress"
                        if course.status == "active"
                        else "stopped",
                        "scheduledTiming": {
                            "repeat": {
                                "count": course.planned_sessions,
                                "period": course.interval_weeks,
                                "periodUnit": "wk",
                            }
                        },
                        "description": (
                            f"{course.sessions_logged} of {course.planned_sessions} logged"
                        ),
                    }
                }
            ],
            "note": [{"text": course.end_reason}] if course.end_reason else [],
        }


def procedures(everything):
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    for session in everything.sessions:
        device = session.get_device_display() + (
            f" ({session.device_model})" if session.device_model else ""
        )
        yield {
            "resourceType": "Procedure",
            "id": f"session-{session.pk}",
            "status": "entered-in-error" if session.is_voided else "completed",
            "code": text_concept(MICRONEEDLING),
            "subject": patient,
            "encounter": ref("Encounter", f"session-{session.pk}"),
            "basedOn": [ref("CarePlan", f"course-{session.course_id}")],
            "performedDateTime": day(session.performed_on),
            "performer": [{"actor": everything.practitioner(session.practitioner_id)}],
            "bodySite": [body_site(area.area) for area in session.areas.all()],
            "focalDevice": [
                {
                    "action": text_concept("Used"),
                    "manipulated": ref("Device", f"session-{session.pk}", device),
                }
            ],
            "usedReference": [
                ref("Medication", f"lot-{row.pk}", f"{row.product} lot {row.lot_number}")
                for row in session.products_used.all()
            ],
            "reasonReference": [
                ref("Condition", f"concern-{row.recorded_concern_id}")
                for row in session.progress.all()
            ],
            "outcome": text_concept(session.get_skin_response_display()),
            "note": [{"text": text} for text in (session.notes, session.void_reason) if text],
        }


def _observation(everything, session, key, code, **value):
    return {
        "resourceType": "Observation",
        "id": f"{key}",
        "status": "entered-in-error" if session.is_voided else "final",
        "category": [
            text_concept("Procedure", {"system": OBSERVATION_CATEGORY, "code": "procedure"})
        ],
        "code": code,
        "subject": ref("Patient", everything.client.pk, everything.client.full_name),
        "encounter": ref("Encounter", f"session-{session.pk}"),
        "partOf": [ref("Procedure", f"session-{session.pk}")],
        "effectiveDateTime": day(session.performed_on),
        "performer": [everything.practitioner(session.practitioner_id)],
        **value,
    }


def observations(everything):
    for session in everything.sessions:
        for area in session.areas.all():
            yield _observation(
                everything,
                session,
                f"depth-{area.pk}",
                text_concept("Needle depth"),
                bodySite=body_site(area.area),
                valueQuantity={
                    "value": float(Decimal(area.depth_mm)),
                    "unit": "mm",
                    "system": UCUM,
                    "code": "mm",
                },
            )
        if session.pain_score is not None:
            yield _observation(
                everything,
                session,
                f"pain-{session.pk}",
                text_concept(
                    "Pain severity 0-10 verbal numeric rating",
                    {
                        "system": LOINC,
                        "code": "72514-3",
                        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                    },
                ),
                valueInteger=session.pain_score,
            )
        for row in session.progress.all():
            for who, rating in (
                ("practitioner", row.practitioner_rating),
                ("client", row.client_rating),
            ):
                if rating is None:
                    continue
                yield _observation(
                    everything,
                    session,
                    f"progress-{row.pk}-{who}",
                    text_concept(f"Progress as the {who} rates it: {row.recorded_concern}"),
                    focus=[ref("Condition", f"concern-{row.recorded_concern_id}")],
                    valueCodeableConcept=text_concept(
                        SessionProgress.rating_label(rating),
                        {
                            "system": f"{LOCAL}progress-rating",
                            "code": str(rating),
                            "display": SessionProgress.rating_label(rating),
                        },
                    ),
                )


def devices(everything):
    """The needling device of each session (kind and model as recorded)."""
    for session in everything.sessions:
        yield {
            "resourceType": "Device",
            "id": f"session-{session.pk}",
            "type": text_concept(session.get_device_display()),
            "deviceName": [{"name": session.device_model, "type": "model-name"}]
            if session.device_model
            else [],
            "patient": ref("Patient", everything.client.pk),
        }


def medications(everything):
    """Each product applied, with its lot from stock and the lot's expiry (unknown for a lot
    recorded before the clinic kept stock)."""
    for session in everything.sessions:
        for row in session.products_used.all():
            yield {
                "resourceType": "Medication",
                "id": f"lot-{row.pk}",
                "code": text_concept(str(row.product)),
                "form": text_concept(row.product.get_kind_display()),
                "ingredient": [{"itemCodeableConcept": text_concept(row.product.active_ingredient)}]
                if row.product.active_ingredient
                else [],
                "batch": {"lotNumber": row.lot_number}
                | ({"expirationDate": day(row.lot.expiry_date)} if row.lot.expiry_date else {}),
            }


def media(everything):
    """The photos' list (the images stay private: the URL needs a signed-in role)."""
    patient = ref("Patient", everything.client.pk, everything.client.full_name)
    for photo in everything.photos:
        yield {
            "resourceType": "Media",
            "id": f"photo-{photo.pk}",
            "status": "completed",
            "type": text_concept(
                "Image",
                {"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image"},
            ),
            "view": text_concept(photo.get_angle_display()),
            "subject": patient,
            "encounter": ref("Encounter", f"session-{photo.session_id}")
            if photo.session_id
            else ref("Encounter", f"consultation-{photo.consultation_id}"),
            "createdDateTime": day(photo.taken_on),
            "bodySite": body_site(photo.area),
            "width": photo.width or None,
            "height": photo.height or None,
            "content": {
                "contentType": "image/jpeg",
                "url": reverse("treatments:photo-image", kwargs={"pk": photo.pk}),
                "title": str(photo),
            },
            "note": [{"text": photo.notes}] if photo.notes else [],
        }


def provenances(everything):
    activity = {"+": ("CREATE", "create"), "~": ("UPDATE", "revise"), "-": ("DELETE", "delete")}
    for kind, key, row in everything.history():
        code, display = activity[row.history_type]
        user = row.history_user_id
        yield {
            "resourceType": "Provenance",
            "id": f"{kind.lower()}-{key}-v{row.history_id}",
            "target": [ref(kind, key)],
            "recorded": instant(row.history_date),
            "activity": text_concept(display, {"system": PROVENANCE_ACTIVITY, "code": code}),
            "agent": [
                {"who": everything.practitioner(user) if user else {"display": "The system"}}
            ],
            "reason": [text_concept(row.history_change_reason)]
            if getattr(row, "history_change_reason", None)
            else [],
        }


# The registry: the resource types of a client's record, each with its function.
RESOURCES = [
    ("Patient", patients),
    ("Practitioner", practitioners),
    ("Encounter", encounters),
    ("Condition", conditions),
    ("Consent", consents),
    ("CarePlan", care_plans),
    ("Procedure", procedures),
    ("Observation", observations),
    ("Device", devices),
    ("Medication", medications),
    ("Media", media),
    ("Provenance", provenances),
]


def client_resources(client):
    """(resource type, resource) for everything recorded about `client`."""
    everything = Everything(client)
    for kind, build in RESOURCES:
        for resource in build(everything):
            yield kind, pruned(resource)


def everything_bundle(client, *, base):
    """Patient/$everything: a searchset Bundle of the client's record; `base` ends with "/"."""
    entries = [
        {
            "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match" if kind == "Patient" else "include"},
        }
        for kind, resource in client_resources(client)
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "total": 1,
        "entry": entries,
    }
