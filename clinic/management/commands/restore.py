import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from clinic.management import backups


class Command(BaseCommand):
    help = (
        "Restore a file written by `manage.py backup` into a migrated database. Refuses a "
        "database that already holds records unless --replace is given; either way the whole "
        "restore is one transaction, so a failure changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.json.gz).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace the records already in the database with the backup's.",
        )
        parser.add_argument(
            "--yes",
            "--no-input",
            "--noinput",
            action="store_true",
            dest="yes",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args, path, replace=False, yes=False, **options):
        self.verbosity = options["verbosity"]
        with backups.open_backup(path) as (header, stream):
            newer_here = backups.check_database(header)
            present = backups.records_present()
            if present and not replace:
                raise CommandError(
                    f"The database already holds records ({backups.describe(present)}). "
                    "Nothing was changed. Restore into an empty, migrated database, or run "
                    "again with --replace to replace them with the backup's."
                )
            total = sum(header["counts"].values())
            self.log(
                f"Backup of {header.get('created_at', '?')} ({total:,} records, made on "
                f"{header.get('database', '?')}) into the {connection.vendor} database "
                f"{connection.settings_dict['NAME']}."
            )
            if present:
                self.log(f"Replacing what it holds now: {backups.describe(present)}.")
            if newer_here:
                self.log(
                    self.style.WARNING(
                        f"The backup predates {len(newer_here)} migration(s) applied here "
                        f"({', '.join(newer_here[:3])}{' ...' if len(newer_here) > 3 else ''}): "
                        "its records are loaded as they were saved."
                    )
                )
            if not yes:
                self.confirm()
            loaded, files = backups.load_backup(header, stream, path, progress=self.progress)
        self.log(
            self.style.SUCCESS(
                f"Restored {sum(loaded.values()):,} records and {files:,} photo files from "
                f"{path}. Everyone signs in again."
            )
        )

    def confirm(self):
        if not sys.stdin.isatty():
            raise CommandError("Nothing was changed: add --yes to restore without being asked.")
        answer = input("Type 'yes' to restore this backup: ")
        if answer.strip().lower() != "yes":
            raise CommandError("Restore cancelled: nothing was changed.")

    def log(self, message):
        if self.verbosity >= 1:
            self.stdout.write(message)

    def progress(self, model, loaded, total, *, done):
        if done:
            self.log(f"  {backups.label(model):<42} {loaded:>10,} rows")
        else:
            self.log(f"  {backups.label(model):<42} {loaded:>10,} of {total:,} rows ...")
