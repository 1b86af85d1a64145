"""The aestheticians' pages for courses, sessions, the catalogue and the day's work."""

from functools import cached_property, partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    prefetch_related_objects,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import DetailView, FormView, TemplateView, View

from catalogue.models import Product, area_chart
from clinic.formats import day
from clinic.forms import add_service_errors
from clinic.locking import RecordBusy, StaleRecord, check_version, refuse_when_busy
from clinic.pagination import WorklistPaginator
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consent.models import Kind
from consent.services import has_valid
from consultations.forms import add_formset_errors, refuse_stale
from consultations.models import Client, Consultation, RecordedConcern
from consultations.views import ClientAccessMixin
from stock.models import Lot
from treatments.aftercare import calls_due
from treatments.cautions import cautions_for
from treatments.forms import (
    AppointmentForm,
    CourseForm,
    EndCourseForm,
    PhotoUploadForm,
    ProgressForm,
    SessionAreaFormSet,
    SessionForm,
    SessionProductFormSet,
    VoidSessionForm,
    bookable_staff,
    first_session_depth,
    staff_name,
)
from treatments.models import (
    Appointment,
    Course,
    Device,
    SessionProgress,
    TreatmentSession,
    areas_with_names,
)
from treatments.photos.services import add_photos, photo_transaction
from treatments.selectors import ClientRecord
from treatments.services import (
    SESSION_FIELDS,
    book_appointment,
    complete_course,
    earliest_next_on,
    log_session_on_locked,
    session_edit_refusal,
    start_course,
    stop_course,
    suggest_course,
    update_session,
    void_session,
)

DUE_PER_PAGE = 25
RECENT_SESSIONS = 10
# A day's bookings: a clinic's day, not a calendar.
TODAY_APPOINTMENTS = 100
# A course's lock not obtained within DJANGO_DB_LOCK_TIMEOUT (clinic.locking.refuse_when_busy).
COURSE_BUSY = "Someone else is saving this course right now. Nothing was saved; try again."


