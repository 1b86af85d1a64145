"""Migrations that move data: what was recorded before comes through."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from stock.models import Lot

BEFORE = [("treatments", "0006_due_index_with_key")]
AFTER = [("treatments", "0007_session_rows_in_session_history")]


@pytest.fixture
def migrator():
    """Migrate to a state, give its models; back to the latest migrations afterwards."""
    executor = MigrationExecutor(connection)

    def migrate(targets):
        """`targets`: the migrations to stand at (None: the latest)."""
        executor.loader.build_graph()
        targets = targets or executor.loader.graph.leaf_nodes()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield migrate
    migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_session_rows_audited_row_by_row_move_into_the_sessions_audit_rows(migrator):
    old = migrator(BEFORE)
    Version = old.get_model("treatments", "HistoricalTreatmentSession")
    AreaVersion = old.get_model("treatments", "HistoricalSessionArea")
    ProductVersion = old.get_model("treatments", "HistoricalSessionProduct")
    logged = timezone.now() - datetime.timedelta(days=2)
    corrected = logged + datetime.timedelta(hours=1)
    later = logged + datetime.timedelta(days=1)
    session = {
        "id": 41,
        "created_at": logged,
        "updated_at": logged,
        "number": 1,
        "performed_on": logged.date(),
        "history_type": "+",
    }
    first = Version.objects.create(**session, version=1, history_date=logged)
    second = Version.objects.create(**session, version=2, history_date=corrected)
    third = Version.objects.create(**session, version=3, history_date=later)
    just_after = datetime.timedelta(milliseconds=3)

    def area(row_id, when, kind, depth):
        AreaVersion.objects.create(
            id=row_id,
            session_id=41,
            area="cheeks",
            depth_mm=Decimal(depth),
            history_date=when + just_after,
            history_type=kind,
        )

    area(1, logged, "+", "1.5")
    area(1, corrected, "-", "1.5")  # the correction replaced the row
    area(2, corrected, "+", "1.75")
    ProductVersion.objects.create(
        id=7,
        session_id=41,
        product_id=3,
        lot_number="HA-1",
        history_date=logged + just_after,
        history_type="+",
    )

    new = migrator(AFTER)

    kept = dict(
        new.get_model("treatments", "HistoricalTreatmentSession").objects.values_list(
            "history_id", "rows"
        )
    )
    lot = [{"product": 3, "lot_number": "HA-1"}]
    assert kept[first.history_id] == {
        "areas": [{"area": "cheeks", "depth_mm": "1.50"}],
        "products": lot,
        "progress": [],
    }
    assert kept[second.history_id] == {
        "areas": [{"area": "cheeks", "depth_mm": "1.75"}],
        "products": lot,
        "progress": [],
    }
    assert kept[third.history_id] == kept[second.history_id]  # voided, say: rows unchanged


def test_a_session_never_audited_row_by_row_keeps_its_rows_in_every_version():
    """Bulk-generated sessions had no per-row audit: their current rows stand for every version."""
    migration = importlib.import_module(
        "treatments.migrations.0007_session_rows_in_session_history"
    )
    now = timezone.now()
    versions = [{"history_date": now}, {"history_date": now + datetime.timedelta(hours=1)}]
    current = [{"area": "neck", "depth_mm": Decimal("1.0")}]

    kept = migration._versions_with_rows(versions, [], current, ("area", "depth_mm"))

    assert kept == [[{"area": "neck", "depth_mm": "1.00"}]] * 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_course_started_before_concern_counts_planned_every_session_for_each(
    migrator, make_course
):
    course = make_course(planned_sessions=8, departure_reason="Started before the rules.")
    assert course.course_concerns.get().planned_sessions == 6  # acne scars' maximum, today

    migrator([("treatments", "0011_progress_rating_not_assessed")])
    new = migrator([("treatments", "0012_course_device_departure_reason_concern_counts")])

    for name in ("CourseConcern", "HistoricalCourseConcern"):
        counts = new.get_model("treatments", name).objects.filter(course_id=course.pk)
        assert list(counts.values_list("planned_sessions", flat=True)) == [8], name


BEFORE_THE_CHART = [
    ("catalogue", "0002_first_versions_of_the_shipped_catalogue"),
    ("consultations", "0009_contact_attempts_moved_to_treatments"),
    ("treatments", "0010_plans_renamed_courses"),
]


@pytest.mark.django_db(transaction=True)
def test_areas_recorded_as_codes_become_keys_to_the_area_chart(migrator):
    old = migrator(BEFORE_THE_CHART)
    Client = old.get_model("consultations", "Client")
    Consultation = old.get_model("consultations", "Consultation")
    Version = old.get_model("consultations", "HistoricalConsultation")
    RecordedConcern = old.get_model("consultations", "RecordedConcern")
    Concern = old.get_model("catalogue", "Concern")
    User = old.get_model("auth", "User")
    someone = User.objects.create(username="old-release")
    person = Client.objects.create(
        first_name="Ada", last_name="Old", skin_type="II", date_of_birth=datetime.date(1980, 1, 1)
    )
    nowhere = Consultation.objects.create(client=person, practitioner=someone, affected_area="")
    cheeks = Consultation.objects.create(
        client=person, practitioner=someone, affected_area="cheeks", infection_in_area=True
    )
    Version.objects.create(
        id=nowhere.pk,
        client_id=person.pk,
        practitioner_id=someone.pk,
        affected_area="",
        history_date=timezone.now(),
        history_type="+",
    )
    eyes = RecordedConcern.objects.create(
        consultation=nowhere,
        concern=Concern.objects.get(slug="fine-lines-wrinkles"),
        area="periorbital",
    )

    new = migrator(None)

    Consultation = new.get_model("consultations", "Consultation")
    assert Consultation.objects.get(pk=nowhere.pk).affected_area_id is None
    assert Consultation.objects.get(pk=cheeks.pk).affected_area.name == "Cheeks and chin"
    assert (
        new.get_model("consultations", "HistoricalConsultation")
        .objects.get(id=nowhere.pk)
        .affected_area_id
        is None
    )
    recorded = new.get_model("consultations", "RecordedConcern").objects.get(pk=eyes.pk)
    assert (recorded.area_id, recorded.area.name) == ("periorbital", "Around the eyes")


BEFORE_STOCK = [("treatments", "0017_lots_adverse_events_follow_up_calls")]


@pytest.mark.django_db(transaction=True)
def test_lot_numbers_typed_before_stock_become_lots_recorded_before_stock(
    migrator, make_course, log, product, make_lot
):
    serum, peptide = product("Hyaluronic"), product("Peptide")
    course = make_course(planned_sessions=6)
    first = log(course, timezone.localdate() - datetime.timedelta(weeks=8))
    second = log(course, timezone.localdate() - datetime.timedelta(weeks=4))
    in_stock = make_lot(peptide, "PEP-1")  # received with its expiry before the migration ran

    old = migrator(BEFORE_STOCK)
    Row = old.get_model("treatments", "SessionProduct")
    typed = [
        Row.objects.create(session_id=first.pk, product_id=serum.pk, lot_number=" HA-7 "),
        Row.objects.create(session_id=second.pk, product_id=serum.pk, lot_number="ha-7"),
        Row.objects.create(session_id=second.pk, product_id=peptide.pk, lot_number="pep-1"),
        Row.objects.create(session_id=first.pk, product_id=peptide.pk, lot_number="HA-7"),
    ]
    assert all(row.lot_id is None for row in typed)

    new = migrator(None)

    rows = new.get_model("treatments", "SessionProduct").objects.select_related("lot")
    lots = {row.pk: row.lot for row in rows.filter(pk__in=[row.pk for row in typed])}
    ha_7 = lots[typed[0].pk]
    # One lot per product and number, whatever the case, spelt as first typed (trimmed).
    assert lots[typed[1].pk] == ha_7
    assert (ha_7.product_id, ha_7.lot_number) == (serum.pk, "HA-7")
    # Recorded before stock: no expiry, never offered as in date.
    assert (ha_7.recorded_before_stock, ha_7.expiry_date, ha_7.received_on) == (True, None, None)
    assert ha_7.status == "in_use"
    # A lot already in stock is the one its typed number names.
    assert lots[typed[2].pk].pk == in_stock.pk
    assert not lots[typed[2].pk].recorded_before_stock
    # The same number on another product is another product's lot.
    assert lots[typed[3].pk].product_id == peptide.pk and lots[typed[3].pk] != ha_7
    # Each row keeps the text as typed, for the session's history.
    assert rows.get(pk=typed[0].pk).lot_number == " HA-7 "
    assert not rows.filter(lot__isnull=True).exists()
    assert not Lot.objects.usable().filter(pk=ha_7.pk).exists()
    assert "recorded before the clinic kept stock" in Lot.objects.get(pk=ha_7.pk).refusal()
