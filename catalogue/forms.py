"""Form fields the workflows share for the catalogue's reference data."""

from functools import partial

from django import forms
from django.utils.choices import BaseChoiceIterator

from catalogue.models import BodyArea, area_chart


def _area_choices(ranges, blank):
    choices = area_chart().choices(ranges=ranges)
    return [("", blank), *choices] if blank is not None else choices


class AreaChoiceField(forms.ChoiceField):
    """A body area of the chart, given by its code.

    Its options come from the cached area chart (catalogue.models.area_chart), so a formset of
    many rows reads no area row per row. `ranges`: each option shows the area's depth range
    ("Around the eyes (0.25-0.5 mm, max 0.5)").
    """

    def __init__(self, *, ranges=False, blank="---------", **kwargs):
        super().__init__(choices=partial(_area_choices, ranges, blank), **kwargs)


class _ChartChoices(BaseChoiceIterator):
    """An AreaModelChoiceField's options, from the cached chart rather than its queryset; read
    when drawn (a BaseChoiceIterator stays lazy: the form classes are built at import)."""

    def __init__(self, field):
        self.field = field

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from area_chart().choices()

    def __len__(self):
        return len(area_chart()) + (self.field.empty_label is not None)

    def __bool__(self):
        return True


class AreaModelChoiceField(forms.ModelChoiceField):
    """A model form's key to a BodyArea (by code) whose options are drawn from the cached area
    chart: drawing the select reads no row (choosing one still checks it exists)."""

    iterator = _ChartChoices
    default_error_messages = {
        "invalid_choice": forms.ChoiceField.default_error_messages["invalid_choice"],
    }

    def __init__(self, queryset=None, **kwargs):
        kwargs["to_field_name"] = "code"
        super().__init__(BodyArea.objects.all() if queryset is None else queryset, **kwargs)
