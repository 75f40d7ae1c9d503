"""Mentoring services: every change of a mentoring profile, mentorship or case share.

Invariants kept together here (the database enforces them too):

- `MentoringProfile.active_mentees` equals the mentor's active mentorships (proposed, offered,
  accepted), changed only by `F()` updates on the mentor's locked profile row; the database
  refuses a value above `mentee_capacity`.
- At most one active mentorship per mentee, one mentorship per pair ever (a declined or
  rejected pair is not proposed again).
- A case is shared only by the attorney who accepted it, only with their accepted mentor.

Lock order: mentor's mentoring profile, then mentorship, then share.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from core.emails import email_send, site_link
from core.errors import DomainError
from core.roles import COORDINATOR_PERMISSION
from core.services import event_record
from core.types import Actor
from matching.models import Match
from mentoring import pairing
from mentoring.models import MAX_MENTEES, CaseShare, MentoringProfile, Mentorship
from mentoring.signals import mentorship_offered
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

Status = Mentorship.Status
VERIFIED = AttorneyProfile.Verification.VERIFIED
# Who may mentor: this many years in practice, or this many immigration cases handled.
MENTOR_MIN_YEARS = 5
MENTOR_MIN_CASES = 15
NOTE_MAX = 500


class MentoringError(DomainError):
    code = "mentoring_error"


# Profiles


def mentor_eligible(*, attorney: AttorneyProfile) -> bool:
    """Experienced enough to mentor: MENTOR_MIN_YEARS in practice or MENTOR_MIN_CASES handled."""
    if attorney.years_experience >= MENTOR_MIN_YEARS:
        return True
    handled = PracticeArea.objects.filter(attorney=attorney).aggregate(n=Sum("cases_handled"))
    return (handled["n"] or 0) >= MENTOR_MIN_CASES


def mentoring_profile_for(*, attorney: AttorneyProfile) -> MentoringProfile:
    """The attorney's mentoring profile, created empty on first use (a harmless default)."""
    profile, _ = MentoringProfile.objects.get_or_create(attorney=attorney)
    return profile


def mentoring_preferences_set(
    *, attorney: AttorneyProfile, wants_mentor: bool, request_note: str, mentee_capacity: int
) -> MentoringProfile:
    """Ask for a mentor and/or offer mentoring with a capacity of mentees."""
    note = (request_note or "").strip()
    if len(note) > NOTE_MAX:
        raise MentoringError("The note is too long.", code="note_too_long")
    if not 0 <= mentee_capacity <= MAX_MENTEES:
        raise MentoringError(
            f"Choose between 0 and {MAX_MENTEES} mentees.", code="capacity_out_of_range"
        )
    if mentee_capacity > 0 and not mentor_eligible(attorney=attorney):
        raise MentoringError(
            f"Mentors have {MENTOR_MIN_YEARS} years in practice or {MENTOR_MIN_CASES} "
            "immigration cases behind them.",
            code="not_experienced",
        )
    with transaction.atomic():
        mentoring_profile_for(attorney=attorney)
        profile = MentoringProfile.objects.select_for_update().get(attorney=attorney)
        if mentee_capacity < profile.active_mentees:
            raise MentoringError(
                f"You mentor {profile.active_mentees} attorneys now; end a mentorship first.",
                code="capacity_below_active",
            )
        if wants_mentor and not profile.wants_mentor:
            profile.wants_mentor_since = timezone.now()
        elif not wants_mentor:
            profile.wants_mentor_since = None
        profile.wants_mentor, profile.request_note = wants_mentor, note
        profile.mentee_capacity = mentee_capacity
        profile.save()
        # The note is free text: it stays on the profile, not in the log.
        event_record(
            verb="mentoring.preferences_set",
            actor=attorney.user,
            target=profile,
            data={"wants_mentor": wants_mentor, "mentee_capacity": mentee_capacity},
        )
    return profile


# The run


@dataclass(frozen=True)
class MentoringRunResult:
    mentors: int
    mentees: int
    pairs_allowed: int
    proposals: int
    objective: int


