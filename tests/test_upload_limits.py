"""Uploads and free text within a budget (#20 item 6): a photo's decoded size is checked from
its header before decoding, a post carries a bounded number of files, and notes and reasons
have a length limit; each refused with a message, nothing saved."""

import io
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from consultations.models import Client
from tests.consultations.test_views import client_data
from tests.pages import field_errors, text
from tests.treatments.test_views import session_data
from treatments.models import TreatmentSession
from treatments.photos.services import clean_photo

pytestmark = pytest.mark.django_db


def png(size, mode="RGB"):
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return SimpleUploadedFile("big.png", out.getvalue(), content_type="image/png")


def jpeg(name="p.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 90)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_the_pixel_budget_keeps_one_decoded_photo_within_the_memory_budget():
    assert settings.PHOTO_MAX_PIXELS * 4 <= settings.PHOTO_MAX_DECODED_BYTES
    assert Image.MAX_IMAGE_PIXELS == settings.PHOTO_MAX_PIXELS
    assert settings.PHOTO_MAX_PIXELS >= 6000 * 4000  # a 24-megapixel camera's photo


def test_a_small_file_of_too_many_pixels_is_refused_before_it_is_decoded():
    # 8000 x 4000 one-bit pixels: a few KB on disk, 128 MB decoded as RGBA.
    upload = png((8000, 4000), mode="1")
    assert upload.size < 100_000
    started = time.monotonic()
    with pytest.raises(Exception) as refused:
        clean_photo(upload)
    assert time.monotonic() - started < 0.5
    assert refused.value.code == "too_many_pixels"
    assert refused.value.messages == [
        "big.png has more than the 25.2 megapixels this tracker takes: save it at a smaller "
        "size (a phone's standard setting) and upload it again."
    ]


def test_a_photo_just_within_the_budget_is_taken(settings):
    settings.PHOTO_MAX_PIXELS = 40 * 30
    assert clean_photo(jpeg()).width == 40
    settings.PHOTO_MAX_PIXELS = 40 * 30 - 1
    with pytest.raises(Exception, match="more than the"):
        clean_photo(jpeg())


def test_too_many_photos_in_one_upload_are_refused_with_a_message(signed_in, make_consultation):
    consultation = make_consultation(photo_consent=True)
    url = reverse("treatments:consultation-photo-create", args=[consultation.pk])
    photos = [jpeg(f"p{n}.jpg") for n in range(settings.PHOTO_MAX_PER_UPLOAD + 1)]

    page = signed_in.post(url, {"photos": photos, "photo_area": "cheeks"}, follow=True)

    assert "11 photos were chosen: add at most 10 at a time, then the rest." in text(page)
    assert consultation.photos.count() == 0


def test_more_files_than_a_request_may_carry_get_a_page_that_says_why(signed_in, make_consultation):
    consultation = make_consultation(photo_consent=True)
    url = reverse("treatments:consultation-photo-create", args=[consultation.pk])
    photos = [jpeg(f"p{n}.jpg") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]

    response = signed_in.post(url, {"photos": photos, "photo_area": "cheeks"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "choose at most 10 photos, save, then add the rest" in text(response)
    assert consultation.photos.count() == 0


def test_a_note_past_its_limit_is_refused_next_to_the_field_and_kept(signed_in):
    notes = "x" * 4001
    response = signed_in.post(reverse("consultations:client-create"), client_data(notes=notes))

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_notes") == [
        "Ensure this value has at most 4000 characters (it has 4001)."
    ]
    assert notes in response.content.decode()
    assert not Client.objects.exists()


def test_a_session_note_past_its_limit_is_refused_next_to_the_field(signed_in, make_course):
    course = make_course()
    data = session_data(course, notes="y" * 4001)

    response = signed_in.post(reverse("treatments:session-create", args=[course.pk]), data)

    assert response.status_code == HTTPStatus.OK
    assert field_errors(response, "id_notes") == [
        "Ensure this value has at most 4000 characters (it has 4001)."
    ]
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize(
    ("model", "field", "limit"),
    [
        ("consultations.Client", "notes", 4000),
        ("consultations.Consultation", "notes", 4000),
        ("treatments.Course", "notes", 4000),
        ("treatments.Course", "end_reason", 1000),
        ("treatments.Course", "override_reason", 1000),
        ("treatments.TreatmentSession", "notes", 4000),
        ("treatments.TreatmentSession", "depth_reason", 1000),
        ("treatments.TreatmentSession", "interval_reason", 1000),
        ("treatments.ContactAttempt", "note", 4000),
    ],
)
def test_free_text_has_a_length_limit(model, field, limit):
    from django.apps import apps

    assert apps.get_model(model)._meta.get_field(field).max_length == limit
