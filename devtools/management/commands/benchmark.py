"""`manage.py benchmark`: server time and queries of the main pages at two data sizes.

Seeds a tenth of the asked size with the bulk generator, measures every page, grows the data
to the full size, measures again, and prints a table: median and p95 server time, queries,
and the full-size median divided by the tenth-size median (the growth ratio). Times are for
the whole Django request (middleware, views, templates) through the test client, warm (each
page is requested a few times before measuring). Run it on an empty database: it adds bulk
data. See README.md ("Benchmark") and BENCHMARKS.md.
"""

import datetime
import logging
import os
import platform
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client as TestClient
from django.test.utils import (
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Concern
from consultations.models import Client
from consultations.services import record_consultation
from devtools.demo import bulk, year
from treatments.models import Course, TreatmentSession
from treatments.services import log_session, start_course

# The floors every page keeps (README, "Performance policy"): above them, readability wins.
TARGET_QUERIES = 15
TARGET_MEDIAN_MS = 100
TARGET_P95_MS = 200
TARGET_GROWTH = 1.5
WARMUP = 3


@dataclass
class Page:
    name: str
    url: str = ""
    role: str = "aesthetician"
    post: bool = False


class PageRun:
    """One page's measurements: server time and queries of each request."""

    def __init__(self, page, browser):
        self.page, self.browser = page, browser
        self.times, self.queries, self.result = [], [], {}

    def once(self, courses, *, measured):
        """Request the page (a POST logs a session on the next of `courses`); what went wrong,
        or None."""
        if self.page.post:
            course = next(courses, None)
            if course is None:
                return "no active course left to log a session on"
            url = reverse("treatments:session-create", args=[course.pk])
            reader = FormReader()
            reader.feed(self.browser.get(url).content.decode())
            # Not every course is due: a session sooner than its interval says why.
            reader.data["interval_reason"] = "Benchmark: logged when the course comes up."
            send, args = self.browser.post, (url, practitioner_choices(reader.data))
        else:
            send, args = self.browser.get, (self.page.url,)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = send(*args)
            elapsed = time.perf_counter() - started
        if response.status_code != (302 if self.page.post else 200):
            return f"HTTP {response.status_code}"
        if measured:
            self.times.append(elapsed * 1000)
            self.queries.append(len(captured))
        return None

    def summary(self):
        if "failed" in self.result:
            return self.result
        times = sorted(self.times)
        return {
            "median": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "queries": max(self.queries),
        }


def practitioner_choices(data):
    """The session form as pre-filled, with what the practitioner still chooses each time: a
    rating for each concern, the lot used last time confirmed from the pack, and the pre-session
    check asked (nothing changed)."""
    data = dict(data)
    data["check_asked"] = "on"
    for name, value in list(data.items()):
        if name.endswith("-practitioner_rating"):
            data[name] = "2"
        elif name.endswith("-last_lot") and value:
            data[name.removesuffix("last_lot") + "same_lot"] = "on"
    return data


@contextmanager
def test_client_environment():
    """The test client's host and in-memory e-mail, as the test suite sets them up (already
    there when the suite runs the command)."""
    try:
        setup_test_environment()
    except RuntimeError:
        yield
        return
    try:
        yield
    finally:
        teardown_test_environment()


def machine_speed():
    """Seconds a fixed Python loop takes: how fast this machine is right now, so runs on
    different machines, or in slower spells of one, can be compared."""
    started = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    return time.perf_counter() - started


class FormReader(HTMLParser):
    """Collects a form's fields as a browser would submit them (pre-filled values kept)."""

    def __init__(self):
        super().__init__()
        self.data, self.select, self.textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button"}:
            if attrs.get("type") in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self.select, self.first_option = name, True
            self.data.setdefault(name, "")
        elif tag == "option" and self.select:
            # A browser submits the selected option, or the first one when none is selected.
            if "selected" in attrs or self.first_option:
                self.data[self.select] = attrs.get("value", "")
            self.first_option = False
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data


class Command(BaseCommand):
    help = "Benchmark the main pages at a tenth of and at the full data size (adds bulk data)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--sessions", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=25, help="Measured requests a page.")
        parser.add_argument(
            "--explain", action="store_true", help="Print the query plans of each page."
        )

    def handle(self, *args, clients, sessions, repeat, explain, **options):
        if TreatmentSession.objects.exists() or Client.objects.exists():
            raise CommandError(
                "The benchmark adds its own data: run it on an empty, migrated database "
                "(make bench creates one)."
            )
        if clients < 10 or sessions < 10:
            raise CommandError("Give at least 10 clients and 10 sessions.")
        with (
            quiet_sign_in_log(),
            test_client_environment(),
            override_settings(SECURE_SSL_REDIRECT=False),
        ):
            self.benchmark(clients, sessions, repeat, explain)

    def benchmark(self, clients, sessions, repeat, explain):
        self.stdout.write(machine())

        staff, _, _ = year.ensure_staff()
        results = {}
        for label, share in (("tenth", 10), ("full", 1)):
            grow_to = (clients // share, sessions // share)
            have = (Client.objects.count(), TreatmentSession.objects.count())
            self.stdout.write(
                f"\nGrowing the data to {grow_to[0]:,} clients and {grow_to[1]:,} sessions..."
            )
            bulk.seed_bulk(
                clients=max(grow_to[0] - have[0], 1),
                sessions=max(grow_to[1] - have[1], 0),
                staff=staff,
                write=self.stdout.write,
                offset=have[0],
            )
            pages = self.pages(staff)
            before = machine_speed()
            results[label] = self.measure(pages, staff, repeat)
            speed = f"a fixed loop took {before:.3f} s before, {machine_speed():.3f} s after"
            title = f"{label} size ({grow_to[1]:,} sessions); machine speed: {speed}"
            self.stdout.write(table(results[label], title))
            if explain and label == "full":
                for page in pages:
                    self.explain(page, staff)
        self.stdout.write(growth_table(results))

    def pages(self, staff):
        client = self.client_with_sessions(staff["alex"], 50)
        term = "smith"
        # The last whole month: early in a month, the current one holds a few days' sessions.
        this_month = timezone.localdate().replace(day=1)
        last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
        sessions_url = reverse("admin:treatments_treatmentsession_changelist")
        return [
            Page("Today", reverse("today")),
            Page("Client list", reverse("consultations:client-list")),
            Page("Client list, searched", reverse("consultations:client-list") + f"?q={term}"),
            Page("Client page (50 sessions)", client.get_absolute_url()),
            Page("Log a session (POST)", post=True),
            Page("Admin clients", reverse("admin:consultations_client_changelist"), "manager"),
            Page(
                "Admin clients, searched",
                reverse("admin:consultations_client_changelist") + f"?q={term}",
                "manager",
            ),
            Page(
                "Admin sessions, practitioner + month",
                f"{sessions_url}?practitioner__id__exact={staff['alex'].pk}"
                f"&performed_on__gte={last_month}&performed_on__lt={this_month}",
                "manager",
            ),
            Page(
                "Admin client page (full history)",
                reverse("admin:consultations_client_change", args=[client.pk]),
                "manager",
            ),
        ]

    def client_with_sessions(self, practitioner, count):
        """A client with `count` sessions over a few courses, written through the services."""
        existing = Client.objects.filter(email="fifty.sessions@bench.example.com").first()
        if existing:
            return existing
        client = Client(
            first_name="Fifty",
            last_name="Sessions",
            date_of_birth=datetime.date(1980, 1, 1),
            email="fifty.sessions@bench.example.com",
            skin_type=Client.SkinType.III,
        )
        client.stamp(practitioner)
        client.save()
        today = timezone.localdate()
        day = today - datetime.timedelta(weeks=count + 10)
        for _course in range(5):
            consultation = record_consultation(
                client=client,
                practitioner=practitioner,
                by=practitioner,
                concerns=[{"concern": Concern.objects.get(slug="hair-thinning"), "area": "scalp"}],
                held_on=day,
            )
            year.sign_demo_consents(client, witness=practitioner)
            course = start_course(
                consultation=consultation,
                recorded_concerns=consultation.concerns.all(),
                planned_sessions=count // 5,
                interval_weeks=1,
                practitioner=practitioner,
                by=practitioner,
                start_date=day,
                cautions_acknowledged=True,
            )
            for _ in range(count // 5):
                log_session(
                    course=course,
                    check_asked=True,
                    practitioner=practitioner,
                    by=practitioner,
                    performed_on=day,
                    areas=[("scalp", "1.50")],
                )
                day += datetime.timedelta(weeks=1)
        return client

    def browser(self, page, staff):
        user = staff["manager"] if page.role == "manager" else staff["alex"]
        browser = TestClient()
        browser.force_login(user)
        return browser

    def measure(self, pages, staff, repeat):
        """Every page once a round, for `repeat` rounds after a warm-up: a slower spell of the
        machine falls on all pages alike rather than on whichever page it caught."""
        courses = iter(
            Course.objects.active()
            .filter(sessions_logged__lt=10, client__archived=False)
            .order_by("-pk")[: repeat + WARMUP]
        )
        runs = {page.name: PageRun(page, self.browser(page, staff)) for page in pages}
        for n in range(repeat + WARMUP):
            for run in runs.values():
                if "failed" in run.result:
                    continue
                status = run.once(courses if run.page.post else None, measured=n >= WARMUP)
                if status is not None:
                    # Reported in the table (and loudly here); the other pages are still measured.
                    self.stderr.write(f"{run.page.name}: {status}")
                    run.result["failed"] = status
        return {name: run.summary() for name, run in runs.items()}

    def explain(self, page, staff):
        if page.post:
            return
        browser = self.browser(page, staff)
        with CaptureQueriesContext(connection) as captured:
            browser.get(page.url)
        self.stdout.write(f"\n### {page.name}: query plans")
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(prefix + sql)
                plan = "\n    ".join(" ".join(map(str, row)) for row in cursor.fetchall())
                self.stdout.write(f"- {sql[:160]}\n    {plan}")


@contextmanager
def quiet_sign_in_log():
    """Each page is measured signed in: hundreds of sign-ins the sign-in log would print."""
    log = logging.getLogger("clinic.auth")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        version = cursor.fetchone()[0]
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python "
        f"{platform.python_version()}; {connection.vendor} {version}"
    )


def table(results, title):
    lines = [
        f"\n{title}",
        "| page | median ms | p95 ms | queries |",
        "|---|---:|---:|---:|",
    ]
    for name, r in results.items():
        if "failed" in r:
            lines.append(f"| {name} | failed: {r['failed']} | | |")
            continue
        missed = [
            label
            for label, over in (
                (f"queries over {TARGET_QUERIES}", r["queries"] > TARGET_QUERIES),
                (f"median over {TARGET_MEDIAN_MS} ms", r["median"] >= TARGET_MEDIAN_MS),
                (f"p95 over {TARGET_P95_MS} ms", r["p95"] >= TARGET_P95_MS),
            )
            if over
        ]
        flag = f" (missed: {', '.join(missed)})" if missed else ""
        lines.append(f"| {name} | {r['median']:.1f} | {r['p95']:.1f} | {r['queries']}{flag} |")
    return "\n".join(lines)


def growth_table(results):
    lines = [
        "\nGrowth (full-size median / tenth-size median)",
        "| page | tenth ms | full ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, full in results["full"].items():
        if "failed" in full or "failed" in results["tenth"][name]:
            lines.append(f"| {name} | | | failed |")
            continue
        tenth = results["tenth"][name]["median"]
        ratio = full["median"] / tenth
        flag = f" (over {TARGET_GROWTH})" if ratio > TARGET_GROWTH else ""
        lines.append(f"| {name} | {tenth:.1f} | {full['median']:.1f} | {ratio:.2f}{flag} |")
    return "\n".join(lines)
