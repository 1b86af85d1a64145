"""Ship the concern catalogue and the common products with every new database.

Figures come from shared/domain/MICRONEEDLING.md (clinic articles beside published studies);
the text is our own. Managers edit the rows afterwards in the admin; re-running this migration
(on a fresh database) only fills in what is missing.
"""

from decimal import Decimal

from django.db import migrations

AFTER_3_TO_6_MONTHS = "Collagen builds slowly: measured gains come 3-6 months after a course."

CONCERNS = [
    {
        "slug": "acne-scars",
        "name": "Atrophic acne scars",
        "summary": "Rolling and boxcar scars left by acne; the best-studied use of needling.",
        "benefit": (
            "Needling breaks up the tethered scar bed and starts new collagen under it, so "
            "rolling and boxcar scars become shallower and catch less light. Expect softening, "
            "not erasure: most trials report about one grade of improvement on scar scales. "
            "Deep, narrow ice-pick scars respond poorly. " + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "All five clinic articles promise fading or even disappearing scars. The studies "
            "support a real but moderate gain: a review of 58 studies and a split-face "
            "randomised trial (Alam 2014) found improvement after about three monthly "
            "sessions. 'Scars entirely gone' is not what trials show."
        ),
        "evidence_level": "moderate",
        "sources": "Alam 2014, JAMA Dermatol; Alster & Graham 2018, Dermatol Surg 44:397; "
        "Harris 2015, Int J Women's Dermatol.",
        "sessions_min": 3,
        "sessions_typical": 3,
        "sessions_max": 6,
        "sessions_note": "Trials used 3-6 sessions; the median course was 3.",
        "interval_weeks": 4,
        "interval_min_weeks": 2,
        "interval_max_weeks": 6,
        "depth_min_mm": Decimal("1.00"),
        "depth_max_mm": Decimal("2.00"),
        "depth_guidance": (
            "Cheeks and chin: 0.5-1.0 mm on thin skin, 1.0-2.0 mm on thick skin; scar trials "
            "used 1.5 mm. Stay shallower near the eyes and mouth."
        ),
        "cautions": (
            "Do not needle over active acne (it can spread bacteria). With a keloid tendency, "
            "test a small patch first."
        ),
        "combinations": (
            "PRP applied during needling; glycolic acid peels alternating with needling sessions."
        ),
        "scar_concern": True,
    },
    {
        "slug": "atrophic-scars",
        "name": "Other atrophic scars",
        "summary": "Flat or sunken scars from surgery, injury or chickenpox (never keloids).",
        "benefit": (
            "Sunken scars from surgery, injury or chickenpox can blend better with the "
            "surrounding skin as new collagen fills them in. Improvement is partial and "
            "varies from scar to scar. Raised (hypertrophic or keloid) scars are not treated "
            "this way. " + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "Two clinic articles mention scars in general. Published evidence is limited to "
            "small case series, mostly about three sessions; there are no good comparative "
            "trials."
        ),
        "evidence_level": "low",
        "sources": "Alster & Graham 2018, Dermatol Surg 44:397 (review).",
        "sessions_min": 3,
        "sessions_typical": 3,
        "sessions_max": 3,
        "sessions_note": "About 3 sessions in the published series; review after the third.",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_guidance": (
            "No validated depth for these scars: follow the area chart (thin skin shallower) "
            "and the scar's thickness."
        ),
        "cautions": (
            "Keloid scars themselves must never be needled; with a keloid tendency, test a "
            "small patch first. Wait until a surgical scar is mature (usually a year)."
        ),
        "combinations": "Glycolic acid peels alternating with needling.",
        "scar_concern": True,
    },
    {
        "slug": "stretch-marks",
        "name": "Stretch marks (striae)",
        "summary": "Striae on abdomen, thighs, breasts or arms; red ones respond better.",
        "benefit": (
            "Needling can make stretch marks narrower, flatter and closer to the surrounding "
            "skin colour. Newer, red or purple marks respond better than old white ones, "
            "which usually improve only a little. " + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "The clinic article quotes 2-12 sessions (with Fraxel laser). Published studies "
            "used 1-6 sessions and found moderate improvement, comparable to fractional laser "
            "but more painful. Evidence is low to moderate."
        ),
        "evidence_level": "low_moderate",
        "sources": "Alster & Li 2020, Dermatol Surg 46:459; Singh & Yadav 2016, Indian "
        "Dermatol Online J; Farber 2020, Plast Aesthet Res.",
        "sessions_min": 2,
        "sessions_typical": 6,
        "sessions_max": 12,
        "sessions_note": (
            "2-12 as the clinic's source states; studies used 1-6 sessions, so the suggested "
            "course is 6. Review progress before planning more."
        ),
        "interval_weeks": 4,
        "interval_min_weeks": 2,
        "interval_max_weeks": 4,
        "depth_min_mm": Decimal("1.50"),
        "depth_max_mm": Decimal("2.00"),
        "depth_guidance": "Body skin: 1.5-2.0 mm.",
        "cautions": (
            "On Fitzpatrick IV-VI skin pigment changes are common: one stretch-mark series saw "
            "post-inflammatory hyperpigmentation in 21.9% of patients."
        ),
        "combinations": (
            "Fractional laser such as Fraxel (comparable results); RF micro-needling."
        ),
        "scar_concern": True,
    },
    {
        "slug": "fine-lines-wrinkles",
        "name": "Fine lines and wrinkles",
        "summary": "Fine lines and early wrinkles on the face and neck.",
        "benefit": (
            "New collagen and elastin thicken the skin a little, which softens fine lines. "
            "Deep folds and expression lines change less. In one study four monthly sessions "
            "roughly doubled dermal density (+102%). " + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "All five clinic articles list anti-ageing. Small studies support a modest "
            "improvement after about four monthly sessions; results 'almost immediately' are "
            "swelling, not new collagen."
        ),
        "evidence_level": "low_moderate",
        "sources": "Juhasz & Cohen 2020 (PMC7764156); Iriarte 2017 (PMC5556180).",
        "sessions_min": 2,
        "sessions_typical": 4,
        "sessions_max": 6,
        "sessions_note": "Usually 4 monthly sessions (2-6).",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_min_mm": Decimal("0.50"),
        "depth_max_mm": Decimal("1.50"),
        "depth_guidance": (
            "Around the eyes 0.25-0.5 mm; forehead 0.25-0.75 mm; cheeks 0.5-1.5 mm depending "
            "on skin thickness."
        ),
        "cautions": "",
        "combinations": "Hyaluronic acid or peptide serums approved for needling.",
    },
    {
        "slug": "skin-laxity",
        "name": "Skin laxity and tightening",
        "summary": "Mild loss of firmness on the face, neck or body.",
        "benefit": (
            "May firm mildly lax skin slightly as collagen remodels. It does not lift sagging "
            "skin; clients with marked laxity should hear about other options. "
            + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "Two clinic articles promise tighter skin. Published support is low: small "
            "uncontrolled series, mostly about four sessions."
        ),
        "evidence_level": "low",
        "sources": "Iriarte 2017 (PMC5556180).",
        "sessions_min": 4,
        "sessions_typical": 4,
        "sessions_max": 4,
        "sessions_note": "About 4 sessions in the reports.",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_guidance": "No validated depth: follow the area chart.",
        "cautions": "",
        "combinations": "RF micro-needling is more often studied for tightening.",
    },
    {
        "slug": "texture-pores",
        "name": "Texture, tone and enlarged pores",
        "summary": "Rough or uneven texture, dullness and visible pores.",
        "benefit": (
            "Skin often looks smoother and more even after a course. Pores may look smaller, "
            "but most of that evidence comes from radiofrequency micro-needling, not plain "
            "needling. " + AFTER_3_TO_6_MONTHS
        ),
        "evidence_summary": (
            "Three clinic articles claim refined pores and glow, and one that needling "
            "'reduces oil': there is no evidence it reduces oil. Support for texture is low."
        ),
        "evidence_level": "low",
        "sources": "Iriarte 2017 (PMC5556180); PMC6122507.",
        "sessions_min": 4,
        "sessions_typical": 4,
        "sessions_max": 4,
        "sessions_note": "About 4 sessions.",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_min_mm": Decimal("0.50"),
        "depth_max_mm": Decimal("1.00"),
        "depth_guidance": "0.5-1.0 mm on the face.",
        "cautions": "",
        "combinations": "RF micro-needling for pores.",
    },
    {
        "slug": "hyperpigmentation",
        "name": "Hyperpigmentation and PIH",
        "summary": "Dark marks, including those left after acne (post-inflammatory).",
        "benefit": (
            "Needling with a vitamin C serum made for needling helped post-inflammatory "
            "hyperpigmentation in small studies. The same procedure can also cause pigment "
            "changes, so progress is slow and cautious."
        ),
        "evidence_summary": (
            "Four clinic articles promise an even tone. Evidence is low: small studies, "
            "courses of 3-6 sessions, and hyperpigmentation is itself a reported side effect."
        ),
        "evidence_level": "low",
        "sources": "Cohen & Elbuluk 2016, JAAD (PMID 26549251).",
        "sessions_min": 3,
        "sessions_typical": 3,
        "sessions_max": 6,
        "sessions_note": "No validated course; published courses used 3-6 sessions.",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_guidance": "No validated depth: stay conservative and follow the area chart.",
        "cautions": (
            "Needling can cause the very darkening being treated, above all on Fitzpatrick "
            "IV-VI skin and after sun exposure. Strict sun protection."
        ),
        "combinations": (
            "Vitamin C serum approved for needling; glycolic acid peels alternating with needling."
        ),
        "pigment_concern": True,
    },
    {
        "slug": "melasma",
        "name": "Melasma",
        "summary": "Hormone- and sun-driven patches of pigment on the face.",
        "benefit": (
            "Mostly useful as a way to deliver tranexamic acid into the skin, which lightened "
            "melasma in trials. Melasma returns easily, so maintenance and sun protection "
            "matter as much as the course."
        ),
        "evidence_summary": (
            "One clinic article mentions melasma. Trials are small, with low to moderate "
            "evidence, and mostly test needling plus tranexamic acid: 3-6 sessions 1-4 weeks "
            "apart, or weekly for 12 weeks."
        ),
        "evidence_level": "low_moderate",
        "sources": "Saleh 2019, J Egypt Women's Dermatol Soc 16:89; PMID 33656167.",
        "sessions_min": 3,
        "sessions_typical": 6,
        "sessions_max": 12,
        "sessions_note": "3-6 sessions, or weekly for 12 weeks with tranexamic acid.",
        "interval_weeks": 4,
        "interval_min_weeks": 1,
        "interval_max_weeks": 4,
        "depth_guidance": "No validated depth: stay superficial and follow the area chart.",
        "cautions": (
            "Tranexamic acid must not be used with a history of thrombosis or with "
            "anticoagulants. Pigment can worsen on Fitzpatrick IV-VI skin."
        ),
        "combinations": "Tranexamic acid delivered by needling.",
        "pigment_concern": True,
    },
    {
        "slug": "sun-damage",
        "name": "Sun damage",
        "summary": "Photo-aged skin: roughness, uneven colour and fine lines from the sun.",
        "benefit": (
            "May improve the roughness and uneven colour of sun-damaged skin. The only study "
            "was small (10 patients, 6 sessions two weeks apart), so promise little."
        ),
        "evidence_summary": (
            "Two clinic articles claim it reverses sun damage. One small study (n=10) is all "
            "the published support: low evidence."
        ),
        "evidence_level": "low",
        "sources": "Juhasz & Cohen 2020 (PMC7764156).",
        "sessions_min": 6,
        "sessions_typical": 6,
        "sessions_max": 6,
        "sessions_note": "6 sessions, 2 weeks apart, in the one study.",
        "interval_weeks": 2,
        "interval_min_weeks": 2,
        "interval_max_weeks": 2,
        "depth_guidance": "No validated depth: follow the area chart.",
        "cautions": "Check for suspicious lesions first: sun-damaged skin can hide skin cancer.",
        "combinations": "",
    },
    {
        "slug": "rosacea",
        "name": "Rosacea redness",
        "summary": "Persistent facial redness and flushing.",
        "benefit": (
            "Only radiofrequency micro-needling has been reported to reduce rosacea redness, "
            "in very small studies. Plain needling can make rosacea flare."
        ),
        "evidence_summary": (
            "One clinic article suggests needling calms redness. Evidence is very low: two "
            "sessions of RF micro-needling in small reports; none for plain needling."
        ),
        "evidence_level": "very_low",
        "sources": "PMC6122507.",
        "sessions_min": 2,
        "sessions_typical": 2,
        "sessions_max": 2,
        "sessions_note": "2 sessions of RF micro-needling in the reports.",
        "interval_weeks": 4,
        "interval_min_weeks": 4,
        "interval_max_weeks": 4,
        "depth_guidance": "RF micro-needling settings per the device maker.",
        "cautions": "Never needle during a flare; plain needling may trigger one.",
        "combinations": "RF micro-needling.",
        "inflammatory_concern": True,
    },
    {
        "slug": "hair-thinning",
        "name": "Hair thinning (androgenetic alopecia)",
        "summary": "Pattern hair thinning on the scalp, alongside minoxidil.",
        "benefit": (
            "Added to minoxidil, scalp needling gave more regrowth than minoxidil alone in "
            "trials. It does not revive dead follicles: it helps thinning hair that is still "
            "growing."
        ),
        "evidence_summary": (
            "One clinic article says needling 'revives dead follicles', which is not what "
            "studies show. Trials (moderate evidence) treated thinning hair with minoxidil: "
            "12 weekly or 4 monthly sessions."
        ),
        "evidence_level": "moderate",
        "sources": "Dhurat 2013 (PMC3746236); Chu 2021, Dermatol Surg 47:1249.",
        "sessions_min": 4,
        "sessions_typical": 12,
        "sessions_max": 12,
        "sessions_note": "12 weekly sessions, or 4 monthly.",
        "interval_weeks": 1,
        "interval_min_weeks": 1,
        "interval_max_weeks": 4,
        "depth_min_mm": Decimal("1.50"),
        "depth_max_mm": Decimal("1.50"),
        "depth_guidance": "Scalp: 1.5 mm.",
        "cautions": "Needling is an add-on: the client continues minoxidil.",
        "combinations": "Minoxidil (essential); PRP showed no extra gain for hair.",
    },
    {
        "slug": "active-acne",
        "name": "Active acne and blackheads",
        "summary": "Spots, pustules and blackheads that are active now.",
        "benefit": (
            "Micro-needling is not a treatment for active acne. Needling through active "
            "spots can spread bacteria and cause flares. Treat the acne first, then needle "
            "the scars it leaves once the skin is clear."
        ),
        "evidence_summary": (
            "Clinic articles claim needling 'stops acne', 'kills bacteria', 'oxygenates "
            "pores' and 'reduces oil': none of this is supported. Evidence is very low and "
            "flares are reported."
        ),
        "evidence_level": "very_low",
        "sources": "AAD press release on micro-needling (2018).",
        "sessions_note": "No established course.",
        "depth_guidance": "Do not needle active lesions.",
        "cautions": "Needling over active acne can spread bacteria; refer for acne treatment.",
        "combinations": "",
        "inflammatory_concern": True,
    },
]

