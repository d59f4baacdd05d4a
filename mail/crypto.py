"""Mailbox credentials encrypted at rest (Fernet: AES-128-CBC with an HMAC, from the
``cryptography`` package).

The keys come from the environment: ``MAIL_ENCRYPTION_KEYS``, a comma-separated list of
Fernet keys, the first used to encrypt and every one tried to decrypt (add a new key in front
to rotate, re-save, then drop the old one). Without it, one key is derived from
``SECRET_KEY``, which is also from the environment; set ``MAIL_ENCRYPTION_KEYS`` in
production so that rotating the secret key does not lock the mailboxes.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialError(Exception):
    """A stored credential could not be decrypted with the configured keys."""


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in getattr(settings, "MAIL_ENCRYPTION_KEYS", []) if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"refinery.mail.credentials:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(secret: str) -> str:
    """The token stored for ``secret`` (empty stays empty)."""
    if not secret:
        return ""
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialError(
            "The stored password cannot be decrypted with MAIL_ENCRYPTION_KEYS; enter it again."
        ) from None


def keys_changed() -> None:
    """Forget the cached keys (tests that change the setting call this)."""
    _fernet.cache_clear()
