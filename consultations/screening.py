"""Screening before micro-needling: the questions, and the outcome they lead to.

Absolute contraindications mean "do not treat the area" (the consultation is not suitable, and a
course there needs a recorded override reason). Relative ones are cautions the practitioner
weighs and acknowledges. Some cautions come from a combination of an answer and a concern, such
as a keloid tendency with a scar concern. Source: shared/domain/MICRONEEDLING.md.

Findings that belong to an area, or lapse after a date, are recorded as rows (the
consultation's `findings`): an infection, lesion or keloid in one or more areas (or in every
area), and washout findings with their date (isotretinoin's last dose, a peel, laser or filler in
an area, a tan or sunburn). A washout rule (`WashoutRule`, managers edit it) says how long each
blocks or cautions; after that it no longer counts. Areas nest (a full face contains the
cheeks): a finding affects every area that overlaps its own.

The same rules apply again at every session: `check_session` adds the pre-session check (what
changed since the last visit) and refuses a session on an area the screening blocked, unless the
course recorded an override for it, or inside a washout window.

This module works on attributes only (the models import its help texts, so it reads the
outcome choices from the model when it runs), and is tested on its own.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from clinic.formats import day

HELP = {
    "infection": "Bacterial, fungal or viral infection, including a cold sore, in the area.",
    "immunosuppressed": "Immunosuppression, chemotherapy or radiotherapy, high-dose steroids, "
    "or uncontrolled diabetes.",
    "thrombosis": "Deep-vein thrombosis, pulmonary embolism or a clotting disorder: tranexamic "
    "acid, often paired with needling for melasma, must not be used.",
}

ALL_AREAS = "all"

# Absolute contraindications: (field, reason shown, limited to the affected area?). The
# area-bound ones are recorded as findings with their areas (FINDING_KINDS); the consultation's
# yes/no answer says one was found.
ABSOLUTE = [
    ("infection_in_area", "Active infection in the area: treat the infection first.", True),
    (
        "lesion_in_area",
        "Skin cancer, a suspicious lesion or warts in the area: refer before any needling.",
        True,
    ),
    ("keloid_in_area", "Keloid scars must not be needled.", True),
    ("bleeding_disorder", "Bleeding disorder: micro-needling makes the skin bleed.", False),
    (
        "allergy_metal_or_anaesthetic",
        "Allergy to metal or to the numbing cream.",
        False,
    ),
]
ABSOLUTE_IN_AREA = [name for name, _reason, area_bound in ABSOLUTE if area_bound]

# Relative contraindications: (field, caution shown)
RELATIVE = [
    (
        "keloid_tendency",
        "Keloid tendency: needling can trigger raised scars; test a small patch first.",
    ),
    (
        "active_acne",
        "Active acne: needling over active spots can spread bacteria; treat the acne first or "
        "avoid the spots.",
    ),
    ("cold_sore_history", "History of cold sores: consider antiviral cover before the face."),
    (
        "anticoagulants",
        "Anticoagulants: expect more bleeding and bruising; tranexamic acid must not be used.",
    ),
    (
        "thrombosis_history",
        "History of thrombosis: tranexamic acid (often paired with needling for melasma) must "
        "not be used.",
    ),
    (
        "immunosuppressed",
        "Immunosuppression or poor healing: higher risk of infection and slow recovery.",
    ),
    (
        "skin_condition_flare",
        "Eczema, psoriasis or rosacea flare in the area: wait until it has settled.",
    ),
    (
        "pregnant_or_breastfeeding",
        "Pregnant or breastfeeding: there are no safety data, and numbing creams are absorbed.",
    ),
]

# Answers recorded before findings had dates: ticked without a dated finding, they are the
# cautions they always were.
UNDATED = [
    (
        "isotretinoin_recent",
        "isotretinoin",
        "Isotretinoin in the last 6 months (no date recorded): the label advises waiting; the "
        "evidence is mixed, so discuss and record the decision.",
    ),
    (
        "recent_tan_or_sunburn",
        "tan_or_sunburn",
        "Recent tan or sunburn (no date recorded): higher risk of pigment change; wait for the "
        "skin to settle.",
    ),
]


@dataclass(frozen=True)
class FindingKind:
    """What can be found at screening in an area, or with a date that lapses."""

    label: str
    # "optional": blank means every area; "required": one area; "none": it affects every area.
    area: str = "optional"
    # A washout finding: dated, and a WashoutRule says how long it blocks or cautions.
    washout: bool = False
    # The consultation's yes/no answer the finding sets.
    answer: str = ""

    @property
    def absolute(self):
        return self.answer in ABSOLUTE_IN_AREA


FINDING_KINDS = {
    "infection_in_area": FindingKind(
        "Active infection (bacterial, fungal, viral, cold sore)", answer="infection_in_area"
    ),
    "lesion_in_area": FindingKind(
        "Skin cancer, suspicious lesion or warts", answer="lesion_in_area"
    ),
    "keloid_in_area": FindingKind("Keloid scars", answer="keloid_in_area"),
    "isotretinoin": FindingKind(
        "Isotretinoin: date of the last dose",
        area="none",
        washout=True,
        answer="isotretinoin_recent",
    ),
    "peel_or_laser": FindingKind(
        "Chemical peel, laser or IPL in the area: date", area="required", washout=True
    ),
    "filler": FindingKind(
        "Filler or neuromodulator in the area: date", area="required", washout=True
    ),
    "tan_or_sunburn": FindingKind(
        "Tan or sunburn: date", washout=True, answer="recent_tan_or_sunburn"
    ),
}
# What a washout rule can be about: the dated findings, and retinoids or acids, which the
# pre-session check asks about.
WASHOUT_KINDS = {
    "isotretinoin": "Isotretinoin",
    "peel_or_laser": "Chemical peel, laser or IPL",
    "filler": "Filler or neuromodulator",
    "tan_or_sunburn": "Tan or sunburn",
    "retinoids": "Retinoids or acids",
}

DAYS, WEEKS, MONTHS = "days", "weeks", "months"


def add_months(day, months):
    """`day` moved on by calendar months; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@dataclass(frozen=True)
