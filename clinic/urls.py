from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from clinic.views import stay_signed_in
from treatments.views import TodayView

admin.site.site_header = "Micro-needling clinic tracker"
admin.site.site_title = "Clinic tracker admin"
admin.site.index_title = "Clinic records"

urlpatterns = [
    # The managers' course pages, under the model's name before it was Course: for good to today's.
    path(
        "admin/treatments/treatmentplan/",
        RedirectView.as_view(url="/admin/treatments/course/", permanent=True, query_string=True),
    ),
    path(
        "admin/treatments/treatmentplan/<path:rest>",
        RedirectView.as_view(
            url="/admin/treatments/course/%(rest)s", permanent=True, query_string=True
        ),
    ),
    path("admin/", admin.site.urls),
    path("accounts/stay-signed-in/", stay_signed_in, name="stay-signed-in"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", TodayView.as_view(), name="today"),
    path("", include("catalogue.urls")),
    path("", include("consultations.urls")),
    path("", include("treatments.urls")),
    path("", include("reports.urls")),
]
