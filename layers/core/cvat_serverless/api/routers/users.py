"""/api/users: list/search, self, retrieve, update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import ValidationError
from .. import auth, http
from ..params import list_params
from ..schemas.common import BasicUser
from ..schemas.users import PaginatedMetaUserList, PatchedUserRequest, User

if TYPE_CHECKING:
    from ...domain.context import RequestContext
    from ...domain.users import User as DUser
    from ..present import Presenter

router = Router()
TAGS = ["users"]
UserId = Annotated[int, Path(ge=0, le=2**31 - 1)]


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


def _meta(presenter: Presenter, ctx: RequestContext, user: DUser) -> User | BasicUser:
    """CVAT shows the full user to itself and to admins, the basic one to everybody else."""
    if ctx.actor.is_admin or user.id == ctx.user_id:
        return presenter.user(user)
    basic = presenter.basic_user(user.id)
    assert basic is not None
    return basic


@router.get("/api/users", tags=TAGS, summary="Users visible to the caller")
@list_params("username", "first_name", "last_name", "is_active")
def list_users(**_: str | None) -> PaginatedMetaUserList:
    event = router.current_event
    ctx = auth.request_context(event)
    page = auth.container().user_service.list(ctx, http.query(event))
    presenter = _presenter()
    return PaginatedMetaUserList.model_validate(presenter.page(page, lambda u: _meta(presenter, ctx, u)))


@router.get("/api/users/self", tags=TAGS, summary="The caller")
def users_self() -> User:
    event = router.current_event
    principal = auth.require_principal(event)
    return _presenter().user(principal.user)


@router.get("/api/users/<id>", tags=TAGS, summary="One user")
def get_user(id: UserId) -> User | BasicUser:
    event = router.current_event
    ctx = auth.request_context(event)
    user = auth.container().user_service.get(ctx, id)
    return _meta(_presenter(), ctx, user)


@router.patch("/api/users/<id>", tags=TAGS, summary="Update a user")
def update_user(id: UserId, body: PatchedUserRequest | None = None) -> User | BasicUser:
    from ...services.common import UNSET
    from ...services.users import UserPatch

    event = router.current_event
    ctx = auth.request_context(event)
    body = body or PatchedUserRequest()
    values = {}
    for name in ("username", "first_name", "last_name", "email", "groups", "is_staff", "is_superuser", "is_active"):
        if body.given(name):
            value = getattr(body, name)
            if value is None:
                raise ValidationError(fields={name: ["This field may not be null."]})
            values[name] = value
    patch = UserPatch(**{name: values.get(name, UNSET) for name in UserPatch.__dataclass_fields__})
    user = auth.container().user_service.update(ctx, id, patch)
    return _meta(_presenter(), ctx, user)


@router.delete("/api/users/<id>", tags=TAGS, summary="Delete a user")
def delete_user(id: UserId) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().user_service.delete(ctx, id)
    if id == ctx.user_id:
        auth.container().sessions.logout_everywhere(id)
    return Response(status_code=204)
