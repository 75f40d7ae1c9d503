"""Respondent identifiers at rest: authenticated encryption and a keyed A-number hash (SEC-22).

Why not django-fernet-encrypted-fields (0.4.0, the maintained package)? Two reasons, both about
this program's requirements rather than Django 6.1: it derives its key from ``SECRET_KEY`` (we
need a key that rotates separately), and on a failed integrity check it silently returns the
ciphertext as if it were the value, where we must notice tampering. So this module uses the
same primitive, ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256, a random IV per value),
through MultiFernet for key rotation, in ~60 lines.

Keys come from ``settings.FIELD_ENCRYPTION_KEYS`` (random strings). Each is stretched with HKDF
into a Fernet key; the A-number hash key is derived from the first key with a different HKDF
label, so one secret serves both purposes without the two outputs being related. Rotating the
first key changes the hash key too: after putting a new key first, run
``manage.py rotate_identifier_keys`` (re-encrypts with it and re-hashes), then drop the old key.
"""

import base64
import hashlib
import hmac
import logging
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

from core.errors import DomainError

logger = logging.getLogger(__name__)

_FERNET_LABEL = b"pro-bono-match field encryption v1"
_HASH_LABEL = b"pro-bono-match a-number hash v1"


class UnreadableIdentifier(DomainError):
    """A stored identifier failed its integrity check (tampered, truncated or wrong key)."""

    code = "identifier_unreadable"

    def __init__(self) -> None:
        super().__init__("A stored identifier failed its integrity check and cannot be read.")


class Unreadable(str):
    """What an encrypted field holds after a failed decryption: safe to render, refused on save."""

    __slots__ = ()

    def __new__(cls):
        return super().__new__(cls, "")

    def __repr__(self) -> str:
        return "<unreadable identifier>"


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(k, _FERNET_LABEL))) for k in keys])


@cache
def _hash_key() -> bytes:
    return _derive(settings.FIELD_ENCRYPTION_KEYS[0], _HASH_LABEL)


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()
        _hash_key.cache_clear()


def encrypt_bytes(value: bytes) -> bytes:
    return _fernet().encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    """Decrypt, or raise UnreadableIdentifier (never returns the ciphertext)."""
    try:
        return _fernet().decrypt(token)
    except InvalidToken as error:
        raise UnreadableIdentifier from error


def encrypt_text(value: str) -> str:
    return encrypt_bytes(value.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return decrypt_bytes(token.encode("ascii")).decode()
    except UnicodeError as error:
        raise UnreadableIdentifier from error


def a_number_hash(canonical: str) -> str:
    """Keyed HMAC-SHA256 of a canonical A-number: equal numbers, equal hashes; no key, no guess."""
    return hmac.new(_hash_key(), canonical.encode("ascii"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. Empty text is stored as empty text.

    Only ``isnull`` and exact match on the empty string make sense on ciphertext (every token is
    different), so nothing may filter on the value itself: use the keyed hash column instead.
    """

    description = "Text encrypted at rest (Fernet)"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, Unreadable):
            # Writing it back would replace the evidence of tampering with an empty value.
            raise UnreadableIdentifier
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return decrypt_text(value)
        except UnreadableIdentifier:
            # No value and no row id in the message: the caller shows "unreadable".
            logger.warning("An encrypted identifier failed its integrity check.")
            return Unreadable()

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)


def is_unreadable(value) -> bool:
    return isinstance(value, Unreadable)
