from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.management import backups


class Command(BaseCommand):
    help = (
        "Back up every record (staff accounts and roles, clients, consultations, courses, "
        "sessions, the catalogue, the audit trail and sign-in records) and the photo files to "
        "one gzip-compressed JSON file that `manage.py restore` reads on SQLite or PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            metavar="PATH",
            help="Where to write the backup (default: backups/clinic-YYYYmmdd-HHMMSS.json.gz).",
        )
        parser.add_argument(
            "--without-sign-in-records",
            action="store_true",
            help="Leave out django-axes' records of sign-in attempts and lockouts.",
        )

    def handle(self, *args, output=None, without_sign_in_records=False, **options):
        self.verbosity = options["verbosity"]
        path = Path(output) if output else backups.default_path()
        if path.exists():
            raise CommandError(f"{path} already exists: choose another --output.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise CommandError(f"Cannot create the folder for {path}: {error}") from None
        models = backups.backed_up_models(sign_in_records=not without_sign_in_records)
        self.log(f"Backing up {len(models)} kinds of record to {path}")
        try:
            written = backups.write_backup(path, models=models, progress=self.progress)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from None
        if written.missing_files:
            missing = written.missing_files
            self.stderr.write(
                self.style.WARNING(
                    f"{len(missing):,} photo files named in the records were not in the photo "
                    f"storage, so they are not in the backup either: {', '.join(missing[:5])}"
                    f"{' ...' if len(missing) > 5 else ''}"
                )
            )
        size = path.stat().st_size
        self.log(
            self.style.SUCCESS(
                f"Backup written: {path} ({sum(written.counts.values()):,} records, "
                f"{written.files:,} photo files, {size / 1024:,.0f} KiB). It holds health "
                "records, photos and password hashes: keep it as safe as the database."
            )
        )

    def log(self, message):
        if self.verbosity >= 1:
            self.stdout.write(message)

    def progress(self, model, written, total, *, done):
        if done:
            self.log(f"  {backups.label(model):<42} {written:>10,} rows")
        else:
            self.log(f"  {backups.label(model):<42} {written:>10,} of {total:,} rows ...")
