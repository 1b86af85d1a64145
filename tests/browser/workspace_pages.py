"""Every workspace and report page, in one list: the tablet checks (test_tablet.py) open each one.

A new page is one line here: its name, its address built from the `records` the fixture makes
(tests/browser/test_tablet.py), and the role that opens it. Pages only managers see say
`role=MANAGER`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from clinic import roles

AESTHETICIAN = roles.AESTHETICIAN
MANAGER = roles.MANAGER


@dataclass(frozen=True)
class Page:
    name: str
    path: Callable[[object], str]
    role: str = AESTHETICIAN


PAGES = [
    Page("today", lambda r: "/"),
    Page("clients", lambda r: "/clients/"),
    Page("client search", lambda r: f"/clients/?q={r.client.last_name}"),
    Page("new client", lambda r: "/clients/new/"),
    Page("edit client", lambda r: f"/clients/{r.client.pk}/edit/"),
    Page("client", lambda r: f"/clients/{r.client.pk}/"),
    Page("client record", lambda r: f"/clients/{r.client.pk}/record/"),
    Page("book a visit", lambda r: f"/clients/{r.client.pk}/appointments/new/"),
    Page("sign consent", lambda r: f"/clients/{r.client.pk}/consent/photographs/sign/"),
    Page("consent version", lambda r: f"/consent/versions/{r.consent.document_version_id}/"),
    Page("withdraw consent", lambda r: f"/consents/{r.consent.pk}/withdraw/"),
    Page("new consultation", lambda r: f"/clients/{r.client.pk}/consultations/new/"),
    Page("consultation", lambda r: f"/consultations/{r.consultation.pk}/"),
    Page("not-suitable consultation", lambda r: f"/consultations/{r.not_suitable.pk}/"),
    Page("start course", lambda r: f"/consultations/{r.consultation.pk}/courses/new/"),
    Page(
        "start course, not suitable", lambda r: f"/consultations/{r.not_suitable.pk}/courses/new/"
    ),
    Page("course", lambda r: f"/courses/{r.course.pk}/"),
    Page("end course", lambda r: f"/courses/{r.course.pk}/end/"),
    Page("log session", lambda r: f"/courses/{r.course.pk}/sessions/new/"),
    Page("correct session", lambda r: f"/sessions/{r.session.pk}/edit/"),
    Page("void session", lambda r: f"/sessions/{r.session.pk}/void/"),
    Page("photos", lambda r: f"/clients/{r.client.pk}/photos/"),
    Page(
        "photo comparison",
        lambda r: f"/clients/{r.client.pk}/photos/compare/?area=cheeks&angle=front",
    ),
    Page("catalogue", lambda r: "/catalogue/"),
    Page("concern", lambda r: "/catalogue/acne-scars/"),
    Page("printout", lambda r: f"/courses/{r.course.pk}/print/"),
    Page("reports", lambda r: "/reports/", role=MANAGER),
    Page("client export", lambda r: f"/clients/{r.client.pk}/export/", role=MANAGER),
    Page("readable record", lambda r: f"/clients/{r.client.pk}/export/readable/", role=MANAGER),
    Page("recall", lambda r: "/reports/recall/", role=MANAGER),
    Page("outcomes", lambda r: "/reports/outcomes/", role=MANAGER),
    Page("activity", lambda r: "/reports/activity/", role=MANAGER),
    Page("lots", lambda r: "/reports/lots/", role=MANAGER),
    Page("lot search", lambda r: f"/reports/lots/?product={r.product.pk}&lot=LOT-1", role=MANAGER),
    Page("new adverse event", lambda r: f"/sessions/{r.session.pk}/adverse-events/new/"),
    Page("adverse event", lambda r: f"/adverse-events/{r.event.pk}/"),
    Page("stock", lambda r: "/stock/lots/", role=MANAGER),
    Page(
        "recalled lot",
        lambda r: f"/reports/lots/?product={r.product.pk}&lot={r.recalled.lot_number}",
        role=MANAGER,
    ),
]
