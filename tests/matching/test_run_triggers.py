"""New supply or demand asks for one debounced matching run, after commit, with a trigger word.

The enqueued messages are recorded by patching ``apply_async`` on the task object, so each test
sees exactly what would have been published, and nothing reaches the shared broker; the
broker-outage test publishes for real, to a broker that is not there.
"""

import logging
import time
from datetime import timedelta
from unittest import mock

import pytest
import tablib
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cases.importing import (
    COLUMNS,
    case_import_check,
    case_import_confirm,
    case_import_run,
    case_import_upload,
)
from cases.models import CaseRequest
from cases.services import case_request_create
from matching.services import match_decline, match_expire, match_reject, match_withdraw_for_case
from matching.tasks import runs as tasks
from tests.cases.conftest import case_data
from tests.matching.test_services import make_overdue, offer
from volunteers.models import BarAdmission
from volunteers.services import (
    attorney_availability_set,
    attorney_languages_set,
    attorney_practice_areas_set,
    attorney_verify,
)

pytestmark = pytest.mark.django_db

COORDINATOR = CaseRequest.Source.COORDINATOR


@pytest.fixture(autouse=True)
def fresh_window(settings):
    """Triggers on, and each test starts outside any debounce window (the cache outlives test
    transactions)."""
    settings.MATCHING_RUN_ON_CHANGE = True
    tasks.cache.delete(tasks._DEBOUNCE_KEY)
    yield
    tasks.cache.delete(tasks._DEBOUNCE_KEY)


@pytest.fixture
def enqueued():
    """The trigger word of every run_matching message published, in order."""
    sent: list[str] = []

    def record(*, kwargs, countdown, **options):
        assert countdown == tasks.DEBOUNCE_SECONDS  # debounced, not immediate
        assert set(kwargs) == {"trigger", "small"}  # a word, no ids, no personal data
        assert kwargs["small"] is True  # may take the small path
        sent.append(kwargs["trigger"])

    with mock.patch.object(tasks.run_matching, "apply_async", side_effect=record):
        yield sent


def _verify(attorney, coord):
    BarAdmission.objects.create(attorney=attorney, jurisdiction="NY", bar_number="1")
    return attorney_verify(attorney=attorney, actor=coord)


