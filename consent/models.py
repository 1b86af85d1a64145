"""Consent that holds up: documents in versions, signed copies frozen with their text's hash.

- A ConsentDocument (the micro-needling treatment, numbing cream, clinical photographs, ...)
  has versions. A version is written as a draft, then published: publishing freezes its text
  and keeps the text's SHA-256. A published version never changes again (save() and delete()
  refuse); a change to the document is a new draft version.
- A SignedConsent is one client's signature on one published version: the text's hash at
  signing, the signature (a drawn PNG, or the typed full name), who signed and as what, the
  practitioner who witnessed it, and a PDF rendered at signing. It is never edited or deleted:
  withdrawing it records when, by whom and why.
- A consent recorded with the consultation's tick box, before signing existed, became a
  SignedConsent of the kind RECORDED_BEFORE (data migration): it names no version and has no
  signature, and is never shown as signed.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from clinic.models import Stamped
from consultations.models import Client, Consultation
from consultations.screening import add_months


class Kind(models.TextChoices):
    TREATMENT = "treatment", "Micro-needling treatment"
    NUMBING = "numbing", "Numbing cream"
    PHOTOGRAPHS = "photographs", "Clinical photographs"
    OTHER = "other", "Other"


class Frozen(Exception):
    """A published version or a signed consent was about to change or be deleted."""


def sha256_text(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Block:
    """One piece of a version's text: a heading, a paragraph or a list of points."""

    kind: str  # "heading", "paragraph", "points"
    text: str = ""
    points: tuple = ()


def text_blocks(text):
    """A version's text as Blocks, for the templates and the PDF (never HTML built here).

    The text is plain: a line starting "## " is a heading, lines starting "- " are points of a
    list, other lines run together into paragraphs; a blank line ends a paragraph or a list.
    """
    blocks, lines, points = [], [], []

    def flush():
        if lines:
            blocks.append(Block("paragraph", " ".join(lines)))
            lines.clear()
        if points:
            blocks.append(Block("points", points=tuple(points)))
            points.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            blocks.append(Block("heading", line[3:].strip()))
        elif line.startswith("- "):
            if lines:
                flush()
            points.append(line[2:].strip())
        else:
            if points:
                flush()
            lines.append(line)
    flush()
    return blocks


class ConsentDocument(Stamped):
    """A consent form the clinic asks clients to sign, in versions."""

    kind = models.CharField(max_length=20, choices=Kind)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "title", "pk"]
        verbose_name = "consent document"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~Q(kind="other"),
                name="consentdocument_one_per_kind",
                violation_error_message="The clinic already has a document of this kind: "
                "write a new version of it instead.",
            ),
        ]

    def __str__(self):
        return self.title

    def latest_published(self):
        return self.versions.published().order_by("-number").first()


class VersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ConsentVersion.Status.PUBLISHED)


class ConsentVersion(Stamped):
    """One version of a consent document's text. Published: frozen for good."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    text = models.TextField(
        help_text='Plain text. A line starting "## " is a heading; lines starting "- " are '
        "points of a list; a blank line starts a new paragraph."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    requires_reconsent = models.BooleanField(
        "requires re-consent",
        default=False,
        help_text="Ticked: once published, consents to earlier versions no longer count and "
        "every client signs this one before their next course or session.",
    )
    text_sha256 = models.CharField("SHA-256 of the text", max_length=64, blank=True, editable=False)

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["document", "-number"]
        verbose_name = "consent version"
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="consentversion_number_once"
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(status="draft"),
                name="consentversion_one_draft",
                violation_error_message="This document already has a draft: edit that one.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(published_at__isnull=False) & ~Q(text_sha256="")),
                name="consentversion_published_is_sealed",
            ),
        ]

    def __str__(self):
        return f"{self.document}, version {self.number} ({self.get_status_display().lower()})"

    def get_absolute_url(self):
        return reverse("consent:version-detail", args=[self.pk])

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def blocks(self):
        return text_blocks(self.text)

    def clean(self):
        super().clean()
        if not self.text.strip():
            raise ValidationError({"text": "Write the text the client reads and signs."})

    def save(self, *args, **kwargs):
        # The guard behind the admin's read-only page: a published version's row never changes.
        if self.pk and ConsentVersion.objects.filter(pk=self.pk, status="published").exists():
            raise Frozen(f"{self} is published: its text is frozen. Write a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk and ConsentVersion.objects.filter(pk=self.pk, status="published").exists():
            raise Frozen(f"{self} is published: it stays readable for good.")
        return super().delete(*args, **kwargs)


def consent_storage():
    """The private storage of photos: signatures and PDFs are as private as they are (and the
    backups carry the files of both)."""
    return storages["photos"]


def valid_since(now=None):
    """The earliest signing time of a consent that still counts at `now` (default: now)."""
    local = timezone.localtime(now or timezone.now())
    day = add_months(local.date(), -settings.CONSENT_VALID_MONTHS)
    return local.replace(year=day.year, month=day.month, day=day.day)


def signature_path(signed, filename):
    return f"consents/{signed.client_id}/{uuid.uuid4().hex}-signature.png"


def pdf_path(signed, filename):
    return f"consents/{signed.client_id}/{uuid.uuid4().hex}.pdf"


class SignedConsentQuerySet(models.QuerySet):
    def standing(self):
        """Not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)

    def valid(self, kind, *, now=None, signed_only=False):
        """Consents that allow what documents of `kind` (or of the kinds listed) cover, now:
        not withdrawn, signed less than CONSENT_VALID_MONTHS ago, and no version published after
        it that asks to re-consent. `signed_only` leaves out the consents recorded before signing
        was available. (SignedConsent.counts_now() says the same of one consent.)"""
        kinds = [kind] if isinstance(kind, str) else list(kind)
        reconsent = ConsentVersion.objects.published().filter(
            document=OuterRef("document"),
            requires_reconsent=True,
            published_at__gt=OuterRef("signed_at"),
        )
        query = self.standing().filter(document__kind__in=kinds, signed_at__gt=valid_since(now))
        query = query.exclude(Exists(reconsent))
        if signed_only:
            query = query.filter(state=SignedConsent.State.SIGNED)
        return query


