"""Remove the one-time keys of create forms (clinic.submissions) saved more than --days ago."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic.models import Submission


class Command(BaseCommand):
    help = (
        "Remove the one-time keys of create forms saved more than --days ago (30 by default). "
        "A key only matters while its form can be posted again: minutes, at most a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep the keys of these days.")

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        removed, _ = Submission.objects.filter(created_at__lt=cutoff).delete()
        noun = "key" if removed == 1 else "keys"
        self.stdout.write(f"{removed} form {noun} saved more than {days} days ago removed.")
