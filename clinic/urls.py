from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from clinic import second_factor
from clinic.views import PasswordChangeView, SecurityTxtView, favicon, stay_signed_in
from treatments.views import TodayView

handler400 = "clinic.views.bad_request"

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
    path(".well-known/security.txt", SecurityTxtView.as_view(), name="security-txt"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/stay-signed-in/", stay_signed_in, name="stay-signed-in"),
    # Sign-in, sign-out and password change. No self-service password reset: with no mail
    # set up it could not work, and staff accounts are the managers' (they set a new password
    # in the admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The second factor (clinic.second_factor): the code after the password, and enrolment.
    path(
        "accounts/second-factor/", second_factor.VerifyView.as_view(), name="second-factor-verify"
    ),
    path(
        "accounts/second-factor/enrol/",
        second_factor.EnrolView.as_view(),
        name="second-factor-enrol",
    ),
    path("accounts/password_change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", TodayView.as_view(), name="today"),
    path("", include("catalogue.urls")),
    path("", include("stock.urls")),
    path("", include("consultations.urls")),
    path("", include("consent.urls")),
    path("", include("treatments.urls")),
    path("", include("reports.urls")),
    path("", include("api.urls")),
]
