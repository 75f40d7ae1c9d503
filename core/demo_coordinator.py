"""The demo coordinator account of `make run`: its password, kept where `make run` can show it.

`seed_demo` creates the account once and remembers the generated password in a git-ignored file
under VAR_DIR (readable by its owner only), so every `make run` can print it in a banner right
before it serves; `manage.py demo_coordinator --reset-password` makes a new one. Demo only: the
command refuses to run with DEBUG off.
"""

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from core.demo import DEMO_DOMAIN
from core.services import event_record

COORDINATOR_EMAIL = f"coordinator@{DEMO_DOMAIN}"


# The file under VAR_DIR that remembers the coordinator's generated password for the banner.
COORDINATOR_FILE = "demo-coordinator-password"


def _password_file(name: str) -> Path:
    return Path(settings.VAR_DIR) / name


def password_remember(password: str, *, name: str = COORDINATOR_FILE) -> None:
    path = _password_file(name)
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_text(password)


def password_recalled(user, *, name: str = COORDINATOR_FILE) -> str | None:
    """The remembered password if it still signs this user in (None once changed elsewhere)."""
    try:
        password = _password_file(name).read_text().strip()
    except OSError:
        return None
    return password if password and user.check_password(password) else None


def demo_coordinator_get():
    return get_user_model().objects.filter(username=COORDINATOR_EMAIL).first()


@transaction.atomic
def demo_coordinator_password_reset(*, user) -> str:
    """A new random password for the demo coordinator, remembered for the next banner."""
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save(update_fields=["password"])
    event_record(verb="user.password_reset", actor=None, target=user, data={"demo": True})
    transaction.on_commit(lambda: password_remember(password))
    return password


def banner(
    *,
    email: str,
    password: str | None,
    site_url: str,
    volunteers: Sequence[tuple[str, str]] = (),
    volunteer_password: str | None = None,
) -> str:
    """The sign-in banner: the coordinator, and the demo volunteers who can sign in to walk the
    attorney's and the interpreter's journey ((role, email) pairs, core.demo_volunteers)."""
    site = site_url.rstrip("/")
    changed = "(changed since it was generated; reset it with the command below)"
    lines = [
        f"Pro Bono Match is serving at {site}/",
        f"Back office: {site}/admin/",
        f"  demo coordinator  {email}",
        f"  password          {password or changed}",
        # Staff need an authenticator (core.staff_security): the first sign-in emails a link.
        "  first sign-in     leave the authenticator code empty: the link to set one up is",
        "                    emailed, and the worker prints it here, as it prints every email",
    ]
    if volunteers:
        width = max(len(role) for role, _ in volunteers)
        lines += [
            f"Volunteers: {site}/accounts/login/ (one password for all of them)",
            *(f"  {role:<{width}}  {address}" for role, address in volunteers),
            f"  {'password':<{width}}  {volunteer_password or changed}",
        ]
    lines.append("New passwords: .venv/bin/python manage.py demo_coordinator --reset-password")
    rule = "=" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])
