from django.urls import path

from consultations import views

app_name = "consultations"

urlpatterns = [
    path("clients/", views.ClientListView.as_view(), name="client-list"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client-create"),
    path("clients/<int:pk>/edit/", views.ClientUpdateView.as_view(), name="client-update"),
    path(
        "clients/<int:pk>/consultations/new/",
        views.ConsultationCreateView.as_view(),
        name="consultation-create",
    ),
]
