"""`manage.py loadtest`: throughput and latency under gunicorn with a mixed workload (wrk).

Signs aestheticians in (real server-side sessions, one per connection, and a CSRF token), picks
client pages to read and courses to log sessions on, collects the static files, starts gunicorn
with production settings on a free loopback port, sends each kind of request once, warms up,
then runs wrk with loadtest.lua (beside this file): 40% Today, 40% client pages and 20%
sessions logged, over a few connections for a fixed time. Prints requests/s, p50/p95/p99
latency and the responses by meaning, and stops gunicorn. A refused session, a 4xx or 5xx or a
socket error is reported and makes the command fail. It logs real sessions: run it on benchmark
data (make loadtest), never on a real clinic's database. See README.md ("Load test").
"""

import http.client
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

import gunicorn
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import F, Q
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Product, area_chart
from clinic import roles
from consultations.models import Client
from devtools.management.commands.benchmark import machine, machine_speed
from stock.models import Lot
from treatments.forms import first_session_depth
from treatments.models import Course, CourseConcern, TreatmentSession

SCRIPT = Path(__file__).with_name("loadtest.lua")
# The floor (README, "Performance policy"): the mixed workload on 2 workers and 2 cores.
TARGET_RPS = 100
TARGET_P95_MS = 250
WRITE_SHARE = 0.2  # every fifth request logs a session (loadtest.lua)
# Sessions to prepare: enough for this many requests a second, far above a 2-core machine's.
PREPARED_RPS = 1000
CLIENT_PAGES = 1000
WRK_MISSING = (
    "wrk is not installed. Install it with: sudo apt-get install wrk (Debian and Ubuntu), "
    "or see https://github.com/wg/wrk."
)


@dataclass
class Workload:
    """What loadtest.lua sends: Cookie headers, pages to read, (path, body) sessions to log."""

    cookies: list
    reads: list
    slots: list

    def write(self, path):
        with path.open("w") as out:
            out.writelines(f"cookie {cookie}\n" for cookie in self.cookies)
            out.writelines(f"read {read}\n" for read in self.reads)
            out.writelines(f"post {post} {body}\n" for post, body in self.slots)