class Wait:
    """How long a washout finding counts: `amount` `unit` after its date; `blocks` (refused
    inside the window) or not (a caution to acknowledge)."""

    amount: int
    unit: str
    blocks: bool

    def clears_on(self, day):
        if self.unit == MONTHS:
            return add_months(day, self.amount)
        return day + datetime.timedelta(**{self.unit: self.amount})

    def __str__(self):
        unit = self.unit.removesuffix("s") if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"


def area_name(code):
    """How an area reads in a message: "the cheeks and chin"; every area for ALL_AREAS."""
    from catalogue.models import area_chart  # the chart is reference data: read when it runs

    if code in ("", ALL_AREAS):
        return "every area"
    return area_chart().name(code).lower()


def overlaps(area, other):
    """Whether two areas overlap; ALL_AREAS (or blank) overlaps every area."""
    if other in ("", ALL_AREAS) or area in ("", ALL_AREAS):
        return True
    from catalogue.models import overlapping_area_codes

    return other in overlapping_area_codes(area)


@dataclass(frozen=True)
class Washout:
    """A washout finding in force on a day: until when, and whether it blocks."""

    label: str
    area: str  # "" for every area
    on: datetime.date
    clears_on: datetime.date
    blocks: bool
    wait: Wait

    def __str__(self):
        where = f" ({area_name(self.area)})" if self.area else ""
        if self.blocks:
            return (
                f"{self.label}{where} on {day(self.on)}: no needling "
                f"{'there ' if self.area else ''}until {day(self.clears_on)} "
                f"({self.wait} after)."
            )
        return (
            f"{self.label}{where} on {day(self.on)}: inside the {self.wait} washout until "
            f"{day(self.clears_on)}; weigh it with the client."
        )


