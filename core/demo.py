"""A believable demo world, generated deterministically from a seed (../shared/DOMAIN.md).

`build_world` is pure: it draws everything from one seeded RNG before anything touches the
database, so the same seed always describes the same world and `seed_demo` can insert only what is
missing. Weights follow EOIR's FY2023 language figures and the case-type mix of the backlog.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import zipcodes

from cases.reference import COURTS, DETENTION_FACILITIES

# Share of cases by language (EOIR FY2023 completions, indigenous languages of Guatemala and Mexico
# raised to what legal service providers report; the rest spread over other common languages).
CASE_LANGUAGES = {
    "spa": 760, "eng": 30, "por": 30, "hat": 24, "cmn": 14, "pan": 10, "mam": 18, "quc": 8,
    "kek": 6, "kjb": 5, "knj": 2, "acr": 2, "cac": 2, "jac": 1, "cak": 3, "que": 2, "ara": 6,
    "rus": 8, "ron": 4, "fra": 8, "wol": 4, "tir": 4, "tur": 6, "hin": 6, "pus": 4, "prs": 4,
}  # fmt: skip
INDIGENOUS_WITH_SPANISH_RELAY = {
    "mam",
    "quc",
    "kek",
    "kjb",
    "knj",
    "acr",
    "cac",
    "jac",
    "cak",
    "que",
}

# Other languages the person speaks: (language, share of its speakers who also speak it). Many
# speakers of Guatemala's and Mexico's indigenous languages also speak some Spanish (and then
# need a relay interpreter less often); Haitians often speak French, as do many Senegalese Wolof
# speakers and some Arabic speakers from North Africa; Punjabi speakers often speak Hindi; Afghans
# often speak both Pashto and Dari; some Brazilians get by in Spanish, some Eritreans in Arabic.
OTHER_CASE_LANGUAGES = {
    **dict.fromkeys(sorted(INDIGENOUS_WITH_SPANISH_RELAY), (("spa", 0.4),)),
    "hat": (("fra", 0.25),), "wol": (("fra", 0.4),), "ara": (("fra", 0.15),),
    "pan": (("hin", 0.3),), "pus": (("prs", 0.3),), "prs": (("pus", 0.2),),
    "por": (("spa", 0.1),), "tir": (("ara", 0.1),),
}  # fmt: skip
# Share of indigenous-language speakers who accept a relay interpreter through Spanish, by
# whether they speak Spanish themselves (then an attorney can often talk with them directly).
RELAY_SHARE = {False: 0.7, True: 0.3}

CASE_TYPES = {
    "asylum": 520, "cancellation-nonlpr": 100, "cancellation-lpr": 30, "bond": 50, "sijs": 60,
    "u-visa": 40, "t-visa": 10, "vawa": 20, "tps": 30, "adjustment": 40, "bia-appeal": 60,
    "document-assistance": 40,
}  # fmt: skip

# Relative docket sizes; unlisted courts weigh 10.
COURT_WEIGHTS = {
    "new-york-city": 120, "los-angeles": 90, "miami": 90, "houston": 80, "dallas": 60,
    "san-francisco": 60, "chicago": 50, "atlanta": 50, "newark": 50, "boston": 45,
    "san-antonio": 40, "orlando": 40, "denver": 30, "annandale": 35, "sterling": 25,
    "baltimore": 25, "hyattsville": 25, "philadelphia": 30, "seattle": 25, "charlotte": 25,
    "phoenix": 25, "las-vegas": 20, "elizabeth": 15, "otay-mesa": 15, "adelanto": 15,
}  # fmt: skip

# (language, share of attorneys who speak it, proficiency weights native..conversational)
ATTORNEY_LANGUAGES = [
    ("spa", 0.45, (3, 3, 2, 2)), ("por", 0.05, (3, 3, 2, 2)), ("fra", 0.06, (1, 3, 3, 3)),
    ("hat", 0.03, (5, 3, 1, 1)), ("cmn", 0.03, (5, 3, 1, 1)), ("ara", 0.02, (5, 3, 1, 1)),
    ("rus", 0.02, (5, 3, 1, 1)), ("pan", 0.02, (5, 3, 1, 1)), ("hin", 0.02, (4, 3, 2, 1)),
    ("tur", 0.01, (5, 2, 1, 1)), ("mam", 0.006, (5, 2, 1, 1)), ("quc", 0.004, (5, 2, 1, 1)),
]  # fmt: skip

FIRST_NAMES = (
    "Ana Maria Jose Luis Carmen Daniel Grace Samuel Priya Arjun Wei Mei Omar Layla Ivan Olga Fatou "
    "Mamadou Sofia Lucas Hannah David Rachel Michael Sarah James Emily John Laura Kevin Aisha "
    "Tomas "
    "Beatriz Rafael Elena Nadia Yusuf Chloe Marcus Jasmine Diego Camila Andre Naomi Victor Ruth"
).split()
LAST_NAMES = (
    "Garcia Martinez Lopez Hernandez Gonzalez Rodriguez Perez Sanchez Ramirez Torres Nguyen Kim "
    "Patel Singh Chen Wang Cohen Goldberg O'Brien Murphy Johnson Williams Brown Jones Miller Davis "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
    "Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell"
).split()
FIRM_WORDS = (
    "Hartley Moss Whitaker Lane Brennan Cole Ashford Pierce Sterling Vaughn Mercer Holloway Keane "
    "Dalton Farrow Grant Hayes Ingram Lockwood Prescott"
).split()
ORG_KINDS = {
    "law_firm": 45, "nonprofit": 20, "bar_association": 10, "law_school": 10, "corporate": 8,
    "advocacy": 5, "other": 2,
}  # fmt: skip
ORG_SUFFIX = {
    "law_firm": "LLP", "nonprofit": "Immigrant Legal Services",
    "bar_association": "Bar Association",
    "law_school": "Law School Immigration Clinic", "corporate": "Legal Department",
    "advocacy": "Immigrant Rights Project", "other": "Pro Bono Network",
}  # fmt: skip

DEMO_DOMAIN = "demo.probono.test"


@dataclass
class DemoAttorney:
    email: str
    first_name: str
    last_name: str
    org_index: int | None
    home_zip: str
    latitude: str
    longitude: str
    travel_radius_miles: int
    remote_ok: bool
    years_experience: int
    capacity: int
    verified: bool
    bar: list[tuple[str, str]]
    languages: dict[str, int]
    practice_areas: dict[str, int]
    # Preferences (issue 13); drawn from a generator of their own, so adding them changed no
    # other draw of the demo world.
    remote_preferred: bool = False
    detained_ok: bool = True
    monthly_offer_cap: int | None = None
    preferred_types: tuple[str, ...] = ()
    excluded_types: tuple[str, ...] = ()


@dataclass
class DemoCase:
    reference: str
    language: str
    relay_language: str | None
    court: str
    case_type: str
    detained: bool
    remote_ok: bool
    next_hearing_date: date
    filing_deadline: date | None
    summary: str
    org_index: int | None
    waiting_since: date
    other_languages: tuple[str, ...] = ()
    detention_facility: str = ""


@dataclass
class DemoPledge:
    org_index: int
    contact_email: str
    contact_name: str
    kind: str
    amount: int
    period_start: date
    status: str
    public: bool
    message: str


@dataclass
class DemoWorld:
    organizations: list[tuple[str, str, str, str]] = field(default_factory=list)
    attorneys: list[DemoAttorney] = field(default_factory=list)
    cases: list[DemoCase] = field(default_factory=list)
    pledges: list[DemoPledge] = field(default_factory=list)


def _weekday(day: date) -> date:
    """Immigration courts sit Monday to Friday: a hearing drawn on a weekend moves to Monday."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 3958.8 * 2 * math.asin(math.sqrt(a))


