"""The catalogue as staff read it: every concern, and what micro-needling can do for each."""

from django.views.generic import DetailView, ListView

from catalogue.models import Concern
from clinic.views import RoleRequiredMixin


class ConcernListView(RoleRequiredMixin, ListView):
    model = Concern
    permission_required = "catalogue.view_concern"


class ConcernDetailView(RoleRequiredMixin, DetailView):
    model = Concern
    permission_required = "catalogue.view_concern"
