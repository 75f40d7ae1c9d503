"""Staged disclosure (SEC-15): each stage's selector returns exactly the fields the stage allows,
and each page an attorney sees at that stage shows no other identifier, in any spelling."""

import dataclasses

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from matching.services import (
    match_accept,
    match_attest_no_conflict,
    match_decline,
    match_offer_notify,
    match_offer_remind,
    offer_email_context,
)
from tests.volunteers.offers import identifiers_in, offer_create
from volunteers import selectors

pytestmark = pytest.mark.django_db

# Stage: (the selector's record, the pages seen at that stage, the identifier kinds allowed).
STAGES = {
    "offer": (selectors.offer_disclosure, ("volunteers:offer", "volunteers:dashboard"), set()),
    "parties": (selectors.parties_disclosure, ("volunteers:offer_parties",), {"name"}),
    "record": (
        selectors.record_disclosure,
        ("volunteers:case",),
        {"name", "a_number", "contact"},
    ),
    # The offer's link after the attorney declined: what happened, still nothing identifying.
    "declined": (
        lambda match: selectors.offer_outcome(match=match, now=timezone.now()),
        ("volunteers:offer", "volunteers:dashboard"),
        set(),
    ),
}


def _at_stage(stage, attorney, coordinator):
    match = offer_create(attorney=attorney, coordinator=coordinator)
    if stage == "record":
        match_attest_no_conflict(match=match, user=attorney.user)
        match = match_accept(match=match, user=attorney.user)
    if stage == "declined":
        match = match_decline(match=match, user=attorney.user, reason="other", note="Too far")
    return match


def _page(client, name, match):
    args = [] if name == "volunteers:dashboard" else [match.pk]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, name
    return response.content.decode()


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_discloses_exactly_its_identifiers(client, att_a, coord, stage):  # SEC-15
    selector, pages, allowed = STAGES[stage]
    match = _at_stage(stage, att_a, coord)
    client.force_login(att_a.user)
    seen = {"selector": repr(dataclasses.asdict(selector(match=match)))}
    seen |= {name: _page(client, name, match) for name in pages}
    for where, text in seen.items():
        found = identifiers_in(text, match.case)
        assert set(found) <= allowed, (stage, where, found)
    # What the stage allows is really there (so the search above would find a leak).
    assert set(identifiers_in(seen[pages[0]], match.case)) == allowed
    if not allowed:  # the page is the stage's own, not a 404 or another stage
        assert match.case.reference in seen[pages[0]]


@pytest.mark.parametrize("send", [match_offer_notify, match_offer_remind])
def test_the_offer_emails_disclose_no_identifier(att_a, coord, send):  # SEC-15, SEC-23
    match = offer_create(attorney=att_a, coordinator=coord)
    assert send(match_id=match.pk)
    (message,) = mail.outbox
    texts = [message.subject, message.body, *(body for body, _ in message.alternatives)]
    assert identifiers_in("\n".join(texts), match.case) == {}
    assert match.case.reference in message.subject  # the e-mail about this offer


def test_the_offer_email_shows_only_the_offer_stage_s_record(att_a, coord):  # SEC-15
    """One decision per stage (issue 14 #7): the e-mail's context is the offer page's record,
    so a field the offer stage may not show cannot reach the e-mail either."""
    match = offer_create(attorney=att_a, coordinator=coord)
    context = offer_email_context(match)
    offer = selectors.offer_disclosure(match=match)
    assert context["offer"] == offer and context["case"] == offer.case
    assert set(context) == {"offer", "case", "offer_url"}
    assert context["offer_url"].endswith(reverse("volunteers:offer", args=[match.pk]))


def test_each_stage_record_has_only_the_fields_it_allows():
    """A new field on a stage's record is a disclosure decision: this list is where it is made."""
    shown = {
        cls.__name__: {f.name for f in dataclasses.fields(cls)}
        for cls in (
            selectors.CaseSummary,
            selectors.OfferDisclosure,
            selectors.PartiesDisclosure,
            selectors.RecordDisclosure,
            selectors.OfferOutcome,
        )
    }
    assert shown == {
        "CaseSummary": {
            "reference", "case_type", "language", "relay_interpreter_ok", "court", "detained",
            "remote_ok", "next_hearing_date", "filing_deadline", "summary",
        },
        "OfferDisclosure": {"match_id", "expires_at", "conflict_attested_at", "case", "reasons"},
        "PartiesDisclosure": {"match_id", "case_reference", "parties"},
        "RecordDisclosure": {"match_id", "responded_at", "case", "respondent"},
        "OfferOutcome": {"status", "headline", "when", "case_reference", "decline_reason"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("stage", "selector"),
    [
        ("record", selectors.offer_disclosure),
        ("record", selectors.parties_disclosure),
        ("offer", selectors.record_disclosure),
    ],
)
def test_a_stage_selector_refuses_a_match_at_another_stage(att_a, coord, stage, selector):
    from django.http import Http404

    match = _at_stage(stage, att_a, coord)
    with pytest.raises(Http404):
        selector(match=match)


def test_the_record_shows_the_a_number_in_its_display_form(att_a, coord):
    match = _at_stage("record", att_a, coord)
    record = dict(selectors.record_disclosure(match=match).respondent)
    digits = match.case.a_number
    assert record["A-number"] == f"A-{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def test_the_offer_gives_the_reasons_in_one_format(att_a, coord):
    """Only the stored sentences reach the offer: points and cells are for coordinators."""
    match = offer_create(attorney=att_a, coordinator=coord)
    assert selectors.offer_disclosure(match=match).reasons == (
        "Speaks Spanish natively",
        "12 miles from the court",
    )
    assert selectors.match_reasons(breakdown={"language": 300, "priority": 120}) == ()
    assert selectors.match_reasons(breakdown=None) == ()
