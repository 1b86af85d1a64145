"""Back up the clinic's records to one file and restore them, on SQLite and PostgreSQL alike.

A backup is gzip-compressed JSON, valid as a whole and written one record per line, so that a
large database streams through in both directions without being held in memory:

    {"format": "clinic-tracker-backup", "version": 1, "created_at": "...", "counts": {...},
    "objects": [
    {"model": "consultations.client", "pk": 1, "fields": {"first_name": "...", ...}},
    ...
    ]}

Every record keeps its id, so the links between records, the audit trail and bookmarked pages
stay right. Content types and permissions, which `migrate` creates with ids of its own in each
database, are written by name (Django's natural keys). Sessions are not kept: everyone signs in
again after a restore.

Since format version 2 the document ends with the before-and-after photo files (and, with the
consent app, each signed consent's signature and PDF), one per line, base64-encoded, read from
and restored to the private `photos` storage (local folder or S3):

    ...
    ],
    "files": [
    {"name": "clients/7/3f2a....jpg", "data": "/9j/4AAQ..."},
    ...
    ]}

Version 1 files (without photos) stay readable.

A restore is one transaction, and the photo files follow it: they are extracted to a staging
folder first and put into the photo storage only once the records are committed (see
load_backup()). Nothing changes before the whole file has been read, its gzip checksum
included.
"""

import base64
import dataclasses
import datetime
import gzip
import io
import json
import logging
import os
import shutil
import tempfile
import zlib
from collections import Counter
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.core.serializers import base as serializer_base
from django.core.serializers import python as python_serializer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Prefetch
from django.utils import timezone

FORMAT = "clinic-tracker-backup"
VERSION = 2
READABLE_VERSIONS = {1, 2}
# Recreated by `migrate` (content types, permissions) or not worth keeping (sessions).
NOT_BACKED_UP = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
SIGN_IN_RECORDS_APP = "axes"
# Rows that `migrate` ships with every new database: a restore may replace them freely.
SHIPPED = {
    "auth.group",
    "catalogue.bodyarea",
    "catalogue.historicalbodyarea",
    "catalogue.concern",
    "catalogue.historicalconcern",
    "catalogue.product",
    "catalogue.historicalproduct",
    "consent.consentdocument",
    "consent.consentversion",
}
# Shipped rows of models added later, by the migration that shipped them: restoring a backup
# made before it keeps them.
SHIPPED_SINCE = {
    "catalogue.bodyarea": "catalogue.0005_body_area_chart",
    "catalogue.historicalbodyarea": "catalogue.0005_body_area_chart",
    "consent.consentdocument": "consent.0002_first_published_consent_documents",
    "consent.consentversion": "consent.0002_first_published_consent_documents",
}
CLINICAL_APPS = {"consultations", "consent", "treatments"}
# Models renamed or moved to another app since backups were first made: {old label: new label}.
# Their rows did not change, so a backup made before restores as it is, renamed on the way (with
# the codenames Django gave their permissions: add_treatmentplan is add_course today).
RENAMED_MODELS = {
    **{
        f"treatments.{model}": f"catalogue.{model}"
        for model in ("concern", "historicalconcern", "product", "historicalproduct")
    },
    "consultations.contactattempt": "treatments.contactattempt",
    "consultations.historicalcontactattempt": "treatments.historicalcontactattempt",
    "treatments.treatmentplan": "treatments.course",
    "treatments.historicaltreatmentplan": "treatments.historicalcourse",
    "treatments.planconcern": "treatments.courseconcern",
    "treatments.historicalplanconcern": "treatments.historicalcourseconcern",
}
# Fields renamed since, by the label of their model today: {label: {old name: new name}}.
RENAMED_FIELDS = {
    f"treatments.{model}": {"plan": "course"}
    for model in (
        "treatmentsession",
        "historicaltreatmentsession",
        "courseconcern",
        "historicalcourseconcern",
        "contactattempt",
        "historicalcontactattempt",
    )
}
DEFAULT_PERMISSIONS = ("add", "change", "delete", "view")
CHUNK_SIZE = 2000
OBJECTS_LINE = '"objects": [\n'
END_LINE = "]}\n"
OBJECTS_END_LINE = "],\n"  # version 2: the photo files follow
FILES_LINE = '"files": [\n'
HEADER_LIMIT = 1_000_000  # characters: a header is a few kilobytes

