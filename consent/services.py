"""The writes of consent (versions, signing, withdrawal) and the gates the treatments ask.

Gates (`treatment_refusals`, `photo_refusal`) say why something may not go ahead. They read
the client's consents with a row lock, inside the caller's transaction: a withdrawal (which locks
the consent it withdraws) waits for the course or session that relies on it, or that course or
session sees the withdrawal.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, Max
from django.urls import reverse
from django.utils import timezone

from consent.models import (
    ConsentDocument,
    ConsentVersion,
    Kind,
    SignedConsent,
    consent_storage,
    sha256_text,
)
from consent.pdf import render_pdf
from consent.signature import clean_signature

logger = logging.getLogger(__name__)

NAMES_DIFFER = "Type the signer's full name exactly as given above, or sign on the pad."
NO_SIGNATURE = "Sign on the pad, or type the full name instead."
BOTH = "Sign on the pad or type the name, not both: clear one of them."


# Versions


@transaction.atomic
def create_draft(*, document, text, by, requires_reconsent=False):
    """A new draft version of `document` with `text`, numbered after its last version."""
    ConsentDocument.objects.select_for_update().get(pk=document.pk)
    if document.versions.filter(status=ConsentVersion.Status.DRAFT).exists():
        raise ValidationError("This document already has a draft: edit that one.")
    last = document.versions.aggregate(last=Max("number"))["last"] or 0
    version = ConsentVersion(
        document=document, number=last + 1, text=text, requires_reconsent=requires_reconsent
    )
    version.stamp(by)
    version.full_clean()
    version.save()
    return version


def new_draft_from(*, version, by):
    """Editing a published version: a new draft of its document, starting from its text."""
    return create_draft(document=version.document, text=version.text, by=by)


@transaction.atomic
def publish_version(*, version, by):
    """Freeze a draft: its text's SHA-256 is kept and it is offered for signing from now on."""
    ConsentDocument.objects.select_for_update().get(pk=version.document_id)
    version = ConsentVersion.objects.select_related("document").get(pk=version.pk)
    if version.is_published:
        raise ValidationError(f"{version} is already published.")
    version.full_clean()
    version.status = ConsentVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = by
    version.text_sha256 = sha256_text(version.text)
    version.stamp(by)
    version.save()
    return version


# Signing


def current_version(kind):
    """The latest published version of the document of `kind` (the one offered), or None."""
    return (
        ConsentVersion.objects.published()
        .filter(document__kind=kind)
        .select_related("document")
        .order_by("-number")
        .first()
    )


@transaction.atomic
def sign_consent(
    *,
    client,
    version,
    witness,
    signer_name,
    relationship=SignedConsent.Relationship.CLIENT,
    signature_data_url="",
    typed_name="",
):
    """Keep a client's signature on `version` (the latest published one of its document), with
    the text's hash, the signature (a drawn PNG data URL or the typed full name), the witness
    and the PDF rendered now. ValidationError keyed by field when anything is not right."""
    errors = {}
    signer_name = " ".join((signer_name or "").split())
    typed_name = " ".join((typed_name or "").split())
    if not signer_name:
        errors["signer_name"] = "Give the signer's full name."
    png = None
    if signature_data_url and typed_name:
        errors["signature"] = BOTH
    elif signature_data_url:
        try:
            png = clean_signature(signature_data_url)
        except ValidationError as error:
            errors["signature"] = error.messages
    elif typed_name:
        if signer_name and typed_name.casefold() != signer_name.casefold():
            errors["typed_name"] = NAMES_DIFFER
    else:
        errors["signature"] = NO_SIGNATURE
    if relationship not in SignedConsent.Relationship.values:
        errors["relationship"] = "Choose who signs: the client, or a parent or guardian."
    if client.archived:
        errors["__all__"] = "This client is archived: restore the client first."
    if errors:
        raise ValidationError(errors)

    # Publishing locks the document too: the version signed is the latest, and stays so.
    ConsentDocument.objects.select_for_update().get(pk=version.document_id)
    offered = current_version(version.document.kind)
    if offered is None or offered.pk != version.pk:
        raise ValidationError(
            "A newer version of this document was published meanwhile: read it and sign again."
        )
    if sha256_text(offered.text) != offered.text_sha256:
        # A published text changed under the application (by hand in the database): never sign it.
        raise ValidationError("This version's text does not match its seal: ask a manager.")

    signed = SignedConsent(
        client=client,
        document=offered.document,
        document_version=offered,
        state=SignedConsent.State.SIGNED,
        text_sha256=offered.text_sha256,
        typed_name=typed_name if not png else "",
        signer_name=signer_name,
        relationship=relationship,
        witness=witness,
        signed_at=timezone.now(),
    )
    signed.stamp(witness)
    stored = []
    try:
        if png:
            signed.signature.save("signature.png", ContentFile(png), save=False)
            stored.append(signed.signature.name)
        pdf = render_pdf(signed, signature_png=png)
        signed.pdf.save("consent.pdf", ContentFile(pdf), save=False)
        stored.append(signed.pdf.name)
        signed.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        signed.full_clean(exclude=["client", "document", "document_version", "witness"])
        signed.save()
    except BaseException:
        _discard(stored)
        raise
    return signed


