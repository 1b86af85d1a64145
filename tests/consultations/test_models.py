import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from consultations.models import Client, Consultation, RecordedConcern

pytestmark = pytest.mark.django_db


def violates(constraint):
    """Expect the database itself to refuse a write, naming the constraint."""
    return pytest.raises(IntegrityError, match=constraint)


class TestClient:
    def test_date_of_birth_in_the_future_is_refused_politely(self, make_client):
        client = make_client()
        client.date_of_birth = timezone.localdate() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError) as refused:
            client.full_clean()
        assert refused.value.message_dict["date_of_birth"] == [
            "The date of birth cannot be in the future."
        ]

    def test_implausible_date_of_birth_is_refused_by_the_database(self, make_client):
        client = make_client()
        with transaction.atomic(), violates("client_date_of_birth_plausible"):
            Client.objects.filter(pk=client.pk).update(date_of_birth=datetime.date(1850, 1, 1))

    def test_search_matches_every_word_across_name_email_and_phone(self, make_client):
        ada = make_client(first_name="Ada", last_name="Lovelace", phone="07700 900111")
        make_client(first_name="Ada", last_name="Byron")
        assert list(Client.objects.search("ada love")) == [ada]
        assert list(Client.objects.search("900111")) == [ada]
        assert list(Client.objects.search(ada.email.upper())) == [ada]

    def test_current_leaves_out_archived_clients(self, make_client):
        kept = make_client()
        make_client(archived=True)
        assert list(Client.objects.current()) == [kept]

    def test_pigment_risk_for_fitzpatrick_iv_to_vi(self, make_client):
        assert make_client(skin_type=Client.SkinType.IV).pigment_risk
        assert not make_client(skin_type=Client.SkinType.III).pigment_risk

    def test_deleting_a_client_with_records_is_refused(self, make_course):
        course = make_course()
        with pytest.raises(ProtectedError):
            course.client.delete()


class TestConsultation:
    def test_consent_needs_who_consented(self, make_consultation):
        consultation = make_consultation()
        consultation.consent_by = "  "
        with pytest.raises(ValidationError) as refused:
            consultation.full_clean()
        assert "Say who gave consent" in refused.value.message_dict["consent_by"][0]

    def test_consent_without_person_or_time_is_refused_by_the_database(self, make_consultation):
        consultation = make_consultation()
        with transaction.atomic(), violates("consultation_consent_complete"):
            Consultation.objects.filter(pk=consultation.pk).update(consent_by="")

    def test_consultation_cannot_be_dated_in_the_future(self, make_consultation):
        consultation = make_consultation()
        consultation.held_on = timezone.localdate() + datetime.timedelta(days=3)
        with pytest.raises(ValidationError) as refused:
            consultation.full_clean()
        assert refused.value.message_dict["held_on"] == [
            "A consultation cannot be dated in the future."
        ]

    def test_stamps_record_who_created_the_consultation(self, make_consultation, practitioner):
        consultation = make_consultation()
        assert consultation.created_by == practitioner
        assert consultation.updated_by == practitioner
        assert consultation.created_at <= timezone.now()


class TestRecordedConcern:
    def test_same_concern_twice_for_one_area_is_refused(self, make_consultation, concern):
        consultation = make_consultation(concerns=[("acne-scars", "cheeks")])
        duplicate = RecordedConcern(
            consultation=consultation, concern=concern("acne-scars"), area_id="cheeks"
        )
        with pytest.raises(ValidationError, match="already recorded for that area"):
            duplicate.full_clean()
        with transaction.atomic(), pytest.raises(IntegrityError):
            duplicate.save()

    def test_the_same_concern_may_be_recorded_for_another_area(self, make_consultation, concern):
        consultation = make_consultation(concerns=[("stretch-marks", "abdomen")])
        other = RecordedConcern(
            consultation=consultation, concern=concern("stretch-marks"), area_id="thighs"
        )
        other.full_clean()
        other.save()
        assert consultation.concerns.count() == 2

    def test_catalogue_concern_in_use_cannot_be_deleted(self, make_consultation, concern):
        make_consultation(concerns=[("melasma", "cheeks")])
        with pytest.raises(ProtectedError):
            concern("melasma").delete()


def test_the_client_search_wants_every_word_in_any_of_the_details(make_client):
    ada = make_client(first_name="Ada", last_name="Lovelace", phone="07700 123456")
    make_client(first_name="Ada", last_name="Byron", phone="07700 654321")

    assert list(Client.objects.search("LOVELACE 123456")) == [ada]
    assert list(Client.objects.search("ada  lovelace")) == [ada]
    assert Client.objects.search("ada").count() == 2
    assert not Client.objects.search("ada 999")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigram index")
def test_the_client_search_is_served_by_its_trigram_index(make_client):
    make_client(first_name="Ada", last_name="Lovelace")
    with connection.cursor() as cursor:
        # Without these a table this small is read whole; with them, the plan uses the search
        # index only if it matches the search's expression exactly (migration 0007).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")

    plan = Client.objects.search("lovelace").explain()

    assert "client_search_trgm_idx" in plan
