"""FHIR R4B: $everything and the NDJSON export; every resource validates with fhir.resources."""

import json
from http import HTTPStatus

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class

from api.fhir import AREA_SNOMED, SNOMED, body_site
from catalogue.models import BodyArea, Product
from consent.models import Kind, SignedConsent
from consultations.models import ClientAccess
from tests.treatments.test_photos import image_bytes, upload
from treatments.photos.services import add_photo

pytestmark = pytest.mark.django_db


def validate(resource):
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.fixture
def record(make_course, make_consultation, log):
    course = make_course(make_consultation(photo_consent=True))
    link = course.course_concerns.first()
    serum = Product.objects.filter(kind=Product.Kind.SERUM).first()
    log(
        course,
        pain_score=4,
        products=[(serum, "LOT-7")],
        progress=[(link.recorded_concern, 3, 2)],
        device_model="Dermapen 4",
    )
    return course


def test_everything_is_a_valid_bundle_of_the_whole_record(api, record, practitioner):
    response = api.get(f"/api/fhir/Patient/{record.client_id}/$everything")
    assert response.status_code == HTTPStatus.OK
    bundle = response.json()
    validate(bundle)
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert kinds >= {
        "Patient",
        "Practitioner",
        "Encounter",
        "Condition",
        "Consent",
        "CarePlan",
        "Procedure",
        "Observation",
        "Device",
        "Medication",
        "Provenance",
    }
    for entry in bundle["entry"]:
        validate(entry["resource"])
    resources = [entry["resource"] for entry in bundle["entry"]]
    [condition] = [r for r in resources if r["resourceType"] == "Condition"]
    assert condition["bodySite"][0]["text"] == "Cheeks and chin"
    [medication] = [r for r in resources if r["resourceType"] == "Medication"]
    assert medication["batch"]["lotNumber"] == "LOT-7"
    assert medication["batch"]["expirationDate"]  # the lot's expiry, from stock
    # The consents the client signed on the tablet: document, version, hash, signed copy.
    signed = SignedConsent.objects.filter(client_id=record.client_id)
    consents = {r["id"]: r for r in resources if r["resourceType"] == "Consent"}
    assert set(consents) == {f"consent-{consent.pk}" for consent in signed}
    treatment = signed.get(document__kind=Kind.TREATMENT)
    shown = consents[f"consent-{treatment.pk}"]
    assert shown["status"] == "active"
    assert treatment.text_sha256 in shown["text"]["div"]
    assert shown["sourceAttachment"]["url"] == f"/consents/{treatment.pk}/pdf/"
    depths = [r for r in resources if r["id"].startswith("depth-")]
    assert depths[0]["valueQuantity"]["unit"] == "mm"
    assert ClientAccess.objects.filter(
        client_id=record.client_id, via=ClientAccess.Via.API, what="FHIR $everything"
    ).exists()


def test_body_sites_carry_snomed_codes_where_established_and_their_name_always(api, record):
    bundle = api.get(f"/api/fhir/Patient/{record.client_id}/$everything").json()
    procedure = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"
    )
    # "Cheeks and chin" is no single SNOMED CT structure: its name only.
    assert procedure["bodySite"] == [{"text": "Cheeks and chin"}]
    assert body_site(BodyArea.objects.get(code="forehead")) == {
        "text": "Forehead",
        "coding": [{"system": SNOMED, "code": "52795006", "display": "Forehead structure"}],
    }
    assert set(AREA_SNOMED) <= set(BodyArea.objects.values_list("code", flat=True))


def test_a_photo_is_listed_as_media(api, record, practitioner):
    session = record.sessions.get()
    add_photo(
        client=record.client,
        image_file=upload(image_bytes()),
        area="cheeks",
        angle="front",
        by=practitioner,
        session=session,
    )
    bundle = api.get(f"/api/fhir/Patient/{record.client_id}/$everything").json()
    [photo] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    validate(photo)
    assert photo["content"]["contentType"] == "image/jpeg"


def test_everything_needs_a_role_and_a_real_client(api, make_user, token_for, record):
    nobody = token_for(make_user(role=None))
    assert nobody.get(f"/api/fhir/Patient/{record.client_id}/$everything").status_code == 403
    assert api.get("/api/fhir/Patient/999999/$everything").status_code == HTTPStatus.NOT_FOUND


def test_the_bulk_export_writes_valid_ndjson_per_resource_type(record, tmp_path, capsys):
    call_command("export_fhir", tmp_path)
    out = capsys.readouterr().out
    assert "1 of 1 clients exported" in out
    patients = (tmp_path / "Patient.ndjson").read_text().splitlines()
    assert len(patients) == 1
    for path in tmp_path.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] == path.stem
            validate(resource)
