"""Demo volunteers who can sign in under `make run`, to walk the attorney's and the
interpreter's journey: an attorney with an offer waiting, one with an accepted case, and an
interpreter with a team offer (with that team's attorney).

The other demo volunteers keep unusable passwords. These few share one random password,
generated when seed_demo first runs with DEBUG on, remembered beside the coordinator's (a
git-ignored file under VAR_DIR, owner-only) and printed in the same banner. With DEBUG off,
seed_demo enables nobody and the banner command refuses to run: no demo volunteer can sign in
on a production database, even one seeded by mistake.

The offers they need are made through the matching services, by the demo coordinator.
"""

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import User
from django.db import transaction

from core.demo import DEMO_DOMAIN
from core.demo_coordinator import COORDINATOR_EMAIL, password_recalled, password_remember
from core.services import event_record
from interpreters.models import InterpreterProfile, TeamInterpreter
from matching.models import Match
from matching.services import MatchError, match_approve, match_offer

# The file under VAR_DIR that remembers their shared generated password for the banner.
VOLUNTEERS_FILE = "demo-volunteer-password"


def demo_volunteers_enable(*, coordinator: User) -> str | None:
    """Once, and with DEBUG on only: choose the volunteers, make the offers they need, give
    them one new password and verified e-mail addresses. Returns the password, or None when
    nothing was done (DEBUG off, already enabled, or no one to choose in a tiny world)."""
    if not settings.DEBUG or _enabled().exists():
        return None
    users = _chosen(coordinator)
    if not users:
        return None
    return _password_give(users)


def demo_volunteers() -> list[tuple[str, str]]:
    """(role, e-mail) of the demo volunteers who can sign in, their role as it stands now."""
    offered = set(
        Match.objects.filter(status=Match.Status.OFFERED).values_list("attorney__user", flat=True)
    )
    accepted = set(
        Match.objects.filter(status=Match.Status.ACCEPTED).values_list("attorney__user", flat=True)
    )
    interpreters = set(InterpreterProfile.objects.values_list("user", flat=True))
    rows = []
    for user in _enabled().order_by("pk"):
        role = "attorney"
        if user.pk in interpreters:
            role = "interpreter"
        elif user.pk in offered:
            role = "attorney, offer waiting"
        elif user.pk in accepted:
            role = "attorney, accepted case"
        rows.append((role, user.email))
    return rows


def demo_volunteers_password() -> str | None:
    """The remembered password, if it still signs the first of them in."""
    first = _enabled().order_by("pk").first()
    return password_recalled(first, name=VOLUNTEERS_FILE) if first is not None else None


@transaction.atomic
def demo_volunteers_password_reset() -> str | None:
    users = list(_enabled())
    return _password_give(users) if users else None


def _enabled():
    """The demo volunteers with a usable password (seed_demo gives the others unusable ones)."""
    return (
        get_user_model()
        .objects.filter(email__endswith="@" + DEMO_DOMAIN)
        .exclude(username=COORDINATOR_EMAIL)
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    )


def _chosen(coordinator: User) -> list[User]:
    """An attorney's request offered to them, an accepted case's attorney, and a team offered
    to its interpreter and attorney: each the first one seed_demo made, offered here."""
    users: list[User] = []
    request = _first_proposal(source=Match.Source.ATTORNEY, team=False)
    if request is not None and _offered(request, coordinator):
        users.append(request.attorney.user)
    accepted = _demo_matches().filter(status=Match.Status.ACCEPTED).order_by("pk").first()
    if accepted is not None:
        users.append(accepted.attorney.user)
    team = _first_proposal(team=True)
    if team is not None and _offered(team, coordinator):
        live = TeamInterpreter.objects.select_related("interpreter__user").get(
            match=team, status__in=TeamInterpreter.LIVE_STATUSES
        )
        users += [live.interpreter.user, team.attorney.user]
    return list({user.pk: user for user in users}.values())


def _demo_matches():
    return Match.objects.select_related("attorney__user").filter(
        attorney__user__email__endswith="@" + DEMO_DOMAIN
    )


def _first_proposal(*, team: bool, source: str | None = None) -> Match | None:
    """The first such match still open to offer (proposed, approved, or offered already under
    MATCHING_AUTO_APPROVE)."""
    matches = _demo_matches().filter(
        status__in=(Match.Status.PROPOSED, Match.Status.APPROVED, Match.Status.OFFERED),
        team_interpreters__isnull=not team,
    )
    if source is not None:
        matches = matches.filter(source=source)
    return matches.order_by("pk").first()


def _offered(match: Match, coordinator: User) -> bool:
    try:
        if match.status == Match.Status.PROPOSED:
            match = match_approve(match=match, actor=coordinator)
        if match.status == Match.Status.APPROVED:
            match_offer(match=match, actor=coordinator)
    except MatchError:
        return False
    return True


def _password_give(users: list[User]) -> str:
    password = secrets.token_urlsafe(12)
    for user in users:
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    event_record(verb="demo.volunteers_enabled", actor=None,
                 data={"users": [user.pk for user in users]})  # fmt: skip
    transaction.on_commit(lambda: password_remember(password, name=VOLUNTEERS_FILE))
    return password
