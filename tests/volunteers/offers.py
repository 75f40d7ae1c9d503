"""Offers built through the same services the matching engine calls (issue 3: no shortcuts)."""

import itertools

from cases.identifiers import format_a_number
from matching.services import match_approve, match_offer, match_propose
from tests.factories import CaseRequestFactory

RESPONDENT_NAME = "Maribel Quetzal-Seeded"
CONTACT = "Through her cousin at 555-0142"
# A-numbers are unique (keyed hash column): each seeded case gets the next one.
_A_NUMBERS = itertools.count(201555019)
# Shaped as runs stored it before issue 15 (sentences beside partial facts), which the offer
# still shows as stored (matching.selectors.match_sentences); the offer shows the sentences only.
BREAKDOWN = {
    "affinity": {"language": 300, "distance": 140, "experience": 80, "total": 520},
    "priority": {"stored": 120, "total": 120},
    "explanation": ["Speaks Spanish natively", "12 miles from the court"],
}


def offer_create(*, attorney, coordinator, **case_fields):
    fields = {
        "respondent_name": RESPONDENT_NAME,
        "a_number": str(next(_A_NUMBERS)),
        "contact_route": CONTACT,
    }
    case = CaseRequestFactory(**(fields | case_fields))
    match = match_propose(case=case, attorney=attorney, score=640, breakdown=BREAKDOWN)
    match = match_approve(match=match, actor=coordinator)
    return match_offer(match=match, actor=coordinator)


def shown_a_number(match) -> str:
    """The A-number as the case page displays it (A-201-555-019)."""
    return format_a_number(match.case.a_number)


def identifier_spellings(case) -> dict[str, tuple[str, ...]]:
    """Every way an identifier of this case could leak onto a page, by kind (SEC-15).

    A page that shows none of these shows no identifier; searching only the display form would
    let the stored unformatted A-number, a name in capitals or the last digits slip through.
    """
    name = case.respondent_name
    digits = case.a_number  # canonical: nine digits
    groups = f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"
    return {
        "name": (
            name, name.upper(), name.lower(), name.title(), name.casefold(),
            *(part for part in name.replace("-", " ").split() if len(part) > 3),
        ),
        "a_number": (
            digits, format_a_number(digits), groups, groups.replace("-", " "),
            f"A{digits}", f"a{digits}", f"A {groups.replace('-', ' ')}",
            digits.lstrip("0"), digits[-6:], f"{digits[3:6]}-{digits[6:9]}",
        ),
        "contact": (case.contact_route, case.contact_route.upper(), "555-0142", "5550142"),
    }  # fmt: skip


def identifiers_in(text: str, case) -> dict[str, list[str]]:
    """The spellings of each kind found in `text` (HTML entities decoded, case ignored)."""
    import html

    haystack = html.unescape(text).casefold()
    found = {
        kind: [s for s in spellings if s.casefold() in haystack]
        for kind, spellings in identifier_spellings(case).items()
    }
    return {kind: hits for kind, hits in found.items() if hits}
