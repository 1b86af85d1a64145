"""The workspace's pages for clients and consultations, through the Django test client."""

import datetime
from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from xstatic.pkg import bootstrap as xstatic_bootstrap

from consultations.models import Client, Consultation
from tests.pages import SIGNED_IN_QUERIES, field_errors, text

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def concerns_management(total=3, initial=0):
    return {
        "concerns-TOTAL_FORMS": str(total),
        "concerns-INITIAL_FORMS": str(initial),
        "concerns-MIN_NUM_FORMS": "0",
        "concerns-MAX_NUM_FORMS": "1000",
    }


def findings_management(total=0):
    return {
        "findings-TOTAL_FORMS": str(total),
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def consultation_data(concern):
    """POST data for the consultation form: one concern, consent given, nothing screened."""

    def make(rows=(("acne-scars", "cheeks"),), **fields):
        data = {
            "held_on": TODAY().isoformat(),
            "consent_given": "on",
            "consent_by": "The client",
            "consent_scope": "Micro-needling of the recorded areas",
            "notes": "Wants smoother cheeks before a wedding.",
            **concerns_management(total=max(3, len(rows))),
            **findings_management(),
        }
        for index, (slug, area) in enumerate(rows):
            data[f"concerns-{index}-concern"] = str(concern(slug).pk)
            data[f"concerns-{index}-area"] = area
            data[f"concerns-{index}-severity"] = "moderate"
            data[f"concerns-{index}-notes"] = ""
        for index in range(len(rows), max(3, len(rows))):
            data[f"concerns-{index}-severity"] = "moderate"
        data.update(fields)
        return {key: value for key, value in data.items() if value is not None}

    return make


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needs_pk"),
    [
        ("consultations:client-list", False),
        ("consultations:client-create", False),
        ("treatments:client-detail", True),
        ("consultations:client-update", True),
        ("consultations:consultation-create", True),
        ("treatments:consultation-detail", True),
    ],
)
def test_pages_require_sign_in(client, make_consultation, name, needs_pk):
    consultation = make_consultation()
    pk = consultation.pk if name.endswith("consultation-detail") else consultation.client_id
    url = reverse(name, kwargs={"pk": pk} if needs_pk else None)

    response = client.get(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    "path", ["/clients/999999/consultations/new/", "/consultations/999999/", "/clients/999999/"]
)
def test_anonymous_visitors_learn_nothing_about_ids(client, path):
    response = client.get(path)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "path",
    [
        "/clients/999999/",
        "/clients/999999/edit/",
        "/clients/999999/consultations/new/",
        "/consultations/999999/",
        "/clients/99999999999999999999999999/",
        "/consultations/99999999999999999999999999/",
        "/clients/abc/",
        "/clients/-1/",
    ],
)
def test_unknown_or_malformed_ids_are_not_found(signed_in, path):
    assert signed_in.get(path).status_code == HTTPStatus.NOT_FOUND