@dataclass(frozen=True)
class Found:
    """A finding as the consultation keeps it: its kind, area ("" for every area) and date."""

    kind: str
    area: str = ""
    on: datetime.date | None = None

    @classmethod
    def from_json(cls, item):
        on = item.get("on")
        return cls(
            item["kind"], item.get("area") or "", datetime.date.fromisoformat(on) if on else None
        )

    def as_json(self):
        return {
            "kind": self.kind,
            "area": self.area,
            "on": self.on.isoformat() if self.on else None,
        }

    @property
    def washout(self):
        return FINDING_KINDS[self.kind].washout and self.on is not None

    def __str__(self):
        """ "Keloid scars (cheeks and chin)", "Isotretinoin: date of the last dose: 03 Mar 2026"."""
        text = FINDING_KINDS[self.kind].label
        if FINDING_KINDS[self.kind].area != "none":
            text += f" ({area_name(self.area)})"
        return f"{text}: {day(self.on)}" if self.on else text


def washouts_in_force(findings, waits, day, areas=None):
    """The washout findings still in force on `day`, for `areas` (None: wherever they are).
    `waits`: {kind: Wait}, the washout rules."""
    in_force = []
    for finding in findings:
        wait = waits.get(finding.kind)
        if not finding.washout or wait is None:
            continue
        clears_on = wait.clears_on(finding.on)
        if day >= clears_on:
            continue
        if areas is not None and not any(overlaps(area, finding.area) for area in areas):
            continue
        in_force.append(
            Washout(
                WASHOUT_KINDS[finding.kind], finding.area, finding.on, clears_on, wait.blocks, wait
            )
        )
    return in_force


PIGMENT_RISK = (
    "Fitzpatrick type {skin_type}: not a contraindication, and safer than lasers, but "
    "post-inflammatory hyperpigmentation is more likely (21.9% in one stretch-mark series). "
    "Use conservative depths and strict sun protection."
)
PIGMENT_RISK_WITH_PIGMENT_CONCERN = (
    "Pigment concern on type {skin_type} skin: needling can itself cause the darkening being "
    "treated. Consider a test patch."
)
KELOID_WITH_SCAR = (
    "Keloid tendency with a scar concern ({concerns}): needling scars in keloid-prone skin can "
    "make them worse. Test a patch and keep depths conservative."
)
INFLAMMATORY_CONCERN = (
    "{concerns}: needling inflamed skin can spread bacteria or cause a flare; the evidence of "
    "benefit is very low."
)
ANTICOAGULANTS_WITH_PIGMENT = (
    "Anticoagulants with {concerns}: tranexamic acid, often paired with needling for melasma, "
    "must not be used."
)
THROMBOSIS_WITH_PIGMENT = (
    "History of thrombosis with {concerns}: tranexamic acid, often paired with needling for "
    "melasma, must not be used."
)


@dataclass
class Assessment:
    outcome: str
    contraindications: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    # Areas that must not be treated without an override: finding areas, or ALL_AREAS.
    blocked_areas: set[str] = field(default_factory=set)
    # Washout findings in force on the day assessed (blocking ones are contraindications too,
    # which no override lifts: they clear on their date).
    washouts: list[Washout] = field(default_factory=list)

    def blocks(self, area):
        """Whether `area` (or an area containing it, or contained in it) is blocked."""
        return any(overlaps(area, blocked) for blocked in self.blocked_areas)

    def blocking_areas(self, areas):
        """The blocked finding areas (or ALL_AREAS) that affect any of `areas`: what a course on
        them overrides."""
        return {blocked for blocked in self.blocked_areas for a in areas if overlaps(a, blocked)}


def _names(concerns):
    return ", ".join(sorted({rc.concern.name for rc in concerns}))


def washout_kinds(findings):
    """The kinds of washout rule that `findings` need."""
    return {finding.kind for finding in findings if finding.washout}


def absolute_findings(consultation, findings):
    """{area (or ALL_AREAS): [reasons]} for the consultation's absolute contraindications.

    An infection, lesion or keloid is blocked where its findings say; answered before findings
    had areas, where the consultation's single `affected_area` said (blank: every area).
    """
    blocked = {}
    for name, reason, area_bound in ABSOLUTE:
        rows = [f for f in findings if f.kind == name]
        if not (getattr(consultation, name) or rows):
            continue
        if not area_bound:
            areas = [ALL_AREAS]
        elif rows:
            areas = [f.area or ALL_AREAS for f in rows]
        else:
            areas = [consultation.affected_area_id or ALL_AREAS]
        for area in areas:
            blocked.setdefault(area, []).append(reason)
    return blocked