# What reading a damaged backup raises: gzip's own errors (a bad checksum is an OSError),
# zlib's for corrupt compressed data, JSON's and base64's (ValueError), and missing keys.
DAMAGED = (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, UnicodeDecodeError)

logger = logging.getLogger(__name__)


def label(model):
    return model._meta.label_lower


def backed_up_models(*, sign_in_records=True):
    """The models whose rows a backup holds, in the order they are written."""
    return [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and label(model) not in NOT_BACKED_UP
        and (sign_in_records or model._meta.app_label != SIGN_IN_RECORDS_APP)
    ]


def default_path():
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "backups" / f"clinic-{stamp}.json.gz"


# Writing


class _Serializer(python_serializer.Serializer):
    """Django's serializer, naming only content types and permissions (ids for the rest)."""

    by_name = (ContentType, Permission)

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in self.by_name
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in self.by_name
        super().handle_m2m_field(obj, field)


class _Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but keeping the microseconds of times (it rounds to milliseconds)."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _dump(record):
    return json.dumps(record, cls=_Encoder, ensure_ascii=False, separators=(",", ":"))


def serialized_rows(model):
    """Each row of `model` as a serialized dict, read in chunks, in id order."""
    queryset = model._base_manager.order_by("pk")
    named = [
        field.name
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in _Serializer.by_name
    ]
    if named:
        queryset = queryset.select_related(*named)
    for field in model._meta.many_to_many:
        if not field.remote_field.through._meta.auto_created:
            continue  # an explicit through model is backed up as a model of its own
        if field.related_model is Permission:
            permissions = Permission.objects.select_related("content_type")
            queryset = queryset.prefetch_related(Prefetch(field.name, queryset=permissions))
        else:
            queryset = queryset.prefetch_related(field.name)
    serializer = _Serializer()
    chunk = []
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        chunk.append(obj)
        if len(chunk) == CHUNK_SIZE:
            yield from serializer.serialize(chunk)
            chunk = []
    if chunk:
        yield from serializer.serialize(chunk)


def applied_migrations():
    executor = MigrationExecutor(connection)
    return sorted(f"{app}.{name}" for app, name in executor.recorder.applied_migrations())


@dataclasses.dataclass
class Written:
    """What a backup holds: rows per model, photo files, and files the records name but the
    storage no longer had (they cannot be in the backup)."""

    counts: dict
    files: int = 0
    missing_files: list = dataclasses.field(default_factory=list)


@contextmanager
def snapshot():
    """One consistent read of the whole database, for a backup, that blocks no writer.

    PostgreSQL: a read-only repeatable-read transaction. SQLite: a deferred transaction, a
    read snapshot in write-ahead logging; Django's own would begin IMMEDIATE (settings) and
    hold the write lock, and every practitioner saving a session would wait for the backup.
    """
    if connection.in_atomic_block:  # the caller's transaction (tests)
        yield
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
    else:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield


def write_backup(path, *, models, progress=None):
    """Write every row of `models`, then the photo files, to `path` (which must not exist).

    The rows are read in one snapshot (see snapshot()), and the file
    only takes its name once it is complete. It is readable by its owner only: it holds
    health records and password hashes.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with snapshot():
            counts = {label(model): model._base_manager.count() for model in models}
            header = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": timezone.now().isoformat(),
                "application": "clinic-tracker",
                "django": django.get_version(),
                "database": connection.vendor,
                "migrations": applied_migrations(),
                "counts": counts,
            }
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                open(descriptor, "wb") as raw,
                gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw, compresslevel=6) as gz,
                io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as out,
            ):
                out.write(_dump(header)[:-1] + ",\n" + OBJECTS_LINE)
                separator = ""
                for model in models:
                    written = 0
                    total = counts[label(model)]
                    for record in serialized_rows(model):
                        out.write(separator + _dump(record))
                        separator = ",\n"
                        written += 1
                        if progress and written % 100_000 == 0:
                            progress(model, written, total, done=False)
                    if progress:
                        progress(model, written, total, done=True)
                    counts[label(model)] = written
                out.write("\n" + OBJECTS_END_LINE + FILES_LINE)
                written = Written(counts)
                separator = ""
                for name, content in photo_files(written.missing_files):
                    data = base64.b64encode(content).decode("ascii")
                    out.write(separator + _dump({"name": name, "data": data}))
                    separator = ",\n"
                    written.files += 1
                out.write(("\n" if separator else "") + END_LINE)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written


# The records whose files live in the private `photos` storage, and their file fields: photos,
# and signed consents (the drawn signature and the PDF frozen at signing).
STORED_FILES = [
    ("treatments", "Photo", ("image", "thumbnail")),
    ("consent", "SignedConsent", ("signature", "pdf")),
]


def _stored_names():
    """Each tuple of file names of the records with files in the `photos` storage."""
    for app_label, model_name, fields in STORED_FILES:
        model = apps.get_model(app_label, model_name)
        names = model._base_manager.order_by("pk").values_list(*fields)
        yield from names.iterator(chunk_size=CHUNK_SIZE)


def photo_files(missing):
    """(name, bytes) of every stored photo, thumbnail, signature and consent PDF the database
    refers to.

    Names whose file the storage no longer has are appended to `missing`.
    """
    storage = storages["photos"]
    for pair in _stored_names():
        for name in pair:
            if not name:
                continue
            try:
                with storage.open(name, "rb") as stored:
                    yield name, stored.read()
            except FileNotFoundError:
                missing.append(name)  # lost before the backup: it cannot be saved by it


# Reading


@contextmanager
def open_backup(path):
    """Check that `path` is a clinic backup; give its header and the open text stream."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"There is no backup file at {path}.")
    if not os.access(path, os.R_OK):
        raise CommandError(f"Cannot read {path}: permission denied.")
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
        yield _header(stream, path), stream


