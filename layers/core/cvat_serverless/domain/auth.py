"""Personal access tokens, sessions, the login throttling policy and the per-address rate limits."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import PermissionDeniedError, ValidationError

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


def check_csrf_tokens(session: Session, header_token: str | None, cookie_token: str | None) -> None:
    """Unsafe methods of a session-authenticated request must echo the session's CSRF token in
    both the ``csrftoken`` cookie and the ``X-CSRFToken`` header (Django's double submit)."""
    if not header_token or not cookie_token:
        raise PermissionDeniedError("CSRF Failed: CSRF token missing.")
    if not (same_secret(header_token, session.csrf_token) and same_secret(cookie_token, session.csrf_token)):
        raise PermissionDeniedError("CSRF Failed: CSRF token incorrect.")


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


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many wrong passwords are tolerated, per key, before further tries are refused.

    Three keys, so that guessing one account never locks out the others:
    - the account from one address: the tight limit a typing user meets;
    - the account from anywhere: a slower guesser spread over many addresses;
    - the address, for every account: far higher, since an office behind one NAT (or every user
      of the embedded runtime, on 127.0.0.1) shares it; it stops one address spraying many accounts.
    The address is the one the edge saw (API Gateway's source IP), never a client-supplied header.
    """

    account_and_address: ThrottlePolicy = ThrottlePolicy(max_failures=5)
    account: ThrottlePolicy = ThrottlePolicy(max_failures=20)
    address: ThrottlePolicy = ThrottlePolicy(max_failures=100)

    def keys(self, account: str, address: str) -> list[tuple[str, ThrottlePolicy]]:
        """The counters one password check reads and, when it fails, adds to. ``account`` names
        the account (its id when it exists, else what was typed, so unknown names count too)."""
        keys = [(f"account:{account}|ip:{address}", self.account_and_address), (f"account:{account}", self.account)]
        if address:
            keys.append((f"ip:{address}", self.address))
        return keys


THROTTLED = "Request was throttled."
"""REST framework's 429 message (CVAT answers rate limits with it)."""


def throttled_message(wait: int) -> str:
    """REST framework's ``Throttled`` detail: "Request was throttled. Expected available in N seconds."."""
    return f"{THROTTLED} Expected available in {wait} second{'' if wait == 1 else 's'}."


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class AddressLimits:
    """How often one client address may log in (successful or not) and register, whatever the
    account: a flood from one address is refused before any password is hashed or checked.

    ``ThrottlePolicy.max_failures`` counts attempts here. The address is the one the edge saw (API
    Gateway's source IP, or behind the stack's CloudFront the viewer's, which the API takes only from
    requests carrying the edge's secret: api/http.py::from_edge), never a header a client chose.
    Loopback addresses are exempt: on AWS the
    edge never reports one, and in the embedded runtime every client on the machine shares it (the
    SDK and UI test suites log in far more often than any person would).
    """

    logins: ThrottlePolicy = ThrottlePolicy(max_failures=30, window=timedelta(minutes=1))
    registrations: ThrottlePolicy = ThrottlePolicy(max_failures=5, window=timedelta(hours=1))

    @staticmethod
    def key(kind: str, address: str) -> str | None:
        """The counter of ``kind`` ("login" or "register") for ``address``; None when the address
        is not limited (unknown or loopback)."""
        if not address or is_loopback(address):
            return None
        return f"{kind}:ip:{address}"
