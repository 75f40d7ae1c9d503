"""The URL-by-actor permission matrix (SEC-11, SEC-12, SEC-13, SEC-16).

Every named URL of the project is either a row of MATRIX or under an EXCLUDED prefix with the
reason; `test_every_url_is_in_the_matrix` diffs the resolver against both, so a new URL without a
row fails the suite. A cell is the status an actor gets for a GET or a POST: LOGIN means "sent to
the attorney sign-in", REFUSED "the form again (200) with its errors, nothing written", None (or a
missing actor) means "not asserted here".

Actors: anon; pending (`att_new`, not verified yet); other (`att_b`, verified, not the owner);
owner (`att_a`, who holds the offer and the accepted case).
"""

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.forms import BaseForm, BaseFormSet
from django.test.utils import ContextList
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import DomainEvent
from matching.models import Match
from tests.factories import CaseRequestFactory
from tests.volunteers.offers import offer_create

pytestmark = pytest.mark.django_db

LOGIN = "login"
REFUSED = "refused"
ATTORNEY_ACTORS = ("anon", "pending", "other", "owner")

# Prefixes of URL names whose permissions are proven elsewhere.
EXCLUDED = {
    # The Django admin: tests/core/test_admin.py walks every changelist as anon, attorney,
    # plain staff and coordinator (SEC-14).
    "admin:": "tests/core/test_admin.py",
    # Coordinator and partner case intake (cases app): its own role tests in tests/cases/.
    "cases:": "tests/cases/",
}


@dataclass(frozen=True)
class Row:
    get: dict = field(default_factory=dict)
    post: dict = field(default_factory=dict)
    args: str = ""  # "offer", "case", "step" or "" (see _args)


def _attorney(get=None, post=None, args=""):
    return Row(get=get or {}, post=post or {}, args=args)


# Attorney pages. A 404 for pending and other: no case data for the unverified (SEC-11), nothing
# about anyone else's match (SEC-12). State changes answer GET with 405 (SEC-16).
OWN_PAGE = {"anon": LOGIN, "pending": 200, "other": 200, "owner": 200}
OBJECT_PAGE = {"anon": LOGIN, "pending": 404, "other": 404, "owner": 200}
POST_ONLY = {"anon": 405, "pending": 405, "other": 405, "owner": 405}
INTERPRETER_PAGE = {"anon": LOGIN, "pending": 404, "other": 404, "owner": 404, "interpreter": 200}

