"""The managers' reports (recall, outcomes, activity, lots), exports and the course printout."""

import csv
import json
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views import View
from django.views.generic import DetailView, TemplateView

from catalogue.models import ClinicDetails
from clinic.models import ExportRecord
from clinic.submissions import SubmitOnceMixin
from consent.models import SignedConsent
from consultations.models import Client, ClientAccess, RecordedConcern
from consultations.views import ClientAccessMixin
from reports import charts
from reports.exports import client_history, csv_cell
from reports.forms import (
    ContactAttemptForm,
    LotContactForm,
    LotForm,
    OutcomesFilterForm,
    RecallFilterForm,
    add_errors,
)
from reports.recall import recall_courses, recall_items, record_contact_attempt
from reports.selectors import (
    adverse_event_counts,
    concern_outcomes,
    course_schedule,
    lot_adverse_events,
    lot_sessions,
    practitioner_activity,
    staff_name,
)
from stock.models import Lot
from treatments.forms import bookable_staff
from treatments.models import ContactAttempt, Course, CourseConcern
from treatments.selectors import ClientRecord

RECALL_PER_PAGE = 25
LOT_SESSIONS_PER_PAGE = 50


class ReportMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Managers only. Signed out: the sign-in page; signed in without the permission: 403."""

    permission_required = "treatments.view_reports"


def querystring(request, *, without=("page",)):
    query = request.GET.copy()
    for name in without:
        query.pop(name, None)
    return query.urlencode()


def filter_form(form_class, request):
    """A GET filter form, bound when the page was filtered; its valid values (or none)."""
    form = form_class(request.GET if set(request.GET) & set(form_class.base_fields) else None)
    if not form.is_bound:
        return form, {}
    form.is_valid()
    return form, form.cleaned_data


BOOKING = ContactAttemptForm.BOOKING_FIELDS
# A booking's refusals (treatments.services.book_appointment) next to the recall form's fields.
BOOKING_NAMES = {"date": "booked_date", "time": "booked_time", "practitioner": "booked_with"}


def booking_errors(error):
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError(
        {BOOKING_NAMES.get(name, name): errors for name, errors in error.error_dict.items()}
    )


class ReportIndexView(ReportMixin, TemplateView):
    template_name = "reports/index.html"


class RecallView(ReportMixin, TemplateView):
    """Who to call back: sessions due or overdue, and maintenance after a course."""

    template_name = "reports/recall.html"
    posted_key = None  # the worklist line a refused contact came from

    def get_context_data(self, contact_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        filters, cleaned = filter_form(RecallFilterForm, self.request)
        courses = recall_courses(
            today=today,
            reason=cleaned.get("reason", ""),
            practitioner=cleaned.get("practitioner"),
            concern=cleaned.get("concern"),
        )
        page = Paginator(courses, RECALL_PER_PAGE).get_page(self.request.GET.get("page"))
        items = recall_items(page.object_list, today=today)
        staff = self.staff
        unplaced = contact_form
        for item in items:
            if contact_form is not None and self.posted_key == item.key:
                item.form, unplaced = contact_form, None
            else:
                last = item.last_practitioner
                item.form = ContactAttemptForm(
                    initial={
                        "client": item.client.pk,
                        "course": item.course.pk,
                        "reason": item.contact_reason,
                        "booked_with": last.pk if last in staff else None,
                    },
                    staff=staff,
                )
            item.form.auto_id = f"id_{item.key}_%s"
        context.update(
            {
                "today": today,
                "filters": filters,
                "page_obj": page,
                "items": items,
                "querystring": querystring(self.request),
                # The contact forms post back with the filters, to return to the same list.
                "contact_action": self.contact_action(),
                # A refused contact whose line is not on this page: its errors on top.
                "unplaced_form": unplaced,
            }
        )
        return context

    @cached_property
    def staff(self):
        """Who a booking can be with: read once for every line's form."""
        return list(bookable_staff())

    def render_to_response(self, context, **response_kwargs):
        """Each client listed is a read of their record: one access row each, one insert."""
        response = super().render_to_response(context, **response_kwargs)
        ClientAccess.record_many(
            user=self.request.user,
            clients=[item.client.pk for item in context["items"]],
            via=ClientAccess.Via.WORKSPACE,
            what="recall list",
        )
        return response

    def contact_action(self):
        url = reverse("reports:recall-contact")
        query = self.request.GET.urlencode()
        return f"{url}?{query}" if query else url