def test_creating_a_case_enqueues_one_run_after_commit(
    coord, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
        assert enqueued == []  # REL-1: nothing before commit
    assert enqueued == ["case"]


def test_verifying_an_attorney_enqueues_one_run_after_commit(
    att_new, coord, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _verify(att_new, coord)
        assert enqueued == []
    assert enqueued == ["attorney"]


def test_declining_an_offer_enqueues_one_run_after_commit(
    att_a, coord, enqueued, django_capture_on_commit_callbacks
):
    match = offer(att_a, coord)
    tasks.cache.delete(tasks._DEBOUNCE_KEY)  # setting up asked nothing, but be sure
    with django_capture_on_commit_callbacks(execute=True):
        match_decline(match=match, user=att_a.user, reason="no_capacity")
        assert enqueued == []
    assert enqueued == ["declined"]


@pytest.mark.parametrize("end", ["rejected", "expired", "withdrawn"])
def test_every_other_end_of_a_match_enqueues_a_run(
    end, att_a, coord, enqueued, django_capture_on_commit_callbacks
):
    match = offer(att_a, coord)
    with django_capture_on_commit_callbacks(execute=True):
        if end == "rejected":
            match_reject(match=match, actor=coord, reason="wrong court")
        elif end == "expired":
            make_overdue(match)
            assert match_expire(match=match)
        else:
            match_withdraw_for_case(case=match.case, actor=coord)
    assert enqueued == [end]


def test_a_rolled_back_transaction_enqueues_nothing(
    coord, att_new, enqueued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
        _verify(att_new, coord)
        raise RuntimeError("the surrounding request failed")
    assert (callbacks, enqueued) == ([], [])
    assert not CaseRequest.objects.exists()


def test_many_changes_in_one_window_enqueue_one_run(
    att_a, att_new, coord, enqueued, django_capture_on_commit_callbacks
):
    match = offer(att_a, coord)
    with django_capture_on_commit_callbacks(execute=True):
        case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    for n in range(3):  # separate transactions, all inside the window
        with django_capture_on_commit_callbacks(execute=True):
            data = case_data(a_number=f"{300000001 + n:09d}")
            case_request_create(data=data, created_by=coord, source=COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        _verify(att_new, coord)
    with django_capture_on_commit_callbacks(execute=True):
        match_decline(match=match, user=att_a.user, reason="no_capacity")
    assert enqueued == ["case"]


def _checked_import(rows, *, user):
    content = rows.export("csv").encode()
    job = case_import_upload(file=SimpleUploadedFile("cases.csv", content), created_by=user)
    return case_import_check(case_import_id=job.pk)


def test_an_import_enqueues_one_run_for_the_whole_file(
    coord, enqueued, django_capture_on_commit_callbacks
):
    rows = tablib.Dataset(headers=list(COLUMNS))
    for n in range(30):
        row = case_data(a_number=f"{400000000 + n:09d}")
        rows.append([row[name] for name in COLUMNS])
    job = _checked_import(rows, user=coord)
    case_import_confirm(case_import=job, skip_invalid_rows=False, actor=coord)
    # Every row lands in a new window (as in an import longer than the debounce): only a
    # request per file, not per row, keeps this at one message.
    with (
        mock.patch.object(tasks, "_debounce_claim", return_value=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = case_import_run(case_import_id=job.pk)
    assert (job.status, job.rows_imported) == ("done", 30)
    assert CaseRequest.objects.count() == 30
    assert enqueued == ["import"]


def test_the_import_check_enqueues_nothing(coord, enqueued, django_capture_on_commit_callbacks):
    rows = tablib.Dataset(headers=list(COLUMNS))
    rows.append([case_data()[name] for name in COLUMNS])
    with django_capture_on_commit_callbacks(execute=True):
        _checked_import(rows, user=coord)
    assert enqueued == []


def test_raising_capacity_enqueues_a_run_and_lowering_it_does_not(
    att_a, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attorney_availability_set(attorney=att_a, capacity=att_a.capacity - 1, paused_until=None)
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        attorney_availability_set(attorney=att_a, capacity=att_a.capacity + 3, paused_until=None)
    assert enqueued == ["capacity"]


def test_lifting_a_pause_enqueues_a_run(att_a, enqueued, django_capture_on_commit_callbacks):
    later = timezone.localdate() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        attorney_availability_set(attorney=att_a, capacity=att_a.capacity, paused_until=later)
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        attorney_availability_set(attorney=att_a, capacity=att_a.capacity, paused_until=None)
    assert enqueued == ["capacity"]


def test_new_languages_or_case_types_enqueue_a_run(
    att_a, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attorney_languages_set(attorney=att_a, skills=[("spa", 4), ("fra", 3)])
    assert enqueued == ["languages"]
    tasks.cache.delete(tasks._DEBOUNCE_KEY)  # the next change comes after the window
    with django_capture_on_commit_callbacks(execute=True):
        attorney_practice_areas_set(attorney=att_a, areas=[("asylum", 3)], years_experience=4)
    assert enqueued == ["languages", "practice_areas"]


def test_an_unverified_attorneys_edits_enqueue_nothing(
    att_new, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attorney_availability_set(attorney=att_new, capacity=10, paused_until=None)
        attorney_languages_set(attorney=att_new, skills=[("spa", 4)])
    assert enqueued == []


def test_the_setting_switches_the_triggers_off(
    settings, coord, enqueued, django_capture_on_commit_callbacks
):
    settings.MATCHING_RUN_ON_CHANGE = False
    with django_capture_on_commit_callbacks(execute=True):
        case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    assert enqueued == []


@pytest.fixture
def broker_down():
    """Point the app at a Redis port nobody listens on; put everything back afterwards."""
    conf = current_app.conf
    before = {name: conf.get(name) for name in ("broker_url", "broker_write_url")}
    conf.update(broker_url="redis://127.0.0.1:1/0", broker_write_url="redis://127.0.0.1:1/0")
    current_app._pool = None
    current_app.amqp._producer_pool = None
    yield
    conf.update(**before)
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.mark.usefixtures("broker_down")
def test_with_the_broker_down_the_change_still_succeeds(
    coord, caplog, django_capture_on_commit_callbacks
):  # REL-2: the beat schedule runs matching once the broker is back
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        case = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    assert time.monotonic() - started < 10  # one quick attempt, no long retry loop
    assert CaseRequest.objects.filter(pk=case.pk, status=CaseRequest.Status.OPEN).exists()
    assert "not enqueued" in caplog.text
    assert case_data()["respondent_name"] not in caplog.text  # SEC-23
