"""SQLite serves a small clinic: several practitioners saving at once, and a backup reading
meanwhile, on the file `make run` uses, never get "database is locked"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh process on a file database: the suite's own SQLite database lives in memory.
WRITERS = r"""
import tempfile
import threading
from pathlib import Path

import django

django.setup()

from django.db import connection, connections, transaction

from clinic.management import backups
from consultations.models import Client

with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print("journal_mode", cursor.fetchone()[0])

errors, backed_up, done = [], [], threading.Event()


def write(n):
    try:
        for i in range(25):
            with transaction.atomic():  # read, then write, as a service does
                Client.objects.filter(first_name=f"Writer{n}").count()
                client = Client.objects.create(
                    first_name=f"Writer{n}", last_name=f"Row{i}", date_of_birth="1990-01-01",
                    skin_type="II",
                )
                Client.objects.filter(pk=client.pk).update(notes=f"Saved by writer {n}.")
    except Exception as error:  # what a practitioner would have seen
        errors.append(repr(error))
    finally:
        connections.close_all()


def back_up():
    try:
        while not done.is_set():
            target = Path(tempfile.mkdtemp()) / "clinic.json.gz"
            backups.write_backup(target, models=backups.backed_up_models())
            backed_up.append(target)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connections.close_all()


reader = threading.Thread(target=back_up)
reader.start()
writers = [threading.Thread(target=write, args=(n,)) for n in range(6)]
for thread in writers:
    thread.start()
for thread in writers:
    thread.join()
done.set()
reader.join()
print("errors", len(errors), errors[:3])
print("clients", Client.objects.count())
print("backups", len(backed_up) > 0)
"""


@pytest.mark.slow
def test_concurrent_writers_and_a_backup_on_sqlite_never_meet_a_locked_database(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    run = subprocess.run(
        [sys.executable, "-c", WRITERS], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert run.returncode == 0, run.stderr
    assert "journal_mode wal" in run.stdout
    assert "errors 0 []" in run.stdout, run.stdout
    assert "clients 150" in run.stdout
    assert "backups True" in run.stdout