MATRIX: dict[str, Row] = {
    "home": Row(get={"anon": 200, "owner": 200}, post={"anon": 405}),
    "healthz": Row(get={"anon": 200}, post={"anon": 405}),
    "volunteers:dashboard": _attorney(get=OWN_PAGE, post={"owner": 405}),
    "volunteers:profile": _attorney(  # redirects to the first step still to do
        get={"anon": LOGIN, "pending": 302, "other": 302, "owner": 302}, post={"owner": 405}
    ),
    "volunteers:profile_step": _attorney(
        get=OWN_PAGE, post={"anon": LOGIN, "pending": REFUSED, "owner": REFUSED}, args="step"
    ),
    "volunteers:language_search": _attorney(get=OWN_PAGE, post={"owner": 405}),
    "volunteers:offer": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="offer"),
    "volunteers:offer_parties": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="offer"),
    "volunteers:offer_attest": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="offer",
    ),
    "volunteers:offer_accept": _attorney(
        get=POST_ONLY,
        # The owner has not attested in this fixture: refused with a message, nothing changes.
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="offer",
    ),
    "volunteers:offer_decline": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": REFUSED},  # no reason given
        args="offer",
    ),
    "volunteers:case": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="case"),
    "volunteers:case_hours": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": REFUSED},  # empty: form errors
        args="case",
    ),
    # Status updates (issue 16): the case page's form (empty POST: form errors, nothing written)
    # and the e-mailed link, whose made-up token is a 404 for everyone (its own attorney's link
    # is tested in tests/volunteers/test_status_views.py).
    "volunteers:case_status": _attorney(
        get=OBJECT_PAGE,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": REFUSED},
        args="case",
    ),
    "volunteers:status_link": _attorney(
        get={"anon": LOGIN, "pending": 404, "other": 404, "owner": 404},
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 404},
        args="key",
    ),
    "volunteers:account": _attorney(get=OWN_PAGE, post={"owner": 405}),
    # The opportunity board (issue 13): a page explaining why for the unverified, no case data
    # (SEC-11). A request by the owner, at capacity in this world, is refused with a message;
    # the other attorney's request would write a proposal (tests/volunteers/test_opportunities).
    "volunteers:opportunities": _attorney(get=OWN_PAGE, post={"owner": 405}),
    "volunteers:opportunity_request": _attorney(
        get=POST_ONLY, post={"anon": LOGIN, "pending": 404, "owner": 302}, args="opening"
    ),
    # Putting an accepted case back: its attorney only; the owner's empty form is refused.
    "volunteers:case_put_back": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": REFUSED},
        args="case",
    ),
    # The hearing calendar: its settings page for verified attorneys only (no case data before
    # verification, SEC-11); the feed answers only its secret token ("key": a made-up one here).
    "volunteers:calendar": _attorney(
        get={"anon": LOGIN, "pending": 404, "other": 200, "owner": 200},
        post={"anon": LOGIN, "pending": 404, "owner": 302},
    ),
    "volunteers:calendar_feed": Row(
        get={"anon": 404, "owner": 404}, post={"anon": 405}, args="key"
    ),
    # The weekly digest's one-click unsubscribe (issue 13): no sign-in, only a signed token;
    # a made-up one is a 404 for everyone, GET or POST, and writes nothing.
    "volunteers:digest_unsubscribe": Row(
        get={"anon": 404, "owner": 404}, post={"anon": 404, "owner": 404}, args="key"
    ),
    "volunteers:account_delete": _attorney(
        get=OWN_PAGE,
        post={"anon": LOGIN, "owner": REFUSED},  # no confirmation typed: form error
    ),
    # The verification page's resend button: public, POST only, the same answer for anyone.
    "volunteers:email_verification_resend": Row(
        get={"anon": 405}, post={"anon": 302, "owner": 302}
    ),
    # Mentoring (issue 16 #3). The owner mentors one attorney, who shared a case the owner has
    # attested on, and has an open mentoring offer; the owner shares their own accepted case
    # (no mentor: refused with a message). Anyone else's pairing or share is a 404 (SEC-12).
    "mentoring:preferences": _attorney(get=OWN_PAGE, post={"anon": LOGIN, "owner": REFUSED}),
    "mentoring:offer": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="mentorship_offer"),
    "mentoring:offer_accept": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="mentorship_offer",
    ),
    "mentoring:offer_decline": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="mentorship_offer",
    ),
    "mentoring:end": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="mentorship",
    ),
    "mentoring:share": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="case",
    ),
    "mentoring:shared": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="share"),
    "mentoring:shared_parties": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="share"),
    "mentoring:shared_attest": _attorney(
        get=POST_ONLY,
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 302},
        args="share",
    ),
    "mentoring:shared_record": _attorney(get=OBJECT_PAGE, post={"owner": 405}, args="share"),
    # Interpreters (issue 16 #4). The "interpreter" actor holds an open team offer and a case
    # both team members accepted; attorneys have no interpreter pages (their dashboard sends
    # them to an empty profile form). Anyone else's team is a 404 (SEC-12), the record too
    # until both accepted (SEC-15).
    "interpreters:join": Row(get={"anon": 200, "owner": 200}, post={"anon": 405}),
    "interpreters:dashboard": Row(
        get={"anon": LOGIN, "owner": 302, "interpreter": 200}, post={"interpreter": 405}
    ),
    "interpreters:profile": Row(
        get={"anon": LOGIN, "owner": 200, "interpreter": 200},
        post={"anon": LOGIN, "owner": REFUSED, "interpreter": REFUSED},  # empty: form errors
    ),
    **{
        f"interpreters:{name}": Row(get=INTERPRETER_PAGE, post={"interpreter": 405}, args=args)
        for name, args in (
            ("offer", "team_offer"),
            ("offer_parties", "team_offer"),
            ("case", "team_case"),
        )
    },
    **{
        f"interpreters:{name}": Row(
            get={"anon": 405, "interpreter": 405},
            post={**INTERPRETER_PAGE, "interpreter": 302},
            args="team_offer",
        )
        for name in ("offer_attest", "offer_accept", "offer_decline")
    },
    # Public pledge pages (issue 7): no account; a pledge is reached only through a signed link,
    # and a bad link is a 404 for everyone, with nothing written.
    "pledges:wall": Row(get={"anon": 200, "owner": 200}, post={"anon": 405}),
    "pledges:new": Row(  # empty: form errors
        get={"anon": 200, "owner": 200}, post={"anon": REFUSED}
    ),
    "pledges:thanks": Row(get={"anon": 200}, post={"anon": 405}),
    "pledges:confirm": Row(get={"anon": 404}, post={"anon": 404, "owner": 404}, args="key"),
    "pledges:manage": Row(get={"anon": 404}, post={"anon": 404, "owner": 404}, args="key"),
    "pledges:withdraw": Row(get={"anon": 405}, post={"anon": 404}, args="key"),
    "pledges:manage_claim": Row(
        get={"anon": 404, "owner": 404}, post={"anon": 404, "owner": 404}, args="key"
    ),
    # Organization managers (issue 7): only a manager sees the page; no one here manages one.
    "pledges:organization": Row(
        get={"anon": LOGIN, "pending": 404, "other": 404, "owner": 404}, post={"owner": 405}
    ),
    # A manager's decisions on claims and join requests (issue 11 #8): POST only, and only for
    # an approved manager of the organization asked about; anyone else gets a 404 (SEC-12).
    "pledges:manager_decide": Row(
        get={"anon": 405, "owner": 405},
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 404},
        args="offer",
    ),
    "pledges:attorney_decide": Row(
        get={"anon": 405, "owner": 405},
        post={"anon": LOGIN, "pending": 404, "other": 404, "owner": 404},
        args="attorney",
    ),
    "pledges:join": Row(get={"anon": 404, "owner": 404}, post={"anon": 405}, args="key"),
    "pledges:totals_json": Row(get={"anon": 200}, post={"anon": 405}),
    # allauth. Public entrance pages answer everyone the same (SEC-7); account management needs
    # a signed-in user; one-time links with a bad key show an error page, never a 500.
    "account_login": Row(get={"anon": 200}),
    "account_signup": Row(get={"anon": 200}),
    "account_logout": Row(get={"anon": 302}),
    "account_inactive": Row(get={"anon": 200}),
    "account_reauthenticate": Row(get={"anon": LOGIN, "owner": 200}),
    "account_request_reauthentication_code": Row(get={"anon": LOGIN}),
    "account_confirm_reauthentication_code": Row(get={"anon": LOGIN}),
    "account_email": Row(get={"anon": LOGIN, "owner": 200}),  # a change asks the password again
    "account_email_verification_sent": Row(get={"anon": 200}),
    "account_change_password": Row(get={"anon": LOGIN, "owner": 200}),
    "account_set_password": Row(get={"anon": LOGIN}),
    "account_reset_password": Row(get={"anon": 200}),
    "account_reset_password_done": Row(get={"anon": 200}),
    "account_confirm_login_code": Row(get={"anon": 302}),
    "account_confirm_email": Row(get={"anon": 200}, args="key"),
    "account_reset_password_from_key": Row(get={"anon": 200}, args="reset_key"),
    "account_reset_password_from_key_done": Row(get={"anon": 200}),
    "mfa_index": Row(get={"anon": LOGIN, "owner": 200}),
    "mfa_authenticate": Row(get={"anon": 302}),
    "mfa_reauthenticate": Row(get={"anon": LOGIN}),
    "mfa_activate_totp": Row(get={"anon": LOGIN, "owner": 302}),  # reauthenticate first
    "mfa_deactivate_totp": Row(get={"anon": LOGIN, "owner": 404}),  # no TOTP set up
    "mfa_view_recovery_codes": Row(get={"anon": LOGIN, "owner": 404}),
    "mfa_generate_recovery_codes": Row(get={"anon": LOGIN}),
    "mfa_download_recovery_codes": Row(get={"anon": LOGIN, "owner": 404}),
}


