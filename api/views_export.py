"""/clients/<pk>/export/: the client's record in every format we give it (her right of access
and portability): a readable document, JSON, and FHIR. Here, above reports, so that the page
can offer the FHIR Bundle too."""

from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from consultations.models import Client
from reports.views import ReportMixin


class ClientExportChoiceView(ReportMixin, TemplateView):
    template_name = "api/client_export.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            client=get_object_or_404(Client, pk=self.kwargs["pk"]), **kwargs
        )