class Command(BaseCommand):
    help = (
        "Load-test the workspace under gunicorn with wrk: 80% reads (Today, client pages), 20% "
        "sessions logged. Logs real sessions: run it on benchmark data only (make loadtest)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=positive, default=30, help="Seconds (30).")
        parser.add_argument("--connections", type=positive, default=8, help="Open connections (8).")
        parser.add_argument("--workers", type=positive, default=2, help="Gunicorn workers (2).")
        parser.add_argument(
            "--threads", type=positive, default=1, help="wrk threads (1: the CPU is the server's)."
        )
        parser.add_argument(
            "--warmup", type=not_negative, default=3, help="Warm-up seconds (3; 0: none)."
        )
        parser.add_argument("--port", type=int, help="Loopback port (default: a free one).")
        parser.add_argument("--seed", type=int, default=2026, help="Chooses clients and courses.")
        parser.add_argument(
            "--require-target",
            action="store_true",
            help=f"Also fail when the target (>= {TARGET_RPS} requests/s, p95 < {TARGET_P95_MS} "
            "ms) is missed.",
        )

    def handle(self, *args, **options):
        self.wrk = shutil.which("wrk")
        if not self.wrk:
            raise CommandError(WRK_MISSING)
        if not os.environ.get("DJANGO_SECRET_KEY"):
            raise CommandError(
                "Set DJANGO_SECRET_KEY: gunicorn runs with production settings (make loadtest "
                "sets one)."
            )
        if options["connections"] < options["threads"]:
            raise CommandError("Give at least as many connections as wrk threads.")
        self.options = options
        # Stopped from outside (a CI timeout, kill): still stop gunicorn on the way out.
        previous = signal.signal(signal.SIGTERM, exit_on_signal)
        try:
            self.run()
        finally:
            signal.signal(signal.SIGTERM, previous)

    def run(self):
        options = self.options
        self.stdout.write(machine())
        self.stdout.write(
            f"Data: {Client.objects.count():,} clients, "
            f"{TreatmentSession.objects.count():,} sessions"
        )
        if connection.vendor != "postgresql":
            self.stdout.write(self.style.WARNING("The target is for PostgreSQL; this is not."))
        workload = self.prepare()
        with tempfile.TemporaryDirectory(prefix="loadtest-") as folder:
            data = Path(folder) / "requests.txt"
            workload.write(data)
            env = server_env()
            self.collect_static(env)
            server = Server(
                env=env,
                workers=options["workers"],
                port=options["port"] or free_port(),
                log=Path(folder) / "gunicorn.log",
            )
            try:
                self.stdout.write(
                    f"Starting gunicorn ({options['workers']} workers) on {server.url}..."
                )
                self.stdout.write(f"  answering after {server.start():.1f}s")
                results, before, first = self.load(server, workload, data)
            except BaseException:
                if tail := server.log_tail():
                    self.stderr.write(tail)
                raise
            finally:
                self.stdout.write("Stopping gunicorn...")
                server.stop()
        written = TreatmentSession.objects.count() - before
        self.report(results, written, slots_left=len(workload.slots) - first + 1)

    def prepare(self):
        options = self.options
        # A session for each connection, as on a clinic's tablets: each its own practitioner
        # while there are enough, so no one's "recent sessions" holds the whole run's.
        users = aestheticians()
        users = [users[n % len(users)] for n in range(options["connections"])]
        names = ", ".join(dict.fromkeys(user.get_username() for user in users))
        self.stdout.write(f"Signing in {len(users)} sessions: {names}...")
        csrf_cookie, csrf_token = csrf_pair()
        cookies = [
            f"{settings.SESSION_COOKIE_NAME}={signed_in_session(user)}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf_cookie}"
            for user in users
        ]
        rng = random.Random(options["seed"])
        client_ids = list(Client.objects.current().values_list("pk", flat=True))
        if not client_ids:
            raise CommandError("No clients: load bulk data first (make bench-postgres).")
        client_ids = rng.sample(client_ids, min(CLIENT_PAGES, len(client_ids)))
        reads = []
        for client_id in client_ids:
            reads += [reverse("today"), reverse("treatments:client-detail", args=[client_id])]
        seconds = options["warmup"] + options["duration"]
        self.stdout.write("Choosing courses to log sessions on...")
        slots, courses = session_slots(
            rng, math.ceil(seconds * PREPARED_RPS * WRITE_SHARE), csrf_token
        )
        if not slots:
            raise CommandError(
                "No active course can take a session today: load bulk data first "
                "(make bench-postgres)."
            )
        self.stdout.write(
            f"  {len(client_ids):,} client pages; {len(slots):,} sessions to log on "
            f"{courses:,} courses (enough for {len(slots) / WRITE_SHARE / seconds:,.0f} "
            "requests/s)"
        )
        return Workload(cookies=cookies, reads=reads, slots=slots)

    def collect_static(self, env):
        self.stdout.write(f"Collecting static files into {settings.STATIC_ROOT}...")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )

    def load(self, server, workload, data):
        """Check each request, warm up and run wrk.

        Returns wrk's results, the session count before the run and the first slot it used."""
        options = self.options
        self.check_each_request(server, workload)
        first = 2  # the check logged the first session
        if options["warmup"] > 0:
            self.stdout.write(f"Warming up for {options['warmup']}s...")
            warm = self.run_wrk(server, data, first, options["warmup"], quiet=True)
            first += int(warm["slots_used"])
        before = TreatmentSession.objects.count()
        connection.close()  # idle during the run
        self.stdout.write(
            f"Machine speed: a fixed loop took {machine_speed():.3f} s (the benchmark's measure)"
        )
        self.stdout.write(
            f"Running {options['duration']}s: {options['connections']} connections, "
            f"{options['threads']} wrk thread(s), 80% reads, 20% sessions logged..."
        )
        return self.run_wrk(server, data, first, options["duration"]), before, first

    def check_each_request(self, server, workload):
        """Send one request of each kind; stop with the reason if one is not as expected."""
        post_path, body = workload.slots[0]
        checks = [
            ("Today", "GET", workload.reads[0], None, 200),
            ("client page", "GET", workload.reads[1], None, 200),
            ("log a session", "POST", post_path, body, 302),
        ]
        answers = []
        for name, method, path, body, expected in checks:
            status, location, page = server.send(method, path, workload.cookies[0], body)
            if status != expected:
                reason = f"{name} ({method} {path}) answered {status}, not {expected}"
                if location:
                    reason += f", to {location}"
                if errors := page_errors(page):
                    reason += ": " + " | ".join(errors)
                raise CommandError(reason)
            answers.append(f"{name} {status}")
        self.stdout.write("Each request once: " + ", ".join(answers))

    def run_wrk(self, server, data, first, duration, quiet=False):
        """Run wrk with loadtest.lua from session slot `first`; return its loadtest.* lines."""
        options = self.options
        command = [
            self.wrk,
            f"--threads={options['threads']}",
            f"--connections={options['connections']}",
            f"--duration={duration}s",
            "--timeout=10s",
            f"--script={SCRIPT}",
            server.url,
            str(data),
            str(first),
            str(options["threads"]),
        ]
        started = time.monotonic()
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as run:
            try:
                while True:
                    try:
                        output = run.communicate(timeout=10)[0].decode()
                        break
                    except subprocess.TimeoutExpired:
                        if not quiet:
                            self.stdout.write(f"  {time.monotonic() - started:.0f}s of {duration}s")
            except BaseException:  # interrupted: stop wrk now, not at the end of its run
                run.kill()
                raise
        if options["verbosity"] > 1:
            self.stdout.write(output)
        results = {
            name.removeprefix("loadtest."): float(value)
            for name, value in (
                line.split(" ", 1) for line in output.splitlines() if line.startswith("loadtest.")
            )
        }
        if run.returncode or "requests" not in results:
            raise CommandError(f"wrk failed (exit {run.returncode}):\n{output}")
        return results

    def report(self, results, written, slots_left):
        seconds = results["duration_us"] / 1e6
        rps = results["requests"] / seconds
        p50, p95, p99, slowest = (
            results[f"latency_us.{name}"] / 1000 for name in ("p50", "p95", "p99", "max")
        )
        counts = {
            name.removeprefix("count."): int(value)
            for name, value in results.items()
            if name.startswith("count.")
        }
        read, logged = counts.pop("read", 0), counts.pop("logged", 0)
        skipped = counts.pop("post_skipped", 0)
        met = rps >= TARGET_RPS and p95 < TARGET_P95_MS
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Requests      {int(results['requests']):,} in {seconds:.1f}s: "
                    f"{rps:.1f} requests/s",
                    f"Latency       p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
                    f"max {slowest:.1f} ms",
                    f"Responses     {read:,} pages read (200), {logged:,} sessions logged (302)",
                    f"Database      {written:,} sessions written during the run",
                    f"Target        >= {TARGET_RPS} requests/s and p95 < {TARGET_P95_MS} ms: "
                    + ("met" if met else "NOT met"),
                ]
            )
        )
        problems = [f"{count:,} {describe(name)}" for name, count in sorted(counts.items())]
        problems += [
            f"{int(value):,} socket {name.removeprefix('error.')} errors"
            for name, value in sorted(results.items())
            if name.startswith("error.") and name != "error.status" and value
        ]
        if skipped:
            problems.append(
                f"{skipped:,} sessions not logged: the {slots_left:,} prepared ran out (reads "
                "were sent instead)"
            )
        # A session whose answer wrk did not wait for (cut off at the end) may still be written.
        if not written - self.options["connections"] <= logged <= written:
            problems.append(f"{written:,} sessions written for {logged:,} answered 302")
        if problems:
            raise CommandError("Unexpected responses: " + "; ".join(problems) + ".")
        if not met and self.options["require_target"]:
            raise CommandError("The target was missed.")


