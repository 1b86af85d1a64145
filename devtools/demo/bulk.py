"""Bulk demo data: years of a clinic chain's records, fast, for benchmarks and load tests.

`seed_bulk(clients=N, sessions=M)` writes N clients and exactly M sessions with bulk inserts,
chunk by chunk so memory stays flat, together with what real use would have written: a
consultation, recorded concern, course and course-concern per course, one treated area, a
progress rating and (for a third of sessions) a serum with its lot per session, and the
audit trail's creation rows (django-simple-history) for every clinical record. The rows obey
the same rules as the services (depths, numbering, one course per consultation, derived
progress), but skip the services themselves, which validate row by row and would take hours
for a million sessions.

A run can be killed at any moment and run again with the same sizes: it writes a chunk of
clients with everything under them in one transaction, with the id sequences set past the
new rows before it commits, so what a stopped run leaves is whole chunks a new client can
follow; the next run counts them, checks them against its sizes and writes the rest, each
chunk drawn from a random generator of its own, so the result is the same as one run's.
"""

import datetime
import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from catalogue.models import Concern, Product
from clinic import roles
from consent.models import Kind, SignedConsent
from consent.services import current_version
from consultations.models import Client, Consultation, RecordedConcern
from stock.models import Lot
from treatments.models import (
    Course,
    CourseConcern,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)

BULK_EMAIL_DOMAIN = "bulk.example.com"
EXTRA_PRACTITIONERS = 8
CLIENTS_PER_CHUNK = 1000
YEARS = 10


def _words(text):
    return tuple(text.split())


FIRST_NAMES = _words(
    "Amelia Olivia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Emily Ella Aisha "
    "Priya Zara Chloe Hannah Ruby James Daniel Tom Ravi Kwame Liam Marcus Oliver Ahmed Ben"
)
LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Khan Walker Green "
    "Hughes Edwards Thompson Roberts Clarke Lewis Okafor Nowak Hall Wood Evans Murphy Ali"
)
SKIN_TYPES = ["I"] * 6 + ["II"] * 28 + ["III"] * 28 + ["IV"] * 18 + ["V"] * 12 + ["VI"] * 8


@dataclass(frozen=True)
class CourseKind:
    """A kind of course the generator hands out: concern, area, depth, serum."""

    slug: str
    area: str
    depth: Decimal
    serum: str


COURSE_KINDS = (
    CourseKind("acne-scars", "cheeks", Decimal("1.50"), "Hyaluronic"),
    CourseKind("stretch-marks", "abdomen", Decimal("1.75"), "Peptide"),
    CourseKind("fine-lines-wrinkles", "face", Decimal("1.00"), "Hyaluronic"),
    CourseKind("fine-lines-wrinkles", "periorbital", Decimal("0.50"), "Peptide"),
    CourseKind("hair-thinning", "scalp", Decimal("1.50"), "Peptide"),
    CourseKind("melasma", "cheeks", Decimal("0.50"), "Tranexamic"),
    CourseKind("texture-pores", "face", Decimal("0.75"), "Hyaluronic"),
    CourseKind("hyperpigmentation", "cheeks", Decimal("0.75"), "Vitamin C"),
    CourseKind("skin-laxity", "neck", Decimal("1.00"), "Peptide"),
    CourseKind("atrophic-scars", "cheeks", Decimal("1.25"), "Hyaluronic"),
)


class Progress:
    """Prints how far a long run has got: counts, rate and time left."""

    def __init__(self, write, total, label):
        self.write, self.total, self.label = write, total, label
        self.started = time.monotonic()

    def update(self, done, extra=""):
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed else 0
        left = (self.total - done) / rate if rate else 0
        percent = 100 * done / self.total if self.total else 100
        self.write(
            f"  {self.label} {done:,}/{self.total:,} ({percent:4.1f}%) {extra}"
            f"{elapsed:6.1f}s elapsed, ~{left:5.0f}s left"
        )


class OtherBulkData(ValueError):
    """The bulk data already here was not written by a run of the sizes asked for."""


def bulk_email(index):
    return f"client{index:07d}@{BULK_EMAIL_DOMAIN}"


