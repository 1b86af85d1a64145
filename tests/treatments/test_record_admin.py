"""The managers' admin for clients and consultations (treatments.admin): a client's page is
their whole record."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.db import connection
from django.forms import CheckboxInput, MultiWidget
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultations.models import Client, Consultation

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAYS = datetime.timedelta(days=1)


def admin_form_data(response, **changes):
    """The POST data an admin add or change page sends back as shown, updated with `changes`."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if isinstance(widget, CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(widget, MultiWidget):
                # A bound form (shown again after an error) already holds the parts.
                parts = value if isinstance(value, list | tuple) else widget.decompress(value)
                for index, part in enumerate(parts):
                    if part is not None:
                        data[f"{bound.html_name}_{index}"] = str(part)
            elif value is not None:
                data[bound.html_name] = str(value)
    data.update(changes)
    return data


def page_queries(client, url):
    """Queries a page runs once caches (session, content types) are warm."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    return len(queries)


@pytest.fixture
def give_history(make_consultation, make_course, log, product):
    """Give a client a consultation, a 3-session course and two logged sessions (lots A and B)."""

    def give(client, *, started_days_ago=120, last_lot="LOT-B", **consultation_fields):
        consultation = make_consultation(
            client,
            concerns=(("acne-scars", "cheeks"), ("texture-pores", "forehead")),
            held_on=TODAY - started_days_ago * DAYS,
            **consultation_fields,
        )
        course = make_course(consultation, planned_sessions=3, interval_weeks=4)
        scars = consultation.concerns.get(concern__slug="acne-scars")
        for days_later, lot, rating in ((30, "LOT-A", 2), (60, last_lot, 3)):
            log(
                course,
                consultation.held_on + days_later * DAYS,
                areas=[("cheeks", Decimal("1.50")), ("forehead", Decimal("0.50"))],
                numbing=product("Lidocaine 4"),
                products=[(product("Hyaluronic"), lot)],
                progress=[(scars, rating, 2)],
                pain_score=4,
            )
        course.refresh_from_db()
        return course

    return give


def changelist(model):
    return reverse(f"admin:consultations_{model}_changelist")


# Pages load ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:consultations_client_changelist",
        "admin:consultations_client_add",
        "admin:consultations_consultation_changelist",
        "admin:consultations_consultation_add",
    ],
)
def test_changelists_and_add_pages_load(manager_client, make_client, give_history, url_name):
    give_history(make_client())
    response = manager_client.get(reverse(url_name))
    assert response.status_code == HTTPStatus.OK


def test_change_pages_load(manager_client, make_client, give_history):
    course = give_history(make_client())
    for url in (
        reverse("admin:consultations_client_change", args=[course.client_id]),
        reverse("admin:consultations_consultation_change", args=[course.consultation_id]),
    ):
        assert manager_client.get(url).status_code == HTTPStatus.OK


def test_unknown_client_redirects_to_the_list(manager_client):
    for object_id in ("999999", "not-a-number"):
        response = manager_client.get(
            reverse("admin:consultations_client_change", args=[object_id])
        )
        assert response.status_code == HTTPStatus.FOUND


# Search ---------------------------------------------------------------------------------------


@pytest.fixture
def search_clients(make_client):
    return {
        "ada": make_client(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@analytical.example",
            phone="07700 900111",
            date_of_birth=datetime.date(1985, 5, 17),
        ),
        "grace": make_client(
            first_name="Grace",
            last_name="Hopper",
            email="grace@cobol.example",
            phone="07700 900222",
            date_of_birth=datetime.date(1990, 12, 9),
        ),
    }


def found(client, query):
    response = client.get(changelist("client"), {"q": query})
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Lovelace", "ada"),
        ("ada lovelace", "ada"),
        ("grace@cobol", "grace"),
        ("900222", "grace"),
        ("07700 900111", "ada"),
        ("1985-05-17", "ada"),
        ("17/05/1985", "ada"),
        ("09/12/1990", "grace"),
        ("Hopper 1990-12-09", "grace"),
    ],
)
def test_search_finds_the_right_client(manager_client, search_clients, query, expected):
    assert found(manager_client, query) == {search_clients[expected]}


def test_a_search_lists_the_newest_clients_first_unless_sorted(manager_client, make_client):
    for first_name in ("Cora", "Abby", "Bess"):  # registered in this order
        make_client(first_name=first_name, last_name="Smith")

    def names(**params):
        response = manager_client.get(changelist("client"), params)
        return [client.first_name for client in response.context["cl"].result_list]

    assert names() == ["Abby", "Bess", "Cora"]
    assert names(q="smith") == ["Bess", "Abby", "Cora"]
    assert names(q="smith", o="1") == ["Abby", "Bess", "Cora"]  # sorted by first name


def test_search_by_date_of_birth_and_wrong_name_finds_nobody(manager_client, search_clients):
    assert found(manager_client, "Hopper 17/05/1985") == set()
    assert found(manager_client, "01/01/2000") == set()


def test_client_picker_finds_by_date_of_birth(manager_client, search_clients):
    response = manager_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "consultations",
            "model_name": "consultation",
            "field_name": "client",
            "term": "17/05/1985",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert [row["text"] for row in response.json()["results"]] == ["Ada Lovelace"]


# Filters --------------------------------------------------------------------------------------


@pytest.fixture
def filter_clients(make_client, make_consultation, give_history, log, manager):
    overdue = make_client(first_name="Olive", skin_type=Client.SkinType.V)
    give_history(overdue)  # last session 60 days after a start 120 days ago: overdue
    on_time = make_client(first_name="Tina")
    course = give_history(on_time, started_days_ago=100)
    log(course, TODAY - 5 * DAYS)  # third session of three: course completed
    recent = make_client(first_name="Rita")
    give_history(recent, started_days_ago=61)  # last session yesterday: due in four weeks
    no_course = make_client(first_name="Nora")
    make_consultation(no_course)
    archived = make_client(first_name="Archie", archived=True)
    return {
        "overdue": overdue,
        "completed": on_time,
        "recent": recent,
        "no_course": no_course,
        "archived": archived,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"skin_type__exact": "V"}, {"overdue"}),
        ({"active_course": "yes"}, {"overdue", "recent"}),
        ({"active_course": "no"}, {"completed", "no_course", "archived"}),
        ({"overdue": "yes"}, {"overdue"}),
        ({"overdue": "no"}, {"completed", "recent", "no_course", "archived"}),
        ({"archived__exact": "1"}, {"archived"}),
        ({"archived__exact": "0", "active_course": "no"}, {"completed", "no_course"}),
    ],
)
def test_client_filters_narrow_the_list(manager_client, filter_clients, params, expected):
    response = manager_client.get(changelist("client"), params)
    assert response.status_code == HTTPStatus.OK
    assert set(response.context["cl"].result_list) == {filter_clients[k] for k in expected}


def test_client_list_marks_active_and_overdue_courses(manager_client, filter_clients):
    rows = manager_client.get(changelist("client")).context["cl"].result_list
    marks = {
        client.first_name: (client.has_active_course, client.has_overdue_course) for client in rows
    }
    assert marks == {
        "Olive": (True, True),
        "Rita": (True, False),
        "Tina": (False, False),
        "Nora": (False, False),
        "Archie": (False, False),
    }


def test_consultation_filters_narrow_the_list(manager_client, make_client, make_consultation):
    suitable = make_consultation(make_client(), held_on=TODAY - 3 * DAYS)
    deferred = make_consultation(make_client(), bleeding_disorder=True, held_on=TODAY - 400 * DAYS)
    for params, expected in [
        ({"outcome__exact": "not_suitable"}, {deferred}),
        ({"outcome__exact": "suitable"}, {suitable}),
        ({"held_on__gte": TODAY - 7 * DAYS, "held_on__lt": TODAY + DAYS}, {suitable}),
    ]:
        response = manager_client.get(changelist("consultation"), params)
        assert set(response.context["cl"].result_list) == expected


# The client's complete history ----------------------------------------------------------------


def test_client_page_shows_the_complete_history(manager_client, make_client, give_history):
    client = make_client(first_name="Hedy", last_name="Lamarr")
    course = give_history(client, keloid_tendency=True, consent_by="Pat Guardian (mother)")
    later = course.consultation.held_on + 100 * DAYS
    deferred = Consultation.objects.create(
        client=client,
        practitioner=course.practitioner,
        held_on=later,
        bleeding_disorder=True,
        outcome=Consultation.Outcome.NOT_SUITABLE,
    )

    response = manager_client.get(reverse("admin:consultations_client_change", args=[client.pk]))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    history = page[page.index('id="client-history"') :]
    for text in [
        # Consultations, with concerns, screening and consent.
        "Atrophic acne scars",
        "Texture, tone and enlarged pores",
        "Cheeks and chin",
        "Suitable with cautions",
        "Keloid tendency with a scar concern",
        "Not suitable / defer",
        "Bleeding disorder: micro-needling makes the skin bleed.",
        "given by Pat Guardian (mother)",
        "Micro-needling of the recorded areas",
        # The course and its sessions.
        "session 2 of 3",
        "active",
        f"Next session due: {course.next_due_on:%-d %b %Y} (overdue)",
        "Motorised pen",
        "Cheeks and chin: 1.50 mm",
        "Forehead: 0.50 mm",
        "Lidocaine 4% cream",
        "Hyaluronic acid serum (sterile, needling grade) (lot LOT-A)",
        "(lot LOT-B)",
        "Redness (erythema)",
        "4/10",
        "Atrophic acne scars: Slight improvement (client: Slight improvement)",
        "Atrophic acne scars: Moderate improvement",
        "Alex Smith",
    ]:
        assert text in history, text
    # Oldest first: the first consultation before the later one, session 1 before session 2.
    assert history.index(f'id="consultation-{course.consultation_id}"') < history.index(
        f'id="consultation-{deferred.pk}"'
    )
    assert history.index("(lot LOT-A)") < history.index("(lot LOT-B)")


def test_add_page_has_no_history(manager_client):
    response = manager_client.get(reverse("admin:consultations_client_add"))
    assert 'id="client-history"' not in response.content.decode()


# Bounded queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "target", "bound"),
    [
        ("admin:consultations_client_changelist", None, 8),
        ("admin:consultations_client_add", None, 5),
        ("admin:consultations_client_change", "client", 15),
        ("admin:consultations_client_history", "client", 9),
        ("admin:consultations_consultation_changelist", None, 8),
        ("admin:consultations_consultation_add", None, 6),
        # With its findings inline (one query).
        ("admin:consultations_consultation_change", "consultation", 16),  # the access record
        ("admin:consultations_consultation_history", "consultation", 8),
    ],
)
def test_pages_run_a_bounded_number_of_queries(
    manager_client,
    make_client,
    give_history,
    django_assert_max_num_queries,
    url_name,
    target,
    bound,
):
    first = give_history(make_client())
    args = {"client": [first.client_id], "consultation": [first.consultation_id]}.get(target)
    url = reverse(url_name, args=args)
    small = page_queries(manager_client, url)
    with django_assert_max_num_queries(bound):
        manager_client.get(url)

    # Six clients, and the first one with three consultations, courses and six sessions.
    for _ in range(5):
        give_history(make_client())
    for days_ago in (300, 200):
        give_history(first.client, started_days_ago=days_ago)

    assert page_queries(manager_client, url) == small
    with django_assert_max_num_queries(bound):
        manager_client.get(url)


# No deletion, stamps --------------------------------------------------------------------------


def test_clinical_records_cannot_be_deleted(manager_client, make_client, give_history):
    course = give_history(make_client())
    for model, pk in (("client", course.client_id), ("consultation", course.consultation_id)):
        listing = manager_client.get(changelist(model)).content.decode()
        assert "delete_selected" not in listing
        change = manager_client.get(reverse(f"admin:consultations_{model}_change", args=[pk]))
        assert 'class="deletelink"' not in change.content.decode()
        delete = manager_client.get(reverse(f"admin:consultations_{model}_delete", args=[pk]))
        assert delete.status_code == HTTPStatus.FORBIDDEN
    assert Client.objects.filter(pk=course.client_id).exists()


def test_changing_a_client_stamps_the_manager(manager_client, make_client, manager, practitioner):
    client = make_client()
    url = reverse("admin:consultations_client_change", args=[client.pk])
    data = admin_form_data(manager_client.get(url), last_name="Renamed")

    response = manager_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    client.refresh_from_db()
    assert client.last_name == "Renamed"
    assert (client.created_by, client.updated_by) == (practitioner, manager)
    page = manager_client.get(url).content.decode()  # the stamps are shown, read only
    assert "Updated by:" in page
    assert f'href="{reverse("admin:auth_user_change", args=[manager.pk])}">manager</a>' in page
    assert 'name="updated_by"' not in page


def test_adding_a_consultation_stamps_it_and_its_concerns(
    manager_client, make_client, manager, practitioner, concern
):
    client = make_client()
    url = reverse("admin:consultations_consultation_add")
    data = admin_form_data(
        manager_client.get(url),
        client=client.pk,
        practitioner=practitioner.pk,
        keloid_tendency="on",
        consent_given="on",
        consent_by="the client",
        **{
            "concerns-0-concern": concern("acne-scars").pk,
            "concerns-0-area": "cheeks",
            "concerns-0-severity": "mild",
        },
    )

    response = manager_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    consultation = Consultation.objects.get(client=client)
    assert consultation.created_by == manager
    assert consultation.outcome == Consultation.Outcome.CAUTIONS  # keloid tendency with scars
    recorded = consultation.concerns.get()
    assert (recorded.created_by, recorded.updated_by) == (manager, manager)


def test_consultation_without_concerns_is_refused_politely(
    manager_client, make_client, practitioner
):
    url = reverse("admin:consultations_consultation_add")
    data = admin_form_data(
        manager_client.get(url), client=make_client().pk, practitioner=practitioner.pk
    )
    data["concerns-TOTAL_FORMS"] = "0"

    response = manager_client.post(url, data)

    assert response.status_code == HTTPStatus.OK
    assert "Please submit at least 1 form" in response.content.decode()
    assert not Consultation.objects.exists()
