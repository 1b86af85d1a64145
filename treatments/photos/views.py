"""The photo pages: files streamed after a role check, a client's gallery and comparison, and
"before" photos added on a consultation's page."""

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from clinic.formats import day
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consultations.models import Client, ClientAccess, Consultation
from consultations.views import ClientAccessMixin
from treatments.models import Photo
from treatments.photos.services import add_photos


class PhotoFileView(RoleRequiredMixin, View):
    """Stream a photo (or its thumbnail) from the private storage, after the role check.

    Each file read, a thumbnail's too (a face all the same), is logged as a read of the
    client's record.
    """

    permission_required = "treatments.view_photo"
    field = "image"
    what = "photo"

    def get(self, request, pk):
        photo = get_object_or_404(Photo, pk=pk)
        stored = getattr(photo, self.field)
        try:
            handle = stored.storage.open(stored.name, "rb")
        except (FileNotFoundError, OSError):
            raise Http404("The photo file is missing from the photo storage.") from None
        ClientAccess.record(
            user=request.user,
            client=photo.client_id,
            via=ClientAccess.Via.PHOTO,
            what=f"{self.what} {photo.pk}",
        )
        response = FileResponse(handle, content_type="image/jpeg", filename=f"photo-{photo.pk}.jpg")
        response["Cache-Control"] = "private, no-store"
        return response


class ThumbnailFileView(PhotoFileView):
    field = "thumbnail"
    what = "thumbnail of photo"


class ClientPhotoMixin(RoleRequiredMixin, ClientAccessMixin):
    """A client's photo pages: each showing is logged as a read of the client's record."""

    permission_required = "treatments.view_photo"
    access_via = ClientAccess.Via.PHOTO

    def access_client(self):
        return self.client.pk

    @cached_property
    def client(self):
        return get_object_or_404(Client, pk=self.kwargs["pk"])

    def photos(self):
        photos = list(
            self.client.photos.select_related(
                "session__practitioner", "consultation__practitioner", "area"
            )
        )
        for photo in photos:
            photo.client = self.client
            photo.label = photo_label(photo)
        return photos


def photo_label(photo):
    """What tells one photo from another: "Session 3 · 4 Mar 2026 · Alex Smith", or
    "Consultation (before) · ..." for one taken at the consultation."""
    owner = photo.session or photo.consultation
    when = "Consultation (before)" if photo.session is None else f"Session {photo.session.number}"
    who = owner.practitioner.get_full_name() or owner.practitioner.get_username()
    return f"{when} · {day(photo.taken_on)} · {who}"


class ClientPhotosView(ClientPhotoMixin, TemplateView):
    """A client's photos, one row per area and angle, oldest to latest."""

    template_name = "treatments/photo_gallery.html"

    def access_what(self):
        return "photo gallery"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        series = {}
        for photo in self.photos():
            series.setdefault((photo.area_id, photo.angle), []).append(photo)
        compare = reverse("treatments:photo-compare", kwargs={"pk": self.client.pk})
        context.update(
            {
                "client": self.client,
                "series": [
                    {
                        "area": photos[0].area.name,
                        "angle": photos[0].get_angle_display(),
                        "photos": photos,
                        "compare_url": f"{compare}?area={area}&angle={angle}",
                    }
                    for (area, angle), photos in series.items()
                ],
            }
        )
        return context


class PhotoCompareView(ClientPhotoMixin, TemplateView):
    """Two photos side by side: the first and the latest of one area and angle, or any two."""

    template_name = "treatments/photo_compare.html"

    def access_what(self):
        return "photo comparison"

    def chosen(self, photos):
        params = self.request.GET
        if params.get("a") or params.get("b"):
            by_pk = {str(photo.pk): photo for photo in photos}
            pair = [by_pk.get(params.get(key, "")) for key in ("a", "b")]
            if None in pair:
                raise Http404("Choose two of this client's photos.")
            return pair
        series = [
            photo
            for photo in photos
            if photo.area_id == params.get("area") and photo.angle == params.get("angle")
        ]
        if not series:
            raise Http404("This client has no photo of that area from that angle.")
        return [series[0], series[-1]]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        photos = list(self.photos())  # by area, angle, then date
        first, second = self.chosen(photos)
        context.update(
            {
                "client": self.client,
                "pair": [first, second],
                "choosers": [("a", first), ("b", second)],
                "photos": photos,
                "days_apart": abs((second.taken_on - first.taken_on).days),
            }
        )
        return context


class ConsultationPhotoCreateView(RoleRequiredMixin, SubmitOnceMixin, View):
    """Add 'before' photos from the consultation page (POST); back to that page either way."""

    permission_required = "treatments.add_photo"

    def post(self, request, pk):
        from treatments.forms import PhotoUploadForm  # forms.py imports this module

        consultation = get_object_or_404(Consultation.objects.select_related("client"), pk=pk)
        form = PhotoUploadForm(request.POST, request.FILES, required=True)
        if form.is_valid():
            try:
                photos = add_photos(
                    client=consultation.client,
                    consultation=consultation,
                    image_files=form.cleaned_data["photos"],
                    area=form.cleaned_data["photo_area"],
                    angle=form.cleaned_data["photo_angle"],
                    by=request.user,
                )
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, f"{len(photos)} photo(s) added.")
        else:
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
        return redirect(consultation)
