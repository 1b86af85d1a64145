"""A realistic year of demo data: staff logins, clients, consultations, courses, sessions.

Every clinical row goes through the services (record_consultation, start_course, log_session,
complete_course, stop_course), so the demo obeys the same rules as real use. The data comes from a
fixed seed with dates relative to today, the whole run is one transaction, and a second run
finds the demo clients and changes nothing.
"""

import base64
import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from catalogue.models import Concern, Product
from clinic import roles
from consultations.models import Client, Consultation, RecordedConcern
from consultations.screening import Assessment
from consultations.services import record_consultation
from devtools.demo.consents import sign_demo_consents
from devtools.demo.lots import add_demo_stock
from devtools.demo.photos import add_demo_photos
from stock.models import Lot
from stock.services import receive_lot
from treatments.aftercare import record_adverse_event
from treatments.models import AdverseEvent, Course, TreatmentSession
from treatments.services import (
    book_appointment,
    complete_course,
    log_session,
    start_course,
    stop_course,
    suggest_course,
)

# Demo logins, printed by the command and in the README. Change them on any shared server.
MANAGER_USERNAME = "manager"
MANAGER_PASSWORD = "clinic-manager-demo"
AESTHETICIAN_USERNAMES = ("alex", "sam")
AESTHETICIAN_PASSWORD = "clinic-demo-pass"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    first_name: str
    last_name: str
    is_manager: bool = False


DEMO_LOGINS = (
    DemoLogin(MANAGER_USERNAME, MANAGER_PASSWORD, "Maria", "Lewis", is_manager=True),
    DemoLogin("alex", AESTHETICIAN_PASSWORD, "Alex", "Morgan"),
    DemoLogin("sam", AESTHETICIAN_PASSWORD, "Sam", "Okafor"),
)
# The demo manager's authenticator (the second factor managers need): a published key, so
# anyone trying the demo can add it to an authenticator app (or compute the code, README). Demo
# data only: a real account sets up its own at its first sign-in.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPCLINICDEMO234567"
# Every demo client's email ends with this (RFC 2606) domain: it marks the demo as loaded.
DEMO_EMAIL_DOMAIN = "demo.example.com"
SEED = 2026

Device = TreatmentSession.Device
Response = TreatmentSession.Response
BODY_AREAS = {"arms", "back", "abdomen", "buttocks", "thighs", "scalp"}


@dataclass(frozen=True)
class Profile:
    """What a client comes in for: concerns by area, depths, serums, who and how it goes."""

    concerns: tuple  # (catalogue slug, area)
    depths: dict  # area -> (shallowest, deepest) in mm, within the catalogue's guidance
    serums: tuple  # keys of PRODUCTS
    ages: tuple
    women: float  # share of women among these clients
    advice: str  # what the practitioner told the client
    device: str = Device.PEN
    device_models: tuple = ("Dermapen 4", "SkinPen Precision")
    response: float = 0.8  # how far ratings climb over a full course (0-1)


def _mm(low, high):
    return (Decimal(low), Decimal(high))


