"""Finishing a key rotation: `manage.py rotate_identifier_keys` re-encrypts and re-hashes."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from cases.crypto import Unreadable, a_number_hash
from cases.models import CaseRequest
from core.models import DomainEvent
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db

OLD = "the-old-field-key-of-enough-length-000001"
NEW = "the-new-field-key-of-enough-length-000002"


def _run(**options) -> str:
    out = io.StringIO()
    call_command("rotate_identifier_keys", stdout=out, **options)
    return out.getvalue()


def test_after_rotating_the_old_key_can_go_and_a_numbers_are_found_again():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        cases = [CaseRequestFactory() for _ in range(3)]
        numbers = {case.pk: case.a_number for case in cases}
        names = {case.pk: case.respondent_name for case in cases}
        tampered = CaseRequestFactory()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_caserequest SET respondent_name = %s WHERE id = %s",
                ["gAAAAAtampered", tampered.pk],
            )

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        first = cases[0]
        # Before the command: the hash was made with the old key, so the number is not found.
        assert not CaseRequest.objects.filter(a_number_hash=a_number_hash(first.a_number)).exists()
        output = _run(batch_size=2)

    assert "3 case requests rotated, 1 left unreadable" in output
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):  # the old key is gone
        for case in CaseRequest.objects.filter(pk__in=numbers):
            assert case.a_number == numbers[case.pk]
            assert case.respondent_name == names[case.pk]
            assert CaseRequest.objects.get(a_number_hash=a_number_hash(case.a_number)) == case
        assert isinstance(CaseRequest.objects.get(pk=tampered.pk).respondent_name, Unreadable)
    event = DomainEvent.objects.get(verb="cases.identifier_keys_rotated")
    assert event.data == {"rotated": 3, "unreadable": 1}


def test_running_it_twice_changes_nothing_more():
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        case = CaseRequestFactory()
        _run()
        hash_once = CaseRequest.objects.get(pk=case.pk).a_number_hash
        _run()
        assert CaseRequest.objects.get(pk=case.pk).a_number_hash == hash_once
        assert CaseRequest.objects.get(pk=case.pk).a_number == case.a_number