class RecallContactView(SubmitOnceMixin, RecallView):
    """Record a recall contact from the worklist (POST); refused, the worklist shows why.

    Its role check runs inside SubmitOnceMixin's (the bases allow no other order): a post the
    role refuses raises before anything is saved.
    """

    http_method_names = ["post"]
    permission_required = ("treatments.view_reports", "treatments.add_contactattempt")

    def post(self, request, *args, **kwargs):
        form = ContactAttemptForm(request.POST, staff=self.staff)
        self.posted_key = f"{request.POST.get('reason')}-{request.POST.get('course')}"
        if form.is_valid():
            data = form.cleaned_data
            try:
                attempt = record_contact_attempt(
                    client=data["client"],
                    course=data["course"],
                    reason=data["reason"],
                    outcome=data["outcome"],
                    note=data["note"],
                    by=request.user,
                    appointment=data["booking"],
                )
            except ValidationError as error:
                add_errors(form, booking_errors(error), fields=("outcome", "note", *BOOKING))
            else:
                messages.success(request, self.saved_message(attempt))
                url = reverse("reports:recall")
                query = request.GET.urlencode()
                return redirect(f"{url}?{query}" if query else url)
        return self.render_to_response(self.get_context_data(contact_form=form))

    @staticmethod
    def saved_message(attempt):
        outcome = ContactAttempt.Outcome
        said = {
            outcome.BOOKED: "booked: off the worklist until the booked session is logged",
            outcome.DECLINED: "declined: off the worklist for this recall",
            outcome.DO_NOT_CONTACT: "asked not to be contacted: never listed for recalls again",
            outcome.CONTACTED: "contacted, no booking yet: stays on the worklist",
            outcome.NO_ANSWER: "no answer: stays on the worklist",
        }[attempt.outcome]
        if attempt.reason == ContactAttempt.Reason.MAINTENANCE and attempt.outcome in {
            outcome.BOOKED,
            outcome.DECLINED,
        }:
            said = f"{attempt.get_outcome_display().lower()}: off the maintenance worklist"
        return f"Contact recorded for {attempt.client}, {said}."


class OutcomesView(ReportMixin, TemplateView):
    """Courses per concern against the catalogue's typical ranges, and progress by session."""

    template_name = "reports/outcomes.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters, cleaned = filter_form(OutcomesFilterForm, self.request)
        if filters.is_bound and not filters.is_valid():
            context.update({"filters": filters, "outcomes": None})
            return context
        outcomes = concern_outcomes(
            started_from=cleaned.get("started_from"),
            started_to=cleaned.get("started_to"),
            practitioner=cleaned.get("practitioner"),
        )
        context["adverse_events"] = adverse_event_counts(
            started_from=cleaned.get("started_from"),
            started_to=cleaned.get("started_to"),
            practitioner=cleaned.get("practitioner"),
        )
        with_courses = [o for o in outcomes if o.started]
        rated = [o for o in outcomes if o.ratings or o.not_assessed]
        positions = list(range(1, max((max(o.ratings, default=0) for o in rated), default=0) + 1))
        for outcome in rated:
            outcome.rating_row = [outcome.ratings.get(n, (None, 0)) for n in positions]
        context.update(
            {
                "filters": filters,
                "outcomes": outcomes,
                "with_courses": with_courses,
                "rated": rated,
                "positions": positions,
                "courses_chart": with_courses
                and charts.bar_chart(
                    [o.concern.name for o in with_courses],
                    [
                        ("Started", [o.started for o in with_courses]),
                        ("Completed", [o.completed for o in with_courses]),
                        ("Stopped", [o.stopped for o in with_courses]),
                    ],
                    title="Courses per concern: started, completed and stopped",
                ),
                "ratings_charts": bool(positions)
                and charts.small_multiples(
                    [str(n) for n in positions],
                    [
                        (o.concern.name, [o.ratings.get(n, (None,))[0] for n in positions])
                        for o in rated
                    ],
                    title="Average practitioner progress rating (0-5) by session number",
                    y_max=5,
                ),
            }
        )
        return context


class ActivityView(ReportMixin, TemplateView):
    """Sessions per practitioner, week by week and month by month."""

    template_name = "reports/activity.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = practitioner_activity(today=timezone.localdate())
        week_labels = [f"{monday.day} {monday:%b}" for monday in activity.weeks]
        month_labels = [f"{first:%b %Y}" for first in activity.months]
        context.update(
            {
                "activity": activity,
                "week_labels": week_labels,
                "month_labels": month_labels,
                "weekly_charts": activity.rows
                and charts.small_multiples(
                    week_labels,
                    [(row.name, row.weekly) for row in activity.rows],
                    title="Sessions per week by practitioner (weeks starting on the Monday shown)",
                ),
                "monthly_charts": activity.rows
                and charts.small_multiples(
                    month_labels,
                    [(row.name, row.monthly) for row in activity.rows],
                    title="Sessions per month by practitioner",
                ),
            }
        )
        return context


