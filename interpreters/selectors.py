"""Reads for the interpreter pages, scoped to the signed-in interpreter (404 otherwise, SEC-12).

Staged disclosure for the interpreter of a team (SEC-15), as for the attorney:

    stage          fetch                          shows
    offer          assignment_offer_get           the non-identifying summary (match offered)
    parties        assignment_offer_get           + the respondent's name, for the conflict check
    full record    assignment_case_get            + A-number and contact route: only once the
                                                  interpreter accepted AND the attorney did, so
                                                  neither sees them before both cleared the check
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Manager, Q, QuerySet

from cases.models import CaseRequest, Language
from core.errors import AccessRefused
from core.types import AnyUser
from interpreters.models import InterpreterLanguage, InterpreterProfile, TeamInterpreter
from matching.models import Match
from volunteers.models import AttorneyLanguage
from volunteers.selectors import CaseSummary, case_summary, record_disclosure

Status = TeamInterpreter.Status
# An interpreter is searched again only for a team whose attorney's match is still open: an
# accepted match already has its interpreter, an ended one withdrew it (team_end_for_match).
SEARCHABLE = (Match.Status.PROPOSED, Match.Status.APPROVED, Match.Status.OFFERED)
_RELATED = ("match__case__language", "match__case__court", "match__case__case_type",
            "bridge_language", "match__attorney__user")  # fmt: skip


def interpreter_for_user(*, user: AnyUser) -> InterpreterProfile | None:
    if not user.is_authenticated:
        return None
    return InterpreterProfile.objects.filter(user=user).first()


@dataclass(frozen=True)
class InterpreterDashboard:
    interpreter: InterpreterProfile
    languages: list[InterpreterLanguage]
    offers: list[TeamInterpreter]
    cases: list[TeamInterpreter]


def interpreter_dashboard(*, interpreter: InterpreterProfile) -> InterpreterDashboard:
    languages = list(interpreter.language_skills.select_related("language"))
    if interpreter.verification != "verified":
        return InterpreterDashboard(interpreter, languages, [], [])
    mine = TeamInterpreter.objects.filter(interpreter=interpreter).select_related(*_RELATED)
    return InterpreterDashboard(
        interpreter=interpreter,
        languages=languages,
        offers=list(mine.filter(status=Status.ACTIVE, match__status=Match.Status.OFFERED)),
        cases=list(mine.filter(status=Status.ACCEPTED).exclude(
            match__status__in=[Match.Status.DECLINED, Match.Status.EXPIRED,
                               Match.Status.REJECTED, Match.Status.WITHDRAWN])),
    )  # fmt: skip


def _mine(*, user: User, assignment_id: int) -> QuerySet[TeamInterpreter]:
    return TeamInterpreter.objects.select_related(*_RELATED).filter(
        pk=assignment_id, interpreter__user_id=user.pk, interpreter__verification="verified"
    )


def assignment_offer_get(*, user: User, assignment_id: int) -> TeamInterpreter:
    """The interpreter's open team offer (their own, the attorney's match offered), else 404."""
    found = (
        _mine(user=user, assignment_id=assignment_id)
        .filter(status=Status.ACTIVE, match__status=Match.Status.OFFERED)
        .first()
    )
    if found is None:
        raise AccessRefused(TeamInterpreter._meta.label_lower, "No such offer.")
    return found


def assignment_seen_get(*, user: User, assignment_id: int) -> TeamInterpreter:
    """The offer page's object: open, or accepted by the interpreter (waiting for the
    attorney, or represented since); else 404."""
    found = _mine(user=user, assignment_id=assignment_id).filter(
        Q(status=Status.ACTIVE, match__status=Match.Status.OFFERED)
        | Q(status=Status.ACCEPTED, match__status__in=[Match.Status.OFFERED,
                                                       Match.Status.ACCEPTED])
    ).first()  # fmt: skip
    if found is None:
        raise AccessRefused(TeamInterpreter._meta.label_lower, "No such offer.")
    return found


def assignment_case_get(*, user: User, assignment_id: int) -> TeamInterpreter:
    """The full record: both have accepted (so both cleared the conflict check), else 404."""
    found = (
        _mine(user=user, assignment_id=assignment_id)
        .filter(status=Status.ACCEPTED, match__status=Match.Status.ACCEPTED)
        .first()
    )
    if found is None:
        raise AccessRefused(TeamInterpreter._meta.label_lower, "No such case.")
    return found


@dataclass(frozen=True)
class TeamOffer:
    assignment_id: int
    status: str
    conflict_attested_at: object
    bridge: str
    attorney_accepted: bool
    case: CaseSummary


def team_offer(*, assignment: TeamInterpreter) -> TeamOffer:
    return TeamOffer(
        assignment_id=assignment.pk,
        status=assignment.status,
        conflict_attested_at=assignment.conflict_attested_at,
        bridge=assignment.bridge_language.name,
        attorney_accepted=assignment.match.status == Match.Status.ACCEPTED,
        case=case_summary(case=assignment.match.case),
    )


def team_parties(*, assignment: TeamInterpreter) -> tuple[tuple[str, str], ...]:
    if assignment.status != Status.ACTIVE:
        raise AccessRefused(TeamInterpreter._meta.label_lower, "No such offer.")
    name = assignment.match.case.respondent_name
    return (("Respondent", str(name)),) if name else ()


@dataclass(frozen=True)
class TeamRecord:
    assignment_id: int
    attorney: str
    attorney_email: str
    case: CaseSummary
    respondent: tuple[tuple[str, str], ...]


def team_record(*, assignment: TeamInterpreter) -> TeamRecord:
    record = record_disclosure(match=assignment.match)  # 404 unless the attorney accepted
    attorney = assignment.match.attorney
    return TeamRecord(assignment.pk, str(attorney), attorney.user.email, record.case,
                      record.respondent)  # fmt: skip


@dataclass(frozen=True)
class TeamNote:
    interpreter: TeamInterpreter  # the team's latest: the live one, or the last who declined
    replaced: bool  # an interpreter before this one declined


def team_for_match(*, match_id: int) -> TeamNote | None:
    """The team interpreter of an attorney's match, for the attorney's offer page."""
    team = list(
        TeamInterpreter.objects.select_related("interpreter__user", "bridge_language")
        .filter(match_id=match_id)
        .order_by("-created_at", "-pk")[:2]
    )
    return TeamNote(team[0], replaced=len(team) > 1) if team else None


# The need dashboard: languages where interpreters are the missing piece (../shared/DOMAIN.md).
FOCUS_LANGUAGES = ("mam", "quc", "kjb", "kek", "hat", "acr", "cak")


@dataclass(frozen=True)
class InterpreterGap:
    code: str
    name: str
    open_cases: int
    attorneys: int  # verified attorneys who speak it
    interpreters: int  # verified interpreters who speak it
    teams: int  # cases with a live attorney + interpreter team

    @property
    def interpreters_missing(self) -> bool:
        return self.open_cases > 0 and self.attorneys == 0


def teams_without_interpreter(*, match_ids: Iterable[int]) -> list[int]:
    """Of these attorney matches, the teams a new interpreter search could fill: the match
    still open, with interpreters before and none live now (all declined or withdrawn)."""
    return list(
        Match.objects.filter(pk__in=match_ids, status__in=SEARCHABLE,
                             team_interpreters__isnull=False)
        .exclude(team_interpreters__status__in=TeamInterpreter.LIVE_STATUSES)
        .order_by("pk").distinct().values_list("pk", flat=True)
    )  # fmt: skip


def interpreter_gaps() -> list[InterpreterGap]:
    """Open cases, attorneys, interpreters and teams per focus language (and any other an
    interpreter speaks that no attorney does): where no attorney speaks the language, an
    interpreter is the missing piece. Bridge languages (Spanish, English) are left out."""
    spoken = set(InterpreterLanguage.objects.values_list("language_id", flat=True).distinct())
    spoken -= set(_speakers(AttorneyLanguage.objects, "attorney", spoken))
    codes = sorted(set(FOCUS_LANGUAGES) | spoken)
    open_cases = dict(
        CaseRequest.objects.filter(status=CaseRequest.Status.OPEN, language_id__in=codes)
        .values_list("language_id").annotate(n=Count("pk")).values_list("language_id", "n")
    )  # fmt: skip
    attorneys = _speakers(AttorneyLanguage.objects, "attorney", codes)
    interpreters = _speakers(InterpreterLanguage.objects, "interpreter", codes)
    teams = dict(
        TeamInterpreter.objects.filter(status__in=TeamInterpreter.LIVE_STATUSES,
                                       match__case__language_id__in=codes)
        .values_list("match__case__language_id").annotate(n=Count("pk"))
        .values_list("match__case__language_id", "n")
    )  # fmt: skip
    names = dict(Language.objects.filter(code__in=codes).values_list("code", "name"))
    gaps = [InterpreterGap(c, names.get(c, c), open_cases.get(c, 0), attorneys.get(c, 0),
                           interpreters.get(c, 0), teams.get(c, 0)) for c in codes]  # fmt: skip
    return sorted(gaps, key=lambda g: (-g.interpreters_missing, -g.open_cases, g.name))


def _speakers(manager: "Manager[Any]", who: str, codes: Iterable[str]) -> dict[str, int]:
    rows = (
        manager.filter(language_id__in=codes, **{f"{who}__verification": "verified"})
        .values_list("language_id")
        .annotate(n=Count(who, distinct=True))
        .values_list("language_id", "n")
    )
    return dict(rows)
