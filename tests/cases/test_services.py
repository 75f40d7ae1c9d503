"""case_request_create / update / recompute: validation, duplicates, priority, events, no PII."""

import logging
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.utils import timezone

from cases.models import CaseRequest
from cases.services import (
    DuplicateANumber,
    case_request_create,
    case_request_recompute_priorities,
    case_request_update,
)
from cases.validation import CaseRequestInvalid
from core.models import DomainEvent
from tests.cases.conftest import A_NUMBER, CANONICAL, NAME, case_data, held_request_submit
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db

COORDINATOR = CaseRequest.Source.COORDINATOR


def test_it_creates_a_case_with_its_priority_breakdown_and_an_event(coord):
    case = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    case.refresh_from_db()
    assert case.a_number == CANONICAL
    assert case.country_of_nationality == "GT"
    assert case.language_id == "mam" and case.relay_language_id == "spa"
    assert list(case.other_languages.values_list("code", flat=True)) == ["spa"]
    assert case.priority_parts["hearing"] == 300  # ten days away: full points
    assert case.priority == case.priority_parts["total"] > 0
    event = DomainEvent.objects.get(verb="case_request.created")
    assert event.actor == coord and event.target_id == str(case.pk)
    assert NAME not in str(event.data) and CANONICAL not in str(event.data)


def test_a_duplicate_a_number_is_refused_with_the_reference_and_no_second_row(coord_viewer):
    first = case_request_create(data=case_data(), created_by=coord_viewer, source=COORDINATOR)
    with pytest.raises(DuplicateANumber) as caught:
        case_request_create(
            data=case_data(a_number="a 087654321", respondent_name="Someone Else"),
            created_by=coord_viewer,
            source=COORDINATOR,
        )
    assert caught.value.code == "duplicate_a_number"
    assert first.reference in caught.value.errors["a_number"][0]
    assert CaseRequest.objects.count() == 1


def test_the_duplicate_message_hides_the_reference_without_identifier_access(coord):
    first = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    with pytest.raises(DuplicateANumber) as caught:
        case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    assert first.reference not in caught.value.errors["a_number"][0]
    assert "already exists" in caught.value.errors["a_number"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("a_number", "A-12-34"),
        ("a_number", "\uff10\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11"),  # fullwidth
        ("respondent_name", ""),
        ("respondent_name", "x" * 201),
        ("language", "zzz"),
        ("court", "atlantis"),
        ("case_type", "divorce"),
        ("country_of_nationality", "XX"),
        ("next_hearing_type", "tea-party"),
        ("detained", "maybe"),
        ("next_hearing_date", "1925-01-01"),
        ("next_hearing_date", "2999-01-01"),
        ("filing_deadline", "31/31/2026"),
        ("summary", "nul\x00byte"),
    ],
)
def test_bad_values_are_refused_field_by_field_and_nothing_is_written(
    coord, field, value
):  # SEC-18
    with pytest.raises(CaseRequestInvalid) as caught:
        case_request_create(data=case_data(**{field: value}), created_by=coord, source=COORDINATOR)
    assert field in caught.value.errors
    assert value not in str(caught.value.errors) or value == ""
    assert CaseRequest.objects.count() == 0


def test_rules_that_tie_fields_together(coord):
    with pytest.raises(CaseRequestInvalid) as caught:
        case_request_create(
            data=case_data(relay_language="", case_type="bond", detention_facility="Krome"),
            created_by=coord,
            source=COORDINATOR,
        )
    assert set(caught.value.errors) == {"relay_language", "detained", "detention_facility"}


def test_an_update_recomputes_priority_and_records_field_names_only(coord):
    case = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    before = case.priority
    data = {"detained": True, "detention_facility": "Krome", "a_number": "A-099-999-999"}
    case_request_update(case_request=case, data=data, updated_by=coord)
    case.refresh_from_db()
    assert case.detained and case.priority == before + 300
    assert case.a_number == "099999999"
    event = DomainEvent.objects.get(verb="case_request.updated")
    assert event.data["fields"] == ["a_number", "detained", "detention_facility"]
    assert "099999999" not in str(event.data)


