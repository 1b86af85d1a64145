import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from clinic.management import backups


class Command(BaseCommand):
    help = (
        "Restore a file written by `manage.py backup` into a migrated database. Refuses a "
        "database that already holds records unless --replace is given; either way the whole "
        "restore is one transaction, so a failure changes nothing, and the photo files are "
        "put in place only once the records are committed."
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
            restored = backups.load_backup(header, stream, path, progress=self.progress)
        self.log(
            self.style.SUCCESS(
                f"Restored {sum(restored.counts.values()):,} records and {restored.files:,} "
                f"photo files from {path}. Everyone signs in again."
            )
        )
        self.warn_about(restored)
        try:
            backups.update_statistics()
        except DatabaseError as error:
            self.stderr.write(
                self.style.WARNING(
                    f"The database's planner statistics could not be updated ({error}): run "
                    "ANALYZE on it, or pages stay slow until autovacuum does."
                )
            )
        else:
            self.log("The database's planner statistics are updated (ANALYZE).")
        if restored.files_not_in_place:
            failed = restored.files_not_in_place
            raise CommandError(
                f"The records are restored, but {len(failed):,} photo files could not be put "
                f"into the photo storage: {'; '.join(failed[:3])}"
                f"{' ...' if len(failed) > 3 else ''}. They wait in {restored.staging}: copy "
                "them into the photo storage under the same names."
            )

    def warn_about(self, restored):
        if restored.left_out:
            kinds = sorted(restored.left_out)
            self.stderr.write(
                self.style.WARNING(
                    "The backup names kinds of record this installation no longer has "
                    f"({', '.join(kinds[:5])}{' ...' if len(kinds) > 5 else ''}): "
                    f"{restored.left_out.total():,} permissions on them, or links to them from "
                    "the admin's log, were left out. Everything else is restored."
                )
            )
        if restored.unclaimed_files:
            unclaimed = restored.unclaimed_files
            self.stderr.write(
                self.style.WARNING(
                    f"{len(unclaimed):,} photo files in the backup belong to no record in it and "
                    f"were left out: {', '.join(unclaimed[:5])}"
                    f"{' ...' if len(unclaimed) > 5 else ''}"
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
