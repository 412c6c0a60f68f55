"""Personal access tokens, password sessions (with a stable CSRF token) and login throttling."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain.auth import (
    SESSION_AGE,
    TOKEN_PREFIX_LEN,
    AccessToken,
    Session,
    ThrottlePolicy,
    digest,
    new_secret,
    same_secret,
    validate_expiry,
    validate_token_name,
)
from ..domain.context import RequestContext
from ..domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ThrottledError
from ..domain.events import diff_fields
from ..domain.query import SPECS, Page, apply_list_query, parse_list_query
from ..domain.users import User
from ..ports import (
    AccessTokenRepository,
    Clock,
    IdGenerator,
    LoginAttemptRepository,
    PasswordHasher,
    SessionRepository,
    UserRepository,
)
from .common import UNSET, Unset

_INVALID_CREDENTIALS = "Unable to log in with provided credentials."
_INVALID_TOKEN = "Invalid token."  # noqa: S105 - a message, not a secret


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: AccessToken
    secret: str  # shown to the client once, never stored


class AccessTokenService:
    def __init__(self, tokens: AccessTokenRepository, users: UserRepository, ids: IdGenerator, clock: Clock) -> None:
        self.tokens = tokens
        self.users = users
        self.ids = ids
        self.clock = clock

    def create(
        self, ctx: RequestContext, *, name: str, expiry_date: datetime | None = None, read_only: bool = False
    ) -> CreatedToken:
        """Create a token for the caller; the returned secret is the only copy there will be.
        A read-only token cannot create tokens."""
        ctx.require_write()
        now = self.clock.now()
        secret = new_secret()
        token = AccessToken(
            id=self.ids.next_id("access_token"),
            name=validate_token_name(name),
            owner_id=ctx.user_id,
            digest=digest(secret),
            prefix=secret[:TOKEN_PREFIX_LEN],
            created_date=now,
            updated_date=now,
            expiry_date=validate_expiry(expiry_date, now),
            read_only=read_only,
        )
        return CreatedToken(self.tokens.add(token), secret)

    def _own(self, ctx: RequestContext, token_id: int) -> AccessToken:
        token = self.tokens.get(token_id)
        if token.owner_id != ctx.user_id:
            raise NotFoundError()  # tokens are private: others' do not exist for you
        return token

    def get(self, ctx: RequestContext, token_id: int) -> AccessToken:
        """One of the caller's tokens."""
        return self._own(ctx, token_id)

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Page[AccessToken]:
        """The caller's tokens, with CVAT's list parameters."""
        spec = SPECS["access_token"]
        rows = (
            (
                t,
                {
                    "id": t.id,
                    "name": t.name,
                    "read_only": t.read_only,
                    "created_date": t.created_date,
                    "updated_date": t.updated_date,
                    "expiry_date": t.expiry_date,
                    "last_used_date": t.last_used_date,
                },
            )
            for t in self.tokens.list_by_owner(ctx.user_id)
        )
        return apply_list_query(rows, spec, parse_list_query(params, spec))

    def update(
        self,
        ctx: RequestContext,
        token_id: int,
        *,
        name: str | Unset = UNSET,
        expiry_date: datetime | Unset | None = UNSET,
        read_only: bool | Unset = UNSET,
    ) -> AccessToken:
        """Rename a token, change its expiry or make it read-only (a read-only token cannot be
        made writable again, and a read-only caller cannot change tokens)."""
        ctx.require_write()
        token = self._own(ctx, token_id)
        before = copy.deepcopy(token)
        if not isinstance(name, Unset):
            token.name = validate_token_name(name)
        if not isinstance(expiry_date, Unset):
            token.expiry_date = validate_expiry(expiry_date, self.clock.now())
        if not isinstance(read_only, Unset):
            if before.read_only and not read_only:
                raise PermissionDeniedError("A read-only token cannot be made writable.")
            token.read_only = read_only
        if diff_fields(before, token):
            token.updated_date = self.clock.now()
            token = self.tokens.save(token)
        return token

    def delete(self, ctx: RequestContext, token_id: int) -> None:
        """Revoke one of the caller's tokens."""
        self._own(ctx, token_id)
        self.tokens.delete(token_id)

    def authenticate(self, secret: str) -> tuple[User, AccessToken]:
        """The user behind a ``Bearer`` secret; AuthenticationError when unknown, expired or the
        user is inactive. Records when the token was last used."""
        token = self.tokens.find_by_digest(digest(secret))
        now = self.clock.now()
        if token is None or token.is_expired(now):
            raise AuthenticationError(_INVALID_TOKEN)
        try:
            user = self.users.get(token.owner_id)
        except NotFoundError:
            raise AuthenticationError(_INVALID_TOKEN) from None
        if not user.is_active:
            raise AuthenticationError("User inactive or deleted.")
        if token.last_used_date is None or (now - token.last_used_date).total_seconds() >= 60:
            # at most one write a minute per token: a busy client must not cost a write per call
            token.last_used_date = now
            try:
                token = self.tokens.save(token)
            except Exception:  # a concurrent request recorded it: that is enough
                token = self.tokens.get(token.id)
        return user, token

    def owned_by(self, user_id: int) -> builtins.list[AccessToken]:
        return self.tokens.list_by_owner(user_id)


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_key: str  # the ``sessionid`` cookie
    csrf_token: str  # the ``csrftoken`` cookie; stable for the session's lifetime
    key: str  # the ``Token.key`` of the login response (CVAT's legacy token; ≤ 40 characters)


