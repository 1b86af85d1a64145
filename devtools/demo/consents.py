"""The demo clients sign their consents on the tablet, as real ones do (typing the name)."""

from consent.models import Kind, SignedConsent
from consent.services import current_version, sign_consent


def sign_demo_consents(client, *, witness, kinds=(Kind.TREATMENT, Kind.NUMBING)):
    """The client signs the current consents (typing the name), unless already signed."""
    for kind in kinds:
        if not SignedConsent.objects.valid(kind, signed_only=True).filter(client=client).exists():
            sign_consent(
                client=client,
                version=current_version(kind),
                witness=witness,
                signer_name=client.full_name,
                typed_name=client.full_name,
            )