def url_patterns(patterns=None, namespace=""):
    """(name, parameter names) of every named URL of the project."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            route = pattern.pattern
            keys = getattr(route, "converters", {}).keys() or route.regex.groupindex.keys()
            yield f"{namespace}{pattern.name}", tuple(keys)


def _url_names():
    return (name for name, _keys in url_patterns())


def test_every_url_is_in_the_matrix():  # SEC-13
    names = {n for n in _url_names() if not n.startswith(tuple(EXCLUDED))}
    missing = sorted(names - set(MATRIX))
    stale = sorted(set(MATRIX) - names)
    assert not missing, f"URLs without a row in the permission matrix: {missing}"
    assert not stale, f"Matrix rows for URLs that no longer exist: {stale}"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """The pledge form's rate limit counts in the cache: each cell gets an empty one of its own,
    never the file cache under var/ that other runs on this machine share."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "m"}
    }
    cache.clear()


@pytest.fixture
def world(att_a, att_b, att_new, coord):
    from matching.services import match_accept, match_attest_no_conflict

    offer = offer_create(attorney=att_a, coordinator=coord)
    case = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=case, user=att_a.user)
    match_accept(match=case, user=att_a.user)
    from tests.interpreters.people import matrix_objects as interpreter_objects
    from tests.mentoring.people import matrix_objects

    interpreting = interpreter_objects(coordinator=coord)
    actors = {"pending": att_new.user, "other": att_b.user, "owner": att_a.user}
    return {
        "actors": actors | {"interpreter": interpreting.pop("interpreter")},
        "offer": offer,
        "case": case,
        **matrix_objects(owner=att_a, coordinator=coord),
        "opening": CaseRequestFactory(),  # an open case, for the opportunity board
        **interpreting,
    }


