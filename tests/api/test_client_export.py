"""/clients/<pk>/export/ offers the readable record, JSON and FHIR; the readable record is in
plain words, logged as a record access, and read in a bounded number of queries."""

from http import HTTPStatus

import pytest

from consent.models import SignedConsent
from consultations.models import ClientAccess

pytestmark = pytest.mark.django_db


def test_the_export_page_offers_readable_json_and_fhir(manager_client, make_client):
    client = make_client()
    page = manager_client.get(f"/clients/{client.pk}/export/")
    assert page.status_code == HTTPStatus.OK
    for address in [
        f"/clients/{client.pk}/export/readable/",
        f"/clients/{client.pk}/export/json/",
        f"/api/fhir/Patient/{client.pk}/$everything?format=fhir",
    ]:
        assert address in page.text
    fhir = manager_client.get(f"/api/fhir/Patient/{client.pk}/$everything?format=fhir")
    assert fhir.status_code == HTTPStatus.OK
    assert fhir["Content-Type"].startswith("application/fhir+json")
    assert manager_client.get(f"/clients/{client.pk}/export/json/").json()["client"]


def test_the_readable_record_is_in_plain_words_and_logged(
    manager_client, manager, make_course, make_consultation, log
):
    course = make_course(make_consultation(photo_consent=True))
    log(course, pain_score=3)
    client = course.client
    ClientAccess.record(user=manager, client=client, via=ClientAccess.Via.API, what="earlier")
    response = manager_client.get(f"/clients/{client.pk}/export/readable/")
    assert response.status_code == HTTPStatus.OK
    text = response.text
    for words in [
        "Your details",
        "Your consents",
        f"signed by {client.full_name} (the client)",
        SignedConsent.objects.filter(client=client, document__kind="treatment").get().text_sha256,
        "Courses and sessions",
        "You rated the discomfort 3 out of 10",
        "No photo is kept",
        "Who opened your record",
        "(earlier)",
    ]:
        assert words in text, words
    assert "<script>" not in text and 'style="' not in text
    assert ClientAccess.objects.filter(
        client=client, via=ClientAccess.Via.EXPORT, what="Readable record"
    ).exists()


@pytest.mark.parametrize("count", [1, 5])
def test_the_readable_record_reads_a_bounded_number_of_queries(
    manager_client, make_course, log, count, django_assert_max_num_queries
):
    course = make_course(planned_sessions=6, interval_weeks=4)
    for _ in range(count):
        log(course)
    with django_assert_max_num_queries(25):
        response = manager_client.get(f"/clients/{course.client_id}/export/readable/")
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("suffix", ["", "readable/", "json/"])
def test_aestheticians_do_not_export_and_absurd_ids_are_404(
    signed_in, manager_client, make_client, suffix
):
    client = make_client()
    assert signed_in.get(f"/clients/{client.pk}/export/{suffix}").status_code == 403
    assert manager_client.get(f"/clients/{'9' * 26}/export/{suffix}").status_code == 404