def mentoring_run(*, actor: Actor = None) -> MentoringRunResult:
    """Pair waiting mentees with mentors exactly (mentoring.pairing) and propose each pair.

    1. Lock the profiles of available mentors (verified, experienced, free slots), by pk: a
       second run waits here, then finds the first one's proposals and the slots they took.
    2. Load the mentees waiting (verified, asking, no active mentorship) and the pairs that
       existed before, which are never proposed again.
    3. Solve; create one proposal per pair and take the mentor's slot.
    """
    with transaction.atomic():
        mentor_rows = list(
            MentoringProfile.objects.select_for_update()
            .filter(mentee_capacity__gt=F("active_mentees"), attorney__verification=VERIFIED)
            .select_related("attorney")
            .order_by("pk")
        )
        mentor_rows = [r for r in mentor_rows if mentor_eligible(attorney=r.attorney)]
        mentee_rows = list(_waiting_mentees())
        people = _people([r.attorney for r in mentor_rows + mentee_rows])
        now = timezone.now()
        objective, pairs, scores = pairing.pairs_solve(
            mentors=[(people[r.attorney_id], r.free_slots) for r in mentor_rows],
            # (mentoring_preferences_set sets wants_mentor_since with wants_mentor)
            mentees=[(people[r.attorney_id], (now - (r.wants_mentor_since or now)).days)
                     for r in mentee_rows],
            excluded=set(Mentorship.objects.values_list("mentor_id", "mentee_id")),
        )  # fmt: skip
        for pair in pairs:
            _propose(pair, scores[(pair.mentor, pair.mentee)], actor)
        result = MentoringRunResult(
            mentors=len(mentor_rows),
            mentees=len(mentee_rows),
            pairs_allowed=len(scores),
            proposals=len(pairs),
            objective=objective,
        )
        event_record(verb="mentoring.run", actor=actor, data=result.__dict__)
    return result


def _waiting_mentees() -> QuerySet[MentoringProfile]:
    active = Mentorship.objects.filter(status__in=Mentorship.ACTIVE_STATUSES).values("mentee_id")
    return (
        MentoringProfile.objects.filter(wants_mentor=True, attorney__verification=VERIFIED)
        .exclude(attorney_id__in=active)
        .select_related("attorney")
        .order_by("pk")
    )


def _people(attorneys: list[AttorneyProfile]) -> dict[int, pairing.Person]:
    ids = {a.pk for a in attorneys}
    languages: dict[int, dict[str, int]] = {i: {} for i in ids}
    areas: dict[int, dict[str, int]] = {i: {} for i in ids}
    for attorney_id, code, level in AttorneyLanguage.objects.filter(
        attorney_id__in=ids
    ).values_list("attorney_id", "language_id", "proficiency"):
        languages[attorney_id][code] = level
    for attorney_id, code, handled in PracticeArea.objects.filter(attorney_id__in=ids).values_list(
        "attorney_id", "case_type_id", "cases_handled"
    ):
        areas[attorney_id][code] = handled
    return {
        a.pk: pairing.Person(
            id=a.pk, latitude=float(a.latitude), longitude=float(a.longitude),
            radius_miles=a.travel_radius_miles, remote_ok=a.remote_ok,
            languages=languages[a.pk], areas=areas[a.pk],
        )
        for a in attorneys
    }  # fmt: skip


def _propose(pair: pairing.Pair, score: pairing.PairScore, actor: Actor) -> Mentorship:
    return mentorship_propose(
        mentor_id=pair.mentor,
        mentee_id=pair.mentee,
        score=pair.score,
        breakdown=score.as_dict() | {"priority": pair.score - score.total},
        actor=actor,
    )


def mentorship_propose(
    *, mentor_id: int, mentee_id: int, score: int, breakdown: dict[str, Any], actor: Actor = None
) -> Mentorship:
    """Propose one pairing (a run does, for each pair it chose): the mentor verified,
    experienced and below capacity, the mentee verified and without an active mentorship,
    the pair never proposed before."""
    if score <= 0:
        raise MentoringError("A pairing needs a positive score.", code="invalid_score")
    with transaction.atomic():
        profile = MentoringProfile.objects.select_for_update().filter(attorney_id=mentor_id).first()
        mentor = AttorneyProfile.objects.get(pk=mentor_id)
        if profile is None or profile.free_slots <= 0:
            raise MentoringError("The mentor has no free slot.", code="capacity_exceeded")
        if mentor.verification != VERIFIED or not mentor_eligible(attorney=mentor):
            raise MentoringError("The mentor cannot mentor.", code="mentor_not_eligible")
        if not AttorneyProfile.objects.filter(pk=mentee_id, verification=VERIFIED).exists():
            raise MentoringError("The mentee is not verified.", code="mentee_not_verified")
        pairs = Mentorship.objects.filter(mentee_id=mentee_id)
        if pairs.filter(status__in=Mentorship.ACTIVE_STATUSES).exists():
            raise MentoringError("The mentee already has a mentor.", code="mentee_paired")
        if mentor_id == mentee_id or pairs.filter(mentor_id=mentor_id).exists():
            raise MentoringError("This pair was proposed before.", code="pair_exists")
        mentorship = Mentorship.objects.create(
            mentor_id=mentor_id, mentee_id=mentee_id, score=score, breakdown=breakdown
        )
        _slot_take(mentor_id)
        _event(mentorship, "mentorship.proposed", actor, score=score)
    return mentorship