class Server:
    """gunicorn serving the project on a loopback port, stopped gracefully."""

    def __init__(self, *, env, workers, port, log):
        self.env, self.workers, self.port, self.log = env, workers, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, timeout=60):
        """Start gunicorn; return the seconds it took to answer."""
        module, application = settings.WSGI_APPLICATION.rsplit(".", 1)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"{module}:{application}",
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            "--graceful-timeout=10",
        ]
        if gunicorn.version_info >= (25, 1):
            # Not the default ~/.gunicorn/gunicorn.ctl, which a running server may be using.
            command.append("--no-control-socket")
        # gunicorn's log and Django's (tracebacks of 500s) both go to the log file.
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn stopped (exit {self.process.returncode}).")
            try:
                self.send("GET", reverse("login"))
                return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"gunicorn did not answer on {self.url} within {timeout}s.")

    def send(self, method, path, cookie=None, body=None):
        """Send one request; return the status, the Location header and the page."""
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheader("Location"), response.read().decode()
        finally:
            conn.close()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines=30):
        """The end of the log without gunicorn's routine lines: errors and tracebacks."""
        try:
            text = self.log.read_text().splitlines()
        except OSError:
            return ""
        text = [line for line in text if "[INFO]" not in line][-lines:]
        return "gunicorn's log ends with:\n" + "\n".join(text) if text else ""


class ErrorReader(HTMLParser):
    """The text of a page's error messages (Bootstrap's alert-danger and invalid-feedback)."""

    def __init__(self):
        super().__init__()
        self.depth, self.errors = 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif {"alert-danger", "invalid-feedback"} & set((dict(attrs).get("class") or "").split()):
            self.depth = 1
            self.errors.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.errors[-1] += data


def page_errors(page):
    reader = ErrorReader()
    reader.feed(page or "")
    return list(dict.fromkeys(" ".join(error.split()) for error in reader.errors if error.strip()))


