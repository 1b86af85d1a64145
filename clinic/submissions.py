"""One write per submission: a create form posted twice (a double click, a resend, a retry after
a timeout) saves once, and the second post shows what the first one saved.

Each create form carries a one-time key, drawn when its page is shown (`{% submission_key form %}`
from clinic/templatetags/submissions.py). The view saves a `Submission` with that key in the
transaction of what it creates. The key is unique, so a second post with it cannot save again,
whether it comes after the first or at the same moment (PostgreSQL makes the second insert wait
for the first transaction, then refuses it; SQLite runs one writing transaction at a time): its
transaction fails on the key and is rolled back whole, and the user is sent where the first post
went, told it was already saved. A post the view refuses (the course it logs on is complete now,
a course already runs from that consultation...) is looked up by its key too, so a repeat never
shows a refusal that the first post's own success caused.

A post without a key (a page shown before this release, or a script) saves as it always did.
"""

import uuid
from contextlib import nullcontext

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone

from clinic.models import Submission

FIELD_NAME = "submission_key"
ALREADY_SAVED = "This was already saved at {at:%H:%M}: the form was sent twice and saved once."
FOREIGN_KEY = (
    "This form was already sent from another account: open the page again to start afresh."
)


def posted_key(data):
    """The one-time key in posted `data` (a QueryDict), or None when there is none or it is not a
    key this application draws."""
    try:
        return uuid.UUID(data.get(FIELD_NAME, ""))
    except (AttributeError, TypeError, ValueError):
        return None


def new_key():
    return uuid.uuid4()


class NewMessages:
    """The messages a view adds from now on, read without marking any as shown.

    Django's message storage counts as read once iterated unless `used` is set back to False
    (documented under "Expiration of messages").
    """

    def __init__(self, request):
        self.storage = messages.get_messages(request)
        self.before = len(self.read())

    def read(self):
        found = list(self.storage)
        self.storage.used = False
        return found

    def since(self):
        return self.read()[self.before :]

    def discard(self):
        """Drop every pending message: what a rolled-back attempt said must not be shown."""
        list(self.storage)  # iterated and left `used`: nothing pending is stored again


def saved(response, added):
    """A post saved what it was for: it redirects, and says nothing went wrong."""
    return isinstance(response, HttpResponseRedirect) and not any(
        message.level >= messages.ERROR for message in added
    )


class SubmitOnceMixin:
    """For a create view: a post repeating one already saved (same one-time key) writes nothing
    and sends the user where the first one went, with what it said.

    By default the whole post runs in one transaction here, and a post that answers with a
    redirect and no error message counts as saved. A view that runs its own transaction sets
    `submission_in_view_transaction` and returns `self.submitted(response)` from inside it.
    """

    submission_in_view_transaction = False
    submission_key = None
    submission_saved = False

    def dispatch(self, request, *args, **kwargs):
        # Around the view's post, from a signed-in user (a signed-out one is sent to sign in).
        if request.method == "POST" and request.user.is_authenticated:
            self.submission_key = posted_key(request.POST)
        if self.submission_key is None:
            return super().dispatch(request, *args, **kwargs)
        self.submission_messages = NewMessages(request)
        own = self.submission_in_view_transaction
        try:
            with nullcontext() if own else transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if not own and saved(response, self.submission_messages.since()):
                    self.submitted(response)
        except IntegrityError:
            # The key was saved meanwhile (or something else broke: then it is raised again).
            earlier = self.earlier_submission()
            if earlier is None:
                raise
            return self.replay(earlier)
        if not self.submission_saved:
            earlier = self.earlier_submission()
            if earlier is not None:
                return self.replay(earlier)
        return response

    def submitted(self, response):
        """Save the key with `response`, the redirect to what this post saved, in the save's
        transaction. Fails (IntegrityError) when the key was used: the save is rolled back."""
        if self.submission_key is not None:
            said = self.submission_messages.since()
            Submission.objects.create(
                key=self.submission_key,
                user=self.request.user,
                url=response["Location"],
                summary=" ".join(str(m) for m in said if m.level == messages.SUCCESS),
            )
            self.submission_saved = True
        return response

    def earlier_submission(self):
        return Submission.objects.filter(key=self.submission_key).first()

    def replay(self, earlier):
        """Where the first post went, saying it was saved then (and what it said)."""
        if earlier.user_id != self.request.user.pk:
            return HttpResponseBadRequest(FOREIGN_KEY, content_type="text/plain; charset=utf-8")
        self.submission_messages.discard()
        said = ALREADY_SAVED.format(at=timezone.localtime(earlier.created_at))
        messages.success(self.request, f"{earlier.summary} {said}".strip())
        return redirect(earlier.url)
