from django.urls import path
from django.views.generic import RedirectView

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.ReportIndexView.as_view(), name="index"),
    path("reports/recall/", views.RecallView.as_view(), name="recall"),
    path("reports/recall/contact/", views.RecallContactView.as_view(), name="recall-contact"),
    path("reports/outcomes/", views.OutcomesView.as_view(), name="outcomes"),
    path("reports/activity/", views.ActivityView.as_view(), name="activity"),
    path("reports/lots/", views.LotView.as_view(), name="lots"),
    # /clients/<pk>/export/ itself is the page offering every format (api.views_export).
    path("clients/<int:pk>/export/json/", views.ClientExportView.as_view(), name="client-export"),
    path(
        "clients/<int:pk>/export/readable/",
        views.ClientReadableView.as_view(),
        name="client-readable",
    ),
    path("reports/lots/contacts/", views.LotContactView.as_view(), name="lot-contact"),
    path("courses/<int:pk>/print/", views.CoursePrintView.as_view(), name="course-print"),
    # The address the printout had while the code called courses plans: a permanent redirect.
    path(
        "plans/<int:pk>/print/",
        RedirectView.as_view(pattern_name="reports:course-print", permanent=True),
    ),
]
