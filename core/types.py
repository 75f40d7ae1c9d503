"""Types the apps share in annotations (nothing here runs at request time).

AUTH_USER_MODEL is Django's own ``User``, so a signed-in person is a ``User``.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

# ``request.user``: a signed-in user or the anonymous visitor.
type AnyUser = User | AnonymousUser
# Who a service acts for: a person, or None for the system (beat, the matching run, a command).
type Actor = User | AnonymousUser | None


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind ``login_required``: its ``user`` is signed in."""

    user: User
