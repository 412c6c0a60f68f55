"""Organizations, memberships and invitations; the request's organization context."""

from __future__ import annotations

import contextlib
import copy
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from ..domain.events import diff_fields
from ..domain.organizations import (
    Invitation,
    Membership,
    Organization,
    OrgRole,
    parse_role,
    validate_org_name,
    validate_slug,
)
from ..domain.permissions import Actor, OrgScope
from ..domain.query import Page
from ..domain.users import User
from ..ports import Clock, EventPublisher, IdGenerator, Repositories
from .common import UNSET, ServiceBase, Unset, check_version, list_page, username_of
from .views import Shown

if TYPE_CHECKING:
    from .projects import ProjectService
    from .tasks import TaskService


@dataclass(frozen=True, slots=True)
class OrganizationPatch:
    slug: str | Unset = UNSET
    name: str | Unset = UNSET
    description: str | Unset = UNSET
    contact: dict[str, Any] | Unset = UNSET


class OrganizationService(ServiceBase):
    def __init__(
        self,
        repos: Repositories,
        ids: IdGenerator,
        clock: Clock,
        events: EventPublisher,
        *,
        projects: ProjectService,
        tasks: TaskService,
    ) -> None:
        super().__init__(repos, ids, clock, events)
        self.projects = projects  # an organization is deleted with its projects and tasks
        self.tasks = tasks

    # --- context -----------------------------------------------------------------------------

    def actor_for(self, user: User) -> Actor:
        """The user's privilege and active organization roles (the owner always counts as owner)."""
        roles = {m.organization_id: m.role for m in self.repos.memberships.list_by_user(user.id) if m.is_active}
        return Actor.of(user, roles)

    def resolve_context(
        self,
        user: User,
        *,
        org: str | None = None,
        org_id: str | int | None = None,
        header: str | None = None,
        request_id: str = "",
        read_only: bool = False,
        origin: str = "",
    ) -> RequestContext:
        """Build the RequestContext from CVAT's three ways of naming an organization: the ``org``
        query (slug), the ``org_id`` query and the ``X-Organization`` header (slug). ``org_id``
        with either of the others, or ``org`` and the header disagreeing, is a 400; an empty
        value means the personal workspace; an unknown organization is a 404."""
        if org_id not in (None, "") and (org is not None or header is not None):
            raise ValidationError("You cannot specify both org_id and org (or X-Organization header)")
        if org is not None and header is not None and org != header:
            raise ValidationError("You cannot specify different values for org and X-Organization header")
        actor = self.actor_for(user)
        scope = OrgScope()
        if org_id not in (None, ""):
            try:
                found = self.repos.organizations.get(int(org_id))
            except ValueError:
                raise ValidationError(fields={"org_id": ["A valid integer is required."]}) from None
            scope = OrgScope(found.id, True)
        elif org is not None or header is not None:
            slug = org if org is not None else header
            if slug:
                found_org = self.repos.organizations.find_by_slug(slug)
                if found_org is None:
                    raise NotFoundError(f"Organization '{slug}' not found.")
                scope = OrgScope(found_org.id, True)
            else:
                scope = OrgScope(None, True)
        return RequestContext(user=user, actor=actor, org=scope, request_id=request_id, read_only=read_only,
                              origin=origin)

    # --- organizations -----------------------------------------------------------------------

    def _ref(self, org: Organization) -> perm.ResourceRef:
        return perm.ResourceRef(
            perm.Resource.ORGANIZATION,
            organization_id=org.id,
            owner_id=org.owner_id,
            organization_owner_id=org.owner_id,
        )

    def create(
        self,
        ctx: RequestContext,
        *,
        slug: str,
        name: str = "",
        description: str = "",
        contact: dict[str, Any] | None = None,
    ) -> Shown[Organization]:
        """Create an organization owned by the caller, with the caller as an active owner member."""
        ctx.require_write()
        perm.check(ctx.actor, "create", perm.ResourceRef(perm.Resource.ORGANIZATION))
        now = self.clock.now()
        org = Organization(
            id=self.ids.next_id("organization"),
            slug=validate_slug(slug),
            owner_id=ctx.user_id,
            name=validate_org_name(name),
            description=description,
            contact=dict(contact or {}),
            created_date=now,
            updated_date=now,
        )
        try:
            org = self.repos.organizations.add(org)
        except ConflictError:
            raise ValidationError(fields={"slug": ["organization with this slug already exists."]}) from None
        self.repos.memberships.add(
            Membership(
                id=self.ids.next_id("membership"),
                user_id=ctx.user_id,
                organization_id=org.id,
                role=OrgRole.OWNER,
                is_active=True,
                joined_date=now,
            )
        )
        self._publish(ctx, "create:organization", org, resource_id=org.id, organization_id=org.id)
        return self._shown(org, ctx.user)

    def _shown(self, org: Organization, *known: User) -> Shown[Organization]:
        return Shown(org, self.related.for_organizations([org], users={u.id: u for u in known}))

    def get(self, ctx: RequestContext, org_id: int) -> Shown[Organization]:
        """One organization the caller may see."""
        org = self.repos.organizations.get(org_id)
        perm.check(ctx.actor, "view", self._ref(org))
        return self._shown(org, ctx.user)

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Organization]]:
        """Organizations the caller belongs to (all for admins), with CVAT's list parameters."""
        if ctx.actor.is_admin:
            items = self.repos.organizations.list_all()
        else:
            ids = sorted({m.organization_id for m in self.repos.memberships.list_by_user(ctx.user_id)})
            found = self.repos.organizations.get_many(ids) if ids else {}
            items = [found[i] for i in ids if i in found]
        users = self._users_of((o.owner_id for o in items), {ctx.user_id: ctx.user})
        username = username_of(users)
        page = list_page(
            ctx,
            perm.Resource.ORGANIZATION,
            items,
            ref=self._ref,
            row=lambda o: {"id": o.id, "name": o.name, "slug": o.slug, "owner": username(o.owner_id)},
            params=params,
        )
        return Shown(page, self.related.for_organizations(page.results, users=users))

    def update(
        self, ctx: RequestContext, org_id: int, patch: OrganizationPatch, *, version: int | None = None
    ) -> Shown[Organization]:
        """PATCH an organization (owner or maintainer). ``version``: the version the client saw."""
        ctx.require_write()
        org = self.repos.organizations.get(org_id)
        perm.check(ctx.actor, "update", self._ref(org))
        check_version(org, version)
        before = copy.deepcopy(org)
        if not isinstance(patch.slug, Unset):
            org.slug = validate_slug(patch.slug)
        if not isinstance(patch.name, Unset):
            org.name = validate_org_name(patch.name)
        if not isinstance(patch.description, Unset):
            org.description = patch.description
        if not isinstance(patch.contact, Unset):
            org.contact = dict(patch.contact)
        org.updated_date = self.clock.now()
        changed = diff_fields(before, org)
        if before.slug != org.slug and self.repos.organizations.find_by_slug(org.slug):
            raise ValidationError(fields={"slug": ["organization with this slug already exists."]})
        org = self.repos.organizations.save(org)
        self._publish(
            ctx, "update:organization", org, resource_id=org.id, organization_id=org.id, before_update=changed
        )
        return self._shown(org, ctx.user)

    def delete(self, ctx: RequestContext, org_id: int) -> None:
        """Delete an organization (its owner; admins) with everything in it, as CVAT does: its
        projects and tasks (with their jobs and labels), memberships and invitations."""
        ctx.require_write()
        org = self.repos.organizations.get(org_id)
        perm.check(ctx.actor, "delete", self._ref(org))
        # The caller's roles were read before the memberships go, so the same context may delete
        # the organization's projects and tasks.
        for project in self.repos.projects.list_by_organization(org_id):
            self.projects.delete(ctx, project.id)
        for task in self.repos.tasks.list_by_organization(org_id):
            with contextlib.suppress(NotFoundError):  # deleted with its project meanwhile
                self.tasks.delete(ctx, task.id)
        for inv in self.repos.invitations.list_by_organization(org_id):
            self.repos.invitations.delete(inv.key)
        for m in self.repos.memberships.list_by_organization(org_id):
            self.repos.memberships.delete(m.id)
        self.repos.organizations.delete(org_id)
        self._publish(ctx, "delete:organization", org, resource_id=org.id, organization_id=org.id)

    # --- memberships -------------------------------------------------------------------------

    @staticmethod
    def _membership_ref(m: Membership) -> perm.ResourceRef:
        return perm.ResourceRef(
            perm.Resource.MEMBERSHIP, organization_id=m.organization_id, user_id=m.user_id, role=m.role
        )

    def _shown_membership(self, m: Membership) -> Shown[Membership]:
        return Shown(m, self.related.for_memberships([m]))

    def get_membership(self, ctx: RequestContext, membership_id: int) -> Shown[Membership]:
        """One membership the caller may see."""
        m = self.repos.memberships.get(membership_id)
        perm.check(ctx.actor, "view", self._membership_ref(m))
        return self._shown_membership(m)

    def list_memberships(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Membership]]:
        """Memberships of the context organization (or the caller's own in the personal workspace)."""
        if ctx.org_id is not None:
            items = self.repos.memberships.list_by_organization(ctx.org_id)
        elif ctx.actor.is_admin:
            items = [
                m
                for o in self.repos.organizations.list_all()
                for m in self.repos.memberships.list_by_organization(o.id)
            ]
        else:
            items = self.repos.memberships.list_by_user(ctx.user_id)
        users = self._users_of((m.user_id for m in items), {})
        username = username_of(users)
        page = list_page(
            ctx,
            perm.Resource.MEMBERSHIP,
            items,
            ref=self._membership_ref,
            row=lambda m: {"id": m.id, "user": username(m.user_id), "role": m.role.value},
            params=params,
        )
        return Shown(page, self.related.for_memberships(page.results, users=users))

    def change_role(self, ctx: RequestContext, membership_id: int, role: str | None) -> Shown[Membership]:
        """Change a member's role; nobody can be made or unmade owner this way. Without a role
        (an empty PATCH) this is a read, as in CVAT."""
        if role is None:
            return self.get_membership(ctx, membership_id)
        ctx.require_write()
        m = self.repos.memberships.get(membership_id)
        perm.check(ctx.actor, "change:role", self._membership_ref(m))
        new_role = parse_role(role)
        if new_role == OrgRole.OWNER:
            raise PermissionDeniedError("The owner role cannot be assigned.")
        if m.role == new_role:
            return self._shown_membership(m)
        before = {"role": m.role}
        m.role = new_role
        m = self.repos.memberships.save(m)
        self._publish(
            ctx,
            "update:membership",
            m,
            resource_id=m.id,
            organization_id=m.organization_id,
            before_update=before,
        )
        return self._shown_membership(m)

    def delete_membership(self, ctx: RequestContext, membership_id: int) -> None:
        """Remove a member (or leave the organization); the owner cannot be removed."""
        ctx.require_write()
        m = self.repos.memberships.get(membership_id)
        perm.check(ctx.actor, "delete", self._membership_ref(m))
        if m.invitation_key:
            with contextlib.suppress(NotFoundError):
                self.repos.invitations.delete(m.invitation_key)
        self.repos.memberships.delete(m.id)
        self._publish(ctx, "delete:membership", m, resource_id=m.id, organization_id=m.organization_id)

    # --- invitations -------------------------------------------------------------------------

    @staticmethod
    def _invitation_ref(inv: Invitation) -> perm.ResourceRef:
        return perm.ResourceRef(
            perm.Resource.INVITATION,
            organization_id=inv.organization_id,
            owner_id=inv.owner_id,
            user_id=inv.user_id,
            role=inv.role,
        )

    def _shown_invitation(self, inv: Invitation) -> Shown[Invitation]:
        return Shown(inv, self.related.for_invitations([inv]))

    def invite(self, ctx: RequestContext, *, email: str, role: str) -> Shown[Invitation]:
        """Invite a registered user (by email) into the context organization with ``role``: an
        inactive membership is created; accepting the invitation activates it."""
        ctx.require_write()
        if ctx.org_id is None:
            raise ValidationError("Invitations can only be created in an organization.")
        new_role = parse_role(role)
        perm.check(
            ctx.actor,
            "create",
            perm.ResourceRef(perm.Resource.INVITATION, organization_id=ctx.org_id, role=new_role),
            request_org_id=ctx.org_id,
        )
        if new_role == OrgRole.OWNER:
            raise ValidationError(fields={"role": ["The owner role cannot be offered."]})
        user = self.repos.users.find_by_email(email)
        if user is None:
            raise ValidationError(fields={"email": ["There is no user with this email."]})
        if self.repos.memberships.find(ctx.org_id, user.id) is not None:
            raise ValidationError(fields={"email": ["The user is a member of the organization already."]})
        now = self.clock.now()
        key = secrets.token_urlsafe(48)[:64]
        membership = self.repos.memberships.add(
            Membership(
                id=self.ids.next_id("membership"),
                user_id=user.id,
                organization_id=ctx.org_id,
                role=new_role,
                is_active=False,
                invitation_key=key,
            )
        )
        inv = self.repos.invitations.add(
            Invitation(
                key=key,
                organization_id=ctx.org_id,
                membership_id=membership.id,
                user_id=user.id,
                role=new_role,
                owner_id=ctx.user_id,
                created_date=now,
                sent_date=now,
            )
        )
        self._publish(ctx, "create:invitation", inv, resource_id=key, organization_id=ctx.org_id)
        return self._shown_invitation(inv)

    def get_invitation(self, ctx: RequestContext, key: str) -> Shown[Invitation]:
        """One invitation the caller may see."""
        inv = self.repos.invitations.get(key)
        perm.check(ctx.actor, "view", self._invitation_ref(inv))
        return self._shown_invitation(inv)

    def list_invitations(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Invitation]]:
        """Invitations of the context organization, or the caller's own."""
        if ctx.org_id is not None:
            items = self.repos.invitations.list_by_organization(ctx.org_id)
        else:
            items = self.repos.invitations.list_by_user(ctx.user_id)
        users = self._users_of((u for i in items for u in (i.owner_id, i.user_id)), {})
        username = username_of(users)
        page = list_page(
            ctx,
            perm.Resource.INVITATION,
            items,
            ref=self._invitation_ref,
            row=lambda i: {
                "id": i.key,
                "owner": username(i.owner_id),
                "user_id": i.user_id,
                "accepted": i.accepted,
                "created_date": i.created_date,
            },
            params=params,
        )
        return Shown(page, self.related.for_invitations(page.results, users=users))

    def accept(self, ctx: RequestContext, key: str) -> Organization:
        """The invitee accepts: the membership becomes active. Returns the organization (CVAT
        answers with its slug)."""
        ctx.require_write()
        inv = self.repos.invitations.get(key)
        perm.check(ctx.actor, "accept", self._invitation_ref(inv))
        if inv.is_expired(self.clock.now()):
            raise ValidationError("Your invitation is expired. Please contact organization owner to renew it.")
        if inv.accepted:
            raise ValidationError("The invitation is already accepted.")
        membership = self.repos.memberships.get(inv.membership_id)
        membership.is_active = True
        membership.joined_date = self.clock.now()
        self.repos.memberships.save(membership)
        inv.accepted = True
        self.repos.invitations.save(inv)
        self._publish(
            ctx,
            "create:membership",
            membership,
            resource_id=membership.id,
            organization_id=inv.organization_id,
        )
        return self.repos.organizations.get(inv.organization_id)

    def decline(self, ctx: RequestContext, key: str) -> None:
        """The invitee declines: the invitation and its inactive membership are removed."""
        ctx.require_write()
        inv = self.repos.invitations.get(key)
        perm.check(ctx.actor, "decline", self._invitation_ref(inv))
        if inv.accepted:
            raise ValidationError("The invitation is already accepted.")
        self._remove_invitation(ctx, inv)

    def resend(self, ctx: RequestContext, key: str) -> Invitation:
        """Send the invitation again; its expiry counts from now."""
        ctx.require_write()
        inv = self.repos.invitations.get(key)
        perm.check(ctx.actor, "resend", self._invitation_ref(inv))
        if inv.accepted:
            raise ValidationError("The invitation is already accepted.")
        inv.sent_date = self.clock.now()
        return self.repos.invitations.save(inv)

    def delete_invitation(self, ctx: RequestContext, key: str) -> None:
        """Withdraw an invitation (the inviter or a maintainer)."""
        ctx.require_write()
        inv = self.repos.invitations.get(key)
        perm.check(ctx.actor, "delete", self._invitation_ref(inv))
        self._remove_invitation(ctx, inv)

    def _remove_invitation(self, ctx: RequestContext, inv: Invitation) -> None:
        try:
            membership = self.repos.memberships.get(inv.membership_id)
            if not membership.is_active:
                self.repos.memberships.delete(membership.id)
        except NotFoundError:
            pass
        self.repos.invitations.delete(inv.key)
        self._publish(ctx, "delete:invitation", inv, resource_id=inv.key, organization_id=inv.organization_id)
