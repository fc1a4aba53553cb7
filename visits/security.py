"""Password hashing and unguessable tokens. Nothing secret is ever stored in clear."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# 32 random bytes = 256 bits, well above the 128 bits a guessable-link attack would need.
TOKEN_BYTES = 32
MIN_PASSWORD_LENGTH = 10


def new_token() -> str:
    """A URL-safe secret for links, session cookies and CSRF tokens."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What we store for a token: a fast hash is enough for 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Passwords:
    """argon2id hashing of staff passwords, in a worker thread (argon2 releases the GIL and
    takes tens of milliseconds, which the event loop must not wait for)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verifying against this keeps unknown-user sign-ins as slow as known-user ones.
        self._decoy = self._hasher.hash(new_token())

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def check_password_strength(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "password must not start or end with spaces"
    return None