def _args(kind, world):
    return {
        "": [],
        "offer": [world["offer"].pk],
        "case": [world["case"].pk],
        "opening": [world["opening"].reference],
        "step": ["about"],
        "attorney": [world["case"].attorney_id],
        "key": ["not-a-real-key"],
        "mentorship": [world["mentorship"].pk] if "mentorship" in world else [],
        "mentorship_offer": [world["mentorship_offer"].pk] if "mentorship" in world else [],
        "share": [world["share"].pk] if "share" in world else [],
        "team_offer": [world["team_offer"].pk] if "team_offer" in world else [],
        "team_case": [world["team_case"].pk] if "team_case" in world else [],
        "reset_key": ["1", "not-a-real-key"],
    }[kind]


CELLS = [
    (name, method, actor, expected)
    for name, row in MATRIX.items()
    for method, cells in (("GET", row.get), ("POST", row.post))
    for actor, expected in cells.items()
    if expected is not None
]


_MATCHES = ("offer", "case")  # the attorney pages of one match: a 404 there is audited (SEC-24)


def _form_refused(response) -> bool:
    """A bound form or formset on the page holds errors."""
    contexts = response.context  # one Context, or a ContextList when templates were included
    contexts = contexts if isinstance(contexts, ContextList) else [contexts]
    values = [value for context in contexts for value in context.flatten().values()]
    return any(
        (isinstance(value, BaseForm) and value.is_bound and bool(value.errors))
        or (isinstance(value, BaseFormSet) and value.is_bound and value.total_error_count() > 0)
        for value in values
    )


def _snapshot(world):
    matches = Match.objects.filter(pk__in=[world["offer"].pk, world["case"].pk])
    return (
        sorted(matches.values_list("pk", "status", "conflict_attested_at")),
        # Reads are audited (SEC-24): a viewed page or a refused object is no change.
        DomainEvent.objects.exclude(verb__endswith="viewed").exclude(verb="access.refused").count(),
    )


@pytest.mark.parametrize(
    ("name", "method", "actor", "expected"),
    CELLS,
    ids=[f"{n}-{m}-{a}" for n, m, a, _ in CELLS],
)
def test_permission_matrix(client, world, name, method, actor, expected):
    if actor != "anon":
        client.force_login(world["actors"][actor])
    url = reverse(name, args=_args(MATRIX[name].args, world))
    before = _snapshot(world)
    response = client.get(url) if method == "GET" else client.post(url)
    if expected == LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response.url.startswith(reverse("account_login"))
    elif expected == REFUSED:
        assert response.status_code == 200 and _form_refused(response), url
        assert _snapshot(world) == before
    else:
        assert response.status_code == expected, (url, response.status_code)
    if actor not in ("owner", "interpreter") or method == "GET":
        assert _snapshot(world) == before  # refused or read-only: nothing written (SEC-12)
    if expected == 404 and name.startswith("volunteers:") and MATRIX[name].args in _MATCHES:
        refused = DomainEvent.objects.filter(verb="access.refused", actor=world["actors"][actor])
        assert refused.exists()  # SEC-24
