"""Benchmark: a bulk import of N case requests through the admin and the background tasks.

Upload (the admin view), check (the task, run in this process as a worker would), the preview
page, the confirmation (the admin view), the import (the task). Everything runs inside one
transaction that is rolled back, so the database is left as it was (the import's batches are
savepoints here rather than commits). Peak RSS is measured per step (Linux: VmHWM, reset before
each step). Not a test: figures go to stdout for the issue note.

    DEBUG=1 python manage.py bench_case_import --rows 100000
"""

import random
import time
from datetime import timedelta
from pathlib import Path

import tablib
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse
from django.utils import timezone

from cases import tasks
from cases.importing import COLUMNS
from cases.models import CaseImport, CaseRequest, ImmigrationCourt

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time an import of N case requests: upload, check task, preview, confirm, import task."

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
        TOTP.activate(user, generate_totp_secret())  # staff need one to open the admin (SEC-9)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        upload = SimpleUploadedFile("bench.csv", content)
        response = self._step(
            "upload (request)",
            lambda: client.post(reverse("admin:cases_caserequest_import"), {"import_file": upload}),
        )
        job = CaseImport.objects.get(created_by=user)
        self._step("check (task)", lambda: tasks.case_import_check.apply(args=[job.pk]))
        preview = self._step("preview page (request)", lambda: client.get(response.url))
        self.stdout.write(f"  preview page: {len(preview.content) / 1e3:.0f} kB")
        token = preview.context["confirm_form"]["import_file_name"].value()
        process = reverse("admin:cases_caserequest_process_import")
        self._step("confirm (request)", lambda: client.post(process, {"import_file_name": token}))
        started = time.perf_counter()
        self._step("import (task)", lambda: tasks.case_import_run.apply(args=[job.pk]))
        elapsed = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != CaseImport.Status.DONE:
            raise CommandError(f"The import ended as {job.status}: {job.failure}")
        imported = CaseRequest.objects.filter(created_by=user).count()
        self.stdout.write(f"imported {imported} of {rows} ({imported / elapsed:.0f} rows/s)")

    def _step(self, label, run):
        _reset_peak()
        started = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - started
        self.stdout.write(f"{label}: {seconds:.1f} s, peak RSS {_peak_mb():.0f} MB")
        return result


def _reset_peak() -> None:
    if CLEAR_REFS.exists():
        CLEAR_REFS.write_text("5")  # Linux: reset VmHWM (peak resident set) to the current RSS


def _peak_mb() -> float:
    for line in STATUS.read_text().splitlines() if STATUS.exists() else []:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _csv(rows: int) -> bytes:
    rng = random.Random(4)  # noqa: S311 - benchmark data
    courts = list(
        ImmigrationCourt.objects.filter(detained_only=False).values_list("code", flat=True)
    )
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