def with_positions(sessions):
    """`sessions` annotated with `position`: the n of "session n of N" among the sessions of its
    course that count. Voided sessions keep their number but no longer count."""
    counted_before = (
        TreatmentSession.objects.valid()
        .filter(course=OuterRef("course"), number__lte=OuterRef("number"))
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return sessions.annotate(position=Subquery(counted_before))


class ClientDetailView(RoleRequiredMixin, ClientAccessMixin, DetailView):
    """Everything about one client: alerts, active courses, timeline and the next actions.

    Every opening is recorded (who, which client, when) for the managers' access log.
    """

    model = Client
    permission_required = "consultations.view_client"

    def access_client(self):
        return self.object.pk

    def access_what(self):
        return "client page"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = ClientRecord(self.object)
        today = timezone.localdate()
        consultations = record.consultations
        for session in record.sessions:
            session.editable = not session_edit_refusal(
                session=session, user=self.request.user, today=today
            )
        timeline = [("consultation", c.held_on, c.created_at, c) for c in consultations]
        timeline += [("session", s.performed_on, s.created_at, s) for s in record.sessions]
        timeline.sort(key=lambda entry: (entry[1], entry[2]), reverse=True)

        standing = [c for c in reversed(consultations) if not c.is_voided]
        latest = standing[0] if standing else None
        active_courses = [course for course in reversed(record.courses) if course.is_active]
        for course in active_courses:
            course.overdue = course.is_overdue(today)
        context.update(
            {
                "assessment": latest.assessment if latest else None,
                "cautions": cautions_for(
                    assessment=latest.assessment,
                    recorded_concerns=latest.concerns.all(),
                    courses=latest.started_courses,
                )
                if latest
                else None,
                "latest_consultation": latest,
                "active_courses": active_courses,
                "timeline": [(kind, item) for kind, _day, _at, item in timeline],
                "consultations_to_start": [c for c in standing if not c.started_courses][:3],
                "next_appointment": Appointment.objects.upcoming(today)
                .filter(client=self.object)
                .select_related("practitioner")
                .first(),
                "today": today,
            }
        )
        return context


class ClientRecordView(RoleRequiredMixin, ClientAccessMixin, DetailView):
    """A client's whole record on one screen, for reading (the managers' "Client record", which
    the admin's client page links to): the sessions first, one line each, opened for their
    details; then courses, consultations with their consents, appointments, recall contacts
    and adverse events. Editing is elsewhere (the client's form, the admin).

    Read in a fixed number of queries whatever the size of the history (ClientRecord), and
    logged as a record access.
    """

    model = Client
    permission_required = "consultations.view_client"
    template_name = "treatments/client_record.html"

    def access_client(self):
        return self.object.pk

    def access_what(self):
        return "client record"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = ClientRecord(self.object, in_full=True)
        consultations = record.consultations  # reads the courses and sessions with them
        may_see_photos = self.request.user.has_perm("treatments.view_photo")
        photos = record.photos if may_see_photos else []
        by_session, by_consultation = {}, {}
        for photo in photos:
            if photo.session_id:
                by_session.setdefault(photo.session_id, []).append(photo)
            else:
                by_consultation.setdefault(photo.consultation_id, []).append(photo)
        sessions = sorted(
            record.sessions, key=lambda s: (s.performed_on, s.created_at), reverse=True
        )
        for session in sessions:
            session.record_photos = by_session.get(session.pk, [])
        for consultation in consultations:
            consultation.record_photos = by_consultation.get(consultation.pk, [])
        today = timezone.localdate()
        context.update(
            {
                "client": self.object,
                "sessions": sessions,
                "courses": list(reversed(record.courses)),
                "consultations": list(reversed(consultations)),
                "appointments": list(reversed(record.appointments)),
                "contact_attempts": list(reversed(record.contact_attempts)),
                "photo_count": len(photos),
                "today": today,
            }
        )
        return context


class TodayView(RoleRequiredMixin, TemplateView):
    """Who is due back (today and overdue), my recent sessions, and a quick client search."""

    template_name = "treatments/today.html"
    permission_required = "treatments.view_course"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        # A course booked from today on waits for its appointment: it leaves the due list (a
        # booking for today is listed above it, with its appointment).
        booked = Appointment.objects.upcoming(today).filter(course=OuterRef("pk"))
        due = (
            Course.objects.due_by(today)
            .filter(client__archived=False)
            .exclude(Exists(booked))
            .select_related("client")
            .with_concerns()
            .order_by("next_due_on", "pk")
        )
        # Counted up to a cap: a chain's courses overdue over the years can run to thousands.
        page = WorklistPaginator(due, DUE_PER_PAGE).get_page(self.request.GET.get("page"))
        recent = (
            with_positions(TreatmentSession.objects.filter(practitioner=self.request.user))
            .select_related("course__client")
            .order_by("-performed_on", "-pk")[:RECENT_SESSIONS]
        )
        appointments = (
            Appointment.objects.booked()
            .filter(date=today)
            .select_related("client", "course", "practitioner")
            .order_by("time", "pk")[:TODAY_APPOINTMENTS]
        )
        context.update(
            {
                "today": today,
                "appointments": appointments,
                "due_page": page,
                "recent_sessions": recent,
                "follow_up_calls": list(calls_due(today=today)),
            }
        )
        return context


def default_concerns(recorded_concerns):
    """The concerns a new course treats unless the practitioner unticks them: those with an
    established course (all of them when none has one)."""
    with_course = [rc for rc in recorded_concerns if rc.concern.has_typical_course]
    return with_course or list(recorded_concerns)


def ticked_concerns(recorded_concerns, values):
    """The consultation's `recorded_concerns` ticked in `values` (a QueryDict), ignoring others."""
    ticked = set(values.getlist("concerns"))
    return [rc for rc in recorded_concerns if str(rc.pk) in ticked]


def whole_number(values, name):
    """`values[name]` as a whole number, or None when it is missing or not one."""
    try:
        return int(values.get(name, ""))
    except ValueError:
        return None


class SuggestionMixin:
    """The start-course form's suggestion, for the concerns ticked on it."""

    @cached_property
    def consultation(self):
        running = Course.objects.filter(status=Course.Status.ACTIVE).order_by("start_date", "pk")
        return get_object_or_404(
            Consultation.objects.select_related("client").prefetch_related(
                Prefetch(
                    "concerns", queryset=RecordedConcern.objects.select_related("concern", "area")
                ),
                Prefetch("courses", queryset=running, to_attr="running_courses"),
            ),
            pk=self.kwargs["pk"],
        )

    def suggestion_context(self, suggestion, *, planned_sessions, interval_weeks, device):
        """What includes/course_suggestion.html draws: the suggestion, each concern's count in a
        course of `planned_sessions`, and how the chosen course departs from the catalogue."""
        departures = suggestion.departures(
            planned_sessions=planned_sessions, interval_weeks=interval_weeks, device=device
        )
        return {
            "consultation": self.consultation,
            "suggestion": suggestion,
            "per_concern": suggestion.planned_per_concern(planned_sessions),
            "chosen_sessions": planned_sessions,
            "suggested_device": Device.RF if any(c.rf_only for c in suggestion.concerns) else "",
            "departures": [message for messages in departures.values() for message in messages],
        }


class CourseCreateView(RoleRequiredMixin, SubmitOnceMixin, SuggestionMixin, FormView):
    """Start a course from a consultation, pre-filled with the catalogue's suggestion.

    The suggestion follows the concerns ticked: live through CourseSuggestionView, and without
    JavaScript by the form's "Update the suggestion" button, or on a refused submission. When a
    course from the consultation is already running, the page offers to open it, and starting
    another one alongside it takes a ticked box.
    """

    form_class = CourseForm
    template_name = "treatments/course_form.html"
    permission_required = "treatments.add_course"

    @cached_property
    def screened(self):
        """The suggestion for every concern of the consultation: which screening fields the
        form needs (an override for a blocked area, cautions to acknowledge)."""
        return suggest_course(
            consultation=self.consultation,
            recorded_concerns=list(self.consultation.concerns.all()),
        )

    @cached_property
    def suggestion(self):
        """The suggestion for the concerns ticked (a new form: those with a course)."""
        recorded = list(self.consultation.concerns.all())
        if self.request.method == "POST":
            chosen = ticked_concerns(recorded, self.request.POST)
        else:
            chosen = default_concerns(recorded)
        if len(chosen) == len(recorded):
            return self.screened
        return suggest_course(consultation=self.consultation, recorded_concerns=chosen)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            consultation=self.consultation,
            suggestion=self.suggestion,
            screened=self.screened,
            running_courses=self.consultation.running_courses,
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if form.is_bound:
            values = self.request.POST
            planned = whole_number(values, "planned_sessions")
            interval = whole_number(values, "interval_weeks")
            device = values.get("device", "")
        else:
            planned = form["planned_sessions"].value()
            interval = form["interval_weeks"].value()
            device = form["device"].value() or ""
        context.update(
            self.suggestion_context(
                self.suggestion, planned_sessions=planned, interval_weeks=interval, device=device
            )
        )
        context.update({"running_courses": self.consultation.running_courses})
        context["client"] = self.consultation.client
        context["too_old"] = self.consultation.screening_age_refusal(timezone.localdate())
        return context

    def post(self, request, *args, **kwargs):
        if "refresh" in request.POST:
            return self.refreshed()
        return super().post(request, *args, **kwargs)

    def refreshed(self):
        """The form again, as entered, with the suggestion for the concerns now ticked (the
        "Update the suggestion" button, for browsers without JavaScript): nothing is saved."""
        values = self.request.POST
        initial = {name: values.get(name, "") for name in CourseForm.Meta.fields}
        initial["concerns"] = [rc.pk for rc in self.suggestion.recorded_concerns]
        initial["cautions_acknowledged"] = bool(values.get("cautions_acknowledged"))
        initial["planned_sessions"] = self.suggestion.sessions
        initial["interval_weeks"] = self.suggestion.interval_weeks
        if any(concern.rf_only for concern in self.suggestion.concerns):
            initial["device"] = Device.RF
        form = self.form_class(
            initial=initial,
            consultation=self.consultation,
            suggestion=self.suggestion,
            screened=self.screened,
        )
        return self.render_to_response(self.get_context_data(form=form))

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            course = start_course(
                consultation=self.consultation,
                recorded_concerns=data["concerns"],
                planned_sessions=data["planned_sessions"],
                interval_weeks=data["interval_weeks"],
                start_date=data["start_date"],
                override_reason=data.get("override_reason", ""),
                cautions_acknowledged=data.get("cautions_acknowledged", False),
                notes=data["notes"],
                device=data["device"],
                departure_reason=data["departure_reason"],
                practitioner=self.request.user,
                by=self.request.user,
                refuse_if_running=not data.get("start_another", False),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Course started: {course.planned_sessions} sessions, "
            f"every {course.interval_weeks} weeks.",
        )
        return redirect(course)


class CourseSuggestionView(RoleRequiredMixin, SuggestionMixin, View):
    """The start-course form's suggestion for the concerns ticked, as a fragment of the page
    (includes/course_suggestion.html), which course_suggestion.js asks for as they are ticked.

    GET `concerns` (repeated), and optionally `planned_sessions`, `interval_weeks` and `device`
    as the practitioner typed them; those left out take the suggestion's values.
    """

    permission_required = "treatments.add_course"

    def get(self, request, *args, **kwargs):
        values = request.GET
        chosen = ticked_concerns(list(self.consultation.concerns.all()), values)
        suggestion = suggest_course(consultation=self.consultation, recorded_concerns=chosen)
        planned = whole_number(values, "planned_sessions")
        interval = whole_number(values, "interval_weeks")
        device = values.get("device")
        if device is None:
            device = Device.RF if any(c.rf_only for c in suggestion.concerns) else ""
        context = self.suggestion_context(
            suggestion,
            planned_sessions=suggestion.sessions if planned is None else planned,
            interval_weeks=suggestion.interval_weeks if interval is None else interval,
            device=device,
        )
        return TemplateResponse(request, "includes/course_suggestion.html", context)


def sessions_for_display(course_by_id, sessions, user, today):
    """Attach each session's (already loaded) course and whether `user` may correct or void it."""
    for session in sessions:
        session.course = course_by_id[session.course_id]
        session.editable = not session_edit_refusal(session=session, user=user, today=today)
        if session.editable:
            session.void_form = VoidSessionForm(auto_id=f"id_void_{session.pk}_%s")
    return sessions


class CourseDetailView(RoleRequiredMixin, ClientAccessMixin, DetailView):
    """A course: progress, its sessions, next due date, and completing or stopping it. Each
    showing is logged as a read of the client's record."""

    model = Course
    context_object_name = "course"
    permission_required = "treatments.view_course"

    def get_queryset(self):
        return Course.objects.select_related(
            "client", "consultation", "practitioner"
        ).with_concerns()

    def access_what(self):
        return f"course {self.object.pk}"

    def get_context_data(self, **kwargs):
        course = self.object
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        sessions = (
            with_positions(course.sessions.all())
            .select_related("practitioner", "numbing", "voided_by")
            .prefetch_related(
                areas_with_names(),
                "products_used__product",
                Prefetch(
                    "progress",
                    queryset=SessionProgress.objects.select_related(
                        "recorded_concern__concern", "recorded_concern__area"
                    ),
                ),
            )
            .order_by("number")
        )
        context.update(
            {
                "client": course.client,
                "sessions": sessions_for_display(
                    {course.pk: course}, list(sessions), self.request.user, today
                ),
                "overdue": course.is_overdue(today),
                "concerns": [pc.recorded_concern for pc in course.course_concerns.all()],
                "course_concerns": list(course.course_concerns.all()),
            }
        )
        return context


class CourseEndPageView(RoleRequiredMixin, DetailView):
    """ "End course": the one step between the course page and ending it, a page of its own so
    it works without JavaScript. It says where the course stands, and offers completing it or
    stopping it (with the reason), each confirmed by its own button, or keeping it running."""

    model = Course
    context_object_name = "course"
    template_name = "treatments/course_end.html"
    permission_required = "treatments.change_course"

    def get_queryset(self):
        return Course.objects.select_related("client", "consultation").with_concerns()

    def get_context_data(self, **kwargs):
        course = self.object
        kwargs.setdefault("complete_form", EndCourseForm(prefix="complete", course=course))
        kwargs.setdefault(
            "stop_form", EndCourseForm(prefix="stop", course=course, reason_required=True)
        )
        context = super().get_context_data(**kwargs)
        context["client"] = course.client
        context["sessions_left"] = max(course.planned_sessions - course.sessions_logged, 0)
        return context


class CourseEndView(CourseEndPageView):
    """Complete or stop a course (POST, from the end-course page); on a refusal that page shows
    the form again, with the message next to the field.

    Refused too when the course changed since the page showed it (optimistic locking).
    """

    http_method_names = ["post"]
    action = None

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = EndCourseForm(
            request.POST,
            prefix=self.action,
            course=self.object,
            reason_required=self.action == "stop",
        )
        if form.is_valid():
            end = complete_course if self.action == "complete" else stop_course
            extra = {}
            if self.action == "stop":
                extra["adverse_event"] = form.cleaned_data["adverse_event"]
            try:
                with refuse_when_busy(COURSE_BUSY), transaction.atomic():
                    check_version(Course, self.object.pk, form.cleaned_data["version"])
                    course = end(
                        course=self.object,
                        by=request.user,
                        reason=form.cleaned_data["end_reason"],
                        on=form.cleaned_data["ended_on"],
                        **extra,
                    )
            except StaleRecord as stale:
                self.object = self.get_object()  # the course as it is now, beside the message
                refuse_stale(form, stale, self.object.version)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Course {course.get_status_display().lower()}.")
                return redirect(course)
        return self.render_to_response(self.get_context_data(**{f"{self.action}_form": form}))


class CourseCompleteView(CourseEndView):
    action = "complete"


class CourseStopView(CourseEndView):
    action = "stop"


class SessionFormsMixin:
    """The session form with its areas, products and progress ratings, logged or corrected."""

    template_name = "treatments/treatmentsession_form.html"
    session = None

    def get_course(self, for_update=False):
        """The course; `for_update`: read for a posted form, in the request's transaction."""
        raise NotImplementedError

    def kept_product_ids(self):
        """Products offered even when no longer in use: those the session already names."""
        return set()

    def kept_lot_ids(self):
        """Lots offered even when no longer usable: those the session already records."""
        return set()

    def load_products_and_lots(self, initial, data):
        """(products for the product rows, numbing creams, lots offered on the product rows,
        the lots suggested from last time by key), read in one query: the products in use (and
        the session's own), each joined to its lots in use and in date and to the lots the rows
        name (the session's own, the posted ones, last time's), so a lot recalled since the page
        was shown is refused with its reason rather than as an unknown choice. On a posted form
        this runs in the request's transaction, after the course's lock: the service checks the
        lots as read here."""
        named = set(self.kept_lot_ids())
        last = {str(row.get("last_lot")) for row in initial["products"] if row.get("last_lot")}
        if data is not None:
            for name, value in data.items():
                if not (value.isdigit() and len(value) < 19 and name.startswith("products-")):
                    continue
                if name.endswith("-last_lot"):
                    last.add(value)
                elif name.endswith("-lot"):
                    named.add(int(value))
        wanted = named | {int(pk) for pk in last if pk.isdigit() and len(pk) < 19}
        today = timezone.localdate()
        offered_lot = Q(lots__status=Lot.Status.IN_USE, lots__expiry_date__gte=today)
        if wanted:
            offered_lot |= Q(lots__pk__in=sorted(wanted))
        kept = self.kept_product_ids()
        product_fields = Product._meta.concrete_fields
        lot_fields = Lot._meta.concrete_fields
        rows = (
            Product.objects.filter(Q(in_use=True) | Q(pk__in=kept))
            .annotate(offered_lot=FilteredRelation("lots", condition=offered_lot))
            .order_by(*Product._meta.ordering, "pk")
            .values_list(
                *(f.name for f in product_fields),
                *(f"offered_lot__{f.name}" for f in lot_fields),
            )
        )
        products, lots = {}, []
        product_names = [f.attname for f in product_fields]
        lot_names = [f.attname for f in lot_fields]
        for row in rows:
            product_row, lot_row = row[: len(product_names)], row[len(product_names) :]
            product = products.get(product_row[0])
            if product is None:
                product = products[product_row[0]] = Product.from_db(
                    Product.objects.db, product_names, product_row
                )
            if lot_row[0] is not None:
                lot = Lot.from_db(Lot.objects.db, lot_names, lot_row)
                lot.product = product
                lots.append(lot)
        serums, creams = [], []
        for product in products.values():
            if product.kind == Product.Kind.NUMBING:
                creams.append(product)
            elif product.pk in kept or product.approved_for_needling:
                serums.append(product)
        serum_ids = {product.pk for product in serums}
        # Lots of the product rows' products only, soonest expiry first (unknown ones last).
        lots = sorted(
            (lot for lot in lots if lot.product_id in serum_ids),
            key=lambda lot: (lot.expiry_date is None, lot.expiry_date, lot.pk),
        )
        last_lots = {str(lot.pk): lot for lot in lots if str(lot.pk) in last}
        offered = [lot for lot in lots if lot.pk in named or not lot.refusal(today)]
        # The lots used last time first: the suggestion to confirm.
        offered.sort(key=lambda lot: str(lot.pk) not in last_lots)
        return serums, creams, offered, last_lots

    def get_initial(self):
        """Initial values: {"session": {...}, "areas": [...], "products": [...], "progress": {}}."""
        raise NotImplementedError

    def build_forms(self, data=None, files=None):
        self.chart = area_chart()
        initial = self.get_initial()
        self.serums, numbing_creams, lots, last_lots = self.load_products_and_lots(initial, data)
        # Last time's products offered again only while they are offered at all.
        offered = {product.pk for product in self.serums}
        initial["products"] = [row for row in initial["products"] if row["product"] in offered]
        self.recorded_concerns = [pc.recorded_concern for pc in self.course.course_concerns.all()]
        return {
            "form": SessionForm(
                data,
                instance=self.session,
                initial=initial["session"],
                numbing_creams=numbing_creams,
            ),
            "areas": SessionAreaFormSet(data, initial=initial["areas"], prefix="areas"),
            "products": SessionProductFormSet(
                data,
                initial=initial["products"],
                prefix="products",
                form_kwargs={
                    "products": self.serums,
                    "lots": lots,
                    "last_lots": last_lots,
                    "can_receive": self.request.user.has_perm("stock.receive_lot"),
                },
            ),
            "progress_forms": [
                ProgressForm(
                    data,
                    prefix=f"progress-{rc.pk}",
                    recorded_concern=rc,
                    initial=initial["progress"].get(rc.pk, {}),
                )
                for rc in self.recorded_concerns
            ],
            "progress_errors": [],
            "photo_form": PhotoUploadForm(
                data,
                files,
                initial={"photo_area": next((row["area"] for row in initial["areas"]), None)},
            ),
        }

    def render_forms(self, forms, status=200):
        today = timezone.localdate()
        concerns = {rc.concern for rc in self.recorded_concerns}
        context = {
            **forms,
            "course": self.course,
            "client": self.course.client,
            "session": self.session,
            "assessment": (assessment := self.assessment()),
            "cautions": cautions_for(
                assessment=assessment,
                recorded_concerns=self.recorded_concerns,
                courses=[self.course],
            ),
            "depth_guidance": sorted(concerns, key=lambda c: c.name),
            "chart_areas": [
                self.chart[code]
                for code in dict.fromkeys(rc.area_id for rc in self.recorded_concerns)
                if code in self.chart
            ],
            "earliest_on": None if self.session else self.earliest_on(),
            "today": today,
            "next_number": self.course.sessions_logged + 1,
            "void_form": VoidSessionForm() if self.session else None,
            "has_errors": bool(
                forms["form"].errors
                or forms["areas"].total_error_count()
                or forms["products"].total_error_count()
                or forms["progress_errors"]
                or any(progress.errors for progress in forms["progress_forms"])
                or forms["photo_form"].errors
            ),
            "photos_dropped": bool(self.request.FILES.getlist("photos")),
            "photo_consent": has_valid(self.course.client_id, Kind.PHOTOGRAPHS),
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)

    def assessment(self):
        """The screening of the consultation the course started from (read only to draw it)."""
        consultation = self.course.consultation
        prefetch_related_objects(
            [consultation],
            Prefetch(
                "concerns", queryset=RecordedConcern.objects.select_related("concern", "area")
            ),
        )
        return consultation.assess()

    def refusal_response(self):
        """A response refusing the page, or None when the user may use it."""
        return None

    def earliest_on(self):
        """The first date the course's interval allows its next session (None: any date)."""
        return earliest_next_on(self.course, self.course.last_session_on)

    def get(self, request, *args, **kwargs):
        self.course = self.get_course()
        return self.refusal_response() or self.render_forms(self.build_forms())

    def post(self, request, *args, **kwargs):
        try:
            with refuse_when_busy(COURSE_BUSY):
                return self.save_posted(request)
        except RecordBusy as busy:
            # Nothing was saved: the form as posted, with the course read again (without
            # waiting for its lock) and the refusal at the top.
            self.course = self.get_course()
            forms = self.build_forms(request.POST, request.FILES)
            add_service_errors(forms["form"], busy)
            return self.render_forms(forms)

    def save_posted(self, request):
        # One transaction for the whole request: the form is checked against the course as the
        # session is saved on it (a new session's course is read locked), a refused photo
        # leaves the session unsaved too, and photo files stay only if it all commits.
        with photo_transaction():
            self.course = self.get_course(for_update=True)
            refused = self.refusal_response()
            if refused:
                return refused
            forms = self.build_forms(request.POST, request.FILES)
            valid = [
                forms["form"].is_valid(),
                forms["photo_form"].is_valid(),
                forms["areas"].is_valid(),
                forms["products"].is_valid(),
                *[form.is_valid() for form in forms["progress_forms"]],
            ]
            if not all(valid):
                return self.render_forms(forms)
            form = self.session_form = forms["form"]
            values = {name: form.cleaned_data[name] for name in SESSION_FIELDS}
            values.update(
                areas=forms["areas"].areas(),
                products=forms["products"].products(),
                progress=[progress.progress() for progress in forms["progress_forms"]],
            )
            self.photo_batch = forms["photo_form"].cleaned_data
            try:
                return self.save(values)
            except (StaleRecord, ValidationError) as error:
                # Nothing is kept: the refusal is shown once the transaction is rolled back.
                transaction.set_rollback(True)
                refusal = error
        if isinstance(refusal, StaleRecord):
            current = TreatmentSession.objects.get(pk=self.session.pk)
            refuse_stale(form, refusal, current.version)
        elif refusal := add_row_errors(forms["areas"], refusal):
            areas = partial(add_formset_errors, forms["areas"])
            products = partial(add_formset_errors, forms["products"])
            add_service_errors(
                form,
                refusal,
                elsewhere={
                    "areas": areas,
                    "area": areas,
                    "depth_mm": areas,
                    "products": products,
                    "product": products,
                    "lot": products,
                    "lot_number": products,
                    "progress": forms["progress_errors"].extend,
                    "practitioner_rating": forms["progress_errors"].extend,
                    "client_rating": forms["progress_errors"].extend,
                    "image": forms["photo_form"].add_photo_errors,
                    "photo_consent": forms["photo_form"].add_photo_errors,
                },
            )
        return self.render_forms(forms)

    def save_photos(self, session):
        """Store the photos chosen on the form (none is fine) for `session`."""
        batch = self.photo_batch
        if batch["photos"]:
            add_photos(
                client=self.course.client,
                session=session,
                image_files=batch["photos"],
                area=batch["photo_area"],
                angle=batch["photo_angle"],
                by=self.request.user,
            )


def add_row_errors(formset, refusal):
    """Put a service's refusals about one area (a depth above the chart's maximum, an area not
    in the chart: their `params["area"]`) next to that area's row of `formset`; return the rest
    of `refusal`, or None when nothing is left."""
    if not hasattr(refusal, "error_dict"):
        return refusal
    rest = {}
    rows = {form.cleaned_data["area"]: form for form in formset.chosen_forms()}
    for name, errors in refusal.error_dict.items():
        for error in errors:
            row = (
                rows.get((error.params or {}).get("area")) if name in ("area", "depth_mm") else None
            )
            if row is not None:
                row.add_error(name, error)
            else:
                rest.setdefault(name, []).append(error)
    return ValidationError(rest) if rest else None


def courses_with_details():
    return Course.objects.select_related(
        "client", "consultation__client", "practitioner", "created_by"
    ).with_concerns()


class SessionCreateView(RoleRequiredMixin, SubmitOnceMixin, SessionFormsMixin, TemplateView):
    """Log a session, pre-filled from the course's previous session (one that counts).

    Logged, it goes back where the practitioner came from: `next` (Today, the course page), an
    address on this site only; without one, the client's page.
    """

    permission_required = "treatments.add_treatmentsession"
    # SessionFormsMixin.post() runs the request's transaction; save() records the form's key in it.
    submission_in_view_transaction = True

    def get_course(self, for_update=False):
        if for_update:
            # Locked, then its concerns with the counts log_session_on_locked() numbers the
            # session from, and what saving needs only (the client, to go back to): a refused
            # form reads the rest.
            courses = Course.objects.select_related("client", "consultation").locked_with_counts()
        else:
            courses = courses_with_details()
        return get_object_or_404(courses, pk=self.kwargs["pk"])

    def get_initial(self):
        if self.request.method == "POST":
            # A posted form shows what was posted; the pre-fill is for a new page only.
            return {"session": {}, "areas": [], "products": [], "progress": {}}
        previous = (
            self.course.sessions.valid()
            .select_related("numbing")
            .prefetch_related("areas", "products_used")
            .order_by("-performed_on", "-number")
            .first()
        )
        concerns = [pc.recorded_concern for pc in self.course.course_concerns.all()]
        initial = {"session": {"performed_on": timezone.localdate()}, "progress": {}}
        if self.course.device:  # the device the course planned (rosacea: RF micro-needling)
            initial["session"]["device"] = self.course.device
        if previous:
            initial["session"].update(device=previous.device, device_model=previous.device_model)
            if previous.numbing and previous.numbing.in_use:
                initial["session"]["numbing"] = previous.numbing_id
            initial["areas"] = [
                {"area": row.area_id, "depth_mm": row.depth_mm} for row in previous.areas.all()
            ]
            # The lot is offered for the practitioner to confirm, never filled in unseen (the
            # products no longer offered are left out with the lots, in build_forms()).
            initial["products"] = [
                {"product": row.product_id, "last_lot": row.lot_id}
                for row in previous.products_used.all()
            ]
        else:
            # A first session starts from the area chart: inside the area's thin-skin range, at
            # its low end on Fitzpatrick IV-VI skin (client.pigment_risk).
            by_area = {}
            for rc in concerns:
                by_area.setdefault(rc.area_id, []).append(rc.concern)
            initial["areas"] = [
                {
                    "area": area,
                    "depth_mm": first_session_depth(
                        self.chart[area], area_concerns, low_end=self.course.client.pigment_risk
                    ),
                }
                for area, area_concerns in by_area.items()
                if area in self.chart
            ]
            initial["products"] = []
        return initial

    def back_to(self):
        """Where to go once the session is logged: `next` when it is a page of this site."""
        back = self.request.POST.get("next") or self.request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(
            back, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        )
        return back if back and safe else ""

    def render_forms(self, forms, status=200):
        response = super().render_forms(forms, status)
        response.context_data["next"] = self.back_to()
        return response

    def save(self, values):
        session = log_session_on_locked(
            course=self.course, practitioner=self.request.user, by=self.request.user, **values
        )
        self.save_photos(session)
        course, client = session.course, self.course.client  # the course as the service left it
        message = (
            f"Session {course.sessions_logged} of {course.planned_sessions} logged for {client}."
        )
        if course.status == Course.Status.COMPLETED:
            message += " The course is complete."
        elif course.next_due_on:
            message += f" Next session due {day(course.next_due_on)}."
        messages.success(self.request, message)
        return self.submitted(redirect(self.back_to() or client))


def session_locked(request, session, course, reason):
    """The page refusing to correct or void `session`, saying why."""
    return TemplateResponse(
        request,
        "treatments/treatmentsession_locked.html",
        {"session": session, "course": course, "reason": reason},
        status=403,
    )


class SessionUpdateView(RoleRequiredMixin, SessionFormsMixin, TemplateView):
    """Correct a session: its author, on the day it was logged.

    Refused, with what changed, when the session was saved since the form was shown.
    """

    permission_required = "treatments.change_treatmentsession"

    def get_course(self, for_update=False):
        # update_session() locks the course itself.
        self.session = get_object_or_404(
            with_positions(TreatmentSession.objects.all()).prefetch_related(
                "areas", "products_used", "progress"
            ),
            pk=self.kwargs["pk"],
        )
        return get_object_or_404(courses_with_details(), pk=self.session.course_id)

    def locked(self, reason):
        return session_locked(self.request, self.session, self.course, reason)

    def refusal_response(self):
        refusal = session_edit_refusal(session=self.session, user=self.request.user)
        return self.locked(refusal) if refusal else None

    def kept_product_ids(self):
        return {row.product_id for row in self.session.products_used.all()} | {
            self.session.numbing_id
        }

    def kept_lot_ids(self):
        return {row.lot_id for row in self.session.products_used.all()}

    def get_initial(self):
        return {
            "session": {},
            "areas": [
                {"area": r.area_id, "depth_mm": r.depth_mm} for r in self.session.areas.all()
            ],
            "products": [
                {"product": r.product_id, "lot": r.lot_id} for r in self.session.products_used.all()
            ],
            "progress": {
                r.recorded_concern_id: {
                    "practitioner_rating": r.practitioner_rating,
                    "client_rating": r.client_rating,
                }
                for r in self.session.progress.all()
            },
        }

    def save(self, values):
        try:
            update_session(
                session=self.session,
                by=self.request.user,
                expected_version=self.session_form.loaded_version,
                **values,
            )
            self.save_photos(self.session)
        except PermissionDenied as refusal:
            return self.locked(str(refusal))
        messages.success(self.request, f"Session {self.session.position} corrected.")
        return redirect(self.course.client)


class SessionVoidView(RoleRequiredMixin, TemplateView):
    """Void a mistaken session with a reason: its author, on the day it was logged.

    The session stays on record, struck through, and no longer counts towards its course.
    """

    template_name = "treatments/treatmentsession_void.html"
    permission_required = "treatments.change_treatmentsession"

    @cached_property
    def session(self):
        return get_object_or_404(
            with_positions(TreatmentSession.objects.all())
            .select_related("course__client", "practitioner")
            .prefetch_related(areas_with_names()),
            pk=self.kwargs["pk"],
        )

    def refusal_response(self):
        refusal = session_edit_refusal(session=self.session, user=self.request.user)
        if refusal:
            return session_locked(self.request, self.session, self.session.course, refusal)
        return None

    def render_form(self, form):
        return self.render_to_response(
            {"form": form, "session": self.session, "course": self.session.course}
        )

    def get(self, request, *args, **kwargs):
        return self.refusal_response() or self.render_form(VoidSessionForm())

    def post(self, request, *args, **kwargs):
        refused = self.refusal_response()
        if refused:
            return refused
        form = VoidSessionForm(request.POST)
        if form.is_valid():
            try:
                with refuse_when_busy(COURSE_BUSY):
                    void_session(
                        session=self.session,
                        reason=form.cleaned_data["void_reason"],
                        by=request.user,
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Session {self.session.position} of {self.session.course.planned_sessions} "
                    "voided: it stays on record but no longer counts towards the course.",
                )
                return redirect(self.session.course)
        return self.render_form(form)


class ConsultationDetailView(RoleRequiredMixin, ClientAccessMixin, DetailView):
    """The outcome with its reasons, what needling can do for each concern, the course. Each
    showing is logged as a read of the client's record."""

    model = Consultation
    permission_required = "consultations.view_consultation"

    def get_queryset(self):
        return Consultation.objects.select_related(
            "client", "practitioner", "voided_by", "affected_area"
        ).prefetch_related(
            Prefetch(
                "concerns", queryset=RecordedConcern.objects.select_related("concern", "area")
            ),
            Prefetch("courses", queryset=Course.objects.select_related("created_by")),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consultation = self.object
        recorded = list(consultation.concerns.all())
        context["assessment"] = consultation.assess()
        context["cautions"] = cautions_for(
            assessment=context["assessment"],
            recorded_concerns=recorded,
            courses=consultation.courses.all(),
        )
        context["recorded_concerns"] = recorded
        context["suggestion"] = suggest_course(
            consultation=consultation, recorded_concerns=recorded
        )
        context["courses"] = consultation.courses.all()
        context["photos"] = consultation.photos.select_related("area")
        context["photo_fields"] = list(PhotoUploadForm(required=True))
        context["photo_consent"] = has_valid(consultation.client_id, Kind.PHOTOGRAPHS)
        return context

    def access_what(self):
        return f"consultation {self.object.pk} of {day(self.object.held_on)}"


class AppointmentCreateView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    """Book a client's next visit (date, time, practitioner), for one of their active courses
    or to discuss a new one; from the client's page, a course's page, or this page itself."""

    form_class = AppointmentForm
    template_name = "treatments/appointment_form.html"
    permission_required = "treatments.add_appointment"

    @cached_property
    def client(self):
        return get_object_or_404(Client, pk=self.kwargs["pk"])

    @cached_property
    def courses(self):
        return list(
            Course.objects.active().filter(client=self.client).with_concerns().order_by("pk")
        )

    @cached_property
    def staff(self):
        return list(bookable_staff())

    def get_initial(self):
        course = whole_number(self.request.GET, "course")
        if course is None and self.courses:
            course = self.courses[-1].pk
        staff = {user.pk for user in self.staff}
        return {
            "course": course,
            "booked_with": self.request.user.pk if self.request.user.pk in staff else None,
        }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "courses": self.courses, "staff": self.staff}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["client"] = self.client
        return context

    def form_valid(self, form):
        booking = form.cleaned_data["booking"]
        if booking is None:
            return self.form_invalid(form)
        try:
            appointment = book_appointment(
                client=self.client,
                course=form.cleaned_data["course_object"],
                note=form.cleaned_data["note"],
                by=self.request.user,
                **booking,
            )
        except ValidationError as error:
            add_service_errors(
                form,
                error,
                elsewhere={
                    "date": partial(form.add_error, "booked_date"),
                    "practitioner": partial(form.add_error, "booked_with"),
                },
            )
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{self.client} booked on {appointment.date:%a %d %b %Y} at "
            f"{appointment.time:%H:%M} with {staff_name(appointment.practitioner)}.",
        )
        return redirect(appointment.course or self.client)
