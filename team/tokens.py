"""API tokens: issued for a username and password, valid for ``API_TOKEN_TTL_DAYS``, listed and
revoked by their owner, and void once the owner's password changes.

A token is ``rfy_`` and 43 random URL-safe characters; the database keeps its SHA-256 digest
(a token has 256 random bits, so a fast hash is enough) and its first characters to tell it
apart. A password change voids every token at once, however the password was changed (the
page, the admin, ``changepassword``, a reset): each token keeps the fingerprint of the password
hash that Django keeps in sessions (``get_session_auth_hash``), and a token whose fingerprint no
longer matches is refused and deleted.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .models import ApiToken, User

TOKEN_PREFIX = "rfy_"
# last_used_at is written at most this often per token: not one UPDATE per API request.
LAST_USED_PRECISION = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _fingerprint(user: User) -> str:
    return user.get_session_auth_hash()


def is_valid(token: ApiToken, *, now=None) -> bool:
    """Not expired, and made under the owner's current password."""
    now = now or timezone.now()
    return token.expires_at > now and constant_time_compare(
        token.password_fingerprint, _fingerprint(token.user)
    )


def issue_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the token itself, which is never stored
    and cannot be shown again. The owner's expired and voided tokens are deleted on the way."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(user=user).filter(
            Q(expires_at__lte=now) | ~Q(password_fingerprint=_fingerprint(user))
        ).delete()
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100],
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            digest=_digest(raw),
            password_fingerprint=_fingerprint(user),
            created_at=now,
            expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
        )
    return token, raw


def authenticate_token(raw: str) -> ApiToken | None:
    """The valid token ``raw`` is, with its user; None for an unknown, expired or voided one
    (a voided one is deleted)."""
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw)).first()
    if token is None:
        return None
    now = timezone.now()
    if not is_valid(token, now=now):
        if token.expires_at > now:  # voided by a password change: it can never come back
            token.delete()
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """The user's valid tokens, newest first."""
    return list(
        ApiToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), password_fingerprint=_fingerprint(user)
        )
    )


def revoke_token(*, user: User, token_id: int) -> bool:
    """Delete one of ``user``'s tokens; False when they have no such token."""
    deleted, _ = ApiToken.objects.filter(pk=token_id, user=user).delete()
    return deleted > 0