def clients_written(*, clients, sessions, offset=0):
    """How many of the clients a run of these sizes writes are already here, from an earlier
    run of the same sizes that stopped part way (or finished: then all of them).

    Each chunk commits whole, so a stopped run leaves whole chunks; their sessions must be the
    ones this run would have given them. OtherBulkData when they do not fit.
    """
    present = Client.objects.filter(
        email__endswith=f"@{BULK_EMAIL_DOMAIN}",
        email__gte=bulk_email(offset),
        email__lt=bulk_email(offset + clients),
    )
    done = present.count()
    if not done:
        return 0
    have = TreatmentSession.objects.filter(course__client__in=present).count()
    if (done == clients or done % CLIENTS_PER_CHUNK == 0) and have == sum(
        split_evenly(sessions, clients)[:done]
    ):
        return done
    raise OtherBulkData(
        f"This database holds bulk data of another size ({done:,} clients with {have:,} "
        f"sessions where a run of {clients:,} clients and {sessions:,} sessions would write). "
        "Run again with the sizes it was written with to finish it, or use an empty database."
    )


def ensure_practitioners(staff):
    """The demo aestheticians plus a few more, as in a chain; the extras cannot sign in."""
    user_model = get_user_model()
    group = Group.objects.get(name=roles.AESTHETICIAN)
    practitioners = [user for user in staff.values() if not user.is_staff]
    for n in range(1, EXTRA_PRACTITIONERS + 1):
        with transaction.atomic():  # the account with its role, or neither
            user, created = user_model.objects.get_or_create(
                username=f"practitioner{n:02d}",
                defaults={"first_name": "Practitioner", "last_name": f"{n:02d}"},
            )
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(group)
        practitioners.append(user)
    return practitioners


def split_evenly(total, parts):
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def seed_bulk(*, clients, sessions, staff, write=print, seed=2026, offset=0):
    """Write `clients` clients and exactly `sessions` sessions; return the counts written.

    `offset` numbers the new clients after those of an earlier run (to grow a data set). What
    a stopped run of the same sizes wrote is kept and the rest written (see clients_written);
    OtherBulkData when bulk data of other sizes is in the way.
    """
    if clients < 1 or sessions < 0:
        raise ValueError("Give at least one client and zero or more sessions.")
    done = clients_written(clients=clients, sessions=sessions, offset=offset)
    practitioners = ensure_practitioners(staff)
    serums = {p.name.split()[0]: p for p in Product.objects.filter(kind=Product.Kind.SERUM)}
    serums["Vitamin C"] = Product.objects.get(name__startswith="Vitamin C")
    ctx = Context(
        rng=None,
        today=timezone.localdate(),
        now=timezone.now(),
        practitioners=[user.pk for user in practitioners],
        concerns={c.slug: c for c in Concern.objects.all()},
        serums={name: product.pk for name, product in serums.items()},
        numbing=Product.objects.filter(kind=Product.Kind.NUMBING).values_list("pk", flat=True)[0],
        loader=Loader(connection),
        consent_versions=[current_version(Kind.TREATMENT), current_version(Kind.NUMBING)],
    )
    per_client = split_evenly(sessions, clients)
    already = written = sum(per_client[:done])
    if done:
        write(
            f"  {done:,} of the {clients:,} clients and {already:,} sessions are already here "
            "(an earlier run stopped part way): writing the rest."
        )
    progress = Progress(write, sessions - already, "sessions")
    for start in range(done, clients, CLIENTS_PER_CHUNK):
        chunk = per_client[start : start + CLIENTS_PER_CHUNK]
        # A generator per chunk, so a resumed run writes what one run would have (the first
        # chunk's is the one whole runs used before, so small data sets stay as they were).
        ctx.rng = random.Random(seed + offset + start)
        with transaction.atomic():
            ctx.loader.skip_foreign_key_triggers()
            count = write_chunk(ctx, offset + start, chunk)
            # Before committing: a run stopped after this chunk leaves ids a new row can follow.
            ctx.loader.reset_sequences()
        written += count
        progress.update(
            written - already, f"({min(start + CLIENTS_PER_CHUNK, clients):,} clients) "
        )
    write("Updating the database's planner statistics (ANALYZE)...")
    with connection.cursor() as cursor:
        # Freshly written tables have none until autovacuum comes by: until then PostgreSQL
        # plans the prefetches as if the tables were empty (seconds instead of milliseconds).
        cursor.execute("ANALYZE")
    return {"clients": clients, "sessions": written, "resumed_from": done}


@dataclass
class Context:
    rng: random.Random
    today: datetime.date
    now: datetime.datetime
    practitioners: list
    concerns: dict
    serums: dict
    numbing: int
    loader: "Loader"
    consent_versions: list  # the treatment and numbing versions every bulk client signed