class SignedConsent(Stamped):
    """A client's consent to one published version, frozen at signing. Never edited or deleted;
    withdrawn with a reason."""

    class State(models.TextChoices):
        SIGNED = "signed", "Signed"
        RECORDED_BEFORE = "recorded_before", "Recorded before signed consent was available"

    class Relationship(models.TextChoices):
        CLIENT = "client", "The client"
        GUARDIAN = "guardian", "Parent or guardian"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    document_version = models.ForeignKey(
        ConsentVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signed",
        help_text="Empty only for a consent recorded before signing was available.",
    )
    state = models.CharField(max_length=20, choices=State, default=State.SIGNED)
    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The consultation whose tick box recorded it (recorded before signing only).",
    )
    text_sha256 = models.CharField("SHA-256 of the text signed", max_length=64, blank=True)
    signature = models.FileField(
        storage=consent_storage, upload_to=signature_path, max_length=200, blank=True
    )
    typed_name = models.CharField(
        max_length=200, blank=True, help_text="The full name typed instead of a drawn signature."
    )
    signer_name = models.CharField(max_length=200)
    relationship = models.CharField(
        max_length=10, choices=Relationship, default=Relationship.CLIENT
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The practitioner who saw it signed and countersigned.",
    )
    signed_at = models.DateTimeField(default=timezone.now)
    pdf = models.FileField(storage=consent_storage, upload_to=pdf_path, max_length=200, blank=True)
    pdf_sha256 = models.CharField("SHA-256 of the PDF", max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    withdrawal_reason = models.TextField(blank=True, editable=False)

    objects = SignedConsentQuerySet.as_manager()

    # What a withdrawal writes: the only change a saved consent takes.
    WITHDRAWAL_FIELDS = [
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_reason",
        "updated_at",
        "updated_by",
        "version",
    ]

    class Meta:
        ordering = ["client", "-signed_at", "-pk"]
        verbose_name = "signed consent"
        indexes = [
            models.Index(fields=["client", "signed_at"], name="signedconsent_client_idx"),
            models.Index(fields=["document", "signed_at"], name="signedconsent_document_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="recorded_before")
                | (
                    Q(document_version__isnull=False)
                    & Q(witness__isnull=False)
                    & ~Q(text_sha256="")
                    & (~Q(signature="") | ~Q(typed_name=""))
                ),
                name="signedconsent_signed_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(state="signed") | Q(document_version__isnull=True),
                name="signedconsent_recorded_before_names_no_version",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdrawal_reason=""),
                name="signedconsent_withdrawal_has_reason",
            ),
        ]

    def __str__(self):
        what = self.document_version or self.document
        if self.state == self.State.RECORDED_BEFORE:
            return f"{self.client}: {what} (recorded before signed consent was available)"
        return f"{self.client}: {what}, signed {timezone.localtime(self.signed_at):%d %b %Y}"

    @property
    def is_signed(self):
        return self.state == self.State.SIGNED

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    def counts_now(self, reconsent_since=None):
        """What SignedConsent.objects.valid() says of this consent, read from the consent (its
        `document` loaded) and `reconsent_since`: when the latest version of its document that
        asks to re-consent was published (None: none did)."""
        return (
            self.withdrawn_at is None
            and self.signed_at > valid_since()
            and not (reconsent_since and reconsent_since > self.signed_at)
        )

    @property
    def expires_on(self):
        return add_months(timezone.localdate(self.signed_at), settings.CONSENT_VALID_MONTHS)

    def save(self, *args, **kwargs):
        # Frozen once saved: a withdrawal (its own fields) is the only change allowed.
        if self.pk and not self._state.adding:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= set(self.WITHDRAWAL_FIELDS):
                raise Frozen("A signed consent cannot be edited: withdraw it with a reason.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Frozen("A signed consent is never deleted: withdraw it with a reason.")