def positive(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def not_negative(text):
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def describe(name):
    return {
        "refused": "sessions refused (the form came back)",
        "signed_out": "requests sent to the sign-in page (session ended)",
    }.get(name, f"HTTP {name} responses")


def aestheticians():
    """The active users with the Aesthetician role (bulk data has alex, sam and eight more)."""
    users = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.AESTHETICIAN)
        .order_by("username")
    )
    if not users:
        raise CommandError(
            "No active aesthetician: load bulk data first (make bench-postgres), which creates "
            "alex, sam and eight more."
        )
    return users


def signed_in_session(user):
    """A server-side session signed in as `user`, as django.contrib.auth.login() makes one."""
    # The backend recorded is the first that can load users, as the test client's login picks.
    backend = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def csrf_pair():
    """A CSRF cookie value and a form token that matches it."""
    request = HttpRequest()
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


def session_slots(rng, wanted, csrf_token):
    """Up to `wanted` (path, POST body) pairs logging a session today, and the courses used.

    The courses are active, started, with no session after today and sessions left to log; they
    are shuffled and taken round by round, so a course gets its next session only after every
    other course has had one, and never more than it has left (no course is refused mid-run).
    """
    today = timezone.localdate()
    courses = (
        Course.objects.active()
        .filter(client__archived=False, start_date__lte=today)
        .filter(Q(last_session_on__isnull=True) | Q(last_session_on__lte=today))
        .filter(sessions_logged__lt=F("planned_sessions"))
    )
    left = dict(
        courses.annotate(left=F("planned_sessions") - F("sessions_logged")).values_list(
            "pk", "left"
        )
    )
    concerns = {}
    for pc in CourseConcern.objects.filter(course__in=courses).select_related(
        "recorded_concern__concern", "recorded_concern__area"
    ):
        concerns.setdefault(pc.course_id, []).append(pc.recorded_concern)
    # The first product offered on the session form with a lot in stock, in use and in date:
    # each session names that lot (a session without a usable lot names no product).
    lot = (
        Lot.objects.usable(today)
        .filter(product__in_use=True, product__approved_for_needling=True)
        .exclude(product__kind=Product.Kind.NUMBING)
        .order_by("product_id", "expiry_date", "pk")
        .first()
    )
    order = sorted(course_id for course_id in left if course_id in concerns)
    rng.shuffle(order)
    bodies, slots = {}, []
    chart = area_chart()
    for round_number in range(max(left.values(), default=0)):
        for course_id in order:
            if len(slots) >= wanted:
                return slots, len(bodies)
            if left[course_id] > round_number:
                if course_id not in bodies:
                    bodies[course_id] = session_body(
                        concerns[course_id], lot, today, csrf_token, chart
                    )
                path = reverse("treatments:session-create", args=[course_id])
                slots.append((path, bodies[course_id]))
    return slots, len(bodies)


def session_body(recorded_concerns, lot, today, csrf_token, chart):
    """The session form as a practitioner submits it: each area at a first session's depth
    (the area chart's), one serum with its lot from stock (`lot`, or none), and a rating for
    each concern (see SessionCreateView). Courses get sessions back to back: each says why, as
    the interval asks."""
    by_area = {}
    for rc in recorded_concerns:
        by_area.setdefault(rc.area_id, []).append(rc.concern)
    data = {
        "csrfmiddlewaretoken": csrf_token,
        "version": "",
        "performed_on": today.isoformat(),
        "device": TreatmentSession.Device.PEN,
        "device_model": "Dermapen 4",
        "numbing": "",
        "skin_response": TreatmentSession.Response.PINPOINT_BLEEDING,
        "pain_score": "3",
        "notes": "Logged by manage.py loadtest.",
        "check_asked": "on",  # the pre-session check: nothing changed since the last visit
        "interval_reason": "Load test: sessions logged back to back.",
        "photo_area": "",
        "photo_angle": "front",
        **formset_management("areas", len(by_area)),
        **formset_management("products", 1 if lot else 0),
    }
    for index, (area, concerns) in enumerate(by_area.items()):
        data[f"areas-{index}-area"] = area
        data[f"areas-{index}-depth_mm"] = str(first_session_depth(chart[area], concerns))
    if lot:
        data["products-0-product"] = str(lot.product_id)
        data["products-0-lot"] = str(lot.pk)
    for rc in recorded_concerns:
        data[f"progress-{rc.pk}-practitioner_rating"] = "2"
        data[f"progress-{rc.pk}-client_rating"] = "3"
    return urlencode(data)


def formset_management(prefix, total):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def server_env():
    """The environment gunicorn runs in: production settings, plain HTTP on the loopback."""
    env = dict(os.environ)
    env.pop("DJANGO_DEBUG", None)
    env.update(DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_SECURE_SSL_REDIRECT="0")
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
