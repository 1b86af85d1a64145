from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from api import fhir_views, views, views_export

app_name = "api"

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("consultations", views.ConsultationViewSet, basename="consultation")
router.register("courses", views.CourseViewSet, basename="course")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("catalogue/concerns", views.ConcernViewSet, basename="concern")
router.register("catalogue/body-areas", views.BodyAreaViewSet, basename="bodyarea")
router.register("catalogue/products", views.ProductViewSet, basename="product")

# The schema and its documentation describe the API, not the clinic's records: open to read.
open_to_read = {"permission_classes": [AllowAny], "authentication_classes": []}

urlpatterns = [
    path(
        "clients/<int:pk>/export/",
        views_export.ClientExportChoiceView.as_view(),
        name="client-export",
    ),
    path("api/v1/", include(router.urls)),
    path(
        "api/fhir/Patient/<int:pk>/$everything",
        fhir_views.PatientEverythingView.as_view(),
        name="fhir-patient-everything",
    ),
    path("api/schema/", SpectacularAPIView.as_view(**open_to_read), name="schema"),
    path(
        "api/docs/",
        # The split view serves its start-up script as a file: no inline script (CSP).
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html", **open_to_read
        ),
        name="docs",
    ),
]