def stamps(ctx, user_id):
    return {
        "created_at": ctx.now,
        "created_by_id": user_id,
        "updated_at": ctx.now,
        "updated_by_id": user_id,
        "version": 1,
    }


def write_chunk(ctx, offset, session_counts):
    """Clients offset.. with the given number of sessions each; returns sessions written."""
    rng, load = ctx.rng, ctx.loader
    client_ids = load.ids(Client, len(session_counts))
    clients, courses = [], []
    for client_id, (i, count) in zip(
        client_ids, enumerate(session_counts, start=offset), strict=True
    ):
        by = rng.choice(ctx.practitioners)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        skin_type = rng.choice(SKIN_TYPES)
        clients.append(
            {
                "id": client_id,
                "first_name": first,
                "last_name": last,
                "date_of_birth": ctx.today - datetime.timedelta(days=rng.randint(6935, 25550)),
                "email": bulk_email(i),
                "phone": f"07700 9{i % 100000:05d}",
                "skin_type": skin_type,
                "notes": "",
                "archived": rng.random() < 0.03,
                **stamps(ctx, by),
            }
        )
        courses.extend(lay_out_courses(ctx, client_id, f"{first} {last}", skin_type, count, by))
    load.insert(Client, clients)
    # Each client signed the treatment and numbing consents, typing the name (no PDF: bulk data
    # is for measuring pages, and a PDF each would take longer than the rest of the chunk).
    signed = []
    for client in clients:
        name = f"{client['first_name']} {client['last_name']}"
        for version in ctx.consent_versions:
            signed.append(
                {
                    "client_id": client["id"],
                    "document_id": version.document_id,
                    "document_version_id": version.pk,
                    "state": SignedConsent.State.SIGNED,
                    "text_sha256": version.text_sha256,
                    "typed_name": name,
                    "signer_name": name,
                    "relationship": SignedConsent.Relationship.CLIENT,
                    "witness_id": client["created_by_id"],
                    "signed_at": ctx.now,
                    **stamps(ctx, client["created_by_id"]),
                }
            )
    for row, consent_id in zip(signed, load.ids(SignedConsent, len(signed)), strict=True):
        row["id"] = consent_id
    load.insert(SignedConsent, signed)

    consultation_ids = load.ids(Consultation, len(courses))
    recorded_ids = load.ids(RecordedConcern, len(courses))
    course_ids = load.ids(Course, len(courses))
    consultations, recorded, course_rows, links = [], [], [], []
    for course, consultation_id, recorded_id, course_id in zip(
        courses, consultation_ids, recorded_ids, course_ids, strict=True
    ):
        concern = ctx.concerns[course.kind.slug]
        consultations.append(
            {
                "id": consultation_id,
                "client_id": course.client_id,
                "held_on": course.start - datetime.timedelta(days=rng.randint(0, 14)),
                "practitioner_id": course.by,
                "consent_given": True,
                "consent_by": course.client_name,
                "consent_at": ctx.now,
                "outcome": Consultation.Outcome.CAUTIONS
                if course.skin_type in Client.PIGMENT_RISK_SKIN_TYPES
                else Consultation.Outcome.SUITABLE,
                **stamps(ctx, course.by),
            }
        )
        recorded.append(
            {
                "id": recorded_id,
                "consultation_id": consultation_id,
                "concern_id": concern.pk,
                "area_id": course.kind.area,
                "severity": RecordedConcern.Severity.MODERATE,
                **stamps(ctx, course.by),
            }
        )
        course_rows.append(course_row(ctx, course, course_id, consultation_id, concern))
        links.append(
            {
                "course_id": course_id,
                "recorded_concern_id": recorded_id,
                "planned_sessions": CourseConcern.planned_for(concern, course.planned),
            }
        )
    load.insert(Consultation, consultations)
    load.insert(RecordedConcern, recorded)
    load.insert(Course, course_rows)
    load.insert(CourseConcern, links, history=False)

    session_ids = iter(load.ids(TreatmentSession, sum(len(c.dates) for c in courses)))
    sessions, areas, products, ratings = [], [], [], []
    for course, course_id, recorded_id in zip(courses, course_ids, recorded_ids, strict=True):
        pinpoint = course.kind.depth >= 1
        for number, day in enumerate(course.dates, start=1):
            session_id = next(session_ids)
            sessions.append(
                {
                    "id": session_id,
                    "course_id": course_id,
                    "number": number,
                    "performed_on": day,
                    "check_asked": True,
                    "practitioner_id": course.by,
                    "device": TreatmentSession.Device.PEN,
                    "device_model": "Dermapen 4",
                    "numbing_id": ctx.numbing,
                    "skin_response": TreatmentSession.Response.PINPOINT_BLEEDING
                    if pinpoint
                    else TreatmentSession.Response.ERYTHEMA,
                    "pain_score": rng.randint(1, 6),
                    **stamps(ctx, course.by),
                }
            )
            area = {
                "session_id": session_id,
                "area_id": course.kind.area,
                "depth_mm": course.kind.depth,
            }
            areas.append(area)
            product = None
            if number % 3 == 1:
                product = {
                    "session_id": session_id,
                    "product_id": ctx.serums[course.kind.serum],
                    "lot_number": f"{course.kind.serum[:2].upper()}-{day:%y%m}",
                }
                products.append(product)
            rating = {
                "session_id": session_id,
                "recorded_concern_id": recorded_id,
                "practitioner_rating": min(5, 1 + number // 2),
                "client_rating": min(5, 1 + (number + 1) // 2),
            }
            ratings.append(rating)
            # The session's audit row keeps its rows as TreatmentSession.audited_rows() does.
            sessions[-1]["rows"] = json.dumps(
                {
                    "areas": [{"area": area["area_id"], "depth_mm": f"{area['depth_mm']:.2f}"}],
                    "products": [
                        {"product": product["product_id"], "lot_number": product["lot_number"]}
                    ]
                    if product
                    else [],
                    "progress": [
                        {
                            "recorded_concern": recorded_id,
                            "practitioner_rating": rating["practitioner_rating"],
                            "client_rating": rating["client_rating"],
                        }
                    ],
                }
            )
    # Each serum's lot of the month is stock: one lot per product and number, in date.
    lots = {}
    for row in products:
        key = (row["product_id"], row["lot_number"])
        if key not in lots:
            lots[key] = Lot.objects.get_or_create(
                product_id=key[0],
                lot_number=key[1],
                defaults={"expiry_date": datetime.date.today() + datetime.timedelta(days=1100)},
            )[0].pk
        row["lot_id"] = lots[key]
    load.insert(TreatmentSession, sessions)
    load.insert(SessionArea, areas)
    load.insert(SessionProduct, products)
    load.insert(SessionProgress, ratings)
    return len(sessions)


@dataclass
class DemoCourse:
    client_id: int
    client_name: str
    skin_type: str
    kind: CourseKind
    planned: int
    interval: int
    dates: list
    start: datetime.date
    by: int


def lay_out_courses(ctx, client_id, client_name, skin_type, sessions, by):
    """Split a client's sessions into courses laid out over the last years, newest last.

    The newest course is active when it has fewer sessions than planned, and then due about an
    interval after its last session (so some are overdue, some due soon).
    """
    rng = ctx.rng
    sizes = []
    while sessions > 0:
        kind = rng.choice(COURSE_KINDS)
        concern = ctx.concerns[kind.slug]
        planned = min(concern.sessions_typical or 4, 12)
        sizes.append((kind, planned, concern.interval_weeks or 4, min(planned, sessions)))
        sessions -= planned

    courses, end = [], ctx.today - datetime.timedelta(days=rng.randint(0, 40))
    horizon = ctx.today - datetime.timedelta(days=365 * YEARS)
    for kind, planned, interval, done in reversed(sizes):
        span = datetime.timedelta(weeks=interval * max(done - 1, 0))
        start = max(end - span, horizon)
        dates = [
            min(start + datetime.timedelta(weeks=interval * j, days=rng.randint(0, 3)), end)
            for j in range(done)
        ]
        dates = sorted(dates)
        courses.append(
            DemoCourse(client_id, client_name, skin_type, kind, planned, interval, dates, start, by)
        )
        end = start - datetime.timedelta(days=rng.randint(60, 240))
        end = max(end, horizon)
    return list(reversed(courses))


def course_row(ctx, course, course_id, consultation_id, concern):
    active = len(course.dates) < course.planned
    last = course.dates[-1] if course.dates else None
    next_due = (last or course.start) + datetime.timedelta(weeks=course.interval)
    return {
        "id": course_id,
        "client_id": course.client_id,
        "consultation_id": consultation_id,
        "practitioner_id": course.by,
        "start_date": course.start,
        "suggested_sessions_min": concern.sessions_min,
        "suggested_sessions_max": concern.sessions_max,
        "suggested_sessions": concern.sessions_typical,
        "suggested_interval_weeks": concern.interval_weeks,
        "planned_sessions": course.planned,
        "interval_weeks": course.interval,
        "status": Course.Status.ACTIVE if active else Course.Status.COMPLETED,
        "ended_on": None if active else last,
        "cautions_acknowledged": True,
        "sessions_logged": len(course.dates),
        "last_session_on": last,
        "next_due_on": next_due if active else None,
        **stamps(ctx, course.by),
    }


class Loader:
    """Fast inserts of plain rows: COPY on PostgreSQL, executemany on SQLite.

    Ids are handed out here (after the table's current maximum), so children can point at
    parents without reading ids back; sequences are reset at the end. A model with history gets
    the "+" (created) rows that saving one by one would have written.
    """

    def __init__(self, connection):
        self.connection = connection
        self.next_id = {}

    def ids(self, model, count):
        if model not in self.next_id:
            last = model.objects.aggregate(last=Max("pk"))["last"] or 0
            self.next_id[model] = last + 1
        start = self.next_id[model]
        self.next_id[model] = start + count
        return range(start, start + count)

    def insert(self, model, rows, *, history=True):
        if not rows:
            return
        fields = [
            f for f in model._meta.concrete_fields if f.attname in rows[0] or not f.primary_key
        ]
        self._write(model._meta.db_table, fields, rows)
        if history and hasattr(model, "history"):
            historical = model.history.model
            extra = {"history_type": "+", "history_change_reason": None}
            history_rows = [
                {
                    **row,
                    **extra,
                    "history_date": row["created_at"],
                    "history_user_id": row["created_by_id"],
                }
                for row in rows
            ]
            # Values only the audit rows keep (a session's `rows`) come with the rows too.
            names = {
                *rows[0],
                *(f.attname for f in fields),
                *extra,
                "history_date",
                "history_user_id",
            }
            history_fields = [
                f
                for f in historical._meta.concrete_fields
                if f.attname in names and f.attname != "history_id"
            ]
            self._write(historical._meta.db_table, history_fields, history_rows)

    def _write(self, table, fields, rows):
        # A JSON column's default goes in as JSON text, as the rows' own JSON values do.
        defaults = {
            f.attname: json.dumps(f.get_default())
            if f.get_internal_type() == "JSONField"
            else f.get_default()
            for f in fields
        }
        values = map(itemgetter(*(f.attname for f in fields)), ({**defaults, **r} for r in rows))
        quote = self.connection.ops.quote_name
        column_sql = ", ".join(quote(f.column) for f in fields)
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {quote(table)} ({column_sql}) VALUES ({placeholders})",
                    self._for_sqlite(fields, values),
                )

    def _for_sqlite(self, fields, rows):
        """SQLite stores dates, datetimes and decimals as text: convert those columns."""
        ops, cache = self.connection.ops, {}

        def convert(value):
            if value is None:
                return None
            if value not in cache:
                if isinstance(value, datetime.datetime):
                    cache[value] = ops.adapt_datetimefield_value(value)
                elif isinstance(value, datetime.date):
                    cache[value] = value.isoformat()
                else:
                    cache[value] = str(value)
            return cache[value]

        kinds = {"DateTimeField", "DateField", "DecimalField"}
        converted = [i for i, f in enumerate(fields) if f.get_internal_type() in kinds]
        for row in rows:
            row = list(row)
            for i in converted:
                row[i] = convert(row[i])
            yield row

    def skip_foreign_key_triggers(self):
        """On PostgreSQL, skip the per-row foreign key triggers for this transaction, as
        pg_restore --disable-triggers does: the generator writes parents before children, so
        the checks would only cost time. Needs a superuser; without one the checks just run."""
        if self.connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(), self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pass

    def reset_sequences(self):
        """Set the id sequences past the rows written (PostgreSQL keeps them apart from the
        tables; SQLite follows the highest id by itself, and the backend returns nothing)."""
        models = list(self.next_id)
        models += [m.history.model for m in models if hasattr(m, "history")]
        models += [CourseConcern, SessionArea, SessionProduct, SessionProgress]
        with self.connection.cursor() as cursor:
            for sql in self.connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
