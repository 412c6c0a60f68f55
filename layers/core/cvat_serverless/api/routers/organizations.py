"""/api/organizations, /api/memberships, /api/invitations."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import ValidationError
from ..params import list_params
from ..present import Presenter
from ..schemas import organizations as so
from ._common import Call, ObjectId

router = Router()
InvitationKey = Annotated[str, Path(min_length=1, max_length=128)]


# --- organizations -----------------------------------------------------------------------------


@router.post("/api/organizations", tags=["organizations"], summary="Create an organization", status_code=201)
def create_organization(body: so.OrganizationWriteRequest) -> so.OrganizationRead:
    call = Call(router)
    org = call.services.organizations.create(
        call.ctx, slug=body.slug, name=body.name, description=body.description, contact=body.contact
    )
    return call.show(org, Presenter.organization)


@router.get("/api/organizations", tags=["organizations"], summary="Organizations of the caller")
@list_params("name", "owner", "slug", org=False)
def list_organizations(**_: str | None) -> so.PaginatedOrganizationReadList:
    call = Call(router)
    page = call.services.organizations.list(call.ctx, call.query)
    return so.PaginatedOrganizationReadList.model_validate(call.show_page(page, Presenter.organization))


@router.get("/api/organizations/<id>", tags=["organizations"], summary="One organization")
def get_organization(id: ObjectId) -> so.OrganizationRead:
    call = Call(router)
    return call.show(call.services.organizations.get(call.ctx, id), Presenter.organization)


@router.patch("/api/organizations/<id>", tags=["organizations"], summary="Update an organization")
def update_organization(
    id: ObjectId,
    body: so.PatchedOrganizationWriteRequest | None = None,
) -> so.OrganizationRead:
    from ...services.common import UNSET
    from ...services.organizations import OrganizationPatch

    call = Call(router)
    body = body or so.PatchedOrganizationWriteRequest()
    values: dict[str, object] = {}
    for name in ("slug", "name", "description", "contact"):
        if body.given(name):
            value = getattr(body, name)
            if value is None:
                raise ValidationError(fields={name: ["This field may not be null."]})
            values[name] = value
    patch = OrganizationPatch(**{n: values.get(n, UNSET) for n in ("slug", "name", "description", "contact")})  # type: ignore[arg-type]
    return call.show(call.services.organizations.update(call.ctx, id, patch), Presenter.organization)


@router.delete("/api/organizations/<id>", tags=["organizations"], summary="Delete an organization and its data")
def delete_organization(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.organizations.delete(call.ctx, id)
    return Response(status_code=204)


# --- memberships -------------------------------------------------------------------------------


@router.get("/api/memberships", tags=["memberships"], summary="Memberships of the organization context")
@list_params("user", "role")
def list_memberships(**_: str | None) -> so.PaginatedMembershipReadList:
    call = Call(router)
    page = call.services.organizations.list_memberships(call.ctx, call.query)
    return so.PaginatedMembershipReadList.model_validate(call.show_page(page, Presenter.membership))


@router.get("/api/memberships/<id>", tags=["memberships"], summary="One membership")
def get_membership(id: ObjectId) -> so.MembershipRead:
    call = Call(router)
    return call.show(call.services.organizations.get_membership(call.ctx, id), Presenter.membership)


@router.patch("/api/memberships/<id>", tags=["memberships"], summary="Change a member's role")
def update_membership(id: ObjectId, body: so.PatchedMembershipWriteRequest | None = None) -> so.MembershipRead:
    call = Call(router)
    role = str(body.role) if body is not None and body.role is not None else None
    return call.show(call.services.organizations.change_role(call.ctx, id, role), Presenter.membership)


@router.delete("/api/memberships/<id>", tags=["memberships"], summary="Remove a member (or leave)")
def delete_membership(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.organizations.delete_membership(call.ctx, id)
    return Response(status_code=204)


# --- invitations -------------------------------------------------------------------------------


@router.post("/api/invitations", tags=["invitations"], summary="Invite a user into the organization", status_code=201)
def create_invitation(body: so.InvitationWriteRequest) -> so.InvitationRead:
    call = Call(router)
    inv = call.services.organizations.invite(call.ctx, email=body.email, role=str(body.role))
    return call.show(inv, Presenter.invitation)


@router.get("/api/invitations", tags=["invitations"], summary="Invitations of the organization, or the caller's")
@list_params("owner", "user_id", "accepted")
def list_invitations(**_: str | None) -> so.PaginatedInvitationReadList:
    call = Call(router)
    page = call.services.organizations.list_invitations(call.ctx, call.query)
    return so.PaginatedInvitationReadList.model_validate(call.show_page(page, Presenter.invitation))


@router.get("/api/invitations/<key>", tags=["invitations"], summary="One invitation")
def get_invitation(key: InvitationKey) -> so.InvitationRead:
    call = Call(router)
    return call.show(call.services.organizations.get_invitation(call.ctx, key), Presenter.invitation)


@router.delete("/api/invitations/<key>", tags=["invitations"], summary="Withdraw an invitation")
def delete_invitation(key: InvitationKey) -> Response[None]:
    call = Call(router)
    call.services.organizations.delete_invitation(call.ctx, key)
    return Response(status_code=204)


@router.post("/api/invitations/<key>/accept", tags=["invitations"], summary="Accept an invitation")
def accept_invitation(key: InvitationKey) -> so.AcceptInvitationRead:
    call = Call(router)
    org = call.services.organizations.accept(call.ctx, key)
    return so.AcceptInvitationRead(organization_slug=org.slug)


@router.post("/api/invitations/<key>/decline", tags=["invitations"], summary="Decline an invitation")
def decline_invitation(key: InvitationKey) -> Response[None]:
    call = Call(router)
    call.services.organizations.decline(call.ctx, key)
    return Response(status_code=204)


@router.post("/api/invitations/<key>/resend", tags=["invitations"], summary="Send an invitation again")
def resend_invitation(key: InvitationKey) -> Response[None]:
    call = Call(router)
    call.services.organizations.resend(call.ctx, key)
    return Response(status_code=204)