def _discard(names):
    for name in names:
        try:
            consent_storage().delete(name)
        except Exception:  # an unused file stays, nothing worse
            logger.exception("Could not delete %s, a file of a consent not saved.", name)


@transaction.atomic
def withdraw_consent(*, consent, reason, by):
    """Record that the client withdrew `consent`: when, recorded by whom, and why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the consent is withdrawn (the client's words)."})
    consent = SignedConsent.objects.select_for_update().get(pk=consent.pk)
    if consent.is_withdrawn:
        raise ValidationError(
            f"This consent was already withdrawn on "
            f"{timezone.localtime(consent.withdrawn_at):%d %b %Y}."
        )
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = by
    consent.withdrawal_reason = reason
    consent.stamp(by)
    consent.save(update_fields=SignedConsent.WITHDRAWAL_FIELDS)
    return consent


# Gates


def _relied_on(client, kinds):
    """{kind: states} of the client's valid consents of `kinds`, read with a row lock (one
    query)."""
    found = {}
    rows = (
        SignedConsent.objects.valid(kinds)
        .filter(client=client)
        .select_for_update(of=("self",))
        .values_list("document__kind", "state")
    )
    for kind, state in rows:
        found.setdefault(kind, set()).add(state)
    return found


def has_valid(client, kind, *, signed_only=False):
    """Whether `client` has a consent of `kind` that counts now (for pages: no lock)."""
    return SignedConsent.objects.valid(kind, signed_only=signed_only).filter(client=client).exists()


def _sign_here(client, kind):
    return reverse("consent:sign", args=[getattr(client, "pk", client), kind])


# The consents a session goes ahead on, as Exists() annotations: (attribute, kind, signed only).
SESSION_CONSENTS = [
    ("consent_treatment_signed", Kind.TREATMENT, True),
    ("consent_treatment", Kind.TREATMENT, False),
    ("consent_numbing", Kind.NUMBING, False),
]


def session_consent_annotations(client_ref):
    """{attribute: Exists(...)} of the valid consents of the client `client_ref` (an OuterRef)
    that a session needs, for a query read after the course's lock (Course.objects.
    locked_with_counts() adds them to its concerns' query: no query of their own)."""
    return {
        name: Exists(
            SignedConsent.objects.valid(kind, signed_only=signed).filter(client=client_ref)
        )
        for name, kind, signed in SESSION_CONSENTS
    }