def test_sign_in_page_leads_to_today(client, practitioner):
    from tests.conftest import PASSWORD

    response = client.post(
        reverse("login"), {"username": practitioner.username, "password": PASSWORD}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("today")


def test_a_wrong_password_is_refused_with_djangos_message(client, practitioner):
    response = client.post(
        reverse("login"), {"username": practitioner.username, "password": "not-the-password"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "Please enter a correct username and password." in text(response)
    assert f'value="{practitioner.username}"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_from_every_page(signed_in):
    page = signed_in.get(reverse("consultations:client-list"))
    assert f'action="{reverse("logout")}"' in page.content.decode()

    response = signed_in.post(reverse("logout"))

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in.get(reverse("today")).status_code == HTTPStatus.FOUND


def test_every_page_links_today_clients_and_catalogue(signed_in):
    content = signed_in.get(reverse("consultations:client-list")).content.decode()

    for url in ("/", "/clients/", "/catalogue/"):
        assert f'href="{url}"' in content


def test_bootstrap_is_served_from_the_python_package(signed_in):
    content = signed_in.get(reverse("consultations:client-list")).content.decode()

    assert "/static/bootstrap/css/bootstrap.min.css" in content
    assert "/static/bootstrap/js/bootstrap.bundle.min.js" in content
    assert "cdn" not in content.lower()
    assert finders.find("bootstrap/css/bootstrap.min.css").startswith(xstatic_bootstrap.BASE_DIR)
    assert finders.find("bootstrap/js/bootstrap.bundle.min.js")


# Client list ------------------------------------------------------------------------------------


def test_client_list_searches_name_email_and_phone(signed_in, make_client):
    make_client(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    make_client(first_name="Grace", last_name="Hopper", phone="07700 123456")
    url = reverse("consultations:client-list")

    by_name = text(signed_in.get(url, {"q": "lovelace"}))
    by_email = text(signed_in.get(url, {"q": "ada@example"}))
    by_phone = text(signed_in.get(url, {"q": "123456"}))

    assert "Ada Lovelace" in by_name and "Grace Hopper" not in by_name
    assert "Ada Lovelace" in by_email
    assert "Grace Hopper" in by_phone and "Ada Lovelace" not in by_phone


def test_the_whole_list_is_alphabetical_and_a_search_newest_first(signed_in, make_client):
    for first_name in ("Cora", "Abby", "Bess"):  # registered in this order
        make_client(first_name=first_name, last_name="Smith")
    url = reverse("consultations:client-list")

    listed = [c.first_name for c in signed_in.get(url).context["client_list"]]
    searched = [c.first_name for c in signed_in.get(url, {"q": "smith"}).context["client_list"]]

    assert listed == ["Abby", "Bess", "Cora"]
    assert searched == ["Bess", "Abby", "Cora"]


def test_client_list_hides_archived_clients_unless_asked(signed_in, make_client):
    make_client(first_name="Archie", last_name="Ved", archived=True)
    url = reverse("consultations:client-list")

    assert "Archie Ved" not in text(signed_in.get(url))
    assert "Archie Ved" in text(signed_in.get(url, {"archived": "1"}))


def test_client_list_is_paginated_and_keeps_the_search(signed_in, make_client):
    for n in range(27):
        make_client(first_name=f"Pat{n:02d}", last_name="Paged")

    first = signed_in.get(reverse("consultations:client-list"), {"q": "Paged"})
    second = signed_in.get(reverse("consultations:client-list"), {"q": "Paged", "page": 2})

    assert len(first.context["client_list"]) == 25
    assert len(second.context["client_list"]) == 2
    assert "q=Paged&amp;page=2" in first.content.decode()
    assert signed_in.get(reverse("consultations:client-list"), {"page": "x"}).status_code == 404


@pytest.mark.parametrize("clients", [3, 40])
def test_client_list_runs_bounded_queries(
    signed_in, make_client, django_assert_max_num_queries, clients
):
    for _ in range(clients):
        make_client()

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 3):
        response = signed_in.get(reverse("consultations:client-list"))

    assert response.status_code == HTTPStatus.OK


# New and edited clients -------------------------------------------------------------------------


def client_data(**fields):
    data = {
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1990-02-03",
        "email": "nora@example.com",
        "phone": "07700 900555",
        "skin_type": "III",
        "notes": "",
    }
    data.update(fields)
    return data


def test_new_client_is_saved_with_its_author(signed_in, practitioner):
    response = signed_in.post(reverse("consultations:client-create"), client_data())

    created = Client.objects.get(last_name="Quinn")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == created.get_absolute_url()
    assert created.created_by == practitioner
    assert created.updated_by == practitioner
    assert "Nora Quinn added." in text(signed_in.get(response["Location"]))


def test_new_client_born_in_the_future_is_refused_next_to_the_field(signed_in):
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()

    response = signed_in.post(
        reverse("consultations:client-create"), client_data(date_of_birth=tomorrow)
    )

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_date_of_birth") == [
        "The date of birth cannot be in the future."
    ]
    assert 'value="Nora"' in response.content.decode()
    assert f'value="{tomorrow}"' in response.content.decode()
    assert not Client.objects.filter(last_name="Quinn").exists()


def test_new_client_needs_a_skin_type_and_a_valid_email(signed_in):
    response = signed_in.post(
        reverse("consultations:client-create"), client_data(skin_type="", email="not-an-email")
    )

    assert field_errors(response, "id_skin_type") == ["This field is required."]
    assert field_errors(response, "id_email") == ["Enter a valid email address."]
    assert not Client.objects.filter(last_name="Quinn").exists()


def test_client_details_can_be_corrected(signed_in, make_client, make_user):
    existing = make_client(first_name="Nora", last_name="Quin")
    editor = make_user("editor")
    signed_in.force_login(editor)

    response = signed_in.post(
        reverse("consultations:client-update", kwargs={"pk": existing.pk}), client_data()
    )

    existing.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND
    assert existing.last_name == "Quinn"
    assert existing.updated_by == editor
    assert existing.created_by != editor


def test_the_edit_form_carries_the_version_it_shows(signed_in, make_client):
    person = make_client()

    response = signed_in.get(reverse("consultations:client-update", kwargs={"pk": person.pk}))

    assert '<input type="hidden" name="version" value="1"' in response.content.decode()


def test_the_second_of_two_overlapping_edits_is_refused_and_nothing_is_lost(
    signed_in, make_client, make_user
):
    person = make_client(
        first_name="Nora", last_name="Quinn", phone="07700 900111", email="nora@example.com"
    )
    url = reverse("consultations:client-update", kwargs={"pk": person.pk})
    shown = signed_in.get(url).context["form"]["version"].value()
    # A colleague saves a new phone number while the form is open.
    sam = make_user("sam", first_name="Sam", last_name="Okafor")
    person.phone = "07700 900222"
    person.stamp(sam)
    person.save()

    refused = signed_in.post(
        url,
        client_data(phone="07700 900111", email="nora.new@example.com", version=shown),
    )

    assert refused.status_code == HTTPStatus.OK
    page = text(refused)
    assert "This record was changed while you were editing it." in page
    assert "Sam Okafor at" in page
    assert "phone: “07700 900111” → “07700 900222”" in page
    # The refused input is still in the form; the colleague's change is still saved.
    assert 'value="nora.new@example.com"' in refused.content.decode()
    person.refresh_from_db()
    assert (person.phone, person.email, person.version) == ("07700 900222", "nora@example.com", 2)
    assert person.history.count() == 2

    # Saving the kept input again, after reading the message, is deliberate and goes through.
    again = dict(refused.context["form"].data.items())
    again["phone"] = "07700 900222"
    accepted = signed_in.post(url, again)

    assert accepted.status_code == HTTPStatus.FOUND
    person.refresh_from_db()
    assert (person.phone, person.email, person.version) == (
        "07700 900222",
        "nora.new@example.com",
        3,
    )


def test_a_damaged_version_is_refused_with_a_message(signed_in, make_client):
    person = make_client(last_name="Quin")

    response = signed_in.post(
        reverse("consultations:client-update", kwargs={"pk": person.pk}),
        client_data(version="1; DROP TABLE"),
    )

    assert response.status_code == HTTPStatus.OK
    assert "This form arrived damaged" in text(response)
    person.refresh_from_db()
    assert person.last_name == "Quin"


def test_an_edit_based_on_the_current_version_goes_through_at_once(signed_in, make_client):
    person = make_client()
    url = reverse("consultations:client-update", kwargs={"pk": person.pk})
    shown = signed_in.get(url).context["form"]["version"].value()

    response = signed_in.post(url, client_data(version=shown))

    assert response.status_code == HTTPStatus.FOUND
    person.refresh_from_db()
    assert (person.last_name, person.version) == ("Quinn", 2)


# New consultation -------------------------------------------------------------------------------


def test_consultation_form_embeds_the_catalogue_for_the_concern_pickers(signed_in, make_client):
    person = make_client()

    response = signed_in.get(reverse("consultations:consultation-create", kwargs={"pk": person.pk}))
    content = response.content.decode()

    assert response.status_code == HTTPStatus.OK
    assert 'id="catalogue-info"' in content
    assert "Do not treat (absolute)" in content
    assert "Caution (relative)" in content
    assert "consultations/concern_info.js" in content
    # Without JavaScript the catalogue is still there to read.
    assert "Atrophic acne scars</a>: 3-6 sessions, every 4 weeks (2-6)" in content


def test_consultation_is_recorded_with_its_concerns_and_outcome(
    signed_in, make_client, consultation_data, practitioner
):
    person = make_client()
    data = consultation_data(
        rows=(("acne-scars", "cheeks"), ("fine-lines-wrinkles", "forehead")),
        cold_sore_history="on",
    )

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}), data
    )

    consultation = Consultation.objects.get(client=person)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == consultation.get_absolute_url()
    assert consultation.practitioner == practitioner
    assert consultation.created_by == practitioner
    # Consent is signed on the tablet now: the old tick box stays empty.
    assert not consultation.consent_given
    assert consultation.outcome == Consultation.Outcome.CAUTIONS
    assert sorted(rc.concern.slug for rc in consultation.concerns.all()) == [
        "acne-scars",
        "fine-lines-wrinkles",
    ]


