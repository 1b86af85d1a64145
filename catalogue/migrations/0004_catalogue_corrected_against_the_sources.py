"""Correct the shipped catalogue against the published sources (issue 14), and fill in the range
of sessions the studies used and which concern's evidence is for RF micro-needling only.

Figures come from shared/domain/MICRONEEDLING.md ("Sources"); the text is our own. A field is
corrected only while it still holds the text or figure the catalogue shipped with: what a
manager has edited since stays as they left it. Each corrected concern gets an audit row, as
0002 gave every concern its first one: "~", no user, at the time of this migration.
"""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

REASON = "Corrected against the published sources"

AFTER_3_TO_6_MONTHS = "Collagen builds slowly: measured gains come 3-6 months after a course."

# slug -> field -> (as shipped, corrected)
CORRECTIONS = {
    "acne-scars": {
        "evidence_summary": (
            "All five clinic articles promise fading or even disappearing scars. The studies "
            "support a real but moderate gain: a review of 58 studies and a split-face "
            "randomised trial (Alam 2014) found improvement after about three monthly "
            "sessions. 'Scars entirely gone' is not what trials show.",
            "All five clinic articles promise fading or even disappearing scars. The studies "
            "support a real but moderate gain: a review of 58 scar studies found steady "
            "improvement, and a split-face randomised trial (Alam 2014, 20 patients) saw it "
            "after three sessions given two weeks apart. Clinic courses are usually about "
            "three sessions four weeks apart. 'Scars entirely gone' is not what trials show.",
        ),
        "sources": (
            "Alam 2014, JAMA Dermatol; Alster & Graham 2018, Dermatol Surg 44:397; "
            "Harris 2015, Int J Women's Dermatol.",
            "Alam 2014, JAMA Dermatol 150:844 (split-face randomised trial, n=20, 3 sessions "
            "2 weeks apart); Harris 2015, Int J Women's Dermatol (median 3 sessions, every 4 "
            "weeks, 1.5 mm); Juhasz & Cohen 2020, PMC7764156 (review of 58 scar studies); "
            "Alster & Graham 2018, Dermatol Surg 44:397 (review).",
        ),
        # The area chart: scars near the eyes and mouth are needled from 0.25 mm.
        "depth_min_mm": (Decimal("1.00"), Decimal("0.25")),
        "depth_guidance": (
            "Cheeks and chin: 0.5-1.0 mm on thin skin, 1.0-2.0 mm on thick skin; scar trials "
            "used 1.5 mm. Stay shallower near the eyes and mouth.",
            "By area, as the area chart gives it: cheeks and chin 0.5-1.0 mm on thin skin, "
            "1.0-2.0 mm on thick skin (scar trials used 1.5 mm); forehead 0.25-0.75 mm; "
            "around the eyes and the mouth from 0.25 mm.",
        ),
    },
    "stretch-marks": {
        "cautions": (
            "On Fitzpatrick IV-VI skin pigment changes are common: one stretch-mark series saw "
            "post-inflammatory hyperpigmentation in 21.9% of patients.",
            "Pigment can darken after needling: a series of white stretch marks (striae alba) "
            "in clients of mixed skin types saw post-inflammatory hyperpigmentation in 21.9% "
            "(Arch Dermatol Res 2023, 32 patients), while Alster & Li 2020 saw none in types "
            "I-V. Take particular care on Fitzpatrick IV-VI skin.",
        ),
        "sources": (
            "Alster & Li 2020, Dermatol Surg 46:459; Singh & Yadav 2016, Indian "
            "Dermatol Online J; Farber 2020, Plast Aesthet Res.",
            "Alster & Li 2020, Dermatol Surg 46:459 (25 patients, 1-3 monthly sessions, no "
            "pigment changes in types I-V); striae alba series, Arch Dermatol Res 2023 (n=32, "
            "mixed skin types, PIH in 21.9%); Singh & Yadav 2016, Indian Dermatol Online J; "
            "Farber 2020, Plast Aesthet Res. The 2-12 sessions are a clinic article's figure.",
        ),
    },
    "fine-lines-wrinkles": {
        "benefit": (
            "New collagen and elastin thicken the skin a little, which softens fine lines. "
            "Deep folds and expression lines change less. In one study four monthly sessions "
            "roughly doubled dermal density (+102%). " + AFTER_3_TO_6_MONTHS,
            "New collagen and elastin thicken the skin a little, which softens fine lines. "
            "Deep folds and expression lines change less. In one study, four monthly sessions "
            "raised the density of the dermis on ultrasound by 102%: a measurement under the "
            "skin, not lines that look half as deep. " + AFTER_3_TO_6_MONTHS,
        ),
        "sources": (
            "Juhasz & Cohen 2020 (PMC7764156); Iriarte 2017 (PMC5556180).",
            "Aesthet Surg J 2021, PMID 33656167 (n=32, 4 monthly sessions; ultrasound dermal "
            "density +102%, a surrogate measure); Ablon 2018, PMC6122507 (automated needling "
            "for facial ageing, 4 sessions 30 days apart); Iriarte 2017 (PMC5556180).",
        ),
        # The area chart: around the eyes from 0.25 mm.
        "depth_min_mm": (Decimal("0.50"), Decimal("0.25")),
    },
    "texture-pores": {
        "sources": (
            "Iriarte 2017 (PMC5556180); PMC6122507.",
            "Iriarte 2017 (PMC5556180); Ablon 2018, PMC6122507 (automated needling for facial "
            "ageing).",
        ),
    },
    "melasma": {
        "evidence_summary": (
            "One clinic article mentions melasma. Trials are small, with low to moderate "
            "evidence, and mostly test needling plus tranexamic acid: 3-6 sessions 1-4 weeks "
            "apart, or weekly for 12 weeks.",
            "One clinic article mentions melasma. Trials are small, with low to moderate "
            "evidence, and mostly test needling as a way to deliver tranexamic acid: 3-6 "
            "sessions 1-4 weeks apart, or weekly for 12 weeks. In the largest (42 patients, "
            "six sessions two weeks apart) tranexamic acid with needling did better than "
            "needling alone.",
        ),
        "sources": (
            "Saleh 2019, J Egypt Women's Dermatol Soc 16:89; PMID 33656167.",
            "Saleh 2019, J Egypt Women's Dermatol Soc 16:89 (n=42, 6 sessions 2 weeks apart, "
            "tranexamic acid with needling better than needling alone); Cohen & Elbuluk 2016, "
            "JAAD (PMID 26549251).",
        ),
    },
    "sun-damage": {
        "benefit": (
            "May improve the roughness and uneven colour of sun-damaged skin. The only study "
            "was small (10 patients, 6 sessions two weeks apart), so promise little.",
            "May improve the roughness and uneven colour of sun-damaged skin. The only study "
            "was small (10 patients with skin types III-IV, 6 sessions two weeks apart), so "
            "promise little.",
        ),
        "sources": (
            "Juhasz & Cohen 2020 (PMC7764156).",
            "El-Domyati 2015, Int J Dermatol (n=10, skin types III-IV, 6 sessions 2 weeks apart).",
        ),
    },
    "rosacea": {
        "benefit": (
            "Only radiofrequency micro-needling has been reported to reduce rosacea redness, "
            "in very small studies. Plain needling can make rosacea flare.",
            "Only radiofrequency (RF) micro-needling has been reported to reduce rosacea "
            "redness, in one small study. Plain needling can make rosacea flare.",
        ),
        "evidence_summary": (
            "One clinic article suggests needling calms redness. Evidence is very low: two "
            "sessions of RF micro-needling in small reports; none for plain needling.",
            "One clinic article suggests needling calms redness. The only support is one "
            "small study of RF micro-needling (21 patients, two sessions four weeks apart), "
            "in which redness measured as an erythema index fell by 13.6%. Nothing supports "
            "plain needling: very low evidence.",
        ),
        "sources": (
            "PMC6122507.",
            "Park 2016, Dermatol Surg 42:1362 (n=21, 2 sessions of RF micro-needling 4 weeks "
            "apart, erythema index -13.6%).",
        ),
        "sessions_note": (
            "2 sessions of RF micro-needling in the reports.",
            "2 sessions of RF micro-needling, 4 weeks apart, in the one study.",
        ),
        "rf_only": (False, True),
    },
    "active-acne": {
        "sources": (
            "AAD press release on micro-needling (2018).",
            "Harris 2015, Int J Women's Dermatol (acne flares after needling); the warning in "
            "the clinic article '5 Skin Care Benefits' that needling can spread bacteria. No "
            "study shows a benefit.",
        ),
    },
}

