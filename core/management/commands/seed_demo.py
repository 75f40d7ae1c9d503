import random
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cases.crypto import a_number_hash
from cases.models import CaseRequest, CaseType, ImmigrationCourt
from cases.priority import case_priority
from core.demo import DEMO_DOMAIN, FIRST_NAMES, LAST_NAMES, DemoWorld, build_world
from core.demo_coordinator import COORDINATOR_EMAIL, password_remember
from core.demo_volunteers import demo_volunteers, demo_volunteers_enable
from core.roles import coordinator_group_sync, identifier_viewers_group_sync
from interpreters.demo import interpreters_demo_seed
from matching.demo import followup_demo_seed
from mentoring.demo import mentoring_demo_seed
from pledges.models import Pledge
from volunteers.models import (
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    Organization,
    PracticeArea,
)


class Command(BaseCommand):
    help = (
        "Create a believable demo world (organizations, attorneys, case requests, pledges) and a "
        "coordinator account. Idempotent: a second run with the same seed adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument("--attorneys", type=int, default=300)
        parser.add_argument("--cases", type=int, default=3000)
        parser.add_argument("--organizations", type=int, default=40)
        parser.add_argument("--pledges", type=int, default=80)

    def handle(self, *args, **options):
        for name in ("attorneys", "cases", "organizations", "pledges"):
            if not 0 <= options[name] <= 1_000_000:
                raise CommandError(f"--{name} must be between 0 and 1,000,000")
        if not ImmigrationCourt.objects.exists():
            raise CommandError("No reference data: run `manage.py migrate` first.")
        world = build_world(
            seed=options["seed"],
            attorneys=options["attorneys"],
            cases=options["cases"],
            organizations=options["organizations"],
            pledges=options["pledges"],
            today=timezone.localdate(),
        )
        with transaction.atomic():
            orgs = _organizations(world)
            created = {
                "organizations": orgs.pop("_created"),
                "attorneys": _attorneys(world, orgs),
                "cases": _cases(world, orgs),
                "pledges": _pledges(world, orgs),
                "board requests": _board_requests(),
            }
            created |= mentoring_demo_seed(seed=options["seed"])
            password = _coordinator()
            coordinator = get_user_model().objects.get(username=COORDINATOR_EMAIL)
            created |= followup_demo_seed(seed=options["seed"], coordinator=coordinator)
            created |= interpreters_demo_seed(coordinator=coordinator)
            volunteer_password = demo_volunteers_enable(coordinator=coordinator)
        self.stdout.write("Demo data: " + ", ".join(f"{n} {k} added" for k, n in created.items()))
        if volunteer_password:
            accounts = ", ".join(email for _role, email in demo_volunteers())
            self.stdout.write(
                self.style.WARNING(
                    f"Volunteer accounts (DEBUG only): {accounts} / {volunteer_password}"
                )
            )
        if password:
            self.stdout.write(
                self.style.WARNING(
                    f"Coordinator account: {COORDINATOR_EMAIL} / {password} (`manage.py "
                    "demo_coordinator` shows it again)"
                )
            )
        else:
            self.stdout.write(
                f"Coordinator account {COORDINATOR_EMAIL} exists; password unchanged "
                "(`manage.py demo_coordinator` shows it)."
            )


def _organizations(world: DemoWorld) -> dict:
    existing = {o.name.lower(): o for o in Organization.objects.all()}
    new = [
        Organization(name=name, kind=kind, city=city, state=state, confirmed=True)
        for name, kind, city, state in world.organizations
        if name.lower() not in existing
    ]
    Organization.objects.bulk_create(new)
    existing = {o.name.lower(): o for o in Organization.objects.all()}
    by_index = {i: existing[name.lower()] for i, (name, *_rest) in enumerate(world.organizations)}
    return {**by_index, "_created": len(new)}


def _attorneys(world: DemoWorld, orgs: dict) -> int:
    user_model = get_user_model()
    taken = set(
        user_model.objects.filter(email__endswith="@" + DEMO_DOMAIN).values_list("email", flat=True)
    )
    todo = [a for a in world.attorneys if a.email not in taken]
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=a.email, email=a.email, first_name=a.first_name, last_name=a.last_name,
                password="!" + secrets.token_urlsafe(20),  # unusable; core.demo_volunteers: a few
            )
            for a in todo
        ]
    )  # fmt: skip
    now = timezone.now()
    profiles = AttorneyProfile.objects.bulk_create(
        [
            AttorneyProfile(
                user=user, organization=orgs.get(a.org_index), home_zip=a.home_zip,
                latitude=a.latitude, longitude=a.longitude,
                travel_radius_miles=a.travel_radius_miles, remote_ok=a.remote_ok,
                remote_preferred=a.remote_preferred, detained_ok=a.detained_ok,
                monthly_offer_cap=a.monthly_offer_cap,
                years_experience=a.years_experience, capacity=a.capacity,
                verification="verified" if a.verified else "pending",
                verified_at=now if a.verified else None,
            )
            for user, a in zip(users, todo, strict=True)
        ]
    )  # fmt: skip
    _attorney_details(todo, profiles, now)
    return len(profiles)


