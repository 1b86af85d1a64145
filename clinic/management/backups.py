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

Since format version 2 the document ends with the before-and-after photo files, one per line,
base64-encoded, read from and restored to the private `photos` storage (local folder or S3):

    ...
    ],
    "files": [
    {"name": "clients/7/3f2a....jpg", "data": "/9j/4AAQ..."},
    ...
    ]}

Version 1 files (without photos) stay readable.
"""

import base64
import dataclasses
import datetime
import gzip
import io
import json
import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import storages
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
}
# Shipped rows of models added later, by the migration that shipped them: restoring a backup
# made before it keeps them.
SHIPPED_SINCE = {
    "catalogue.bodyarea": "catalogue.0003_body_area_chart",
    "catalogue.historicalbodyarea": "catalogue.0003_body_area_chart",
}
CLINICAL_APPS = {"consultations", "treatments"}
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


def photo_files(missing):
    """(name, bytes) of every stored photo and thumbnail the database refers to.

    Names whose file the storage no longer has are appended to `missing`.
    """
    Photo = apps.get_model("treatments", "Photo")
    storage = storages["photos"]
    names = Photo._base_manager.order_by("pk").values_list("image", "thumbnail")
    for pair in names.iterator(chunk_size=CHUNK_SIZE):
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
    except (OSError, EOFError, UnicodeDecodeError) as error:
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


def _objects(stream, path, version=VERSION):
    """The records of an open backup, one per line; complain if the file ends early."""
    try:
        for line in stream:
            if line == END_LINE or (line == OBJECTS_END_LINE and version >= 2):
                return
            if line.strip():
                yield as_today(json.loads(line.removesuffix("\n").removesuffix(",")))
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as error:
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


def _restore_files(stream, path):
    """Put the photo files of a version 2 backup back on the `photos` storage; count them."""
    storage = storages["photos"]
    restored = 0
    try:
        if stream.readline(HEADER_LIMIT) != FILES_LINE:
            raise ValueError("its photo files are missing")
        for line in stream:
            if line == END_LINE:
                return restored
            item = json.loads(line.removesuffix("\n").removesuffix(","))
            name, content = item["name"], base64.b64decode(item["data"], validate=True)
            if storage.exists(name):
                storage.delete(name)
            if storage.save(name, ContentFile(content)) != name:
                raise ValueError(f"the photo storage renamed {name}")
            restored += 1
    except (OSError, EOFError, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise CommandError(f"{path} is damaged ({error}). Nothing was restored.") from None
    raise CommandError(
        f"{path} ends early: the backup is incomplete (was it copied before it was finished?). "
        "Nothing was restored."
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


def load_backup(header, stream, path, *, progress=None):
    """Empty the backed-up tables and load the backup into them, in one transaction.

    Returns the number of rows loaded per model, and of photo files put back. Anything wrong
    rolls the database back (photo files already put back stay: they are the backup's own).
    """
    expected = {label_today(name): count for name, count in header["counts"].items()}
    # Shipped rows of a model added since the backup was made (the area chart): what `migrate`
    # loaded stays, as the backup's records need it.
    made_with = set(header.get("migrations") or [])
    keep = {name for name, shipped_by in SHIPPED_SINCE.items() if shipped_by not in made_with}
    loaded = Counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table in tables_to_empty(keep):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        batch = _Batch()
        try:
            records = python_serializer.Deserializer(
                _objects(stream, path, header["version"]), handle_forward_references=False
            )
            for record in records:
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
            raise CommandError(
                f"{path} holds a record this database cannot take: {error}"
            ) from None
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
                f"{path} does not hold the records its header lists ({detail}). Nothing was "
                "restored."
            )
        files = _restore_files(stream, path) if header["version"] >= 2 else 0
        # New rows must get ids after the restored ones (PostgreSQL keeps separate sequences).
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), _sequence_models()):
                cursor.execute(sql)
    return loaded, files