# The range of sessions published studies used (None: no published course), set where the
# field is still empty.
STUDIED_SESSIONS = {
    "acne-scars": (3, 6),
    "atrophic-scars": (3, 3),
    "stretch-marks": (1, 6),
    "fine-lines-wrinkles": (4, 4),
    "skin-laxity": (4, 4),
    "texture-pores": (4, 4),
    "hyperpigmentation": (3, 6),
    "melasma": (3, 12),
    "sun-damage": (6, 6),
    "rosacea": (2, 2),
    "hair-thinning": (4, 12),
}


def _audit(apps, db, changed, now):
    """An audit row for each concern in `changed`, as it now is."""
    Concern = apps.get_model("catalogue", "Concern")
    history = apps.get_model("catalogue", "HistoricalConcern")
    fields = [field.attname for field in Concern._meta.concrete_fields]
    history.objects.using(db).bulk_create(
        history(
            **{field: getattr(row, field) for field in fields},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
        )
        for row in changed
    )


def correct(apps, schema_editor):
    db = schema_editor.connection.alias
    Concern = apps.get_model("catalogue", "Concern")
    changed = []
    for row in Concern.objects.using(db).filter(slug__in=CORRECTIONS.keys() | STUDIED_SESSIONS):
        updated = []
        for field, (shipped, corrected) in CORRECTIONS.get(row.slug, {}).items():
            if getattr(row, field) == shipped:
                setattr(row, field, corrected)
                updated.append(field)
        studied = STUDIED_SESSIONS.get(row.slug)
        if studied and row.studied_sessions_min is None and row.studied_sessions_max is None:
            row.studied_sessions_min, row.studied_sessions_max = studied
            updated += ["studied_sessions_min", "studied_sessions_max"]
        if updated:
            row.save(update_fields=updated)
            changed.append(row)
    _audit(apps, db, changed, timezone.now())


def uncorrect(apps, schema_editor):
    """Back to the catalogue as shipped, where a field still holds the correction; the audit rows
    this migration wrote go with it (0003, reversed next, drops the fields they would name)."""
    db = schema_editor.connection.alias
    Concern = apps.get_model("catalogue", "Concern")
    history = apps.get_model("catalogue", "HistoricalConcern")
    for row in Concern.objects.using(db).filter(slug__in=CORRECTIONS.keys()):
        updated = []
        for field, (shipped, corrected) in CORRECTIONS[row.slug].items():
            if getattr(row, field) == corrected:
                setattr(row, field, shipped)
                updated.append(field)
        if updated:
            row.save(update_fields=updated)
    history.objects.using(db).filter(history_change_reason=REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0003_concern_sessions_in_studies_and_rf_only")]

    operations = [migrations.RunPython(correct, uncorrect)]