def _attorney_details(todo, profiles, now) -> None:
    admissions, languages, areas = [], [], []
    for profile, a in zip(profiles, todo, strict=True):
        for state, number in a.bar:
            admissions.append(
                BarAdmission(
                    attorney=profile, jurisdiction=state, bar_number=number,
                    verified_at=now if a.verified else None,
                )
            )  # fmt: skip
        for code, proficiency in a.languages.items():
            languages.append(
                AttorneyLanguage(attorney=profile, language_id=code, proficiency=proficiency)
            )
        for code, handled in a.practice_areas.items():
            areas.append(PracticeArea(attorney=profile, case_type_id=code, cases_handled=handled))
    BarAdmission.objects.bulk_create(admissions)
    AttorneyLanguage.objects.bulk_create(languages)
    PracticeArea.objects.bulk_create(areas)
    pairs = list(zip(profiles, todo, strict=True))
    preferred, excluded = AttorneyProfile.preferred_types, AttorneyProfile.excluded_types
    preferred.through.objects.bulk_create(
        preferred.through(attorneyprofile=p, casetype_id=code)
        for p, a in pairs
        for code in a.preferred_types
    )
    excluded.through.objects.bulk_create(
        excluded.through(attorneyprofile=p, casetype_id=code)
        for p, a in pairs
        for code in a.excluded_types
    )


def _cases(world: DemoWorld, orgs: dict) -> int:
    courts = dict(ImmigrationCourt.objects.values_list("code", "pk"))
    case_types = set(CaseType.objects.values_list("code", flat=True))
    before = CaseRequest.objects.count()
    today = timezone.localdate()
    people = _fictional_people(world)
    rows = [
        CaseRequest(
            reference=c.reference, language_id=c.language, relay_language_id=c.relay_language,
            relay_interpreter_ok=c.relay_language is not None, court_id=courts[c.court],
            case_type_id=c.case_type if c.case_type in case_types else "asylum",
            detained=c.detained, detention_facility=c.detention_facility, remote_ok=c.remote_ok,
            next_hearing_date=c.next_hearing_date, filing_deadline=c.filing_deadline,
            summary=c.summary, organization=orgs.get(c.org_index),
            source=CaseRequest.Source.COORDINATOR,
            respondent_name=name, a_number=a_number, a_number_hash=a_number_hash(a_number),
            country_of_nationality=NATIONALITY.get(c.language, ""),
            priority=case_priority(
                detained=c.detained, next_hearing_date=c.next_hearing_date,
                filing_deadline=c.filing_deadline, waiting_since=c.waiting_since, today=today,
            ).total,
        )
        for c, (name, a_number) in zip(world.cases, people, strict=True)
    ]  # fmt: skip
    # References are unique: rows from an earlier run are skipped by the database.
    CaseRequest.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    _other_languages(world)
    return CaseRequest.objects.count() - before


