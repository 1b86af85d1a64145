"""Before-and-after photos: the upload checks, privacy, consent, access by role and the pages."""

import io
import json
from contextlib import suppress
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, transaction
from django.urls import reverse
from PIL import ExifTags, Image

from clinic import roles
from consultations.models import ClientAccess
from tests.pages import SIGNED_IN_QUERIES, field_errors, text
from tests.treatments.test_views import session_data
from treatments.models import Photo, TreatmentSession
from treatments.photos import services as photo_services
from treatments.photos.services import add_photo, photo_transaction

pytestmark = pytest.mark.django_db

GPS = ExifTags.IFD.GPSInfo


def image_bytes(fmt="JPEG", size=(640, 480), color=(200, 120, 90), **save):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def upload(content, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files():
    """Every photo file in the photo storage (a local folder in the tests); the signed consents'
    files beside them (under consents/) are not photos."""
    root = Path(storages["photos"].location) / "clients"
    return sorted(str(path.relative_to(root.parent)) for path in root.rglob("*") if path.is_file())


def files_of(*photos):
    return sorted(name for photo in photos for name in (photo.image.name, photo.thumbnail.name))


def jpeg_with_gps():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15"
    exif[ExifTags.Base.Orientation] = 6  # rotated: the stored photo is turned upright
    exif.get_ifd(GPS).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (51.0, 30.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (0.0, 7.0, 0.0),
        }
    )
    return image_bytes(size=(400, 200), exif=exif.tobytes())


@pytest.fixture
def consented_course(make_consultation, make_course):
    return make_course(make_consultation(photo_consent=True))


@pytest.fixture
def session(consented_course, log):
    return log(consented_course)


@pytest.fixture
def add(session, practitioner):
    """Add a photo to `session` (or to `consultation=`) by the practitioner."""

    def make(content=None, *, area="cheeks", angle=Photo.Angle.FRONT, **extra):
        if "consultation" not in extra:
            extra.setdefault("session", session)
        owner = extra.get("session") or extra.get("consultation")
        client = owner.course.client if isinstance(owner, TreatmentSession) else owner.client
        return add_photo(
            client=client,
            image_file=upload(content or image_bytes()),
            area=area,
            angle=angle,
            by=practitioner,
            **extra,
        )

    return make


# The service ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp")])
def test_jpeg_png_and_webp_are_stored_as_jpeg_with_a_thumbnail(add, fmt, name):
    photo = add(image_bytes(fmt, size=(1200, 900)))

    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert image.size == (1200, 900) == (photo.width, photo.height)
    with photo.thumbnail.open("rb") as stored, Image.open(stored) as thumb:
        assert max(thumb.size) == 320
    assert photo.taken_on == photo.session.performed_on


def test_heic_is_accepted(add):
    try:
        content = image_bytes("HEIF")
    except (KeyError, OSError, ValueError) as error:  # pragma: no cover
        pytest.skip(f"pillow-heif cannot write HEIF here: {error}")

    photo = add(content)

    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"


def test_a_text_file_named_jpg_is_refused(add):
    with pytest.raises(ValidationError) as refusal:
        add(b"name,email\nAda,ada@example.com\n")

    assert "upload a JPEG, PNG, WebP or HEIC image" in str(refusal.value)
    assert not Photo.objects.exists()


def test_an_image_in_another_format_is_refused_whatever_its_name(add):
    with pytest.raises(ValidationError, match="JPEG, PNG, WebP or HEIC"):
        add(image_bytes("GIF"))


def test_an_oversize_file_is_refused(add, settings):
    settings.PHOTO_MAX_BYTES = 1000

    with pytest.raises(ValidationError, match="larger than the"):
        add(image_bytes(size=(800, 800)))
    assert not Photo.objects.exists()


