"""/api/auth/*: login/logout, registration, passwords, personal access tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import NotFoundError, ValidationError
from ...services.views import Related
from .. import auth, http
from ..params import list_params
from ..present import Presenter
from ..schemas import auth as sa
from ..schemas.common import RestAuthDetail
from ._common import Call, ObjectId

router = Router()
TAGS = ["auth"]


def _aware(value: datetime | None) -> datetime | None:
    # a date without a zone is UTC (the clock and stored dates are UTC)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# --- sessions ----------------------------------------------------------------------------------


@router.post("/api/auth/login", tags=TAGS, summary="Log in with a username or email and a password")
def login(body: sa.LoginRequest) -> Response[sa.Token]:
    if not body.username and not body.email:
        raise ValidationError(fields={"non_field_errors": ['Must include "username" and "password".']})
    call = Call(router)
    event = call.event
    result = call.services.sessions.login(
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
    call = Call(router)
    event = call.event
    principal = auth.authenticate(event, call.services)
    if principal is not None and principal.session_key:
        call.services.sessions.logout(principal.session_key)
    response: Response[RestAuthDetail] = Response(
        status_code=200, content_type="application/json", body=RestAuthDetail(detail="Successfully logged out.")
    )
    response.cookies.extend(auth.expired_cookies(event))
    return response


@router.post("/api/auth/register", tags=TAGS, summary="Create an account", status_code=201)
def register(body: sa.RegisterRequest) -> Response[sa.RegisterResponse]:
    from ...services.auth import Registration

    call = Call(router)
    result = call.services.accounts.register(
        Registration(
            username=body.username,
            password1=body.password1,
            password2=body.password2,
            email=body.email or "",
            first_name=body.first_name,
            last_name=body.last_name,
        ),
        ip=http.client_ip(call.event),
        origin=http.base_url(call.event),
    )
    answer = sa.RegisterResponse(
        username=result.user.username,
        email=result.user.email,
        first_name=result.user.first_name,
        last_name=result.user.last_name,
        email_verification_required=False,
        key=result.session_key,
    )
    response: Response[sa.RegisterResponse] = Response(
        status_code=201, content_type="application/json", body=answer
    )
    response.cookies.extend(auth.session_cookies(call.event, result.session_key, result.csrf_token))
    return response


@router.post("/api/auth/password/change", tags=TAGS, summary="Change the caller's password")
def password_change(body: sa.PasswordChangeRequest) -> RestAuthDetail:
    call = Call(router)
    principal = call.principal
    call.services.accounts.change_password(
        principal.user.id,
        old_password=body.old_password,
        new_password1=body.new_password1,
        new_password2=body.new_password2,
        keep_session=principal.session,
        ip=http.client_ip(call.event),
    )
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
    call = Call(router)
    created = call.services.access_tokens.create(
        call.ctx, name=body.name, expiry_date=_aware(body.expiry_date), read_only=body.read_only
    )
    return call.show(created, lambda presenter, c: presenter.access_token(c.token, secret=c.secret))


@router.get("/api/auth/access_tokens", tags=TAGS, summary="The caller's access tokens")
@list_params("name", "read_only", org=False)
def list_tokens(**_: str | None) -> sa.PaginatedAccessTokenReadList:
    call = Call(router)
    page = call.services.access_tokens.list(call.ctx, call.query)
    return sa.PaginatedAccessTokenReadList.model_validate(call.show_page(page, Presenter.access_token))


@router.get("/api/auth/access_tokens/self", tags=TAGS, summary="The access token of this request")
def token_self() -> sa.AccessTokenRead:
    call = Call(router)
    principal = call.principal
    if principal.token is None:
        raise NotFoundError("This request is not authenticated with an access token.")
    return Presenter(call.event, Related(users={principal.user.id: principal.user})).access_token(principal.token)


TokenId = ObjectId


@router.get("/api/auth/access_tokens/<id>", tags=TAGS, summary="One of the caller's access tokens")
def get_token(id: TokenId) -> sa.AccessTokenRead:
    call = Call(router)
    return call.show(call.services.access_tokens.get(call.ctx, id), Presenter.access_token)


@router.patch("/api/auth/access_tokens/<id>", tags=TAGS, summary="Rename, re-date or restrict a token")
def update_token(id: TokenId, body: sa.PatchedAccessTokenWriteRequest | None = None) -> sa.AccessTokenRead:
    from ...services.common import UNSET

    call = Call(router)
    body = body or sa.PatchedAccessTokenWriteRequest()
    if body.given("name") and body.name is None:
        raise ValidationError(fields={"name": ["This field may not be null."]})
    if body.given("read_only") and body.read_only is None:
        raise ValidationError(fields={"read_only": ["This field may not be null."]})
    token = call.services.access_tokens.update(
        call.ctx,
        id,
        name=body.name if body.given("name") and body.name is not None else UNSET,
        expiry_date=_aware(body.expiry_date) if body.given("expiry_date") else UNSET,
        read_only=body.read_only if body.given("read_only") and body.read_only is not None else UNSET,
    )
    return call.show(token, Presenter.access_token)


@router.delete("/api/auth/access_tokens/<id>", tags=TAGS, summary="Revoke an access token")
def delete_token(id: TokenId) -> Response[None]:
    call = Call(router)
    call.services.access_tokens.delete(call.ctx, id)
    return Response(status_code=204)
