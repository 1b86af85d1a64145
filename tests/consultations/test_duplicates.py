"""A possible duplicate client is flagged before saving, with a link to the record it may be, and
saved only when the practitioner ticks "This is a different person" (once per submission)."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from consultations.forms import DUPLICATES_FOUND
from consultations.models import Client
from tests.pages import field_errors, submission_keys, text

pytestmark = pytest.mark.django_db

BORN = datetime.date(1985, 5, 17)


@pytest.fixture
def nora(make_client):
    return make_client(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=BORN,
        phone="07700 900111",
        email="nora.quinn@example.com",
    )


def new_client(**fields):
    data = {
        "first_name": "Someone",
        "last_name": "Else",
        "date_of_birth": "1990-02-03",
        "email": "",
        "phone": "",
        "skin_type": "III",
        "notes": "",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "matched"),
    [
        ({"first_name": " nora ", "last_name": "QUINN", "date_of_birth": "1985-05-17"}, "name"),
        ({"first_name": "Nora", "last_name": "Qu inn", "date_of_birth": "1985-05-17"}, "name"),
        ({"phone": "07700900111"}, "phone"),
        ({"email": "Nora.Quinn@Example.com"}, "email"),
    ],
)
def test_a_possible_duplicate_is_flagged_with_a_link_and_nothing_saved(
    signed_in, nora, fields, matched
):
    url = reverse("consultations:client-create")
    page = signed_in.get(url)

    refused = signed_in.post(
        url, {**new_client(**fields), "submission_key": submission_keys(page)[0]}
    )

    assert refused.status_code == HTTPStatus.OK
    assert field_errors(refused, "id_different_person") == [DUPLICATES_FOUND]
    content = refused.content.decode()
    assert f'href="{nora.get_absolute_url()}">Nora Quinn</a>' in content
    assert f"same {matched}" in text(refused)
    assert 'type="checkbox" name="different_person"' in content
    assert Client.objects.count() == 1


def test_ticking_different_person_saves_it_once(signed_in, nora):
    url = reverse("consultations:client-create")
    key = submission_keys(signed_in.get(url))[0]
    data = {
        **new_client(first_name="Nora", last_name="Quinn", date_of_birth="1985-05-17"),
        "submission_key": key,
    }
    signed_in.post(url, data)  # flagged

    data["different_person"] = "on"
    first = signed_in.post(url, data)
    again = signed_in.post(url, data)  # the same submission sent twice

    assert first.status_code == again.status_code == HTTPStatus.FOUND
    assert Client.objects.filter(first_name="Nora", last_name="Quinn").count() == 2


def test_a_new_person_is_saved_without_the_question(signed_in, nora):
    url = reverse("consultations:client-create")
    key = submission_keys(signed_in.get(url))[0]

    saved = signed_in.post(url, {**new_client(), "submission_key": key})

    assert saved.status_code == HTTPStatus.FOUND
    assert 'type="checkbox" name="different_person"' not in signed_in.get(url).content.decode()


def test_editing_a_client_does_not_flag_the_client_itself_but_flags_another(
    signed_in, nora, make_client
):
    other = make_client(phone="07700 900999")
    url = reverse("consultations:client-update", kwargs={"pk": other.pk})
    data = new_client(
        first_name=other.first_name,
        last_name=other.last_name,
        date_of_birth=other.date_of_birth.isoformat(),
        email=other.email,
        phone=other.phone,
        version=str(other.version),
    )

    assert signed_in.post(url, data).status_code == HTTPStatus.FOUND
    other.refresh_from_db()
    refused = signed_in.post(url, {**data, "phone": "07700 900 111", "version": other.version})
    assert field_errors(refused, "id_different_person") == [DUPLICATES_FOUND]
    other.refresh_from_db()
    assert other.phone == "07700 900999"


def test_the_check_is_one_query(nora, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = list(
            Client.objects.possible_duplicates(
                first_name="NORA", last_name="quinn", date_of_birth=BORN, email="", phone=""
            )
        )
    assert found == [nora]
    assert nora.matches(
        first_name="NORA", last_name="quinn", date_of_birth=BORN, phone="07700900111"
    ) == ["name and date of birth", "phone"]
