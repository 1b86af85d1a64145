"""Shared fixtures: staff users and small factories for the clinic's records.

The catalogue is loaded by migrations, so `concern("acne-scars")` returns a real catalogue row.
"""

import datetime
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection
from django.db.models import Max
from django.test import Client as DjangoClient
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from catalogue.models import Concern, Product, area_chart, forget_area_chart, forget_clinic_details
from clinic import roles
from clinic.second_factor import required_for
from consent.models import Kind, SignedConsent
from consent.services import current_version, sign_consent
from consultations.models import Client
from consultations.services import record_consultation
from stock.models import Lot
from stock.services import receive_lot
from treatments.models import Photo
from treatments.services import earliest_next_on, log_session, start_course

PASSWORD = "correct-horse-battery-staple"
SOONER_IN_TESTS = "Dated as the test needs it."
_serial = itertools.count(1)
_clock = None


def pytest_configure(config):
    """Run the suite at noon of today's date in the clinic's time zone, with the clock ticking.

    Tests compare dates with "today" (a session dated tomorrow is refused). A run that crossed
    midnight would see "today" change between a test's set-up and its assertions; starting at
    noon gives twelve hours of ticking before that can happen. Threads (the live server) and
    Django see the same clock; the browser's cookies use Max-Age, which does not depend on it.
    """
    global _clock
    zone = ZoneInfo(django_settings.TIME_ZONE)
    noon = datetime.datetime.combine(
        datetime.datetime.now(zone).date(), datetime.time(12), tzinfo=zone
    )
    _clock = time_machine.travel(noon, tick=True)
    _clock.start()


def pytest_unconfigure(config):
    if _clock is not None:
        _clock.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with what Django asks a database once (SQLite: can it do JSON?)
    already asked, so no test counts that query among its page's."""
    with django_db_blocker.unblock():
        assert connection.features.supports_json_field


@pytest.fixture(scope="session", autouse=True)
def _files_outside_the_checkout(tmp_path_factory):
    """Files saved by fixtures wider than a test (a module's seeded demo year signs consents,
    with PDFs) go to a temporary folder too, never to the checkout's private/photos."""
    storage = FileSystemStorage(location=tmp_path_factory.mktemp("module-files"), base_url=None)
    fields = [Photo._meta.get_field(name) for name in ("image", "thumbnail")]
    fields += [SignedConsent._meta.get_field(name) for name in ("signature", "pdf")]
    kept = [(field, field.storage) for field in fields]
    for field in fields:
        field.storage = storage
    yield
    for field, original in kept:
        field.storage = original


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory, monkeypatch):
    """Fast password hashing, plain static storage (tests don't run collectstatic), and photos
    in a fresh temporary folder for each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client speaks plain HTTP; production redirects it to HTTPS.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path_factory.mktemp("photos"), "base_url": None},
        },
    }
    # A model field resolves its storage once, at import: point the photo fields at this one.
    for field in ("image", "thumbnail"):
        monkeypatch.setattr(Photo._meta.get_field(field), "storage", storages["photos"])
    for field in ("signature", "pdf"):  # a signed consent's files live beside the photos
        monkeypatch.setattr(SignedConsent._meta.get_field(field), "storage", storages["photos"])


@pytest.fixture(autouse=True)
def _second_factor_on_force_login(monkeypatch):
    """`force_login` signs in as far as a real sign-in goes: a user who needs a second factor
    (managers, staff) gets an authenticator and a session that passed it (django_otp.login's
    mark). `force_login(user, verified=False)` stops after the password, to test that step."""
    original = DjangoClient.force_login

    def force_login(self, user, backend=None, *, verified=True):
        original(self, user, backend)
        if verified and required_for(user):
            verify_session(self, user)

    monkeypatch.setattr(DjangoClient, "force_login", force_login)


def verify_session(browser, user):
    """Mark `browser`'s session as past the second factor, with a confirmed authenticator."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Test authenticator", defaults={"confirmed": True}
    )
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _fresh_area_chart():
    """Each test reads the area chart and the clinic's details afresh: a test that changes them
    forgets the cached copy, but its rollback cannot, so none is carried to the next test."""
    forget_area_chart()
    forget_clinic_details()
    yield
    forget_area_chart()
    forget_clinic_details()


