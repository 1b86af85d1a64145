"""Hostile input: random and malicious values posted to every form never cause a 500, and a
refused form saves nothing.

Each form is read from its page the way a browser sees it (every input, select and textarea,
formset management fields included), filled in so that it would be accepted, and then
hypothesis changes, drops and adds fields: random unicode, NUL bytes, very long text, SQL,
HTML and template payloads, negative, huge, NaN and infinite numbers, impossible dates, several
values for one field, ids of records that belong to another client, and formset counts that
lie. Every example runs in a transaction that is rolled back, so examples do not see each
other's writes.

HOSTILE_EXAMPLES=200 pytest tests/test_hostile.py explores further than the default.
"""

import datetime
import os
import re
import traceback
from contextlib import contextmanager
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client as Browser
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import Concern, Product
from clinic import roles
from consent.models import SignedConsent
from consent.services import current_version, sign_consent
from consultations.models import Client, Consultation, RecordedConcern
from consultations.services import record_consultation
from stock.models import Lot
from stock.services import receive_lot
from treatments.aftercare import record_adverse_event
from treatments.models import Course, TreatmentSession
from treatments.services import log_session, start_course

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "8"))
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis folder in the project
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a browser would never send, and a few an attacker would.
PAYLOADS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "1\x00",
    "' OR '1'='1",
    "1; DROP TABLE consultations_client; --",
    "1) OR (1=1",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request.user.password }}",
    "{% debug %}",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "\u202egnp.exe",
    "\ufeff",
    "💉🧴",
    "Zoë Ünïcødé",
    "\r\n\r\nSet-Cookie: x=y",
    "NaN",
    "-nan",
    "sNaN",
    "inf",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "-1",
    "-0",
    "0",
    "0x10",
    "1_000",
    "٣",
    "１２",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999999999999",
    "1.5",
    "0.245",
    "3.005",
    "2.9999999999999999999",
    "1,5",
    "2024-02-30",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "0001-01-01",
    "31/12/2024",
    "2024-13-01",
    "yesterday",
    "2024-01-01T25:61:00",
    "true",
    "on",
    "None",
    "null",
    "[]",
    "{}",
    "x" * 10_000,
    "é" * 70_000,
]
# Formset counts. Large ones make the server build up to ~1,000 forms (seconds each post): they
# are pinned once by test_a_forged_form_count_builds_no_more_forms_than_the_page_allows.
COUNTS = ["", "-1", "0", "1", "2", "3", "13", "21", "1e3", "2.5", " 2", "abc", "٣", "\x00"]
# Names a form does not have, that a model or a view might listen to (mass assignment).
EXTRA_NAMES = [
    "id",
    "pk",
    "client",
    "course",
    "practitioner",
    "created_by",
    "updated_by",
    "version",
    "number",
    "outcome",
    "status",
    "sessions_logged",
    "voided_at",
    "archived",
    "is_superuser",
    "_save",
    "_continue",
    "_addanother",
    "_saveasnew",
    "__prefix__",
]

texts = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=30),
    st.text(max_size=8).map(lambda text: f"{text}\x00{text}"),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.binary(max_size=12).map(lambda raw: raw.decode("latin-1")),
)
values = st.one_of(texts.map(lambda text: [text]), st.lists(texts, max_size=3))


# Reading a form the way a browser submits it