PROFILES = {
    "acne_scars": Profile(
        concerns=(("acne-scars", "cheeks"),),
        depths={"cheeks": _mm("1.25", "2.00")},
        serums=("ha",),
        ages=(19, 36),
        women=0.65,
        advice="Trials show about one grade of improvement over 3-6 months; ice-pick scars "
        "respond poorly. Never over active spots.",
    ),
    "acne_scars_pih": Profile(
        concerns=(("acne-scars", "cheeks"), ("hyperpigmentation", "cheeks")),
        depths={"cheeks": _mm("1.00", "1.50")},
        serums=("ha", "vitc"),
        ages=(20, 38),
        women=0.7,
        advice="Scars soften rather than vanish; the marks may fade with vitamin C, but "
        "needling can also cause them. Daily sunscreen.",
    ),
    "stretch_abdomen": Profile(
        concerns=(("stretch-marks", "abdomen"),),
        depths={"abdomen": _mm("1.50", "2.00")},
        serums=("ha", "peptide"),
        ages=(26, 45),
        women=1.0,
        advice="Red striae respond better than white ones; studies used 1-6 sessions and "
        "results build over months.",
        response=0.6,
    ),
    "stretch_thighs": Profile(
        concerns=(("stretch-marks", "thighs"), ("stretch-marks", "buttocks")),
        depths={"thighs": _mm("1.50", "2.00"), "buttocks": _mm("1.50", "2.00")},
        serums=("ha",),
        ages=(18, 40),
        women=0.85,
        advice="Older white striae respond less; expect softer, narrower marks.",
        device=Device.ROLLER,
        device_models=("Body roller",),
        response=0.55,
    ),
    "hair": Profile(
        concerns=(("hair-thinning", "scalp"),),
        depths={"scalp": _mm("1.50", "1.50")},
        serums=("peptide",),
        ages=(28, 58),
        women=0.4,
        advice="Needling is an add-on: minoxidil continues at home. It does not revive dead "
        "follicles.",
        response=0.7,
    ),
    "eyes_forehead": Profile(
        concerns=(
            ("fine-lines-wrinkles", "periorbital"),
            ("fine-lines-wrinkles", "forehead"),
        ),
        depths={"periorbital": _mm("0.50", "0.50"), "forehead": _mm("0.50", "0.75")},
        serums=("ha", "peptide"),
        ages=(38, 66),
        women=0.85,
        advice="Results build over 3-6 months after the course; daily sunscreen.",
    ),
    "face_neck": Profile(
        concerns=(("fine-lines-wrinkles", "face"), ("skin-laxity", "neck")),
        depths={"face": _mm("0.75", "1.25"), "neck": _mm("0.75", "1.00")},
        serums=("ha", "peptide"),
        ages=(45, 70),
        women=0.85,
        advice="Tightening is modest and the evidence is low; maintenance every 6-12 months.",
        response=0.65,
    ),
    "texture": Profile(
        concerns=(("texture-pores", "cheeks"),),
        depths={"cheeks": _mm("0.50", "1.00")},
        serums=("ha", "vitc"),
        ages=(24, 48),
        women=0.8,
        advice="Smoother texture is likely; pore results come mostly from RF studies.",
        response=0.9,
    ),
    "melasma": Profile(
        concerns=(("melasma", "cheeks"), ("melasma", "forehead")),
        depths={"cheeks": _mm("0.50", "0.75"), "forehead": _mm("0.50", "0.50")},
        serums=("txa", "ha"),
        ages=(30, 52),
        women=1.0,
        advice="Needling delivers tranexamic acid; strict sunscreen, and melasma often returns.",
        response=0.7,
    ),
    "sun_damage": Profile(
        concerns=(("sun-damage", "decollete"), ("sun-damage", "hands")),
        depths={"decollete": _mm("0.50", "1.00"), "hands": _mm("0.50", "0.50")},
        serums=("ha", "vitc"),
        ages=(50, 72),
        women=0.8,
        advice="Checked for suspicious lesions: none. Six sessions a fortnight apart, as in "
        "the one study.",
        response=0.7,
    ),
    "rosacea": Profile(
        concerns=(("rosacea", "cheeks"),),
        depths={"cheeks": _mm("1.00", "1.50")},
        serums=("ha",),
        ages=(30, 56),
        women=0.8,
        advice="Plain needling may flare rosacea, so RF micro-needling, and only while calm. "
        "The evidence is very low.",
        device=Device.RF,
        device_models=("Fractional RF handpiece",),
        response=0.5,
    ),
    "chickenpox_scars": Profile(
        concerns=(("atrophic-scars", "forehead"),),
        depths={"forehead": _mm("0.50", "0.75")},
        serums=("ha",),
        ages=(20, 42),
        women=0.7,
        advice="About 3 sessions, then review; expect softer edges.",
    ),
    "perioral": Profile(
        concerns=(("fine-lines-wrinkles", "perioral"),),
        depths={"perioral": _mm("0.50", "0.50")},
        serums=("ha", "peptide"),
        ages=(45, 66),
        women=0.9,
        advice="Lip lines soften over months; daily sunscreen.",
        device=Device.STAMP,
        device_models=("Derma stamp",),
    ),
}

PRODUCTS = {  # key -> start of the catalogue product's name
    "ha": "Hyaluronic acid serum",
    "vitc": "Vitamin C serum",
    "peptide": "Peptide serum",
    "txa": "Tranexamic acid",
    "lidocaine": "Lidocaine 4%",
    "lidocaine_prilocaine": "Lidocaine/prilocaine",
    "spf": "Mineral sunscreen",
}
# Lots in use through the year: (lot number, opened this many days ago). A handful of lots are
# shared by many clients, so the lot trace in the admin has something to find.
LOTS = {
    "ha": (("HA-40871", 999), ("HA-41552", 230), ("HA-42107", 95)),
    "vitc": (("VC-1187", 999), ("VC-1342", 160)),
    "peptide": (("PP-2209", 999), ("PP-2291", 200), ("PP-2376", 70)),
    "txa": (("TX-0519", 999), ("TX-0604", 120)),
    "spf": (("SPF-7730", 999), ("SPF-7815", 180)),
}
PAIN_BY_AREA = {"periorbital": 4, "perioral": 4, "hands": 4, "scalp": 5, "buttocks": 2}

