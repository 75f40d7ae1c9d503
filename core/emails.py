"""Every email is a subject/text/HTML triplet under templates/emails/, rendered by one helper.

Templates: emails/<name>_subject.txt, emails/<name>.txt, emails/<name>.html. Call this from a
Celery task enqueued after commit (REL-1), never from a request: the broker may be down. Context
must not carry a respondent's name or A-number: emails leave our systems.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_send(*, to: list[str], template: str, context: dict) -> None:
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def site_link(path: str) -> str:
    """An absolute link for an e-mail: SITE_URL, never the request's Host and port."""
    return settings.SITE_URL.rstrip("/") + path
