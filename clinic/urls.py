from django.contrib import admin
from django.urls import include, path

from treatments.views import TodayView

admin.site.site_header = "Micro-needling clinic tracker"
admin.site.site_title = "Clinic tracker admin"
admin.site.index_title = "Clinic records"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", TodayView.as_view(), name="today"),
    path("", include("catalogue.urls")),
    path("", include("consultations.urls")),
    path("", include("treatments.urls")),
    path("", include("reports.urls")),
]
