import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.demo_coordinator import (
    COORDINATOR_EMAIL,
    banner,
    demo_coordinator_get,
    demo_coordinator_password_reset,
    password_recalled,
)
from core.demo_volunteers import (
    demo_volunteers,
    demo_volunteers_password,
    demo_volunteers_password_reset,
)


class Command(BaseCommand):
    help = (
        "Print the demo coordinator's and demo volunteers' sign-in (make run does, right before it"
        " serves); --reset-password gives them new passwords. DEBUG only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-password", action="store_true", help="set and print a new password"
        )
        parser.add_argument(
            "--when-serving",
            action="store_true",
            help="wait until SITE_URL answers /healthz (at most a minute), then print",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo coordinator exists for DEBUG=1 (make run) only.")
        user = demo_coordinator_get()
        if user is None:
            raise CommandError("No demo coordinator yet: run `manage.py seed_demo` first.")
        if options["reset_password"]:
            password = demo_coordinator_password_reset(user=user)
            volunteer_password = demo_volunteers_password_reset()
        else:
            password = password_recalled(user)
            volunteer_password = demo_volunteers_password()
        if options["when_serving"]:
            _wait_until_serving(settings.SITE_URL)
        text = banner(
            email=COORDINATOR_EMAIL, password=password, site_url=settings.SITE_URL,
            volunteers=demo_volunteers(), volunteer_password=volunteer_password,
        )  # fmt: skip
        self.stdout.write(self.style.WARNING(text))


def _wait_until_serving(site_url: str, *, seconds: int = 60) -> None:
    url = site_url.rstrip("/") + "/healthz"
    if not url.startswith(("http://", "https://")):
        return
    for _ in range(seconds * 2):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (http(s) checked above)
                return
        except OSError:
            time.sleep(0.5)
