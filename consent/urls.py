from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("clients/<int:pk>/consent/<str:kind>/sign/", views.SignView.as_view(), name="sign"),
    path("consent/versions/<int:pk>/", views.VersionDetailView.as_view(), name="version-detail"),
    path("consents/<int:pk>/pdf/", views.ConsentPdfView.as_view(), name="pdf"),
    path("consents/<int:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
]
