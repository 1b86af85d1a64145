from django.urls import path
from django.views.generic import RedirectView

from treatments import aftercare_views, views
from treatments.photos import views as photos

app_name = "treatments"

urlpatterns = [
    # A client's page and a consultation's show their courses and sessions, so they live here.
    path("clients/<int:pk>/", views.ClientDetailView.as_view(), name="client-detail"),
    path("clients/<int:pk>/record/", views.ClientRecordView.as_view(), name="client-record"),
    path(
        "clients/<int:pk>/appointments/new/",
        views.AppointmentCreateView.as_view(),
        name="appointment-create",
    ),
    path(
        "consultations/<int:pk>/",
        views.ConsultationDetailView.as_view(),
        name="consultation-detail",
    ),
    path(
        "consultations/<int:pk>/courses/new/",
        views.CourseCreateView.as_view(),
        name="course-create",
    ),
    path(
        "consultations/<int:pk>/courses/suggestion/",
        views.CourseSuggestionView.as_view(),
        name="course-suggestion",
    ),
    path("courses/<int:pk>/", views.CourseDetailView.as_view(), name="course-detail"),
    path("courses/<int:pk>/end/", views.CourseEndPageView.as_view(), name="course-end"),
    path("courses/<int:pk>/complete/", views.CourseCompleteView.as_view(), name="course-complete"),
    path("courses/<int:pk>/stop/", views.CourseStopView.as_view(), name="course-stop"),
    path(
        "courses/<int:pk>/sessions/new/",
        views.SessionCreateView.as_view(),
        name="session-create",
    ),
    path("sessions/<int:pk>/edit/", views.SessionUpdateView.as_view(), name="session-update"),
    path("sessions/<int:pk>/void/", views.SessionVoidView.as_view(), name="session-void"),
    path(
        "sessions/<int:pk>/adverse-events/new/",
        aftercare_views.AdverseEventCreateView.as_view(),
        name="adverse-event-create",
    ),
    path(
        "adverse-events/<int:pk>/",
        aftercare_views.AdverseEventUpdateView.as_view(),
        name="adverse-event-update",
    ),
    path(
        "sessions/<int:pk>/follow-up/",
        aftercare_views.FollowUpCallView.as_view(),
        name="follow-up-call",
    ),
    path("photos/<int:pk>/image/", photos.PhotoFileView.as_view(), name="photo-image"),
    path("photos/<int:pk>/thumbnail/", photos.ThumbnailFileView.as_view(), name="photo-thumbnail"),
    path("clients/<int:pk>/photos/", photos.ClientPhotosView.as_view(), name="client-photos"),
    path(
        "clients/<int:pk>/photos/compare/",
        photos.PhotoCompareView.as_view(),
        name="photo-compare",
    ),
    path(
        "consultations/<int:pk>/photos/new/",
        photos.ConsultationPhotoCreateView.as_view(),
        name="consultation-photo-create",
    ),
    # The addresses courses had while the code called them plans, kept for bookmarks and links
    # already sent: a permanent redirect to the same page today. The end-of-course forms only
    # take a POST from the course page, so their old addresses are simply gone (404).
    path(
        "consultations/<int:pk>/plans/new/",
        RedirectView.as_view(pattern_name="treatments:course-create", permanent=True),
    ),
    path(
        "plans/<int:pk>/",
        RedirectView.as_view(pattern_name="treatments:course-detail", permanent=True),
    ),
    path(
        "plans/<int:pk>/sessions/new/",
        RedirectView.as_view(pattern_name="treatments:session-create", permanent=True),
    ),
]
