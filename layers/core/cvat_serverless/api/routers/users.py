"""/api/users: list/search, self, retrieve, update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from ...domain.errors import ValidationError
from ..params import list_params
from ..present import Presenter
from ..schemas.common import BasicUser
from ..schemas.users import PaginatedMetaUserList, PatchedUserRequest, User
from ._common import Call, ObjectId

if TYPE_CHECKING:
    from ...domain.context import RequestContext
    from ...domain.users import User as DUser

router = Router()
TAGS = ["users"]
UserId = ObjectId


def _meta(presenter: Presenter, ctx: RequestContext, user: DUser) -> User | BasicUser:
    """CVAT shows the full user to itself and to admins, the basic one to everybody else."""
    if ctx.actor.is_admin or user.id == ctx.user_id:
        return presenter.user(user)
    return presenter.basic_user_of(user)


@router.get("/api/users", tags=TAGS, summary="Users visible to the caller")
@list_params("username", "first_name", "last_name", "is_active")
def list_users(**_: str | None) -> PaginatedMetaUserList:
    call = Call(router)
    page = call.services.user_service.list(call.ctx, call.query)
    presenter = Presenter(call.event)
    return PaginatedMetaUserList.model_validate(presenter.page(page, lambda u: _meta(presenter, call.ctx, u)))


@router.get("/api/users/self", tags=TAGS, summary="The caller")
def users_self() -> User:
    call = Call(router)
    return Presenter(call.event).user(call.principal.user)


@router.get("/api/users/<id>", tags=TAGS, summary="One user")
def get_user(id: UserId) -> User | BasicUser:
    call = Call(router)
    user = call.services.user_service.get(call.ctx, id)
    return _meta(Presenter(call.event), call.ctx, user)


@router.patch("/api/users/<id>", tags=TAGS, summary="Update a user")
def update_user(id: UserId, body: PatchedUserRequest | None = None) -> User | BasicUser:
    from ...services.common import UNSET
    from ...services.users import UserPatch

    call = Call(router)
    body = body or PatchedUserRequest()
    values = {}
    for name in ("username", "first_name", "last_name", "email", "groups", "is_staff", "is_superuser", "is_active"):
        if body.given(name):
            value = getattr(body, name)
            if value is None:
                raise ValidationError(fields={name: ["This field may not be null."]})
            values[name] = value
    patch = UserPatch(**{name: values.get(name, UNSET) for name in UserPatch.__dataclass_fields__})
    user = call.services.user_service.update(call.ctx, id, patch)
    return _meta(Presenter(call.event), call.ctx, user)


@router.delete("/api/users/<id>", tags=TAGS, summary="Delete a user")
def delete_user(id: UserId) -> Response[None]:
    call = Call(router)
    call.services.user_service.delete(call.ctx, id)
    return Response(status_code=204)
