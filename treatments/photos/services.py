"""Before-and-after photos: checking and cleaning an upload, storing it privately, showing it.

An upload is decoded with Pillow (HEIC/HEIF through pillow-heif), accepted only as JPEG, PNG,
WebP or HEIC/HEIF by its content (never its name), turned upright, and re-encoded as a JPEG
without any metadata, so GPS positions and device details in its EXIF never reach the storage.
The files live on the private `photos` storage and reach a browser only through the views in
treatments.photos.views, after a role check.

Files follow the transaction of their rows (see photo_transaction()): a photo's files are
written before its row, so a committed photo always has them, and deleted again when the row
does not commit, so a failure leaves no file behind either.
"""

import io
import logging
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from catalogue.models import area_code
from consent.services import photo_refusal
from treatments.models import Photo

pillow_heif.register_heif_opener()
logger = logging.getLogger(__name__)
# Pillow refuses (or warns, which clean_photo refuses) beyond the same pixel count as ours.
Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS

# Pillow's names for the formats accepted (MPO: the multi-picture JPEG some phones write).
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}
ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/heic,image/heif"
THUMBNAIL_SIZE = (320, 320)
JPEG_QUALITY = 88
NOT_AN_IMAGE = "{name} is not a photo this tracker accepts: upload a JPEG, PNG, WebP or HEIC image."
TOO_LARGE = "{name} is larger than the {limit} MB limit: upload a smaller photo."
TOO_MANY_PIXELS = (
    "{name} has more than the {megapixels:g} megapixels this tracker takes: save it at a "
    "smaller size (a phone's standard setting) and upload it again."
)


@dataclass
class CleanPhoto:
    """An upload, decoded and re-encoded as metadata-free JPEGs."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _jpeg(image, **options):
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=b"", **options)
    return out.getvalue()


def _flatten(image):
    """An RGB copy of `image` carrying no metadata; transparency becomes white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    flat.info = {}
    return flat


def check_pixels(opened, name):
    """Refuse, before decoding, a photo whose header says it would take more memory decoded
    than settings.PHOTO_MAX_DECODED_BYTES (4 bytes a pixel, the most any mode accepted needs)."""
    width, height = opened.size
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise too_many_pixels(name)


def too_many_pixels(name):
    megapixels = round(settings.PHOTO_MAX_PIXELS / 1_000_000, 1)
    return ValidationError(
        TOO_MANY_PIXELS.format(name=name, megapixels=megapixels), code="too_many_pixels"
    )


