"""Backup and restore: the demo year goes out to a file and comes back with every record."""

import gzip
import io
import json
import os
import shutil
import stat

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from clinic.management import backups
from consent.models import SignedConsent
from consultations.models import Client, Consultation
from devtools.demo.year import DEMO_LOGINS
from treatments.models import Photo, SessionProduct, TreatmentSession

# Every test works on the demo year, seeded once for the module.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def fast_hashing():
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo year, seeded once for the module; each test's changes are rolled back."""
    with django_db_blocker.unblock(), fast_hashing(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def demo_backup(seeded, django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("backup") / "demo.json.gz"
    with django_db_blocker.unblock():
        call_command("backup", output=str(path), stdout=io.StringIO())
    return path


@pytest.fixture
def backup_file(demo_backup, tmp_path):
    """A backup of the demo year, for this test to restore or spoil."""
    path = tmp_path / "clinic.json.gz"
    shutil.copy(demo_backup, path)
    return path


def every_row():
    """Every backed-up row, field by field, as the backup serializes it."""
    return {
        backups.label(model): list(backups.serialized_rows(model))
        for model in backups.backed_up_models()
    }


def identities():
    """What a manager would look records up by, rather than by id."""
    return {
        "client emails": sorted(Client.objects.values_list("email", flat=True)),
        "consultations": sorted(
            Consultation.objects.values_list("client__email", "held_on", "outcome")
        ),
        "sessions": sorted(
            TreatmentSession.objects.values_list("course__client__email", "number", "performed_on")
        ),
        "lots": sorted(
            SessionProduct.objects.values_list(
                "product__name", "lot_number", "session__course__client__email"
            )
        ),
        "history rows": {
            backups.label(model): model.objects.count()
            for model in apps.get_models()
            if backups.label(model).split(".")[1].startswith("historical")
        },
        "staff": sorted(
            get_user_model().objects.values_list("username", "groups__name", "is_staff")
        ),
        "role permissions": sorted(
            Group.objects.values_list(
                "name", "permissions__content_type__app_label", "permissions__codename"
            )
        ),
    }


def restore(path, *args, **streams):
    out = io.StringIO()
    call_command("restore", str(path), "--yes", *args, stdout=out, **streams)
    return out.getvalue()


def empty_database():
    """As if nothing had ever been saved (not even the catalogue that migrate ships)."""
    with connection.cursor() as cursor:
        for table in backups.tables_to_empty():
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def sign_in(username, password):
    """Authenticate as the sign-in page does (django-axes needs the request)."""
    return authenticate(
        RequestFactory().post("/accounts/login/"), username=username, password=password
    )


def test_a_restore_over_changed_data_brings_back_every_record(backup_file):
    before_rows, before_ids = every_row(), identities()
    assert len(before_ids["client emails"]) == 40
    assert before_ids["history rows"]["consultations.historicalclient"] >= 40
    # Work goes on after the backup: a record changes, one is added.
    session = TreatmentSession.objects.order_by("pk").first()
    session.notes = "Changed after the backup."
    session.save()
    Client.objects.create(
        first_name="New", last_name="Client", date_of_birth="1990-01-01", skin_type="II"
    )

    output = restore(backup_file, "--replace")

    assert every_row() == before_rows
    assert identities() == before_ids
    assert "consultations.client" in output and "40 rows" in output
    assert "Restored" in output


def test_a_restore_into_an_empty_database_brings_back_every_record_and_login(backup_file):
    before_rows, before_ids = every_row(), identities()
    empty_database()
    assert not Client.objects.exists() and not Group.objects.exists()

    with fast_hashing():
        restore(backup_file)

        assert every_row() == before_rows
        assert identities() == before_ids
        for login in DEMO_LOGINS:
            user = sign_in(login.username, login.password)
            assert user is not None, login.username
            assert user.groups.exists()


def test_new_records_after_a_restore_get_new_ids(backup_file):
    restored_max = Client.objects.order_by("-pk").values_list("pk", flat=True).first()
    empty_database()
    # A freshly created database starts counting ids again at 1.
    with connection.cursor() as cursor:
        for table in ("consultations_client", "consultations_historicalclient"):
            if connection.vendor == "postgresql":
                pk = "history_id" if "historical" in table else "id"
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), 1, false)", [table, pk]
                )
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])

    restore(backup_file)
    client = Client.objects.create(
        first_name="New", last_name="Client", date_of_birth="1990-01-01", skin_type="II"
    )

    assert client.pk > restored_max
    assert Client.objects.count() == 41
    assert client.history.count() == 1


