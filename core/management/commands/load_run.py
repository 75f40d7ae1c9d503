"""Load run (REL-7): the site under a mix of attorneys, the public and coordinators.

Starts gunicorn (4 workers) and a Celery worker on loopback with production settings (DEBUG off)
against this database, and drives them with locust, headless, with the mix in
loadtest/locustfile.py: attorney sign-in, dashboard, offer view, attest and accept; the pledge
form and its post, the wall, totals.json; the coordinator's match review queue behind password +
TOTP. Prints requests, failures, median and 95th percentile per endpoint, then stops everything.

Uses the scale world's attorneys (`seed_scale --attorneys N --cases M --matches K` first; those
with open offers come first) and writes nothing but their sign-in details, a few coordinators of
the same domain, and what the visitors do (accepted offers, pledges). Not a test:

    python manage.py load_run [--users 50] [--seconds 180] [--workers 4] [--check]

`--check` fails on any failed request (the short run in CI); it never judges timings.
"""

import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.dashboard import dashboard_figures
from core.processes import database_url
from core.roles import coordinator_group_sync
from matching.models import Match
from matching.scale import SCALE_DOMAIN
from pledges.models import Pledge
from volunteers.models import AttorneyProfile, Organization

LOCUSTFILE = Path(settings.BASE_DIR) / "loadtest" / "locustfile.py"
GUNICORN_CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"
COORDINATORS = 5  # one account each, so no two sign in with the same TOTP code


class Command(BaseCommand):
    help = "REL-7 load run: gunicorn + Celery worker on loopback, locust headless; prints figures."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50, help="Concurrent visitors.")
        parser.add_argument("--seconds", type=int, default=180, help="Length of the run.")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers.")
        parser.add_argument("--check", action="store_true", help="Fail on any failed request.")

    def handle(self, *args, users: int, seconds: int, workers: int, check: bool, **options):
        if users < 1 or seconds < 1 or workers < 1:
            raise CommandError("--users, --seconds and --workers must be at least 1.")
        folder = Path(settings.VAR_DIR) / "load"
        folder.mkdir(parents=True, exist_ok=True)
        fixture = folder / "fixture.json"
        fixture.write_text(json.dumps(_prepare(attorneys=users)))
        fixture.chmod(0o600)
        port = _free_port()
        env = _server_env(fixture)
        _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env)
        # In production the beat task keeps the public figures fresh (core.dashboard); this run
        # starts no beat, so it computes them once, as the beat would, before the visitors come.
        dashboard_figures(refresh=True)
        load_before = os.getloadavg()
        with _serving(env, port, workers, folder):
            _run(_locust_command(port, users, seconds, folder), env, check_exit=False)
        rows = _figures(folder / "stats_stats.csv")
        self._print(rows, users, seconds, workers, load_before, os.getloadavg())
        failed = rows[-1]["failures"] if rows else None
        if check and failed != 0:
            failures = (folder / "stats_failures.csv").read_text() if rows else "no figures"
            raise CommandError(f"{failed} failed requests:\n{failures}")

    def _print(self, rows, users, seconds, workers, before, after):
        self.stdout.write(
            f"{users} users, {seconds} s, gunicorn {workers} workers; load average "
            f"{before[0]:.2f} before, {after[0]:.2f} / {after[1]:.2f} after (1 / 5 min)"
        )
        self.stdout.write(f"{'endpoint':<44}{'requests':>9}{'failures':>9}{'median':>8}{'p95':>7}")
        for row in rows:
            self.stdout.write(
                f"{row['name'][:43]:<44}{row['requests']:>9}{row['failures']:>9}"
                f"{row['median_ms']:>6}ms{row['p95_ms']:>5}ms"
            )


def _prepare(*, attorneys: int) -> dict:
    """Sign-in details for `attorneys` scale attorneys (those with open offers first) and for
    COORDINATORS coordinators with TOTP, all sharing one fresh password, hashed once."""
    password = secrets.token_urlsafe(24)
    hashed = make_password(password)
    emails = _attorney_accounts(attorneys, hashed)
    if not emails:
        raise CommandError("No scale attorneys: run `manage.py seed_scale` first.")
    coordinators = [_coordinator(i, hashed) for i in range(COORDINATORS)]
    today = timezone.localdate()
    pledge = {
        "organization_name": "Load Run Legal Aid",
        "organization_kind": Organization.Kind.NONPROFIT,
        "contact_name": "Load Run",
        "contact_email": f"pledges@{SCALE_DOMAIN}",
        "kind": Pledge.Kind.HOURS,
        "amount": "40",
        "period_start": today.isoformat(),
        "period_end": (today + timedelta(days=180)).isoformat(),
    }
    return {
        "password": password,
        "attorneys": emails,
        "coordinators": coordinators,
        "pledge": pledge,
    }