class FormParser(HTMLParser):
    """The forms of a page: action, method, and what each field would submit."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.form = None
        self.select = None
        self.option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "data": {},
                "choices": {},
                "autocomplete": set(),
                "typed": set(),  # fields a user types free text into
            }
            self.forms.append(self.form)
        if self.form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "reset", "image", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                value = attrs.get("value", "on")
                self.form["choices"].setdefault(name, []).append(value)
                self.form["data"].setdefault(name, [])
                if "checked" in attrs:
                    self.form["data"][name].append(value)
            else:
                self.form["data"].setdefault(name, []).append(attrs.get("value") or "")
                classes = attrs.get("class") or ""
                if (
                    kind in {"text", "email", "tel", "url", "search", "password"}
                    and not name.startswith("initial-")
                    and "__prefix__" not in name  # a template row that JavaScript copies
                    and "hidden" not in attrs  # never shown: the form's one-time key
                    and "vDateField" not in classes
                    and "vTimeField" not in classes
                ):
                    self.form["typed"].add(name)
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in attrs, "selected": []}
            self.form["choices"].setdefault(name, [])
            if "admin-autocomplete" in (attrs.get("class") or ""):
                self.form["autocomplete"].add(name)
        elif tag == "option" and self.select is not None:
            self.option = attrs.get("value")
            if self.option is not None:
                self.form["choices"][self.select["name"]].append(self.option)
                if "selected" in attrs:
                    self.select["selected"].append(self.option)
        elif tag == "textarea" and name:
            self.textarea = {"name": name, "text": ""}
            if "__prefix__" not in name:
                self.form["typed"].add(name)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select is not None and self.form is not None:
            name, selected = self.select["name"], self.select["selected"]
            options = self.form["choices"][name]
            if not selected and options and not self.select["multiple"]:
                selected = options[:1]
            self.form["data"].setdefault(name, []).extend(selected)
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            text = self.textarea["text"].removeprefix("\r\n").removeprefix("\n")
            self.form["data"].setdefault(self.textarea["name"], []).append(text)
            self.textarea = None


def read_form(browser, page, action=None):
    """The POST form of `page` that submits to `action` (default: the page itself)."""
    response = browser.get(page)
    assert response.status_code == 200, (page, response.status_code)
    parser = FormParser()
    parser.feed(response.content.decode())
    action = action or page
    for form in parser.forms:
        if form["method"] == "post" and form["action"] in {"", action}:
            return form
    raise AssertionError(f"No form posting to {action} on {page}")


# What may change, and how to tell


def watched_models():
    """Every model a form could write to (record-access events excepted: reading is allowed)."""
    models = [
        *apps.get_app_config("consultations").get_models(),
        *apps.get_app_config("treatments").get_models(),
        apps.get_model("admin", "LogEntry"),
        apps.get_model("auth", "User"),
        apps.get_model("auth", "Group"),
    ]
    return [model for model in models if model._meta.label != "consultations.ClientAccess"]


def database_state():
    """Every watched row, field by field (small test data, so cheap enough per example)."""
    state = {}
    for model in watched_models():
        rows = model._base_manager.order_by("pk").values()
        state[model._meta.label] = [
            {key: value for key, value in row.items() if key != "last_login"} for row in rows
        ]
    return state


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def check_post(browser, url, data, *, before=None, **extra):
    """Post `data`: never a 500, and a refusal (anything but a redirect) changes nothing.

    `before` is the database state to compare with, when the caller already read it.
    """
    with rolled_back():
        before = before or database_state()
        response = browser.post(url, data, **extra)
        assert response.status_code < 500, failure(response, f"POST {url} {data!r:.1500}")
        if response.status_code != 302:
            assert database_state() == before, f"refused POST {url} saved something: {data!r:.1500}"
        return response


def failure(response, request):
    """What went wrong: the request, and the end of the server's traceback."""
    error = response.exc_info
    trace = "".join(traceback.format_exception(*error)[-3:]) if error else ""
    return f"{response.status_code} from {request}\n{trace}"


def is_count(name):
    return name.endswith(("-TOTAL_FORMS", "-INITIAL_FORMS", "-MIN_NUM_FORMS", "-MAX_NUM_FORMS"))


@st.composite
def hostile(draw, form, ids):
    """The form's valid data with some fields changed to hostile values, dropped or added."""
    data = {name: list(value) for name, value in form["data"].items()}
    names = sorted(data)
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=6)) if names else []:
        if is_count(name):
            data[name] = [draw(st.one_of(st.sampled_from(COUNTS), st.integers(-5, 25).map(str)))]
        elif name in form["choices"] or name.endswith("id"):
            choice = st.sampled_from(ids + form["choices"].get(name, []) or ["1"])
            data[name] = draw(st.one_of(choice.map(lambda pk: [pk]), values))
        else:
            data[name] = draw(values)
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)) if names else []:
        data.pop(name, None)
    extra_names = st.one_of(st.sampled_from(EXTRA_NAMES), st.text(max_size=8)).filter(
        lambda name: name not in form["data"]
    )
    extra = draw(st.dictionaries(extra_names, values, max_size=3))
    return {**extra, **data} if draw(st.booleans()) else {**data, **extra}


def fuzz(browser, url, form, ids):
    before = database_state()  # every example starts here: each one is rolled back

    @HOSTILE
    @given(data=hostile(form, ids))
    def post(data):
        check_post(browser, url, data, before=before)

    post()


