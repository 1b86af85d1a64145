from django.urls import path

from stock import views

app_name = "stock"

urlpatterns = [
    path("stock/lots/", views.LotListView.as_view(), name="lot-list"),
    path("stock/lots/new/", views.LotReceiveView.as_view(), name="lot-receive"),
    path("stock/lots/<int:pk>/status/", views.LotStatusView.as_view(), name="lot-status"),
    path("stock/scan/", views.ScanView.as_view(), name="scan"),
]