# Course states. The active ones are placed so the "due" lists have something in each bucket.
COMPLETED, COMPLETED_EARLY, STOPPED = "completed", "completed early", "stopped"
OVERDUE, DUE_TODAY, DUE_SOON, ON_TRACK, NEW = "overdue", "due today", "due soon", "on track", "new"
CONSULT_ONLY = "consultation only"


@dataclass(frozen=True)
class Later:
    """A later consultation, and the course it leads to, for the same client."""

    profile: str
    state: str
    screening: tuple = ()
    planned: tuple | None = None
    note: str = ""


@dataclass(frozen=True)
class Story:
    """One demo client's year: what they came for, how it went, and anything that follows."""

    state: str
    profile: str
    skin: str
    screening: tuple = ()  # Consultation screening fields answered "yes"
    affected: str = ""  # area of an absolute contraindication
    planned: tuple | None = None  # (sessions, weeks) the practitioner chose instead
    note: str = ""  # why: the planned count, the override, the stop, the deferral
    adverse: bool = False  # the last session went wrong (and the course was stopped)
    later: Later | None = None
    archive: str = ""  # archive the client at the end, with this note


STORIES = (
    Story(COMPLETED, "acne_scars", "III"),
    Story(COMPLETED, "stretch_abdomen", "VI"),
    Story(COMPLETED, "eyes_forehead", "II"),
    Story(COMPLETED, "texture", "III"),
    Story(COMPLETED, "sun_damage", "I"),
    Story(
        COMPLETED,
        "acne_scars_pih",
        "IV",
        planned=(4, 4),
        note="A fourth session for the deeper rolling scars (typical range 3-6).",
    ),
    Story(
        COMPLETED,
        "hair",
        "III",
        planned=(4, 4),
        note="Four monthly sessions instead of twelve weekly ones: the client travels.",
    ),
    Story(COMPLETED, "rosacea", "I", archive="Moved to Bristol; records kept."),
    Story(COMPLETED, "perioral", "II", ("cold_sore_history",)),
    Story(
        COMPLETED_EARLY,
        "face_neck",
        "II",
        note="Client delighted at the review; no further sessions needed.",
    ),
    Story(
        COMPLETED,
        "chickenpox_scars",
        "III",
        archive="No further treatment wanted; asked to be left off the reminder list.",
    ),
    Story(
        STOPPED,
        "melasma",
        "V",
        adverse=True,
        note="Post-inflammatory hyperpigmentation on both cheeks "
        "after the last session: course stopped and client referred to a dermatologist.",
    ),
    Story(
        STOPPED,
        "stretch_thighs",
        "III",
        note="Client relocating abroad.",
        archive="Relocated abroad.",
    ),
    Story(OVERDUE, "acne_scars", "VI", ("keloid_tendency",)),
    Story(OVERDUE, "stretch_thighs", "IV"),
    Story(OVERDUE, "hair", "II"),
    Story(OVERDUE, "eyes_forehead", "III", ("anticoagulants",)),
    Story(OVERDUE, "melasma", "IV"),
    Story(DUE_TODAY, "texture", "II"),
    Story(DUE_TODAY, "hair", "V"),
    Story(DUE_SOON, "acne_scars", "III", ("isotretinoin_recent",)),
    Story(
        DUE_SOON,
        "stretch_abdomen",
        "V",
        planned=(4, 4),
        note="Client prefers to review after four sessions.",
    ),
    Story(DUE_SOON, "face_neck", "II"),
    Story(DUE_SOON, "sun_damage", "II"),
    Story(DUE_SOON, "eyes_forehead", "I"),
    Story(ON_TRACK, "acne_scars_pih", "IV"),
    Story(ON_TRACK, "texture", "III"),
    Story(ON_TRACK, "stretch_abdomen", "II", ("recent_tan_or_sunburn",)),
    Story(ON_TRACK, "perioral", "III", ("cold_sore_history",)),
    Story(NEW, "chickenpox_scars", "II"),
    Story(NEW, "hair", "IV", planned=(4, 4), note="Four monthly sessions suit the client."),
    Story(
        ON_TRACK,
        "texture",
        "II",
        ("lesion_in_area",),
        affected="cheeks",
        note="GP letter on file: the lesion on the left cheek is a benign seborrhoeic "
        "keratosis. It is left untreated and avoided.",
    ),
    Story(
        CONSULT_ONLY,
        "eyes_forehead",
        "III",
        ("bleeding_disorder",),
        note="Von Willebrand disease: not suitable for needling. Discussed alternatives.",
    ),
    Story(
        CONSULT_ONLY,
        "perioral",
        "VI",
        ("infection_in_area", "cold_sore_history"),
        affected="perioral",
        note="Active cold sore on the upper lip: rebook once healed.",
        later=Later(
            "perioral",
            DUE_SOON,
            ("cold_sore_history",),
            note="Cold sore healed; antiviral cover from two days before each session.",
        ),
    ),
    Story(
        CONSULT_ONLY,
        "stretch_abdomen",
        "IV",
        ("pregnant_or_breastfeeding",),
        note="Breastfeeding: agreed to wait until she has stopped.",
    ),
    Story(
        CONSULT_ONLY,
        "acne_scars",
        "V",
        ("isotretinoin_recent",),
        note="Finished isotretinoin two months ago: agreed to wait until six months have passed.",
        later=Later("acne_scars", ON_TRACK, note="Six months since isotretinoin."),
    ),
    Story(CONSULT_ONLY, "texture", "III", note="Thinking it over; price list given."),
    Story(
        COMPLETED,
        "acne_scars",
        "II",
        later=Later(
            "acne_scars",
            COMPLETED,
            planned=(1, 4),
            note="A single maintenance session after last year's course.",
        ),
    ),
    Story(COMPLETED, "eyes_forehead", "II", later=Later("face_neck", DUE_SOON)),
    Story(COMPLETED, "stretch_thighs", "V"),
)