def _header(stream, path):
    try:
        first = stream.readline(HEADER_LIMIT)
        second = stream.readline(HEADER_LIMIT)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise CommandError(
            f"{path} is not a clinic backup: it is not a gzip-compressed JSON file ({error})."
        ) from None
    try:
        header = json.loads(first.removesuffix("\n").removesuffix(",") + "}")
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CommandError(
            f"{path} is not a clinic backup made by `manage.py backup` (its first line does not "
            "say so). Nothing was restored."
        )
    if header.get("version") not in READABLE_VERSIONS:
        raise CommandError(
            f"{path} is a backup in format version {header.get('version')}; this version of the "
            f"application reads versions up to {VERSION}. Restore it with the version that made it."
        )
    counts = header.get("counts")
    if (
        second != OBJECTS_LINE
        or not isinstance(counts, dict)
        or not all(isinstance(count, int) for count in counts.values())
    ):
        raise CommandError(f"{path} is damaged: its header is incomplete. Nothing was restored.")
    return header


class AddedFields:
    """Fields added since backups were first made, which a row cannot be without, filled in for
    a backup made before them: a course's concerns count the sessions each is planned for, and
    until then each was planned for every session of its course (the course comes first in a
    backup)."""

    COUNTED = {"treatments.courseconcern", "treatments.historicalcourseconcern"}

    def __init__(self):
        self.planned = {}

    def __call__(self, record):
        fields = record.get("fields") if isinstance(record, dict) else None
        if not isinstance(fields, dict):
            return record
        if record.get("model") == "treatments.course":
            self.planned[record.get("pk")] = fields.get("planned_sessions")
        elif record.get("model") in self.COUNTED and "planned_sessions" not in fields:
            fields["planned_sessions"] = self.planned.get(fields.get("course"))
        return record


def _objects(stream, path, version=VERSION):
    """The records of an open backup, one per line; complain if the file ends early."""
    added = AddedFields()
    try:
        for line in stream:
            if line == END_LINE or (line == OBJECTS_END_LINE and version >= 2):
                return
            if line.strip():
                yield added(as_today(json.loads(line.removesuffix("\n").removesuffix(","))))
    except DAMAGED as error:
        raise CommandError(f"{path} is damaged ({error}). Nothing was restored.") from None
    raise CommandError(
        f"{path} ends early: the backup is incomplete (was it copied before it was finished?). "
        "Nothing was restored."
    )


def label_today(old_label):
    """A model's label today, given its label in a backup made before it was renamed or moved."""
    while old_label in RENAMED_MODELS:
        old_label = RENAMED_MODELS[old_label]
    return old_label


