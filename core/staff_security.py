"""Staff security: the admin login (SEC-6, SEC-9) and who may set up a staff authenticator.

The admin login is one form that checks email, password and authenticator code together and
answers every failure with the same message, so it never tells whether a password was right
(issue 11 #1). It authenticates through allauth's adapter, so a failure counts in the same
per-account and per-address windows as the site login (core.ratelimit, "login_failed"),
whoever is signed in. A POST refused for its CSRF token never reaches the form and counts for
nobody.

Why not allauth's own login and MFA stage: it asks for the password first and for the code on a
second page only when the password was right, which is the oracle this form removes (and staff
are refused at the site login for that reason: volunteers.adapters).

Staff without an authenticator set one up only from an e-mailed link (core.staff_enrollment).
"""

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from core.ratelimit import login_failed_consume
from core.roles import staff_has_totp
from core.services import event_record
from core.staff_enrollment import staff_enrollment_allowed
from core.tasks import staff_enrollment_email

LOGIN_FAILED = (
    "Enter the email, password and authenticator code of a staff account. Staff who have not "
    "set up an authenticator yet: after a correct password we email you a link to do it."
)


def staff_security(get_response):
    """Staff without an authenticator reach the set-up pages only from the e-mailed link.

    The admin itself needs TOTP (ProBonoAdminSite.has_permission); this closes the other door:
    any other session of a staff account (signed in by an e-mail confirmation, or made staff
    while signed in) opening /accounts/2fa/ to register an attacker's authenticator.
    """

    def middleware(request):
        user = request.user
        if (
            request.path.startswith(reverse("mfa_index"))
            and user.is_authenticated
            and user.is_staff
            and not staff_has_totp(user)
            and not staff_enrollment_allowed(request)
        ):
            return redirect(reverse("admin:login"))
        return get_response(request)

    return middleware


class StaffAuthenticationForm(AdminAuthenticationForm):
    """Email, password and authenticator code, checked together; one message for any failure."""

    otp = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password") or ""
        code = (self.cleaned_data.get("otp") or "").strip()
        adapter = get_adapter(self.request)
        # Counts the attempt, or refuses it over the limit (code "too_many_login_attempts").
        user = adapter.authenticate(self.request, email=email, username=email, password=password)
        if user is not None and user.is_staff and user.is_active:
            if _code_valid(user, code):
                self.user_cache = user
                return self.cleaned_data
            if not staff_has_totp(user):
                # Sent after commit by the worker (REL-1); the page says the same as any failure.
                staff_enrollment_email.delay_on_commit(user.pk)
                event_record(verb="staff.enrollment_link_sent", target=user)
        if user is not None:
            # allauth took back the count for a right password: the attempt still failed, and
            # is audited like a wrong password (SEC-24).
            login_failed_consume(self.request, login=email)
            user_login_failed.send(sender=__name__, credentials={}, request=self.request)
        raise ValidationError(LOGIN_FAILED, code="invalid_login")


def _code_valid(user, code: str) -> bool:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return bool(authenticator and code and TOTP(authenticator).validate_code(code))