def _words(text):
    return tuple(text.split())


FIRST_NAMES_WOMEN = _words(
    "Amelia Olivia Sophie Chloe Priya Aisha Zainab Hannah Emily Charlotte Grace Mei Siobhan "
    "Niamh Fatima Ewa Rachel Laura Jessica Lucy Megan Yasmin Ngozi Amara Katie Rebecca Holly "
    "Eleanor Bethany Harriet Imogen Leah Nadia Sana Joanna Claire Gemma Natalie Ayesha Kirsty"
)
FIRST_NAMES_MEN = _words("James Daniel Tom Ravi Kwame Liam Marcus Oliver Ahmed Ben Connor Tariq")
LAST_NAMES = _words(
    "Turner Hughes Patel Khan Okafor Evans Murphy Chen Wright Roberts Walker Begum Kowalski "
    "Campbell Thompson Ahmed Davies Bennett Shah Mensah O'Brien Clarke Robinson Morris Ali Wood "
    "Jackson Green Hall Edwards Nowak Mitchell Kelly Adeyemi Singh Baker Fraser Ward Price "
    "Sharma Young Lloyd Hussain Cooper Reid Doyle Owusu Lin Barker Fletcher Gill Moore"
)
CLIENT_NOTES = (
    "Prefers late-afternoon appointments.",
    "Referred by a friend.",
    "Wears contact lenses: remove before treatments near the eyes.",
    "Nervous about needles; likes each step explained.",
    "Text reminders only, please.",
)


@dataclass
class Demo:
    """What the generator needs: the seeded random source, today, staff and the catalogue."""

    rng: random.Random
    today: datetime.date
    manager: object
    practitioners: list
    concerns: dict
    products: dict
    name_pools: dict = field(default_factory=dict)

    @classmethod
    def load(cls, *, staff, seed=SEED):
        products = {}
        for key, name in PRODUCTS.items():
            product = Product.objects.filter(name__startswith=name, in_use=True).first()
            if product and product.approved_for_needling:
                products[key] = product
        return cls(
            rng=random.Random(seed),
            today=timezone.localdate(),
            manager=staff[MANAGER_USERNAME],
            practitioners=[staff[name] for name in AESTHETICIAN_USERNAMES],
            concerns={concern.slug: concern for concern in Concern.objects.all()},
            products=products,
        )

    def draw_name(self, names):
        """A name from `names`, without repeats until every one of them has been used."""
        pool = self.name_pools.get(names)
        if not pool:
            pool = self.name_pools[names] = self.rng.sample(names, len(names))
        return pool.pop()

    def days_ago(self, days):
        return self.today - datetime.timedelta(days=days)

    def day_between(self, first, last):
        if last < first:
            raise ValueError(f"Demo timeline does not fit between {first} and {last}.")
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))


# Staff


def demo_data_present():
    return Client.objects.filter(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}").exists()


