"""The weekly digest (issue 13 #3): each verified attorney with room for a case gets the (at
most five) most urgent open needs that are new since their last digest and that they may take
(matching's own eligibility: languages, case types, distance or remote, and their preferences),
described as an offer describes a case before the conflict check: court, language, case type,
detained, hearing window. Never a name, an A-number, a reference or a contact route.

A weekly beat task fans out (``digest_due_ids`` in chunks); each chunk task calls
``attorney_digests_send``, which

1. claims the chunk's attorneys that are still due with one conditional update
   (``last_digest_at`` moves to now; the old value is their cut-off), so a re-run, a redelivered
   task or a second worker sends nothing twice (STYLE 10; a failed send is not retried: a
   digest is at most once a week, never twice);
2. loads them as the matching run does (room this run: free capacity and the monthly cap);
3. reads the candidate needs once for the chunk: open cases created after the chunk's earliest
   cut-off, the ``DIGEST_ITEMS`` most urgent of each cell (a cell is what no attorney can tell
   apart, so no attorney needs more than that many from one cell);
4. scores the attorneys against those cells with the run's vectorised scorer and keeps, per
   attorney, the most urgent cases of their eligible cells created after their own cut-off and
   never paired with them before;
5. renders and sends the mails over one connection, and records one event for the chunk.

Every query is per chunk, never per attorney: a chunk costs a constant number of queries.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import numpy as np
from django.conf import settings
from django.core import signing
from django.core.mail import mailers
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from core.emails import email_build, site_link
from core.services import event_record
from matching.models import Match
from matching.pipeline.load.attorneys import load_attorneys
from matching.pipeline.score import Attorneys, score_arcs
from matching.scoring import CellFacts, distance_matrix_miles
from volunteers.models import AttorneyProfile

DIGEST_ITEMS = 5
# A first digest lists needs of the past week; later ones what is new since the last.
FIRST_WINDOW = timedelta(days=7)
# Due again after six days, so a weekly beat that runs a little early still finds everyone.
DUE_AFTER = timedelta(days=6)
_UNSUBSCRIBE_SALT = "volunteers.digest.unsubscribe"


@dataclass(frozen=True, slots=True)
class Need:
    """One open case as the digest shows it: nothing that identifies the person."""

    case_pk: int  # to order and de-duplicate; never rendered
    priority: int
    language: str
    court_id: int
    case_type: str
    detained: bool
    remote: bool
    hearing: date | None


# ---------------------------------------------------------------------------------------------
# Who is due


def _due(now: datetime):
    return AttorneyProfile.objects.filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=now.date()),
        Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - DUE_AFTER),
        verification=AttorneyProfile.Verification.VERIFIED,
        digest_enabled=True,
        active_cases__lt=F("capacity"),
        user__is_active=True,
    )


def digest_due_ids(*, now: datetime | None = None) -> list[int]:
    """Attorneys due a digest, those with the oldest digest first: a chunk then holds similar
    cut-offs, so its one candidate query fits all of them."""
    now = now or timezone.now()
    rows = _due(now).order_by(F("last_digest_at").asc(nulls_first=True), "pk")
    return list(rows.values_list("pk", flat=True))


def digest_chunks(ids: list[int], size: int | None = None) -> Iterable[list[int]]:
    size = size or settings.DIGEST_CHUNK_SIZE
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# ---------------------------------------------------------------------------------------------
# The service


def attorney_digests_send(*, attorney_ids: list[int], now: datetime | None = None) -> int:
    """Claim, select, render and send the digests of one chunk; returns the mails sent."""
    now = now or timezone.now()
    cutoffs = _claim(attorney_ids, now)
    if not cutoffs:
        return 0
    attorneys = load_attorneys(timezone.localdate(now), now=now, pks=sorted(cutoffs))
    needs = digest_needs(attorneys=attorneys, cutoffs=cutoffs)
    messages = _messages(needs)
    if messages:
        with mailers.default as mail:  # one connection for the whole chunk
            mail.send_messages(messages)
    with transaction.atomic():
        event_record(
            verb="attorney.digests_sent",
            data={"claimed": len(cutoffs), "sent": len(messages)},
        )
    return len(messages)


def _claim(ids: list[int], now: datetime) -> dict[int, datetime]:
    """{attorney pk: cut-off} of the attorneys of ``ids`` still due, now claimed: rows locked by
    another chunk are skipped, and the update sets last_digest_at for exactly those read."""
    with transaction.atomic():
        rows = list(
            _due(now)
            .filter(pk__in=ids)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "last_digest_at")
        )
        AttorneyProfile.objects.filter(pk__in=[pk for pk, _ in rows]).update(last_digest_at=now)
    return {pk: last or now - FIRST_WINDOW for pk, last in rows}


# ---------------------------------------------------------------------------------------------
# Selection


def digest_needs(*, attorneys: Attorneys, cutoffs: dict[int, datetime]) -> dict[int, list[Need]]:
    """The most urgent new needs each attorney may take, at most DIGEST_ITEMS, by attorney pk."""
    if not len(attorneys):
        return {}
    since = min(cutoffs[int(pk)] for pk in attorneys.pk)
    cells, cell_needs, created = _candidates(since)
    if not cells:
        return {}
    courts = list(
        ImmigrationCourt.objects.order_by("pk").values_list("pk", "latitude", "longitude")
    )
    court_position = {pk: i for i, (pk, _, _) in enumerate(courts)}
    miles = distance_matrix_miles(
        attorneys.latitude,
        attorneys.longitude,
        np.array([float(lat) for _, lat, _ in courts]),
        np.array([float(lon) for _, _, lon in courts]),
    )
    arcs = score_arcs(attorneys, cells, miles, court_position)
    paired = _paired(attorneys.pk.tolist(), since)
    # Each attorney's eligible cells, the one with the most urgent case first: the walk below
    # stops at the first cell whose best case cannot enter the attorney's top DIGEST_ITEMS.
    top = np.array([needs[0].priority for needs in cell_needs], dtype=np.int64)
    order = np.lexsort((-top[arcs.cell], arcs.attorney))
    cell_of = arcs.cell[order]
    bounds = np.searchsorted(arcs.attorney[order], np.arange(len(attorneys) + 1))
    chosen: dict[int, list[Need]] = {}
    for position in range(len(attorneys)):
        pk = int(attorneys.pk[position])
        eligible = cell_of[bounds[position] : bounds[position + 1]].tolist()
        found = _best(eligible, cell_needs, top, lambda need, pk=pk, cutoff=cutoffs[pk]: (
            created[need.case_pk] > cutoff and (pk, need.case_pk) not in paired
        ))  # fmt: skip
        if found:
            chosen[pk] = found
    return chosen


def _best(cells: list[int], cell_needs: list[list[Need]], top, fits) -> list[Need]:
    """The DIGEST_ITEMS most urgent needs that ``fit``, from ``cells`` (ordered by their most
    urgent need, each cell's needs most urgent first)."""
    found: list[Need] = []
    for k in cells:
        if len(found) >= DIGEST_ITEMS and top[k] < found[-1].priority:
            break  # this cell and every later one hold nothing more urgent than what is kept
        found.extend(need for need in cell_needs[k] if fits(need))
        found.sort(key=lambda need: (-need.priority, need.case_pk))
        del found[DIGEST_ITEMS:]
    return found


def _candidates(since: datetime) -> tuple[list[CellFacts], list[list[Need]], dict[int, datetime]]:
    """Cells of open cases created after ``since``, each with its DIGEST_ITEMS most urgent
    cases (one query: a window function in the database, a few rows per cell out)."""
    courts = {
        pk: (float(lat), float(lon))
        for pk, lat, lon in ImmigrationCourt.objects.values_list("pk", "latitude", "longitude")
    }
    rows = _candidate_rows(since)
    index: dict[CellFacts, int] = {}
    cell_needs: list[list[Need]] = []
    created: dict[int, datetime] = {}
    for pk, priority, made, language, relay, court, case_type, detained, remote, hearing in rows:
        latitude, longitude = courts[court]
        cell = CellFacts(
            language=language, relay_language=relay, case_type=case_type, court_id=court,
            court_latitude=latitude, court_longitude=longitude, detained=detained,
            remote_ok=remote,
        )  # fmt: skip
        k = index.setdefault(cell, len(index))
        if k == len(cell_needs):
            cell_needs.append([])
        need = Need(pk, priority, language, court, case_type, detained, remote, hearing)
        if len(cell_needs[k]) < DIGEST_ITEMS:  # two raw keys may make one cell: keep the best
            cell_needs[k].append(need)
        created[pk] = made
    return list(index), cell_needs, created


def _candidate_rows(since: datetime) -> list[tuple]:
    """(id, priority, created_at, language, relay or None, court, case type, detained, remote,
    hearing) of the DIGEST_ITEMS most urgent open cases per cell created after ``since``,
    most urgent first."""
    if connection.vendor != "postgresql":
        return _candidate_rows_orm(since)
    relay = "CASE WHEN relay_interpreter_ok THEN relay_language_id END"
    columns = (
        f"id, priority, created_at, language_id, {relay} AS relay, court_id, case_type_id, "
        "detained, remote_ok, next_hearing_date"
    )
    sql = (
        "SELECT id, priority, created_at, language_id, relay, court_id, case_type_id, "  # noqa: S608 (constants only)
        f"detained, remote_ok, next_hearing_date FROM (SELECT {columns}, row_number() OVER "
        f"(PARTITION BY language_id, {relay}, court_id, case_type_id, detained, remote_ok "
        f"ORDER BY priority DESC, id) AS n FROM {CaseRequest._meta.db_table} "
        "WHERE status = %s AND created_at > %s) ranked WHERE n <= %s ORDER BY priority DESC, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [CaseRequest.Status.OPEN, since, DIGEST_ITEMS])
        return cursor.fetchall()


def _candidate_rows_orm(since: datetime) -> list[tuple]:
    rows = (
        CaseRequest.objects.filter(status=CaseRequest.Status.OPEN, created_at__gt=since)
        .order_by("-priority", "id")
        .values_list(
            "id", "priority", "created_at", "language_id", "relay_interpreter_ok",
            "relay_language_id", "court_id", "case_type_id", "detained", "remote_ok",
            "next_hearing_date",
        )
    )  # fmt: skip
    return [(*row[:4], row[5] if row[4] else None, *row[6:]) for row in rows]


def _paired(pks: list[int], since: datetime) -> set[tuple[int, int]]:
    """(attorney, case) pairs that already have a match row (declined before, say), among cases
    new enough to be listed."""
    return set(
        Match.objects.filter(attorney_id__in=pks, case__created_at__gt=since).values_list(
            "attorney_id", "case_id"
        )
    )


# ---------------------------------------------------------------------------------------------
# Mails


def unsubscribe_token(attorney_pk: int) -> str:
    return signing.dumps(attorney_pk, salt=_UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_attorney_pk(token: str) -> int | None:
    """The attorney a token was signed for, or None for a forged or garbled one."""
    try:
        value = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def _messages(needs: dict[int, list[Need]]) -> list:
    if not needs:
        return []
    recipients = AttorneyProfile.objects.filter(pk__in=needs).values_list(
        "pk", "user__email", "user__first_name"
    )
    names = _Names.of(needs.values())
    # The program's date, not each attorney's: a hearing window in weeks does not move with a
    # time zone, and looking a ZIP's zone up costs ~30 ms (volunteers.timezones).
    today = timezone.localdate()
    messages = []
    for pk, email, first_name in recipients:
        if not email:
            continue
        unsubscribe = site_link(
            reverse("volunteers:digest_unsubscribe", args=[unsubscribe_token(pk)])
        )
        context = {
            "first_name": first_name,
            "items": [names.item(need, today) for need in needs[pk]],
            "board_url": site_link(reverse("volunteers:opportunities")),
            "profile_url": site_link(reverse("volunteers:profile_step", args=["preferences"])),
            "unsubscribe_url": unsubscribe,
        }
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        messages.append(
            email_build(to=[email], template="attorney_digest", context=context, headers=headers)
        )
    return messages


@dataclass(frozen=True, slots=True)
class _Names:
    languages: dict[str, str]
    courts: dict[int, str]
    case_types: dict[str, str]

    @classmethod
    def of(cls, lists: Iterable[list[Need]]) -> "_Names":
        needs = [need for items in lists for need in items]
        languages = Language.objects.filter(code__in={n.language for n in needs})
        courts = ImmigrationCourt.objects.filter(pk__in={n.court_id for n in needs})
        types = CaseType.objects.filter(code__in={n.case_type for n in needs})
        return cls(
            dict(languages.values_list("code", "name")),
            {
                pk: f"{name}, {state}"
                for pk, name, state in courts.values_list("pk", "name", "state")
            },
            dict(types.values_list("code", "name")),
        )

    def item(self, need: Need, today: date) -> dict:
        return {
            "language": self.languages.get(need.language, need.language),
            "court": self.courts.get(need.court_id, ""),
            "case_type": self.case_types.get(need.case_type, need.case_type),
            "detained": need.detained,
            "remote": need.remote,
            "hearing": hearing_window(need.hearing, today),
            "url": board_link(language=need.language, court=need.court_id),
        }


def board_link(*, language: str, court: int) -> str:
    """The opportunity board (issue 13 #1) filtered to the need's language and court."""
    query = urlencode({"language": language, "court": court})
    return site_link(f"{reverse('volunteers:opportunities')}?{query}")


def hearing_window(hearing: date | None, today: date) -> str:
    """A window, not the date: enough to plan, less to recognise a case by."""
    if hearing is None:
        return "No hearing set yet"
    days = (hearing - today).days
    if days < 0:
        return "Hearing date passed; a new one is pending"
    if days <= 14:
        return "Hearing within 2 weeks"
    if days <= 30:
        return "Hearing within a month"
    if days <= 90:
        return "Hearing within 3 months"
    return "Hearing more than 3 months away"
