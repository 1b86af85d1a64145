from django.urls import path

from catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("catalogue/", views.ConcernListView.as_view(), name="concern-list"),
    path("catalogue/<slug:slug>/", views.ConcernDetailView.as_view(), name="concern-detail"),
]
