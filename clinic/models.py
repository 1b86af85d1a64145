"""The shared kernel of every clinical record: who made and changed it, its version, voiding.

Abstract models only: the apps' models inherit them, so every clinical row is stamped and
audited the same way.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.formats import moment
from clinic.history import AuditTrail

# Free text (notes, reasons) is refused past these lengths, with a message by the field: long
# enough for any real note, short enough that no form can fill the database or a page.
NOTE_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 1000


class Stamped(models.Model):
    """Who created and who last changed a clinical row, and when."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Raised by every change, so a save based on an older version is refused.",
    )
    # Every create and change keeps the previous version, with who and when.
    history = AuditTrail(inherit=True)

    class Meta:
        abstract = True

    def stamp(self, user):
        """Record `user` as the author of the change about to be saved (and in its history)."""
        now = timezone.now()
        if self._state.adding:
            self.created_at = now
            self.created_by = user
        else:
            self.version += 1
        self.updated_at = now
        self.updated_by = user
        self._history_user = user


class Voidable(models.Model):
    """Clinical records are never deleted: a mistaken one is voided with a reason."""

    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    void_reason = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_voided(self):
        return self.voided_at is not None


class Submission(models.Model):
    """A create form's one-time key, saved in the transaction of what the form created.

    The key is unique, so a form posted twice (a double click, a resend, a retry after a
    timeout) cannot save twice: the second post is sent where the first one went
    (clinic.submissions). Not a clinical record: no history, and `purge_submissions` removes
    old ones.
    """

    key = models.UUIDField(help_text="Drawn into the form when its page was shown.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    url = models.TextField(help_text="Where the first post went: the page of what it saved.")
    summary = models.TextField(blank=True, help_text="What the first post told the user.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["key"], name="submission_key_once")]

    def __str__(self):
        return f"Form {self.key} saved at {moment(self.created_at)}"


class ExportRecord(models.Model):
    """A bulk export of client records: who, when, which list with which filters, how many rows.

    One row per export file, whatever its length (a client's own reads are ClientAccess rows):
    the filters say which records went out, so a manager can run the same list again to see them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    exported_at = models.DateTimeField(default=timezone.now, db_index=True)
    what = models.CharField(max_length=200, help_text="The list exported: clients, sessions…")
    filters = models.TextField(
        blank=True, help_text="The list's filters and search, as in its address; blank: all."
    )
    rows = models.PositiveIntegerField(help_text="Rows in the file.")
    file_format = models.CharField("format", max_length=20)

    class Meta:
        ordering = ["-exported_at", "-pk"]
        indexes = [models.Index(fields=["user", "exported_at"], name="exportrecord_user_idx")]

    def __str__(self):
        return f"{self.user} exported {self.rows} {self.what}"

    @classmethod
    def record(cls, *, user, what, filters, rows, file_format):
        return cls.objects.create(
            user=user,
            what=what[:200],
            filters=filters,
            rows=rows,
            file_format=file_format[:20],
        )
