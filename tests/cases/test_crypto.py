"""Identifiers at rest: encrypted, authenticated, keyed hash for duplicates (SEC-22)."""

import base64

import pytest
from django.db import connection
from django.test import override_settings

from cases.crypto import (
    UnreadableIdentifier,
    a_number_hash,
    decrypt_text,
    encrypt_text,
    is_unreadable,
)
from cases.models import CaseRequest
from tests.cases.conftest import CANONICAL, NAME

pytestmark = pytest.mark.django_db


def _raw_row(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT respondent_name, a_number, contact_route, a_number_hash"
            " FROM cases_caserequest WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_raw_sql_shows_no_plaintext_name_or_a_number(case_x):  # SEC-22
    name, a_number, contact, a_hash = _raw_row(case_x.pk)
    stored = " ".join([name, a_number, contact, a_hash])
    for secret in (NAME, "Tzul", CANONICAL, "087-654-321", "555-0100"):
        assert secret not in stored
    assert name.startswith("gAAAA")  # a Fernet token
    assert a_hash == a_number_hash(CANONICAL)


def test_the_model_reads_the_values_back(case_x):
    case = CaseRequest.objects.get(pk=case_x.pk)
    assert (case.respondent_name, case.a_number) == (NAME, CANONICAL)


def _tamper(pk, column="respondent_name"):
    token = bytearray(base64.urlsafe_b64decode(_raw_row(pk)[0]))
    token[-40] ^= 0x01  # one flipped bit inside the ciphertext
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE cases_caserequest SET {column} = %s WHERE id = %s",  # noqa: S608 - fixed name
            [base64.urlsafe_b64encode(bytes(token)).decode(), pk],
        )


def test_a_flipped_byte_gives_a_handled_error_not_the_ciphertext(case_x, caplog):  # SEC-22
    _tamper(case_x.pk)
    case = CaseRequest.objects.get(pk=case_x.pk)
    assert is_unreadable(case.respondent_name)
    assert case.identifiers_unreadable
    assert case.a_number == CANONICAL  # the other columns are unaffected
    assert "integrity" in caplog.text


def test_decrypting_a_tampered_token_raises_the_domain_error():
    token = encrypt_text("secret")
    with pytest.raises(UnreadableIdentifier) as caught:
        decrypt_text(token[:-4] + "AAAA")
    assert caught.value.code == "identifier_unreadable"
    with pytest.raises(UnreadableIdentifier):
        decrypt_text("not a token at all")


def test_an_unreadable_value_is_never_written_back(case_x):
    _tamper(case_x.pk)
    case = CaseRequest.objects.get(pk=case_x.pk)
    with pytest.raises(UnreadableIdentifier):
        case.save()


def test_a_rotated_key_still_decrypts_old_values(settings):
    old = settings.FIELD_ENCRYPTION_KEYS
    token = encrypt_text("kept across rotation")
    with override_settings(FIELD_ENCRYPTION_KEYS=["a-brand-new-key-of-enough-length-0001", *old]):
        assert decrypt_text(token) == "kept across rotation"
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["an-unrelated-key-of-enough-length-0002"]),
        pytest.raises(UnreadableIdentifier),
    ):
        decrypt_text(token)


def test_the_a_number_hash_is_keyed_and_independent_of_secret_key(settings):
    before = a_number_hash(CANONICAL)
    with override_settings(SECRET_KEY="x" * 60):
        assert a_number_hash(CANONICAL) == before
    with override_settings(FIELD_ENCRYPTION_KEYS=["another-field-key-of-enough-length-03"]):
        assert a_number_hash(CANONICAL) != before


def test_encrypted_columns_refuse_lookups_on_their_value():
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(CaseRequest.objects.filter(respondent_name__icontains="Maria"))