def test_a_restore_over_existing_records_is_refused_without_replace(backup_file):
    Client.objects.create(
        first_name="New", last_name="Client", date_of_birth="1990-01-01", skin_type="II"
    )
    before = every_row()

    with pytest.raises(CommandError, match="already holds records .*41 clients.*--replace"):
        restore(backup_file)

    assert every_row() == before


def test_a_restore_asks_for_confirmation_when_not_told_yes(backup_file):
    before = every_row()
    with pytest.raises(CommandError, match="add --yes"):
        call_command("restore", str(backup_file), "--replace", stdout=io.StringIO())
    assert every_row() == before


def rewrite(path, change):
    """Rewrite the backup at `path` line by line through `change(lines) -> lines`."""
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
        lines = stream.readlines()
    with gzip.open(path, "wt", encoding="utf-8", newline="\n") as stream:
        stream.writelines(change(lines))


def header_change(**values):
    def change(lines):
        header = json.loads(lines[0].removesuffix(",\n") + "}")
        header.update(values)
        return [json.dumps(header)[:-1] + ",\n", *lines[1:]]

    return change


def record_change(model, **fields):
    """Change the first record of `model`."""

    def change(lines):
        for index, line in enumerate(lines):
            if f'"model":"{model}"' in line:
                comma = line.endswith(",\n")
                record = json.loads(line.removesuffix("\n").removesuffix(","))
                record["fields"].update(fields)
                lines[index] = json.dumps(record) + (",\n" if comma else "\n")
                return lines
        raise AssertionError(model)

    return change