PRODUCTS = [
    {
        "name": "Hyaluronic acid serum (sterile, needling grade)",
        "kind": "serum",
        "active_ingredient": "Sodium hyaluronate",
    },
    {
        "name": "Vitamin C serum (needling grade)",
        "kind": "serum",
        "active_ingredient": "Ascorbic acid",
        "notes": "Only a formulation approved for needling: granulomas are reported after "
        "other vitamin C serums.",
    },
    {
        "name": "Peptide serum (needling grade)",
        "kind": "serum",
        "active_ingredient": "Signal peptides",
    },
    {
        "name": "Vitamin A serum",
        "kind": "serum",
        "active_ingredient": "Retinyl palmitate",
        "approved_for_needling": False,
        "notes": "For home use between sessions, not on open channels; stop 2-5 days after "
        "needling.",
    },
    {
        "name": "Tranexamic acid solution",
        "kind": "serum",
        "active_ingredient": "Tranexamic acid",
        "notes": "For melasma. Not with a history of thrombosis or with anticoagulants.",
    },
    {
        "name": "Lidocaine 4% cream",
        "kind": "numbing",
        "active_ingredient": "Lidocaine 4%",
    },
    {
        "name": "Lidocaine/prilocaine 2.5%/2.5% cream",
        "kind": "numbing",
        "active_ingredient": "Lidocaine 2.5%, prilocaine 2.5%",
    },
    {
        "name": "Mineral sunscreen SPF 50",
        "kind": "aftercare",
        "active_ingredient": "Zinc oxide",
    },
]


def load_catalogue(apps, schema_editor):
    Concern = apps.get_model("treatments", "Concern")
    Product = apps.get_model("treatments", "Product")
    for row in CONCERNS:
        row = dict(row)
        Concern.objects.get_or_create(slug=row.pop("slug"), defaults=row)
    for row in PRODUCTS:
        row = dict(row)
        Product.objects.get_or_create(name=row.pop("name"), defaults=row)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
