"""The aestheticians' pages for courses, sessions, the catalogue and the day's work."""

from functools import cached_property, partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.generic import DetailView, FormView, TemplateView

from catalogue.models import Product
from clinic.locking import StaleRecord, check_version
from clinic.pagination import WorklistPaginator
from clinic.submissions import SubmitOnceMixin
from clinic.views import RoleRequiredMixin
from consultations.forms import add_formset_errors, add_service_errors, refuse_stale
from consultations.models import Client, ClientAccess, Consultation, RecordedConcern
from treatments.forms import (
    CourseForm,
    EndCourseForm,
    PhotoUploadForm,
    ProgressForm,
    SessionAreaFormSet,
    SessionForm,
    SessionProductFormSet,
    VoidSessionForm,
    suggested_depth,
)
from treatments.models import Course, SessionProgress, TreatmentSession
from treatments.photos.services import add_photos
from treatments.selectors import ClientRecord
from treatments.services import (
    SESSION_FIELDS,
    complete_course,
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


class ClientDetailView(RoleRequiredMixin, DetailView):
    """Everything about one client: alerts, active courses, timeline and the next actions.

    Every opening is recorded (who, which client, when) for the managers' access log.
    """

    model = Client
    permission_required = "consultations.view_client"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ClientAccess.record(user=request.user, client=self.object, via=ClientAccess.Via.WORKSPACE)
        return response

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
                "latest_consultation": latest,
                "active_courses": active_courses,
                "timeline": [(kind, item) for kind, _day, _at, item in timeline],
                "consultations_to_start": [
                    c for c in standing if c.consent_given and not c.started_courses
                ][:3],
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
        due = (
            Course.objects.due_by(today)
            .filter(client__archived=False)
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
        context.update({"today": today, "due_page": page, "recent_sessions": recent})
        return context


class CourseCreateView(RoleRequiredMixin, SubmitOnceMixin, FormView):
    """Start a course from a consultation, pre-filled with the catalogue's suggestion.

    When a course from the consultation is already running, the page offers to open it, and
    starting another one alongside it takes a ticked box.
    """

    form_class = CourseForm
    template_name = "treatments/course_form.html"
    permission_required = "treatments.add_course"

    @cached_property
    def consultation(self):
        running = Course.objects.filter(status=Course.Status.ACTIVE).order_by("start_date", "pk")
        return get_object_or_404(
            Consultation.objects.select_related("client").prefetch_related(
                "concerns__concern",
                Prefetch("courses", queryset=running, to_attr="running_courses"),
            ),
            pk=self.kwargs["pk"],
        )

    @cached_property
    def suggestion(self):
        return suggest_course(
            consultation=self.consultation,
            recorded_concerns=list(self.consultation.concerns.all()),
        )

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            consultation=self.consultation,
            suggestion=self.suggestion,
            running_courses=self.consultation.running_courses,
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "consultation": self.consultation,
                "client": self.consultation.client,
                "suggestion": self.suggestion,
                "running_courses": self.consultation.running_courses,
            }
        )
        return context

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
                practitioner=self.request.user,
                by=self.request.user,
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


def sessions_for_display(course_by_id, sessions, user, today):
    """Attach each session's (already loaded) course and whether `user` may correct or void it."""
    for session in sessions:
        session.course = course_by_id[session.course_id]
        session.editable = not session_edit_refusal(session=session, user=user, today=today)
        if session.editable:
            session.void_form = VoidSessionForm(auto_id=f"id_void_{session.pk}_%s")
    return sessions


class CourseDetailView(RoleRequiredMixin, DetailView):
    """A course: progress, its sessions, next due date, and completing or stopping it."""

    model = Course
    context_object_name = "course"
    permission_required = "treatments.view_course"

    def get_queryset(self):
        return Course.objects.select_related(
            "client", "consultation", "practitioner"
        ).with_concerns()

    def get_context_data(self, **kwargs):
        course = self.object
        kwargs.setdefault("complete_form", EndCourseForm(prefix="complete", course=course))
        kwargs.setdefault(
            "stop_form", EndCourseForm(prefix="stop", course=course, reason_required=True)
        )
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        sessions = (
            with_positions(course.sessions.all())
            .select_related("practitioner", "numbing", "voided_by")
            .prefetch_related("areas", "products_used__product", "progress__recorded_concern")
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
            }
        )
        return context


