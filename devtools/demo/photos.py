"""Before-and-after photos for a few demo clients, so a newcomer sees the photo pages.

The images are drawn here (a skin-tone gradient with a few darker marks that fade from one
session to the next) and stored through add_photo(), the same checks, cleaning and storage as a
real upload. Small images: the whole set takes well under a second.
"""

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter

from consent.models import Kind
from devtools.demo.consents import sign_demo_consents
from treatments.models import Course
from treatments.photos.services import add_photo

PHOTO_CLIENTS = 4  # clients with photos
SIZE = (480, 360)
# Fitzpatrick-like skin tones: (light, shadow) pairs for the gradient.
TONES = [
    ((246, 215, 192), (221, 178, 150)),
    ((232, 190, 160), (201, 150, 118)),
    ((198, 148, 110), (165, 115, 82)),
    ((141, 95, 64), (109, 70, 46)),
]


def skin_image(*, seed, tone, fade):
    """A JPEG of skin with marks (scars, patches) at `fade` of their strength (1: before)."""
    rng = random.Random(seed)
    light, shadow = tone
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(light, shadow, strict=True)),
        )
    marks = Image.new("L", SIZE, 0)
    marks_draw = ImageDraw.Draw(marks)
    for _ in range(14):
        x, y = rng.randrange(40, width - 40), rng.randrange(40, height - 40)
        r = rng.randrange(6, 18)
        marks_draw.ellipse([x - r, y - r, x + r, y + r], fill=round(150 * fade))
    marks = marks.filter(ImageFilter.GaussianBlur(4))
    darker = Image.new("RGB", SIZE, tuple(round(c * 0.6) for c in shadow))
    image = Image.composite(darker, image, marks)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def add_demo_photos(demo, *, clients=PHOTO_CLIENTS):
    """Photos at every session of the first courses with three sessions or more, for
    `clients` clients: a "before" at the consultation and one a session after, the marks
    fading. Call inside photo_transaction(). Returns the photos added."""
    courses = (
        Course.objects.filter(sessions_logged__gte=3, client__archived=False)
        .select_related("client", "consultation")
        .order_by("pk")
    )
    photos, seen = [], set()
    for course in courses:
        if len(seen) == clients:
            break
        if course.client_id in seen:
            continue
        seen.add(course.client_id)
        consultation = course.consultation
        sign_demo_consents(course.client, witness=course.practitioner, kinds=[Kind.PHOTOGRAPHS])
        sessions = list(course.sessions.valid().prefetch_related("areas").order_by("number"))
        area = sessions[0].areas.all()[0].area_id
        tone = TONES[len(seen) % len(TONES)]
        seed = demo.rng.randrange(1_000_000)
        steps = [("consultation", consultation)] + [("session", s) for s in sessions]
        for n, (kind, owner) in enumerate(steps):
            fade = max(0.15, 1 - n / len(steps))
            image = SimpleUploadedFile(
                f"demo-{course.pk}-{n}.jpg", skin_image(seed=seed, tone=tone, fade=fade)
            )
            photos.append(
                add_photo(
                    client=course.client,
                    image_file=image,
                    area=area,
                    angle="front",
                    by=owner.practitioner,
                    **{kind: owner},
                )
            )
    return photos