def browser_for(user):
    browser = Browser(raise_request_exception=False)
    browser.force_login(user)
    return browser


# The clinic the forms work on, made once for the module (every test's changes are rolled back):
# two clients, so each has records that are foreign to the other.


def staff(username, role, **extra):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", "correct-horse-battery-staple", **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def client_with_course(name, practitioner, concerns, *, performed_on, **session):
    client = Client(
        first_name=name,
        last_name="Example",
        date_of_birth=datetime.date(1985, 5, 17),
        email=f"{name.lower()}@example.com",
        skin_type=Client.SkinType.II,
    )
    client.stamp(practitioner)
    client.full_clean()
    client.save()
    consultation = record_consultation(
        client=client,
        practitioner=practitioner,
        by=practitioner,
        concerns=[
            {"concern": Concern.objects.get(slug=slug), "area": area} for slug, area in concerns
        ],
        held_on=timezone.localdate() - datetime.timedelta(days=120),
    )
    for kind in ("treatment", "numbing", "photographs"):
        sign_consent(
            client=client,
            version=current_version(kind),
            witness=practitioner,
            signer_name=client.full_name,
            typed_name=client.full_name,
        )
    recorded = list(consultation.concerns.all())
    course = start_course(
        consultation=consultation,
        recorded_concerns=recorded,
        planned_sessions=6,
        interval_weeks=4,
        start_date=consultation.held_on,
        cautions_acknowledged=True,
        practitioner=practitioner,
        by=practitioner,
    )
    # Lots given by number are in stock, received with a year to run.
    session["products"] = [
        (
            product,
            Lot.objects.for_product_number(product, lot).first()
            or receive_lot(
                product=product,
                lot_number=lot,
                expiry_date=timezone.localdate() + datetime.timedelta(days=365),
                by=practitioner,
            ),
        )
        for product, lot in session.get("products", ())
    ]
    logged = log_session(
        course=course,
        check_asked=True,
        practitioner=practitioner,
        by=practitioner,
        performed_on=performed_on,
        areas=[(recorded[0].area, Decimal("1.50"))],
        progress=[(rc, 1, None) for rc in recorded],
        **session,
    )
    return client, consultation, course, logged


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker):
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        yield make_clinic()
        transaction.set_rollback(True)


def make_clinic():
    today = timezone.localdate()
    practitioner = staff("aesthetician", roles.AESTHETICIAN, first_name="Alex")
    mine, consultation, course, session = client_with_course(
        "Mine",
        practitioner,
        [("acne-scars", "cheeks"), ("hyperpigmentation", "cheeks")],
        # A course's interval (4 weeks) ago: the next session may be logged today.
        performed_on=today - datetime.timedelta(weeks=4),
        products=[(Product.objects.get(name__startswith="Hyaluronic"), "LOT-1")],
    )
    theirs, their_consultation, their_course, their_session = client_with_course(
        "Theirs",
        practitioner,
        [("stretch-marks", "abdomen")],
        performed_on=today - datetime.timedelta(days=1),
    )
    # A reaction after the session: its follow-up form and the admin's.
    event = record_adverse_event(
        session=session,
        by=practitioner,
        kind="swelling",
        severity="mild",
        onset_on=session.performed_on + datetime.timedelta(days=1),
    )
    ids = {
        str(pk)
        for model in (
            Client,
            Consultation,
            RecordedConcern,
            Concern,
            Product,
            Course,
            TreatmentSession,
            Lot,
        )
        for pk in model.objects.values_list("pk", flat=True)
    }
    return {
        "practitioner": practitioner,
        "manager": staff("manager", roles.MANAGER, is_staff=True, first_name="Maria"),
        "other_practitioner": staff("other", roles.AESTHETICIAN, first_name="Olu"),
        "client": mine,
        "consultation": consultation,
        "course": course,
        "session": session,
        "adverse_event": event,
        "their_client": theirs,
        "their_consultation": their_consultation,
        "their_course": their_course,
        "their_session": their_session,
        "ids": sorted(ids) + ["0", "-1", "999999", "9223372036854775808"],
        "today": today.isoformat(),
    }


@pytest.fixture
def workspace(clinic):
    return browser_for(clinic["practitioner"])


