"""Reads that several pages share. The one that matters most: a client's whole record."""

from functools import cached_property

from django.db.models import Prefetch

from consultations import screening
from consultations.models import Consultation, RecordedConcern, WashoutRule
from treatments.models import (
    Appointment,
    ContactAttempt,
    Course,
    Photo,
    SessionProduct,
    SessionProgress,
    TreatmentSession,
    areas_with_names,
)


class ClientRecord:
    """Everything recorded about one client, for the workspace's client page, the admin's and
    the client's history export alike.

    Each part is read when a page first asks for it, in a fixed number of queries whatever the
    size of the record, and kept for the rest of the request (a record is made per request).
    Lists run oldest first; a page that shows newest first reverses them. Sessions come with
    their areas; `in_full` adds their products and lots and their ratings, for the pages that
    show them (the admin's, the export).
    """

    def __init__(self, client, *, in_full=False):
        self.client = client
        self.in_full = in_full

    @property
    def consultations(self):
        """Consultations with their recorded concerns, each with its screening `assessment`
        and the courses started from it (`started_courses`)."""
        return self._consultations_and_courses[0]

    @property
    def courses(self):
        """Courses with the concerns they treat and their sessions (`course_sessions`, in the
        order they were logged, voided ones included)."""
        return self._consultations_and_courses[1]

    @cached_property
    def _consultations_and_courses(self):
        """Both read together: a course's consultation and recorded concerns are the
        consultations' own objects, read once for the whole record."""
        consultations = list(
            Consultation.objects.filter(client=self.client)
            .select_related("practitioner", "voided_by", "affected_area")
            .prefetch_related(
                Prefetch(
                    "concerns",
                    queryset=RecordedConcern.objects.select_related("concern", "area"),
                )
            )
            .order_by("held_on", "pk")
        )
        # The washout rules every consultation's findings need, read once for all of them.
        kinds = set().union(*(screening.washout_kinds(c.found) for c in consultations))
        waits = WashoutRule.waits(kinds) if kinds else {}
        for consultation in consultations:
            consultation.client = self.client
            consultation.washout_waits = waits
            consultation.assessment = screening.assess(consultation, consultation.concerns.all())
            consultation.started_courses = []
        by_consultation = {consultation.pk: consultation for consultation in consultations}
        recorded = {
            concern.pk: concern
            for consultation in consultations
            for concern in consultation.concerns.all()
        }
        courses = list(
            Course.objects.filter(client=self.client)
            .select_related("practitioner", "created_by")
            .prefetch_related("course_concerns")
            .order_by("start_date", "pk")
        )
        by_course = {course.pk: course for course in courses}
        for course in courses:
            course.client = self.client
            course.consultation = by_consultation[course.consultation_id]
            course.consultation.started_courses.append(course)
            for link in course.course_concerns.all():
                link.recorded_concern = recorded[link.recorded_concern_id]
            course.course_sessions = []
        for session in self.sessions:
            session.course = by_course[session.course_id]
            session.course.course_sessions.append(session)
        return consultations, courses

    @cached_property
    def sessions(self):
        """Every session of every course, with its areas (and in full, its products and lots and
        its ratings), each with its `position` in its course (None for a voided one before any
        that counts)."""
        # The adverse events after each session, on the client's timeline.
        rows = [areas_with_names(), "adverse_events"]
        if self.in_full:
            rows += [
                Prefetch(
                    "products_used",
                    queryset=SessionProduct.objects.select_related("product", "lot"),
                ),
                Prefetch(
                    "progress",
                    queryset=SessionProgress.objects.select_related(
                        "recorded_concern__concern", "recorded_concern__area"
                    ),
                ),
            ]
        sessions = list(
            TreatmentSession.objects.filter(course__client=self.client)
            .select_related("practitioner", "voided_by", *(["numbing"] if self.in_full else []))
            .prefetch_related(*rows)
            .order_by("course", "number")
        )
        counted = {}
        for session in sessions:
            if not session.is_voided:
                counted[session.course_id] = counted.get(session.course_id, 0) + 1
            session.position = counted.get(session.course_id)
        return sessions

    @cached_property
    def photos(self):
        photos = list(
            Photo.objects.filter(client=self.client)
            .select_related("area")
            .order_by("taken_on", "pk")
        )
        for photo in photos:
            photo.client = self.client  # what a photo's str() names
        return photos

    @cached_property
    def contact_attempts(self):
        """Recall calls and messages, with the course each was about, and who recorded them."""
        return list(
            ContactAttempt.objects.filter(client=self.client)
            .select_related("created_by")
            .order_by("attempted_at", "pk")
        )

    @cached_property
    def appointments(self):
        """Visits booked, kept, cancelled or missed, with who the client was booked with."""
        return list(
            Appointment.objects.filter(client=self.client)
            .select_related("practitioner")
            .order_by("date", "time", "pk")
        )