LOT_CSV_HEADER = [
    "Session date",
    "Session",
    "Client",
    "Date of birth",
    "Phone",
    "Email",
    "Asked not to be contacted",
    "Practitioner",
    "Course",
    "Client record",
    "Lot status",
    "Recall contact",
    "Adverse events after the session",
]


def lot_contacts(lot, client_ids=None):
    """The latest recall contact about `lot` with each client (of `client_ids`, or all)."""
    attempts = ContactAttempt.objects.filter(lot=lot, reason=ContactAttempt.Reason.LOT_RECALL)
    if client_ids is not None:
        attempts = attempts.filter(client__in=client_ids)
    latest = {}
    for attempt in attempts.order_by("attempted_at", "pk"):
        latest[attempt.client_id] = attempt
    return latest


def contact_text(attempt):
    if attempt is None:
        return "not contacted yet"
    return f"{attempt.get_outcome_display()} ({attempt.attempted_at:%Y-%m-%d})"


class LotView(ReportMixin, TemplateView):
    """Every client and session that received a product lot, for a manufacturer's recall."""

    template_name = "reports/lots.html"

    def get(self, request, *args, contact_form=None, **kwargs):
        form = LotForm(request.GET if "product" in request.GET or "lot" in request.GET else None)
        sessions = lot = None
        if form.is_valid():
            data = form.cleaned_data
            lot = Lot.objects.for_product_number(data["product"], data["lot"]).first()
            sessions = lot_sessions(product=data["product"], lot=data["lot"])
            if request.GET.get("format") == "csv":
                return self.csv(sessions, data, lot)
        context = self.get_context_data(form=form, lot=lot, **kwargs)
        if sessions is not None:
            counts = sessions.aggregate(
                session_count=Count("pk"), client_count=Count("course__client", distinct=True)
            )
            paginator = Paginator(sessions, LOT_SESSIONS_PER_PAGE)
            paginator.count = counts["session_count"]  # counted above already
            page = paginator.get_page(request.GET.get("page"))
            page.object_list = list(page.object_list)
            # Each client listed is a read of their record: one access row each, one insert.
            ClientAccess.record_many(
                user=request.user,
                clients=[session.course.client_id for session in page.object_list],
                via=ClientAccess.Via.WORKSPACE,
                what=f"lot report: {form.cleaned_data['product']} lot {form.cleaned_data['lot']}",
            )
            contacts = lot_contacts(lot, [s.course.client_id for s in page]) if lot else {}
            for session in page:
                client_id = session.course.client_id
                session.lot_contact = contacts.get(client_id)
                posted = contact_form is not None and str(contact_form.data.get("client")) == str(
                    client_id
                )
                session.contact_form = (
                    contact_form
                    if posted
                    else LotContactForm(
                        initial={
                            "client": client_id,
                            "reason": ContactAttempt.Reason.LOT_RECALL,
                            "lot": lot.pk if lot else None,
                        },
                        auto_id=f"id_lot_contact_{session.pk}_%s",
                    )
                )
            context.update(
                searched=True,
                page_obj=page,
                querystring=querystring(request, without=("page", "format")),
                events=lot_adverse_events(sessions) if counts["session_count"] else [],
                **counts,
            )
        return self.render_to_response(context)

    def csv(self, sessions, data, lot):
        name = slugify(f"lot {data['product'].name} {data['lot']}") or "lot"
        contacts = lot_contacts(lot) if lot else {}
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        writer = csv.writer(response)
        writer.writerow(LOT_CSV_HEADER)
        rows = 0
        for session in sessions.iterator(chunk_size=2000):
            rows += 1
            client = session.course.client
            row = [
                session.performed_on,
                session.number,
                client.full_name,
                client.date_of_birth,
                client.phone,
                client.email,
                "yes" if client.do_not_contact else "no",
                staff_name(session.practitioner),
                self.request.build_absolute_uri(session.course.get_absolute_url()),
                self.request.build_absolute_uri(client.get_absolute_url()),
                lot.get_status_display() if lot else "",
                contact_text(contacts.get(client.pk)),
                session.adverse_event_count,
            ]
            writer.writerow([csv_cell(value) for value in row])
        # A bulk export: one entry with its filter and row count (clinic.ExportRecord).
        ExportRecord.record(
            user=self.request.user,
            what=f"lot report: {data['product']} lot {data['lot']}",
            filters=self.request.GET.urlencode(),
            rows=rows,
            file_format="csv",
        )
        return response