def assess(consultation, recorded_concerns, on=None):
    """Assess a consultation: `recorded_concerns` are its RecordedConcern rows (with .concern);
    its findings (`found`) with the washout rules they need (`washout_waits`), the washouts as
    they stand `on` (default: the day of the consultation)."""
    from consultations.models import Consultation  # the choices only; no model at import time

    findings = consultation.found
    contraindications, cautions = [], []
    blocked = absolute_findings(consultation, findings)
    for _name, reason, _area_bound in ABSOLUTE:
        where = sorted(area_name(a) for a, reasons in blocked.items() if reason in reasons)
        if where == ["every area"]:
            contraindications.append(reason)
        elif where:
            contraindications.append(f"{reason} ({', '.join(where)})")

    for name, caution in RELATIVE:
        if getattr(consultation, name):
            cautions.append(caution)
    for name, kind, caution in UNDATED:
        if getattr(consultation, name) and not any(f.kind == kind for f in findings):
            cautions.append(caution)

    concern_areas = [rc.area_id for rc in recorded_concerns]
    washouts = washouts_in_force(
        findings, consultation.washout_waits, on or consultation.held_on, concern_areas or None
    )
    for washout in washouts:
        (contraindications if washout.blocks else cautions).append(str(washout))

    skin_type = consultation.client.skin_type
    pigment_concerns = [rc for rc in recorded_concerns if rc.concern.pigment_concern]
    if consultation.client.pigment_risk:
        cautions.append(PIGMENT_RISK.format(skin_type=skin_type))
        if pigment_concerns:
            cautions.append(PIGMENT_RISK_WITH_PIGMENT_CONCERN.format(skin_type=skin_type))
    scar_concerns = [rc for rc in recorded_concerns if rc.concern.scar_concern]
    if consultation.keloid_tendency and scar_concerns:
        cautions.append(KELOID_WITH_SCAR.format(concerns=_names(scar_concerns)))
    inflamed = [rc for rc in recorded_concerns if rc.concern.inflammatory_concern]
    if inflamed:
        cautions.append(INFLAMMATORY_CONCERN.format(concerns=_names(inflamed)))
    if consultation.anticoagulants and pigment_concerns:
        cautions.append(ANTICOAGULANTS_WITH_PIGMENT.format(concerns=_names(pigment_concerns)))
    if consultation.thrombosis_history and pigment_concerns:
        cautions.append(THROMBOSIS_WITH_PIGMENT.format(concerns=_names(pigment_concerns)))

    if contraindications:
        outcome = Consultation.Outcome.NOT_SUITABLE
    elif cautions:
        outcome = Consultation.Outcome.CAUTIONS
    else:
        outcome = Consultation.Outcome.SUITABLE
    return Assessment(outcome, contraindications, cautions, set(blocked), washouts)


# The pre-session check: what changed since the last visit, asked before every session and kept
# with it. (field, effect, message): "absolute" refuses the session, "relative" is a caution to
# acknowledge, and a washout kind follows its rule (from the date answered, or from the
# session's day for a yes).
ABSOLUTE_ANSWER, RELATIVE_ANSWER = "absolute", "relative"
PRE_SESSION = [
    (
        "check_new_infection",
        ABSOLUTE_ANSWER,
        "A new infection or cold sore in an area to treat: treat it first, and needle only "
        "once it has healed.",
    ),
    (
        "check_pregnant",
        RELATIVE_ANSWER,
        "Pregnant or breastfeeding now: there are no safety data, and numbing creams are absorbed.",
    ),
    ("check_isotretinoin", "isotretinoin", "Isotretinoin since the last visit"),
    (
        "check_new_medicines",
        RELATIVE_ANSWER,
        "New medicines since the last visit: anticoagulants mean more bleeding and bruising, "
        "and no tranexamic acid.",
    ),
    ("check_tan_on", "tan_or_sunburn", "Tan or sunburn"),
    (
        "check_reaction",
        RELATIVE_ANSWER,
        "A reaction to the last session (prolonged redness, swelling, pigment change, "
        "breakout): consider a shallower depth or a longer interval.",
    ),
    ("check_retinoids_on", "retinoids", "Retinoids or acids last used"),
]
PRE_SESSION_FIELDS = ("check_asked", *(name for name, _, _ in PRE_SESSION), "check_acknowledged")
# The answers that are dates (the others are yes or no).
PRE_SESSION_DATES = ("check_tan_on", "check_retinoids_on")
# The kinds of washout the pre-session check can bring up: their rules are read only then.
PRE_SESSION_WASHOUTS = {name: kind for name, kind, _ in PRE_SESSION if kind in WASHOUT_KINDS}

