"""Interpreter services: profiles, verification, the team stage and the interpreter's answer.

Invariants: `InterpreterProfile.active_assignments` equals the interpreter's live teams
(active or accepted), changed only by `F()` updates on the locked profile row, never above
`capacity` (a database check); one interpreter per attorney match (a one-to-one column).
The attorney's side of a team is an ordinary match (matching.services), which refuses to be
accepted until its interpreter has (matching.followups.team_ready, connected in apps.py).

Lock order, as matching.services and after it: attorney, match, case, then the team
assignment, then the interpreter profile. The attorney's decline or expiry (matching.services,
then matching.followups.team_end) takes them in that order, so every service here does too:
none locks an interpreter before an attorney or an assignment.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.emails import email_send, site_link
from core.errors import DomainError
from core.models import DomainEvent
from core.roles import COORDINATOR_PERMISSION, coordinator_emails
from core.services import event_record
from core.types import Actor
from interpreters import teams
from interpreters.models import InterpreterLanguage, InterpreterProfile, TeamInterpreter
from interpreters.signals import team_unfilled
from matching.models import Match
from matching.services import MatchError, match_propose
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea
from volunteers.services import AttorneyError, zip_locate
from volunteers.timezones import attorney_zone

VERIFIED = "verified"
Status = TeamInterpreter.Status


class InterpreterError(DomainError):
    code = "interpreter_error"


# Profiles


def interpreter_profile_save(
    *,
    user: User,
    first_name: str,
    last_name: str,
    phone: str,
    home_zip: str,
    travel_radius_miles: int,
    remote_ok: bool,
    capacity: int,
    skills: list[tuple[str, int]],
) -> InterpreterProfile:
    """Create or update the signed-in user's interpreter profile and languages."""
    if AttorneyProfile.objects.filter(user=user).exists():
        raise InterpreterError(
            "This account is an attorney's; sign up again to interpret.", code="is_attorney"
        )
    if len({code for code, _ in skills}) < 2:
        raise InterpreterError(
            "List at least two languages: the one you interpret and the one you interpret into.",
            code="two_languages",
        )
    try:
        latitude, longitude = zip_locate(home_zip)
    except AttorneyError as error:
        raise InterpreterError(error.message, code=error.code) from None
    with transaction.atomic():
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
        fields = {
            "phone": phone, "home_zip": home_zip, "latitude": latitude, "longitude": longitude,
            "travel_radius_miles": travel_radius_miles, "remote_ok": remote_ok,
        }  # fmt: skip
        profile, created = InterpreterProfile.objects.get_or_create(
            user=user, defaults=fields | {"capacity": capacity}
        )
        profile = InterpreterProfile.objects.select_for_update().get(pk=profile.pk)
        if capacity < profile.active_assignments:
            raise InterpreterError(
                f"You interpret for {profile.active_assignments} cases now.", code="below_active"
            )
        for name, value in (fields | {"capacity": capacity}).items():
            setattr(profile, name, value)
        profile.save()
        InterpreterLanguage.objects.filter(interpreter=profile).delete()
        InterpreterLanguage.objects.bulk_create(
            InterpreterLanguage(interpreter=profile, language_id=code, proficiency=level)
            for code, level in skills
        )
        event_record(
            verb="interpreter.profile_saved",
            actor=user,
            target=profile,
            data={"created": created, "languages": sorted(c for c, _ in skills)},
        )
    return profile


def interpreter_verify(
    *, interpreter: InterpreterProfile, actor: Actor, verified: bool = True
) -> InterpreterProfile:
    """A coordinator verifies (or rejects) an interpreter, after checking references."""
    _check_coordinator(actor)
    with transaction.atomic():
        profile = InterpreterProfile.objects.select_for_update().get(pk=interpreter.pk)
        profile.verification = VERIFIED if verified else "rejected"
        profile.verified_at = timezone.now() if verified else None
        profile.save(update_fields=["verification", "verified_at"])
        event_record(verb="interpreter.verified" if verified else "interpreter.rejected",
                     actor=actor, target=profile)  # fmt: skip
    return profile


# The team stage


@dataclass(frozen=True)
class TeamRunResult:
    cases: int
    attorneys: int
    interpreters: int
    teams: int
    objective: int