@pytest.fixture
def admin_browser(clinic):
    return browser_for(clinic["manager"])


# The workspace: each form, filled in so it would be accepted, then made hostile.

CLIENT_FIELDS = {
    "first_name": ["Ada"],
    "last_name": ["Lovelace"],
    "date_of_birth": ["1985-12-10"],
    "skin_type": ["III"],
    "email": ["ada@example.com"],
}


def consultation_fields(clinic):
    return {
        "held_on": [clinic["today"]],
        "consent_given": ["on"],
        "consent_by": ["The client"],
        "concerns-0-concern": [str(Concern.objects.get(slug="acne-scars").pk)],
        "concerns-0-area": ["cheeks"],
        "concerns-0-severity": ["moderate"],
    }


def workspace_forms(clinic):
    """(name, page, action, values that make the form acceptable) for every workspace form."""
    course, session = clinic["course"], clinic["session"]
    end_page = reverse("treatments:course-end", args=[course.pk])
    forms = [
        ("client create", reverse("consultations:client-create"), None, CLIENT_FIELDS),
        (
            "client update",
            reverse("consultations:client-update", args=[clinic["client"].pk]),
            None,
            {},
        ),
        (
            "consultation create",
            reverse("consultations:consultation-create", args=[clinic["client"].pk]),
            None,
            consultation_fields(clinic),
        ),
        (
            "course create",
            reverse("treatments:course-create", args=[clinic["consultation"].pk]),
            None,
            {
                "cautions_acknowledged": ["on"],
                "override_reason": ["Agreed with the client."],
                "start_another": ["on"],  # a course from this consultation runs already
            },
        ),
        (
            "session create",
            reverse("treatments:session-create", args=[course.pk]),
            None,
            # The practitioner rates each concern and confirms the lot offered from last time.
            {
                "check_asked": ["on"],
                "products-0-same_lot": ["on"],
                **{
                    f"progress-{link.recorded_concern_id}-practitioner_rating": ["2"]
                    for link in course.course_concerns.all()
                },
            },
        ),
        ("session update", reverse("treatments:session-update", args=[session.pk]), None, {}),
        (
            "course complete",
            end_page,
            reverse("treatments:course-complete", args=[course.pk]),
            {"complete-end_reason": ["Happy with the result."]},
        ),
        (
            "course stop",
            end_page,
            reverse("treatments:course-stop", args=[course.pk]),
            {"stop-end_reason": ["Moved away."]},
        ),
    ]
    forms.append(
        (
            "consent sign",
            reverse("consent:sign", args=[clinic["client"].pk, "photographs"]),
            None,
            {"typed_name": [clinic["client"].full_name]},
        )
    )
    photos = SignedConsent.objects.filter(client=clinic["client"], document__kind="photographs")
    forms.append(
        (
            "consent withdraw",
            reverse("consent:withdraw", args=[photos.first().pk]),
            None,
            {"reason": ["No more photographs, please."]},
        )
    )
    forms += [
        (
            "adverse event create",
            reverse("treatments:adverse-event-create", args=[session.pk]),
            None,
            {
                "kind": ["infection"],
                "severity": ["moderate"],
                "onset_on": [clinic["today"]],
                "outcome": ["ongoing"],
                "reported_by": ["client"],
            },
        ),
        ("adverse event update", clinic["adverse_event"].get_absolute_url(), None, {}),
    ]
    try:
        void = reverse("treatments:session-void", args=[session.pk])
    except NoReverseMatch:
        pass
    else:
        forms.append(("session void", void, None, {"void_reason": ["Logged on the wrong client."]}))
    return forms


WORKSPACE_FORMS = [
    "client create",
    "client update",
    "consultation create",
    "course create",
    "session create",
    "session update",
    "course complete",
    "course stop",
    "session void",
    "consent sign",
    "consent withdraw",
    "adverse event create",
    "adverse event update",
]


def workspace_form(clinic, workspace, name):
    for form_name, page, action, fill in workspace_forms(clinic):
        if form_name == name:
            form = read_form(workspace, page, action)
            # Only fill what the page offers (a field it leaves out is not ours to add).
            form["data"].update({key: value for key, value in fill.items() if key in form["data"]})
            return action or page, form
    pytest.skip(f"no {name} form in this version")