def test_a_decompression_bomb_is_refused(add, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    with pytest.raises(ValidationError, match="megapixels this tracker takes"):
        add(image_bytes(size=(100, 100)))


def test_exif_gps_and_device_are_removed_and_the_photo_turned_upright(add):
    photo = add(jpeg_with_gps())

    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert "exif" not in image.info
        assert not image.getexif()
        assert image.size == (200, 400)  # the orientation was applied, then dropped
    with photo.thumbnail.open("rb") as stored, Image.open(stored) as thumb:
        assert not thumb.getexif()


def test_without_photo_consent_the_upload_is_refused(log, make_course, make_consultation, add):
    session = log(make_course(make_consultation(photo_consent=False)))

    with pytest.raises(ValidationError, match="not consented to photographs"):
        add(session=session)
    assert not Photo.objects.exists()


def test_before_photos_at_a_consultation_need_its_consent(add, make_consultation):
    with pytest.raises(ValidationError, match="not consented"):
        add(consultation=make_consultation())

    consultation = make_consultation(photo_consent=True)
    photo = add(consultation=consultation, angle=Photo.Angle.LEFT)
    assert photo.taken_on == consultation.held_on and photo.session is None


def test_the_history_records_who_uploaded(add, practitioner):
    photo = add()

    assert photo.created_by == practitioner
    assert photo.history.get().history_user == practitioner


# Files follow the transaction ------------------------------------------------------------------


def test_an_error_after_photos_are_stored_leaves_neither_files_nor_rows(add):
    with pytest.raises(RuntimeError), photo_transaction():
        add()
        add(angle=Photo.Angle.RIGHT)
        assert len(stored_files()) == 4  # written before their rows, so a row has its file
        raise RuntimeError("the connection dropped")

    assert stored_files() == []
    assert not Photo.objects.exists()


def test_a_transaction_marked_for_rollback_removes_the_files_of_its_photos(add):
    with photo_transaction():
        add()
        transaction.set_rollback(True)

    assert stored_files() == []
    assert not Photo.objects.exists()


def test_photos_of_an_inner_block_that_rolled_back_lose_their_files_the_rest_stay(add):
    with photo_transaction():
        kept = add()
        with suppress(RuntimeError), transaction.atomic():
            add(angle=Photo.Angle.RIGHT)
            raise RuntimeError("refused after the upload")

    assert list(Photo.objects.all()) == [kept]
    assert stored_files() == files_of(kept)


def test_a_refusal_after_the_photos_were_stored_keeps_the_form_and_no_file(
    signed_in, consented_course, monkeypatch
):
    """The session form: the photos are stored, then something later refuses the session."""

    def refuse(request, message):
        raise ValidationError("Someone else changed this course meanwhile: try again.")

    monkeypatch.setattr("treatments.views.messages.success", refuse)
    data = session_data(consented_course, photo_area="cheeks", photo_angle="front")
    data["notes"] = "Keep these notes"
    data["photos"] = [upload(image_bytes(), "one.jpg"), upload(image_bytes(), "two.jpg")]

    response = signed_in.post(
        reverse("treatments:session-create", args=[consented_course.pk]), data
    )

    assert response.status_code == HTTPStatus.OK
    assert "Someone else changed this course meanwhile" in text(response)
    assert "Keep these notes" in response.content.decode()
    assert not TreatmentSession.objects.exists() and not Photo.objects.exists()
    assert stored_files() == []


def test_a_refused_photo_among_several_removes_the_stored_ones(session, practitioner):
    with pytest.raises(ValidationError, match="bad.jpg is not a photo"):
        photo_services.add_photos(
            client=session.course.client,
            session=session,
            image_files=[upload(image_bytes(), "good.jpg"), upload(b"text", "bad.jpg")],
            area="cheeks",
            angle=Photo.Angle.FRONT,
            by=practitioner,
        )

    assert stored_files() == [] and not Photo.objects.exists()


# Real commits: the outermost transaction is the photo_transaction() itself.
committing = pytest.mark.django_db(transaction=True)


def break_the_commit(practitioner):
    """A row whose foreign key the database checks only at COMMIT, which then fails."""
    ClientAccess.objects.create(user=practitioner, client_id=999_999, via=ClientAccess.Via.PHOTO)


@committing
def test_committed_photos_keep_their_files(add):
    with photo_transaction():
        photos = [add(), add(angle=Photo.Angle.LEFT)]

    assert stored_files() == files_of(*photos)
    assert set(Photo.objects.all()) == set(photos)


@committing
def test_a_commit_that_fails_leaves_no_photo_file(add, practitioner):
    with pytest.raises(IntegrityError), photo_transaction():
        add()
        break_the_commit(practitioner)

    assert not Photo.objects.exists()
    assert stored_files() == []


@committing
def test_when_a_failed_commit_cannot_be_checked_the_files_are_kept(add, practitioner, monkeypatch):
    """The database gone at COMMIT: the photo may be saved, so its files stay (unused at
    worst, never a saved photo without its file)."""
    checks = []
    real = photo_services.without_rows

    def database_gone(photos):
        checks.append(photos)
        if len(checks) > 1:  # the check after the commit failed
            raise OperationalError("server closed the connection unexpectedly")
        return real(photos)

    monkeypatch.setattr(photo_services, "without_rows", database_gone)
    with pytest.raises(IntegrityError), photo_transaction():
        photo = add()
        break_the_commit(practitioner)

    assert len(checks) == 2
    assert stored_files() == files_of(photo)


# Access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["photo-image", "photo-thumbnail"])
def test_photos_are_streamed_only_to_a_role(client, make_user, add, name):
    photo = add()
    url = reverse(f"treatments:{name}", args=[photo.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == HTTPStatus.FOUND
    assert anonymous["Location"].startswith(reverse("login"))

    client.force_login(make_user(role=None))
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN

    for role in (roles.AESTHETICIAN, roles.MANAGER):
        client.force_login(make_user(role=role))
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "image/jpeg"
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_photos_are_not_served_from_a_public_url(signed_in, add):
    photo = add()

    assert signed_in.get(photo.image.url).status_code == HTTPStatus.NOT_FOUND
    assert signed_in.get(f"/static/{photo.image.name}").status_code == HTTPStatus.NOT_FOUND


def test_opening_a_photo_its_thumbnail_or_the_gallery_is_logged(signed_in, practitioner, add):
    photo = add()

    signed_in.get(reverse("treatments:photo-thumbnail", args=[photo.pk]))
    signed_in.get(reverse("treatments:photo-image", args=[photo.pk]))
    signed_in.get(reverse("treatments:client-photos", args=[photo.client_id]))

    accesses = ClientAccess.objects.filter(via=ClientAccess.Via.PHOTO).order_by("pk")
    assert [(a.user, a.client, a.what) for a in accesses] == [
        (practitioner, photo.client, f"thumbnail of photo {photo.pk}"),
        (practitioner, photo.client, f"photo {photo.pk}"),
        (practitioner, photo.client, "photo gallery"),
    ]


def test_a_role_without_the_photo_permission_is_refused(client, make_user, add):
    photo = add()
    user = make_user()
    group = Group.objects.get(name=roles.AESTHETICIAN)
    group.permissions.remove(group.permissions.get(codename="view_photo"))
    client.force_login(user)

    assert (
        client.get(reverse("treatments:photo-image", args=[photo.pk])).status_code
        == HTTPStatus.FORBIDDEN
    )


# Pages ------------------------------------------------------------------------------------------


def test_gallery_shows_photos_by_area_and_angle(signed_in, add, session):
    add(area="cheeks")
    add(area="cheeks")
    add(area="forehead", angle=Photo.Angle.LEFT)

    page = text(signed_in.get(reverse("treatments:client-photos", args=[session.course.client_id])))

    assert "Cheeks and chin, front" in page
    assert "Forehead, left" in page
    assert page.count("Compare first and latest") == 1


@pytest.mark.parametrize("size", [1, 8])
def test_gallery_and_comparison_run_bounded_queries(
    signed_in, add, session, django_assert_max_num_queries, size
):
    for _ in range(size):
        add()
        add(angle=Photo.Angle.RIGHT)
    client_pk = session.course.client_id

    # The client and the photos; the access record; the client's consents and the published
    # versions (2) for the flag a withdrawn photo consent puts on the photos.
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 5):
        gallery = signed_in.get(reverse("treatments:client-photos", args=[client_pk]))
    with django_assert_max_num_queries(SIGNED_IN_QUERIES + 3):
        compare = signed_in.get(
            reverse("treatments:photo-compare", args=[client_pk]) + "?area=cheeks&angle=front"
        )

    assert gallery.status_code == compare.status_code == HTTPStatus.OK


def test_comparison_puts_the_first_and_latest_side_by_side(
    signed_in, add, session, make_consultation
):
    consultation = session.course.consultation
    before = add(consultation=consultation)
    add()
    latest = add()
    add(angle=Photo.Angle.LEFT)
    url = reverse("treatments:photo-compare", args=[session.course.client_id])

    response = signed_in.get(url, {"area": "cheeks", "angle": Photo.Angle.FRONT})

    assert [p.pk for p in response.context["pair"]] == [before.pk, latest.pk]
    assert "Left: Consultation (before)" in text(response)


def test_each_photo_is_labelled_distinctly_with_session_date_and_practitioner(
    signed_in, add, session, log
):
    first = add()
    second = add(session=log(session.course, session.performed_on))
    url = reverse("treatments:photo-compare", args=[session.course.client_id])

    response = signed_in.get(url, {"a": first.pk, "b": second.pk})

    page = text(response)
    day = f"{session.performed_on.day} {session.performed_on:%b %Y}"
    assert f"Left: Session {session.number} · {day} · Alex Smith" in page
    assert f"Right: Session {session.number + 1} · {day} · Alex Smith" in page
    labels = [photo.label for photo in response.context["photos"]]
    assert len(set(labels)) == len(labels)
    content = response.content.decode()
    assert 'type="range"' in content and 'id="overlay-opacity"' in content
    assert "treatments/photo_compare.js" in content
    assert "style=" not in content and "<script>" not in content


def test_any_two_of_the_clients_photos_can_be_compared(
    signed_in, add, session, make_course, make_consultation, log
):
    first, second = add(), add(angle=Photo.Angle.RIGHT)
    other = make_consultation(photo_consent=True, held_on=session.course.consultation.held_on)
    other_session = log(make_course(other))
    foreign = add(session=other_session)
    url = reverse("treatments:photo-compare", args=[session.course.client_id])

    response = signed_in.get(url, {"a": second.pk, "b": first.pk})
    assert [p.pk for p in response.context["pair"]] == [second.pk, first.pk]

    for query in ({"a": first.pk, "b": foreign.pk}, {"a": first.pk, "b": "999999"}, {"a": "x"}):
        assert signed_in.get(url, query).status_code == HTTPStatus.NOT_FOUND
    assert signed_in.get(url, {"area": "scalp", "angle": "front"}).status_code == 404


# Uploading from the forms -----------------------------------------------------------------------


def test_photos_are_uploaded_with_the_logged_session(signed_in, consented_course, practitioner):
    data = session_data(consented_course, photo_area="cheeks", photo_angle="left")
    data["photos"] = [
        upload(image_bytes(), "one.jpg"),
        upload(image_bytes("PNG"), "two.png", "image/png"),
    ]

    response = signed_in.post(
        reverse("treatments:session-create", args=[consented_course.pk]), data
    )

    assert response.status_code == HTTPStatus.FOUND
    session = TreatmentSession.objects.get()
    photos = list(session.photos.all())
    assert len(photos) == 2
    assert {(p.area_id, p.angle, p.created_by) for p in photos} == {
        ("cheeks", "left", practitioner)
    }


def test_a_bad_file_keeps_the_rest_of_the_form_and_saves_nothing(signed_in, consented_course):
    data = session_data(consented_course, photo_area="cheeks", photo_angle="front")
    data["notes"] = "Keep these notes"
    data["photos"] = [upload(image_bytes(), "good.jpg"), upload(b"not an image", "bad.jpg")]

    response = signed_in.post(
        reverse("treatments:session-create", args=[consented_course.pk]), data
    )

    assert response.status_code == HTTPStatus.OK
    errors = " ".join(field_errors(response, "id_photos"))
    assert "bad.jpg is not a photo this tracker accepts" in errors
    assert "choose the photos again" in errors
    assert "Keep these notes" in response.content.decode()
    assert not TreatmentSession.objects.exists() and not Photo.objects.exists()


def test_the_session_form_refuses_photos_without_consent(signed_in, make_course):
    course = make_course()
    data = session_data(course, photo_area="cheeks", photo_angle="front")
    data["photos"] = [upload(image_bytes())]

    response = signed_in.post(reverse("treatments:session-create", args=[course.pk]), data)

    assert response.status_code == HTTPStatus.OK
    assert "not consented to photographs" in text(response)
    assert not TreatmentSession.objects.exists() and not Photo.objects.exists()


def test_before_photos_are_added_on_the_consultation_page(signed_in, make_consultation):
    consultation = make_consultation(photo_consent=True)
    url = reverse("treatments:consultation-photo-create", args=[consultation.pk])

    response = signed_in.post(
        url, {"photos": [upload(image_bytes())], "photo_area": "cheeks", "photo_angle": "front"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert consultation.photos.count() == 1

    page = signed_in.post(
        url, {"photos": [upload(b"text", "x.jpg")], "photo_area": "cheeks"}, follow=True
    )
    assert "x.jpg is not a photo this tracker accepts" in text(page)
    assert consultation.photos.count() == 1


def test_consultation_form_records_photo_consent(signed_in, make_consultation):
    consultation = make_consultation(photo_consent=True)

    page = text(signed_in.get(consultation.get_absolute_url()))

    assert "photographs: agreed" in page  # the old tick box, recorded before signing


def test_client_page_shows_thumbnails_and_links_to_the_gallery(signed_in, add, session):
    photo = add()

    response = signed_in.get(session.course.client.get_absolute_url())

    content = response.content.decode()
    assert reverse("treatments:photo-thumbnail", args=[photo.pk]) in content
    assert reverse("treatments:client-photos", args=[session.course.client_id]) in content


# Backup, restore and the client's history export ----------------------------------------------


def back_up(path):
    call_command("backup", output=str(path), stdout=io.StringIO())
    return path


def restore(path):
    out = io.StringIO()
    call_command("restore", str(path), "--replace", "--yes", stdout=out, stderr=out)
    return out.getvalue()


def spoil_the_checksum(path):
    """Change the gzip trailer's CRC-32 of the contents (the last 8 bytes: CRC, length)."""
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF
    path.write_bytes(bytes(data))


def test_photo_files_are_backed_up_and_restored(add, tmp_path, django_capture_on_commit_callbacks):
    photo = add(image_bytes(size=(300, 200)))
    original = photo.image.read()
    photo.image.close()
    path = back_up(tmp_path / "clinic.json.gz")
    photo.image.storage.delete(photo.image.name)
    photo.thumbnail.storage.delete(photo.thumbnail.name)

    with django_capture_on_commit_callbacks(execute=True):
        output = restore(path)

    # The photo and its thumbnail, and the PDFs of the client's three consents (typed names).
    assert "and 5 photo files" in output
    restored = Photo.objects.get()
    with restored.image.open("rb") as stored:
        assert stored.read() == original
    assert stored_files() == files_of(restored)  # the staging folder is gone


def test_restored_files_are_put_in_place_only_when_the_records_commit(
    add, tmp_path, django_capture_on_commit_callbacks
):
    photo = add()
    path = back_up(tmp_path / "clinic.json.gz")
    photo.image.storage.delete(photo.image.name)
    photo.thumbnail.storage.delete(photo.thumbnail.name)

    with django_capture_on_commit_callbacks() as on_commit:
        restore(path)
        assert not photo.image.storage.exists(photo.image.name)  # staged, waiting for COMMIT

    for callback in on_commit:
        callback()
    assert stored_files() == files_of(photo)


def test_a_restore_with_a_bad_checksum_changes_neither_records_nor_files(
    add, tmp_path, django_capture_on_commit_callbacks
):
    in_backup = add()
    path = back_up(tmp_path / "clinic.json.gz")
    added_since = add(angle=Photo.Angle.LEFT)
    in_backup.image.storage.delete(in_backup.image.name)
    spoil_the_checksum(path)
    before = stored_files()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match="is damaged: the gzip check of its contents failed"),
    ):
        restore(path)

    assert set(Photo.objects.all()) == {in_backup, added_since}
    assert stored_files() == before  # nothing staged is left behind either


def test_a_restore_that_replaces_photos_removes_the_files_of_the_replaced_ones(
    add, tmp_path, django_capture_on_commit_callbacks
):
    kept = add()
    path = back_up(tmp_path / "clinic.json.gz")
    replaced = add(angle=Photo.Angle.RIGHT)

    with django_capture_on_commit_callbacks(execute=True):
        restore(path)

    assert list(Photo.objects.all()) == [kept]
    assert stored_files() == files_of(kept)
    assert not replaced.image.storage.exists(replaced.image.name)


def test_photo_files_the_storage_cannot_take_wait_in_the_staging_folder(
    add, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    photo = add()
    path = back_up(tmp_path / "clinic.json.gz")
    photo.image.storage.delete(photo.image.name)
    storage = storages["photos"]

    def full(name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "save", full)
    with django_capture_on_commit_callbacks() as on_commit:
        restore(path)
    for callback in on_commit:
        callback()

    root = Path(storages["photos"].location)
    staged = [
        str(path.relative_to(root))
        for path in root.glob(".restore-*/clients/**/*")
        if path.is_file()
    ]
    assert sorted(name.split("/", 1)[1] for name in staged) == files_of(photo)
    assert Photo.objects.get() == photo  # the records are committed all the same


def test_the_client_history_export_lists_photos_with_their_addresses(client, manager, add):
    photo = add()
    client.force_login(manager)

    response = client.get(reverse("reports:client-export", args=[photo.client_id]))

    (listed,) = json.loads(response.content)["photos"]
    assert listed["area"] == "Cheeks and chin"
    assert listed["image_url"] == reverse("treatments:photo-image", args=[photo.pk])