def team_run(*, actor: Actor = None) -> TeamRunResult:
    """Propose attorney + interpreter teams for open cases no eligible attorney in range can
    talk with (the second stage, after the main run has proposed what it could).

    1. Read the available interpreters (verified, free slots). Nothing is locked up front:
       each proposal locks its attorney, match and case (match_propose), then takes the
       interpreter's slot; a slot taken meanwhile (an answer, a coordinator) is refused by the
       database and skips the team, and a case proposed meanwhile is refused by match_propose.
       A second team run waits for this one (an advisory lock on PostgreSQL).
    2. Cases: open, in a language those interpreters speak, that no available attorney who
       speaks it could take (practice area, in range or remote): a plain match would serve
       those, and the main run proposes it.
    3. Solve exactly (interpreters.teams) and propose each team: the attorney's match through
       match_propose (which rechecks capacity and the case), the interpreter on it.
    """
    with transaction.atomic():
        _one_team_run_at_a_time()
        interpreters = _interpreters_available()
        spoken = {code for v in interpreters for code in v.languages}
        attorneys = _attorneys_available()
        cases = [c for c in _open_cases(spoken) if not _direct_possible(c, attorneys)]
        objective, chosen = teams.teams_solve(
            cases=cases, attorneys=attorneys, interpreters=interpreters,
            excluded=_pairs_before([c.id for c in cases]),
        )  # fmt: skip
        proposed = sum(team_propose(team=team, actor=actor) for team in chosen)
        result = TeamRunResult(len(cases), len(attorneys), len(interpreters), proposed, objective)
        event_record(verb="interpreter.team_run", actor=actor, data=result.__dict__)
    return result


# Team runs take this transaction-level advisory lock first: two at once would lock attorneys
# and cases in different orders. SQLite serialises write transactions by itself.
TEAM_RUN_LOCK_KEY = 0x7465616D  # "team"


def _one_team_run_at_a_time() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TEAM_RUN_LOCK_KEY])


def _interpreters_available() -> list[teams.Volunteer]:
    rows = list(
        InterpreterProfile.objects.filter(
            verification=VERIFIED, active_assignments__lt=F("capacity")
        ).order_by("pk")
    )
    skills: dict[int, dict[str, int]] = {r.pk: {} for r in rows}
    for pk, code, level in InterpreterLanguage.objects.filter(
        interpreter_id__in=skills
    ).values_list("interpreter_id", "language_id", "proficiency"):
        skills[pk][code] = level
    return [_volunteer(r, r.free_capacity, skills[r.pk]) for r in rows]


def _attorneys_available() -> list[teams.Volunteer]:
    today = timezone.localdate()
    rows = list(
        AttorneyProfile.objects.filter(verification=VERIFIED, active_cases__lt=F("capacity"))
        .exclude(paused_until__gt=today)
        .order_by("pk")
    )
    skills: dict[int, dict[str, int]] = {r.pk: {} for r in rows}
    areas: dict[int, set[str]] = {r.pk: set() for r in rows}
    for pk, code, level in AttorneyLanguage.objects.filter(attorney_id__in=skills).values_list(
        "attorney_id", "language_id", "proficiency"
    ):
        skills[pk][code] = level
    for pk, code in PracticeArea.objects.filter(attorney_id__in=skills).values_list(
        "attorney_id", "case_type_id"
    ):
        areas[pk].add(code)
    return [_volunteer(r, r.capacity - r.active_cases, skills[r.pk], areas[r.pk]) for r in rows]


def _volunteer(
    row: AttorneyProfile | InterpreterProfile,
    free: int,
    languages: dict[str, int],
    areas: Iterable[str] = (),
) -> teams.Volunteer:
    return teams.Volunteer(
        id=row.pk, capacity=free, latitude=float(row.latitude), longitude=float(row.longitude),
        radius_miles=row.travel_radius_miles, remote_ok=row.remote_ok, languages=languages,
        areas=frozenset(areas),
    )  # fmt: skip


def _open_cases(languages: set[str]) -> list[teams.TeamCase]:
    return _team_cases(
        CaseRequest.objects.filter(status=CaseRequest.Status.OPEN, language_id__in=languages)
    )


def _team_cases(cases: QuerySet[CaseRequest]) -> list[teams.TeamCase]:
    rows = cases.values_list(
        "pk", "language_id", "court__latitude", "court__longitude", "remote_ok",
        "case_type_id", "priority",
    )  # fmt: skip
    return [
        teams.TeamCase(id=pk, language=lang, latitude=float(lat), longitude=float(lon),
                       remote_ok=remote, case_type=kind, priority=max(priority, 0) + 1)
        for pk, lang, lat, lon, remote, kind, priority in rows
    ]  # fmt: skip