@pytest.mark.parametrize("name", WORKSPACE_FORMS)
def test_the_workspace_form_as_filled_in_is_accepted(clinic, workspace, name):
    """The starting point of the hostile examples is a form the page would accept."""
    url, form = workspace_form(clinic, workspace, name)
    response = check_post(workspace, url, form["data"])
    assert response.status_code == 302, response.content.decode()[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("name", WORKSPACE_FORMS)
def test_hostile_input_to_a_workspace_form_never_fails_or_saves_a_refused_form(
    clinic, workspace, name
):
    url, form = workspace_form(clinic, workspace, name)
    fuzz(workspace, url, form, clinic["ids"])


# The admin: every registered model's add and change forms, as a manager.


def admin_pages(clinic):
    """(model label, add page or None, change page or None) for every registered model."""
    objects = {
        Client: clinic["client"],
        Consultation: clinic["consultation"],
        Course: clinic["course"],
        TreatmentSession: clinic["session"],
    }
    pages = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        obj = objects.get(model) or model._base_manager.order_by("pk").first()
        pages.append(
            (
                model._meta.label,
                reverse("admin:{}_{}_add".format(*info)),
                reverse("admin:{}_{}_change".format(*info), args=[obj.pk]) if obj else None,
            )
        )
    return pages


def admin_fill(clinic, label):
    """What makes an empty add form acceptable, by model."""
    consultation, course = clinic["consultation"], clinic["course"]
    practitioner = str(consultation.practitioner_id)
    today = clinic["today"]
    return {
        "consultations.Client": CLIENT_FIELDS,
        "consultations.Consultation": {
            "client": [str(clinic["client"].pk)],
            "held_on": [today],
            "practitioner": [practitioner],
            "consent_given": ["on"],
            "consent_by": ["The client"],
            "consent_at_0": [today],
            "consent_at_1": ["10:00"],
            "concerns-0-concern": [str(Concern.objects.get(slug="acne-scars").pk)],
            "concerns-0-area": ["cheeks"],
            "concerns-0-severity": ["moderate"],
        },
        "catalogue.Product": {"name": ["Test serum"], "kind": ["serum"]},
        "consent.ConsentDocument": {"kind": ["other"], "title": ["Chemical peel consent"]},
        "consent.ConsentVersion": {
            "document": [str(SignedConsent.objects.first().document_id)],
            "text": ["## Risks\n- Redness for a day."],
        },
        "stock.Lot": {
            "product": [str(Product.objects.get(name__startswith="Hyaluronic").pk)],
            "lot_number": ["NEW-LOT-7"],
            "expiry_date": [(timezone.localdate() + datetime.timedelta(days=200)).isoformat()],
            "received_on": [today],
            "status": ["in_use"],
        },
        "treatments.AdverseEvent": {
            "session": [str(clinic["session"].pk)],
            "kind": ["prolonged_erythema"],
            "onset_on": [today],
            "severity": ["mild"],
            "outcome": ["ongoing"],
            "reported_by": ["follow_up"],
        },
        "treatments.Course": {
            "client": [str(clinic["client"].pk)],
            "consultation": [str(consultation.pk)],
            "practitioner": [practitioner],
            "start_date": [today],
            "planned_sessions": ["3"],
            "interval_weeks": ["4"],
            "status": ["active"],
        },
        "treatments.TreatmentSession": {
            "course": [str(course.pk)],
            "performed_on": [today],
            "practitioner": [practitioner],
            "areas-0-area": ["cheeks"],
            "areas-0-depth_mm": ["1.00"],
        },
        "auth.User": {
            "username": ["newcomer"],
            "password1": ["a-long-enough-password-4711"],
            "password2": ["a-long-enough-password-4711"],
        },
        "auth.Group": {"name": ["Receptionist"]},
        "api.ApiToken": {"user": [practitioner], "name": ["Booking system"]},
    }.get(label, {})


def open_admin_form(clinic, admin_browser, label, kind, page):
    """The form on an admin add or change page, filled in; None when it has nothing to edit."""
    if page is None or admin_browser.get(page).status_code != 200:
        return None
    try:
        form = read_form(admin_browser, page)
    except AssertionError:
        return None  # a read-only page
    if not [name for name in form["data"] if name != "csrfmiddlewaretoken"]:
        return None
    if kind == "add":
        fill = admin_fill(clinic, label)
        form["data"].update({k: v for k, v in fill.items() if k in form["data"]})
    return form


def admin_forms(clinic, admin_browser):
    """(name, url, form) for every admin add and change form the manager can open."""
    forms = []
    for label, add, change in admin_pages(clinic):
        for kind, page in (("add", add), ("change", change)):
            form = open_admin_form(clinic, admin_browser, label, kind, page)
            if form:
                forms.append((f"{label} {kind}", page, form))
    return forms


ADMIN_FORMS = [
    "consultations.Client add",
    "consultations.Client change",
    "consultations.Consultation add",
    "consultations.Consultation change",
    "catalogue.BodyArea add",
    "catalogue.BodyArea change",
    "catalogue.Concern add",
    "catalogue.Concern change",
    "catalogue.Product add",
    "catalogue.Product change",
    "catalogue.ClinicDetails add",
    "consent.ConsentDocument add",
    "consent.ConsentDocument change",
    "consent.ConsentVersion add",
    "consultations.WashoutRule change",
    "treatments.Course change",
    "treatments.TreatmentSession change",
    "auth.User add",
    "auth.User change",
    "auth.Group add",
    "auth.Group change",
    "api.ApiToken add",
    "stock.Lot add",
    "stock.Lot change",
    "treatments.AdverseEvent add",
    "treatments.AdverseEvent change",
]
# Add forms left empty on purpose: a catalogue entry has too many required fields to fill here.
ADMIN_FORMS_NOT_FILLED = {"catalogue.BodyArea add", "catalogue.Concern add"}


def admin_form(clinic, admin_browser, name):
    label, kind = name.split()
    for page_label, add, change in admin_pages(clinic):
        if page_label == label:
            page = add if kind == "add" else change
            form = open_admin_form(clinic, admin_browser, label, kind, page)
            if form:
                return page, form
    pytest.skip(f"the manager cannot open the {name} form in this version")


def test_the_manager_can_open_every_admin_form_listed_here(clinic, admin_browser):
    """The list below is every add and change form of the admin (new ones get fuzzed too)."""
    found = {name for name, _url, _form in admin_forms(clinic, admin_browser)}
    assert found == set(ADMIN_FORMS), found ^ set(ADMIN_FORMS)


@pytest.mark.parametrize("name", sorted(set(ADMIN_FORMS) - ADMIN_FORMS_NOT_FILLED))
def test_the_admin_form_as_filled_in_is_accepted(clinic, admin_browser, name):
    url, form = admin_form(clinic, admin_browser, name)
    response = check_post(admin_browser, url, form["data"])
    assert response.status_code == 302, re.sub(r"\s+", " ", response.content.decode())[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("name", ADMIN_FORMS)
def test_hostile_input_to_an_admin_form_never_fails_or_saves_a_refused_form(
    clinic, admin_browser, name
):
    url, form = admin_form(clinic, admin_browser, name)
    fuzz(admin_browser, url, form, clinic["ids"])


# NUL characters: PostgreSQL cannot store them, so every text field must refuse them politely.


@pytest.mark.parametrize("name", WORKSPACE_FORMS)
def test_a_nul_character_in_any_workspace_text_field_is_refused(clinic, workspace, name):
    url, form = workspace_form(clinic, workspace, name)
    assert form["typed"]
    before = database_state()
    for field in sorted(form["typed"]):
        data = {**form["data"], field: ["before\x00after"]}
        response = check_post(workspace, url, data, before=before)
        assert response.status_code != 302, f"{field} accepted a NUL character"
        assert "Null characters are not allowed." in response.content.decode(), field


@pytest.mark.parametrize("name", sorted(set(ADMIN_FORMS) - ADMIN_FORMS_NOT_FILLED))
def test_a_nul_character_in_any_admin_text_field_is_refused(clinic, admin_browser, name):
    url, form = admin_form(clinic, admin_browser, name)
    assert form["typed"]
    before = database_state()
    for field in sorted(form["typed"]):
        data = {**form["data"], field: ["before\x00after"]}
        response = check_post(admin_browser, url, data, before=before)
        assert response.status_code != 302, f"{field} accepted a NUL character"
        assert "Null characters are not allowed." in response.content.decode(), field


# Ids that belong to someone else are refused, never saved against the wrong client.


def their_concern(clinic):
    return str(clinic["their_consultation"].concerns.first().pk)


def test_a_course_cannot_treat_another_clients_concern(clinic, workspace):
    url, form = workspace_form(clinic, workspace, "course create")
    response = check_post(workspace, url, {**form["data"], "concerns": [their_concern(clinic)]})
    assert response.status_code != 302


def test_a_session_cannot_use_a_numbing_cream_as_a_serum_or_the_reverse(clinic, workspace):
    url, form = workspace_form(clinic, workspace, "session create")
    numbing = Product.objects.filter(kind=Product.Kind.NUMBING).first()
    serum = Product.objects.get(name__startswith="Hyaluronic")
    for data in (
        {
            **form["data"],
            "products-0-product": [str(numbing.pk)],
            "products-0-new_lot_number": ["L"],
            "products-0-new_lot_expiry": [(timezone.localdate().replace(year=2099)).isoformat()],
        },
        {**form["data"], "numbing": [str(serum.pk)]},
    ):
        data.setdefault("products-TOTAL_FORMS", ["1"])
        response = check_post(workspace, url, data)
        assert response.status_code != 302, data


def test_admin_course_and_session_refuse_another_clients_concern(clinic, admin_browser):
    url, form = admin_form(clinic, admin_browser, "treatments.TreatmentSession change")
    data = dict(form["data"])
    prefix = next(
        (
            name.removesuffix("-TOTAL_FORMS")
            for name in data
            if "progress" in name and is_count(name)
        ),
        None,
    )
    if prefix is None:
        pytest.skip("no progress inline on the session admin")
    total = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": [str(total + 1)],
            f"{prefix}-{total}-recorded_concern": [their_concern(clinic)],
            f"{prefix}-{total}-practitioner_rating": ["3"],
            f"{prefix}-{total}-session": [str(clinic["session"].pk)],
        }
    )
    response = check_post(admin_browser, url, data)
    assert response.status_code != 302


