from django import forms

from consent.models import SignedConsent


class SignForm(forms.Form):
    """What the signing page posts: who signs and as what, and the signature (drawn on the pad,
    posted as a PNG data URL, or the full name typed instead)."""

    # The version the page showed (its id): checked against the one offered now by the view.
    version = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    signer_name = forms.CharField(
        label="Signer's full name",
        max_length=200,
        help_text="The client, or the parent or guardian signing for them.",
    )
    relationship = forms.ChoiceField(
        label="Signing as",
        choices=SignedConsent.Relationship.choices,
        initial=SignedConsent.Relationship.CLIENT,
        widget=forms.RadioSelect,
    )
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    typed_name = forms.CharField(
        label="Or type the full name instead of signing on the pad",
        max_length=200,
        required=False,
        help_text="For a signer who cannot use the pad: the same full name as above.",
    )

    def clean_signature(self):
        # Checked in full by the service; a bound that stops a huge post from being held twice.
        return self.cleaned_data.get("signature") or ""


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is the consent withdrawn?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In the client's words where possible. The consent stays on record.",
    )
