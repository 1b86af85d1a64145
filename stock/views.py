"""The stock pages: lots received, expiring and recalled (managers), and reading a scan."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView, TemplateView, View

from clinic.forms import add_service_errors
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from stock.forms import LotReceiveForm, LotStatusForm, ScanForm
from stock.gs1 import ScanError
from stock.models import Lot
from stock.services import change_lot_status, read_scan, receive_lot

LIST_CAP = 100


class LotListView(RoleRequiredMixin, TemplateView):
    """Lots expiring within LOT_EXPIRY_WARNING_DAYS (or expired, still in use), quarantined and
    recalled lots, and the form to receive a lot."""

    template_name = "stock/lot_list.html"
    permission_required = "stock.change_lot"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        lots = Lot.objects.select_related("product", "status_changed_by")
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "today": today,
                "warning_days": settings.LOT_EXPIRY_WARNING_DAYS,
                "expiring": list(
                    lots.expiring(today=today).order_by("expiry_date", "pk")[:LIST_CAP]
                ),
                "blocked": list(
                    lots.exclude(status=Lot.Status.IN_USE).order_by("-status_changed_at", "-pk")[
                        :LIST_CAP
                    ]
                ),
                "recent": list(
                    lots.filter(recorded_before_stock=False).order_by("-created_at", "-pk")[:20]
                ),
                "form": kwargs.get("form") or LotReceiveForm(),
                "status_form": LotStatusForm(),
            }
        )
        return context


class LotReceiveView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    template_name = "stock/lot_list.html"
    permission_required = "stock.add_lot"
    form_class = LotReceiveForm
    http_method_names = ["post"]

    def form_valid(self, form):
        try:
            lot = receive_lot(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{lot} received, {lot.expiry_display}.")
        return redirect("stock:lot-list")

    def form_invalid(self, form):
        view = LotListView()
        view.setup(self.request)
        return self.response_class(
            request=self.request,
            template=self.template_name,
            context=view.get_context_data(form=form),
            status=200,
        )


class LotStatusView(RoleRequiredMixin, View):
    """Quarantine, recall or release a lot (POST), then back to the page it was asked from."""

    permission_required = "stock.change_lot"
    http_method_names = ["post"]

    def post(self, request, pk):
        lot = get_object_or_404(Lot.objects.select_related("product"), pk=pk)
        form = LotStatusForm(request.POST)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("stock:lot-list")
        if not form.is_valid():
            messages.error(request, "Choose in use, quarantined or recalled.")
            return redirect(back)
        try:
            lot = change_lot_status(
                lot=lot,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["status_reason"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{lot}: {lot.get_status_display().lower()}.")
        return redirect(back)


class ScanView(RoleRequiredMixin, View):
    """What a scanned label names, as JSON for the session form's scan field: the product, the
    lot (when in stock) and the label's expiry; or a message saying what is wrong."""

    permission_required = "stock.view_lot"

    def get(self, request):
        form = ScanForm(request.GET)
        if not form.is_valid():
            return JsonResponse({"error": "Scan the pack's label."}, status=400)
        try:
            scanned = read_scan(form.cleaned_data["code"])
        except ScanError as error:
            return JsonResponse({"error": str(error)}, status=400)
        return JsonResponse(scanned.as_json())
