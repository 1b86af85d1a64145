"""A session logged in Chromium with a photo from the tablet's file picker."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from treatments.models import Photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_photo_is_uploaded_with_the_session_and_shown_as_a_thumbnail(
    signed_in_page, make_course, make_consultation, tmp_path
):
    page = signed_in_page
    course = make_course(make_consultation(photo_consent=True))
    picture = tmp_path / "cheek.png"
    Image.new("RGB", (800, 600), (180, 110, 90)).save(picture)

    page.goto(f"/courses/{course.pk}/sessions/new/")
    page.get_by_label("Photos to add").set_input_files(str(picture))
    page.get_by_label("Area photographed").select_option("cheeks")
    page.get_by_label("Angle").select_option(Photo.Angle.LEFT)
    page.get_by_label("Your rating").select_option(label="Not assessed")
    page.get_by_label("I asked the client what changed since the last visit").check()
    page.get_by_role("button", name="Log session").click()
    expect(page.get_by_text("Session 1 of 3 logged")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/clients/\d+/$"))

    photo = Photo.objects.get()
    assert (photo.area_id, photo.angle, photo.session.course_id) == ("cheeks", "left", course.pk)
    thumbnail = page.locator(f'img[src="/photos/{photo.pk}/thumbnail/"]')
    expect(thumbnail).to_be_visible()
    # Visible is not loaded: wait for the picture itself (0 if it fails to load).
    width = thumbnail.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert width == 320

    page.get_by_role("link", name="Photos", exact=True).click()
    expect(page.get_by_role("heading", name="Cheeks and chin, left")).to_be_visible()
    expect(page.locator(f'img[src="/photos/{photo.pk}/thumbnail/"]')).to_be_visible()