# Coordinator review


def mentorship_approve(*, mentorship: Mentorship, actor: Actor) -> Mentorship:
    """A coordinator approves a proposal: it is offered to the mentor at once."""
    _check_coordinator(actor)
    with transaction.atomic():
        mentorship = _lock(mentorship.pk)
        if mentorship.status != Status.PROPOSED:
            raise MentoringError("Only a proposal can be approved.", code="not_proposed")
        mentorship = _transition(mentorship, Status.OFFERED, offered_at=timezone.now())
        _event(mentorship, "mentorship.offered", actor)
        pk = mentorship.pk
        transaction.on_commit(
            lambda: mentorship_offered.send(sender=Mentorship, mentorship_id=pk), robust=True
        )
    return mentorship


def mentorship_reject(*, mentorship: Mentorship, actor: Actor) -> Mentorship:
    """A coordinator ends a proposal or an open offer; the mentee waits for the next run."""
    _check_coordinator(actor)
    with transaction.atomic():
        _profile_lock(mentorship.mentor_id)
        mentorship = _lock(mentorship.pk)
        if mentorship.status not in (Status.PROPOSED, Status.OFFERED):
            raise MentoringError("This pairing can no longer be rejected.", code="not_rejectable")
        mentorship = _transition(mentorship, Status.REJECTED)
        _slot_release(mentorship.mentor_id)
        _event(mentorship, "mentorship.rejected", actor)
    return mentorship


# The mentor's answer, and the end


def mentorship_accept(*, mentorship: Mentorship, user: User) -> Mentorship:
    with transaction.atomic():
        _profile_lock(mentorship.mentor_id)
        mentorship = _lock(mentorship.pk)
        _check_mentor(mentorship, user)
        if mentorship.status != Status.OFFERED:
            raise MentoringError("This offer is no longer open.", code="not_offered")
        mentorship = _transition(mentorship, Status.ACCEPTED, responded_at=timezone.now())
        _event(mentorship, "mentorship.accepted", user)
    return mentorship


def mentorship_decline(*, mentorship: Mentorship, user: User) -> Mentorship:
    """The mentor declines; the slot is free again and the pair is never proposed again."""
    with transaction.atomic():
        _profile_lock(mentorship.mentor_id)
        mentorship = _lock(mentorship.pk)
        _check_mentor(mentorship, user, verified=False)
        if mentorship.status != Status.OFFERED:
            raise MentoringError("This offer is no longer open.", code="not_offered")
        mentorship = _transition(mentorship, Status.DECLINED, responded_at=timezone.now())
        _slot_release(mentorship.mentor_id)
        _event(mentorship, "mentorship.declined", user)
    return mentorship


def mentorship_end(*, mentorship: Mentorship, user: User) -> Mentorship:
    """Either party ends an accepted mentorship; the mentor no longer sees shared cases."""
    with transaction.atomic():
        _profile_lock(mentorship.mentor_id)
        mentorship = _lock(mentorship.pk)
        parties = AttorneyProfile.objects.filter(
            pk__in=[mentorship.mentor_id, mentorship.mentee_id], user_id=user.pk
        )
        if not parties.exists():
            raise MentoringError("This is not your mentorship.", code="not_yours")
        if mentorship.status != Status.ACCEPTED:
            raise MentoringError("Only an accepted mentorship can end.", code="not_accepted")
        mentorship = _transition(mentorship, Status.ENDED)
        _slot_release(mentorship.mentor_id)
        _event(mentorship, "mentorship.ended", user)
    return mentorship


# Sharing a case with the mentor


