"""/api/auth/*: login/logout, registration, passwords, personal access tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import NotFoundError, ValidationError
from .. import auth, http
from ..params import list_params
from ..schemas import auth as sa
from ..schemas.common import RestAuthDetail

if TYPE_CHECKING:
    from ..present import Presenter

router = Router()
TAGS = ["auth"]
MIN_PASSWORD = 8


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


def _aware(value: datetime | None) -> datetime | None:
    # a date without a zone is UTC (the clock and stored dates are UTC)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _check_password(password1: str, password2: str, username: str = "", field: str = "password1") -> None:
    errors: list[str] = []
    if password1 != password2:
        raise ValidationError(fields={"non_field_errors": ["The two password fields didn't match."]})
    if len(password1) < MIN_PASSWORD:
        errors.append(f"This password is too short. It must contain at least {MIN_PASSWORD} characters.")
    if password1.isdigit():
        errors.append("This password is entirely numeric.")
    if username and username.lower() in password1.lower():
        errors.append("The password is too similar to the username.")
    if errors:
        raise ValidationError(fields={field: errors})


# --- sessions ----------------------------------------------------------------------------------


@router.post("/api/auth/login", tags=TAGS, summary="Log in with a username or email and a password")
def login(body: sa.LoginRequest) -> Response[sa.Token]:
    if not body.username and not body.email:
        raise ValidationError(fields={"non_field_errors": ['Must include "username" and "password".']})
    event = router.current_event
    result = auth.container().sessions.login(
        password=body.password, username=body.username, email=body.email, ip=http.client_ip(event)
    )
    # The Token key is the session secret: `Authorization: Token <key>` is this session.
    response: Response[sa.Token] = Response(
        status_code=200, content_type="application/json", body=sa.Token(key=result.session_key)
    )
    response.cookies.extend(auth.session_cookies(event, result.session_key, result.csrf_token))
    return response


@router.post("/api/auth/logout", tags=TAGS, summary="End the session")
def logout() -> Response[RestAuthDetail]:
    event = router.current_event
    principal = auth.authenticate(event)
    if principal is not None and principal.session_key:
        auth.container().sessions.logout(principal.session_key)
    response: Response[RestAuthDetail] = Response(
        status_code=200, content_type="application/json", body=RestAuthDetail(detail="Successfully logged out.")
    )
    response.cookies.extend(auth.expired_cookies(event))
    return response


@router.post("/api/auth/register", tags=TAGS, summary="Create an account", status_code=201)
def register(body: sa.RegisterRequest) -> Response[sa.RegisterResponse]:
    from ...domain.users import SystemRole, User, validate_email, validate_username

    c = auth.container()
    event = router.current_event
    username = validate_username(body.username)
    email = validate_email(body.email) if body.email else ""
    _check_password(body.password1, body.password2, username)
    if c.users.find_by_username(username) is not None:
        raise ValidationError(fields={"username": ["A user with that username already exists."]})
    if email and c.users.find_by_email(email) is not None:
        raise ValidationError(fields={"email": ["A user is already registered with this e-mail address."]})
    c.users.add(
        User(
            id=c.ids.next_id("user"),
            username=username,
            email=email,
            password_hash=c.passwords.hash(body.password1),
            first_name=body.first_name,
            last_name=body.last_name,
            groups=[SystemRole.USER],
            date_joined=c.clock.now(),
        )
    )
    result = c.sessions.login(password=body.password1, username=username, ip=http.client_ip(event))
    answer = sa.RegisterResponse(
        username=username,
        email=email,
        first_name=body.first_name,
        last_name=body.last_name,
        email_verification_required=False,
        key=result.session_key,
    )
    response: Response[sa.RegisterResponse] = Response(
        status_code=201, content_type="application/json", body=answer
    )
    response.cookies.extend(auth.session_cookies(event, result.session_key, result.csrf_token))
    return response


@router.post("/api/auth/password/change", tags=TAGS, summary="Change the caller's password")
def password_change(body: sa.PasswordChangeRequest) -> RestAuthDetail:
    c = auth.container()
    principal = auth.require_principal(router.current_event)
    user = c.users.get(principal.user.id)
    if not c.passwords.verify(user.password_hash, body.old_password):
        raise ValidationError(
            fields={"old_password": ["Your old password was entered incorrectly. Please enter it again."]}
        )
    _check_password(body.new_password1, body.new_password2, user.username, field="new_password2")
    user.password_hash = c.passwords.hash(body.new_password1)
    c.users.save(user)
    # Other sessions end; the one that changed the password stays (Django's update_session_auth_hash).
    c.sessions.logout_everywhere(user.id)
    if principal.session is not None:
        c.auth_repos.sessions.add(principal.session)
    return RestAuthDetail(detail="New password has been saved.")


_NO_EMAIL = "Password reset by e-mail is not configured on this server; ask an administrator to set a new password."


@router.post("/api/auth/password/reset", tags=TAGS, summary="Password reset by e-mail (not configured)")
def password_reset(body: sa.PasswordResetRequest) -> RestAuthDetail:
    raise ValidationError(_NO_EMAIL)


@router.post("/api/auth/password/reset/confirm", tags=TAGS, summary="Password reset by e-mail (not configured)")
def password_reset_confirm(body: sa.PasswordResetConfirmRequest) -> RestAuthDetail:
    raise ValidationError(_NO_EMAIL)


# --- personal access tokens ----------------------------------------------------------------


@router.post("/api/auth/access_tokens", tags=TAGS, summary="Create a personal access token", status_code=201)
def create_token(body: sa.AccessTokenWriteRequest) -> sa.AccessTokenRead:
    ctx = auth.request_context(router.current_event)
    created = auth.container().access_tokens.create(
        ctx, name=body.name, expiry_date=_aware(body.expiry_date), read_only=body.read_only
    )
    return _presenter().access_token(created.token, secret=created.secret)


@router.get("/api/auth/access_tokens", tags=TAGS, summary="The caller's access tokens")
@list_params("name", "read_only", org=False)
def list_tokens(**_: str | None) -> sa.PaginatedAccessTokenReadList:
    event = router.current_event
    ctx = auth.request_context(event)
    page = auth.container().access_tokens.list(ctx, http.query(event))
    presenter = _presenter()
    return sa.PaginatedAccessTokenReadList.model_validate(presenter.page(page, presenter.access_token))


@router.get("/api/auth/access_tokens/self", tags=TAGS, summary="The access token of this request")
def token_self() -> sa.AccessTokenRead:
    principal = auth.require_principal(router.current_event)
    if principal.token is None:
        raise NotFoundError("This request is not authenticated with an access token.")
    return _presenter().access_token(principal.token)


TokenId = Annotated[int, Path(ge=0, le=2**31 - 1)]


@router.get("/api/auth/access_tokens/<id>", tags=TAGS, summary="One of the caller's access tokens")
def get_token(id: TokenId) -> sa.AccessTokenRead:
    ctx = auth.request_context(router.current_event)
    return _presenter().access_token(auth.container().access_tokens.get(ctx, id))


@router.patch("/api/auth/access_tokens/<id>", tags=TAGS, summary="Rename, re-date or restrict a token")
def update_token(id: TokenId, body: sa.PatchedAccessTokenWriteRequest | None = None) -> sa.AccessTokenRead:
    from ...services.common import UNSET

    ctx = auth.request_context(router.current_event)
    body = body or sa.PatchedAccessTokenWriteRequest()
    if body.given("name") and body.name is None:
        raise ValidationError(fields={"name": ["This field may not be null."]})
    if body.given("read_only") and body.read_only is None:
        raise ValidationError(fields={"read_only": ["This field may not be null."]})
    token = auth.container().access_tokens.update(
        ctx,
        id,
        name=body.name if body.given("name") and body.name is not None else UNSET,
        expiry_date=_aware(body.expiry_date) if body.given("expiry_date") else UNSET,
        read_only=body.read_only if body.given("read_only") and body.read_only is not None else UNSET,
    )
    return _presenter().access_token(token)


@router.delete("/api/auth/access_tokens/<id>", tags=TAGS, summary="Revoke an access token")
def delete_token(id: TokenId) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().access_tokens.delete(ctx, id)
    return Response(status_code=204)
