"""Personal access tokens, sessions and the login throttling policy."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import ValidationError

TOKEN_NAME_MAX = 50
# CVAT's Token.key is at most 40 characters; sessions and CSRF cookies use [A-Za-z0-9_-] only.
SESSION_AGE = timedelta(days=14)  # Django's SESSION_COOKIE_AGE default
TOKEN_PREFIX_LEN = 8


def new_secret(nbytes: int = 30) -> str:
    """A URL-safe random secret ([A-Za-z0-9_-], 40 characters for 30 bytes)."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """What is stored instead of a secret: its SHA-256. The secrets are 240-bit random strings,
    so a fast hash is enough (no password stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(slots=True)
class AccessToken:
    id: int
    name: str
    owner_id: int
    digest: str  # sha256 of the secret; the secret itself is shown once, at creation
    prefix: str  # the first characters of the secret, to recognise it in lists
    created_date: datetime
    updated_date: datetime
    expiry_date: datetime | None = None
    last_used_date: datetime | None = None
    read_only: bool = False
    version: int = 0

    def is_expired(self, now: datetime) -> bool:
        return self.expiry_date is not None and now >= self.expiry_date


def validate_token_name(name: str) -> str:
    if not name or not name.strip():
        raise ValidationError(fields={"name": ["This field may not be blank."]})
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError(
            fields={"name": [f"Ensure this field has no more than {TOKEN_NAME_MAX} characters."]}
        )
    return name


def validate_expiry(expiry: datetime | None, now: datetime) -> datetime | None:
    if expiry is not None and expiry <= now:
        raise ValidationError(fields={"expiry_date": ["The expiry date must be in the future."]})
    return expiry


@dataclass(slots=True)
class Session:
    """A browser/SDK login: the ``sessionid`` cookie (stored hashed) and a CSRF token that stays
    the same for the whole session (the SDK freezes X-CSRFToken at login)."""

    digest: str
    user_id: int
    csrf_token: str
    created_date: datetime
    expiry_date: datetime

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expiry_date


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """At most ``max_failures`` failed logins per key (username, client IP) within ``window``;
    once reached, further attempts are refused until the oldest failure leaves the window."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, failures: list[datetime], now: datetime) -> int:
        """Seconds until the next attempt is allowed; 0 when it is allowed now."""
        recent = sorted(f for f in failures if now - f < self.window)
        if len(recent) < self.max_failures:
            return 0
        # the attempt is allowed once enough failures have aged out of the window
        unlock = recent[len(recent) - self.max_failures] + self.window
        return max(1, int((unlock - now).total_seconds() + 0.999))
