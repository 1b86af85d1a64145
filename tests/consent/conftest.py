import base64
import io

import pytest
from PIL import Image, ImageDraw


def png_data_url(size=(600, 200), ink=True, fmt="PNG", mode="RGBA"):
    """A data URL like the pad's: dark strokes on a transparent canvas."""
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    if ink:
        draw = ImageDraw.Draw(image)
        draw.line([(20, 150), (120, 40), (220, 160), (340, 50), (520, 140)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def drawn():
    return png_data_url()
