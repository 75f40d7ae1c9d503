"""Benchmark: a bulk import of N case requests through the admin (preview, then confirm).

Runs the real admin views with Django's test client inside one transaction that is rolled back,
so the database is left as it was. Not a test: timings go to stdout for the issue note.

    DEBUG=1 python manage.py bench_case_import --rows 10000
"""

import random
import time
from datetime import timedelta

import tablib
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse
from django.utils import timezone

from cases.importing import COLUMNS
from cases.models import CaseRequest, ImmigrationCourt


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time a CSV import of N case requests through the admin (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)

    def handle(self, *args, rows, **options):
        content = _csv(rows)
        self.stdout.write(f"{rows} rows, {len(content) / 1e6:.1f} MB of CSV")
        setup_test_environment()  # the test client then records each response's context
        try:
            with transaction.atomic():
                self._run(content, rows)
                raise _Rollback
        except _Rollback:
            self.stdout.write("Rolled back: the database is unchanged.")
        finally:
            teardown_test_environment()

    def _run(self, content, rows):
        user = get_user_model().objects.create_superuser("bench-import@example.org", password=None)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        started = time.perf_counter()
        preview = client.post(
            reverse("admin:cases_caserequest_import"),
            {"import_file": SimpleUploadedFile("bench.csv", content), "format": "0"},
        )
        previewed = time.perf_counter()
        form = preview.context["confirm_form"]
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data.pop("confirm_skip_invalid_rows", None)
        done = client.post(reverse("admin:cases_caserequest_process_import"), data)
        finished = time.perf_counter()
        if done.status_code != 302:
            raise CommandError(f"The confirmation failed with status {done.status_code}.")
        imported = CaseRequest.objects.filter(created_by=user).count()
        self.stdout.write(
            f"preview (dry run + {len(preview.content) / 1e6:.1f} MB page): "
            f"{previewed - started:.1f} s; confirm (import): {finished - previewed:.1f} s; "
            f"total {finished - started:.1f} s; imported {imported} of {rows} "
            f"({rows / (finished - previewed):.0f} rows/s)"
        )


def _csv(rows: int) -> bytes:
    rng = random.Random(4)  # noqa: S311 - benchmark data
    courts = ImmigrationCourt.objects.filter(detained_only=False).values_list("code", flat=True)
    courts = list(courts)
    today = timezone.localdate()
    dataset = tablib.Dataset(headers=list(COLUMNS))
    start = rng.randrange(100_000_000, 800_000_000)
    for i in range(rows):
        row = {
            "respondent_name": f"Bench Person {i}",
            "a_number": f"A{start + i:09d}",
            "contact_route": "Through the clinic",
            "country_of_nationality": rng.choice(["GT", "HN", "SV", "MX", "VE", "HT"]),
            "language": rng.choice(["spa", "spa", "spa", "mam", "quc", "hat", "por"]),
            "other_languages": "",
            "relay_interpreter_ok": "no",
            "relay_language": "",
            "court": rng.choice(courts),
            "case_type": "asylum",
            "detained": "no",
            "detention_facility": "",
            "remote_ok": rng.choice(["yes", "no"]),
            "next_hearing_date": (today + timedelta(days=rng.randrange(1, 300))).isoformat(),
            "next_hearing_type": "master",
            "filing_deadline": "",
            "summary": "Benchmark row.",
        }
        dataset.append([row[name] for name in COLUMNS])
    return dataset.export("csv").encode()