def case_share(*, match: Match, user: User) -> CaseShare:
    """The attorney who accepted `match` shares it with their mentor (idempotent)."""
    with transaction.atomic():
        match = Match.objects.select_for_update().select_related("attorney").get(pk=match.pk)
        if match.attorney.user_id != getattr(user, "pk", None):
            raise MentoringError("This is not your case.", code="not_your_case")
        if match.status != Match.Status.ACCEPTED:
            raise MentoringError("Only a case you accepted can be shared.", code="not_accepted")
        mentorship = Mentorship.objects.filter(
            mentee_id=match.attorney_id, status=Status.ACCEPTED
        ).first()
        if mentorship is None:
            raise MentoringError("You have no mentor yet.", code="no_mentor")
        share, created = CaseShare.objects.get_or_create(mentorship=mentorship, match=match)
        if created:
            _event(mentorship, "mentorship.case_shared", user, match=match.pk, share=share.pk)
    return share


def case_share_attest(*, share: CaseShare, user: User) -> CaseShare:
    """The mentor, having seen the party names, attests to no conflict of interest."""
    with transaction.atomic():
        share = CaseShare.objects.select_for_update().get(pk=share.pk)
        mentorship = Mentorship.objects.get(pk=share.mentorship_id)
        _check_mentor(mentorship, user)
        if mentorship.status != Status.ACCEPTED:
            raise MentoringError("This mentorship has ended.", code="not_accepted")
        if share.conflict_attested_at is None:
            share.conflict_attested_at = timezone.now()
            share.save(update_fields=["conflict_attested_at"])
            _event(mentorship, "mentorship.conflict_attested", user, share=share.pk)
    return share


# Notification (called by mentoring.tasks)


def mentorship_offer_notify(*, mentorship_id: int) -> bool:
    """Email the mentor about a new mentoring offer, once. Attorneys' names only: no case data."""
    with transaction.atomic():
        mentorship = (
            Mentorship.objects.select_for_update(of=("self",))
            .select_related("mentor__user", "mentee__user")
            .filter(pk=mentorship_id)
            .first()
        )
        if mentorship is None or mentorship.status != Status.OFFERED:
            return False
        if _notified(mentorship) or not mentorship.mentor.user.email:
            return False
        email_send(
            to=[mentorship.mentor.user.email],
            template="mentorship_offer",
            context={
                "mentee": str(mentorship.mentee),
                "offer_url": site_link(f"/attorney/mentoring/offers/{mentorship.pk}/"),
            },
        )
        _event(mentorship, "mentorship.offer_notified", None)
    return True


# Helpers


def _notified(mentorship: Mentorship) -> bool:
    from core.models import DomainEvent

    return DomainEvent.objects.filter(
        verb="mentorship.offer_notified", target_id=str(mentorship.pk)
    ).exists()


def _lock(mentorship_id: int) -> Mentorship:
    return Mentorship.objects.select_for_update().get(pk=mentorship_id)


def _profile_lock(attorney_id: int) -> None:
    MentoringProfile.objects.select_for_update().filter(attorney_id=attorney_id).first()


def _check_coordinator(actor: Actor) -> None:
    if actor is None or not actor.has_perm(COORDINATOR_PERMISSION):
        raise MentoringError("Only a coordinator can do this.", code="not_permitted")


def _check_mentor(mentorship: Mentorship, user: User | None, *, verified: bool = True) -> None:
    mentor = AttorneyProfile.objects.get(pk=mentorship.mentor_id)
    if user is None or mentor.user_id != user.pk:
        raise MentoringError("This is not your mentorship.", code="not_yours")
    if verified and mentor.verification != VERIFIED:
        raise MentoringError("Your profile is not verified yet.", code="attorney_not_verified")


def _transition(mentorship: Mentorship, status: str, **fields: Any) -> Mentorship:
    mentorship.status = status
    mentorship.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(mentorship, name, value)
    mentorship.save(update_fields=["status", "status_changed_at", *fields])
    return mentorship


def _slot_take(mentor_id: int) -> None:
    MentoringProfile.objects.filter(attorney_id=mentor_id).update(
        active_mentees=F("active_mentees") + 1
    )


def _slot_release(mentor_id: int) -> None:
    MentoringProfile.objects.filter(attorney_id=mentor_id).update(
        active_mentees=F("active_mentees") - 1
    )


def _event(mentorship: Mentorship, verb: str, actor: Actor, **data: Any) -> None:
    """Ids only: never a name or free text (SEC-23)."""
    base = {"mentor": mentorship.mentor_id, "mentee": mentorship.mentee_id}
    event_record(verb=verb, actor=actor, target=mentorship, data=base | data)