def _direct_possible(case: teams.TeamCase, attorneys: list[teams.Volunteer]) -> bool:
    """Whether an available attorney who speaks the case's language could take it directly:
    then it is the main run's to match, not a team's."""
    return any(teams.attorney_points(a, case, case.language, direct=True) is not None
               for a in attorneys)  # fmt: skip


def _pairs_before(case_ids: list[int]) -> set[tuple[int, int]]:
    """(case, attorney) pairs matched before: never proposed again (one match per pair)."""
    return set(Match.objects.filter(case_id__in=case_ids).values_list("case_id", "attorney_id"))


def team_propose(*, team: teams.Team, actor: Actor = None) -> bool:
    """Propose one team (the team stage does, for each team it chose), in its own savepoint:
    the attorney's match through match_propose, which rechecks the case and the attorney's
    capacity (a refusal skips the team), the interpreter on it. Returns whether proposed."""
    case = CaseRequest.objects.select_related("language").get(pk=team.case)
    breakdown = {
        "team": {"interpreter": team.interpreter, "bridge": team.bridge,
                 "interpreter_points": team.interpreter_points},
        "affinity": {"total": team.attorney_points},
        "priority": {"stored": team.priority},
        "explanation": [
            f"No attorney in range speaks {case.language.name}: a team with a volunteer "
            f"interpreter ({case.language.name} to {_language_name(team.bridge)})",
            f"You speak {_language_name(team.bridge)}",
        ],
    }  # fmt: skip
    try:
        with transaction.atomic():
            match = match_propose(case=case, attorney=AttorneyProfile(pk=team.attorney),
                                  score=team.attorney_points + team.priority,
                                  breakdown=breakdown, actor=actor)  # fmt: skip
            _slot_take(team.interpreter)
            TeamInterpreter.objects.create(
                match=match, interpreter_id=team.interpreter, bridge_language_id=team.bridge,
                score=team.interpreter_points,
            )  # fmt: skip
            event_record(verb="interpreter.team_proposed", actor=actor, target=match,
                         data={"interpreter": team.interpreter, "bridge": team.bridge})  # fmt: skip
    except MatchError:
        return False
    except IntegrityError:  # the interpreter's last slot went to another team meanwhile
        return False
    return True


def _language_name(code: str) -> str:
    from cases.models import Language

    return Language.objects.filter(code=code).values_list("name", flat=True).first() or code


# The interpreter's answer (the offer is open while the attorney's match is offered)


def team_attest_no_conflict(*, assignment: TeamInterpreter, user: User) -> TeamInterpreter:
    with transaction.atomic():
        assignment = _assignment_lock(assignment.pk)
        _check_open(assignment, user)
        if assignment.conflict_attested_at is None:
            assignment.conflict_attested_at = timezone.now()
            assignment.save(update_fields=["conflict_attested_at"])
            _event(assignment, "interpreter.conflict_attested", user)
    return assignment


def team_accept(*, assignment: TeamInterpreter, user: User) -> TeamInterpreter:
    """The interpreter accepts after attesting; the attorney can then accept (the case goes
    ahead only when both have)."""
    with transaction.atomic():
        assignment = _assignment_lock(assignment.pk)
        _check_open(assignment, user)
        if assignment.conflict_attested_at is None:
            raise InterpreterError("Attest to no conflict first.", code="conflict_not_attested")
        assignment.status, assignment.responded_at = Status.ACCEPTED, timezone.now()
        assignment.save(update_fields=["status", "responded_at"])
        _event(assignment, "interpreter.accepted", user)
    return assignment


def team_decline(*, assignment: TeamInterpreter, user: User) -> TeamInterpreter:
    """The interpreter declines: their slot is free, and another interpreter is put on the
    team at once, chosen as the team stage would (``_team_refill``). The attorney's offer stays
    open and can be accepted once the new interpreter accepts. When no interpreter is free, the
    coordinators and the attorney are told after commit (``team_unfilled_notify``).

    The replacement is written on the attorney's match, so this takes the locks in the global
    order (attorney, match, then the assignment, then interpreter profiles): an attorney's
    decline at the same moment either waits and then withdraws the new interpreter too
    (team_end_for_match), or goes first and this one finds the offer closed."""
    with transaction.atomic():
        match = _team_match_lock(assignment.match_id)
        assignment = _assignment_lock(assignment.pk)
        _check_open(assignment, user)
        assignment.status, assignment.responded_at = Status.DECLINED, timezone.now()
        assignment.save(update_fields=["status", "responded_at"])
        _slot_release(assignment.interpreter_id)
        _event(assignment, "interpreter.declined", user)
        _team_refill(match, bridge=assignment.bridge_language_id)
    return assignment


