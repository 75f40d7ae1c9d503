"""allauth glue: how attorneys' accounts are named, shown and greeted, where they land after
signing in, and which address and account the sign-in rate limits count (core.ratelimit)."""

import secrets
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core import signing
from django.urls import reverse

from core.emails import site_link
from core.ratelimit import (
    client_ip,
    login_failed_consume,
    login_failure_key,
    rate_limit_clear,
    rate_limit_release,
)

SITE_NAME = "Pro Bono Match"


def user_display(user) -> str:
    """How pages and emails name a person (ACCOUNT_USER_DISPLAY): never the internal username,
    which is a random handle (`attorney-…`) that means nothing to them."""
    return user.get_full_name() or user.email or "your account"


class AccountAdapter(DefaultAccountAdapter):
    def populate_username(self, request, user) -> None:
        # A random handle, never the email: the username is copied into the append-only event
        # log as the actor's label, and must not keep an address there after deletion (SEC-25).
        user.username = f"attorney-{secrets.token_hex(8)}"

    def get_login_redirect_url(self, request) -> str:
        """Partner staff to intake, attorneys to their page (staff sign in at the admin)."""
        user = request.user
        if user.is_staff:
            return reverse("admin:index")
        if hasattr(user, "partner_membership"):
            return reverse("cases:list")
        return reverse("volunteers:dashboard")

    def get_client_ip(self, request) -> str:
        return client_ip(request)

    def pre_authenticate(self, request, **credentials) -> None:
        """Count the attempt in core.ratelimit's "login_failed" windows (per address and per
        account, shared with the admin login), or refuse it over the limit (SEC-6)."""
        self._login_attempt = login_failed_consume(request, login=_login(credentials))
        if not self._login_attempt.allowed:
            raise self.validation_error("too_many_login_attempts")

    def _rollback_login_failed_rl_usage(self) -> None:
        # allauth calls this after a right password: that attempt was no failure.
        attempt = getattr(self, "_login_attempt", None)
        if attempt is not None:
            rate_limit_release(attempt)

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # After a password reset through the e-mailed link: the account's windows start over.
        rates = settings.ACCOUNT_RATE_LIMITS["login_failed"]
        key = login_failure_key(_login(credentials))
        rate_limit_clear(request, action="login_failed", rates=rates, key=key)

    def authenticate(self, request, **credentials):
        """Staff sign in only at the admin login, which checks password and code together: here
        a right staff password would open allauth's code page, telling it was right."""
        user = super().authenticate(request, **credentials)
        if user is not None and user.is_staff and request.path == reverse("account_login"):
            login_failed_consume(request, login=_login(credentials))
            user_login_failed.send(sender=__name__, credentials={}, request=request)
            return None
        return user

    def send_mail(self, template_prefix, email, context) -> None:
        """Every link in allauth's e-mails starts at SITE_URL, never at the request's Host and
        port, which the client chooses (issue 11 #13); the site is named Pro Bono Match."""
        request = allauth_context.request
        origin = request.build_absolute_uri("/") if request is not None else None
        links = {
            key: site_link(value[len(origin) - 1 :])
            for key, value in context.items()
            if origin and isinstance(value, str) and value.startswith(origin)
        }
        site = SimpleNamespace(name="Pro Bono Match", domain=urlsplit(settings.SITE_URL).netloc)
        ours = {
            "site_name": SITE_NAME,
            "site_url": settings.SITE_URL,
            "support_email": settings.SUPPORT_EMAIL,
        }
        super().send_mail(
            template_prefix, email, {"current_site": site, **context, **links, **ours}
        )


def verification_email_resend(request, email: str) -> None:
    """Send the sign-up confirmation link again (the verification page's button).

    allauth's own sender does it, under its per-address limit (ACCOUNT_RATE_LIMITS
    "confirm_email"). An address that is unknown or already confirmed goes through the same
    call with nothing sent, so the page answers every address alike (SEC-7).
    """
    from allauth.account.internal.flows.email_verification import (
        send_verification_email_to_address,
    )
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(email__iexact=email, verified=False).first()
    send_verification_email_to_address(
        request, address or EmailAddress(email=email), skip_enumeration_mails=True
    )


def email_confirmed_by_link(key: str) -> bool:
    """Whether a confirmation link's address is confirmed already. allauth's key is the
    address's signed id (EmailConfirmationHMAC), and allauth refuses it once the address is
    verified, as it does a forged or expired one; the signature tells them apart. An expired
    link of a confirmed address is still one: its age does not matter here."""
    from allauth.account import app_settings as account_settings
    from allauth.account.models import EmailAddress

    if not account_settings.EMAIL_CONFIRMATION_HMAC:
        return False  # stored keys: allauth finds a confirmed address's key itself
    try:
        pk = signing.loads(key, salt=account_settings.SALT)
    except signing.BadSignature:
        return False
    return isinstance(pk, int) and EmailAddress.objects.filter(pk=pk, verified=True).exists()


def _login(credentials: dict) -> str:
    # Not allauth's key, which starts with the request's Host (port included), which a client
    # chooses: one account, one counter (SEC-6).
    return credentials.get("email", credentials.get("username", ""))
