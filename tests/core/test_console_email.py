"""`make run` prints each email decoded: its links can be copied from the console whole.

Django's console backend printed the raw MIME message, quoted-printable: a link longer than a
line came out cut in two or three pieces ending in "=", and a new user copying the address
confirmation or the staff authenticator link from the console got a 404.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.mail import EmailMessage

from core.console_email import EmailBackend
from core.emails import email_build, site_link
from core.staff_enrollment import staff_enrollment_user
from core.tasks import staff_enrollment_email
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
LINK = site_link("/admin/authenticator/" + "eyJ1IjozMDEsInMiOiI0ZTkxNTdjOGI3Mj" * 3 + ":1xaY1v:Fq/")


def _printed(*messages) -> str:
    stream = io.StringIO()
    assert EmailBackend(stream=stream).send_messages(list(messages)) == len(messages)
    return stream.getvalue()


def test_a_long_link_is_printed_whole_on_its_own_line():
    context = {"user": SimpleNamespace(first_name="Zoë"), "minutes": 30, "link": LINK}
    printed = _printed(
        email_build(to=["zoe@example.org"], template="staff_enrollment", context=context)
    )
    assert len(LINK) > 100
    assert LINK in printed.splitlines()
    assert not re.search(r"=\n", printed)  # no quoted-printable soft line break anywhere
    assert "Subject: Set up your authenticator for the Pro Bono Match back office" in printed
    assert "To: zoe@example.org" in printed
    assert "Hello Zoë," in printed  # decoded, not =C3=AB
    # The HTML alternative is named, not dumped as a second copy of the markup.
    assert "(an HTML version of the same text too)" in printed and "<html" not in printed


def test_a_plain_email_and_an_attachment():
    message = EmailMessage(subject="Export", body="Attached.", to=["a@example.org"])
    message.attach("matches.csv", "a,b\n1,2\n", "text/csv")
    printed = _printed(EmailMessage(subject="Hi", body="Only text", to=["b@example.org"]), message)
    assert "Only text" in printed and "HTML version" not in printed
    assert "(attachment: matches.csv)" in printed and "a,b" not in printed
    assert printed.count("Subject: ") == 2


def test_debug_prints_mail_with_it_unless_email_backend_says_otherwise():
    show = "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])"
    env = {k: v for k, v in os.environ.items() if k != "EMAIL_BACKEND"} | {"DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1] == "core.console_email.EmailBackend", result.stderr


@pytest.fixture
def _console_mail(monkeypatch):
    """For the worker started next (it inherits the environment), whatever the shell says."""
    monkeypatch.setenv("EMAIL_BACKEND", "core.console_email.EmailBackend")


@pytest.mark.worker
def test_the_worker_prints_an_email_whole_and_not_as_a_warning(
    _console_mail, celery_worker_queue, tmp_path
):
    """The staff authenticator link is sent by the worker: in `make run` its log is where a new
    coordinator finds it (the celery_worker_queue fixture writes it to worker.log)."""
    user = UserFactory(username="new-staff@example.org", is_staff=True, first_name="Dana")
    staff_enrollment_email.apply_async([user.pk], queue=celery_worker_queue).get(timeout=90)
    printed = (tmp_path / "worker.log").read_text()
    [line] = [line for line in printed.splitlines() if "/admin/authenticator/" in line]
    token = line.strip().rstrip("/").rsplit("/", 1)[1]
    assert staff_enrollment_user(token=token) == user  # the line is the whole, working link
    assert "Subject: Set up your authenticator" in printed
    redirected = [line for line in printed.splitlines() if "celery.redirected" in line]
    assert redirected and all(" INFO celery.redirected" in line for line in redirected)
