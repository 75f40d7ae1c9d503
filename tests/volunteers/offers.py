"""Offers built through the same services the matching engine calls (issue 3: no shortcuts)."""

import itertools

from matching.services import match_approve, match_offer, match_propose
from tests.factories import CaseRequestFactory

RESPONDENT_NAME = "Maribel Quetzal-Seeded"
CONTACT = "Through her cousin at 555-0142"
# A-numbers are unique (keyed hash column): each seeded case gets the next one.
_A_NUMBERS = itertools.count(201555019)


def offer_create(*, attorney, coordinator, **case_fields):
    fields = {
        "respondent_name": RESPONDENT_NAME,
        "a_number": str(next(_A_NUMBERS)),
        "contact_route": CONTACT,
    }
    case = CaseRequestFactory(**(fields | case_fields))
    match = match_propose(
        case=case, attorney=attorney, score=640,
        breakdown={"language": 300, "distance": 140, "experience": 80, "priority": 120},
    )  # fmt: skip
    match = match_approve(match=match, actor=coordinator)
    return match_offer(match=match, actor=coordinator)


def shown_a_number(match) -> str:
    """The A-number as the case page displays it (A-201-555-019)."""
    from cases.identifiers import format_a_number

    return format_a_number(match.case.a_number)