class LotContactView(SubmitOnceMixin, LotView):
    """Record a lot recall's contact with one client (POST); back to the lot's page."""

    http_method_names = ["post"]
    permission_required = ("treatments.view_reports", "treatments.add_contactattempt")

    def post(self, request, *args, **kwargs):
        form = LotContactForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                attempt = record_contact_attempt(
                    client=data["client"],
                    course=None,
                    lot=data["lot"],
                    reason=ContactAttempt.Reason.LOT_RECALL,
                    outcome=data["outcome"],
                    note=data["note"],
                    by=request.user,
                )
            except ValidationError as error:
                add_errors(form, error, fields=("outcome", "note"))
            else:
                messages.success(
                    request,
                    f"Recall contact recorded for {attempt.client}: "
                    f"{attempt.get_outcome_display().lower()}.",
                )
                lot = data["lot"]
                query = urlencode({"product": lot.product_id, "lot": lot.lot_number})
                return redirect(f"{reverse('reports:lots')}?{query}")
        return self.get(request, *args, contact_form=form, **kwargs)


class ClientExportView(ReportMixin, View):
    """A client's complete history as a JSON file (a client's right of access)."""

    def get(self, request, pk):
        client = get_object_or_404(Client, pk=pk)
        history = client_history(client, exported_by=request.user)
        ClientAccess.record(
            user=request.user,
            client=client,
            via=ClientAccess.Via.EXPORT,
            what="complete history (JSON)",
        )
        name = slugify(f"client {client.pk} {client.full_name}")
        response = HttpResponse(
            json.dumps(history, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.json"'
        )
        return response


class ClientReadableView(ReportMixin, TemplateView):
    """A client's record in plain words, printable to PDF (her right of access): details,
    consultations and consent, courses, sessions, the photos' list and who opened the record."""

    template_name = "reports/client_readable.html"
    ACCESSES_SHOWN = 500

    def get_context_data(self, **kwargs):
        client = get_object_or_404(Client, pk=self.kwargs["pk"])
        record = ClientRecord(client, in_full=True)
        ClientAccess.record(
            user=self.request.user,
            client=client,
            via=ClientAccess.Via.EXPORT,
            what="Readable record",
        )
        accesses = list(
            client.accesses.select_related("user").order_by("-accessed_at", "-pk")[
                : self.ACCESSES_SHOWN
            ]
        )
        return super().get_context_data(
            client=client,
            consultations=record.consultations,
            courses=record.courses,
            photos=record.photos,
            consents=SignedConsent.objects.filter(client=client).select_related(
                "document", "document_version", "witness"
            ),
            accesses=accesses,
            accesses_capped=len(accesses) == self.ACCESSES_SHOWN,
            today=timezone.localdate(),
            **kwargs,
        )


class CoursePrintView(LoginRequiredMixin, PermissionRequiredMixin, ClientAccessMixin, DetailView):
    """A course plan and aftercare sheet to hand the client: any role that sees the course.
    Each printout is logged as a read of the client's record."""

    permission_required = "treatments.view_course"
    template_name = "reports/print_course.html"
    context_object_name = "course"

    def get_queryset(self):
        return Course.objects.select_related(
            "client", "practitioner", "consultation"
        ).prefetch_related(
            Prefetch(
                "course_concerns",
                queryset=CourseConcern.objects.select_related(
                    "recorded_concern__concern", "recorded_concern__area"
                ),
            ),
            Prefetch(
                "consultation__concerns",
                queryset=RecordedConcern.objects.select_related("concern", "area"),
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        course = self.object
        sessions = list(course.sessions.valid().order_by("number"))
        clinic = ClinicDetails.current()
        concerns, planned = {}, {}
        for link in course.course_concerns.all():
            recorded = link.recorded_concern
            concerns.setdefault(recorded.concern, []).append(recorded.area.name)
            planned[recorded.concern] = max(planned.get(recorded.concern, 0), link.planned_sessions)
        context.update(
            {
                "client": course.client,
                "concerns": [
                    (concern, areas, planned[concern]) for concern, areas in concerns.items()
                ],
                # Target dates fall on days the clinic opens.
                "schedule": course_schedule(course, sessions, opening_day=clinic.next_opening_day),
                "clinic": clinic,
                # This client's cautions, from the screening of the consultation the course
                # started from, for the client to keep in mind between sessions.
                "assessment": self.assessment(course),
                "today": timezone.localdate(),
            }
        )
        return context

    @staticmethod
    def assessment(course):
        consultation = course.consultation
        consultation.client = course.client  # read once, with the course
        return consultation.assess()

    def access_what(self):
        return f"printout of course {self.object.pk}"
