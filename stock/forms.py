from django import forms
from django.utils import timezone

from catalogue.models import Product
from stock.gs1 import MAX_SCAN_LENGTH
from stock.models import Lot


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class LotReceiveForm(forms.ModelForm):
    """A lot received into stock (the managers' workspace page)."""

    class Meta:
        model = Lot
        fields = ["product", "lot_number", "expiry_date", "received_on", "quantity", "notes"]
        widgets = {
            "expiry_date": DateInput(),
            "received_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(in_use=True)
        self.fields["expiry_date"].required = True
        self.fields["received_on"].initial = timezone.localdate

    def validate_unique(self):
        """The service refuses a lot number the product already has, with its message."""


class LotStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Lot.Status.choices)
    status_reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the lot is quarantined or recalled (the recall notice's reference).",
    )


class ScanForm(forms.Form):
    code = forms.CharField(max_length=MAX_SCAN_LENGTH * 2, strip=False)
