"""`manage.py seed_demo`: the demo year (default), or bulk data with --clients/--sessions."""

import argparse
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consultations.models import Client, Consultation
from devtools.demo import bulk, year
from treatments.models import Course, TreatmentSession
from treatments.photos.services import photo_transaction


class Command(BaseCommand):
    help = (
        "Load a realistic year of demo data (staff logins, about 40 clients, consultations, "
        "courses and sessions). Safe to run again: it changes nothing once the demo is loaded. "
        "With --clients and --sessions, write that much bulk data instead (for benchmarks); "
        "a bulk run that was stopped finishes when run again with the same sizes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set the demo logins' passwords back to the documented ones.",
        )
        parser.add_argument(
            "--clients", type=positive, help="Bulk mode: how many clients to write."
        )
        parser.add_argument(
            "--sessions", type=not_negative, help="Bulk mode: how many sessions to write in all."
        )

    def handle(self, *args, reset_passwords=False, clients=None, sessions=None, **options):
        if clients is not None or sessions is not None:
            return self.handle_bulk(clients, sessions, reset_passwords)
        # The demo's photos are stored with it: their files go if the seed does not commit.
        with photo_transaction():
            present = year.demo_data_present()
            if present and not reset_passwords:
                created, reset = [], []
            else:
                staff, created, reset = year.ensure_staff(reset_passwords=reset_passwords)
            if not present:
                year.seed_year(year.Demo.load(staff=staff))
        if present:
            self.stdout.write("Demo data is already loaded: no clinical records were added.")
        else:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        if created:
            self.stdout.write(f"Demo logins created: {', '.join(created)}.")
        if reset:
            self.stdout.write(f"Passwords reset to the demo ones: {', '.join(reset)}.")
        self.stdout.write(summary())
        self.stdout.write(logins(reset_passwords))

    def handle_bulk(self, clients, sessions, reset_passwords):
        if clients is None or sessions is None:
            raise CommandError("Bulk mode needs both --clients and --sessions.")
        try:
            if bulk.clients_written(clients=clients, sessions=sessions) == clients:
                self.stdout.write("Bulk data is already loaded: nothing was added.")
                self.stdout.write(summary())
                return
            with transaction.atomic():
                staff, created, _ = year.ensure_staff(reset_passwords=reset_passwords)
            self.stdout.write(f"Writing {clients:,} clients and {sessions:,} sessions...")
            started = time.monotonic()
            bulk.seed_bulk(clients=clients, sessions=sessions, staff=staff, write=self.stdout.write)
        except bulk.OtherBulkData as error:
            raise CommandError(f"{error} Nothing was added.") from None
        self.stdout.write(
            self.style.SUCCESS(f"Bulk data loaded in {time.monotonic() - started:.1f}s.")
        )
        self.stdout.write(summary())


def positive(text):
    value = not_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def not_negative(text):
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("cannot be negative")
    return value


def summary():
    today = timezone.localdate()
    courses = Course.objects
    status = Course.Status
    return "\n".join(
        (
            f"  users          {get_user_model().objects.count()}",
            f"  clients        {Client.objects.count()} "
            f"({Client.objects.filter(archived=True).count()} archived)",
            f"  consultations  {Consultation.objects.count()}",
            f"  courses        {courses.count()}: {courses.active().count()} active "
            f"({courses.overdue(today).count()} overdue, "
            f"{courses.active().filter(next_due_on=today).count()} due today), "
            f"{courses.filter(status=status.COMPLETED).count()} completed, "
            f"{courses.filter(status=status.STOPPED).count()} stopped",
            f"  sessions       {TreatmentSession.objects.count()}",
        )
    )


def logins(reset_passwords):
    lines = ["Demo logins (change them on any shared server):"]
    for login in year.DEMO_LOGINS:
        role = "manager, admin" if login.is_manager else "aesthetician"
        lines.append(f"  {login.username:<8} {login.password:<22} {role}")
    if not reset_passwords:
        lines.append("  (Existing logins keep their passwords; --reset-passwords restores these.)")
    lines.append(
        f"  The manager's second factor: add the key {year.DEMO_TOTP_SECRET} (time-based) to an "
        "authenticator app, or see the README for the code without one."
    )
    return "\n".join(lines)
