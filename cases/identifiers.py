"""Alien Registration Numbers (A-numbers): one canonical form for storage and lookup (SEC-18).

People write the same A-number many ways (``A-123-456-789``, ``a123456789``, ``A 012 345 678``,
or the older 8-digit ``12345678``). Storing one canonical form makes duplicate detection and
exact lookup work: nine ASCII digits, zero-padded, no prefix (``"012345678"``).

An A-number identifies a person and is confidential, so nothing here ever puts the submitted
value into an error message, a log line or an exception's arguments.
"""

import re
from typing import Final

# Spaces and dashes may appear anywhere; the typographic dashes and the non-breaking space arrive
# when people copy a number from a word processor or a PDF notice, and refusing them would only
# make intake staff retype a number that is in fact fine.
SEPARATORS: Final = frozenset(" \t\u00a0-\u2010\u2011\u2012\u2013\u2014\u2212")
# Only ASCII digits count: str.isdigit() and int() also accept Arabic-Indic, fullwidth and other
# digits, which would let two different-looking strings collide on one canonical number.
ASCII_DIGITS: Final = frozenset("0123456789")
CANONICAL_LENGTH: Final = 9
# Older A-numbers have 8 digits; they are the same number as the zero-padded 9-digit form.
ACCEPTED_LENGTHS: Final = (8, 9)
# Far longer than any legitimate spelling; bounds the work done on hostile form input.
MAX_INPUT_LENGTH: Final = 64

# An A-number written inside other text (an error report, a log line): an optional A, then 8 or 9
# digits with single spaces or dashes between them, not part of a longer number or word, not an
# ISO date (2026-12-06 has 8 digits too), not a case reference. It is for scrubbing, so it errs
# towards matching: any other 8- or 9-digit number counts as one.
A_NUMBER_IN_TEXT: Final = re.compile(
    r"(?<![0-9A-Za-z])(?<!PBM-)(?!\d{4}-\d\d-\d\d(?![0-9]))[Aa]?[\s\-\u2010-\u2014]?"
    r"\d(?:[\s\-\u2010-\u2014]?\d){7,8}(?![0-9])"
)

_MESSAGE: Final = (
    "Enter an A-number of 8 or 9 digits, optionally starting with A, for example A-012-345-678."
)


class InvalidANumber(ValueError):
    """The value is not an A-number. The message is safe to show; it never contains the value."""

    code = "invalid_a_number"

    def __init__(self, message: str = _MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def normalize_a_number(value: str) -> str:
    """Return the canonical 9-digit form of an A-number, or raise InvalidANumber.

    1. Drop spaces and dashes (anywhere) and one leading ``A`` or ``a``.
    2. What remains must be 8 or 9 ASCII digits, not all zeros.
    3. Zero-pad to 9 digits.
    """
    if not isinstance(value, str) or len(value) > MAX_INPUT_LENGTH:
        raise InvalidANumber
    digits = _strip_prefix(_drop_separators(value))
    if len(digits) not in ACCEPTED_LENGTHS or not set(digits) <= ASCII_DIGITS:
        raise InvalidANumber
    if digits.strip("0") == "":
        # A-numbers are issued from 1 upwards; all zeros is a placeholder, never a person.
        raise InvalidANumber
    return digits.zfill(CANONICAL_LENGTH)


def looks_like_a_number(value: str) -> bool:
    """True when ``value`` is some spelling of an A-number (what normalize_a_number accepts)."""
    try:
        normalize_a_number(value)
    except InvalidANumber:
        return False
    return True


def format_a_number(canonical: str) -> str:
    """Display form of a canonical A-number: ``"012345678"`` → ``"A-012-345-678"``."""
    if not is_canonical_a_number(canonical):
        # Formatting something unvalidated would hide a bug upstream; fail loudly instead.
        raise InvalidANumber("This is not a stored A-number (9 digits, not all zeros).")
    return f"A-{canonical[0:3]}-{canonical[3:6]}-{canonical[6:9]}"


def is_canonical_a_number(value: str) -> bool:
    """True for exactly the strings normalize_a_number returns."""
    return (
        isinstance(value, str)
        and len(value) == CANONICAL_LENGTH
        and set(value) <= ASCII_DIGITS
        and value != "0" * CANONICAL_LENGTH
    )


def scrub_a_numbers(text: str, *, substitute: str) -> str:
    """``text`` with everything shaped like an A-number replaced by ``substitute``."""
    return A_NUMBER_IN_TEXT.sub(substitute, text)


def _drop_separators(value: str) -> str:
    return "".join(ch for ch in value if ch not in SEPARATORS)


def _strip_prefix(compact: str) -> str:
    return compact[1:] if compact[:1] in ("A", "a") else compact