def _natural_key_today(value):
    """A content type's or permission's natural key, naming a renamed model as it is today;
    any other value as it is."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if len(value) == 2 and ".".join(value) in RENAMED_MODELS:  # [app_label, model]
            return label_today(".".join(value)).split(".")
        if len(value) == 3 and ".".join(value[1:]) in RENAMED_MODELS:  # [codename, app, model]
            codename, app_label, model = value
            app_label, model_today = label_today(f"{app_label}.{model}").split(".")
            for action in DEFAULT_PERMISSIONS:
                if codename == f"{action}_{model}":
                    codename = f"{action}_{model_today}"
            return [codename, app_label, model_today]
    if isinstance(value, list):
        return [_natural_key_today(item) for item in value]
    return value


def as_today(record):
    """A backed-up record as the models stand today (see RENAMED_MODELS and RENAMED_FIELDS)."""
    if not isinstance(record, dict):
        return record
    model = record.get("model")
    record["model"] = label_today(model) if isinstance(model, str) else model
    fields = record.get("fields")
    if isinstance(fields, dict):
        renamed = RENAMED_FIELDS.get(record["model"], {})
        record["fields"] = {
            renamed.get(name, name): _natural_key_today(value) for name, value in fields.items()
        }
    return record


class _PhotoStaging:
    """The photo files of a backup, extracted to a staging folder until the records commit.

    The folder is beside the photos when they are on a local disk (the same disk), else in
    the system's temporary folder. Files keep their names in it, so it mirrors the storage.
    """

    def __init__(self):
        self.storage = storages["photos"]
        beside = self.storage.location if isinstance(self.storage, FileSystemStorage) else None
        try:
            if beside:
                Path(beside).mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=".restore-", dir=beside))
        except OSError as error:
            raise CommandError(
                f"Cannot make a folder for the photo files: {error}. Nothing was changed."
            ) from None
        self.names = []

    def extract(self, stream, path):
        """Stage the photo files of a version 2 backup."""
        try:
            if stream.readline(HEADER_LIMIT) != FILES_LINE:
                raise ValueError("its photo files are missing")
            for line in stream:
                if line == END_LINE:
                    return
                item = json.loads(line.removesuffix("\n").removesuffix(","))
                self.stage(item["name"], base64.b64decode(item["data"], validate=True))
        except DAMAGED as error:
            raise CommandError(f"{path} is damaged ({error}). Nothing was restored.") from None
        raise CommandError(
            f"{path} ends early: the backup is incomplete (was it copied before it was finished?). "
            "Nothing was restored."
        )

    def stage(self, name, content):
        staged = self.root / _safe_name(name)
        try:
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(content)
        except OSError as error:
            raise CommandError(
                f"Cannot stage the photo files in {self.root}: {error}. Nothing was restored."
            ) from None
        self.names.append(name)

    def put_in_place(self, result, *, wanted, obsolete):
        """Move the staged files the restored records name into the photo storage, and remove
        the files only the replaced records named. Runs once the records are committed, so it
        raises nothing: what fails is noted in `result` and stays in the staging folder."""
        for name in self.names:
            if name not in wanted:
                continue  # no restored record names it (see load_backup)
            try:
                if self.storage.exists(name):
                    self.storage.delete(name)
                with open(self.root / _safe_name(name), "rb") as staged:
                    if self.storage.save(name, File(staged)) != name:
                        raise OSError(f"the photo storage renamed {name}")
            except Exception as error:  # the storage failed: the file waits in the staging folder
                result.files_not_in_place.append(f"{name} ({error})")
        for name in obsolete:
            try:
                self.storage.delete(name)
            except Exception:  # an unused file stays: nothing worse
                logger.exception("Could not remove %s, a photo of the replaced records.", name)
        if result.files_not_in_place:
            result.staging = self.root
        else:
            self.remove()

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _safe_name(name):
    """A stored file's name as a relative path that stays inside the storage, or ValueError."""
    if not isinstance(name, str):
        raise ValueError("a photo file has no name")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or "\\" in name or "\x00" in name:
        raise ValueError(f"a photo file is named {name!r}, outside the photo storage")
    return PurePosixPath(*parts)


def _read_to_the_end(stream, path):
    """Read what is left of the backup, so that gzip checks its checksum and length (it does
    only on reaching the end); only blank lines may follow the backup's last line."""
    try:
        rest = stream.read()
    except DAMAGED as error:
        raise CommandError(
            f"{path} is damaged: the gzip check of its contents failed ({error}). Nothing was "
            "restored."
        ) from None
    if rest.strip():
        raise CommandError(
            f"{path} is damaged: something follows the end of the backup. Nothing was restored."
        )


