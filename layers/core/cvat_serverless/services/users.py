"""Users as CVAT's /users endpoints see them: list/search, self, update, delete."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ValidationError
from ..domain.events import diff_fields
from ..domain.query import Page
from ..domain.users import SystemRole, User, validate_email, validate_username
from ..ports import Clock, EventPublisher, IdGenerator, Repositories, SessionRepository
from .common import UNSET, ServiceBase, Unset, list_page

NAME_MAX = 150


@dataclass(frozen=True, slots=True)
class UserPatch:
    username: str | Unset = UNSET
    first_name: str | Unset = UNSET
    last_name: str | Unset = UNSET
    email: str | Unset = UNSET
    groups: Sequence[str] | Unset = UNSET
    is_staff: bool | Unset = UNSET
    is_superuser: bool | Unset = UNSET
    is_active: bool | Unset = UNSET


class UserService(ServiceBase):
    def __init__(
        self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher, sessions: SessionRepository
    ) -> None:
        super().__init__(repos, ids, clock, events)
        self.sessions = sessions  # a deleted user's sessions end with it

    def _ref(self, ctx: RequestContext, user: User) -> perm.ResourceRef:
        # in an organization context a member may see the other members
        org = ctx.org_id
        member = org is not None and any(
            m.is_active for m in self.repos.memberships.list_by_user(user.id) if m.organization_id == org
        )
        return perm.ResourceRef(perm.Resource.USER, user_id=user.id, organization_id=org if member else None)

    def get(self, ctx: RequestContext, user_id: int) -> User:
        """One user: yourself, a member of the context organization, or anyone for admins."""
        user = self.repos.users.get(user_id)
        ref = self._ref(ctx, user)
        if not (
            perm.is_allowed(ctx.actor, "view", ref)
            or (ref.organization_id is not None and ctx.actor.role_in(ref.organization_id) is not None)
        ):
            perm.check(ctx.actor, "view", ref)
        return user

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Page[User]:
        """Users: members of the context organization; only yourself in the personal workspace
        (everyone for admins)."""
        members: set[int] = set()
        if ctx.org_id is not None:
            members = {m.user_id for m in self.repos.memberships.list_by_organization(ctx.org_id) if m.is_active}
            found = self.repos.users.get_many(sorted(members)) if members else {}
            items = [found[i] for i in sorted(found)]
        elif ctx.actor.is_admin:
            items = self.repos.users.list_all()
        else:
            items = [ctx.user]

        def ref(user: User) -> perm.ResourceRef:
            org = ctx.org_id if user.id in members else None
            return perm.ResourceRef(perm.Resource.USER, user_id=user.id, organization_id=org)

        return list_page(
            ctx,
            perm.Resource.USER,
            items,
            ref=ref,
            row=lambda u: {
                "id": u.id,
                "username": u.username,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "is_active": u.is_active,
            },
            params=params,
        )

    def update(self, ctx: RequestContext, user_id: int, patch: UserPatch) -> User:
        """PATCH a user: names by the user or an admin; email, groups and flags by admins only."""
        ctx.require_write()
        user = self.repos.users.get(user_id)
        ref = perm.ResourceRef(perm.Resource.USER, user_id=user.id)
        before = copy.deepcopy(user)
        if any(not isinstance(v, Unset) for v in (patch.username, patch.first_name, patch.last_name)):
            perm.check(ctx.actor, "update:personal_data", ref)
        if not isinstance(patch.email, Unset):
            perm.check(ctx.actor, "update:email", ref)
            user.email = validate_email(patch.email)
            other = self.repos.users.find_by_email(user.email)
            if other is not None and other.id != user.id:
                raise ValidationError(fields={"email": ["A user with that email already exists."]})
        if any(not isinstance(v, Unset) for v in (patch.groups, patch.is_staff, patch.is_superuser, patch.is_active)):
            perm.check(ctx.actor, "update:permissions", ref)
        if not isinstance(patch.username, Unset):
            user.username = validate_username(patch.username)
            other = self.repos.users.find_by_username(user.username)
            if other is not None and other.id != user.id:
                raise ValidationError(fields={"username": ["A user with that username already exists."]})
        for name in ("first_name", "last_name"):
            value = getattr(patch, name)
            if not isinstance(value, Unset):
                if len(value) > NAME_MAX:
                    raise ValidationError(fields={name: [f"Ensure this field has no more than {NAME_MAX} characters."]})
                setattr(user, name, value)
        if not isinstance(patch.groups, Unset):
            try:
                user.groups = [SystemRole(g) for g in patch.groups]
            except ValueError:
                raise ValidationError(fields={"groups": ["Unknown group."]}) from None
        for name in ("is_staff", "is_superuser", "is_active"):
            value = getattr(patch, name)
            if not isinstance(value, Unset):
                setattr(user, name, bool(value))
        changed = diff_fields(before, user)
        changed.pop("password_hash", None)
        user = self.repos.users.save(user)
        self._publish(ctx, "update:user", _public(user), resource_id=user.id, before_update=changed)
        return user

    def delete(self, ctx: RequestContext, user_id: int) -> None:
        """Delete a user (yourself, or anyone as an admin) with their memberships and sessions."""
        ctx.require_write()
        user = self.repos.users.get(user_id)
        perm.check(ctx.actor, "delete", perm.ResourceRef(perm.Resource.USER, user_id=user.id))
        for m in self.repos.memberships.list_by_user(user_id):
            self.repos.memberships.delete(m.id)
        self.repos.users.delete(user_id)
        self.sessions.delete_by_user(user_id)
        self._publish(ctx, "delete:user", _public(user), resource_id=user.id)


def _public(user: User) -> User:
    out = copy.copy(user)
    out.password_hash = ""
    return out
