"""The session form's rows, on their own."""

from decimal import Decimal

import pytest

from catalogue.models import Area
from treatments.forms import SessionAreaForm


@pytest.mark.parametrize("depth", ["NaN", "sNaN", "-sNaN", "Infinity", "-inf"])
def test_a_depth_that_is_not_a_number_is_refused_on_a_row_with_a_saved_depth(depth):
    form = SessionAreaForm(
        data={"area": Area.CHEEKS, "depth_mm": depth},
        initial={"area": Area.CHEEKS, "depth_mm": Decimal("1.50")},
    )

    assert form.has_changed()
    assert not form.is_valid()
    assert form.errors["depth_mm"] == ["Enter a number."]