# A slot taken by another team between the read and the write skips to the next interpreter;
# this many tries, then the team counts as unfilled and the coordinators decide.
REFILL_TRIES = 3


def _team_refill(match: Match, *, bridge: str) -> TeamInterpreter | None:
    """Put the best free interpreter on a team that lost its own (teams.replacement_choose,
    the team stage's own rule), never one the team had before; if there is none, record the
    team as unfilled and tell the coordinators and the attorney after commit."""
    case = _team_cases(CaseRequest.objects.filter(pk=match.case_id))[0]
    tried = set(
        TeamInterpreter.objects.filter(match=match).values_list("interpreter_id", flat=True)
    )
    available = _interpreters_available()
    for _attempt in range(REFILL_TRIES):
        chosen = teams.replacement_choose(
            case=case, bridge=bridge, interpreters=available, excluded=tried
        )
        if chosen is None:
            break
        interpreter_id, points = chosen
        tried.add(interpreter_id)
        try:
            with transaction.atomic():
                _slot_take(interpreter_id)  # the database refuses a slot above capacity
                return _team_replacement_create(match, interpreter_id, bridge, points)
        except IntegrityError:
            continue
    event_record(verb="interpreter.team_unfilled", actor=None, target=match,
                 data={"match": match.pk, "case": match.case_id})  # fmt: skip
    transaction.on_commit(
        lambda: team_unfilled.send(sender=TeamInterpreter, match_id=match.pk), robust=True
    )
    return None


def team_search_again(*, match_id: int, actor: Actor = None) -> TeamInterpreter | None:
    """Search again for an interpreter for a team left without one (its interpreters declined
    and none was free then; a coordinator asks from the admin, through a task): the decline's
    own search (``_team_refill``: the best free interpreter on the team's bridge, never one the
    team had before), with the same unfilled notice, sent once per match, when there is still
    nobody. Nothing when the match is no longer open or its team has a live interpreter, so a
    second request for the same team does nothing. Returns the new assignment, or None."""
    # Here, not at the top: the admin imports this module, and every process loads the admin;
    # the selectors come with the need dashboard's (tests/matching/test_commands.py).
    from interpreters.selectors import SEARCHABLE

    if actor is not None:
        _check_coordinator(actor)
    with transaction.atomic():
        if not Match.objects.filter(pk=match_id, status__in=SEARCHABLE).exists():
            return None
        match = _team_match_lock(match_id)  # the global lock order: attorney, then match
        last = TeamInterpreter.objects.filter(match=match).order_by("-created_at", "-pk").first()
        if match.status not in SEARCHABLE or last is None or not _team_unfilled(match):
            return None
        event_record(verb="interpreter.search_again", actor=actor, target=match,
                     data={"match": match.pk, "case": match.case_id})  # fmt: skip
        return _team_refill(match, bridge=last.bridge_language_id)


def _team_replacement_create(
    match: Match, interpreter_id: int, bridge: str, points: int
) -> TeamInterpreter:
    replacement = TeamInterpreter.objects.create(
        match=match, interpreter_id=interpreter_id, bridge_language_id=bridge, score=points
    )
    _event(replacement, "interpreter.replacement_proposed", None)
    return replacement


def team_unfilled_notify(*, match_id: int) -> int:
    """Tell the coordinators and the attorney that a team lost its interpreter and no other is
    free (the task after ``_team_refill`` found none). Once per match, and only while the
    offer is still open without an interpreter. References and links only: the emails leave
    our systems. Returns the number of emails sent."""
    with transaction.atomic():
        match = (
            Match.objects.select_for_update(of=("self",))
            .select_related("case", "attorney__user")
            .filter(pk=match_id, status=Match.Status.OFFERED)
            .first()
        )
        if match is None or not _team_unfilled(match) or _notified(match):
            return 0
        context = {
            "reference": match.case.reference,
            "match_url": site_link(reverse("admin:matching_match_change", args=[match.pk])),
            "offer_url": site_link(reverse("volunteers:offer", args=[match.pk])),
            "expires_at": match.expires_at,
        }
        sent = _unfilled_email(coordinator_emails(), "team_unfilled", context)
        sent += _unfilled_email([match.attorney.user.email], "team_unfilled_attorney", context,
                                time_zone=attorney_zone(match.attorney))  # fmt: skip
        event_record(verb="interpreter.unfilled_notified", actor=None, target=match,
                     data={"match": match.pk, "emails": sent})  # fmt: skip
    return sent


