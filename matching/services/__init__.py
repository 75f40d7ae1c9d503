"""Match lifecycle services: every change of a match's state goes through here.

proposed → approved → offered → accepted | declined | expired; rejected and withdrawn end it too.
Each service validates, writes inside `transaction.atomic`, records one domain event and raises
`MatchError` with a stable `code`. They keep three invariants together:

- `AttorneyProfile.active_cases` equals the attorney's active matches. It changes only through
  `F()` updates on a row locked with `select_for_update()`; the database refuses a value above
  `capacity`.
- The case's status follows its match: open → matched (active match) → represented (accepted);
  declined, expired and rejected matches send it back to open.
- At most one active match per case and one match per (case, attorney) pair, ever.

Lock order, everywhere: attorney row, then match row, then case row. Services that lock in the
same order can wait for each other but never deadlock; concurrent clicks serialise on the attorney.

One room per concern; callers import from here (``from matching.services import match_accept``):

- ``lifecycle``: propose, approve, reject, offer, attest, accept, decline, withdraw a proposal,
  expire.
- ``attorney``: what the attorney starts (a request from the opportunity board, a put-back).
- ``closing``: an accepted case closes with its outcome or is handed back; a case is withdrawn.
- ``swap``: the coordinator's swap of one proposal for another attorney.
- ``notify``: the offer emails.
- ``common``: the error, locks, checks and state moves the others share.
"""

from matching.services.attorney import (
    match_put_back,
    match_put_back_deadline_set,
    match_request_by_attorney,
    put_back_open,
)
from matching.services.closing import match_case_close, match_hand_back, match_withdraw_for_case
from matching.services.common import CaseStatus, MatchError, Status
from matching.services.lifecycle import (
    REJECTABLE,
    match_accept,
    match_approve,
    match_attest_no_conflict,
    match_decline,
    match_expire,
    match_offer,
    match_propose,
    match_reject,
    match_withdraw_proposal,
)
from matching.services.notify import match_offer_notify, match_offer_remind, offer_email_context
from matching.services.swap import SWAP_REASON, match_swap

__all__ = [
    "REJECTABLE",
    "SWAP_REASON",
    "CaseStatus",
    "MatchError",
    "Status",
    "match_accept",
    "match_approve",
    "match_attest_no_conflict",
    "match_case_close",
    "match_decline",
    "match_expire",
    "match_hand_back",
    "match_offer",
    "match_offer_notify",
    "match_offer_remind",
    "match_propose",
    "match_put_back",
    "match_put_back_deadline_set",
    "match_reject",
    "match_request_by_attorney",
    "match_swap",
    "match_withdraw_for_case",
    "match_withdraw_proposal",
    "offer_email_context",
    "put_back_open",
]
