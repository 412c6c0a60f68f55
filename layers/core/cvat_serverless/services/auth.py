"""Personal access tokens, password checks (one throttle for every way a password is tried),
password sessions (with a stable CSRF token), registration and password changes."""

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
    AddressLimits,
    LoginLimits,
    Session,
    ThrottlePolicy,
    digest,
    new_secret,
    throttled_message,
    validate_expiry,
    validate_token_name,
)
from ..domain.context import RequestContext
from ..domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    ValidationError,
)
from ..domain.events import DomainEvent, diff_fields
from ..domain.query import SPECS, Page, apply_list_query, parse_list_query
from ..domain.users import SystemRole, User, validate_email, validate_new_password, validate_username
from ..ports import (
    AccessTokenRepository,
    Clock,
    EventPublisher,
    IdGenerator,
    LoginAttemptRepository,
    PasswordHasher,
    SessionRepository,
    UserRepository,
)
from .common import UNSET, Unset, basic_user_fields
from .views import Related, Shown

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
    ) -> Shown[CreatedToken]:
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
        return Shown(CreatedToken(self.tokens.add(token), secret), Related(users={ctx.user_id: ctx.user}))

    def _own(self, ctx: RequestContext, token_id: int) -> AccessToken:
        token = self.tokens.get(token_id)
        if token.owner_id != ctx.user_id:
            raise NotFoundError()  # tokens are private: others' do not exist for you
        return token

    @staticmethod
    def _shown(ctx: RequestContext, token: AccessToken) -> Shown[AccessToken]:
        return Shown(token, Related(users={ctx.user_id: ctx.user}))

    def get(self, ctx: RequestContext, token_id: int) -> Shown[AccessToken]:
        """One of the caller's tokens."""
        return self._shown(ctx, self._own(ctx, token_id))

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[AccessToken]]:
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
        page = apply_list_query(rows, spec, parse_list_query(params, spec))
        return Shown(page, Related(users={ctx.user_id: ctx.user}))

    def update(
        self,
        ctx: RequestContext,
        token_id: int,
        *,
        name: str | Unset = UNSET,
        expiry_date: datetime | Unset | None = UNSET,
        read_only: bool | Unset = UNSET,
    ) -> Shown[AccessToken]:
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
        return self._shown(ctx, token)

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
            except ConflictError:  # a concurrent request recorded it: that is enough
                token = self.tokens.get(token.id)
        return user, token

    def owned_by(self, user_id: int) -> builtins.list[AccessToken]:
        return self.tokens.list_by_owner(user_id)


def check_address_rate(attempts: LoginAttemptRepository, policy: ThrottlePolicy, key: str | None,
                       now: datetime) -> None:
    """ThrottledError (REST framework's message, with the seconds to wait) when ``key`` has used
    up ``policy``'s window; nothing when the address is not limited (``key`` None)."""
    if key is None:
        return
    wait = policy.retry_after(attempts.failures_since(key, now - policy.window), now)
    if wait:
        raise ThrottledError(throttled_message(wait), retry_after=wait)


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_key: str  # the ``sessionid`` cookie
    csrf_token: str  # the ``csrftoken`` cookie; stable for the session's lifetime
    key: str  # the ``Token.key`` of the login response (CVAT's legacy token; ≤ 40 characters)


class PasswordCheckService:
    """Every password check goes through here (session login, HTTP Basic, registration's first
    login, password change), so every way to try a password meets the same throttle."""

    def __init__(
        self,
        users: UserRepository,
        passwords: PasswordHasher,
        attempts: LoginAttemptRepository,
        clock: Clock,
        *,
        limits: LoginLimits | None = None,
    ) -> None:
        self.users = users
        self.passwords = passwords
        self.attempts = attempts
        self.clock = clock
        self.limits = limits or LoginLimits()

    def authenticate(self, *, password: str, username: str = "", email: str = "", ip: str = "") -> User | None:
        """The active user that a username (or email) and password name, or None when they are
        wrong (the failure is counted). ThrottledError, before any password is looked at, when
        the account, the account from this address, or this address failed too often lately."""
        user = self.users.find_by_username(username) if username else None
        if user is None and email:
            user = self.users.find_by_email(email)
        return user if self.check(user, password, ip=ip, login=username or email) else None

    def check(self, user: User | None, password: str, *, ip: str, login: str = "") -> bool:
        """Whether ``password`` is ``user``'s (an active user), under the throttle."""
        now = self.clock.now()
        account = f"user:{user.id}" if user is not None else f"login:{login.lower()}"
        keys = self.limits.keys(account, ip)
        wait = max(policy.retry_after(self.attempts.failures_since(key, now - policy.window), now)
                   for key, policy in keys)
        if wait:
            raise ThrottledError("Too many failed login attempts.", retry_after=wait)
        if user is None or not user.is_active or not self.passwords.verify(user.password_hash, password):
            for key, _ in keys:
                self.attempts.add_failure(key, now)
            return False
        self.attempts.clear(keys[0][0])  # the account's own typos from this address are forgiven
        return True