class CourseEndView(CourseDetailView):
    """Complete or stop a course (POST); on a refusal the course page shows the form again.

    Refused too when the course changed since the page showed it (optimistic locking).
    """

    http_method_names = ["post"]
    permission_required = "treatments.change_course"
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
            try:
                with transaction.atomic():
                    check_version(Course, self.object.pk, form.cleaned_data["version"])
                    course = end(
                        course=self.object,
                        by=request.user,
                        reason=form.cleaned_data["end_reason"],
                        on=form.cleaned_data["ended_on"],
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

    def load_products(self):
        """(products for the product rows, numbing creams), read in one query."""
        kept = self.kept_product_ids()
        products = Product.objects.filter(Q(in_use=True) | Q(pk__in=kept))
        serums, creams = [], []
        for product in products:
            if product.kind == Product.Kind.NUMBING:
                creams.append(product)
            elif product.pk in kept or product.approved_for_needling:
                serums.append(product)
        return serums, creams

    def get_initial(self):
        """Initial values: {"session": {...}, "areas": [...], "products": [...], "progress": {}}."""
        raise NotImplementedError

    def build_forms(self, data=None, files=None):
        self.serums, numbing_creams = self.load_products()
        initial = self.get_initial()
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
                form_kwargs={"products": self.serums},
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
            "assessment": self.assessment(),
            "depth_guidance": sorted(concerns, key=lambda c: c.name),
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
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)

    def assessment(self):
        """The screening of the consultation the course started from (read only to draw it)."""
        consultation = self.course.consultation
        prefetch_related_objects(
            [consultation],
            Prefetch("concerns", queryset=RecordedConcern.objects.select_related("concern")),
        )
        return consultation.assess()

    def refusal_response(self):
        """A response refusing the page, or None when the user may use it."""
        return None

    def get(self, request, *args, **kwargs):
        self.course = self.get_course()
        return self.refusal_response() or self.render_forms(self.build_forms())

    def post(self, request, *args, **kwargs):
        # One transaction for the whole request: the form is checked against the course as the
        # session is saved on it (a new session's course is read locked), and a refused photo
        # leaves the session unsaved too.
        with transaction.atomic():
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
        else:
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


def courses_with_details():
    return Course.objects.select_related(
        "client", "consultation__client", "practitioner"
    ).with_concerns()


class SessionCreateView(RoleRequiredMixin, SubmitOnceMixin, SessionFormsMixin, TemplateView):
    """Log a session, pre-filled from the course's previous session (one that counts)."""

    permission_required = "treatments.add_treatmentsession"
    # SessionFormsMixin.post() runs the request's transaction; save() records the form's key in it.
    submission_in_view_transaction = True

    def get_course(self, for_update=False):
        if for_update:
            # Locked, with the counts log_session_on_locked() numbers the session from, and with
            # what saving needs only (the client, to go back to): a refused form reads the rest.
            courses = Course.objects.select_related("client").with_concerns()
            courses = courses.locked_with_counts()
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
            .prefetch_related("areas", "products_used__product", "progress")
            .order_by("-performed_on", "-number")
            .first()
        )
        concerns = [pc.recorded_concern for pc in self.course.course_concerns.all()]
        initial = {"session": {"performed_on": timezone.localdate()}, "progress": {}}
        if previous:
            initial["session"].update(device=previous.device, device_model=previous.device_model)
            if previous.numbing and previous.numbing.in_use:
                initial["session"]["numbing"] = previous.numbing_id
            initial["areas"] = [
                {"area": row.area, "depth_mm": row.depth_mm} for row in previous.areas.all()
            ]
            allowed = {p.pk for p in self.serums}
            initial["products"] = [
                {"product": row.product_id, "lot_number": row.lot_number}
                for row in previous.products_used.all()
                if row.product_id in allowed
            ]
            initial["progress"] = {
                row.recorded_concern_id: {"practitioner_rating": row.practitioner_rating}
                for row in previous.progress.all()
            }
        else:
            by_area = {}
            for rc in concerns:
                by_area.setdefault(rc.area, []).append(rc.concern)
            initial["areas"] = [
                {"area": area, "depth_mm": suggested_depth(area_concerns)}
                for area, area_concerns in by_area.items()
            ]
            initial["products"] = []
        for rc in concerns:
            initial["progress"].setdefault(
                rc.pk, {"practitioner_rating": SessionProgress.Rating.NO_CHANGE}
            )
        return initial

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
            message += f" Next session due {course.next_due_on:%d %b %Y}."
        messages.success(self.request, message)
        return self.submitted(redirect(client))


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

    def get_initial(self):
        return {
            "session": {},
            "areas": [{"area": r.area, "depth_mm": r.depth_mm} for r in self.session.areas.all()],
            "products": [
                {"product": r.product_id, "lot_number": r.lot_number}
                for r in self.session.products_used.all()
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
            .prefetch_related("areas"),
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
                void_session(
                    session=self.session, reason=form.cleaned_data["void_reason"], by=request.user
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


class ConsultationDetailView(RoleRequiredMixin, DetailView):
    """The outcome with its reasons, what needling can do for each concern, the course."""

    model = Consultation
    permission_required = "consultations.view_consultation"

    def get_queryset(self):
        return Consultation.objects.select_related(
            "client", "practitioner", "voided_by"
        ).prefetch_related("concerns__concern", "courses")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consultation = self.object
        recorded = list(consultation.concerns.all())
        context["assessment"] = consultation.assess()
        context["recorded_concerns"] = recorded
        context["suggestion"] = suggest_course(
            consultation=consultation, recorded_concerns=recorded
        )
        context["courses"] = consultation.courses.all()
        context["photos"] = consultation.photos.all()
        context["photo_fields"] = list(PhotoUploadForm(required=True))
        return context
