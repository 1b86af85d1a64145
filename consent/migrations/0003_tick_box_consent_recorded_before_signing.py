"""The consultation's consent tick box, kept as consents "recorded before signed consent was
available": one for the treatment for each standing consultation whose box was ticked, one for
numbing cream when its scope named it, one for photographs when that box was ticked.

They name no version and carry no signature, so no page shows them as signed. They let the
sessions of a course already running go ahead until they expire (DJANGO_CONSENT_VALID_MONTHS
after they were recorded); a new course needs a signed consent. A voided consultation's tick box
is not carried over: the consultation was recorded by mistake. The consultation keeps its old
columns, readable as they were.
"""

from django.db import migrations


def carry_over(apps, schema_editor):
    Consultation = apps.get_model("consultations", "Consultation")
    ConsentDocument = apps.get_model("consent", "ConsentDocument")
    SignedConsent = apps.get_model("consent", "SignedConsent")
    documents = {
        d.kind: d
        for d in ConsentDocument.objects.filter(kind__in=["treatment", "numbing", "photographs"])
    }
    rows = []
    consultations = (
        (
            Consultation.objects.filter(voided_at__isnull=True).filter(consent_given=True)
            | Consultation.objects.filter(voided_at__isnull=True, photo_consent=True)
        )
        .select_related("client")
        .order_by("pk")
    )
    for consultation in consultations.iterator(chunk_size=2000):
        client = consultation.client
        by = (consultation.consent_by or "").strip() or f"{client.first_name} {client.last_name}"
        own = by.casefold() in {
            "the client",
            "client",
            f"{client.first_name} {client.last_name}".casefold(),
        }
        at = consultation.consent_at or consultation.created_at
        kinds = []
        if consultation.consent_given:
            kinds.append("treatment")
            if "numbing" in (consultation.consent_scope or "").casefold():
                kinds.append("numbing")
        if consultation.photo_consent:
            kinds.append("photographs")
        for kind in kinds:
            rows.append(
                SignedConsent(
                    client=client,
                    document=documents[kind],
                    state="recorded_before",
                    consultation=consultation,
                    signer_name=by[:200],
                    relationship="client" if own else "guardian",
                    signed_at=at,
                    created_at=at,
                    updated_at=at,
                    created_by_id=consultation.created_by_id,
                    updated_by_id=consultation.created_by_id,
                )
            )
        if len(rows) >= 2000:
            SignedConsent.objects.bulk_create(rows)
            rows = []
    SignedConsent.objects.bulk_create(rows)


def take_back(apps, schema_editor):
    SignedConsent = apps.get_model("consent", "SignedConsent")
    SignedConsent.objects.filter(state="recorded_before").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_first_published_consent_documents"),
        ("consultations", "0013_access_says_what_was_read"),
    ]

    operations = [migrations.RunPython(carry_over, take_back)]