def clean_photo(image_file):
    """Check an uploaded file and return it as a CleanPhoto, or raise a ValidationError."""
    name = getattr(image_file, "name", None) or "The file"
    size = getattr(image_file, "size", None)
    if size is not None and size > settings.PHOTO_MAX_BYTES:
        limit = f"{settings.PHOTO_MAX_BYTES / (1024 * 1024):g}"
        raise ValidationError(TOO_LARGE.format(name=name, limit=limit), code="too_large")
    image_file.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit: refuse those bombs too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image_file) as opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise ValidationError(NOT_AN_IMAGE.format(name=name), code="format")
                check_pixels(opened, name)
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                photo = _flatten(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check, on opening, at the same pixel count.
        raise too_many_pixels(name) from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise ValidationError(NOT_AN_IMAGE.format(name=name), code="invalid") from None
    finally:
        image_file.seek(0)
    thumbnail = photo.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    return CleanPhoto(
        image=_jpeg(photo, quality=JPEG_QUALITY, optimize=True),
        thumbnail=_jpeg(thumbnail, quality=80),
        width=photo.width,
        height=photo.height,
    )


def consent_refusal(*, session=None, consultation=None):
    """Why photos of this client may not be taken (no valid consent to photographs), or ''."""
    client = session.course.client_id if session else consultation.client_id
    return photo_refusal(client=client)


# The photos stored in the current photo_transaction(), or None outside one.
_stored = ContextVar("stored_photos", default=None)


@contextmanager
def photo_transaction():
    """`transaction.atomic()` for writes that store photos: the files of a photo whose row is
    not committed are deleted again on the way out.

    add_photo() writes a photo's files before its row, so a committed row always has its
    files. Django has no on-rollback hook, so the outermost photo_transaction() keeps the
    photos stored in it (nested ones are plain atomic blocks) and, leaving:

    - after an error, or with `transaction.set_rollback(True)`: deletes every one of them;
    - otherwise, just before committing: deletes those whose rows an inner block rolled back
      (one query);
    - when the commit itself fails: deletes those whose rows it can see were not committed,
      and keeps the files when it cannot tell (the database gone): an unused file at worst,
      never a photo without its file.

    The view (or command) that owns the transaction should open it with this: inside a plain
    atomic block this one cannot see whether that block commits in the end.
    """
    if _stored.get() is not None:  # an outer photo_transaction() decides
        with transaction.atomic():
            yield
        return
    stored = []
    token = _stored.set(stored)
    body_done = rolled_back = False
    try:
        with transaction.atomic():
            try:
                yield
            finally:
                _stored.reset(token)
            rolled_back = transaction.get_rollback()
            if stored and not rolled_back:
                discard_files(without_rows(stored))
            body_done = True
    except BaseException:
        if not body_done:
            discard_files(stored)  # rolled back with the error
        else:  # committing failed (or an on-commit hook did): look before deleting anything
            try:
                discard_files(without_rows(stored))
            except DatabaseError:
                logger.warning("Could not check the photos of a failed commit: files kept.")
        raise
    if rolled_back:
        discard_files(stored)


def without_rows(photos):
    """The photos of `photos` whose rows this transaction does not see (one query)."""
    saved = [photo.pk for photo in photos if photo.pk is not None]
    found = set(Photo._base_manager.filter(pk__in=saved).values_list("pk", "image"))
    return [photo for photo in photos if (photo.pk, photo.image.name) not in found]


def add_photo(
    *,
    client,
    image_file,
    area,
    angle,
    by,
    session=None,
    consultation=None,
    taken_on=None,
    notes="",
):
    """Check, clean and store one photo of `client` at a session or a consultation.

    Call it inside a photo_transaction() when it is part of a larger write: the files are
    removed again if that write does not commit.
    """
    if (session is None) == (consultation is None):
        raise ValidationError("A photo belongs to a session or to a consultation.")
    owner = session.course.client_id if session else consultation.client_id
    if owner != client.pk:
        raise ValidationError("This session or consultation is another client's.")
    # One transaction from the consent check (it locks the consent) to the saved row.
    with photo_transaction():
        refusal = consent_refusal(session=session, consultation=consultation)
        if refusal:
            raise ValidationError({"photo_consent": refusal})
        try:
            clean = clean_photo(image_file)
        except ValidationError as error:
            raise ValidationError({"image": error.messages}) from None

        photo = Photo(
            client=client,
            session=session,
            consultation=consultation,
            area_id=area_code(area),
            angle=angle,
            taken_on=taken_on or (session.performed_on if session else consultation.held_on),
            width=clean.width,
            height=clean.height,
            notes=notes,
        )
        photo.stamp(by)
        _stored.get().append(photo)
        photo.image.save("photo.jpg", ContentFile(clean.image), save=False)
        photo.thumbnail.save("thumbnail.jpg", ContentFile(clean.thumbnail), save=False)
        photo.full_clean()
        photo.save()
    return photo


def add_photos(*, image_files, **details):
    """`add_photo` for each file, all or none: a refused photo removes the stored ones."""
    with photo_transaction():
        return [add_photo(image_file=image_file, **details) for image_file in image_files]


def discard_files(photos):
    """Remove the stored files of photos whose rows were not saved (a rolled-back upload)."""
    for photo in photos:
        for field in (photo.image, photo.thumbnail):
            if not field.name:
                continue
            try:
                field.storage.delete(field.name)
            except Exception:  # the storage is unreachable: an unused file stays, nothing worse
                logger.exception("Could not delete %s, a file of a rolled-back photo.", field.name)


# Views