def truncate_bytes(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def spoil_the_checksum(path):
    """Change the CRC-32 in the gzip trailer (its last 8 bytes: CRC, then length)."""
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF
    path.write_bytes(bytes(data))


def drop_last_lines(lines):
    return lines[:-5]


def future_model(lines):
    return [lines[0], lines[1], '{"model":"photos.photo","pk":1,"fields":{}},\n', *lines[2:]]


BROKEN = {
    "plain text": (lambda path: path.write_text("hello"), "not a gzip-compressed JSON file"),
    "gzipped text": (
        lambda path: path.write_bytes(gzip.compress(b"name,email\nAda,ada@example.com\n")),
        "not a clinic backup made by `manage.py backup`",
    ),
    "a dumpdata file": (
        lambda path: path.write_bytes(gzip.compress(b'[{"model": "auth.group", "fields": {}}]')),
        "not a clinic backup made by `manage.py backup`",
    ),
    "cut short in transfer": (truncate_bytes, "damaged|ends early"),
    "a wrong gzip checksum": (
        spoil_the_checksum,
        "is damaged: the gzip check of its contents failed \\(CRC check failed",
    ),
    "missing its last records": (lambda path: rewrite(path, drop_last_lines), "ends early"),
    "a newer format": (lambda path: rewrite(path, header_change(version=3)), "format version 3"),
    "a newer schema": (
        lambda path: rewrite(
            path, header_change(migrations=["consultations.9999_from_the_future"])
        ),
        "newer version of the application",
    ),
    "counts that do not match": (
        lambda path: rewrite(path, header_change(counts={"consultations.client": 41})),
        "does not hold the records its header lists",
    ),
    "an unknown kind of record": (
        lambda path: rewrite(path, future_model),
        "cannot take: Invalid model identifier",
    ),
    "a record linked to nothing": (
        lambda path: rewrite(path, record_change("treatments.treatmentsession", course=999999)),
        "do not fit together",
    ),
    "a value of the wrong type": (
        lambda path: rewrite(path, record_change("consultations.client", date_of_birth="soon")),
        "cannot take",
    ),
}


@pytest.mark.parametrize("damage", BROKEN.values(), ids=BROKEN.keys())
def test_a_damaged_or_foreign_file_is_refused_clearly_and_changes_nothing(backup_file, damage):
    spoil, message = damage
    spoil(backup_file)
    before = every_row()

    with pytest.raises(CommandError, match=message):
        restore(backup_file, "--replace")

    assert every_row() == before


def test_a_missing_file_is_refused_clearly(seeded, tmp_path):
    with pytest.raises(CommandError, match="There is no backup file at"):
        restore(tmp_path / "nowhere.json.gz")


def test_the_backup_is_one_private_json_document_listing_what_it_holds(seeded, tmp_path):
    path = tmp_path / "clinic.json.gz"
    out = io.StringIO()
    call_command("backup", output=str(path), stdout=out)

    with gzip.open(path, "rt", encoding="utf-8") as stream:
        document = json.load(stream)
    assert document["format"] == "clinic-tracker-backup"
    assert document["counts"]["consultations.client"] == 40
    assert len(document["objects"]) == sum(document["counts"].values())
    assert "auth.permission" not in document["counts"]
    assert "sessions.session" not in document["counts"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "consultations.client" in out.getvalue()
    assert "Backup written" in out.getvalue()


def test_the_default_backup_name_is_dated_under_backups(seeded, tmp_path, settings):
    settings.BASE_DIR = tmp_path
    call_command("backup", stdout=io.StringIO())
    (path,) = (tmp_path / "backups").iterdir()
    assert path.name.startswith("clinic-") and path.name.endswith(".json.gz")


def test_an_existing_backup_is_never_overwritten(backup_file):
    before = backup_file.read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=str(backup_file), stdout=io.StringIO())
    assert backup_file.read_bytes() == before


def test_sign_in_records_can_be_left_out(seeded, tmp_path):
    path = tmp_path / "clinic.json.gz"
    call_command("backup", output=str(path), without_sign_in_records=True, stdout=io.StringIO())
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        counts = json.load(stream)["counts"]
    assert not [name for name in counts if name.startswith("axes.")]
    assert "consultations.client" in counts


def test_the_backup_names_photo_files_it_could_not_find(seeded, tmp_path):
    """Photo files travel in the backup (see tests/treatments/test_photos.py); one the storage
    has lost is reported, and its record is still backed up."""
    session = TreatmentSession.objects.select_related("course").first()
    # The demo's photos went to the seed's storage, not this test's (rolled back after it).
    Photo.objects.all().delete()
    Photo.objects.create(
        client_id=session.course.client_id,
        session=session,
        area_id="cheeks",
        image="clients/1/lost.jpg",
        thumbnail="clients/1/thumbs/lost.jpg",
    )
    out, errors = io.StringIO(), io.StringIO()
    path = tmp_path / "clinic.json.gz"
    call_command("backup", output=str(path), stdout=out, stderr=errors)

    # The lost photo and thumbnail; and the demo's consent PDFs, written before this test's own
    # empty photo storage was set up (files of a signed consent travel as photos do).
    consent_files = SignedConsent.objects.exclude(pdf="").count()
    consent_files += SignedConsent.objects.exclude(signature="").count()
    assert (
        f"{2 + consent_files} photo files named in the records were not in the photo storage"
        in errors.getvalue()
    )
    assert "clients/1/lost.jpg" in errors.getvalue()
    assert "0 photo files" in out.getvalue()
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        document = json.load(stream)
    photos = [o for o in document["objects"] if o["model"] == "treatments.photo"]
    assert photos[0]["fields"]["image"] == "clients/1/lost.jpg"
    assert document["files"] == []


def test_a_backup_naming_content_types_removed_here_restores_without_them(seeded, tmp_path):
    """A database that kept the content type of a model removed since (its permissions given
    to a role, the admin's log pointing at it) is backed up; `remove_stale_contenttypes` then
    removes it here. The restore leaves those links out, says so, and restores the rest."""
    stale = ContentType.objects.create(app_label="treatments", model="historicalsessionarea")
    permission = Permission.objects.create(
        content_type=stale, codename="view_historicalsessionarea", name="Can view old rows"
    )
    Group.objects.get(name="Manager").permissions.add(permission)
    entry = LogEntry.objects.create(
        user=get_user_model().objects.get(username="manager"),
        content_type=stale,
        object_id="7",
        object_repr="Cheeks 1.50 mm",
        action_flag=CHANGE,
        change_message="Corrected the depth.",
    )
    path = tmp_path / "clinic.json.gz"
    call_command("backup", output=str(path), stdout=io.StringIO())
    call_command("remove_stale_contenttypes", "--no-input", stdout=io.StringIO())
    assert not ContentType.objects.filter(pk=stale.pk).exists()
    before = every_row()
    errors = io.StringIO()

    output = restore(path, "--replace", stderr=errors)

    assert "Restored" in output
    assert (
        "The backup names kinds of record this installation no longer has "
        "(treatments.historicalsessionarea): 2 permissions on them, or links to them from the "
        "admin's log, were left out." in errors.getvalue()
    )
    assert every_row() == before  # as remove_stale_contenttypes left it
    restored = LogEntry.objects.get(pk=entry.pk)
    assert restored.content_type is None and restored.change_message == "Corrected the depth."


def test_a_restore_updates_the_planner_statistics(backup_file):
    with CaptureQueriesContext(connection) as queries:
        output = restore(backup_file, "--replace")

    assert "planner statistics are updated (ANALYZE)" in output
    assert any(query["sql"] == "ANALYZE" for query in queries.captured_queries)


# The migrations the release before the moves and renames did not have.
MIGRATIONS_OF_THE_MOVES = {
    "catalogue.0001_initial",
    "consultations.0008_recorded_concern_from_catalogue",
    "consultations.0009_contact_attempts_moved_to_treatments",
    "treatments.0008_catalogue_moved_to_its_app",
    "treatments.0009_contact_attempts_from_consultations",
    "treatments.0010_plans_renamed_courses",
}


def old_natural_key(value, old_label):
    """A content type's or permission's natural key as the release before wrote it."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if len(value) == 2 and ".".join(value) in old_label:
            return old_label[".".join(value)].split(".")
        if len(value) == 3 and ".".join(value[1:]) in old_label:
            codename, app_label, model = value
            old_app_label, old_model = old_label[f"{app_label}.{model}"].split(".")
            action, _, of = codename.partition("_")
            if of == model:
                codename = f"{action}_{old_model}"
            return [codename, old_app_label, old_model]
    if isinstance(value, list):
        return [old_natural_key(item, old_label) for item in value]
    return value


def as_made_before_the_moves(lines):
    """The backup as the release before the catalogue app wrote it: concerns and products (and
    their history, content types and permissions) under `treatments`, recall contacts under
    `consultations`, courses named plans (treatments.treatmentplan, the sessions' `plan`,
    add_treatmentplan...), and none of the migrations of the moves applied."""
    old_label = {new: old for old, new in backups.RENAMED_MODELS.items()}
    header = json.loads(lines[0].removesuffix(",\n") + "}")
    header["counts"] = {old_label.get(name, name): n for name, n in header["counts"].items()}
    header["migrations"] = [
        name for name in header["migrations"] if name not in MIGRATIONS_OF_THE_MOVES
    ]
    body = []
    for line in lines[1:]:
        if line.startswith('{"model":'):
            text = line.removesuffix("\n")
            record = json.loads(text.removesuffix(","))
            renamed = backups.RENAMED_FIELDS.get(record["model"], {})
            old_field = {new: old for old, new in renamed.items()}
            record["fields"] = {
                old_field.get(name, name): old_natural_key(value, old_label)
                for name, value in record["fields"].items()
            }
            record["model"] = old_label.get(record["model"], record["model"])
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            line += ",\n" if text.endswith(",") else "\n"
        body.append(line)
    return [json.dumps(header)[:-1] + ",\n", *body]


def test_a_backup_made_before_models_moved_or_were_renamed_restores(backup_file):
    before_rows, before_ids = every_row(), identities()
    rewrite(
        backup_file, lambda lines: as_made_before_the_moves(as_made_before_the_area_chart(lines))
    )
    with gzip.open(backup_file, "rt") as stream:
        old = stream.read()
    assert '"model":"treatments.concern"' in old and '"model":"catalogue.' not in old
    assert '"view_contactattempt","consultations","contactattempt"' in old
    assert '"view_concern","treatments","concern"' in old
    assert '"add_treatmentplan","treatments","treatmentplan"' in old
    assert '"view_reports","treatments","treatmentplan"' in old
    records = json.loads(old)["objects"]
    labels = {record["model"] for record in records}
    assert {"treatments.treatmentplan", "treatments.historicaltreatmentplan"} <= labels
    assert not {label for label in labels if "course" in label}
    with_plan = {record["model"] for record in records if "plan" in record["fields"]}
    assert {"treatments.treatmentsession", "treatments.planconcern"} <= with_plan
    # (Appointments came after the rename: they always named their course so.)
    assert not [
        record
        for record in records
        if "course" in record["fields"] and "appointment" not in record["model"]
    ]

    output = restore(backup_file, "--replace")

    assert "Restored" in output
    assert every_row() == before_rows
    assert identities() == before_ids
    aesthetician = Group.objects.get(name="Aesthetician")
    assert aesthetician.permissions.filter(
        content_type__app_label="catalogue", codename="view_concern"
    ).exists()
    assert (
        Group.objects.get(name="Manager")
        .permissions.filter(content_type__app_label="treatments", codename="view_contactattempt")
        .exists()
    )
    assert aesthetician.permissions.filter(
        content_type__model="course", codename="add_course"
    ).exists()


def without_concern_counts(lines):
    """The backup as a release before courses counted sessions per concern wrote it."""
    changed = []
    for line in lines:
        if line.startswith('{"model":"treatments.') and "courseconcern" in line.split(",")[0]:
            text = line.removesuffix("\n")
            record = json.loads(text.removesuffix(","))
            del record["fields"]["planned_sessions"]
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            line += ",\n" if text.endswith(",") else "\n"
        changed.append(line)
    return changed


def test_a_backup_made_before_concerns_counted_their_sessions_restores(backup_file):
    before_rows = every_row()
    assert before_rows["treatments.courseconcern"]
    rewrite(backup_file, without_concern_counts)
    with gzip.open(backup_file, "rt") as stream:
        assert '"planned_sessions"' not in "".join(
            line for line in stream if "courseconcern" in line
        )

    output = restore(backup_file, "--replace")

    # Each concern was planned for every session of its course, as the demo's courses are.
    assert "Restored" in output
    assert every_row() == before_rows


def test_a_record_made_before_the_moves_and_renames_reads_as_today():
    """Recall contacts (none in the demo year) moved app, and their `plan` became `course`."""
    contact = {"model": "consultations.historicalcontactattempt", "pk": 9, "fields": {"plan": 7}}
    group = {
        "model": "auth.group",
        "pk": 1,
        "fields": {
            "name": "Aesthetician",
            "permissions": [
                ["add_treatmentplan", "treatments", "treatmentplan"],
                ["view_reports", "treatments", "treatmentplan"],
                ["view_planconcern", "treatments", "planconcern"],
                ["view_client", "consultations", "client"],
            ],
        },
    }

    assert backups.as_today(contact) == {
        "model": "treatments.historicalcontactattempt",
        "pk": 9,
        "fields": {"course": 7},
    }
    assert backups.as_today(group)["fields"]["permissions"] == [
        ["add_course", "treatments", "course"],
        ["view_reports", "treatments", "course"],
        ["view_courseconcern", "treatments", "courseconcern"],
        ["view_client", "consultations", "client"],
    ]


# What the release before the area chart did not have.
MIGRATIONS_OF_THE_AREA_CHART = {
    "catalogue.0005_body_area_chart",
    "catalogue.0006_body_areas_for_the_roles",
    "consultations.0011_areas_from_the_chart",
    "treatments.0014_areas_from_the_chart_and_session_reasons",
}
AREA_CHART_MODELS = ("catalogue.bodyarea", "catalogue.historicalbodyarea")


def as_made_before_the_area_chart(lines):
    """The backup as the release before the area chart wrote it: no body areas (records kept
    their areas' codes), none of the chart's migrations applied."""
    header = json.loads(lines[0].removesuffix(",\n") + "}")
    header["counts"] = {n: c for n, c in header["counts"].items() if n not in AREA_CHART_MODELS}
    header["migrations"] = [
        name for name in header["migrations"] if name not in MIGRATIONS_OF_THE_AREA_CHART
    ]
    body = [
        line
        for line in lines[1:]
        if not line.startswith(tuple(f'{{"model":"{name}"' for name in AREA_CHART_MODELS))
    ]
    return [json.dumps(header)[:-1] + ",\n", *body]


def test_a_backup_made_before_the_area_chart_restores_and_keeps_the_chart(backup_file):
    before_rows, before_ids = every_row(), identities()
    rewrite(backup_file, as_made_before_the_area_chart)
    with gzip.open(backup_file, "rt") as stream:
        assert '"model":"catalogue.bodyarea"' not in stream.read()

    output = restore(backup_file, "--replace")

    assert "Restored" in output
    rows = every_row()
    assert rows["catalogue.bodyarea"] == before_rows["catalogue.bodyarea"]
    assert rows == before_rows
    assert identities() == before_ids