NOT_ASKED = (
    "Ask the client what changed since the last visit (infection or cold sore, pregnancy, new "
    "medicines, tan or sunburn, a reaction, retinoids) and tick here."
)
ACKNOWLEDGE = "Confirm that you have weighed these with the client: {cautions}"
ANSWER_AFTER_SESSION = "This date is after the session: give the day it happened."
BLOCKED_AREA = (
    "{area}: {reason} The consultation found it ({where}) and no override was recorded for it "
    "when the course started."
)


def pre_session_answers(answers, performed_on, rules):
    """The pre-session answers' refusals {field: [messages]} and cautions [messages].

    `rules`: {kind: Wait} of the washout kinds the answers bring up."""
    errors, cautions = {}, []
    for name, effect, message in PRE_SESSION:
        answer = answers.get(name)
        if not answer:
            continue
        if effect == ABSOLUTE_ANSWER:
            errors.setdefault(name, []).append(message)
        elif effect == RELATIVE_ANSWER:
            cautions.append(message)
        else:
            since = answer if name in PRE_SESSION_DATES else performed_on
            if since > performed_on:
                errors.setdefault(name, []).append(ANSWER_AFTER_SESSION)
                continue
            wait = rules.get(effect)
            if wait is None or performed_on >= wait.clears_on(since):
                continue
            washout = Washout(message, "", since, wait.clears_on(since), wait.blocks, wait)
            if name not in PRE_SESSION_DATES:  # a yes: the last dose is today at the earliest
                text = (
                    f"{message}: wait {wait} after the last dose (on "
                    f"{day(washout.clears_on)} at the earliest)."
                )
                if not wait.blocks:
                    text += " Weigh it with the client."
            else:
                text = str(washout)
            (errors.setdefault(name, []) if wait.blocks else cautions).append(text)
    return errors, cautions


def session_refusals(*, consultation, overridden, areas, performed_on, answers, rules, new=True):
    """Why a session on `areas` (area codes) on `performed_on` may not go ahead.

    Returns {field: [messages]}: areas the consultation's absolute findings block unless the
    course recorded an override for the finding's area (`overridden`: area codes or ALL_AREAS),
    washout windows in force for those areas, and the pre-session `answers` (absolute ones
    refuse; relative ones and cautioning washouts need `check_acknowledged`). `rules`: {kind:
    Wait} for the consultation's washout findings and the answers'. `new`: a new session must
    have the check asked; a correction of an older one need not.
    """
    errors = {}
    findings = consultation.found
    blocked = absolute_findings(consultation, findings)
    for area in areas:
        for where, reasons in blocked.items():
            if where in overridden or not overlaps(area, where):
                continue
            for reason in reasons:
                errors.setdefault("areas", []).append(
                    BLOCKED_AREA.format(
                        area=area_name(area).capitalize(), reason=reason, where=area_name(where)
                    )
                )
    cautions = []
    for washout in washouts_in_force(findings, rules, performed_on, areas):
        if washout.blocks:
            errors.setdefault("areas" if washout.area else "performed_on", []).append(str(washout))
        else:
            cautions.append(str(washout))
    answer_errors, answer_cautions = pre_session_answers(answers, performed_on, rules)
    for name, messages in answer_errors.items():
        errors.setdefault(name, []).extend(messages)
    cautions += answer_cautions
    if new and not answers.get("check_asked"):
        errors.setdefault("check_asked", []).append(NOT_ASKED)
    if cautions and not answers.get("check_acknowledged"):
        errors.setdefault("check_acknowledged", []).append(
            ACKNOWLEDGE.format(cautions=" ".join(cautions))
        )
    return errors
