"""The session form's rows, on their own."""

from decimal import Decimal

import pytest

from treatments.forms import SessionAreaForm

pytestmark = pytest.mark.django_db  # the area's options come from the area chart


@pytest.mark.parametrize("depth", ["NaN", "sNaN", "-sNaN", "Infinity", "-inf"])
def test_a_depth_that_is_not_a_number_is_refused_on_a_row_with_a_saved_depth(depth):
    form = SessionAreaForm(
        data={"area": "cheeks", "depth_mm": depth},
        initial={"area": "cheeks", "depth_mm": Decimal("1.50")},
    )

    assert form.has_changed()
    assert not form.is_valid()
    assert form.errors["depth_mm"] == ["Enter a number."]