def ensure_staff(*, reset_passwords=False):
    """Create the demo logins that are missing; reset passwords of existing ones only if asked.

    Returns the users by username and the usernames created and reset.
    """
    user_model = get_user_model()
    staff, created, reset = {}, [], []
    for login in DEMO_LOGINS:
        user = user_model.objects.filter(username=login.username).first()
        if user is None:
            user = user_model.objects.create_user(
                login.username,
                f"{login.first_name}.{login.last_name}@clinic.example.com".lower(),
                login.password,
                first_name=login.first_name,
                last_name=login.last_name,
                is_staff=login.is_manager,
            )
            role = roles.MANAGER if login.is_manager else roles.AESTHETICIAN
            user.groups.add(Group.objects.get(name=role))
            created.append(login.username)
        elif reset_passwords:
            user.set_password(login.password)
            user.save(update_fields=["password"])
            reset.append(login.username)
        if login.is_manager:
            ensure_demo_authenticator(user)
        staff[login.username] = user
    return staff, created, reset


def ensure_demo_authenticator(user):
    """The demo manager's authenticator, with the published DEMO_TOTP_SECRET."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.update_or_create(
        user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
    )


# Clients and consultations


def create_client(demo, profile, skin_type, *, by):
    rng = demo.rng
    first = demo.draw_name(FIRST_NAMES_WOMEN if rng.random() < profile.women else FIRST_NAMES_MEN)
    last = demo.draw_name(LAST_NAMES)
    age = rng.randint(*profile.ages)
    born = datetime.date(demo.today.year - age, 1, 1) + datetime.timedelta(rng.randint(0, 364))
    given, family = first.lower(), last.lower().replace("'", "")
    email = rng.choice(
        (f"{given}.{family}", f"{given}{family}", f"{given[0]}{family}{rng.randint(1, 99)}")
    )
    if rng.random() < 0.85:
        phone = f"07700 900{rng.randint(0, 999):03d}"  # Ofcom's range for fiction
    else:
        phone = f"020 7946 0{rng.randint(0, 999):03d}"
    client = Client(
        first_name=first,
        last_name=last,
        date_of_birth=born,
        email=f"{email}@{DEMO_EMAIL_DOMAIN}",
        phone=phone,
        skin_type=skin_type,
        notes=rng.choice(CLIENT_NOTES) if rng.random() < 0.3 else "",
    )
    client.stamp(by)
    client.full_clean()
    client.save()
    return client


def consult(
    demo, client, profile, *, held_on, practitioner, screening=(), affected="", note="", consent
):
    """Record a consultation for the profile's concerns, with its screening answers."""
    rng = demo.rng
    severity = RecordedConcern.Severity
    concerns = [
        {
            "concern": demo.concerns[slug],
            "area": area,
            "severity": rng.choice(
                (severity.MILD, severity.MODERATE, severity.MODERATE, severity.SEVERE)
            ),
        }
        for slug, area in profile.concerns
    ]
    # What is found in an area, or has a date, is a finding: the area found (blank: every
    # area); isotretinoin's last dose two months before, a tan fading three weeks before.
    dated = {
        "isotretinoin_recent": ("isotretinoin", held_on - datetime.timedelta(days=60)),
        "recent_tan_or_sunburn": ("tan_or_sunburn", held_on - datetime.timedelta(days=21)),
    }
    findings = [
        {"kind": name, "area": affected}
        for name in screening
        if name in {"infection_in_area", "lesion_in_area", "keloid_in_area"}
    ] + [{"kind": dated[name][0], "on": dated[name][1]} for name in screening if name in dated]
    found = {"infection_in_area", "lesion_in_area", "keloid_in_area", *dated}
    # Drawn as when the tick box kept the time and the consenter, so the demo's later draws
    # (and the year it tells) stay the same.
    rng.randint(9, 17), rng.choice((0, 30))
    if consent:
        rng.choice(("the client", client.full_name))
        sign_demo_consents(client, witness=practitioner)
    return record_consultation(
        client=client,
        practitioner=practitioner,
        by=practitioner,
        concerns=concerns,
        findings=findings,
        held_on=held_on,
        notes=" ".join(filter(None, (profile.advice, note))),
        **dict.fromkeys(set(screening) - found, True),
    )


# Courses


@dataclass
class Schedule:
    """When a course's sessions fall, and when it ends early, before anything is saved."""

    state: str
    planned: int
    weeks: int
    dates: list
    ends_on: datetime.date | None = None

    @property
    def starts_on(self):
        return self.dates[0]