class SessionService:
    def __init__(
        self,
        sessions: SessionRepository,
        users: UserRepository,
        passwords: PasswordHasher,
        attempts: LoginAttemptRepository,
        clock: Clock,
        *,
        policy: ThrottlePolicy | None = None,
    ) -> None:
        self.sessions = sessions
        self.users = users
        self.passwords = passwords
        self.attempts = attempts
        self.clock = clock
        self.policy = policy or ThrottlePolicy()

    def _throttle_keys(self, login: str, ip: str) -> list[str]:
        keys = [f"user:{login.lower()}"]
        if ip:
            keys.append(f"ip:{ip}")
        return keys

    def login(self, *, password: str, username: str = "", email: str = "", ip: str = "") -> LoginResult:
        """Check a password login (by username or email) and open a session. Too many failures
        for the same username or client IP within the policy's window -> ThrottledError with
        the seconds to wait; a wrong password -> AuthenticationError."""
        login = username or email
        now = self.clock.now()
        keys = self._throttle_keys(login, ip)
        wait = max(
            self.policy.retry_after(self.attempts.failures_since(k, now - self.policy.window), now) for k in keys
        )
        if wait:
            raise ThrottledError("Too many failed login attempts.", retry_after=wait)
        user = self.users.find_by_username(username) if username else None
        if user is None and email:
            user = self.users.find_by_email(email)
        ok = user is not None and user.is_active and self.passwords.verify(user.password_hash, password)
        if not ok or user is None:
            for k in keys:
                self.attempts.add_failure(k, now)
            raise AuthenticationError(_INVALID_CREDENTIALS)
        self.attempts.clear(keys[0])
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = self.passwords.hash(password)
        user.last_login = now
        try:
            user = self.users.save(user)
        except Exception:  # a concurrent login updated last_login: harmless
            user = self.users.get(user.id)
        session_key = new_secret()
        csrf = new_secret(24)
        self.sessions.add(
            Session(
                digest=digest(session_key),
                user_id=user.id,
                csrf_token=csrf,
                created_date=now,
                expiry_date=now + SESSION_AGE,
            )
        )
        return LoginResult(user=user, session_key=session_key, csrf_token=csrf, key=new_secret())

    def authenticate(self, session_key: str) -> tuple[User, Session]:
        """The user of a ``sessionid`` cookie; AuthenticationError when unknown or expired."""
        session = self.sessions.find_by_digest(digest(session_key))
        if session is None or session.is_expired(self.clock.now()):
            if session is not None:
                self.sessions.delete(session.digest)
            raise AuthenticationError("Invalid session.")
        try:
            user = self.users.get(session.user_id)
        except NotFoundError:
            raise AuthenticationError("Invalid session.") from None
        if not user.is_active:
            raise AuthenticationError("User inactive or deleted.")
        return user, session

    @staticmethod
    def check_csrf(session: Session, header_token: str | None, cookie_token: str | None) -> None:
        """Unsafe methods of a session-authenticated request must echo the session's CSRF token
        in both the ``csrftoken`` cookie and the ``X-CSRFToken`` header."""
        if not header_token or not cookie_token:
            raise PermissionDeniedError("CSRF Failed: CSRF token missing.")
        if not (same_secret(header_token, session.csrf_token) and same_secret(cookie_token, session.csrf_token)):
            raise PermissionDeniedError("CSRF Failed: CSRF token incorrect.")

    def logout(self, session_key: str) -> None:
        """End a session (unknown sessions are ignored)."""
        self.sessions.delete(digest(session_key))

    def logout_everywhere(self, user_id: int) -> None:
        """End every session of a user (after a password change, for example)."""
        self.sessions.delete_by_user(user_id)
