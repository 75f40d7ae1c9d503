"""Log formatting: no A-number reaches a log line, whoever wrote the message (SEC-23).

Services never log identifiers, but an exception's message or a library's log line can carry
one (a value echoed in an error), and a traceback is logged whole. Imported by the LOGGING
setting before the apps load: it must import nothing that needs them.
"""

import logging

from cases.identifiers import scrub_a_numbers


class ScrubbingFormatter(logging.Formatter):
    """The standard formatter, with anything shaped like an A-number replaced by stars."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_a_numbers(super().format(record), substitute="*********")
