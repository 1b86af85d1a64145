"""The recall worklist: who to call back (sessions due or overdue, maintenance after a course),
and recording each call with its outcome."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from consultations.models import Client
from reports.selectors import months_before
from treatments.models import Appointment, ContactAttempt, Course, CourseConcern, TreatmentSession
from treatments.services import book_appointment

DUE_WINDOW_DAYS = 7
MAINTENANCE_MONTHS = 6
# A recall is settled by these outcomes; "contacted" and "no answer" keep the client listed.
SETTLED = [ContactAttempt.Outcome.BOOKED, ContactAttempt.Outcome.DECLINED]
ENDED = [Course.Status.COMPLETED, Course.Status.STOPPED]


# Recall worklist --------------------------------------------------------------------------------


class Recall(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    DUE = "due", f"Due within {DUE_WINDOW_DAYS} days"
    MAINTENANCE = "maintenance", "Maintenance"


def _last_seen_by(practitioner):
    """Courses whose last counted session `practitioner` led (their lead, when none was logged).

    Written as an uncorrelated IN, which databases evaluate once, not once per course.
    """
    last_sessions = TreatmentSession.objects.valid().filter(
        practitioner=practitioner, performed_on=F("course__last_session_on")
    )
    return Q(pk__in=last_sessions.values("course")) | Q(
        last_session_on__isnull=True, practitioner=practitioner
    )


def recall_courses(*, today, reason="", practitioner=None, concern=None):
    """The recall worklist's lines, most urgent first: dicts of the course's `id`, `recall` (a
    Recall value), `recall_rank` and `recall_on` (when due, or when the course ended).

    - Due or overdue: active courses whose next session is due within DUE_WINDOW_DAYS, unless a
      "booked" or "declined" contact about that course was recorded on or after the day of its
      last session (its start when none was logged).
    - Maintenance: a client's most recent course, when it ended MAINTENANCE_MONTHS or more ago
      and no course is active, unless a maintenance contact was booked or declined on or after
      the day it ended.
    Archived clients and clients who asked not to be contacted are never listed. `practitioner`
    filters on the last practitioner (the one shown), `concern` on a catalogue concern treated.
    The two kinds are queried apart and joined with UNION ALL, so each stays a plain indexed
    search with anti-joins, whatever the size of the history.
    """
    courses = Course.objects.filter(
        client__archived=False, client__do_not_contact=False
    ).order_by()  # no ordering inside the UNION
    if practitioner is not None:
        courses = courses.filter(_last_seen_by(practitioner))
    if concern is not None:
        courses = courses.filter(
            Exists(
                CourseConcern.objects.filter(
                    course=OuterRef("pk"), recorded_concern__concern=concern
                )
            )
        )

    due_settled = ContactAttempt.objects.filter(
        course=OuterRef("pk"),
        outcome__in=SETTLED,
        attempted_at__date__gte=Coalesce(OuterRef("last_session_on"), OuterRef("start_date")),
    )
    # A client booked from today on is waited for, not called: off both lists.
    booked = Appointment.objects.upcoming(today)
    due = (
        courses.filter(
            status=Course.Status.ACTIVE,
            next_due_on__lte=today + datetime.timedelta(days=DUE_WINDOW_DAYS),
        )
        .exclude(Exists(due_settled))
        .exclude(Exists(booked.filter(course=OuterRef("pk"))))
    )
    if reason == Recall.OVERDUE:
        due = due.filter(next_due_on__lt=today)
    elif reason == Recall.DUE:
        due = due.filter(next_due_on__gte=today)
    overdue = Q(next_due_on__lt=today)
    due = due.annotate(
        recall=Case(When(overdue, then=Value(Recall.OVERDUE)), default=Value(Recall.DUE)),
        recall_rank=Case(When(overdue, then=Value(0)), default=Value(1)),
        recall_on=F("next_due_on"),
    ).values("id", "recall", "recall_rank", "recall_on")

    newer_course = Course.objects.filter(client=OuterRef("client")).filter(
        Q(status=Course.Status.ACTIVE)
        | Q(ended_on__gt=OuterRef("ended_on"))
        | Q(ended_on=OuterRef("ended_on"), pk__gt=OuterRef("pk"))
    )
    maintenance_settled = ContactAttempt.objects.filter(
        client=OuterRef("client"),
        reason=ContactAttempt.Reason.MAINTENANCE,
        outcome__in=SETTLED,
        attempted_at__date__gte=OuterRef("ended_on"),
    )
    maintenance = (
        courses.filter(status__in=ENDED, ended_on__lte=months_before(today, MAINTENANCE_MONTHS))
        # A course stopped for an adverse event is not followed by an offer of more needling.
        .exclude(stopped_for_adverse_event=True)
        .exclude(Exists(newer_course))
        .exclude(Exists(maintenance_settled))
        .exclude(Exists(booked.filter(client=OuterRef("client"))))
        .annotate(
            recall=Value(Recall.MAINTENANCE),
            recall_rank=Value(2),
            recall_on=F("ended_on"),
        )
        .values("id", "recall", "recall_rank", "recall_on")
    )

    if reason == Recall.MAINTENANCE:
        lines = maintenance
    elif reason:
        lines = due
    else:
        lines = due.union(maintenance, all=True)
    return lines.order_by("recall_rank", "recall_on", "id")


@dataclass
class RecallItem:
    """One line of the worklist: who to call, about which course, and how the last call went."""

    course: Course
    recall: str
    today: datetime.date
    last_practitioner: object = None
    last_attempt: ContactAttempt | None = None

    @property
    def client(self):
        return self.course.client

    @property
    def concerns(self):
        return [pc.recorded_concern for pc in self.course.course_concerns.all()]

    @property
    def contact_reason(self):
        if self.recall == Recall.MAINTENANCE:
            return ContactAttempt.Reason.MAINTENANCE
        return ContactAttempt.Reason.DUE

    @property
    def key(self):
        return f"{self.contact_reason}-{self.course.pk}"

    @property
    def since(self):
        """The day from which a contact counts for this recall."""
        if self.recall == Recall.MAINTENANCE:
            return self.course.ended_on
        return self.course.last_session_on or self.course.start_date

    @property
    def status(self):
        if self.recall == Recall.MAINTENANCE:
            months = (self.today.year - self.course.ended_on.year) * 12
            months += self.today.month - self.course.ended_on.month
            if self.today.day < self.course.ended_on.day:
                months -= 1
            return f"Course ended {months} months ago"
        days = (self.course.next_due_on - self.today).days
        if days < 0:
            return f"Overdue by {-days} day{'s' if days != -1 else ''}"
        if days == 0:
            return "Due today"
        return f"Due in {days} day{'s' if days != 1 else ''}"


def recall_items(lines, *, today):
    """Worklist items for `lines` (one page of `recall_courses`), in six queries."""
    lines = list(lines)
    found = (
        Course.objects.select_related("client")
        .prefetch_related(
            models.Prefetch(
                "course_concerns",
                queryset=CourseConcern.objects.select_related(
                    "recorded_concern__concern", "recorded_concern__area"
                ),
            )
        )
        .in_bulk([line["id"] for line in lines])
    )
    courses = [found[line["id"]] for line in lines]
    recall = {line["id"]: line["recall"] for line in lines}
    # The last practitioner of each course: who led its last counted session, else its lead.
    last_practitioner = {course.pk: course.practitioner_id for course in courses}
    sessions = (
        TreatmentSession.objects.valid()
        .filter(course__in=last_practitioner)
        .order_by("course", "performed_on", "number")
        .values_list("course", "practitioner")
    )
    last_practitioner.update(sessions)  # the last session of each course wins
    users = get_user_model().objects.in_bulk(set(last_practitioner.values()))
    items = [
        RecallItem(
            course=course,
            recall=recall[course.pk],
            today=today,
            last_practitioner=users.get(last_practitioner[course.pk]),
        )
        for course in courses
    ]
    due_courses = [i.course.pk for i in items if i.contact_reason == ContactAttempt.Reason.DUE]
    maintenance_clients = [
        i.course.client_id for i in items if i.contact_reason == ContactAttempt.Reason.MAINTENANCE
    ]
    attempts = defaultdict(list)
    if items:
        found = ContactAttempt.objects.filter(
            Q(course__in=due_courses)
            | Q(client__in=maintenance_clients, reason=ContactAttempt.Reason.MAINTENANCE)
        )
        for attempt in found.select_related("created_by").order_by("-attempted_at", "-pk"):
            if attempt.reason == ContactAttempt.Reason.MAINTENANCE:
                attempts[ContactAttempt.Reason.MAINTENANCE, attempt.client_id].append(attempt)
            if attempt.course_id:
                attempts[ContactAttempt.Reason.DUE, attempt.course_id].append(attempt)
    for item in items:
        key = (
            (item.contact_reason, item.course.client_id)
            if item.contact_reason == ContactAttempt.Reason.MAINTENANCE
            else (item.contact_reason, item.course.pk)
        )
        item.last_attempt = next(
            (a for a in attempts[key] if timezone.localdate(a.attempted_at) >= item.since), None
        )
    return items


# Recording a contact ----------------------------------------------------------------------------


# A contact recorded again within this time, alike in every detail, is the same call.
SAME_CALL = datetime.timedelta(minutes=1)


@transaction.atomic
def record_contact_attempt(
    *, client, course, reason, outcome, note="", by, attempted_at=None, appointment=None, lot=None
):
    """Record a call, message or e-mail to `client` about `course` (None for none) and its outcome.

    `appointment`: for "booked", the visit booked ({"date", "time", "practitioner"}), stored
    with the contact (for `course` when it is active, else as a visit about a new course).

    "Do not contact" also marks the client so no recall lists them again. "Booked" and
    "declined" settle the recall (see reports.selectors.recall_courses); "contacted" and
    "no answer" keep the client on the worklist with this attempt shown.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    errors = {}
    if course is not None and course.client_id != client.pk:
        errors["course"] = "This course belongs to another client."
    if client.archived:
        errors["__all__"] = f"{client} is archived: restore the client before recording a recall."
    elif client.do_not_contact and outcome != ContactAttempt.Outcome.DO_NOT_CONTACT:
        errors["__all__"] = (
            f"{client} asked not to be contacted. Change the client's record first if they "
            "now agree to recalls."
        )
    if errors:
        raise ValidationError(errors)
    # The same call sent twice (a double click, a resend after a timeout) is recorded once: the
    # client's row lock above makes a second submission wait for the first and then find it.
    repeat = ContactAttempt.objects.filter(
        client=client,
        course=course,
        lot=lot,
        reason=reason,
        outcome=outcome,
        note=note.strip(),
        created_by=by,
        created_at__gte=timezone.now() - SAME_CALL,
        **({"attempted_at": attempted_at} if attempted_at else {}),
    ).first()
    if repeat is not None:
        return repeat

    attempt = ContactAttempt(
        client=client,
        course=course,
        lot=lot,
        reason=reason,
        outcome=outcome,
        note=note.strip(),
        attempted_at=attempted_at or timezone.now(),
    )
    attempt.stamp(by)
    attempt.full_clean()
    attempt.save()
    if appointment is not None and outcome == ContactAttempt.Outcome.BOOKED:
        book_appointment(
            client=client,
            course=course if course is not None and course.is_active else None,
            note=note.strip()[:200],
            by=by,
            **appointment,
        )

    if outcome == ContactAttempt.Outcome.DO_NOT_CONTACT and not client.do_not_contact:
        client.do_not_contact = True
        client.stamp(by)
        client.save()
    return attempt