def test_the_consultation_form_asks_no_consent_and_its_page_asks_to_sign(
    signed_in, make_client, consultation_data
):
    person = make_client()
    form = signed_in.get(reverse("consultations:consultation-create", kwargs={"pk": person.pk}))
    assert 'name="consent_given"' not in form.content.decode()
    assert "Consent is signed on the tablet" in text(form)

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}),
        consultation_data(),
        follow=True,
    )
    assert "Micro-needling treatment: " + person.full_name + " has no valid signed consent" in (
        text(response)
    )
    assert reverse("consent:sign", args=[person.pk, "treatment"]) in response.content.decode()


def test_consultation_without_a_concern_is_refused_next_to_the_concern_picker(
    signed_in, make_client, consultation_data
):
    person = make_client()

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}),
        consultation_data(rows=()),
    )

    assert field_errors(response, "id_concerns-0-concern") == [
        "Record at least one concern the client wants treated."
    ]
    assert not Consultation.objects.filter(client=person).exists()


def test_consultation_with_a_concern_but_no_area_is_refused_next_to_the_area(
    signed_in, make_client, consultation_data
):
    person = make_client()
    data = consultation_data()
    data["concerns-0-area"] = ""

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}), data
    )

    assert field_errors(response, "id_concerns-0-area") == ["This field is required."]
    assert not Consultation.objects.filter(client=person).exists()


