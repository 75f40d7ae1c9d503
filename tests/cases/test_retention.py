"""SEC-25: closed and withdrawn cases past the retention period are anonymised, history included.

The proof searches every table of every installed app (apps.get_models, every text, JSON and
binary column, encrypted columns read decrypted) for the seeded name and A-number in all their
spellings, and for the A-number's keyed hash, before the purge (to show the search finds them)
and after (nothing left)."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from cases import services, tasks
from cases.crypto import a_number_hash
from cases.models import CaseRequest
from cases.services import case_request_create, case_request_identifiers_viewed, case_requests_purge
from core.models import DomainEvent
from matching.services import match_decline, match_reject, match_withdraw_for_case
from matching.tasks import lifecycle
from tests.cases.conftest import case_data
from tests.factories import CaseRequestFactory
from tests.matching.test_services import offer, propose
from tests.races import race_held

pytestmark = pytest.mark.django_db

NAME = "Xochitl Ramirez Tzoc"
A_NUMBER = "A-246-813-579"
CANONICAL = "246813579"
SPELLINGS = [
    NAME, "Ramirez Tzoc", "Xochitl Ramirez",  # not "Tzoc" alone: a language's name holds it
    A_NUMBER, CANONICAL, "A246813579", "246-813-579", "246 813 579", "A 246 813 579",
]  # fmt: skip
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _traces(needles: list[str]) -> list[str]:
    """table.column:pk of every value, in every table, that contains one of ``needles``."""
    needles = [n.lower() for n in needles]
    found = []
    for model in apps.get_models(include_auto_created=True):
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        rows = model._base_manager.values_list("pk", *[f.attname for f in fields])
        for pk, *values in rows.iterator():
            for field, value in zip(fields, values, strict=True):
                text = _text(value).lower()
                if any(needle in text for needle in needles):
                    found.append(f"{model._meta.db_table}.{field.column}:{pk}")
    return found


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@pytest.fixture(autouse=True)
def no_offer_emails(monkeypatch):
    monkeypatch.setattr(lifecycle.offer_notify, "delay", lambda match_id: None)


@pytest.fixture
def finished_case(coord_viewer, att_a, att_b, coord):
    """A withdrawn case whose identifiers and free text went everywhere they can go."""
    case = case_request_create(
        data=case_data(
            respondent_name=NAME,
            a_number=A_NUMBER,
            contact_route=f"Call {NAME}'s sister at 555-0199",
            detained="yes",
            case_type="bond",
            detention_facility=f"Cell block of {NAME}",
            summary=f"{NAME} fears return; A-number {CANONICAL} on the NTA.",
        ),
        created_by=coord_viewer,
        source=CaseRequest.Source.COORDINATOR,
    )
    case_request_identifiers_viewed(case_request=case, viewer=coord_viewer, where="admin")
    declined = offer(att_a, coord, case)
    match_decline(match=declined, user=att_a.user, reason="other", note=f"I know {NAME}.")
    rejected = propose(att_b, case)
    match_reject(match=rejected, actor=coord, reason=f"Ramirez Tzoc family, {A_NUMBER}")
    match_withdraw_for_case(case=CaseRequest.objects.get(pk=case.pk), actor=coord)
    return case


def _age(case, *, days: int) -> None:
    CaseRequest.objects.filter(pk=case.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_the_purge_leaves_no_trace_of_the_person_in_any_table(finished_case, settings):  # SEC-25
    needles = [*SPELLINGS, a_number_hash(CANONICAL)]
    before = _traces(needles)
    assert any(t.startswith("cases_caserequest.respondent_name") for t in before)
    assert any(t.startswith("cases_caserequest.a_number_hash") for t in before)
    assert any(t.startswith("matching_match.decline_note") for t in before)
    assert any(t.startswith("matching_match.reject_reason") for t in before)
    _age(finished_case, days=settings.CASE_RETENTION_DAYS + 1)

    assert case_requests_purge() == 1

    assert _traces(needles) == []
    case = CaseRequest.objects.get(pk=finished_case.pk)
    assert case.purged_at is not None and case.reference == finished_case.reference
    assert (case.status, case.language_id, case.court.code) == ("withdrawn", "mam", "new-york-city")


def test_the_purge_records_one_event_per_case_and_runs_once(finished_case, settings):  # SEC-24
    _age(finished_case, days=settings.CASE_RETENTION_DAYS + 1)
    assert case_requests_purge() == 1
    assert case_requests_purge() == 0  # idempotent
    [event] = DomainEvent.objects.filter(verb="case_request.purged")
    assert event.target_id == str(finished_case.pk)
    assert event.data == {"reference": finished_case.reference}


def test_cases_within_retention_or_still_open_are_kept(finished_case, coord, settings):
    open_case = case_request_create(
        data=case_data(respondent_name="Still Open", a_number="A-135-792-468"),
        created_by=coord,
        source=CaseRequest.Source.COORDINATOR,
    )
    _age(open_case, days=settings.CASE_RETENTION_DAYS + 100)
    _age(finished_case, days=settings.CASE_RETENTION_DAYS - 1)
    assert case_requests_purge() == 0
    assert CaseRequest.objects.get(pk=finished_case.pk).respondent_name == NAME
    assert CaseRequest.objects.get(pk=open_case.pk).respondent_name == "Still Open"


def test_the_retention_period_is_the_setting(finished_case, settings):
    settings.CASE_RETENTION_DAYS = 30
    _age(finished_case, days=31)
    assert case_requests_purge() == 1
    assert CaseRequest.objects.get(pk=finished_case.pk).respondent_name == ""


def test_the_daily_task_and_the_command_run_the_purge(finished_case, settings, capsys):
    _age(finished_case, days=settings.CASE_RETENTION_DAYS + 1)
    call_command("purge_closed_cases")
    assert "1 case request(s) anonymised." in capsys.readouterr().out
    assert tasks.purge_closed_cases() == 0  # nothing left for the nightly run
    assert CaseRequest.objects.get(pk=finished_case.pk).a_number == ""


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_record_each_case_once(settings):  # SEC-24
    """The second purge waits on the first one's row locks, then finds the case purged;
    without the lock it would read the case as still due and purge it again."""
    case = CaseRequestFactory(status=CaseRequest.Status.WITHDRAWN)
    _age(case, days=settings.CASE_RETENTION_DAYS + 1)
    race_held(case_requests_purge, case_requests_purge, hold=(services, "event_record"))
    assert DomainEvent.objects.filter(verb="case_request.purged").count() == 1


def test_a_purge_that_fails_half_way_leaves_the_batch_as_it_was(
    finished_case, settings, monkeypatch
):
    """Blanked identifiers without their event (or the reverse) would be a purge nobody can
    account for: a batch is written whole or not at all, and the next run does it again."""

    def fail(**kwargs):
        raise RuntimeError("event log unavailable")

    _age(finished_case, days=settings.CASE_RETENTION_DAYS + 1)
    monkeypatch.setattr(services, "event_record", fail)
    with pytest.raises(RuntimeError):
        case_requests_purge()
    case = CaseRequest.objects.get(pk=finished_case.pk)
    assert case.purged_at is None and case.respondent_name == NAME