def test_extra_fields_cannot_reassign_a_record(clinic, workspace):
    """Posting fields the form does not show changes nothing they name."""
    url, form = workspace_form(clinic, workspace, "client update")
    other = clinic["other_practitioner"]
    data = {
        **form["data"],
        "created_by": [str(other.pk)],
        "updated_by": [str(other.pk)],
        "archived": ["on"],
        "id": [str(clinic["their_client"].pk)],
    }
    with rolled_back():
        response = workspace.post(url, data)
        assert response.status_code == 302
        client = Client.objects.get(pk=clinic["client"].pk)
        assert client.created_by_id != other.pk and client.updated_by_id != other.pk
        assert not client.archived
        assert Client.objects.get(pk=clinic["their_client"].pk).first_name == "Theirs"


# Bodies that are not form data at all.

BODIES = {
    "empty": ("", "application/x-www-form-urlencoded"),
    "invalid UTF-8": ("first_name=%FF%FE&last_name=%C0%AF&notes=%ED%A0%80", None),
    "JSON": ('{"first_name": "Ada", "concerns": [1, 2]}', "application/json"),
    "broken multipart": ("--xyz\r\nContent-Disposition: form-data\r\n\r\n", None),
    "huge field count": ("&".join(f"f{n}=1" for n in range(1200)), None),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_malformed_body_to_any_workspace_form_is_refused_without_a_500(clinic, workspace, body):
    text, content_type = body
    content_type = content_type or (
        "multipart/form-data; boundary=xyz"
        if text.startswith("--")
        else "application/x-www-form-urlencoded"
    )
    for _name, page, action, _fill in workspace_forms(clinic):
        check_post(workspace, action or page, text, content_type=content_type)


# Django's admin autocomplete widget (AutocompleteSelect.optgroups) looks the submitted value up
# to show it again when the form is refused; clinic.admin's CheckedAutocompleteSelect keeps a
# value that cannot be an id out of that lookup (it was a 500 before).

AUTOCOMPLETE_FORMS = [
    ("consultations.Consultation add", "client"),
    ("consultations.Consultation change", "concerns-0-concern"),
]
MALFORMED_IDS = [" ", "abc", "1.5", "9223372036854775808", "1\x00"]


@pytest.mark.parametrize("value", MALFORMED_IDS)
@pytest.mark.parametrize(("name", "field"), AUTOCOMPLETE_FORMS)
def test_an_admin_autocomplete_field_refuses_a_malformed_id(
    clinic, admin_browser, name, field, value
):
    url, form = admin_form(clinic, admin_browser, name)
    assert field in form["autocomplete"], form["autocomplete"]
    response = check_post(admin_browser, url, {**form["data"], field: [value]})
    assert response.status_code == 200


# Hostile query strings on the pages that search and filter.

LIST_PAGES = [
    "today",
    "consultations:client-list",
    "catalogue:concern-list",
    *[
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    ],
]
BAD_PARAMETERS = ["a\x00", "abc", "9223372036854775808"]


def parameters_offered(page):
    """The query parameters a page's own links and search forms use."""
    names = set(re.findall(r'href="\?([^"=&]+)=', page))
    names |= set(re.findall(r'href="\?[^"]*?&amp;([^"=&]+)=', page))
    names |= set(re.findall(r'<input[^>]*type="(?:search|text)"[^>]*name="([^"]+)"', page))
    return names | {"q", "p", "page", "o"}


@pytest.mark.parametrize("page", LIST_PAGES)
def test_bad_values_in_every_filter_and_search_parameter_never_fail(
    clinic, workspace, admin_browser, page
):
    browser = admin_browser if page.startswith("admin:") else workspace
    url = reverse(page)
    offered = parameters_offered(browser.get(url).content.decode())
    failures = {}
    for name in sorted(offered):
        for value in BAD_PARAMETERS:
            with rolled_back():
                response = browser.get(url, {name: value})
            if response.status_code >= 500:
                error = response.exc_info[1] if response.exc_info else None
                failures[f"{name}={value[:20]!r}"] = f"{type(error).__name__}: {error}"[:200]
    assert not failures, failures


NUL_PARAMETERS = [
    ("consultations:client-list", "q"),
    ("admin:consultations_client_changelist", "skin_type__exact"),
    ("admin:consultations_consultation_changelist", "outcome__exact"),
    ("admin:consultations_clientaccess_changelist", "via__exact"),
    ("admin:catalogue_concern_changelist", "evidence_level__exact"),
    ("admin:catalogue_product_changelist", "kind__exact"),
    ("admin:treatments_course_changelist", "status__exact"),
    ("admin:treatments_course_changelist", "concern"),
    ("admin:treatments_treatmentsession_changelist", "device__exact"),
    ("admin:treatments_treatmentsession_changelist", "concern"),
    ("admin:axes_accesslog_changelist", "path_info"),
]


@pytest.mark.parametrize(("page", "name"), NUL_PARAMETERS)
def test_a_nul_character_in_a_search_or_filter_is_refused(
    clinic, workspace, admin_browser, page, name
):
    browser = admin_browser if page.startswith("admin:") else workspace
    response = browser.get(reverse(page), {name: "a\x00"})
    assert response.status_code < 500, failure(response, f"GET {page}?{name}=a%00")


@pytest.mark.parametrize(
    "page",
    [
        "admin:axes_accessattempt_changelist",
        "admin:axes_accesslog_changelist",
        "admin:axes_accessfailurelog_changelist",
    ],
)
def test_a_huge_year_in_an_admin_date_hierarchy_is_refused(admin_browser, page):
    response = admin_browser.get(reverse(page), {"attempt_time__year": "9223372036854775808"})
    assert response.status_code < 500, failure(response, f"GET {page}")


# A forged TOTAL_FORMS must not make Django build more forms than the page allows (by default
# it builds up to max_num + 1,000 before refusing the count: seconds of work and a huge page).

FORGED_COUNTS = [
    ("consultation create", "concerns", 12),
    ("session create", "areas", 14),
    ("session create", "products", 20),
]


@pytest.mark.parametrize(("name", "prefix", "most"), FORGED_COUNTS)
def test_a_forged_form_count_builds_no_more_forms_than_the_page_allows(
    clinic, workspace, name, prefix, most
):
    url, form = workspace_form(clinic, workspace, name)
    forged = str(most + 20)  # enough to tell, small enough to stay quick
    data = {**form["data"], f"{prefix}-TOTAL_FORMS": [forged]}
    if "pain_score" in data:
        data["pain_score"] = ["11"]  # refused, so the page shows every row it built
    response = check_post(workspace, url, data)
    assert response.status_code == 200
    rows = set(re.findall(rf'name="{prefix}-(\d+)-', response.content.decode()))
    assert len(rows) <= most