class _KnownHere:
    """The content types and permissions this database has (migrate makes them).

    A backup names them (see _Serializer). One made before `remove_stale_contenttypes` ran
    here, or on a database that still had the content types of models removed since, names
    some that are gone: their links are left out (a role's or user's permission on a removed
    model) or emptied (the admin log's link, the entry kept), and counted for a warning.
    """

    def __init__(self):
        self.content_types = set(ContentType.objects.values_list("app_label", "model"))
        self.permissions = set(
            Permission.objects.values_list(
                "codename", "content_type__app_label", "content_type__model"
            )
        )
        self.left_out = Counter()  # {"app_label.model" no longer here: links left out}

    def fit(self, records):
        for record in records:
            try:
                model = apps.get_model(record["model"])
                fields = record["fields"]
            except (LookupError, ValueError, KeyError, TypeError):
                yield record  # the deserializer refuses it, saying why
                continue
            if isinstance(fields, dict):
                for name, value in fields.items():
                    fields[name] = self._fit_value(model, name, value)
            yield record

    def _fit_value(self, model, name, value):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return value
        if field.many_to_many and field.related_model is Permission and isinstance(value, list):
            kept = []
            for key in value:
                if _is_key(key, 3) and tuple(key) not in self.permissions:
                    self.left_out[".".join(key[1:])] += 1
                else:
                    kept.append(key)
            return kept
        if (
            field.many_to_one
            and field.related_model is ContentType
            and field.null
            and _is_key(value, 2)
            and tuple(value) not in self.content_types
        ):
            self.left_out[".".join(value)] += 1
            return None
        return value


def _is_key(value, length):
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(item, str) for item in value)
    )


def check_database(header):
    """Refuse a database that is not migrated, or older than the code that made the backup.

    Returns the migrations applied here that the backup predates (a note for the user).
    """
    executor = MigrationExecutor(connection)
    if not executor.recorder.has_table() or executor.migration_plan(
        executor.loader.graph.leaf_nodes()
    ):
        raise CommandError(
            "The database is not fully migrated: run `manage.py migrate` first, then restore."
        )
    applied = set(applied_migrations())
    made_with = set(header.get("migrations") or [])
    unknown = sorted(made_with - applied)
    if unknown:
        raise CommandError(
            "This backup was made by a newer version of the application (migrations unknown "
            f"here: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}). Update the "
            "application and migrate, then restore."
        )
    return sorted(applied - made_with)


def records_present():
    """Records a restore would overwrite that `migrate` did not create: {label: count}."""
    found = {}
    for model in backed_up_models():
        kept = label(model) in {"auth.user", "admin.logentry"} or (
            model._meta.app_label in CLINICAL_APPS and label(model) not in SHIPPED
        )
        count = model._base_manager.count() if kept else 0
        if count:
            found[label(model)] = count
    return found


