"""/api/organizations, /api/memberships, /api/invitations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import NotFoundError, ValidationError
from .. import auth, http
from ..params import list_params
from ..schemas import organizations as so

if TYPE_CHECKING:
    from ..present import Presenter

router = Router()
ObjectId = Annotated[int, Path(ge=0, le=2**31 - 1)]
InvitationKey = Annotated[str, Path(min_length=1, max_length=128)]


def _presenter() -> Presenter:
    from ..present import Presenter

    return Presenter(router.current_event, auth.container())


# --- organizations -----------------------------------------------------------------------------


@router.post("/api/organizations", tags=["organizations"], summary="Create an organization", status_code=201)
def create_organization(body: so.OrganizationWriteRequest) -> so.OrganizationRead:
    ctx = auth.request_context(router.current_event)
    org = auth.container().organizations.create(
        ctx, slug=body.slug, name=body.name, description=body.description, contact=body.contact
    )
    return _presenter().organization(org)


@router.get("/api/organizations", tags=["organizations"], summary="Organizations of the caller")
@list_params("name", "owner", "slug", org=False)
def list_organizations(**_: str | None) -> so.PaginatedOrganizationReadList:
    event = router.current_event
    ctx = auth.request_context(event)
    page = auth.container().organizations.list(ctx, http.query(event))
    presenter = _presenter()
    return so.PaginatedOrganizationReadList.model_validate(presenter.page(page, presenter.organization))


@router.get("/api/organizations/<id>", tags=["organizations"], summary="One organization")
def get_organization(id: ObjectId) -> so.OrganizationRead:
    ctx = auth.request_context(router.current_event)
    return _presenter().organization(auth.container().organizations.get(ctx, id))


@router.patch("/api/organizations/<id>", tags=["organizations"], summary="Update an organization")
def update_organization(
    id: ObjectId,
    body: so.PatchedOrganizationWriteRequest | None = None,
) -> so.OrganizationRead:
    from ...services.common import UNSET
    from ...services.organizations import OrganizationPatch

    ctx = auth.request_context(router.current_event)
    body = body or so.PatchedOrganizationWriteRequest()
    values: dict[str, object] = {}
    for name in ("slug", "name", "description", "contact"):
        if body.given(name):
            value = getattr(body, name)
            if value is None:
                raise ValidationError(fields={name: ["This field may not be null."]})
            values[name] = value
    patch = OrganizationPatch(**{n: values.get(n, UNSET) for n in ("slug", "name", "description", "contact")})  # type: ignore[arg-type]
    return _presenter().organization(auth.container().organizations.update(ctx, id, patch))


@router.delete("/api/organizations/<id>", tags=["organizations"], summary="Delete an organization and its data")
def delete_organization(id: ObjectId) -> Response[None]:
    c = auth.container()
    ctx = auth.request_context(router.current_event)
    c.organizations.delete(ctx, id)  # checks that the caller may (the owner; admins)
    # CVAT deletes the organization's projects and tasks with it. The caller's roles were read
    # before the memberships went, so the same context may delete them.
    for project in c.repos.projects.list_by_organization(id):
        c.projects.delete(ctx, project.id)
    for task in c.repos.tasks.list_by_organization(id):
        try:
            c.tasks.delete(ctx, task.id)
        except NotFoundError:
            continue
    return Response(status_code=204)


# --- memberships -------------------------------------------------------------------------------


@router.get("/api/memberships", tags=["memberships"], summary="Memberships of the organization context")
@list_params("user", "role")
def list_memberships(**_: str | None) -> so.PaginatedMembershipReadList:
    event = router.current_event
    ctx = auth.request_context(event)
    page = auth.container().organizations.list_memberships(ctx, http.query(event))
    presenter = _presenter()
    return so.PaginatedMembershipReadList.model_validate(presenter.page(page, presenter.membership))


@router.get("/api/memberships/<id>", tags=["memberships"], summary="One membership")
def get_membership(id: ObjectId) -> so.MembershipRead:
    ctx = auth.request_context(router.current_event)
    return _presenter().membership(auth.container().organizations.get_membership(ctx, id))


@router.patch("/api/memberships/<id>", tags=["memberships"], summary="Change a member's role")
def update_membership(id: ObjectId, body: so.PatchedMembershipWriteRequest | None = None) -> so.MembershipRead:
    c = auth.container()
    ctx = auth.request_context(router.current_event)
    if body is None or body.role is None:
        return _presenter().membership(c.organizations.get_membership(ctx, id))
    return _presenter().membership(c.organizations.change_role(ctx, id, str(body.role)))


@router.delete("/api/memberships/<id>", tags=["memberships"], summary="Remove a member (or leave)")
def delete_membership(id: ObjectId) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().organizations.delete_membership(ctx, id)
    return Response(status_code=204)


# --- invitations -------------------------------------------------------------------------------


@router.post("/api/invitations", tags=["invitations"], summary="Invite a user into the organization", status_code=201)
def create_invitation(body: so.InvitationWriteRequest) -> so.InvitationRead:
    c = auth.container()
    ctx = auth.request_context(router.current_event)
    inv = c.organizations.invite(ctx, email=body.email, role=str(body.role))
    return _presenter().invitation(inv, c.clock.now())


@router.get("/api/invitations", tags=["invitations"], summary="Invitations of the organization, or the caller's")
@list_params("owner", "user_id", "accepted")
def list_invitations(**_: str | None) -> so.PaginatedInvitationReadList:
    event = router.current_event
    c = auth.container()
    ctx = auth.request_context(event)
    page = c.organizations.list_invitations(ctx, http.query(event))
    presenter = _presenter()
    now = c.clock.now()
    return so.PaginatedInvitationReadList.model_validate(presenter.page(page, lambda i: presenter.invitation(i, now)))


@router.get("/api/invitations/<key>", tags=["invitations"], summary="One invitation")
def get_invitation(key: InvitationKey) -> so.InvitationRead:
    c = auth.container()
    ctx = auth.request_context(router.current_event)
    return _presenter().invitation(c.organizations.get_invitation(ctx, key), c.clock.now())


@router.delete("/api/invitations/<key>", tags=["invitations"], summary="Withdraw an invitation")
def delete_invitation(key: InvitationKey) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().organizations.delete_invitation(ctx, key)
    return Response(status_code=204)


@router.post("/api/invitations/<key>/accept", tags=["invitations"], summary="Accept an invitation")
def accept_invitation(key: InvitationKey) -> so.AcceptInvitationRead:
    ctx = auth.request_context(router.current_event)
    org = auth.container().organizations.accept(ctx, key)
    return so.AcceptInvitationRead(organization_slug=org.slug)


@router.post("/api/invitations/<key>/decline", tags=["invitations"], summary="Decline an invitation")
def decline_invitation(key: InvitationKey) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().organizations.decline(ctx, key)
    return Response(status_code=204)


@router.post("/api/invitations/<key>/resend", tags=["invitations"], summary="Send an invitation again")
def resend_invitation(key: InvitationKey) -> Response[None]:
    ctx = auth.request_context(router.current_event)
    auth.container().organizations.resend(ctx, key)
    return Response(status_code=204)
