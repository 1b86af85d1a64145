"""Who may open each workspace page, and what every page promises whoever opens it.

Every workspace URL, for every kind of visitor: signed out (the sign-in page), signed in without a
role (403), aesthetician and manager (the page). Signed-in pages are never stored by the browser,
user text is escaped, and a POST without its CSRF token is refused.
"""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from catalogue import urls as catalogue_urls
from catalogue.models import Product
from clinic import roles
from consultations import urls as consultation_urls
from consultations.models import Client, ClientAccess
from stock import urls as stock_urls
from tests.pages import text
from treatments import urls as treatment_urls
from treatments.aftercare import record_adverse_event
from treatments.models import Course
from treatments.photos.services import add_photo
from treatments.services import log_session

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
    b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)

VISITORS = ["anonymous", "no role", roles.AESTHETICIAN, roles.MANAGER]
# Pages that only take a POST (a form on the end-course page): they are tried with a POST whose
# form is incomplete, which a permitted user sees refused on the end-course page (200).
POST_ONLY = {"treatments:course-complete", "treatments:course-stop"}
# Receiving a lot: POST-only too, an incomplete form shown again on the stock page (200).
POST_TO_PAGE = POST_ONLY | {"stock:lot-receive"}
# POST-only forms that go back to their page (a redirect) whatever the outcome.
POST_AND_BACK = {
    "treatments:consultation-photo-create",
    "treatments:follow-up-call",
    "stock:lot-status",
}
# The stock pages where lots are received, quarantined and recalled: managers only (an
# aesthetician receives the pack in hand on the session form, and reads scans).
MANAGERS_ONLY = {"stock:lot-list", "stock:lot-receive", "stock:lot-status"}
WORKSPACE_URL_NAMES = sorted(
    ["today"]
    + [f"catalogue:{p.name}" for p in catalogue_urls.urlpatterns]
    + [f"consultations:{p.name}" for p in consultation_urls.urlpatterns]
    # (the old addresses that redirect to today's have no name)
    + [f"treatments:{p.name}" for p in treatment_urls.urlpatterns if p.name]
    + [f"stock:{p.name}" for p in stock_urls.urlpatterns]
)


@pytest.fixture
def visitor(request, make_user):
    """A test client for `request.param` (one of VISITORS) and its user (None when signed out)."""
    browser = DjangoClient()
    if request.param == "anonymous":
        return browser, None
    role = None if request.param == "no role" else request.param
    user = make_user(f"visitor-{request.param}".replace(" ", "-"), role=role)
    browser.force_login(user)
    return browser, user


@pytest.fixture
def workspace(make_course, concern, sign, make_lot):
    """Every workspace URL by name, for records the visitor may open (a session they logged
    today, so its correction and void pages are theirs)."""

    def build(user):
        course = make_course(planned_sessions=6)
        author = user or course.practitioner
        sign(course.client, "photographs")
        session = log_session(
            course=course,
            check_asked=True,
            practitioner=author,
            by=author,
            areas=[("cheeks", Decimal("1.50"))],
        )
        client_pk = {"pk": course.client_id}
        photo = add_photo(
            client=course.client,
            session=session,
            image_file=SimpleUploadedFile("p.png", PNG),
            area="cheeks",
            angle="front",
            by=author,
        )
        photo_pk = {"pk": photo.pk}
        event = record_adverse_event(
            session=session,
            by=author,
            kind="swelling",
            severity="mild",
            onset_on=session.performed_on,
        )
        serum = Product.objects.filter(kind=Product.Kind.SERUM).order_by("pk").first()
        serum.gtin = "09506000134352"
        serum.save(update_fields=["gtin"])
        lot = make_lot(serum, "ABC123")
        return {
            "today": reverse("today"),
            "consultations:client-list": reverse("consultations:client-list"),
            "consultations:client-create": reverse("consultations:client-create"),
            "treatments:client-detail": reverse("treatments:client-detail", kwargs=client_pk),
            "consultations:client-update": reverse("consultations:client-update", kwargs=client_pk),
            "consultations:consultation-create": reverse(
                "consultations:consultation-create", kwargs=client_pk
            ),
            "treatments:consultation-detail": course.consultation.get_absolute_url(),
            "treatments:course-create": reverse(
                "treatments:course-create", kwargs={"pk": course.consultation_id}
            ),
            "treatments:course-suggestion": reverse(
                "treatments:course-suggestion", kwargs={"pk": course.consultation_id}
            )
            + f"?concerns={course.course_concerns.get().recorded_concern_id}",
            "treatments:course-detail": course.get_absolute_url(),
            "treatments:course-end": reverse("treatments:course-end", kwargs={"pk": course.pk}),
            "treatments:course-complete": reverse(
                "treatments:course-complete", kwargs={"pk": course.pk}
            ),
            "treatments:course-stop": reverse("treatments:course-stop", kwargs={"pk": course.pk}),
            "treatments:session-create": reverse(
                "treatments:session-create", kwargs={"pk": course.pk}
            ),
            "treatments:session-update": reverse(
                "treatments:session-update", kwargs={"pk": session.pk}
            ),
            "treatments:session-void": reverse(
                "treatments:session-void", kwargs={"pk": session.pk}
            ),
            "treatments:appointment-create": reverse(
                "treatments:appointment-create", kwargs=client_pk
            ),
            "treatments:client-record": reverse("treatments:client-record", kwargs=client_pk),
            "catalogue:concern-list": reverse("catalogue:concern-list"),
            "catalogue:concern-detail": concern("acne-scars").get_absolute_url(),
            "treatments:photo-image": reverse("treatments:photo-image", kwargs=photo_pk),
            "treatments:photo-thumbnail": reverse("treatments:photo-thumbnail", kwargs=photo_pk),
            "treatments:client-photos": reverse("treatments:client-photos", kwargs=client_pk),
            "treatments:photo-compare": reverse("treatments:photo-compare", kwargs=client_pk)
            + "?area=cheeks&angle=front",
            "treatments:consultation-photo-create": reverse(
                "treatments:consultation-photo-create", kwargs={"pk": course.consultation_id}
            ),
            "treatments:adverse-event-create": reverse(
                "treatments:adverse-event-create", kwargs={"pk": session.pk}
            ),
            "treatments:adverse-event-update": event.get_absolute_url(),
            "treatments:follow-up-call": reverse(
                "treatments:follow-up-call", kwargs={"pk": session.pk}
            ),
            "stock:lot-list": reverse("stock:lot-list"),
            "stock:lot-receive": reverse("stock:lot-receive"),
            "stock:lot-status": reverse("stock:lot-status", kwargs={"pk": lot.pk}),
            # A GS1 element string: GTIN, expiry, lot.
            "stock:scan": reverse("stock:scan") + "?code=0109506000134352172912311" + "0ABC123",
        }

    return build


