"""A drawn signature, as the signing page posts it: a PNG data URL, checked strictly.

The pad's canvas gives `data:image/png;base64,...`. What is kept is the image decoded by
Pillow and written again as a plain PNG (no metadata, nothing but the pixels), after these
checks: the text's size, base64 that decodes, a real PNG, a sensible size, and some ink on it.
Anything else is a ValidationError with a message for the page, never an error page.
"""

import base64
import binascii
import io
import warnings

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

PREFIX = "data:image/png;base64,"
MAX_CHARS = 700_000  # about 500 KB of PNG: a pad's signature is a few tens of KB
MAX_WIDTH, MAX_HEIGHT = 2400, 1200
MIN_INK_PIXELS = 30  # a dot or a stray touch is not a signature

NOT_A_SIGNATURE = "The signature could not be read: clear the pad and sign again."
TOO_LARGE = "The signature is too large to keep: clear the pad and sign again."
BLANK = "The pad is empty: sign on it, or type the full name instead."


def clean_signature(data_url):
    """The PNG bytes of a drawn signature posted as a data URL, or a ValidationError."""
    if not isinstance(data_url, str) or not data_url.startswith(PREFIX):
        raise ValidationError(NOT_A_SIGNATURE, code="format")
    if len(data_url) > MAX_CHARS:
        raise ValidationError(TOO_LARGE, code="too_large")
    try:
        raw = base64.b64decode(data_url[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(NOT_A_SIGNATURE, code="base64") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as opened:
                if opened.format != "PNG":
                    raise ValidationError(NOT_A_SIGNATURE, code="format")
                if opened.width > MAX_WIDTH or opened.height > MAX_HEIGHT:
                    raise ValidationError(TOO_LARGE, code="dimensions")
                opened.load()
                image = opened.convert("RGBA")
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise ValidationError(NOT_A_SIGNATURE, code="invalid") from None
    if ink_pixels(image) < MIN_INK_PIXELS:
        raise ValidationError(BLANK, code="blank")
    # Ink on white, as the PDF prints it: the pad draws dark strokes on a transparent canvas.
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="PNG", optimize=True)
    return out.getvalue()


def ink_pixels(image):
    """How many pixels of `image` (RGBA) are drawn: visible and not near white."""
    alpha = image.getchannel("A").point(lambda a: 255 if a > 32 else 0)
    dark = image.convert("L").point(lambda v: 255 if v < 200 else 0)
    drawn = Image.new("L", image.size, 0)
    drawn.paste(dark, mask=alpha)
    return drawn.histogram()[255]
