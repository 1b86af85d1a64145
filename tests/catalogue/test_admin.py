"""The managers' admin for the catalogue: concerns and products."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from catalogue.models import Concern, Product
from tests.treatments.test_record_admin import admin_form_data

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:catalogue_{name}", args=args)


def listed(client, name, params=None):
    response = client.get(url(f"{name}_changelist"), params or {})
    assert response.status_code == HTTPStatus.OK
    return set(response.context["cl"].result_list)


def test_catalogue_filters_and_search(manager_client):
    very_low = set(Concern.objects.filter(evidence_level=Concern.Evidence.VERY_LOW))
    assert very_low and very_low != set(Concern.objects.all())
    assert listed(manager_client, "concern", {"evidence_level__exact": "very_low"}) == very_low
    assert listed(manager_client, "concern", {"q": "melasma"}) == {
        Concern.objects.get(slug="melasma")
    }


def test_manager_edits_the_catalogue(manager_client):
    melasma = Concern.objects.get(slug="melasma")
    page = url("concern_change", melasma.pk)
    data = admin_form_data(manager_client.get(page), summary="Patchy brown pigment.")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.FOUND
    melasma.refresh_from_db()
    assert melasma.summary == "Patchy brown pigment."


def test_catalogue_ranges_are_checked_next_to_the_field(manager_client):
    scars = Concern.objects.get(slug="acne-scars")
    page = url("concern_change", scars.pk)
    data = admin_form_data(manager_client.get(page), sessions_min="9", sessions_typical="9")

    response = manager_client.post(page, data)

    assert response.status_code == HTTPStatus.OK
    assert "must lie between the minimum and maximum" in response.content.decode()
    scars.refresh_from_db()
    assert scars.sessions_min != 9


def test_product_filters_and_search(manager_client):
    numbing = set(Product.objects.filter(kind=Product.Kind.NUMBING))
    assert numbing and numbing != set(Product.objects.all())
    assert listed(manager_client, "product", {"kind__exact": "numbing"}) == numbing
    assert listed(manager_client, "product", {"q": "hyaluronic"}) == {
        Product.objects.get(name__startswith="Hyaluronic")
    }


def test_deleting_a_product_in_use_is_refused_with_a_message(manager_client, make_course, log):
    serum = Product.objects.get(name__startswith="Hyaluronic")
    log(make_course(), products=[(serum, "LOT-A")])
    page = url("product_delete", serum.pk)

    shown = manager_client.get(page)
    posted = manager_client.post(page, {"post": "yes"})

    for response in (shown, posted):
        assert response.status_code == HTTPStatus.OK
        page = response.content.decode()
        assert "Cannot delete product" in page
        assert "protected related objects" in " ".join(page.split())
        assert "(lot LOT-A)</a>" in page  # the uses that protect it are listed
    assert Product.objects.filter(pk=serum.pk).exists()


def test_unused_product_can_be_deleted(manager_client):
    unused = Product.objects.create(name="Unused serum", kind=Product.Kind.SERUM)
    response = manager_client.post(url("product_delete", unused.pk), {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Product.objects.filter(pk=unused.pk).exists()