class SessionService:
    def __init__(
        self,
        sessions: SessionRepository,
        users: UserRepository,
        passwords: PasswordHasher,
        checks: PasswordCheckService,
        clock: Clock,
        *,
        address_limits: AddressLimits | None = None,
    ) -> None:
        self.sessions = sessions
        self.users = users
        self.passwords = passwords
        self.checks = checks
        self.clock = clock
        self.address_limits = address_limits or AddressLimits()

    def login(self, *, password: str, username: str = "", email: str = "", ip: str = "") -> LoginResult:
        """Check a password login (by username or email) and open a session. Too many logins from
        this address lately (right or wrong, see AddressLimits), or too many recent failures (see
        PasswordCheckService) -> ThrottledError with the seconds to wait; a wrong password ->
        AuthenticationError."""
        now = self.clock.now()
        key = AddressLimits.key("login", ip)
        check_address_rate(self.checks.attempts, self.address_limits.logins, key, now)
        if key is not None:
            self.checks.attempts.add_failure(key, now)  # every attempt counts, before any password work
        user = self.checks.authenticate(password=password, username=username, email=email, ip=ip)
        if user is None:
            raise AuthenticationError(_INVALID_CREDENTIALS)
        now = self.clock.now()
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = self.passwords.hash(password)
        user.last_login = now
        try:
            user = self.users.save(user)
        except ConflictError:  # a concurrent login updated last_login: harmless
            user = self.users.get(user.id)
        return self.open_session(user)

    def open_session(self, user: User) -> LoginResult:
        now = self.clock.now()
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

    def logout(self, session_key: str) -> None:
        """End a session (unknown sessions are ignored)."""
        self.sessions.delete(digest(session_key))

    def logout_everywhere(self, user_id: int, *, keep: Session | None = None) -> None:
        """End every session of a user (after a password change, for example), but ``keep``."""
        self.sessions.delete_by_user(user_id)
        if keep is not None:
            self.sessions.add(keep)


@dataclass(frozen=True, slots=True)
class Registration:
    username: str
    password1: str
    password2: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""


class AccountService:
    """A user's own account: registration, password checks for HTTP Basic, password changes."""

    def __init__(
        self,
        users: UserRepository,
        ids: IdGenerator,
        passwords: PasswordHasher,
        clock: Clock,
        *,
        checks: PasswordCheckService,
        sessions: SessionService,
        events: EventPublisher | None = None,
        self_registration: bool = True,
        address_limits: AddressLimits | None = None,
    ) -> None:
        self.users = users
        self.ids = ids
        self.passwords = passwords
        self.checks = checks
        self.sessions = sessions
        self.clock = clock
        self.events = events
        self.self_registration = self_registration
        self.address_limits = address_limits or AddressLimits()

    def register(self, data: Registration, *, ip: str = "", origin: str = "") -> LoginResult:
        """Create a user (system group ``user``) with CVAT's validation, and log them in;
        ``create:user`` (server webhooks) tells who registered, from ``origin`` (the API's URL).

        Closed (``self_registration`` off) -> NotFoundError: CVAT closes registration by not
        routing ``/api/auth/register`` at all, so its clients see a 404 and its schema lacks the
        path. Too many accounts made from this address lately -> ThrottledError."""
        if not self.self_registration:
            raise NotFoundError("Not found.")
        now = self.clock.now()
        key = AddressLimits.key("register", ip)
        check_address_rate(self.checks.attempts, self.address_limits.registrations, key, now)
        username = validate_username(data.username)
        email = validate_email(data.email) if data.email else ""
        validate_new_password(data.password1, data.password2, username)
        if self.users.find_by_username(username) is not None:
            raise ValidationError(fields={"username": ["A user with that username already exists."]})
        if email and self.users.find_by_email(email) is not None:
            raise ValidationError(fields={"email": ["A user is already registered with this e-mail address."]})
        try:
            user = self.users.add(User(
                id=self.ids.next_id("user"),
                username=username,
                email=email,
                password_hash=self.passwords.hash(data.password1),
                first_name=data.first_name,
                last_name=data.last_name,
                groups=[SystemRole.USER],
                date_joined=self.clock.now(),
            ))
        except ConflictError:  # registered concurrently under the same name
            raise ValidationError(fields={"username": ["A user with that username already exists."]}) from None
        if self.events is not None:
            shown = copy.copy(user)
            shown.password_hash = ""
            event = DomainEvent(scope="create:user", resource="user", resource_id=user.id, actor_id=user.id,
                                request_id="", timestamp=self.clock.now(), obj=shown, origin=origin,
                                actor=basic_user_fields(user))
            self.events.publish(event.scope, event.detail())
        if key is not None:
            self.checks.attempts.add_failure(key, now)  # accounts made count; refused attempts do not
        return self.sessions.login(password=data.password1, username=username, ip=ip)

    def basic_login(self, username: str, password: str, *, ip: str = "") -> User:
        """The user of an ``Authorization: Basic`` header, throttled like a session login."""
        user = self.checks.authenticate(password=password, username=username, ip=ip) if username else None
        if user is None:
            raise AuthenticationError("Invalid username/password.")
        return user

    def change_password(
        self,
        user_id: int,
        *,
        old_password: str,
        new_password1: str,
        new_password2: str,
        keep_session: Session | None = None,
        ip: str = "",
    ) -> None:
        """Change the caller's password (the old one is checked under the login throttle). Every
        other session ends; ``keep_session``, the one that made the change, stays (Django's
        update_session_auth_hash)."""
        user = self.users.get(user_id)
        if not self.checks.check(user, old_password, ip=ip):
            raise ValidationError(
                fields={"old_password": ["Your old password was entered incorrectly. Please enter it again."]}
            )
        validate_new_password(new_password1, new_password2, user.username, field="new_password2")
        user.password_hash = self.passwords.hash(new_password1)
        self.users.save(user)
        self.sessions.logout_everywhere(user.id, keep=keep_session)