def found_in(row):
    """{kind: states} from a row read with session_consent_annotations(), as _relied_on()."""
    found = {}
    if getattr(row, "consent_treatment_signed", False):
        found.setdefault(Kind.TREATMENT, set()).add(SignedConsent.State.SIGNED)
    if getattr(row, "consent_treatment", False):
        found.setdefault(Kind.TREATMENT, set()).add(SignedConsent.State.RECORDED_BEFORE)
    if getattr(row, "consent_numbing", False):
        found.setdefault(Kind.NUMBING, set()).add(SignedConsent.State.SIGNED)
    return found


def treatment_refusals(*, client, new_course, numbing=False, found=None):
    """{field: why} micro-needling (with numbing cream) may not go ahead for `client`, empty
    when it may: one locked query, or none with `found` ({kind: states}, found_in() of a row
    read after the course's lock).

    A new course needs a consent the client signed; a session on a course also goes ahead on a
    consent recorded before signing was available, until it expires (the clinic keeps treating
    the clients it had, who sign at their next visit)."""
    if found is None:
        kinds = [Kind.TREATMENT, Kind.NUMBING] if numbing else [Kind.TREATMENT]
        found = _relied_on(client, kinds)
    accepted = {SignedConsent.State.SIGNED}
    if not new_course:
        accepted.add(SignedConsent.State.RECORDED_BEFORE)
    refusals = {}
    if not found.get(Kind.TREATMENT, set()) & accepted:
        refusals["__all__"] = _no_treatment_consent(client)
    if numbing and not found.get(Kind.NUMBING):
        refusals["numbing"] = (
            "The client has no valid consent to numbing cream: ask the client to sign it, or "
            f"log the session without numbing. Sign here: {_sign_here(client, Kind.NUMBING)}"
        )
    return refusals


def _no_treatment_consent(client):
    return (
        "The client has no valid signed consent to the current micro-needling treatment "
        "document (never signed, expired, withdrawn, or a new version asks to sign again). "
        f"Ask the client to read and sign it first: {_sign_here(client, Kind.TREATMENT)}"
    )


def photo_refusal(*, client):
    if _relied_on(client, [Kind.PHOTOGRAPHS]):
        return ""
    return (
        "The client has not consented to photographs (or withdrew that consent, or it expired): "
        "no photo was saved. Ask the client to sign the photographs consent first: "
        f"{_sign_here(client, Kind.PHOTOGRAPHS)}"
    )


# Reading


@dataclass
class KindStatus:
    """Where a client stands with one kind of consent, for the client page and Today."""

    kind: str
    label: str
    current: object  # the latest published ConsentVersion, or None
    valid: object  # the consent that counts now, or None
    withdrawn: object = None  # the latest withdrawn one, when nothing counts now

    @property
    def needs_signing(self):
        return self.current is not None and (self.valid is None or not self.valid.is_signed)


KINDS_ASKED = (Kind.TREATMENT, Kind.NUMBING, Kind.PHOTOGRAPHS)


def consent_status(client, records):
    """[KindStatus] of the treatment, numbing and photographs consents of `client`, whose
    consents `records` lists (newest first, with their documents): one query, for the versions.
    """
    current, reconsent_since = {}, {}
    for version in ConsentVersion.objects.published().select_related("document").order_by("number"):
        kind = version.document.kind
        current[kind] = version
        if version.requires_reconsent:
            reconsent_since[kind] = version.published_at
    statuses = []
    for kind in KINDS_ASKED:
        mine = [r for r in records if r.document.kind == kind]
        counting = [r for r in mine if r.counts_now(reconsent_since.get(kind))]
        # Signed ones first, then the newest (records come newest first).
        counting.sort(key=lambda r: not r.is_signed)
        status = KindStatus(kind, Kind(kind).label, current.get(kind), next(iter(counting), None))
        if status.valid is None:
            status.withdrawn = next((r for r in mine if r.is_withdrawn), None)
        statuses.append(status)
    return statuses


def client_consents(client):
    """Every consent of `client`, newest first, with what its pages show (one query)."""
    return list(
        SignedConsent.objects.filter(client=client)
        .select_related("document", "document_version", "witness", "withdrawn_by")
        .order_by("-signed_at", "-pk")
    )
