"""allauth glue: how attorneys' accounts are named and where they land after signing in."""

import secrets

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def populate_username(self, request, user) -> None:
        # A random handle, never the email: the username is copied into the append-only event
        # log as the actor's label, and must not keep an address there after deletion (SEC-25).
        user.username = f"attorney-{secrets.token_hex(8)}"

    def get_login_redirect_url(self, request) -> str:
        """Coordinators to the back office, partner staff to intake, attorneys to their page."""
        user = request.user
        if user.is_staff:
            return reverse("admin:index")
        if hasattr(user, "partner_membership"):
            return reverse("cases:list")
        return reverse("volunteers:dashboard")
