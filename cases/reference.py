"""Reference data: immigration courts, languages and case types (../shared/DOMAIN.md).

`load_reference_data` is idempotent. After every `migrate` (and every test-database flush) the
post_migrate handler in core.apps runs it with `refresh=False`: missing rows are created and rows a
coordinator edited in the admin are left alone. `manage.py load_reference_data` refreshes them.
Coordinates come from the ZIP centroids that the `zipcodes` package ships; nothing is fetched.
"""

from decimal import Decimal

import pycountry
import zipcodes

# (code, name, city, state, ZIP of the court's city, detained docket only). Source: EOIR's list of
# immigration courts as summarised in DOMAIN.md.
COURTS: list[tuple[str, str, str, str, str, bool]] = [
    ("eloy", "Eloy", "Eloy", "AZ", "85131", True),
    ("florence", "Florence", "Florence", "AZ", "85132", True),
    ("phoenix", "Phoenix", "Phoenix", "AZ", "85004", False),
    ("tucson", "Tucson", "Tucson", "AZ", "85701", False),
    ("adelanto", "Adelanto", "Adelanto", "CA", "92301", True),
    ("concord", "Concord", "Concord", "CA", "94520", False),
    ("imperial", "Imperial", "Imperial", "CA", "92251", True),
    ("los-angeles", "Los Angeles", "Los Angeles", "CA", "90017", False),
    ("otay-mesa", "Otay Mesa", "San Diego", "CA", "92154", True),
    ("sacramento", "Sacramento", "Sacramento", "CA", "95814", False),
    ("san-diego", "San Diego", "San Diego", "CA", "92101", False),
    ("san-francisco", "San Francisco", "San Francisco", "CA", "94111", False),
    ("santa-ana", "Santa Ana", "Santa Ana", "CA", "92701", False),
    ("aurora", "Aurora", "Aurora", "CO", "80010", True),
    ("denver", "Denver", "Denver", "CO", "80202", False),
    ("hartford", "Hartford", "Hartford", "CT", "06103", False),
    ("miami", "Miami", "Miami", "FL", "33130", False),
    ("miami-krome", "Miami-Krome", "Miami", "FL", "33194", True),
    ("orlando", "Orlando", "Orlando", "FL", "32801", False),
    ("atlanta", "Atlanta", "Atlanta", "GA", "30303", False),
    ("stewart", "Stewart", "Lumpkin", "GA", "31815", True),
    ("honolulu", "Honolulu", "Honolulu", "HI", "96813", False),
    ("chicago", "Chicago", "Chicago", "IL", "60604", False),
    ("indianapolis", "Indianapolis", "Indianapolis", "IN", "46204", False),
    ("lasalle", "LaSalle", "Jena", "LA", "71342", True),
    ("new-orleans", "New Orleans", "New Orleans", "LA", "70130", False),
    ("oakdale", "Oakdale", "Oakdale", "LA", "71463", False),
    ("boston", "Boston", "Boston", "MA", "02203", False),
    ("chelmsford", "Chelmsford", "Chelmsford", "MA", "01824", False),
    ("baltimore", "Baltimore", "Baltimore", "MD", "21201", False),
    ("hyattsville", "Hyattsville", "Hyattsville", "MD", "20782", False),
    ("detroit", "Detroit", "Detroit", "MI", "48226", False),
    ("fort-snelling", "Fort Snelling", "Fort Snelling", "MN", "55111", False),
    ("kansas-city", "Kansas City", "Kansas City", "MO", "64106", False),
    ("charlotte", "Charlotte", "Charlotte", "NC", "28202", False),
    ("omaha", "Omaha", "Omaha", "NE", "68102", False),
    ("elizabeth", "Elizabeth", "Elizabeth", "NJ", "07201", True),
    ("newark", "Newark", "Newark", "NJ", "07102", False),
    ("otero", "Otero", "Chaparral", "NM", "88081", True),
    ("las-vegas", "Las Vegas", "Las Vegas", "NV", "89101", False),
    ("batavia", "Batavia", "Batavia", "NY", "14020", True),
    ("buffalo", "Buffalo", "Buffalo", "NY", "14202", False),
    ("new-york-city", "New York City", "New York", "NY", "10278", False),
    ("ulster", "Ulster", "Napanoch", "NY", "12458", False),
    ("cleveland", "Cleveland", "Cleveland", "OH", "44113", False),
    ("portland", "Portland", "Portland", "OR", "97204", False),
    ("philadelphia", "Philadelphia", "Philadelphia", "PA", "19106", False),
    ("guaynabo", "Guaynabo (San Juan)", "Guaynabo", "PR", "00968", False),
    ("memphis", "Memphis", "Memphis", "TN", "38103", False),
    ("conroe", "Conroe", "Conroe", "TX", "77301", True),
    ("dallas", "Dallas", "Dallas", "TX", "75201", False),
    ("el-paso", "El Paso", "El Paso", "TX", "79901", False),
    ("el-paso-spc", "El Paso SPC", "El Paso", "TX", "79925", True),
    ("harlingen", "Harlingen", "Harlingen", "TX", "78550", False),
    ("houston", "Houston", "Houston", "TX", "77002", False),
    ("laredo", "Laredo", "Laredo", "TX", "78040", False),
    ("pearsall", "Pearsall", "Pearsall", "TX", "78061", True),
    ("port-isabel", "Port Isabel", "Los Fresnos", "TX", "78566", True),
    ("san-antonio", "San Antonio", "San Antonio", "TX", "78205", False),
    ("salt-lake-city", "Salt Lake City", "Salt Lake City", "UT", "84101", False),
    ("annandale", "Annandale", "Annandale", "VA", "22003", False),
    ("sterling", "Sterling", "Sterling", "VA", "20166", False),
    ("seattle", "Seattle", "Seattle", "WA", "98104", False),
    ("tacoma", "Tacoma", "Tacoma", "WA", "98421", True),
]

