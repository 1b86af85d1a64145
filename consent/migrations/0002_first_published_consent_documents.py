"""The three consent documents every clinic starts with, each with a first published version:
the micro-needling treatment (with every risk the domain file names, and the aftercare),
numbing cream, and clinical photographs. Managers write later versions in the admin.

The texts are written out here as they stood when this ran, sealed with their SHA-256.
"""

import hashlib

from django.db import migrations
from django.utils import timezone

TREATMENT = """\
## What micro-needling is
A pen or roller with very fine sterile needles makes many tiny channels in the skin. The skin
heals them by making new collagen, which is what can improve scars, fine lines, texture and
pores over time. Each session takes about an hour, numbing included.

## What it can and cannot do
- Results build slowly, over 3 to 6 months after a course, as new collagen forms.
- Results vary from person to person. Nobody can promise a particular result, and some
  concerns improve only a little.
- A course is usually several sessions a few weeks apart; the practitioner has explained the
  number and spacing suggested for you.

## Risks and side effects
- Redness and swelling, like a sunburn, usually for 1 to 3 days.
- Pinpoint bleeding during the treatment. This is expected.
- Discomfort: micro-needling is not painless. Numbing cream reduces it but does not remove it.
- Post-inflammatory hyperpigmentation (darker patches) after the skin heals. It is more likely
  on darker skin types (Fitzpatrick IV to VI) and can take months to fade.
- Infection, if bacteria enter the open channels. Follow the aftercare closely.
- A cold sore coming back (reactivation) if you have had cold sores before. Tell us: you may
  need antiviral tablets before treatment.
- Tram-track marks: lines of small marks or scars, rare, when a device is dragged or used too
  deep.
- Granulomas (small firm lumps) have been reported when serums not made for needling, such as
  some vitamin C serums, enter the skin. We only apply products approved for needling.
- Allergic or irritant reactions to products, and a flare of acne or milia (small white bumps).

## Before treatment, tell us about
Infections, cold sores, skin conditions, keloid scars, bleeding problems or blood thinners,
isotretinoin (Roaccutane) in the last 6 months, pregnancy or breastfeeding, a recent tan or
sunburn, new medicines, and any reaction to a previous session.

## Aftercare
- Keep the skin clean. No make-up for 24 hours.
- Use a gentle cleanser and moisturiser, and broad-spectrum sunscreen (SPF 30 or more) every day.
- No retinoids, acids (AHA, BHA) or vitamin C serums for 2 to 5 days.
- No sweating, swimming, sauna or steam room for 48 to 72 hours.
- Expect redness for about a day, up to 3 days.
- Contact the clinic if you see signs of infection: heat, pus, spreading redness or pain that
  gets worse, or a fever. Out of hours, follow the advice on your aftercare sheet.

## Your consent
I have read this document and had the chance to ask questions. I understand the risks, that
results build over months and vary, and that I can stop the course or withdraw my consent at
any time. I consent to micro-needling of the areas agreed with my practitioner, with the
serums approved for needling that they choose.
"""

NUMBING = """\
## Numbing cream
Before micro-needling a topical anaesthetic cream (usually lidocaine, sometimes with
prilocaine or tetracaine) is applied to the area for 20 to 45 minutes.

## What it does and does not do
- It reduces discomfort; it does not make the treatment painless.
- The area may feel numb for an hour or two afterwards.

## Risks
- Redness, paleness, itching or a burning feeling where it is applied.
- Rarely, an allergic reaction. Tell us if you have ever reacted to a local anaesthetic
  (for example at the dentist).
- Used on large areas it can be absorbed into the blood: we use the amount the product allows.

## Your consent
I have told the practitioner about any allergy to anaesthetics and I consent to numbing cream
being applied before treatment.
"""

PHOTOGRAPHS = """\
## Clinical photographs
We take photographs of the treated areas before and during your course, always from the same
angles and in the same light, to follow your progress and to make decisions about treatment.

## How they are kept
- They are part of your clinical record, stored privately and seen only by the clinic's staff.
- Their location and device details are removed when they are stored.
- They are never published, shared on social media or used in advertising without a separate,
  written permission.

## Withdrawing
You can withdraw this consent at any time. No new photographs are taken after that. The
photographs already taken stay in your clinical record (the law requires records to be kept)
and are marked as taken before the withdrawal.

## Your consent
I consent to clinical photographs of the treated areas being taken and kept in my record.
"""

DOCUMENTS = [
    ("treatment", "Micro-needling treatment consent", TREATMENT),
    ("numbing", "Numbing cream consent", NUMBING),
    ("photographs", "Clinical photographs consent", PHOTOGRAPHS),
]


def ship(apps, schema_editor):
    ConsentDocument = apps.get_model("consent", "ConsentDocument")
    ConsentVersion = apps.get_model("consent", "ConsentVersion")
    now = timezone.now()
    for kind, title, text in DOCUMENTS:
        document = ConsentDocument.objects.create(kind=kind, title=title)
        ConsentVersion.objects.create(
            document=document,
            number=1,
            text=text,
            status="published",
            published_at=now,
            text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )


def take_back(apps, schema_editor):
    ConsentVersion = apps.get_model("consent", "ConsentVersion")
    ConsentDocument = apps.get_model("consent", "ConsentDocument")
    ConsentVersion.objects.filter(number=1, document__kind__in=[d[0] for d in DOCUMENTS]).delete()
    ConsentDocument.objects.filter(kind__in=[d[0] for d in DOCUMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_signed_consent_to_versioned_documents")]

    operations = [migrations.RunPython(ship, take_back)]