@pytest.fixture
def sessions_as_with_redis(settings):
    """Sessions read as production reads them with DJANGO_REDIS_URL: `cached_db`, from a cache
    (local memory here, which costs a page the same queries). Ask for it before `signed_in`."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessions-as-with-redis",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def email(username):
    return f"{username}@example.com"


@pytest.fixture
def make_user(db):
    """A user with a role (roles.AESTHETICIAN or roles.MANAGER), or none when role=None."""

    def make(username=None, *, role=roles.AESTHETICIAN, superuser=False, **extra):
        username = username or f"user{next(_serial)}"
        user_model = get_user_model()
        if superuser:
            return user_model.objects.create_superuser(
                username, f"{username}@example.com", PASSWORD
            )
        extra.setdefault("is_staff", role == roles.MANAGER)
        user = user_model.objects.create_user(
            username, f"{username}@example.com", PASSWORD, **extra
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def manager(make_user):
    return make_user("manager", role=roles.MANAGER, first_name="Maria", last_name="Manager")


@pytest.fixture
def practitioner(make_user):
    return make_user("aesthetician", first_name="Alex", last_name="Smith")


@pytest.fixture
def signed_in(practitioner):
    """A Django test client signed in as the practitioner (`client` is pytest-django's).

    The area chart is in the cache, as a running clinic has it (read once per
    CHART_CACHE_SECONDS, not once per page), so pages are measured without that read."""
    browser = DjangoClient()
    browser.force_login(practitioner)
    area_chart()
    return browser


@pytest.fixture
def manager_client(client, manager):
    """pytest-django's test client, signed in as the manager."""
    client.force_login(manager)
    return client


@pytest.fixture
def concern(db):
    def get(slug):
        return Concern.objects.get(slug=slug)

    return get


@pytest.fixture
def product(db):
    def get(name_start):
        return Product.objects.get(name__startswith=name_start)

    return get


@pytest.fixture
def make_client(db, practitioner):
    def make(**fields):
        n = next(_serial)
        values = {
            "first_name": f"Client{n}",
            "last_name": "Example",
            "date_of_birth": datetime.date(1985, 5, 17),
            "email": f"client{n}@example.com",
            "phone": f"07700 900{n:03d}",
            "skin_type": Client.SkinType.II,
        }
        values.update(fields)
        client = Client(**values)
        client.stamp(practitioner)
        client.full_clean()
        client.save()
        return client

    return make


@pytest.fixture
def sign(db, practitioner):
    """`client` signs the current version of the consent of `kind`, typing the full name,
    witnessed by the practitioner (unless it already has a valid signed one)."""

    def make(client, kind=Kind.TREATMENT, *, again=False, **extra):
        if not again:
            valid = SignedConsent.objects.valid(kind, signed_only=True).filter(client=client)
            if found := valid.first():
                return found
        values = {
            "version": current_version(kind),
            "signer_name": client.full_name,
            "typed_name": client.full_name,
        }
        values.update(extra)
        return sign_consent(client=client, witness=practitioner, **values)

    return make


@pytest.fixture
def make_consultation(db, make_client, practitioner, concern, sign):
    """A consultation recorded 120 days ago. Its client has signed the treatment and numbing
    consents (and the photographs consent with `photo_consent=True`), unless `signed=False`."""

    def make(client=None, *, concerns=(("acne-scars", "cheeks"),), signed=True, **details):
        values = {
            "consent_given": True,
            "consent_by": "the client",
            "held_on": timezone.localdate() - datetime.timedelta(days=120),
        }
        values.update(details)
        consultation = record_consultation(
            client=client or make_client(),
            practitioner=practitioner,
            by=practitioner,
            concerns=[{"concern": concern(slug), "area": area} for slug, area in concerns],
            **values,
        )
        if signed:
            sign(consultation.client, Kind.TREATMENT)
            sign(consultation.client, Kind.NUMBING)
            if values.get("photo_consent"):
                sign(consultation.client, Kind.PHOTOGRAPHS)
        return consultation

    return make


@pytest.fixture
def make_course(db, make_consultation, practitioner):
    def make(consultation=None, *, planned_sessions=3, interval_weeks=4, **extra):
        consultation = consultation or make_consultation()
        values = {
            "start_date": consultation.held_on,
            "cautions_acknowledged": True,
        }
        values.update(extra)
        return start_course(
            consultation=consultation,
            recorded_concerns=consultation.concerns.all(),
            planned_sessions=planned_sessions,
            interval_weeks=interval_weeks,
            practitioner=practitioner,
            by=practitioner,
            **values,
        )

    return make


@pytest.fixture
def make_lot(db, manager):
    """A lot of `product` in stock (in use), expiring in a year unless `expiry_date` says."""

    def make(product, lot_number=None, *, expiry_date=None, status=Lot.Status.IN_USE, **extra):
        lot = Lot.objects.for_product_number(product, lot_number or "").first()
        if lot is None:
            lot = receive_lot(
                product=product,
                lot_number=lot_number or f"LOT-{next(_serial)}",
                expiry_date=expiry_date or timezone.localdate() + datetime.timedelta(days=365),
                by=manager,
                **extra,
            )
        if status != lot.status:
            Lot.objects.filter(pk=lot.pk).update(status=status, status_reason="As the test says.")
            lot.refresh_from_db()
        return lot

    return make


@pytest.fixture
def log(db, practitioner, make_lot):
    """Log a session on `course` on `performed_on`, at 1.5 mm (or the area's maximum, if lower)
    on the area of its first concern, the pre-session check asked (nothing changed). A session
    dated sooner than the course's interval allows says so (`interval_reason`) unless the test
    gives its own: tests date sessions as they need."""

    def make(course, performed_on=None, **extra):
        area = course.course_concerns.first().recorded_concern.area_id
        performed_on = performed_on or timezone.localdate()
        values = {
            "areas": [(area, min(Decimal("1.50"), area_chart()[area].max_mm))],
            "check_asked": True,
        }
        last = course.sessions.valid().aggregate(last=Max("performed_on"))["last"]
        earliest = earliest_next_on(course, last)
        if earliest and performed_on < earliest:
            values["interval_reason"] = SOONER_IN_TESTS
        values.update(extra)
        # Lots given by number are in stock, as the clinic received them.
        values["products"] = [
            (product, make_lot(product, lot) if isinstance(lot, str) and lot.strip() else lot)
            for product, lot in values.get("products", ())
        ]
        return log_session(
            course=course,
            practitioner=practitioner,
            by=practitioner,
            performed_on=performed_on,
            **values,
        )

    return make


# Transactional tests (transaction=True) flush every table when they end. Django then makes the
# content types and permissions again, but not the rows the data migrations load: the roles, the
# catalogue and the other reference data below. They are kept once, as the migrations left them
# (permissions by natural key, so new permission ids do not matter), and loaded again at the start
# of each transactional test that finds them gone. (Django's serialized_rollback restores every
# table instead, and clashes with the content types a previous flush made again.)
REFERENCE_MODELS = [
    "auth.Group",
    "consent.ConsentDocument",
    "consent.ConsentVersion",
    "catalogue.BodyArea",
    "catalogue.Concern",
    "catalogue.Product",
    "consultations.WashoutRule",
]


@pytest.fixture(scope="session")
def reference_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        rows = [
            row
            for label in REFERENCE_MODELS
            for row in apps.get_model(label).objects.order_by("pk")
        ]
        return serializers.serialize("json", rows, use_natural_foreign_keys=True)


@pytest.fixture(autouse=True)
def _reference_data_after_a_flush(request):
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    data = request.getfixturevalue("reference_data")  # read before any flush
    request.getfixturevalue("transactional_db")
    if Group.objects.exists():
        return
    for row in serializers.deserialize("json", data):
        row.save()
    forget_area_chart()