def describe(counts):
    """'3 users, 40 clients ... and 1,200 related records' for a {label: count} dict."""
    named = {
        "auth.user": "users",
        "consultations.client": "clients",
        "consultations.consultation": "consultations",
        "treatments.course": "courses",
        "treatments.treatmentsession": "sessions",
    }
    parts = [f"{counts[key]:,} {name}" for key, name in named.items() if counts.get(key)]
    others = sum(count for key, count in counts.items() if key not in named)
    if others:
        parts.append(f"{others:,} {'related records' if parts else 'records'}")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def tables_to_empty(keep=()):
    """Every table a restore empties: the backed-up models, their many-to-many links, sessions;
    but not those of the models labelled in `keep`."""
    models = [m for m in backed_up_models() if label(m) not in keep]
    models.append(apps.get_model("sessions", "Session"))
    tables = []
    for model in models:
        tables.append(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created:
                tables.append(through._meta.db_table)
    return list(dict.fromkeys(tables))


def _sequence_models():
    models = backed_up_models()
    for model in list(models):
        models += [
            field.remote_field.through
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
    return models


class _Batch:
    """Rows of one model waiting to be inserted together.

    Rows are inserted as they were saved: no signals (so no new audit-trail rows), no
    `auto_now` stamps. A model with `auto_now` fields, or a row with many-to-many links, is
    saved row by row the way `loaddata` does it.
    """

    size = 500

    def __init__(self):
        self.model = None
        self.rows = []

    def add(self, record):
        if record.m2m_data or _stamps_itself(self.model):
            self.flush()
            record.save(force_insert=True)
            return
        self.rows.append(record.object)
        if len(self.rows) >= self.size:
            self.flush()

    def flush(self):
        if self.rows:
            self.model._base_manager.bulk_create(self.rows, batch_size=self.size)
            self.rows = []


def _stamps_itself(model):
    return any(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        for field in model._meta.concrete_fields
    )


@dataclasses.dataclass
class Restored:
    """What a restore put back, and what it could not."""

    counts: Counter
    files: int = 0  # photo files put into the photo storage once the records commit
    left_out: Counter = dataclasses.field(default_factory=Counter)  # see _KnownHere
    unclaimed_files: list = dataclasses.field(default_factory=list)  # no record names them
    files_not_in_place: list = dataclasses.field(default_factory=list)
    staging: Path | None = None  # where files_not_in_place wait


def _photo_names():
    return {name for names in _stored_names() for name in names if name}


def load_backup(header, stream, path, *, progress=None):
    """Empty the backed-up tables and load the backup into them, in one transaction.

    Returns a Restored. The whole file is read, its gzip checksum checked, before the
    transaction commits; anything wrong rolls it back. The photo files are staged meanwhile
    and put into the photo storage once the records are committed (the files of replaced
    records that the backup does not hold are removed then): a failed restore leaves the
    photos as they were, and no restored record is without the file the backup held for it.
    """
    result = Restored(Counter())
    known = _KnownHere()
    staging = _PhotoStaging()
    # Shipped rows of a model added since the backup was made (the area chart): what `migrate`
    # loaded stays, as the backup's records need it.
    made_with = set(header.get("migrations") or [])
    keep = {name for name, shipped_by in SHIPPED_SINCE.items() if shipped_by not in made_with}
    try:
        with transaction.atomic():
            replaced = _photo_names()
            with connection.cursor() as cursor:
                for table in tables_to_empty(keep):
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            records = known.fit(_objects(stream, path, header["version"]))
            _load_records(records, header, path, result.counts, progress)
            if header["version"] >= 2:
                staging.extract(stream, path)
            _read_to_the_end(stream, path)
            # New rows must get ids after the restored ones (PostgreSQL keeps separate sequences).
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), _sequence_models()):
                    cursor.execute(sql)
            wanted = _photo_names()
            result.unclaimed_files = [name for name in staging.names if name not in wanted]
            result.files = len(staging.names) - len(result.unclaimed_files)
            transaction.on_commit(
                partial(staging.put_in_place, result, wanted=wanted, obsolete=replaced - wanted)
            )
    except BaseException:
        staging.remove()
        raise
    result.left_out = known.left_out
    return result


def _load_records(records, header, path, loaded, progress):
    """Insert the backup's records (dicts), counting them per model in `loaded`, and check
    that they fit together and are all that the header lists."""
    expected = {label_today(name): count for name, count in header["counts"].items()}
    batch = _Batch()
    try:
        for record in python_serializer.Deserializer(records, handle_forward_references=False):
            model = type(record.object)
            if model is not batch.model:
                batch.flush()
                if batch.model is not None and progress:
                    progress(batch.model, loaded[label(batch.model)], 0, done=True)
                batch.model = model
            batch.add(record)
            loaded[label(model)] += 1
            if progress and loaded[label(model)] % 100_000 == 0:
                progress(model, loaded[label(model)], expected.get(label(model)), done=False)
        batch.flush()
        if batch.model is not None and progress:
            progress(batch.model, loaded[label(batch.model)], 0, done=True)
        connection.check_constraints(table_names=tables_to_empty())
    except serializer_base.DeserializationError as error:
        raise CommandError(f"{path} holds a record this database cannot take: {error}") from None
    except IntegrityError as error:
        raise CommandError(
            f"The records in {path} do not fit together ({error}). Nothing was restored."
        ) from None
    except DatabaseError as error:
        raise CommandError(f"The database refused a record from {path}: {error}") from None
    missing = {
        name: (count, loaded[name]) for name, count in expected.items() if loaded[name] != count
    }
    if missing:
        detail = ", ".join(f"{name} {got} of {want}" for name, (want, got) in missing.items())
        raise CommandError(
            f"{path} does not hold the records its header lists ({detail}). Nothing was restored."
        )


def update_statistics():
    """Fresh planner statistics for every table (ANALYZE, on PostgreSQL and SQLite alike).

    Restored tables have none until autovacuum comes by: until then PostgreSQL plans its
    queries as if they were empty, and SQLite has none at all.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
