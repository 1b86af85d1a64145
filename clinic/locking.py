"""Optimistic locking: a save based on an older version of a record is refused, never silent.

Every clinical record (`consultations.models.Stamped`) carries a `version` that `stamp()` raises
on each change. A form remembers the version it showed; when someone else saved the record in
the meantime, the save is refused with a message saying who changed what (read from the audit
trail), the user's input stays in the form, and the other person's change stays saved. Saving
again after reading the message is a deliberate choice and goes through.
"""

import sqlite3
from contextlib import contextmanager

from django import forms
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from clinic.formats import day
from clinic.history import changes_to_rows

FIELD_NAME = "version"


class StaleRecord(ValidationError):
    """Someone else saved the record since the user opened it."""


def describe_changes(record, since_version):
    """Lines saying who changed which fields of `record` after `since_version`, oldest first."""
    history = list(record.history.filter(version__gte=since_version).order_by("history_id"))
    pairs = list(zip(history, history[1:], strict=False))
    lines = []
    for (older, newer), row_changes in zip(
        pairs, changes_to_rows(type(record), pairs), strict=True
    ):
        changed = [
            f"{field.verbose_name}: {_shown(_value(older, field))} → {_shown(_value(newer, field))}"
            for field in _compared_fields(record)
            if getattr(older, field.attname) != getattr(newer, field.attname)
        ] + [f"{label}: {_shown(old)} → {_shown(new)}" for label, old, new in row_changes]
        user = newer.history_user
        who = (user.get_full_name() or user.get_username()) if user else "Someone"
        when = f"{timezone.localtime(newer.history_date):%H:%M} on {day(newer.history_date)}"
        lines.append(f"{who} at {when}: " + ("; ".join(changed) or "no visible field changed"))
    return lines


def stale_message(record, since_version):
    changes = describe_changes(record, since_version) if since_version else []
    detail = " ".join(changes) if changes else "It was changed by someone else."
    return (
        f"This record was changed while you were editing it. {detail} Your changes are still in "
        "the form and nothing has been saved: check them against the changes above and save "
        "again to keep yours."
    )


def check_version(model, pk, expected_version):
    """Lock the row and refuse when its version is not `expected_version` (None: no check).

    Call inside a transaction, before changing the row.
    """
    record = model.objects.select_for_update().get(pk=pk)
    if expected_version is not None and record.version != expected_version:
        raise StaleRecord(stale_message(record, expected_version), code="stale")
    return record


# PostgreSQL's SQLSTATE for a lock not obtained within lock_timeout (psycopg's LockNotAvailable).
LOCK_NOT_AVAILABLE = "55P03"


class RecordBusy(ValidationError):
    """Someone else was saving the record: its lock was not obtained in time, nothing was saved."""


def lock_not_obtained(error):
    """Whether the database error `error` means a lock was not obtained in time: PostgreSQL's
    lock_timeout (DJANGO_DB_LOCK_TIMEOUT) or SQLite's busy timeout (DJANGO_SQLITE_TIMEOUT).
    Django keeps the driver's own error as its cause."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    return isinstance(cause, sqlite3.OperationalError) and "database is locked" in str(cause)


@contextmanager
def refuse_when_busy(message):
    """Turn a lock not obtained in time into RecordBusy (a ValidationError) saying `message`.

    Put it around the outermost transaction of the save, whose error has aborted it: the
    refusal is handled, and the form shown again, once it has been rolled back. Any other
    database error goes on as it was.
    """
    try:
        yield
    except OperationalError as error:
        if not lock_not_obtained(error):
            raise
        raise RecordBusy(message, code="busy") from error


def _compared_fields(record):
    """Every stored field, derived ones too (a course's progress), but not the stamps."""
    skipped = {"id", "version", "created_at", "created_by", "updated_at", "updated_by"}
    return [f for f in record._meta.concrete_fields if f.name not in skipped]


def _value(historical, field):
    """A field's value in a history row, shown as people read it (choices, related names)."""
    if field.is_relation:
        return getattr(historical, field.name) if getattr(historical, field.attname) else None
    if field.choices:
        return dict(field.flatchoices).get(getattr(historical, field.attname))
    return getattr(historical, field.attname)


def _shown(value):
    if value in (None, ""):
        return "(empty)"
    return f"“{value}”"


class VersionedFormMixin(forms.Form):
    """For a ModelForm of a Stamped model: carry the version shown, refuse a stale save.

    On refusal the hidden version is moved on to the current one, so saving the kept input
    again is a deliberate overwrite that goes through.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The version of the row as loaded for this request (stamp() raises it before saving).
        self.loaded_version = self.instance.version if self.instance.pk else None
        if self.loaded_version is not None:
            self.fields[FIELD_NAME].initial = self.loaded_version

    def clean(self):
        cleaned = super().clean()
        submitted = cleaned.get(FIELD_NAME)
        if self.loaded_version is not None and submitted not in (None, self.loaded_version):
            self.data = self.data.copy()
            self.data[self.add_prefix(FIELD_NAME)] = self.loaded_version
            raise StaleRecord(stale_message(self.instance, submitted), code="stale")
        return cleaned

    def save(self, commit=True):
        if not commit or self.loaded_version is None:
            return super().save(commit=commit)
        with transaction.atomic():
            # Lock the row: refuse if someone saved between this request's load and now.
            check_version(type(self.instance), self.instance.pk, self.loaded_version)
            return super().save(commit=commit)
