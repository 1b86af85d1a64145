import datetime
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.test import RequestFactory, override_settings
from django.utils import timezone

from catalogue.models import Product, gtin_14
from clinic import roles
from consent.models import Kind, SignedConsent
from consultations.models import Client, Consultation
from devtools.demo import bulk
from devtools.demo import year as seed_demo
from devtools.demo.photos import PHOTO_CLIENTS
from stock.models import Lot
from treatments.models import (
    AdverseEvent,
    ContactAttempt,
    Course,
    Photo,
    SessionArea,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
)

pytestmark = pytest.mark.django_db

Status = Course.Status


def sign_in(**credentials):
    """Authenticate as the sign-in page does (django-axes needs the request)."""
    return authenticate(RequestFactory().post("/accounts/login/"), **credentials)


# Hashing three passwords with the production hasher takes longer than the rest of the seed.
def fast_hashing():
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture(autouse=True)
def _fast_hashing():
    with fast_hashing():
        yield


SEEDED_PHOTOS = {}  # the storage the class's seed wrote its photos to


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed once for the class (each test's own changes are undone after it), then roll back.
    The demo's photos go to a temporary folder (`seeded_photos`), never the real one."""
    folder = tmp_path_factory.mktemp("demo-photos")
    storage = SEEDED_PHOTOS["storage"] = FileSystemStorage(location=folder)
    fields = [Photo._meta.get_field(name) for name in ("image", "thumbnail")]
    kept = [field.storage for field in fields]
    for field in fields:
        field.storage = storage
    try:
        with django_db_blocker.unblock(), fast_hashing(), transaction.atomic():
            output = seed()
            yield output
            transaction.set_rollback(True)
    finally:
        for field, original in zip(fields, kept, strict=True):
            field.storage = original


@pytest.fixture
def seeded_photos(seeded):
    return SEEDED_PHOTOS["storage"]


@pytest.mark.slow
@pytest.mark.usefixtures("seeded")
class TestTheDemoYear:
    def test_the_demo_logins_work_and_only_the_manager_is_staff(self):
        manager = sign_in(username=seed_demo.MANAGER_USERNAME, password=seed_demo.MANAGER_PASSWORD)
        assert manager is not None
        assert manager.is_staff and not manager.is_superuser
        assert list(manager.groups.values_list("name", flat=True)) == [roles.MANAGER]
        for username in seed_demo.AESTHETICIAN_USERNAMES:
            user = sign_in(username=username, password=seed_demo.AESTHETICIAN_PASSWORD)
            assert user is not None
            assert not user.is_staff and not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [roles.AESTHETICIAN]
            assert user.first_name and user.last_name
        assert get_user_model().objects.count() == 3

    def test_the_demo_passwords_pass_the_password_validators(self):
        for login in seed_demo.DEMO_LOGINS:
            assert len(login.password) >= 12
            user = get_user_model().objects.get(username=login.username)
            validate_password(login.password, user)

    def test_it_prints_a_summary_and_the_logins(self, seeded):
        assert "Demo data loaded." in seeded
        assert "clients        40" in seeded
        for login in seed_demo.DEMO_LOGINS:
            assert login.username in seeded and login.password in seeded

    def test_it_creates_a_year_of_clients_and_consultations(self):
        today = timezone.localdate()
        assert 35 <= Client.objects.count() <= 45
        assert Client.objects.filter(archived=True).exists()
        skin_types = set(Client.objects.values_list("skin_type", flat=True))
        assert skin_types == set(Client.SkinType.values)
        assert Consultation.objects.count() >= Client.objects.count()
        held = Consultation.objects.aggregate(first=Min("held_on"), last=Max("held_on"))
        assert today - datetime.timedelta(days=366) <= held["first"]
        assert held["last"] <= today
        counts = Consultation.objects.annotate(n=Count("concerns")).values_list("n", flat=True)
        assert all(1 <= n <= 3 for n in counts)
        outcomes = set(Consultation.objects.values_list("outcome", flat=True))
        assert outcomes == set(Consultation.Outcome.values)

    def test_a_not_suitable_consultation_has_no_course_or_an_override_reason(self):
        not_suitable = Consultation.objects.filter(outcome=Consultation.Outcome.NOT_SUITABLE)
        assert not_suitable.filter(courses__isnull=True).exists()
        for course in Course.objects.filter(consultation__in=not_suitable):
            assert course.override_reason

    def test_courses_exist_in_every_status_with_some_overdue_and_some_due_soon(self):
        today = timezone.localdate()
        statuses = set(Course.objects.values_list("status", flat=True))
        assert statuses == set(Status.values)
        assert Course.objects.overdue(today).exists()
        assert Course.objects.active().filter(next_due_on=today).exists()
        soon = Course.objects.active().filter(
            next_due_on__gt=today, next_due_on__lte=today + datetime.timedelta(days=10)
        )
        assert soon.exists()
        assert Course.objects.exclude(planned_sessions=F("suggested_sessions")).exists()

    def test_no_session_is_in_the_future(self):
        today = timezone.localdate()
        assert TreatmentSession.objects.exists()
        assert not TreatmentSession.objects.filter(performed_on__gt=today).exists()
        assert not Course.objects.filter(start_date__gt=today).exists()
        assert not Course.objects.filter(ended_on__gt=today).exists()

    def test_every_course_counts_its_sessions_and_ends_properly(self):
        for course in Course.objects.annotate(n=Count("sessions")):
            assert course.sessions_logged == course.n
            numbers = sorted(course.sessions.values_list("number", flat=True))
            assert numbers == list(range(1, course.n + 1))
            if course.status == Status.COMPLETED:
                assert course.sessions_logged == course.planned_sessions or course.end_reason
            elif course.status == Status.STOPPED:
                assert course.end_reason
            else:
                last = course.sessions.aggregate(last=Max("performed_on"))["last"]
                assert course.next_due_on == last + datetime.timedelta(weeks=course.interval_weeks)

    def test_depths_are_within_the_device_range_and_the_catalogue_guidance(self):
        depths = SessionArea.objects.values_list("depth_mm", flat=True)
        assert all(Decimal("0.25") <= depth <= Decimal("3.00") for depth in depths)
        for row in SessionArea.objects.select_related("session__course"):
            for link in row.session.course.course_concerns.select_related(
                "recorded_concern__concern"
            ):
                recorded = link.recorded_concern
                if recorded.area_id == row.area_id and recorded.concern.depth_min_mm is not None:
                    assert recorded.concern.depth_min_mm <= row.depth_mm
                    assert row.depth_mm <= recorded.concern.depth_max_mm

    def test_product_lots_are_shared_between_clients(self):
        shared = (
            SessionProduct.objects.values("product", "lot_number")
            .annotate(clients=Count("session__course__client", distinct=True))
            .filter(clients__gte=3)
        )
        assert shared.count() >= 3
        assert TreatmentSession.objects.filter(numbing__isnull=False).exists()

    def test_the_stock_has_gtins_lots_with_expiries_a_recalled_lot_and_adverse_events(self):
        today = timezone.localdate()
        products = Product.objects.exclude(gtin=None)
        assert products.count() >= 5
        assert products.filter(kind=Product.Kind.NEEDLES).exists()
        for product in products:
            assert product.gtin == gtin_14(product.gtin)  # valid, check digit and all
        # Every session names a lot from stock, with its expiry, in date on the session's day.
        assert not SessionProduct.objects.filter(lot__expiry_date=None).exists()
        assert not SessionProduct.objects.filter(
            lot__expiry_date__lt=F("session__performed_on")
        ).exists()
        assert Lot.objects.expiring(today=today).exists()  # some to take off the shelf soon
        assert Lot.objects.usable(today).filter(uses=None).exists()  # received, not opened yet
        [recalled] = Lot.objects.filter(status=Lot.Status.RECALLED)
        assert recalled.status_reason and recalled.uses.count() >= 3
        assert ContactAttempt.objects.filter(lot=recalled, reason="lot_recall").count() == 2
        events = AdverseEvent.objects.select_related("session")
        assert 3 <= events.count() <= 6
        assert events.filter(session__products_used__lot=recalled).count() == 2
        for event in events:
            assert event.session.performed_on <= event.onset_on <= today
        stopped = Course.objects.filter(stopped_for_adverse_event=True)
        assert stopped.count() == 1
        assert stopped.get().status == Status.STOPPED
        assert events.filter(session__course=stopped.get()).exists()

    def test_a_few_clients_have_before_and_after_photos_in_the_photo_storage(self, seeded_photos):
        photos = list(Photo.objects.select_related("session", "consultation"))
        by_client = {}
        for photo in photos:
            by_client.setdefault(photo.client_id, []).append(photo)
        assert len(by_client) == PHOTO_CLIENTS
        for series in by_client.values():
            assert sum(photo.consultation_id is not None for photo in series) == 1  # before
            assert sum(photo.session_id is not None for photo in series) >= 3  # after
            assert len({(photo.area_id, photo.angle) for photo in series}) == 1  # comparable
        for photo in photos:
            assert seeded_photos.exists(photo.image.name)
            assert seeded_photos.exists(photo.thumbnail.name)
            assert SignedConsent.objects.valid(Kind.PHOTOGRAPHS, signed_only=True).filter(
                client=photo.client_id
            )

    def test_running_it_again_changes_nothing(self):
        before = row_counts()
        last_change = Course.objects.aggregate(last=Max("updated_at"))["last"]
        output = seed()
        assert "already loaded" in output
        assert row_counts() == before
        assert Course.objects.aggregate(last=Max("updated_at"))["last"] == last_change

    def test_existing_passwords_are_kept_unless_a_reset_is_asked_for(self):
        alex = get_user_model().objects.get(username="alex")
        alex.set_password("alex-changed-it-1")
        alex.save()
        seed()
        assert sign_in(username="alex", password="alex-changed-it-1")
        output = seed("--reset-passwords")
        assert "Passwords reset" in output
        assert sign_in(username="alex", password=seed_demo.AESTHETICIAN_PASSWORD)


@pytest.mark.slow
def test_the_demo_is_the_same_on_every_run():
    def snapshot():
        return list(
            TreatmentSession.objects.order_by(
                "performed_on", "course__client__last_name"
            ).values_list(
                "course__client__first_name",
                "course__client__last_name",
                "performed_on",
                "device",
                "pain_score",
                "areas__depth_mm",
            )
        )

    with transaction.atomic():
        seed()
        first = snapshot()
        transaction.set_rollback(True)
    seed()
    assert snapshot() == first


@pytest.mark.slow
def test_existing_staff_accounts_are_used_as_they_are(make_user):
    manager = make_user("manager", role=roles.MANAGER)
    output = seed()
    manager.refresh_from_db()
    assert manager.check_password("correct-horse-battery-staple")
    assert "Demo logins created: alex, sam." in output
    assert Course.objects.exists()


def test_a_failure_part_way_leaves_nothing_behind(monkeypatch):
    calls = {"n": 0}
    real_log_session = seed_demo.log_session

    def failing_log_session(**kwargs):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("disk full")
        return real_log_session(**kwargs)

    monkeypatch.setattr(seed_demo, "log_session", failing_log_session)
    with pytest.raises(RuntimeError):
        seed()
    assert not get_user_model().objects.exists()
    assert not Client.objects.exists()
    assert not TreatmentSession.objects.exists()


class TestBulk:
    """`seed_demo --clients N --sessions M`: bulk data for benchmarks, same rules, exact sizes."""

    def run(self, *args):
        out = io.StringIO()
        call_command("seed_demo", *args, stdout=out)
        return out.getvalue()

    def test_writes_exactly_the_asked_clients_and_sessions_with_their_audit_rows(self):
        output = self.run("--clients", "30", "--sessions", "200")
        assert Client.objects.count() == 30
        assert TreatmentSession.objects.count() == 200
        assert "sessions 200/200 (100.0%)" in output
        for model in (Client, Consultation, Course, TreatmentSession):
            assert model.history.filter(history_type="+").count() == model.objects.count()
        assert SessionArea.objects.count() == 200
        assert SessionProgress.objects.count() == 200
        # Each session's audit row keeps its rows as a session saved one by one would.
        kept = dict(TreatmentSession.history.values_list("id", "rows"))
        assert {s.pk: s.audited_rows() for s in TreatmentSession.objects.all()} == kept
        assert any(rows["products"] for rows in kept.values())

    def test_bulk_rows_obey_the_rules_and_courses_know_their_progress(self):
        self.run("--clients", "20", "--sessions", "150")
        for session in TreatmentSession.objects.all():
            session.full_clean()
        for area in SessionArea.objects.all():
            area.full_clean()
        for course in Course.objects.all():
            course.full_clean()
            stored = (course.sessions_logged, course.last_session_on, course.next_due_on)
            course.refresh_progress()
            assert stored == (course.sessions_logged, course.last_session_on, course.next_due_on)
            if course.status == Course.Status.COMPLETED:
                assert course.sessions_logged == course.planned_sessions
        assert Course.objects.active().exists()
        assert Course.objects.overdue().exists()
        assert max(s.performed_on for s in TreatmentSession.objects.all()) <= timezone.localdate()

    def test_new_records_after_a_bulk_load_get_fresh_ids(self, make_client):
        self.run("--clients", "5", "--sessions", "10")
        loaded = set(Client.objects.values_list("pk", flat=True))
        assert make_client().pk not in loaded

    def test_running_twice_changes_nothing(self):
        self.run("--clients", "5", "--sessions", "20")
        output = self.run("--clients", "5", "--sessions", "20")
        assert "already loaded" in output
        assert (Client.objects.count(), TreatmentSession.objects.count()) == (5, 20)

    def test_a_run_stopped_part_way_leaves_whole_chunks_a_new_client_can_follow(
        self, monkeypatch, make_client, make_course, log
    ):
        monkeypatch.setattr(bulk, "CLIENTS_PER_CHUNK", 4)
        with monkeypatch.context() as patch, pytest.raises(Stopped):
            stop_in_chunk(patch, 2)
            self.run("--clients", "10", "--sessions", "60")

        assert Client.objects.count() == 4
        assert TreatmentSession.objects.count() == 24  # 6 each for the first chunk's 4 clients
        for model in (Client, Consultation, Course, TreatmentSession):
            assert model.history.filter(history_type="+").count() == model.objects.count()
        loaded = set(Client.objects.values_list("pk", flat=True))
        logged = set(TreatmentSession.objects.values_list("pk", flat=True))
        # PostgreSQL: the sequences were set past the chunk's ids before it committed.
        assert make_client().pk not in loaded
        assert log(make_course()).pk not in logged

    def test_running_again_after_a_stop_writes_what_one_run_would_have(self, monkeypatch):
        monkeypatch.setattr(bulk, "CLIENTS_PER_CHUNK", 4)
        with transaction.atomic():
            self.run("--clients", "10", "--sessions", "60")
            one_run = bulk_rows()
            transaction.set_rollback(True)
        with monkeypatch.context() as patch, pytest.raises(Stopped):
            stop_in_chunk(patch, 3)
            self.run("--clients", "10", "--sessions", "60")

        output = self.run("--clients", "10", "--sessions", "60")

        assert "8 of the 10 clients and 48 sessions are already here" in output
        assert (Client.objects.count(), TreatmentSession.objects.count()) == (10, 60)
        assert bulk_rows() == one_run
        assert "already loaded" in self.run("--clients", "10", "--sessions", "60")

    def test_bulk_data_of_other_sizes_is_refused_clearly(self, monkeypatch):
        monkeypatch.setattr(bulk, "CLIENTS_PER_CHUNK", 4)
        with monkeypatch.context() as patch, pytest.raises(Stopped):
            stop_in_chunk(patch, 2)
            self.run("--clients", "10", "--sessions", "60")

        with pytest.raises(CommandError) as refusal:
            self.run("--clients", "12", "--sessions", "60")

        assert str(refusal.value) == (
            "This database holds bulk data of another size (4 clients with 24 sessions where a "
            "run of 12 clients and 60 sessions would write). Run again with the sizes it was "
            "written with to finish it, or use an empty database. Nothing was added."
        )
        assert Client.objects.count() == 4

    @pytest.mark.parametrize("args", [("--clients", "5"), ("--clients", "0", "--sessions", "5")])
    def test_bad_sizes_get_a_clear_message(self, args):
        with pytest.raises(CommandError):
            self.run(*args)
        assert not Client.objects.exists()


class Stopped(Exception):
    """A bulk run killed part way: its open transaction never commits."""


def stop_in_chunk(monkeypatch, number):
    """Stop the bulk run in its chunk `number` (from 1), after its clients, consultations and
    courses were written and before its sessions are."""
    real_insert = bulk.Loader.insert
    chunks = []

    def insert(self, model, rows, **options):
        if model is Client:
            chunks.append(rows)
        if model is TreatmentSession and len(chunks) == number:
            raise Stopped
        return real_insert(self, model, rows, **options)

    monkeypatch.setattr(bulk.Loader, "insert", insert)


def bulk_rows():
    """The bulk sessions as a reader sees them (not their ids, which differ between runs)."""
    return sorted(
        TreatmentSession.objects.values_list(
            "course__client__email",
            "course__client__first_name",
            "course__client__last_name",
            "course__course_concerns__recorded_concern__concern__slug",
            "course__status",
            "number",
            "performed_on",
            "practitioner__username",
            "pain_score",
            "areas__depth_mm",
            "products_used__lot_number",
        )
    )