def _attorney_accounts(count: int, hashed: str) -> list[str]:
    scale = AttorneyProfile.objects.filter(
        user__email__endswith=f"@{SCALE_DOMAIN}",
        verification=AttorneyProfile.Verification.VERIFIED,
    )
    with_offers = scale.filter(
        matches__status=Match.Status.OFFERED, matches__expires_at__gt=timezone.now()
    )
    users = list(with_offers.values_list("user_id", flat=True).distinct()[:count])
    if len(users) < count:
        rest = scale.exclude(user_id__in=users).values_list("user_id", flat=True)
        users += list(rest[: count - len(users)])
    user_model = get_user_model()
    user_model.objects.filter(pk__in=users).update(password=hashed)
    accounts = list(user_model.objects.filter(pk__in=users).values_list("pk", "email"))
    # allauth signs in only verified addresses (mandatory verification).
    EmailAddress.objects.filter(user_id__in=users).delete()
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=pk, email=email, verified=True, primary=True) for pk, email in accounts
    )
    return [email for _, email in accounts]


def _coordinator(number: int, hashed: str) -> dict:
    username = f"load-coordinator-{number}@{SCALE_DOMAIN}"
    user, _ = get_user_model().objects.update_or_create(
        username=username, defaults={"email": username, "is_staff": True, "password": hashed}
    )
    user.groups.add(coordinator_group_sync())
    EmailAddress.objects.update_or_create(
        user=user, email=username, defaults={"verified": True, "primary": True}
    )
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return {"username": username, "totp_secret": secret}


def _server_env(fixture: Path) -> dict[str, str]:
    """Production settings on loopback. The database, broker, cache and encryption keys are
    this process's own; the secret key is new for the run."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        # Mail stays in the worker's memory: nothing leaves the machine.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # As behind one TLS proxy: the visitors send X-Forwarded-Proto and X-Forwarded-For
        # (each its own documentation-range address), so rate limits count each visitor apart.
        "TRUSTED_PROXY_COUNT": "1",
        "LOAD_FIXTURE": str(fixture),
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def _serving(env: dict[str, str], port: int, workers: int, folder: Path):
    python = sys.executable
    # No control socket: its default path is per machine, shared with any other gunicorn.
    # The production settings (gunicorn.conf.py: threaded workers), with this run's worker count.
    web = [python, "-m", "gunicorn", "config.wsgi", "--config", str(GUNICORN_CONF),
           "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--no-control-socket"]  # fmt: skip
    worker = [python, "-m", "celery", "-A", "config", "worker", "--concurrency=1",
              "--without-gossip", "--without-mingle", "--loglevel=WARNING"]  # fmt: skip
    with ExitStack() as stack:
        stack.enter_context(_process(web, env, folder / "gunicorn.log"))
        stack.enter_context(_process(worker, env, folder / "worker.log"))
        _wait_until_up(port)
        _warm_up(port)
        yield


@contextmanager
def _process(command: list[str], env: dict[str, str], log_path: Path):
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(port: int, timeout: float = 90) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


# Pages every visitor kind opens first; each thread of each worker should have served them once.
WARM_UP_PATHS = ("/", "/accounts/login/", "/pledges/new/", "/pledges/", "/pledges/totals.json")
WARM_UP_ROUNDS = 32  # requests per path, about twice the threads of 4 workers x 4 threads


def _warm_up(port: int) -> None:
    """As a deployment's health checks do before traffic is sent: every worker thread opens its
    database connection and compiles the first templates, so the figures are the site's
    steady state, not its first seconds after a start."""
    requests = [
        urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"},
        )
        for path in WARM_UP_PATHS
        for _ in range(WARM_UP_ROUNDS)
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(_fetch, requests))


def _fetch(request: urllib.request.Request) -> int:
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.status


def _locust_command(port: int, users: int, seconds: int, folder: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(users), "--spawn-rate", str(max(1, users // 5)),
        "--run-time", f"{seconds}s", "--stop-timeout", "10",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(folder / "stats"),
        "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip


def _run(command: list[str], env: dict[str, str], *, check_exit: bool = True) -> None:
    done = subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=False)  # noqa: S603
    if check_exit and done.returncode != 0:
        raise CommandError(f"{' '.join(command[:4])} exited with {done.returncode}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _figures(path: Path) -> list[dict]:
    """Locust's per-endpoint CSV, the "Aggregated" row last."""
    if not path.exists():
        return []
    with path.open() as stats:
        return [
            {
                "name": f"{row['Type']} {row['Name']}".strip(),
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median_ms": _ms(row["50%"]),
                "p95_ms": _ms(row["95%"]),
            }
            for row in csv.DictReader(stats)
        ]


def _ms(value: str) -> int:
    """A percentile cell: milliseconds, or "N/A" for an endpoint that saw no request."""
    try:
        return int(float(value))
    except ValueError:
        return 0
