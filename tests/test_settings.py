"""Configuration comes from the environment; start-up refuses an unsafe production setup."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(
    show="settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['ENGINE']", **env
):
    """Import the settings in a fresh interpreter with exactly these DJANGO_* variables; print
    `show`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(env)
    code = f"from django.conf import settings; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_secret_key_with_debug_off_stops_start_up_with_a_clear_message():
    result = load_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = load_settings(DJANGO_SECRET_KEY="x" * 50, DJANGO_DEBUG="yes please")
    assert result.stdout.startswith("False")


def test_debug_allows_a_throw_away_key_and_local_hosts():
    result = load_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True ['localhost', '127.0.0.1', '[::1]']")


def test_allowed_hosts_and_database_url_come_from_the_environment():
    result = load_settings(
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="clinic.example.com, www.clinic.example.com",
        DATABASE_URL="postgres://clinic@db.example.com:5432/clinic",
    )
    assert result.returncode == 0, result.stderr
    assert "['clinic.example.com', 'www.clinic.example.com']" in result.stdout
    assert "django.db.backends.postgresql" in result.stdout


def test_postgresql_statements_are_prepared_unless_turned_off():
    show = "sorted(settings.DATABASES['default']['OPTIONS'].items())"
    postgres = {"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://db.example.com/clinic"}

    prepared = load_settings(show, **postgres)
    plain = load_settings(show, DJANGO_DB_PREPARED_STATEMENTS="0", **postgres)

    options = "-c jit=off -c lock_timeout=5000 -c statement_timeout=20000"
    assert prepared.stdout.strip() == (
        f"[('options', '{options}'), ('prepare_threshold', 5), ('server_side_binding', True)]"
    ), prepared.stderr
    assert plain.stdout.strip() == f"[('options', '{options}')]", plain.stderr


def test_postgresql_lock_and_statement_timeouts_come_from_the_environment():
    show = "settings.DATABASES['default']['OPTIONS']['options']"
    postgres = {"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://db.example.com/clinic"}

    chosen = load_settings(
        show, DJANGO_DB_LOCK_TIMEOUT="1.5", DJANGO_DB_STATEMENT_TIMEOUT="0", **postgres
    )
    wrong = load_settings(show, DJANGO_DB_LOCK_TIMEOUT="5s", **postgres)

    expected = "-c jit=off -c lock_timeout=1500 -c statement_timeout=0"
    assert chosen.stdout.strip() == expected, chosen.stderr
    assert wrong.returncode != 0
    assert "DJANGO_DB_LOCK_TIMEOUT must be a number of seconds" in wrong.stderr


def test_the_default_database_is_a_sqlite_file_in_the_repo():
    result = load_settings(DJANGO_DEBUG="1")
    assert "django.db.backends.sqlite3" in result.stdout
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "db.sqlite3"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0


def commands(**env):
    """The commands manage.py lists in a fresh interpreter with exactly these DJANGO_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=ROOT,
        env={**clean, "DJANGO_SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.split())


DEV_TOOLS = {"seed_demo", "benchmark", "loadtest"}


def test_production_has_no_developer_tooling():
    available = commands()
    assert "backup" in available
    assert available.isdisjoint(DEV_TOOLS)


def test_dev_tools_installs_seed_demo_benchmark_and_loadtest():
    assert DEV_TOOLS.issubset(commands(DJANGO_DEV_TOOLS="1"))
