"""Every email is a subject/text/HTML triplet under templates/emails/, rendered by one helper.

Templates: emails/<name>_subject.txt, emails/<name>.txt, emails/<name>.html. Call this from a
Celery task enqueued after commit (REL-1), never from a request: the broker may be down. Context
must not carry a respondent's name or A-number: emails leave our systems.

The subject and the text part are plain text: they are rendered without HTML escaping (an
apostrophe stays an apostrophe, not `&#x27;`); only the HTML part is escaped.
"""

from contextlib import nullcontext
from datetime import tzinfo
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template, render_to_string
from django.utils import timezone


def email_send(
    *, to: list[str], template: str, context: dict, time_zone: tzinfo | None = None
) -> None:
    """Send one email; dates and times in it are shown in `time_zone` (the recipient's) if given."""
    email_build(to=to, template=template, context=context, time_zone=time_zone).send()


def email_build(
    *,
    to: list[str],
    template: str,
    context: dict,
    time_zone: tzinfo | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One email, rendered but not sent: for batches sent over one connection
    (``mailers.default.send_messages(...)``), and for extra headers (List-Unsubscribe)."""
    with timezone.override(time_zone) if time_zone is not None else nullcontext():
        subject = plain_text_render(f"emails/{template}_subject.txt", context).strip()
        text = plain_text_render(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=to, headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message


def site_link(path: str) -> str:
    """An absolute link for an e-mail: SITE_URL, never the request's Host and port."""
    return settings.SITE_URL.rstrip("/") + path


def plain_text_render(template_name: str, context: dict[str, Any]) -> str:
    """A Django template rendered with autoescaping off, for plain-text mail parts."""
    # Mail templates live with the Django template engine (the only one configured).
    template = cast(DjangoTemplate, get_template(template_name))
    return template.template.render(Context(context, autoescape=False))
