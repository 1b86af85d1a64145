"""The area chart: body areas as reference data, their nesting, ranges and maximums."""

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from catalogue.models import BodyArea, area_chart, overlapping_area_codes
from tests.treatments.test_record_admin import admin_form_data

pytestmark = pytest.mark.django_db

FACE_PARTS = {"forehead", "periorbital", "nose", "cheeks", "perioral"}


def test_a_new_database_has_the_chart_with_the_full_face_made_of_its_parts():
    parents = dict(BodyArea.objects.values_list("code", "parent__code"))

    assert {code for code, parent in parents.items() if parent == "face"} == FACE_PARTS
    standing_alone = {"face", "neck", "decollete", "abdomen", "thighs", "buttocks", "arms"}
    assert all(parents[code] is None for code in standing_alone | {"back", "hands", "scalp"})
    # Every code that records kept when areas were a fixed list, and the nose.
    assert set(parents) == {
        *standing_alone,
        *FACE_PARTS,
        "back",
        "hands",
        "scalp",
    }


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("periorbital", "0.25-0.5 mm, max 0.5"),
        ("forehead", "0.25-0.75 mm, max 0.75"),
        ("cheeks", "0.5-2.0 mm, max 2.0"),
        ("abdomen", "1.5-2.0 mm, max 2.5"),
        ("scalp", "1.5 mm, max 1.5"),
        # Made of parts: it spans their ranges.
        ("face", "0.25-2.0 mm, max 2.0"),
    ],
)
def test_each_area_shows_its_range_and_maximum(code, shown):
    assert area_chart()[code].range_display == shown


@pytest.mark.parametrize(
    ("code", "overlapping"),
    [
        ("cheeks", {"cheeks", "face"}),
        ("periorbital", {"periorbital", "face"}),
        ("face", {"face", *FACE_PARTS}),
        ("neck", {"neck"}),
        ("scalp", {"scalp"}),
        ("elbow", {"elbow"}),  # not in the chart: only itself
    ],
)
def test_containment_works_both_ways(code, overlapping):
    assert overlapping_area_codes(code) == overlapping


def test_a_deeper_nesting_is_followed_both_ways():
    cheeks = BodyArea.objects.get(code="cheeks")
    BodyArea.objects.create(
        code="chin", name="Chin", parent=cheeks, max_mm=Decimal("1.00"), position=55
    )

    assert overlapping_area_codes("chin") == {"chin", "cheeks", "face"}
    assert "chin" in overlapping_area_codes("face")


@pytest.mark.parametrize(
    ("code", "suggested", "low_end", "depth"),
    [
        ("periorbital", Decimal("1.00"), False, Decimal("0.25")),  # never above the range
        ("cheeks", Decimal("1.50"), False, Decimal("1.00")),  # the thin-skin range's top
        ("cheeks", Decimal("0.75"), False, Decimal("0.75")),  # inside it: as suggested
        ("cheeks", Decimal("1.50"), True, Decimal("0.50")),  # Fitzpatrick IV-VI: the low end
        ("scalp", Decimal("1.00"), False, Decimal("1.50")),  # brought up into the range
        ("neck", None, False, Decimal("0.25")),  # no concern's depth: the low end
    ],
)
def test_a_first_session_starts_inside_the_thin_skin_range(code, suggested, low_end, depth):
    assert area_chart()[code].first_depth(suggested, low_end=low_end) == depth


def test_a_change_to_an_area_reaches_the_chart_at_once():
    assert area_chart()["neck"].max_mm == Decimal("1.00")  # now in the cache
    neck = BodyArea.objects.get(code="neck")
    neck.max_mm = Decimal("1.25")
    neck.save()

    assert area_chart()["neck"].max_mm == Decimal("1.25")


def test_a_range_above_the_hard_maximum_is_refused_by_the_model_and_the_database():
    forehead = BodyArea.objects.get(code="forehead")
    forehead.thick_max_mm = Decimal("1.50")

    with pytest.raises(ValidationError) as refused:
        forehead.full_clean()
    assert refused.value.message_dict["thick_max_mm"] == [
        "The range cannot go past the hard maximum."
    ]
    with transaction.atomic(), pytest.raises(IntegrityError):
        BodyArea.objects.filter(code="forehead").update(thick_max_mm=Decimal("1.50"))


def test_an_area_cannot_be_part_of_one_of_its_parts():
    face = BodyArea.objects.get(code="face")
    face.parent = BodyArea.objects.get(code="cheeks")

    with pytest.raises(ValidationError) as refused:
        face.full_clean()
    assert "part of itself" in refused.value.message_dict["parent"][0]


def test_an_area_records_use_cannot_be_deleted(make_consultation):
    make_consultation(concerns=(("acne-scars", "nose"),))

    with pytest.raises(ProtectedError):
        BodyArea.objects.get(code="nose").delete()


# The managers' admin


def url(name, *args):
    return reverse(f"admin:catalogue_{name}", args=args)


def test_managers_list_the_chart_with_each_areas_range(manager_client):
    response = manager_client.get(url("bodyarea_changelist"))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Around the eyes" in page
    assert "0.25-0.5 mm, max 0.5" in page


def test_a_manager_edits_an_areas_maximum_and_sessions_follow_it(manager_client):
    periorbital = BodyArea.objects.get(code="periorbital")
    page = url("bodyarea_change", periorbital.pk)
    form = manager_client.get(page)
    assert "code" not in form.context["adminform"].form.fields  # records keep it: read only

    response = manager_client.post(page, admin_form_data(form, max_mm="0.75"))

    assert response.status_code == HTTPStatus.FOUND
    assert area_chart()["periorbital"].max_mm == Decimal("0.75")
    assert periorbital.history.count() == 2  # shipped, then changed


def test_an_areas_ranges_are_checked_next_to_the_field_in_the_admin(manager_client):
    scalp = BodyArea.objects.get(code="scalp")
    page = url("bodyarea_change", scalp.pk)

    response = manager_client.post(
        page, admin_form_data(manager_client.get(page), thin_min_mm="1.75")
    )

    assert response.status_code == HTTPStatus.OK
    assert "The range must run from the shallower depth." in response.content.decode()
    scalp.refresh_from_db()
    assert scalp.thin_min_mm == Decimal("1.50")