def open_page(browser, name, url):
    return browser.post(url, {}) if name in POST_TO_PAGE | POST_AND_BACK else browser.get(url)


def test_every_workspace_url_is_checked_for_every_role(workspace, practitioner):
    assert sorted(workspace(practitioner)) == WORKSPACE_URL_NAMES


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("name", WORKSPACE_URL_NAMES)
def test_each_role_on_each_workspace_page(visitor, workspace, name):
    browser, user = visitor
    url = workspace(user)[name]

    response = open_page(browser, name, url)

    if user is None:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(f"{reverse('login')}?next={url.split('?')[0]}")
    elif not user.groups.exists():
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "does not have the role this page needs" in text(response)
    elif name in MANAGERS_ONLY and not user.groups.filter(name=roles.MANAGER).exists():
        assert response.status_code == HTTPStatus.FORBIDDEN
    elif name in POST_AND_BACK:
        assert response.status_code == HTTPStatus.FOUND
    else:
        assert response.status_code == HTTPStatus.OK
    if user is not None and name not in POST_AND_BACK:
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_a_user_without_a_role_cannot_end_a_course(make_user, make_course, name):
    course = make_course()
    browser = DjangoClient()
    browser.force_login(make_user("nobody", role=None))
    action = name.removeprefix("treatments:course-")

    response = browser.post(
        reverse(name, kwargs={"pk": course.pk}),
        {f"{action}-ended_on": timezone.localdate().isoformat(), f"{action}-end_reason": "No."},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


def test_a_user_without_a_role_cannot_add_a_client(make_user):
    browser = DjangoClient()
    browser.force_login(make_user("nobody", role=None))

    response = browser.post(
        reverse("consultations:client-create"),
        {
            "first_name": "Nora",
            "last_name": "Quinn",
            "date_of_birth": "1990-02-03",
            "skin_type": "III",
        },
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Client.objects.exists()


def test_the_menu_offers_only_what_the_user_may_open(make_user):
    nobody, aesthetician, manager = DjangoClient(), DjangoClient(), DjangoClient()
    nobody.force_login(make_user("nobody", role=None))
    aesthetician.force_login(make_user("alex", role=roles.AESTHETICIAN))
    manager.force_login(make_user("maria", role=roles.MANAGER))
    menu_links = ['href="/"', 'href="/clients/"', 'href="/catalogue/"']
    admin_link = f'href="{reverse("admin:index")}"'

    refused = nobody.get(reverse("consultations:client-list")).content.decode()
    workspace = aesthetician.get(reverse("consultations:client-list")).content.decode()
    managers = manager.get(reverse("consultations:client-list")).content.decode()

    assert not any(link in refused for link in menu_links)
    assert 'action="/accounts/logout/"' in refused  # they can still sign out
    assert all(link in workspace for link in menu_links)
    assert admin_link not in workspace
    assert admin_link in managers


# Access events ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.AESTHETICIAN, roles.MANAGER])
def test_opening_a_client_page_records_who_opened_which_client_and_when(
    make_user, make_client, role
):
    person, other = make_client(), make_client()
    user = make_user("reader", role=role)
    browser = DjangoClient()
    browser.force_login(user)
    before = timezone.now()

    browser.get(person.get_absolute_url())
    browser.get(person.get_absolute_url())
    browser.get(reverse("consultations:client-list"))
    browser.get(reverse("consultations:client-update", kwargs={"pk": other.pk}))

    accesses = list(ClientAccess.objects.order_by("pk"))
    assert [(a.user, a.client, a.via) for a in accesses] == [
        (user, person, ClientAccess.Via.WORKSPACE),
        (user, person, ClientAccess.Via.WORKSPACE),
    ]
    assert all(before <= a.accessed_at <= timezone.now() for a in accesses)


def test_refused_or_missing_client_pages_record_no_access(make_user, make_client, client):
    person = make_client()
    nobody = DjangoClient()
    nobody.force_login(make_user("nobody", role=None))
    reader = DjangoClient()
    reader.force_login(make_user("reader"))

    assert client.get(person.get_absolute_url()).status_code == HTTPStatus.FOUND
    assert nobody.get(person.get_absolute_url()).status_code == HTTPStatus.FORBIDDEN
    assert reader.get("/clients/999999/").status_code == HTTPStatus.NOT_FOUND

    assert not ClientAccess.objects.exists()


# Escaping and CSRF ------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_text_typed_into_notes_is_shown_as_text_never_run(
    signed_in, make_client, make_consultation, make_course, log
):
    person = make_client(notes=f"Client note {SCRIPT}")
    consultation = make_consultation(
        person,
        concerns=(("acne-scars", "cheeks"),),
        notes=f"Consultation note {SCRIPT}",
    )
    recorded = consultation.concerns.get()
    recorded.notes = f"Concern note {SCRIPT}"
    recorded.save()
    course = make_course(consultation, notes=f"Course note {SCRIPT}")
    session = log(course, notes=f"Session note {SCRIPT}")

    pages = {
        "client": signed_in.get(person.get_absolute_url()),
        "client edit": signed_in.get(reverse("consultations:client-update", args=[person.pk])),
        "consultation": signed_in.get(consultation.get_absolute_url()),
        "course": signed_in.get(course.get_absolute_url()),
        "correction": signed_in.get(reverse("treatments:session-update", args=[session.pk])),
    }

    for name, response in pages.items():
        content = response.content.decode()
        assert response.status_code == HTTPStatus.OK, name
        assert SCRIPT not in content, name
        assert ESCAPED in content, name
    assert "Client note " + ESCAPED in pages["client"].content.decode()
    assert "Session note " + ESCAPED in pages["client"].content.decode()
    assert "Consultation note " + ESCAPED in pages["consultation"].content.decode()
    assert "Concern note " + ESCAPED in pages["consultation"].content.decode()
    assert "Session note " + ESCAPED in pages["course"].content.decode()


def test_a_post_without_the_csrf_token_is_refused(practitioner, make_client, make_course):
    person = make_client(first_name="Nora")
    course = make_course()
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.force_login(practitioner)
    form_page = browser.get(reverse("consultations:client-update", args=[person.pk]))
    assert 'name="csrfmiddlewaretoken"' in form_page.content.decode()

    edit = browser.post(
        reverse("consultations:client-update", args=[person.pk]),
        {
            "first_name": "Mallory",
            "last_name": "Example",
            "date_of_birth": "1985-05-17",
            "skin_type": "II",
        },
    )
    stop = browser.post(
        reverse("treatments:course-stop", args=[course.pk]),
        {"stop-ended_on": timezone.localdate().isoformat(), "stop-end_reason": "Forged."},
    )

    assert edit.status_code == stop.status_code == HTTPStatus.FORBIDDEN
    person.refresh_from_db()
    course.refresh_from_db()
    assert person.first_name == "Nora"
    assert course.status == Course.Status.ACTIVE


def test_a_post_with_the_csrf_token_goes_through(practitioner, make_client):
    person = make_client(first_name="Nora", date_of_birth=datetime.date(1985, 5, 17))
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.force_login(practitioner)
    browser.get(reverse("consultations:client-update", args=[person.pk]))

    response = browser.post(
        reverse("consultations:client-update", args=[person.pk]),
        {
            "first_name": "Nora",
            "last_name": "Changed",
            "date_of_birth": "1985-05-17",
            "skin_type": "II",
            "version": person.version,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    person.refresh_from_db()
    assert person.last_name == "Changed"
