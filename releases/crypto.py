"""Encryption at rest for platform secrets (app secrets, AES keys, refresh tokens).

Fernet (AES-128-CBC + HMAC) from the `cryptography` package. Keys come from
SLUICE_ENCRYPTION_KEYS (newest first, so a rotation keeps old rows readable) or,
when unset, are derived from SECRET_KEY with HKDF so a demo needs no extra setup.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.SLUICE_ENCRYPTION_KEYS)
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sluice-secrets", info=b"fernet").derive(
            settings.SECRET_KEY.encode()
        )
        keys = [base64.urlsafe_b64encode(derived).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "SLUICE_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes)."
        ) from None


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: is SLUICE_ENCRYPTION_KEYS complete?"
        ) from None


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code reads and writes plaintext."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
