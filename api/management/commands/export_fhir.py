"""The whole clinic as FHIR R4B NDJSON, per the Bulk Data format: one file per resource type."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from api.fhir import RESOURCES, client_resources
from consultations.models import Client


class Command(BaseCommand):
    help = "Export every client's record as FHIR R4B NDJSON files (one per resource type)."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Where the .ndjson files are written.")

    def handle(self, *args, folder, **options):
        folder.mkdir(parents=True, exist_ok=True)
        files = {
            kind: (folder / f"{kind}.ndjson").open("w", encoding="utf-8") for kind, _ in RESOURCES
        }
        counts = dict.fromkeys(files, 0)
        seen = set()  # a practitioner is written once, whichever clients name them
        total = Client.objects.count()
        try:
            for done, client in enumerate(Client.objects.order_by("pk").iterator(), start=1):
                for kind, resource in client_resources(client):
                    key = (kind, resource["id"])
                    if key in seen:
                        continue
                    if kind == "Practitioner":
                        seen.add(key)
                    files[kind].write(json.dumps(resource, ensure_ascii=False) + "\n")
                    counts[kind] += 1
                if done % 50 == 0 or done == total:
                    self.stdout.write(f"{done} of {total} clients exported")
        finally:
            for handle in files.values():
                handle.close()
        for kind, count in counts.items():
            self.stdout.write(f"{kind}.ndjson: {count} resources")
