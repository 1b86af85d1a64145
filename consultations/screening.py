"""Screening before micro-needling: the questions, and the outcome they lead to.

Absolute contraindications mean "do not treat the area" (the consultation is not suitable, and a
course there needs a recorded override reason). Relative ones are cautions the practitioner
weighs and acknowledges. Some cautions come from a combination of an answer and a concern, such
as a keloid tendency with a scar concern. Source: shared/domain/MICRONEEDLING.md.

This module works on attributes only (the models import its help texts, so it reads the
outcome choices from the model when it runs), and is tested on its own.
"""

from dataclasses import dataclass, field

HELP = {
    "infection": "Bacterial, fungal or viral infection, including a cold sore, in the area.",
    "immunosuppressed": "Immunosuppression, chemotherapy or radiotherapy, high-dose steroids, "
    "or uncontrolled diabetes.",
}

# Absolute contraindications: (field, reason shown, limited to the affected area?)
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
        "isotretinoin_recent",
        "Isotretinoin in the last 6 months: the label advises waiting; the evidence is mixed, "
        "so discuss and record the decision.",
    ),
    (
        "anticoagulants",
        "Anticoagulants: expect more bleeding and bruising; tranexamic acid must not be used.",
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
    (
        "recent_tan_or_sunburn",
        "Recent tan or sunburn: higher risk of pigment change; wait for the skin to settle.",
    ),
]

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

ALL_AREAS = "all"


@dataclass
class Assessment:
    outcome: str
    contraindications: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    # Areas that must not be treated without an override: ALL_AREAS, or a set of area codes.
    blocked_areas: set[str] = field(default_factory=set)

    def blocks(self, area):
        return ALL_AREAS in self.blocked_areas or area in self.blocked_areas


def _names(concerns):
    return ", ".join(sorted({rc.concern.name for rc in concerns}))


def assess(consultation, recorded_concerns):
    """Assess a consultation: `recorded_concerns` are its RecordedConcern rows (with .concern)."""
    from consultations.models import Consultation  # the choices only; no model at import time

    contraindications, cautions, blocked = [], [], set()
    for name, reason, area_bound in ABSOLUTE:
        if getattr(consultation, name):
            contraindications.append(reason)
            if area_bound and consultation.affected_area_id:
                blocked.add(consultation.affected_area_id)
            else:
                blocked.add(ALL_AREAS)

    for name, caution in RELATIVE:
        if getattr(consultation, name):
            cautions.append(caution)

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

    if contraindications:
        outcome = Consultation.Outcome.NOT_SUITABLE
    elif cautions:
        outcome = Consultation.Outcome.CAUTIONS
    else:
        outcome = Consultation.Outcome.SUITABLE
    return Assessment(outcome, contraindications, cautions, blocked)
