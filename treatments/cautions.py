"""Cautions as a page shows them: each once, grouped, and those already weighed collapsed.

A consultation's cautions come from its screening (the client's answers: pigment risk, keloid
tendency, a washout) and from the catalogue (each concern's own cautions). The same words used to
appear three or four times on a page; warning fatigue then hides the one that matters. So a page
asks `cautions_for()` once and draws includes/cautions.html.

A course started from the consultation is where the practitioner weighs them: the start form
shows them all and, when the screening found any, asks for the tick "I have weighed these
cautions with the client". Once a course has started that way they are acknowledged: shown on one
line, "acknowledged by X on date", with the list a tap away. Contraindications are not cautions:
they stay in full, in red, on every page that shows them.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Acknowledgement:
    by: str
    on: object  # a datetime


@dataclass
class Cautions:
    screening: list = field(default_factory=list)
    concerns: list = field(default_factory=list)
    acknowledged: Acknowledgement | None = None

    def __bool__(self):
        return bool(self.screening or self.concerns)

    def __len__(self):
        return len(self.screening) + len(self.concerns)


def _staff_name(user):
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def acknowledgement(courses, *, ticked=True):
    """Who weighed the cautions, and when: the first of `courses` (from one consultation, with
    `created_by` loaded) started with them acknowledged (`ticked`: with the tick the screening's
    cautions ask for; otherwise any course, whose start form showed them); None when none was."""
    started = sorted(
        (course for course in courses if course.cautions_acknowledged or not ticked),
        key=lambda course: course.created_at,
    )
    if not started:
        return None
    first = started[0]
    return Acknowledgement(by=_staff_name(first.created_by), on=first.created_at)


def cautions_for(*, assessment, recorded_concerns=(), courses=()):
    """The cautions of a consultation's `assessment` and of its `recorded_concerns` (with their
    concerns loaded), each text once in the order found; acknowledged when one of `courses`
    started with them weighed.

    A concern's cautions are listed under its name, once however many areas it was recorded
    for; screening text the concern would repeat word for word is left out of its entry.
    """
    screening = list(dict.fromkeys(assessment.cautions)) if assessment else []
    concerns, seen = [], set(screening)
    for rc in recorded_concerns:
        concern = rc.concern
        text = (concern.cautions or "").strip()
        if text and text not in seen:
            seen.add(text)
            concerns.append((concern.name, text))
    return Cautions(
        screening=screening,
        concerns=concerns,
        acknowledged=acknowledgement(courses, ticked=bool(screening)),
    )
