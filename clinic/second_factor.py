"""A second factor at sign-in (django-otp): a time-based code from an authenticator app, or a
one-time recovery code.

- Required for managers and anyone with admin access (staff, superusers): a manager without a
  confirmed authenticator is sent to enrolment before any other page; available to
  aestheticians, who are then asked for a code at every sign-in too.
- At sign-in the session notes which applies (SESSION_KEY: "verify" or "enrol"), so pages read
  no more than the session they already read; django_otp.login marks it verified.
- Wrong codes are failed sign-ins of that user: the sign-in log, django-axes' lock per username
  and the address throttle (clinic.signin) all count them, and django-otp slows guessing on the
  device itself.
- Recovery codes (django-otp's static device) are shown once, when made; each works once.
- A manager can reset another user's second factor (the staff admin's action, recorded in the
  admin's log); that user enrols again at their next sign-in.
"""

import logging
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from clinic import roles
from clinic.middleware import DATABASE_ERRORS, answer_database_unavailable

logger = logging.getLogger("clinic.auth")

SESSION_KEY = "clinic_second_factor"
PENDING_KEY = "clinic_second_factor_pending"
VERIFY, ENROL, NOTHING = "verify", "enrol", "none"
RECOVERY_CODES = 10
ISSUER = "Clinic tracker"


def required_for(user):
    """Whether `user` must have a second factor: managers and anyone with admin access."""
    return user.is_staff or user.is_superuser or user.groups.filter(name=roles.MANAGER).exists()


def has_device(user):
    return any(devices_for_user(user, confirmed=True))


def state_at_sign_in(user):
    """What a new session of `user` must do before any page: VERIFY, ENROL, or NOTHING."""
    if has_device(user):
        return VERIFY
    return ENROL if required_for(user) else NOTHING


def is_verified(request):
    """Whether this session passed its second factor (django_otp.login marked it)."""
    return DEVICE_ID_SESSION_KEY in request.session


def note_at_sign_in(request, user):
    """Called at every sign-in (clinic.signals): what this session must do first."""
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[SESSION_KEY] = state_at_sign_in(user)


def pending(request):
    """The step the signed-in session still owes (VERIFY or ENROL), or None.

    A session from before the second factor existed (signed in before an upgrade) is asked
    once, on its next request, as a sign-in would have been."""
    if not request.user.is_authenticated or is_verified(request):
        return None
    if SESSION_KEY not in request.session:
        note_at_sign_in(request, request.user)
    step = request.session[SESSION_KEY]
    return step if step in (VERIFY, ENROL) else None


class SecondFactorMiddleware:
    """A signed-in session that owes its second factor sees only that step's page (and can sign
    out); every other address sends it there, coming back afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            step = pending(request)  # reads the session
        except DATABASE_ERRORS as error:
            return answer_database_unavailable(request, error)
        if step and not self.open_to(request.path):
            target = reverse("second-factor-verify" if step == VERIFY else "second-factor-enrol")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def open_to(path):
        return path in {
            reverse("second-factor-verify"),
            reverse("second-factor-enrol"),
            reverse("logout"),
            reverse("admin:logout"),
            reverse("security-txt"),
        }


def next_page(request):
    back = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def count_wrong_code(request, user):
    """A wrong code is a failed sign-in of that user (sign-in log, username lock, address
    throttle), as a wrong password is."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


def locked_out(request):
    """The lockout page, the session signed out: the same as a locked sign-in."""
    username = request.user.get_username()
    logout(request)
    context = {
        "username": username,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
    }
    return TemplateResponse(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


def is_locked(request):
    return AxesProxyHandler.is_locked(request, {"username": request.user.get_username()})


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code your authenticator app shows now, or one recovery code.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": "Type the code your authenticator app shows."},
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


class LockedFormView(LoginRequiredMixin, FormView):
    """A code form whose wrong codes count towards the sign-in lock."""

    form_class = CodeForm
    wrong_code = "That code is not right, or has been used. Try the code shown now."

    def post(self, request, *args, **kwargs):
        if is_locked(request):
            return locked_out(request)
        return super().post(request, *args, **kwargs)

    def refuse(self, form):
        count_wrong_code(self.request, self.request.user)
        if is_locked(self.request):
            return locked_out(self.request)
        form.add_error("code", self.wrong_code)
        return self.form_invalid(form)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": next_page(self.request)}


class VerifyView(LockedFormView):
    """After the password: the code from the authenticator app, or a recovery code."""

    template_name = "registration/second_factor_verify.html"

    def get(self, request, *args, **kwargs):
        if pending(request) != VERIFY:
            return redirect(next_page(request))
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        user = self.request.user
        for device in devices_for_user(user, confirmed=True):
            with transaction.atomic():
                if device.verify_token(form.cleaned_data["code"]):
                    otp_login(self.request, device)
                    if isinstance(device, StaticDevice):
                        left = device.token_set.count()
                        messages.warning(
                            self.request,
                            f"You signed in with a recovery code: {left} left. When few are "
                            "left, ask a manager to reset your second factor and enrol again.",
                        )
                    logger.info(
                        "second factor passed: username=%s device=%s",
                        user.get_username(),
                        type(device).__name__,
                    )
                    return redirect(next_page(self.request))
        return self.refuse(form)


class EnrolView(LockedFormView):
    """Set up an authenticator app: scan the code (or type the key), confirm with a code; the
    recovery codes are then shown once."""

    template_name = "registration/second_factor_enrol.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and has_device(request.user):
            if pending(request) == VERIFY:
                return redirect(reverse("second-factor-verify"))
            messages.info(
                request,
                "Your second factor is set up. To replace it (a new phone), ask a manager to "
                "reset it; you then set it up again at your next sign-in.",
            )
            return redirect(next_page(request))
        return super().dispatch(request, *args, **kwargs)

    def key(self):
        if PENDING_KEY not in self.request.session:
            self.request.session[PENDING_KEY] = random_hex(20)
        return self.request.session[PENDING_KEY]

    def get_context_data(self, **kwargs):
        secret = b32encode(unhexlify(self.key())).decode()
        label = quote(f"{ISSUER}:{self.request.user.get_username()}")
        uri = "otpauth://totp/{}?{}".format(
            label, urlencode({"secret": secret, "issuer": ISSUER, "digits": 6, "period": 30})
        )
        return {
            **super().get_context_data(**kwargs),
            "qr_code": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
            "secret": " ".join(secret[n : n + 4] for n in range(0, len(secret), 4)),
            "required": required_for(self.request.user),
        }

    def form_valid(self, form):
        key = self.key()
        code = form.cleaned_data["code"]
        if not (code.isdigit() and TOTP(unhexlify(key)).verify(int(code), tolerance=1)):
            return self.refuse(form)
        user = self.request.user
        with transaction.atomic():
            device = TOTPDevice.objects.create(
                user=user, name="Authenticator app", key=key, confirmed=True
            )
            codes = make_recovery_codes(user)
        del self.request.session[PENDING_KEY]
        otp_login(self.request, device)
        logger.info("second factor enrolled: username=%s", user.get_username())
        return TemplateResponse(
            self.request,
            "registration/second_factor_codes.html",
            {"codes": codes, "next": next_page(self.request)},
        )


def make_recovery_codes(user):
    """A new set of recovery codes (the old ones stop working); returned to be shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def reset_devices(user):
    """Remove `user`'s authenticator and recovery codes: they enrol again at next sign-in.
    Returns how many devices were removed."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    return removed