def _other_languages(world: DemoWorld) -> None:
    """The cases' other languages: ignore_conflicts returns no primary keys, so they are looked
    up by reference (one query); links from an earlier run are skipped by the database."""
    spoken = {c.reference: c.other_languages for c in world.cases if c.other_languages}
    pks = CaseRequest.objects.filter(reference__in=spoken).values_list("reference", "pk")
    through = CaseRequest.other_languages.through
    links = [
        through(caserequest_id=pk, language_id=code)
        for reference, pk in pks
        for code in spoken[reference]
    ]
    through.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)


# A plausible nationality for each demo language (the first that EOIR data makes most common).
NATIONALITY = {
    "spa": "GT", "mam": "GT", "quc": "GT", "kek": "GT", "kjb": "GT", "knj": "GT", "acr": "GT",
    "cac": "GT", "jac": "GT", "cak": "GT", "que": "EC", "por": "BR", "hat": "HT", "cmn": "CN",
    "pan": "IN", "hin": "IN", "ara": "EG", "rus": "RU", "ron": "RO", "fra": "SN", "wol": "SN",
    "tir": "ER", "tur": "TR", "pus": "AF", "prs": "AF", "eng": "GH",
}  # fmt: skip


def _fictional_people(world: DemoWorld) -> list[tuple[str, str]]:
    """Invented respondent names and A-numbers (999-prefixed, outside issued ranges).

    Drawn from their own RNG so that adding them did not change the rest of the demo world.
    """
    rng = random.Random(len(world.cases))
    return [
        (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (demo)", f"999{i:06d}")
        for i in range(len(world.cases))
    ]


def _pledges(world: DemoWorld, orgs: dict) -> int:
    taken = set(
        Pledge.objects.filter(contact_email__endswith="@" + DEMO_DOMAIN).values_list(
            "contact_email", flat=True
        )
    )
    rows = [
        Pledge(
            organization=orgs[p.org_index], contact_name=p.contact_name,
            contact_email=p.contact_email, kind=p.kind, amount=p.amount,
            period_start=p.period_start,
            period_end=p.period_start.replace(year=p.period_start.year + 1),
            status=p.status, public=p.public, message=p.message,
            confirmed_at=timezone.now() if p.status != "unconfirmed" else None,
        )
        for p in world.pledges
        if p.contact_email not in taken
    ]  # fmt: skip
    Pledge.objects.bulk_create(rows)
    return len(rows)


def _coordinator() -> str | None:
    """Create the demo coordinator once; return the generated password, or None if it exists."""
    user_model = get_user_model()
    if user_model.objects.filter(username=COORDINATOR_EMAIL).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(
        username=COORDINATOR_EMAIL, email=COORDINATOR_EMAIL, password=password,
        first_name="Demo", last_name="Coordinator", is_staff=True,
    )  # fmt: skip
    # The demo coordinator may see the (invented) identifiers; real coordinators get that
    # permission only when someone adds them to the Identifier viewers group.
    user.groups.add(coordinator_group_sync(), identifier_viewers_group_sync())
    transaction.on_commit(lambda: password_remember(password))  # for make run's banner
    return password


def _board_requests(count: int = 3) -> int:
    """A few verified demo attorneys ask for the most urgent case on their opportunity board,
    so the coordinator's review queue shows "Requested by attorney" rows (issue 13). Once."""
    from matching.board import BoardFilters, board_page, board_scope
    from matching.models import Match
    from matching.services import MatchError, match_request_by_attorney

    demo = AttorneyProfile.objects.filter(
        user__email__endswith="@" + DEMO_DOMAIN, verification=AttorneyProfile.Verification.VERIFIED
    )
    if Match.objects.filter(attorney__in=demo, source=Match.Source.ATTORNEY).exists():
        return 0
    made = 0
    for attorney in demo.select_related("user").order_by("pk")[: count * 4]:
        rows = board_page(scope=board_scope(attorney=attorney), filters=BoardFilters(), size=1)
        if not rows.rows:
            continue
        case = CaseRequest.objects.select_related(
            "language", "relay_language", "case_type", "court"
        ).get(pk=rows.rows[0].case.pk)
        try:
            match_request_by_attorney(case=case, attorney=attorney)
        except MatchError:
            continue
        made += 1
        if made == count:
            break
    return made