def _team_unfilled(match: Match) -> bool:
    team = TeamInterpreter.objects.filter(match=match)
    return team.exists() and not team.filter(status__in=TeamInterpreter.LIVE_STATUSES).exists()


def _notified(match: Match) -> bool:
    return DomainEvent.objects.filter(
        verb="interpreter.unfilled_notified",
        target_type=ContentType.objects.get_for_model(Match),
        target_id=str(match.pk),
    ).exists()


def _unfilled_email(
    to: list[str], template: str, context: dict[str, Any], time_zone: tzinfo | None = None
) -> int:
    to = [address for address in to if address]
    if to:
        email_send(to=to, template=template, context=context, time_zone=time_zone)
    return len(to)


def team_end_for_match(*, match_id: int) -> bool:
    """The attorney's match ended (declined, expired, rejected, withdrawn, or the accepted
    case put back): its interpreter is withdrawn and their slot freed. Called inside the
    matching service's transaction (matching.followups.team_end); no team: no-op."""
    assignment = (
        TeamInterpreter.objects.select_for_update()
        .filter(match_id=match_id, status__in=TeamInterpreter.LIVE_STATUSES)
        .first()
    )
    if assignment is None:
        return False
    assignment.status = Status.WITHDRAWN
    assignment.save(update_fields=["status"])
    _slot_release(assignment.interpreter_id)
    _event(assignment, "interpreter.withdrawn", None)
    return True


def team_ready(*, match_id: int) -> bool:
    """Whether the attorney may accept: no team, or its interpreter (the live one: a declined
    interpreter's replacement) has accepted."""
    team = TeamInterpreter.objects.filter(match_id=match_id)
    return not team.exists() or team.filter(status=Status.ACCEPTED).exists()


# Helpers


def _check_open(assignment: TeamInterpreter, user: User | None) -> None:
    owner = InterpreterProfile.objects.get(pk=assignment.interpreter_id)
    if user is None or owner.user_id != user.pk:
        raise InterpreterError("This is not your offer.", code="not_yours")
    if owner.verification != VERIFIED:
        raise InterpreterError("You are not verified yet.", code="not_verified")
    if assignment.status != Status.ACTIVE:
        raise InterpreterError("This offer is no longer open.", code="not_open")
    if not Match.objects.filter(pk=assignment.match_id, status=Match.Status.OFFERED).exists():
        raise InterpreterError("This offer is not open.", code="not_offered")


def _team_match_lock(match_id: int) -> Match:
    """The attorney's row, then the match's: the first two locks of the global order."""
    attorney_id = Match.objects.values_list("attorney_id", flat=True).get(pk=match_id)
    AttorneyProfile.objects.select_for_update().get(pk=attorney_id)
    return Match.objects.select_for_update().get(pk=match_id)


def _assignment_lock(pk: int) -> TeamInterpreter:
    return TeamInterpreter.objects.select_for_update().get(pk=pk)


def _check_coordinator(actor: Actor) -> None:
    if actor is None or not actor.has_perm(COORDINATOR_PERMISSION):
        raise InterpreterError("Only a coordinator can do this.", code="not_permitted")


def _slot_take(interpreter_id: int) -> None:
    InterpreterProfile.objects.filter(pk=interpreter_id).update(
        active_assignments=F("active_assignments") + 1
    )


def _slot_release(interpreter_id: int) -> None:
    InterpreterProfile.objects.filter(pk=interpreter_id).update(
        active_assignments=F("active_assignments") - 1
    )


def _event(assignment: TeamInterpreter, verb: str, actor: Actor, **data: Any) -> None:
    """Ids only (SEC-23)."""
    base = {"match": assignment.match_id, "interpreter": assignment.interpreter_id}
    event_record(verb=verb, actor=actor, target=assignment, data=base | data)
