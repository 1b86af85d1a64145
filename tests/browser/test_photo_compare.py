"""The photo comparison on a 768 px tablet: side by side, then an overlay whose slider fades
the later photo in and out."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from devtools.demo.photos import TONES, skin_image
from treatments.photos.services import add_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_overlay_slider_fades_the_later_photo_at_768_px(
    signed_in_page, make_course, make_consultation, log, practitioner
):
    page = signed_in_page
    page.set_viewport_size({"width": 768, "height": 1024})
    course = make_course(make_consultation(photo_consent=True))
    photos = []
    for n, fade in enumerate((1.0, 0.3)):
        session = log(course)
        photos.append(
            add_photo(
                client=course.client,
                session=session,
                image_file=SimpleUploadedFile(
                    f"{n}.jpg", io.BytesIO(skin_image(seed=1, tone=TONES[0], fade=fade)).read()
                ),
                area="cheeks",
                angle="front",
                by=practitioner,
            )
        )

    page.goto(f"/clients/{course.client_id}/photos/compare/?area=cheeks&angle=front")
    expect(page.get_by_text("Left: Session 1")).to_be_visible()
    expect(page.get_by_text("Right: Session 2")).to_be_visible()

    page.get_by_role("button", name="Overlay").click()
    expect(page.locator("#overlay")).to_be_visible()
    expect(page.locator("#comparison")).to_be_hidden()
    slider = page.get_by_label("of the later photo")
    slider.fill("20")
    expect(page.locator("#overlay-value")).to_have_text("20%")
    opacity = page.locator("#overlay-after").evaluate("img => getComputedStyle(img).opacity")
    assert float(opacity) == pytest.approx(0.2)
    box = slider.bounding_box()
    assert box["height"] >= 44  # a finger can take it
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("button", name="Side by side").click()
    expect(page.locator("#comparison")).to_be_visible()
    expect(page.locator("#overlay")).to_be_hidden()