class _Unscreened:
    """A consultation stand-in: the course figures of suggest_course come from the catalogue
    alone (screening only adds cautions), so they can be previewed before a consultation is
    dated, and the timeline built around them."""

    def assess(self):
        return Assessment(outcome=Consultation.Outcome.SUITABLE)


def catalogue_course(demo, profile):
    stand_ins = [
        SimpleNamespace(concern=demo.concerns[slug], area_id=area)
        for slug, area in profile.concerns
    ]
    suggestion = suggest_course(consultation=_Unscreened(), recorded_concerns=stand_ins)
    return suggestion.sessions, suggestion.interval_weeks


def schedule_course(demo, profile, state, *, planned=None, earliest=None, latest=None):
    """Session dates (with a few days' jitter) that leave a course in `state` today."""
    rng, today = demo.rng, demo.today
    sessions, weeks = planned or catalogue_course(demo, profile)
    earliest = earliest or demo.days_ago(350)
    interval = 7 * weeks
    if state == COMPLETED:
        count = sessions
    elif state == COMPLETED_EARLY:
        count = max(1, sessions - rng.randint(1, 2))
    elif state == STOPPED:
        count = rng.randint(1, min(3, sessions - 1))
    elif state == NEW:
        count = 1
    else:
        count = rng.randint(1, sessions - 1)
    late = (-2, -1, 0, 0, 0, 1, 2, 3, 5, 7) if weeks > 1 else (-1, 0, 0, 0, 1, 2)
    gaps = [interval + rng.choice(late) for _ in range(count - 1)]

    ends_on = None
    if state in (COMPLETED, COMPLETED_EARLY, STOPPED):
        room = datetime.timedelta(days=sum(gaps))
        last = demo.day_between(earliest + room, latest or demo.days_ago(45))
        if state != COMPLETED:
            ends_on = min(today, last + datetime.timedelta(days=rng.randint(10, 35)))
    else:
        due_in = {  # days until the next session is due
            OVERDUE: -rng.randint(3, 35),
            DUE_TODAY: 0,
            DUE_SOON: rng.randint(1, min(10, interval - 1)),
            ON_TRACK: rng.randint(min(11, interval), interval),
            NEW: interval - rng.randint(0, 3),
        }[state]
        last = today - datetime.timedelta(days=interval - due_in)
        while gaps and last - datetime.timedelta(days=sum(gaps)) < earliest:
            gaps.pop()
    dates = [last]
    for gap in reversed(gaps):
        dates.insert(0, dates[0] - datetime.timedelta(days=gap))
    return Schedule(state, sessions, weeks, dates, ends_on)


def give_course(
    demo,
    client,
    consultation,
    profile,
    schedule,
    *,
    practitioner,
    note="",
    override_reason="",
    cautious=False,
    adverse=False,
):
    """Start the course through start_course and log its sessions; stop or complete it early."""
    rng = demo.rng
    recorded = list(consultation.concerns.select_related("concern"))
    suggestion = suggest_course(consultation=consultation, recorded_concerns=recorded)
    course = start_course(
        consultation=consultation,
        recorded_concerns=recorded,
        planned_sessions=schedule.planned,
        interval_weeks=schedule.weeks,
        practitioner=practitioner,
        by=practitioner,
        start_date=schedule.starts_on,
        override_reason=override_reason,
        cautions_acknowledged=bool(suggestion.cautions),
        notes=note if schedule.planned != suggestion.sessions else "",
        device=profile.device,
    )
    # Tranexamic acid must not be used with anticoagulants.
    serums = tuple(
        key for key in profile.serums if not (key == "txa" and consultation.anticoagulants)
    )
    device_model = rng.choice(profile.device_models)
    ratings = {}
    for number, day in enumerate(schedule.dates, start=1):
        log_demo_session(
            demo,
            course,
            profile,
            recorded,
            number=number,
            day=day,
            practitioner=practitioner,
            serums=serums,
            device_model=device_model,
            cautious=cautious,
            ratings=ratings,
            worse=adverse and number == len(schedule.dates),
        )
    if adverse:
        # The reaction after the last session, recorded and followed up; the course stops for it.
        last = course.sessions.order_by("-number").first()
        onset = min(last.performed_on + datetime.timedelta(days=3), schedule.ends_on or demo.today)
        record_adverse_event(
            session=last,
            by=practitioner,
            kind=AdverseEvent.Kind.PIH,
            severity=AdverseEvent.Severity.MODERATE,
            onset_on=max(onset, last.performed_on),
            action_taken="Course stopped; referred to a dermatologist; strict sun protection.",
            outcome=AdverseEvent.Outcome.IMPROVING,
            reported_by=AdverseEvent.Reporter.CLIENT,
            notes=note,
        )
    if schedule.state == STOPPED:
        stop_course(
            course=course, reason=note, by=practitioner, on=schedule.ends_on, adverse_event=adverse
        )
    elif schedule.state == COMPLETED_EARLY:
        complete_course(course=course, reason=note, by=practitioner, on=schedule.ends_on)
    return course