def test_an_update_leaves_identifiers_alone_when_absent(coord):
    case = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    case_request_update(case_request=case, data={"summary": "Updated."}, updated_by=coord)
    case.refresh_from_db()
    assert (case.respondent_name, case.a_number, case.summary) == (NAME, CANONICAL, "Updated.")


def test_an_update_refuses_another_cases_a_number(coord):
    case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    other = case_request_create(
        data=case_data(a_number="A-011-111-111"), created_by=coord, source=COORDINATOR
    )
    with pytest.raises(DuplicateANumber):
        case_request_update(case_request=other, data={"a_number": A_NUMBER}, updated_by=coord)
    other.refresh_from_db()
    assert other.a_number == "011111111"


def test_the_daily_recompute_updates_only_changed_cases_in_bulk(django_assert_max_num_queries):
    today = timezone.localdate()
    stale = CaseRequestFactory.create_batch(30, next_hearing_date=today + timedelta(days=5))
    CaseRequestFactory(status=CaseRequest.Status.CLOSED)
    with django_assert_max_num_queries(8):
        assert case_request_recompute_priorities(today=today) == 30
    stale[0].refresh_from_db()
    assert stale[0].priority == 300 and stale[0].priority_parts["hearing"] == 300
    assert case_request_recompute_priorities(today=today) == 0  # idempotent
    assert DomainEvent.objects.filter(verb="case_request.priorities_recomputed").count() == 2


def test_the_beat_task_calls_the_service():
    from cases.tasks import recompute_priorities

    CaseRequestFactory()
    assert recompute_priorities.apply().get() == 1


def test_intake_logs_and_broker_messages_hold_no_name_or_a_number(coord, caplog):  # SEC-23
    published = []

    def capture(body=None, **kwargs):
        published.append(repr(body))

    before_task_publish.connect(capture, weak=False)
    try:
        with caplog.at_level(logging.DEBUG):
            case = case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
            case_request_update(
                case_request=case, data={"respondent_name": "Renamed Person"}, updated_by=coord
            )
            with pytest.raises(CaseRequestInvalid):
                case_request_create(data=case_data(), created_by=coord, source=COORDINATOR)
    finally:
        before_task_publish.disconnect(capture)
    everything = caplog.text + " ".join(published)
    assert case.reference in caplog.text  # the logs do say what happened
    for secret in (NAME, "Renamed Person", CANONICAL, A_NUMBER, "555-0100"):
        assert secret not in everything


# Partner requests held for review (issue 11 #5) ----------------------------------------------


def test_a_held_request_is_out_of_matching_until_released(held, case_y):
    assert held.status == CaseRequest.Status.REVIEW and held.duplicate_of == case_y
    assert held.a_number_hash is None  # the unique constraint holds for the original


def test_the_coordinators_are_told_of_a_held_request_only_after_it_commits(
    partner_x, case_y, coord, celery_eager, django_capture_on_commit_callbacks
):  # REL-1: a rolled-back request alerts nobody
    with django_capture_on_commit_callbacks() as callbacks:
        held = held_request_submit(partner_x)
    assert mail.outbox == []  # nothing before the commit
    for callback in callbacks:
        callback()
    [alert] = mail.outbox
    assert held.reference in alert.subject and coord.email in alert.to


def test_release_is_refused_while_the_a_number_is_still_taken(held, coord_viewer):
    from cases.services import DuplicateANumber, case_request_review_resolve

    with pytest.raises(DuplicateANumber):
        case_request_review_resolve(case_request=held, actor=coord_viewer, release=True)
    held.refresh_from_db()
    assert held.status == CaseRequest.Status.REVIEW