# The ICE facility each detained-docket court hears, by court code (demo data: a detained case
# names where the person is held, as the intake forms ask).
DETENTION_FACILITIES: dict[str, str] = {
    "eloy": "Eloy Detention Center", "florence": "Florence Service Processing Center",
    "adelanto": "Adelanto ICE Processing Center",
    "imperial": "Imperial Regional Detention Facility", "otay-mesa": "Otay Mesa Detention Center",
    "aurora": "Denver Contract Detention Facility",
    "miami-krome": "Krome North Service Processing Center",
    "stewart": "Stewart Detention Center", "lasalle": "Central Louisiana ICE Processing Center",
    "elizabeth": "Elizabeth Detention Center", "otero": "Otero County Processing Center",
    "batavia": "Buffalo Federal Detention Facility", "conroe": "Joe Corley Processing Center",
    "el-paso-spc": "El Paso Service Processing Center",
    "pearsall": "South Texas ICE Processing Center",
    "port-isabel": "Port Isabel Service Processing Center",
    "tacoma": "Northwest ICE Processing Center",
}  # fmt: skip

# ISO 639-3 codes heard most in immigration court, in pick-list order (EOIR Language Access Plan,
# FY2023 completions; then the Guatemalan and Mexican indigenous languages DOMAIN.md names).
COMMON_LANGUAGES: list[str] = [
    "spa", "eng", "por", "hat", "cmn", "pan", "mam", "quc", "kek", "kjb", "knj", "acr", "cac",
    "jac", "cak", "que", "ara", "rus", "ron", "fra", "wol", "tir", "tur", "hin", "pus", "prs",
    "ben", "urd", "vie", "yue", "amh", "som", "fuf", "ukr", "nep",
]  # fmt: skip

# The names used in court and by EOIR, where ISO's reference name differs.
LANGUAGE_NAMES: dict[str, str] = {
    "hat": "Haitian Creole", "pan": "Punjabi", "kek": "Q'eqchi'", "knj": "Akateko",
    "jac": "Jakalteko (Popti')", "pus": "Pashto", "cmn": "Mandarin", "yue": "Cantonese",
    "fuf": "Pular (Fula)",
}  # fmt: skip

