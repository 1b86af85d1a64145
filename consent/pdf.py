"""The frozen copy of a signed consent: a PDF rendered once, at signing, with reportlab.

It holds the clinic's details, the version's text exactly as signed, who signed and as what,
the witness, the date and time, the signature (the drawn image or the typed name) and the
SHA-256 of the text. The font is DejaVu's ancestor Bitstream Vera, shipped inside reportlab,
so names beyond Latin-1 print and nothing is fetched at run time.
"""

import io
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

from catalogue.models import ClinicDetails

FONT, BOLD = "ClinicVera", "ClinicVera-Bold"


@cache
def _fonts():
    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles():
    _fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, spaceAfter=6)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=BOLD, fontSize=12, spaceBefore=8
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
    }


def _p(text, style):
    # reportlab reads its own small markup in a Paragraph: every text is escaped first.
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def render_pdf(signed, *, signature_png=None):
    """The PDF bytes of `signed` (a SignedConsent being saved), its signature given as PNG
    bytes when it was drawn."""
    styles = _styles()
    version = signed.document_version
    details = ClinicDetails.current()
    story = [_p(details.name, styles["title"])]
    contact = [line for line in (details.address, details.phone, details.email) if line]
    if contact:
        story.append(_p("\n".join(contact), styles["small"]))
    if details.out_of_hours_advice:
        story.append(_p(f"Out of hours: {details.out_of_hours_advice}", styles["small"]))
    story += [
        Spacer(1, 4 * mm),
        _p(f"{version.document.title} (version {version.number})", styles["title"]),
        _p(
            f"Published {timezone.localtime(version.published_at):%d %b %Y}. "
            f"Client: {signed.client.full_name}, born {signed.client.date_of_birth:%d %b %Y}.",
            styles["small"],
        ),
    ]
    for block in version.blocks:
        if block.kind == "heading":
            story.append(_p(block.text, styles["heading"]))
        elif block.kind == "paragraph":
            story.append(_p(block.text, styles["body"]))
        else:
            story.append(
                ListFlowable(
                    [ListItem(_p(point, styles["body"])) for point in block.points],
                    bulletType="bullet",
                    bulletFontName=FONT,
                    start="•",
                )
            )
    signed_at = timezone.localtime(signed.signed_at)
    witness = signed.witness.get_full_name() or signed.witness.get_username()
    story += [
        Spacer(1, 6 * mm),
        _p("Signed", styles["heading"]),
        _p(
            f"Signed by {signed.signer_name} ({signed.get_relationship_display().lower()}) "
            f"on {signed_at:%d %b %Y at %H:%M}.",
            styles["body"],
        ),
    ]
    if signature_png:
        image = Image(io.BytesIO(signature_png))
        scale = min(1.0, (70 * mm) / image.imageWidth, (30 * mm) / image.imageHeight)
        image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
        image.hAlign = "LEFT"
        story.append(image)
    else:
        story.append(_p(f"Signature typed as the full name: {signed.typed_name}", styles["body"]))
    story += [
        _p(f"Witnessed and countersigned by {witness}, practitioner.", styles["body"]),
        Spacer(1, 4 * mm),
        _p(f"SHA-256 of the text signed: {signed.text_sha256}", styles["small"]),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{version.document.title}, version {version.number}: {signed.signer_name}",
        author=details.name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=True,
    )
    document.build(story)
    return out.getvalue()