def test_the_same_concern_twice_in_one_area_is_refused(signed_in, make_client, consultation_data):
    person = make_client()
    data = consultation_data(rows=(("acne-scars", "cheeks"), ("acne-scars", "cheeks")))

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}), data
    )

    assert "Atrophic acne scars is recorded twice for the same area" in text(response)
    assert not Consultation.objects.filter(client=person).exists()


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"held_on": "2999-01-01"},
            "id_held_on",
            "A consultation cannot be dated in the future.",
        ),
        ({"held_on": "not a date"}, "id_held_on", "Enter a valid date."),
        (
            {"concerns-0-concern": "99999999999999999999"},
            "id_concerns-0-concern",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {
                **findings_management(1),
                "findings-0-kind": "infection_in_area",
                "findings-0-area": "elbow",
            },
            "id_findings-0-area",
            "Select a valid choice. elbow is not one of the available choices.",
        ),
        (
            {**findings_management(1), "findings-0-kind": "filler", "findings-0-on": "2020-01-01"},
            "id_findings-0-area",
            "Choose the area it was in.",
        ),
        (
            {
                **findings_management(1),
                "findings-0-kind": "peel_or_laser",
                "findings-0-area": "cheeks",
            },
            "id_findings-0-on",
            "Give the date: the wait runs from it.",
        ),
        (
            {
                **findings_management(1),
                "findings-0-kind": "isotretinoin",
                "findings-0-area": "cheeks",
                "findings-0-on": "2020-01-01",
            },
            "id_findings-0-area",
            "It affects every area: leave the area empty.",
        ),
        (
            {
                **findings_management(1),
                "findings-0-kind": "keloid_in_area",
                "findings-0-on": "2020-01-01",
            },
            "id_findings-0-on",
            "This finding does not lapse: leave the date empty.",
        ),
    ],
)
def test_consultation_refusals_appear_next_to_their_field(
    signed_in, make_client, consultation_data, fields, field_id, message
):
    person = make_client()

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}),
        consultation_data(**fields),
    )

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, field_id) == [message]
    assert not Consultation.objects.filter(client=person).exists()


def test_consultation_with_a_broken_management_form_is_an_error_not_a_crash(
    signed_in, make_client, consultation_data
):
    person = make_client()
    data = consultation_data()
    del data["concerns-TOTAL_FORMS"]

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}), data
    )

    assert response.status_code == HTTPStatus.OK
    assert not Consultation.objects.filter(client=person).exists()


def test_consultation_for_an_archived_client_is_refused(signed_in, make_client, consultation_data):
    person = make_client(archived=True)

    response = signed_in.post(
        reverse("consultations:consultation-create", kwargs={"pk": person.pk}),
        consultation_data(),
    )

    assert response.status_code == HTTPStatus.OK
    assert "This client is archived" in text(response)
    assert not Consultation.objects.filter(client=person).exists()


@pytest.mark.parametrize("clients", [1, 20])
def test_consultation_form_runs_bounded_queries(
    signed_in, make_client, django_assert_max_num_queries, clients
):
    for _ in range(clients):
        person = make_client()

    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 6):
        response = signed_in.get(
            reverse("consultations:consultation-create", kwargs={"pk": person.pk})
        )

    assert response.status_code == HTTPStatus.OK