def log_demo_session(
    demo,
    course,
    profile,
    recorded,
    *,
    number,
    day,
    practitioner,
    serums,
    device_model,
    cautious,
    ratings,
    worse=False,
):
    """Log one session: depths deepen over the course, ratings climb (or drop if it went wrong)."""
    rng = demo.rng
    if rng.random() < 0.15:  # a colleague covers now and then
        practitioner = rng.choice(demo.practitioners)
    areas = []
    for area, (low, high) in profile.depths.items():
        # Conservative skin stays at the shallow end; otherwise deepen every other session.
        step = Decimal("0.25") * (1 + (number - 1) // 2 + rng.choice((-1, 0, 0)))
        areas.append((area, low if cautious else max(low, min(high, low + step))))
    deepest = max(depth for _, depth in areas)
    body = any(area in BODY_AREAS for area, _ in areas)
    numbing = demo.products.get("lidocaine_prilocaine" if body else "lidocaine")
    if deepest <= Decimal("0.5") and rng.random() < 0.2:
        numbing = None  # the client declined it for a shallow treatment
    products = [
        (demo.products[key], lot_for(demo, key, day))
        for key in serums + (() if body else ("spf",))
        if key in demo.products
    ]
    pain = PAIN_BY_AREA.get(areas[0][0], 3) + (deepest >= Decimal("1.75"))
    pain += rng.choice((-1, 0, 0, 1, 2)) + (0 if numbing else 2)
    progress = []
    for rc in recorded:
        share = (number - 1) / max(course.planned_sessions - 1, 1)
        level = round(1 + 3 * profile.response * share + rng.uniform(-0.4, 0.4))
        rating = 0 if worse else max(ratings.get(rc.pk, 1), min(4, level))
        ratings[rc.pk] = rating
        client_rating = (
            None if rng.random() < 0.2 else max(0, min(5, rating + rng.choice((-1, 0, 0, 1))))
        )
        progress.append((rc, rating, client_rating))
    return log_session(
        course=course,
        check_asked=True,
        practitioner=practitioner,
        by=practitioner,
        performed_on=day,
        areas=areas,
        device=profile.device,
        device_model=device_model,
        numbing=numbing,
        products=products,
        skin_response=Response.ADVERSE if worse else skin_response(rng, profile.device, deepest),
        pain_score=max(0, min(10, pain)),
        progress=progress,
        notes=session_note(demo, number, worse, cautious),
        # Asked before every session; a client with cautions has them weighed again.
        check_acknowledged=cautious,
    )


def lot_for(demo, key, day):
    """The lot of `key` that was open on `day` (lots run out and the next is opened), received
    into stock the day it was opened, in date for the whole demo year (the first ones expire
    soon after it)."""
    days_ago = (demo.today - day).days
    open_then = [(lot, opened) for lot, opened in LOTS[key] if opened >= days_ago]
    number, opened = open_then[-1]
    product = demo.products[key]
    lot = Lot.objects.for_product_number(product, number).first()
    if lot is None:
        received = demo.today - datetime.timedelta(days=opened)
        # The first lot of each product runs out of date within weeks: the stock page lists
        # it among the lots to take off the shelf. The later ones have a year or more to run.
        first = len(open_then) == 1
        runs = 20 + 9 * len(LOTS[key]) if first else 400
        lot = receive_lot(
            product=product,
            lot_number=number,
            expiry_date=demo.today + datetime.timedelta(days=runs),
            received_on=received,
            by=demo.manager,
        )
    return lot


def skin_response(rng, device, depth):
    if device == Device.RF:
        return rng.choice((Response.ERYTHEMA, Response.ERYTHEMA, Response.SWELLING))
    if depth >= Decimal("1.5"):
        return rng.choice((Response.PINPOINT_BLEEDING,) * 3 + (Response.ERYTHEMA,))
    if depth >= Decimal("1.0"):
        return rng.choice((Response.ERYTHEMA, Response.ERYTHEMA, Response.PINPOINT_BLEEDING))
    return rng.choice((Response.MILD_ERYTHEMA, Response.MILD_ERYTHEMA, Response.ERYTHEMA))


def session_note(demo, number, worse, cautious):
    if worse:
        return "Darker patches on both cheeks two weeks after the last session; photos taken."
    if number == 1 and cautious:
        return "Test patch 48 h before: no reaction. Conservative depth."
    if number == 1:
        return "Aftercare leaflet given and explained."
    return demo.rng.choice(("", "", "", "Tolerated well.", "Client pleased with progress."))


# The realistic year


def seed_year(demo):
    """Forty clients' year, told through STORIES. Returns the clients created.

    Bulk data (a later --clients/--sessions option) can reuse the same pieces with generated
    stories: create_client, consult, schedule_course and give_course.
    """
    clients = [tell(demo, story) for story in STORIES]
    for story, client in zip(STORIES, clients, strict=True):
        if story.archive:
            client.archived = True
            client.notes = " ".join(filter(None, (client.notes, story.archive)))
            client.stamp(demo.manager)
            client.full_clean()
            client.save()
    add_demo_photos(demo)
    add_demo_stock(demo)
    book_demo_visits(demo)
    return clients


def book_demo_visits(demo):
    """Two clients due back are booked for today, one more next week: Today lists them first."""
    today = demo.days_ago(0)
    due = Course.objects.due_by(today).filter(client__archived=False).order_by("next_due_on", "pk")
    for n, course in enumerate(due[:3]):
        book_appointment(
            client=course.client,
            course=course,
            date=today if n < 2 else today + datetime.timedelta(days=7),
            time=datetime.time(10 + 2 * n, 30),
            practitioner=course.practitioner,
            by=course.practitioner,
        )


def tell(demo, story):
    rng = demo.rng
    practitioner = rng.choice(demo.practitioners)
    profile = PROFILES[story.profile]
    client = create_client(demo, profile, story.skin, by=practitioner)
    cautious = bool(set(story.screening) & {"keloid_tendency", "isotretinoin_recent"}) or (
        client.pigment_risk
    )

    if story.state == CONSULT_ONLY:
        # No course from this consultation; perhaps one from a later one, once the reason for
        # waiting has passed (a cold sore healed, six months since isotretinoin).
        schedule = None
        if story.later:
            later = PROFILES[story.later.profile]
            schedule = schedule_course(demo, later, story.later.state, earliest=demo.days_ago(200))
            wait = (90, 120) if "isotretinoin_recent" in story.screening else (21, 35)
            held_on = schedule.starts_on - datetime.timedelta(days=rng.randint(*wait))
        else:
            held_on = demo.days_ago(rng.randint(5, 300))
        consult(
            demo,
            client,
            profile,
            held_on=held_on,
            practitioner=practitioner,
            screening=story.screening,
            affected=story.affected,
            note=story.note,
            consent=False,
        )
        if schedule:
            follow_up(demo, client, later, schedule, story.later, practitioner, client.pigment_risk)
        return client

    latest = demo.days_ago(150) if story.later else None
    schedule = schedule_course(demo, profile, story.state, planned=story.planned, latest=latest)
    consultation = consult(
        demo,
        client,
        profile,
        held_on=held_on_for(demo, schedule),
        practitioner=practitioner,
        screening=story.screening,
        affected=story.affected,
        consent=True,
    )
    give_course(
        demo,
        client,
        consultation,
        profile,
        schedule,
        practitioner=practitioner,
        note=story.note,
        # A contraindication in the treated area: the note says why the course goes ahead.
        override_reason=story.note if story.affected else "",
        cautious=cautious,
        adverse=story.adverse,
    )
    if story.later:
        later = PROFILES[story.later.profile]
        earliest = schedule.dates[-1] + datetime.timedelta(days=120)
        next_schedule = schedule_course(
            demo,
            later,
            story.later.state,
            planned=story.later.planned,
            earliest=earliest,
            latest=demo.days_ago(14),
        )
        follow_up(demo, client, later, next_schedule, story.later, practitioner, cautious)
    return client


def held_on_for(demo, schedule):
    """Consultations come on the day of the first session or a week or two before."""
    return schedule.starts_on - datetime.timedelta(days=demo.rng.choice((0, 0, 0, 7, 14)))


def follow_up(demo, client, profile, schedule, later, practitioner, cautious):
    consultation = consult(
        demo,
        client,
        profile,
        held_on=held_on_for(demo, schedule),
        practitioner=practitioner,
        screening=later.screening,
        note=later.note,
        consent=True,
    )
    return give_course(
        demo,
        client,
        consultation,
        profile,
        schedule,
        practitioner=practitioner,
        note=later.note,
        cautious=cautious,
    )