def _zips_near_courts(radius_miles: float = 35) -> dict[str, list[dict]]:
    """Standard ZIP codes within the radius of each court's city, in a stable order."""
    by_state: dict[str, list[dict]] = {}
    for row in zipcodes.list_all():
        if row["zip_code_type"] == "STANDARD" and row["active"] and row["lat"]:
            by_state.setdefault(row["state"], []).append(row)
    near: dict[str, list[dict]] = {}
    for code, _name, _city, state, zip_code, _detained in COURTS:
        center = zipcodes.matching(zip_code)[0]
        lat, lon = float(center["lat"]), float(center["long"])
        near[code] = sorted(
            (
                r
                for r in by_state[state]
                if _miles(lat, lon, float(r["lat"]), float(r["long"])) <= radius_miles
            ),
            key=lambda r: r["zip_code"],
        ) or [center]
    return near


def _reference(rng: random.Random) -> str:
    return "PBM-" + "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(8))


def _organizations(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    orgs: list[tuple[str, str, str, str]] = []
    names: set[str] = set()
    while len(orgs) < count:
        kind = _pick(rng, ORG_KINDS)
        court = rng.choices([c for c in COURTS if not c[5]], k=1)[0]
        if kind == "law_firm":
            first, second = rng.sample(FIRM_WORDS, 2)
            name = f"{first} & {second} {ORG_SUFFIX[kind]}"
        else:
            name = f"{court[2]} {ORG_SUFFIX[kind]}"
        if name.lower() not in names:
            names.add(name.lower())
            orgs.append((name, kind, court[2], court[3]))
    return orgs


def _attorney(
    rng: random.Random, index: int, org_count: int, near: dict[str, list[dict]]
) -> DemoAttorney:
    court = _pick(rng, {c[0]: COURT_WEIGHTS.get(c[0], 10) for c in COURTS if not c[5]})
    place = rng.choice(near[court])
    languages = {"eng": 4}
    for code, share, proficiency_weights in ATTORNEY_LANGUAGES:
        if rng.random() < share:
            languages[code] = rng.choices([4, 3, 2, 1], weights=proficiency_weights)[0]
    types = {"asylum"} if rng.random() < 0.8 else set()
    types |= set(rng.sample(list(CASE_TYPES), rng.randint(1, 4)))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    remote_ok = rng.random() < 0.5
    return DemoAttorney(
        email=f"attorney{index:04d}@{DEMO_DOMAIN}",
        first_name=first,
        last_name=last,
        org_index=rng.randrange(org_count) if org_count and rng.random() < 0.7 else None,
        home_zip=place["zip_code"],
        latitude=place["lat"],
        longitude=place["long"],
        travel_radius_miles=rng.choice([25, 50, 50, 100, 250]),
        remote_ok=remote_ok,
        years_experience=rng.choice([1, 2, 3, 5, 8, 12, 20, 30]),
        capacity=rng.choices([1, 2, 3, 5], weights=[45, 30, 15, 10])[0],
        verified=rng.random() < 0.85,
        bar=[(place["state"], f"{rng.randint(100000, 9999999)}")],
        languages=languages,
        practice_areas={t: rng.choice([0, 1, 3, 8, 25]) for t in sorted(types)},
        **_preferences(random.Random(index * 7919), remote_ok, sorted(types)),
    )


def _preferences(rng: random.Random, remote_ok: bool, types: list[str]) -> dict:
    """A demo attorney's preferences: some prefer remote work, a quarter take no detained
    cases, some prefer one of their case types or exclude another, a few cap their offers."""
    preferred = (rng.choice(types),) if types and rng.random() < 0.4 else ()
    # Excluding a type they take and do not prefer: "I know bond work, but not now".
    others = [t for t in types if t not in preferred]
    return {
        "remote_preferred": remote_ok and rng.random() < 0.3,
        "detained_ok": rng.random() >= 0.25,
        "monthly_offer_cap": rng.choice([2, 3, 5]) if rng.random() < 0.15 else None,
        "preferred_types": preferred,
        "excluded_types": (rng.choice(others),) if len(types) > 1 and rng.random() < 0.2 else (),
    }


def _case(rng: random.Random, today: date, org_count: int) -> DemoCase:
    language = _pick(rng, CASE_LANGUAGES)
    case_type = _pick(rng, CASE_TYPES)
    court_weights = {c[0]: COURT_WEIGHTS.get(c[0], 10) for c in COURTS}
    court = _pick(rng, court_weights)
    detained_court = next(c[5] for c in COURTS if c[0] == court)
    detained = detained_court or case_type == "bond" or rng.random() < 0.08
    if case_type == "bond" and not detained_court:
        court = _pick(rng, {c[0]: 10 for c in COURTS if c[5]})
    hearing = _weekday(
        today + timedelta(days=rng.randint(5, 60) if detained else rng.randint(14, 720))
    )
    deadline = None
    if case_type == "asylum" and rng.random() < 0.3:
        deadline = today + timedelta(days=rng.randint(20, 365))
    elif case_type == "bia-appeal":
        deadline = today + timedelta(days=rng.randint(5, 21))
    others = tuple(
        sorted(
            code for code, share in OTHER_CASE_LANGUAGES.get(language, ()) if rng.random() < share
        )
    )
    relay_share = RELAY_SHARE["spa" in others]
    relay = (
        "spa" if language in INDIGENOUS_WITH_SPANISH_RELAY and rng.random() < relay_share else None
    )
    remote = case_type in {"bia-appeal", "document-assistance"} or rng.random() < 0.2
    summary = (
        f"{'Detained respondent' if detained else 'Respondent'} seeking help with "
        f"{case_type.replace('-', ' ')}; next hearing {hearing:%B %Y}."
        + (" Family in the United States." if rng.random() < 0.4 else "")
        + (" Needs an interpreter." if language != "eng" else "")
    )
    return DemoCase(
        reference=_reference(rng),
        language=language,
        relay_language=relay,
        court=court,
        case_type=case_type,
        detained=detained,
        remote_ok=remote,
        next_hearing_date=hearing,
        filing_deadline=deadline,
        summary=summary,
        org_index=rng.randrange(org_count) if org_count and rng.random() < 0.5 else None,
        waiting_since=today - timedelta(days=rng.randint(0, 240)),
        other_languages=others,
        detention_facility=_facility(court) if detained else "",
    )


def _facility(court: str) -> str:
    """Where a detained demo respondent is held: the facility a detained-docket court hears, or
    a county jail under contract with ICE near any other court (no draw: the demo world's other
    values stay as they were)."""
    if court in DETENTION_FACILITIES:
        return DETENTION_FACILITIES[court]
    city, state = next((c[2], c[3]) for c in COURTS if c[0] == court)
    return f"County jail under ICE contract near {city}, {state}"


def _pledge(rng: random.Random, index: int, org_count: int, today: date) -> DemoPledge:
    kind = rng.choices(["hours", "cases", "attorneys"], weights=[60, 25, 15])[0]
    amount = {
        "hours": rng.randrange(50, 5001, 50), "cases": rng.randint(5, 100),
        "attorneys": rng.randint(2, 40),
    }[kind]  # fmt: skip
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return DemoPledge(
        org_index=rng.randrange(org_count),
        contact_email=f"pledge{index:04d}@{DEMO_DOMAIN}",
        contact_name=f"{first} {last}",
        kind=kind,
        amount=amount,
        period_start=date(today.year, 1, 1),
        status=rng.choices(["approved", "pending", "unconfirmed"], weights=[70, 20, 10])[0],
        public=rng.random() < 0.8,
        message=rng.choice(["", "Proud to stand with our immigrant neighbours.", "Glad to help."]),
    )


def build_world(
    *, seed: int, attorneys: int, cases: int, organizations: int, pledges: int, today: date
) -> DemoWorld:
    rng = random.Random(seed)
    near = _zips_near_courts()
    world = DemoWorld(organizations=_organizations(rng, organizations))
    org_count = len(world.organizations)
    world.attorneys = [_attorney(rng, i, org_count, near) for i in range(1, attorneys + 1)]
    world.cases = [_case(rng, today, org_count) for _ in range(cases)]
    world.pledges = (
        [_pledge(rng, i, org_count, today) for i in range(1, pledges + 1)] if org_count else []
    )
    return world
