"""Long lists are never counted to their end (clinic.pagination)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.pagination import CappedCountPaginator, ShortCountPaginator, WorklistPaginator
from consultations.models import Client
from tests.pages import text


@pytest.fixture
def smiths(make_client):
    for first_name in ("Ann", "Bea", "Cat", "Dee", "Eve"):
        make_client(first_name=first_name, last_name="Smith")
    make_client(first_name="Fay", last_name="Jones")


def test_the_count_stops_one_past_the_cap(smiths, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    paginator = CappedCountPaginator(Client.objects.order_by("first_name"), 2)

    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 4
    assert paginator.capped
    assert "LIMIT 4" in queries.captured_queries[0]["sql"]
    assert "ORDER BY" not in queries.captured_queries[0]["sql"]
    # The pages up to the cap stay reachable.
    assert [c.first_name for c in paginator.page(2)] == ["Cat", "Dee"]


def test_under_the_cap_the_count_is_exact(smiths):
    paginator = ShortCountPaginator(Client.objects.search("smith"), 25)
    assert (paginator.count, paginator.capped) == (5, False)


def test_a_long_search_in_the_workspace_asks_for_a_narrower_one(signed_in, smiths, monkeypatch):
    monkeypatch.setattr(ShortCountPaginator, "cap", 3)

    page = text(signed_in.get(reverse("consultations:client-list"), {"q": "smith"}))
    narrower = text(signed_in.get(reverse("consultations:client-list"), {"q": "smith bea"}))

    assert "More than 3 clients matching “smith”, newest first. Add a word" in page
    assert "Smith" in page
    assert "1 client matching “smith bea”, newest first." in narrower


def test_the_whole_client_list_is_counted_up_to_its_cap(signed_in, smiths, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    page = text(signed_in.get(reverse("consultations:client-list")))
    assert "More than 4 clients. Search by name, email or phone" in page


def test_a_long_search_in_the_admin_asks_for_a_narrower_one(manager_client, smiths, monkeypatch):
    monkeypatch.setattr(ShortCountPaginator, "cap", 3)
    url = reverse("admin:consultations_client_changelist")

    searched = text(manager_client.get(url, {"q": "smith"}))
    plain = text(manager_client.get(url))

    assert "More than 3 clients match; refine the search to see the rest." in searched
    assert "6 clients" in plain


def test_todays_worklist_is_counted_up_to_its_cap(signed_in, make_course, monkeypatch):
    for _ in range(3):
        make_course()  # no session yet, started 120 days ago: overdue
    monkeypatch.setattr(ShortCountPaginator, "cap", 2)

    page = text(signed_in.get(reverse("today")))

    assert "Due today and overdue 2+" in page
    assert page.count("Overdue since") == 3  # the page shows every row it has


def test_a_worklist_counts_in_its_own_order_and_stops_at_the_cap(
    monkeypatch, make_client, django_assert_num_queries
):
    for _ in range(5):
        make_client()
    monkeypatch.setattr(WorklistPaginator, "cap", 3)
    paginator = WorklistPaginator(Client.objects.order_by("-pk"), 2)

    with django_assert_num_queries(1) as captured:
        assert paginator.count == 4
    assert paginator.capped
    assert "ORDER BY" in captured.captured_queries[0]["sql"]
    assert [c.pk for c in paginator.page(2)] == list(
        Client.objects.order_by("-pk").values_list("pk", flat=True)[2:4]
    )
