"""Who is calling: CVAT's authentication schemes turned into a RequestContext.

Schemes, tried in this order (as CVAT's REST framework settings do):

- ``Authorization: Bearer <personal access token>`` (cvat-sdk ``access_token=``)
- ``Authorization: Token <key>``: the ``key`` of ``POST /api/auth/login``. The key is the session
  secret itself, so it lives and dies with the session (logout revokes it); like REST framework's
  token auth it needs no CSRF token.
- ``Authorization: Basic base64(user:password)``
- the ``sessionid`` cookie of a password login; unsafe methods must carry the session's CSRF token
  in both the ``csrftoken`` cookie and the ``X-CSRFToken`` header, and an ``Origin`` (or, without
  it, a ``Referer``) that names this host.

A credential that is present but wrong is a 401, as in CVAT; no credential at all is a 401 on
every route but the anonymous ones. Read-only access tokens may only use safe methods.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from ..domain.auth import check_csrf_tokens
from ..domain.errors import AuthenticationError, PermissionDeniedError
from . import http

if TYPE_CHECKING:
    from ..domain.auth import AccessToken, Session
    from ..domain.context import RequestContext
    from ..domain.users import User
    from .services import ApiServices

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
CSRF_COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: one year
NOT_PROVIDED = "Authentication credentials were not provided."


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and how they proved it."""

    user: User
    scheme: str  # "access_token" | "token" | "basic" | "session"
    session: Session | None = None
    session_key: str | None = None
    token: AccessToken | None = None

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only


def _basic(services: ApiServices, event: http.Event, encoded: str) -> User:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("Invalid basic header. Credentials not correctly base64 encoded.") from None
    return services.accounts.basic_login(username, password, ip=http.client_ip(event))


def authenticate(event: http.Event, services: ApiServices) -> Principal | None:
    """The caller, or None when the request carries no credentials at all."""
    authorization = (http.header(event, "Authorization") or "").strip()
    scheme, _, credentials = authorization.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme in ("bearer", "token", "basic"):
        if not credentials or " " in credentials:
            raise AuthenticationError(f"Invalid {scheme} header. Credentials string should not contain spaces.")
        if scheme == "bearer":
            user, token = services.access_tokens.authenticate(credentials)
            return Principal(user, "access_token", token=token)
        if scheme == "token":
            try:
                user, session = services.sessions.authenticate(credentials)
            except AuthenticationError:
                raise AuthenticationError("Invalid token.") from None
            return Principal(user, "token", session=session, session_key=credentials)
        return Principal(_basic(services, event, credentials), "basic")
    session_key = http.cookies(event).get(SESSION_COOKIE)
    if session_key:
        try:
            user, session = services.sessions.authenticate(session_key)
        except AuthenticationError:
            return None  # a stale cookie is an anonymous request, as with Django sessions
        principal = Principal(user, "session", session=session, session_key=session_key)
        if event.http_method.upper() not in http.SAFE_METHODS:
            check_csrf(event, principal)
        return principal
    return None


def check_csrf(event: http.Event, principal: Principal) -> None:
    """Django's CSRF rules for session-authenticated unsafe requests."""
    assert principal.session is not None
    origin = http.header(event, "Origin")
    allowed_hosts = {http.host(event).lower(), (http.header(event, "Host") or "").lower()}
    if origin:
        # Django's rule: the origin's host and port, and over HTTPS its scheme (a page of
        # http://host:port may not write to https://host:port)
        parts = urlsplit(origin)
        if origin == "null" or parts.netloc.lower() not in allowed_hosts or (
                http.is_https(event) and parts.scheme.lower() != "https"):
            raise PermissionDeniedError(
                f"CSRF Failed: Origin checking failed - {origin} does not match any trusted origins."
            )
    else:
        referer = http.header(event, "Referer")
        if referer and urlsplit(referer).netloc.lower() not in allowed_hosts:
            raise PermissionDeniedError("CSRF Failed: Referer checking failed - the Referer does not match this host.")
    check_csrf_tokens(principal.session, http.header(event, CSRF_HEADER), http.cookies(event).get(CSRF_COOKIE))


def require_principal(event: http.Event, services: ApiServices) -> Principal:
    principal = authenticate(event, services)
    if principal is None:
        raise AuthenticationError(NOT_PROVIDED)
    if principal.read_only and event.http_method.upper() not in http.SAFE_METHODS:
        raise PermissionDeniedError("This access token is read-only.")
    return principal


def context_for(event: http.Event, principal: Principal, services: ApiServices) -> RequestContext:
    """The RequestContext of an authenticated request: CVAT's ``org``/``org_id`` query
    parameters and ``X-Organization`` header name the organization context."""
    params = http.query(event)
    return services.organizations.resolve_context(
        principal.user,
        org=params.get("org"),
        org_id=params.get("org_id"),
        header=http.header(event, "X-Organization"),
        request_id=str(http.rest(event).request_context.request_id or ""),
        read_only=principal.read_only,
        origin=http.base_url(event),
    )


def request_context(event: http.Event, services: ApiServices) -> RequestContext:
    """Authenticate the request (401/403 otherwise) and resolve its organization context."""
    return context_for(event, require_principal(event, services), services)


# --- cookies --------------------------------------------------------------------------------


def session_cookies(event: http.Event, session_key: str, csrf_token: str) -> list[Cookie]:
    from ..domain.auth import SESSION_AGE

    secure = http.is_https(event)
    return [
        Cookie(
            CSRF_COOKIE,
            csrf_token,
            path="/",
            secure=secure,
            max_age=CSRF_COOKIE_AGE,
            same_site=SameSite.LAX_MODE,
        ),
        Cookie(
            SESSION_COOKIE,
            session_key,
            path="/",
            secure=secure,
            http_only=True,
            max_age=int(SESSION_AGE.total_seconds()),
            same_site=SameSite.LAX_MODE,
        ),
    ]


def expired_cookies(event: http.Event) -> list[Cookie]:
    secure = http.is_https(event)
    return [
        Cookie(name, "", path="/", secure=secure, max_age=0, same_site=SameSite.LAX_MODE)
        for name in (SESSION_COOKIE, CSRF_COOKIE)
    ]


def with_cookies(response: Response[object], cookies: list[Cookie]) -> Response[object]:
    response.cookies.extend(cookies)
    return response