def test_a_corrected_request_is_released_to_matching(held, coord_viewer):
    from cases.services import case_request_review_resolve, case_request_update

    case_request_update(
        case_request=held, data={"a_number": "A-011-222-334"}, updated_by=coord_viewer
    )
    case = case_request_review_resolve(case_request=held, actor=coord_viewer, release=True)
    assert case.status == CaseRequest.Status.OPEN and case.a_number_hash is not None
    assert DomainEvent.objects.filter(
        verb="case_request.review_released", actor=coord_viewer
    ).exists()


def test_a_duplicate_is_withdrawn(held, coord_viewer):
    from cases.services import case_request_review_resolve

    case = case_request_review_resolve(case_request=held, actor=coord_viewer, release=False)
    assert case.status == CaseRequest.Status.WITHDRAWN
    assert DomainEvent.objects.filter(verb="case_request.review_withdrawn").count() == 1


def test_only_identifier_viewers_resolve_a_review(held, coord):
    from cases.services import IdentifierAccessRequired, case_request_review_resolve

    with pytest.raises(IdentifierAccessRequired):
        case_request_review_resolve(case_request=held, actor=coord, release=False)


# A request without an A-number sent again after Back (a new token): case_request_repeat_check.


def test_a_submission_is_not_its_own_repeat_but_a_new_one_is(partner_x, org_x):
    """The twin of a submission (its token: a double click) lands on its request; the same
    request with another token (Back, then Send) is asked about."""
    import uuid

    from cases.services import (
        RequestJustRecorded,
        case_request_repeat_check,
        case_request_submit_by_partner,
    )

    data, token = case_data(a_number=""), uuid.uuid4()
    sent = {"data": data, "created_by": partner_x, "organization": org_x}
    case, _ = case_request_submit_by_partner(**sent, submission_token=token)
    case_request_repeat_check(data=data, actor=partner_x, organization=org_x, token=token)
    assert case_request_submit_by_partner(**sent, submission_token=token) == (case, False)
    with pytest.raises(RequestJustRecorded) as asked:
        case_request_submit_by_partner(**sent, submission_token=uuid.uuid4())
    assert asked.value.code == "just_recorded" and asked.value.existing_reference == case.reference
    case_request_repeat_check(data=data, actor=partner_x)  # a coordinator's own: none
    assert CaseRequest.objects.count() == 1


def _fail(**kwargs):
    raise RuntimeError("event log unavailable")


def test_a_review_decision_that_fails_half_way_changes_nothing(held, coord_viewer, monkeypatch):
    from cases import services
    from cases.services import case_request_review_resolve

    monkeypatch.setattr(services, "event_record", _fail)
    with pytest.raises(RuntimeError):
        case_request_review_resolve(case_request=held, actor=coord_viewer, release=False)
    held.refresh_from_db()
    assert held.status == CaseRequest.Status.REVIEW


def test_only_a_request_held_for_review_is_resolved(case_x, coord_viewer):
    from cases.services import case_request_review_resolve

    with pytest.raises(CaseRequestInvalid):
        case_request_review_resolve(case_request=case_x, actor=coord_viewer, release=False)
    case_x.refresh_from_db()
    assert case_x.status == CaseRequest.Status.OPEN


def test_a_partner_edit_into_its_own_organizations_a_number_is_refused(partner_x, org_x, case_x):
    """Only another organization's case is kept from the partner (held for review); one of its
    own it may see, and the edit is refused as at intake."""
    from cases.services import case_request_edit_by_partner

    second = case_request_create(
        data=case_data(respondent_name="Second Person", a_number="A-011-222-444"),
        created_by=partner_x, source=CaseRequest.Source.PARTNER, organization=org_x,
    )  # fmt: skip
    with pytest.raises(DuplicateANumber):
        case_request_edit_by_partner(
            case_request=second, data={"a_number": A_NUMBER}, updated_by=partner_x
        )
    second.refresh_from_db()
    assert (second.status, second.duplicate_of) == (CaseRequest.Status.OPEN, None)
