"""The client record: a client's whole history on one screen for reading, sessions first."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from consultations.models import ClientAccess
from reports.recall import record_contact_attempt
from tests.pages import SIGNED_IN_QUERIES, text
from treatments.models import ContactAttempt
from treatments.photos.services import add_photo
from treatments.services import book_appointment, void_session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
    b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def url(client):
    return reverse("treatments:client-record", kwargs={"pk": client.pk})


@pytest.fixture
def history(make_client, make_consultation, make_course, log, product, practitioner, manager):
    """A client with `size` courses of two sessions (the second voided), with photos, a recall
    contact and a booking each."""

    def build(size, person=None):
        person = person or make_client()
        for n in range(size):
            consultation = make_consultation(
                person, held_on=TODAY() - datetime.timedelta(days=300 - n * 40), photo_consent=True
            )
            course = make_course(consultation, planned_sessions=4)
            first = log(
                course,
                consultation.held_on + datetime.timedelta(days=7),
                products=[(product("Hyaluronic"), f"HA-{n}")],
            )
            second = log(course, consultation.held_on + datetime.timedelta(days=40))
            void_session(session=second, reason="Logged twice.", by=practitioner)
            add_photo(
                client=person,
                session=first,
                image_file=SimpleUploadedFile("p.png", PNG),
                area="cheeks",
                angle="front",
                by=practitioner,
            )
            record_contact_attempt(
                client=person,
                course=course,
                reason=ContactAttempt.Reason.DUE,
                outcome=ContactAttempt.Outcome.NO_ANSWER,
                note=f"Try again {n}",
                by=manager,
            )
            book_appointment(
                client=person,
                course=course,
                date=TODAY() + datetime.timedelta(days=n + 1),
                time=datetime.time(9, 30),
                practitioner=practitioner,
                by=practitioner,
            )
        return person

    return build


def test_the_record_shows_sessions_first_one_line_each_with_areas_depths_products_lots(
    manager_client, history
):
    person = history(1)

    response = manager_client.get(url(person))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    page = text(response)
    assert content.index('id="history-heading"') < content.index('id="courses-heading"')
    assert content.index('id="history-heading"') < content.index('id="consultations-heading"')
    assert content.count('<summary class="record-line">') == 2  # one line a session
    assert "Cheeks and chin 1.50 mm" in page
    assert "Hyaluronic" in page and "(lot HA-0)" in page
    assert "Voided session" in page
    assert "Try again 0" in page and "No answer" in page  # recall contacts
    assert "at 09:30 with Alex Smith · Booked" in page  # appointments
    assert "Consent: given by the client" in page and "photographs: yes" in page
    photo = person.photos.get()
    assert reverse("treatments:photo-thumbnail", kwargs={"pk": photo.pk}) in content
    assert "Edit details" in page  # editing is a separate action


def test_opening_the_record_is_logged_as_a_record_access(manager_client, manager, history):
    person = history(1)

    manager_client.get(url(person))

    access = ClientAccess.objects.get(client=person)
    assert (access.user, access.via, access.what) == (
        manager,
        ClientAccess.Via.WORKSPACE,
        "client record",
    )


@pytest.mark.parametrize("size", [1, 5])
def test_the_record_reads_a_bounded_number_of_queries(
    manager_client, history, django_assert_max_num_queries, size
):
    person = history(size)

    # The client; consultations, their concerns; courses, their concerns; sessions, their areas,
    # products and ratings, adverse events; photos; recall contacts; appointments; the access
    # record.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 14):
        response = manager_client.get(url(person))

    assert response.status_code == HTTPStatus.OK
    assert len(response.context["sessions"]) == size * 2


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", HTTPStatus.FOUND),
        ("no role", HTTPStatus.FORBIDDEN),
        (roles.AESTHETICIAN, HTTPStatus.OK),
        (roles.MANAGER, HTTPStatus.OK),
    ],
)
def test_who_may_read_the_record(make_user, make_client, role, expected):
    person = make_client()
    browser = DjangoClient()
    if role != "anonymous":
        browser.force_login(make_user(role=None if role == "no role" else role))

    response = browser.get(url(person))

    assert response.status_code == expected
    if expected == HTTPStatus.FOUND:
        assert response["Location"].startswith(reverse("login"))
        assert not ClientAccess.objects.exists()


def test_an_unknown_client_is_a_404(manager_client):
    assert manager_client.get("/clients/999999/record/").status_code == HTTPStatus.NOT_FOUND


def test_the_admins_client_page_links_to_the_record(manager_client, make_client):
    person = make_client()

    response = manager_client.get(
        reverse("admin:consultations_client_change", kwargs={"object_id": person.pk})
    )

    assert f'href="{url(person)}"' in response.content.decode()
    assert "Client record: read the whole history on one screen" in text(response)


def test_user_text_on_the_record_is_escaped(manager_client, make_client, history):
    person = history(1, make_client(first_name="<script>alert(1)</script>"))

    content = manager_client.get(url(person)).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_depths_keep_two_decimals(manager_client, history):
    person = history(1)
    assert Decimal("1.50") == person.courses.get().sessions.first().areas.get().depth_mm
    assert "1.50 mm" in text(manager_client.get(url(person)))
