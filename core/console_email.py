"""The development mailer (`make run`, DEBUG): each email printed as a person reads it.

Django's console backend prints the raw MIME message. Its text is quoted-printable whenever a
line is longer than 78 characters, so every long link (the address confirmation, the staff
authenticator link, a pledge's confirm and manage links) is cut into pieces ending in "=" and
opens a 404 when copied from the console. This one prints the headers that matter, then the
text part decoded, each line whole; the HTML alternative (the same words) and attachments are
named, not dumped.
"""

from email.message import EmailMessage as MIMEMessage
from typing import Any

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

HEADERS = ("From", "To", "Cc", "Reply-To", "Subject")


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message: Any) -> None:
        self.stream.write(email_readable(message.message()))


def email_readable(msg: MIMEMessage) -> str:
    """One email as plain text: headers, the decoded text part, then what else it carries."""
    lines = [f"{name}: {msg[name]}" for name in HEADERS if msg[name]]
    body = msg.get_body(preferencelist=("plain", "html"))
    extras = []
    plain = body is not None and body.get_content_type() == "text/plain"
    if plain and msg.get_body(preferencelist=("html",)) is not None:
        extras.append("(an HTML version of the same text too)")
    for part in msg.iter_attachments():
        extras.append(f"(attachment: {part.get_filename() or part.get_content_type()})")
    text = body.get_content() if body is not None else ""
    rule = "-" * 79
    return "\n".join([rule, *lines, "", text.rstrip("\n"), *extras, rule, ""])
