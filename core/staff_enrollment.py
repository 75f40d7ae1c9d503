"""The e-mailed link with which staff who have no authenticator yet set one up (SEC-9).

A right password alone never registers an authenticator: a guessed or leaked password would let
an attacker register theirs and keep the account. The admin login, given a right password for
staff without TOTP, answers like any failure and e-mails this link; the session the link opens
is the only one allowed to set up TOTP for that account (core.staff_security). Password and
mailbox together, as for a password reset.
"""

from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth import get_user_model, login
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from core.emails import email_send, site_link
from core.roles import staff_has_totp
from core.services import event_record

SALT = "core.staff_enrollment"
MAX_AGE = 30 * 60  # seconds a link stays valid
SESSION_KEY = "staff_totp_enrollment"  # the session the link opened: the user's pk


def staff_enrollment_token(*, user) -> str:
    """Signed and timestamped; bound to the password and the last sign-in, so using it (which
    signs the user in) or changing the password spends it."""
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT)


def staff_enrollment_user(*, token: str):
    """The staff member whose valid, unspent link this is, or None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") is None:
        return None
    user = get_user_model().objects.filter(pk=data["u"], is_staff=True, is_active=True).first()
    if user is None or staff_has_totp(user):
        return None
    return user if constant_time_compare(str(data.get("s")), _state(user)) else None


def staff_enrollment_send(*, user_id: int) -> None:
    user = get_user_model().objects.get(pk=user_id)
    if not (user.email and user.is_staff and user.is_active) or staff_has_totp(user):
        return
    token = staff_enrollment_token(user=user)
    link = site_link(reverse("admin:staff_enrollment", args=[token]))
    context = {"user": user, "link": link, "minutes": MAX_AGE // 60}
    email_send(to=[user.email], template="staff_enrollment", context=context)


def staff_enrollment_begin(request, *, user) -> None:
    """Sign in from the link. The password was checked when the link was sent, so allauth's
    set-up page does not ask for it again (issue 12: the first sign-in asked twice)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_authentication(request, user, method="password", reauthenticated=True)
    request.session[SESSION_KEY] = user.pk
    event_record(verb="staff.enrollment_link_used", actor=user, target=user)


def staff_enrollment_allowed(request) -> bool:
    """May this session set up an authenticator for its staff user?"""
    return request.session.get(SESSION_KEY) == request.user.pk


def _state(user) -> str:
    last_login = user.last_login.isoformat() if user.last_login else ""
    digest = salted_hmac(SALT, f"{user.password}|{last_login}", algorithm="sha256")
    return digest.hexdigest()[:32]
