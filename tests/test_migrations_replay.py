"""Migrations replay on an empty database one step at a time, and go back to zero.

Each migration carries what it needs (frozen data, the historical models, its real
dependencies), so `migrate clinic 0001` works on an empty database, every later migration can
then be applied on its own, and the database ends as a plain `migrate` leaves it.

The migrations run in a subprocess on temporary SQLite files, so each database really starts
empty; run as `python -m tests.test_migrations_replay replay|plain`, this module is that
subprocess and prints what it found as JSON.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic import roles

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = ("api", "catalogue", "clinic", "consultations", "stock", "treatments")
FIRST = ("clinic", "0001_roles")


def migrate_in_subprocess(mode, database):
    """Run this module as a script on an empty SQLite file; return what it printed."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "tests.test_migrations_replay", mode],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    return migrate_in_subprocess("replay", tmp_path_factory.mktemp("replay") / "db.sqlite3")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    return migrate_in_subprocess("plain", tmp_path_factory.mktemp("plain") / "db.sqlite3")


def test_clinic_0001_then_every_migration_applies_alone_on_an_empty_database(replayed):
    first, *rest = replayed["forwards"]
    assert first["target"] == list(FIRST)
    assert list(FIRST) in first["applied"]
    assert rest, "the plan has more than clinic 0001's dependencies"
    for step in rest:
        assert step["applied"] == [step["target"]]
    applied = [migration for step in replayed["forwards"] for migration in step["applied"]]
    assert sorted(applied) == sorted(replayed["plan"])


def test_replaying_one_step_at_a_time_ends_as_a_plain_migrate(replayed, migrated):
    assert replayed["after_forwards"] == migrated["after_forwards"]


def test_a_fresh_database_has_the_roles_and_the_catalogue(migrated):
    database = migrated["after_forwards"]
    groups = database["groups"]
    assert sorted(groups) == [roles.AESTHETICIAN, roles.MANAGER]
    assert sorted((app, codename) for app, _model, codename in groups[roles.AESTHETICIAN]) == (
        roles.AESTHETICIAN_PERMISSIONS
    )
    assert groups[roles.MANAGER] == [
        [app, model, codename]
        for app, model, codename in database["permissions"]
        if app in roles.MANAGER_APPS
    ]
    assert ["treatments", "course", "view_reports"] in groups[roles.MANAGER]

    shipped = importlib.import_module("treatments.migrations.0002_catalogue")
    assert [row["slug"] for row in database["concerns"]] == sorted(
        row["slug"] for row in shipped.CONCERNS
    )
    assert [row["name"] for row in database["products"]] == sorted(
        row["name"] for row in shipped.PRODUCTS
    )


def test_every_migration_of_the_project_goes_back_alone_down_to_zero(replayed):
    ours = [migration for migration in replayed["plan"] if migration[0] in PROJECT_APPS]
    steps = replayed["backwards"]
    assert [step["migration"] for step in steps] == ours[::-1]
    for step in steps:
        assert step["unapplied"] == [step["migration"]]
    assert replayed["after_backwards"] == {"applied": [], "tables": [], "groups": []}


def test_migrating_again_after_zero_gives_the_same_database(replayed):
    assert replayed["after_forwards_again"] == replayed["after_forwards"]


# What follows runs in the subprocess.


def full_plan(graph):
    """Every migration in the order a plain `migrate` applies them on an empty database."""
    plan = {}
    for leaf in sorted(graph.leaf_nodes()):
        plan.update(dict.fromkeys(graph.forwards_plan(leaf)))
    return list(plan)


def applied_migrations():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(connection).applied_migrations)


def migrate(*arguments):
    from django.core.management import call_command

    call_command("migrate", *arguments, verbosity=0, interactive=False)


def describe_database():
    """What a plain `migrate` is expected to leave: roles, permissions, catalogue.

    Only the permissions of the models that exist now count. Django leaves behind the content
    types and permissions of models that are gone (`remove_stale_contenttypes` clears them), and
    which ones a database holds depends on where `migrate` stopped on the way: post_migrate makes
    them for the models of each state it stops at.
    """
    from django.apps import apps
    from django.db import connection

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    models = {(model._meta.app_label, model._meta.model_name) for model in apps.get_models()}
    by_model = ("content_type__app_label", "content_type__model", "codename")

    def of_models(permissions):
        return [
            permission
            for permission in permissions.order_by(*by_model).values_list(*by_model)
            if tuple(permission[:2]) in models
        ]

    described = {
        "applied": sorted(applied_migrations()),
        "tables": sorted(connection.introspection.table_names()),
        "permissions": of_models(Permission.objects),
        "groups": {
            group.name: of_models(group.permissions) for group in Group.objects.order_by("name")
        },
    }
    if "treatments_concern" in described["tables"]:
        for key, model in [("concerns", "Concern"), ("products", "Product")]:
            rows = apps.get_model("catalogue", model).objects.order_by(
                "slug" if model == "Concern" else "name"
            )
            described[key] = list(rows.values())
    return described


def replay():
    """Forwards one migration at a time, back to zero the same way, forwards again."""
    from django.db.migrations.loader import MigrationLoader

    plan = full_plan(MigrationLoader(None, ignore_no_migrations=True).graph)
    forwards = []
    for target in [FIRST, *plan]:
        before = applied_migrations()
        if target in before:
            continue
        migrate(*target)
        forwards.append({"target": target, "applied": sorted(applied_migrations() - before)})
    result = {
        "plan": plan,
        "forwards": forwards,
        "after_forwards": describe_database(),
    }

    backwards = []
    for migration in reversed(plan):
        app_label, _name = migration
        if app_label not in PROJECT_APPS:
            continue
        # The app's migrations are one line: going back one step targets the one before.
        app_plan = [name for app, name in plan if app == app_label]
        position = app_plan.index(migration[1])
        before = applied_migrations()
        migrate(app_label, app_plan[position - 1] if position else "zero")
        backwards.append(
            {"migration": migration, "unapplied": sorted(before - applied_migrations())}
        )
    described = describe_database()
    result["backwards"] = backwards
    result["after_backwards"] = {
        "applied": [
            migration for migration in described["applied"] if migration[0] in PROJECT_APPS
        ],
        "tables": [
            table
            for table in described["tables"]
            if table.startswith(tuple(f"{app}_" for app in PROJECT_APPS))
        ],
        "groups": list(described["groups"]),
    }

    migrate()
    result["after_forwards_again"] = describe_database()
    return result


def main(mode):
    import django

    django.setup()
    if mode == "replay":
        result = replay()
    else:
        migrate()
        result = {"after_forwards": describe_database()}
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
