"""Staff security in front of the admin: MFA required (SEC-9), admin login throttled (SEC-6).

One middleware, placed after authentication, that looks only at paths under the admin.
"""

import hashlib
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# Like allauth's "login_failed" limits on the site login: per account and per address, in a
# window that expires (never a permanent lockout, no admin action needed to lift it).
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
WINDOW_SECONDS = 300


def staff_security(get_response):
    def middleware(request):
        admin_root = reverse("admin:index")
        if not request.path.startswith(admin_root):
            return get_response(request)
        if request.path == reverse("admin:login") and request.method == "POST":
            return _login_throttled(request, get_response)
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and request.path != reverse("admin:logout")
            and not staff_has_totp(user)
        ):
            # Never the admin: set up an authenticator first, then come back (SEC-9).
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('mfa_activate_totp')}?{query}")
        return get_response(request)

    return middleware


def staff_has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin login asks for the authenticator code too: a password alone never opens the
    admin for staff who have TOTP; staff who have none are sent to set it up (the middleware)."""

    otp = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        code = (self.cleaned_data.get("otp") or "").strip()
        if authenticator is not None and not (code and TOTP(authenticator).validate_code(code)):
            raise ValidationError(
                "Enter the current code from your authenticator app.", code="otp_invalid"
            )


def _login_throttled(request, get_response):
    keys = _failure_keys(request)
    limits = (FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS)
    counts = cache.get_many(keys)
    if any(counts.get(key, 0) >= limit for key, limit in zip(keys, limits, strict=True)):
        return HttpResponse(
            "Too many failed sign-in attempts. Try again in a few minutes.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    response = get_response(request)
    if not request.user.is_authenticated:  # the form came back: a failed attempt
        for key in keys:
            cache.add(key, 0, timeout=WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=WINDOW_SECONDS)
    return response


def _failure_keys(request) -> list[str]:
    """Counter keys for this window; hashed so no email address sits in the cache."""
    window = int(_now() // WINDOW_SECONDS)
    username = request.POST.get("username", "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    return [
        f"admin-login-failed:{window}:account:{_digest(username)}",
        f"admin-login-failed:{window}:address:{_digest(address)}",
    ]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _now() -> float:
    return time.time()