# (code, name, detained only, remote capable, needs state-bar admission, description)
CASE_TYPES: list[tuple[str, str, bool, bool, bool, str]] = [
    ("asylum", "Asylum / withholding / CAT", False, False, False,
     "Form I-589; the one-year filing deadline applies to asylum."),
    ("cancellation-lpr", "Cancellation of removal (permanent resident)", False, False, False, ""),
    ("cancellation-nonlpr", "Cancellation of removal (non-permanent resident)",
     False, False, False, ""),
    ("bond", "Bond hearing", True, False, False, "Custody redetermination; detained only, urgent."),
    ("sijs", "Special immigrant juvenile status", False, False, True,
     "Needs a state-court predicate order, so a lawyer admitted in that state."),
    ("u-visa", "U visa", False, False, False, ""),
    ("t-visa", "T visa", False, False, False, ""),
    ("vawa", "VAWA", False, False, False, ""),
    ("tps", "Temporary protected status", False, False, False, ""),
    ("adjustment", "Adjustment of status", False, False, False, ""),
    ("bia-appeal", "BIA appeal", False, True, False,
     "On paper; brief due about three weeks after the record arrives."),
    ("document-assistance", "Document assistance only", False, True, False,
     "Limited appearance (EOIR-60/61)."),
]  # fmt: skip


def court_coordinates(zip_code: str) -> tuple[Decimal, Decimal]:
    """The ZIP centroid. Raises LookupError for a ZIP the package does not know."""
    found = zipcodes.matching(zip_code)
    if not found:
        raise LookupError(f"unknown ZIP code {zip_code}")
    return Decimal(found[0]["lat"]).quantize(Decimal("0.00001")), Decimal(
        found[0]["long"]
    ).quantize(Decimal("0.00001"))


def _upsert(model, refresh: bool, **kwargs) -> None:
    if refresh:
        model.objects.update_or_create(**kwargs)
    else:
        model.objects.get_or_create(**kwargs)


def load_courts(court_model, *, refresh: bool) -> int:
    existing = set(court_model.objects.values_list("code", flat=True))
    for code, name, city, state, zip_code, detained in COURTS:
        if code in existing and not refresh:
            continue
        latitude, longitude = court_coordinates(zip_code)
        _upsert(
            court_model,
            refresh,
            code=code,
            defaults={
                "name": name, "city": city, "state": state, "zip_code": zip_code,
                "latitude": latitude, "longitude": longitude, "detained_only": detained,
            },
        )  # fmt: skip
    return len(COURTS)


def load_languages(language_model, *, refresh: bool) -> int:
    """Every living ISO 639-3 language; common ones ranked for the top of lists."""
    rank = {code: position for position, code in enumerate(COMMON_LANGUAGES, start=1)}
    existing = set(language_model.objects.values_list("code", flat=True))
    rows = [
        language_model(
            code=lang.alpha_3,
            name=LANGUAGE_NAMES.get(lang.alpha_3, lang.name),
            common_rank=rank.get(lang.alpha_3),
        )
        for lang in pycountry.languages
        # Living languages only: extinct, historical and special codes are not spoken in court.
        if getattr(lang, "type", None) == "L" and lang.alpha_3 not in existing
    ]
    language_model.objects.bulk_create(rows, batch_size=1000)
    if not refresh:
        return len(existing) + len(rows)
    for code, position in rank.items():
        language_model.objects.filter(code=code).update(common_rank=position)
    for code, name in LANGUAGE_NAMES.items():
        language_model.objects.filter(code=code).update(name=name)
    return len(existing) + len(rows)


def load_case_types(case_type_model, *, refresh: bool) -> int:
    for order, (code, name, detained, remote, state_bar, description) in enumerate(CASE_TYPES):
        _upsert(
            case_type_model,
            refresh,
            code=code,
            defaults={
                "name": name, "detained_only": detained, "remote_capable": remote,
                "needs_state_admission": state_bar, "description": description,
                "sort_order": order,
            },
        )  # fmt: skip
    return len(CASE_TYPES)


def load_reference_data(*, refresh: bool = True) -> dict[str, int]:
    from cases.models import CaseType, ImmigrationCourt, Language

    return {
        "courts": load_courts(ImmigrationCourt, refresh=refresh),
        "languages": load_languages(Language, refresh=refresh),
        "case_types": load_case_types(CaseType, refresh=refresh),
    }
