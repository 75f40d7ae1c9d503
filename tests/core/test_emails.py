"""The one email helper (STYLE 17): plain-text parts are not HTML-escaped (issue 12, item 9)."""

import pytest
from django.core import mail

from core.emails import email_send
from volunteers.tasks import attorney_verification_email_task

pytestmark = pytest.mark.django_db


def test_the_text_part_keeps_an_apostrophe_and_the_html_part_escapes_it(att_a):
    att_a.user.first_name = "D'Andre <b>"
    att_a.user.save()
    attorney_verification_email_task(att_a.pk)
    message = mail.outbox[-1]
    assert "Hello D'Andre <b>," in message.body and "&#x27;" not in message.body
    html = message.alternatives[0][0]
    assert "D&#x27;Andre &lt;b&gt;" in html and "<b>," not in html


def test_the_subject_is_not_escaped_either(att_a, settings, tmp_path):
    (tmp_path / "emails").mkdir()
    for name, body in (("t_subject.txt", "For {{ who }}"), ("t.txt", "{{ who }}"), ("t.html", "")):
        (tmp_path / "emails" / name).write_text(body)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    email_send(to=["a@example.org"], template="t", context={"who": "O'Brien & Co"})
    assert mail.outbox[-1].subject == "For O'Brien & Co"
    assert mail.outbox[-1].body == "O'Brien & Co"
