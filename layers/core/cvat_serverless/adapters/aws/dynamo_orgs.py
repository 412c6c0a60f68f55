"""Organizations, memberships and invitations on the single table.

Items (pk / sk; gsi1pk / gsi1sk):
- organization ``ORG#<id>`` / ``ORG``; ``ORGS`` / <id>           -> get, list_all (index)
  slug guard   ``ORGSLUG#<slug>`` / ``UNIQUE``                     -> find_by_slug, unique slugs
- membership   ``MEMBERSHIP#<id>`` / ``MEMBERSHIP``; ``ORG#<org>#MEMBERSHIPS`` / <id>
                                                                   -> get, list_by_organization (index)
  user copy    ``USER#<user>#MEMBERSHIPS`` / ``ORG#<org>``         -> find, list_by_user, one per (org, user)
- invitation   ``INVITATION#<key>`` / ``INVITATION``; ``ORG#<org>#INVITATIONS`` / <key>
  user copies  ``USER#<user>#INVITATIONS`` / <key> for the invitee and the inviter -> list_by_user
Lookups by a unique value and the per-user lists (read on every request to resolve the caller's
roles) are strongly consistent Queries/GetItems on the table; the per-organization lists go
through gsi1 and are eventually consistent.
"""

from __future__ import annotations

from ...domain.organizations import Invitation, Membership, Organization
from .dynamo_store import VersionedStore, View, id_key


def _org_views(org: Organization) -> list[View]:
    return [
        View(f"ORG#{org.id}", "ORG", "ORGS", id_key(org.id)),
        View(f"ORGSLUG#{org.slug}", "UNIQUE", unique="slug"),
    ]


def _membership_views(m: Membership) -> list[View]:
    return [
        View(f"MEMBERSHIP#{m.id}", "MEMBERSHIP", f"ORG#{m.organization_id}#MEMBERSHIPS", id_key(m.id)),
        View(f"USER#{m.user_id}#MEMBERSHIPS", f"ORG#{id_key(m.organization_id)}", unique="user"),
    ]


def _invitation_views(inv: Invitation) -> list[View]:
    views = [View(f"INVITATION#{inv.key}", "INVITATION", f"ORG#{inv.organization_id}#INVITATIONS", inv.key)]
    for user_id in dict.fromkeys(u for u in (inv.user_id, inv.owner_id) if u is not None):
        views.append(View(f"USER#{user_id}#INVITATIONS", inv.key))
    return views


def _invitation_order(inv: Invitation) -> str:
    return inv.key.zfill(20)  # the fakes' order


class DynamoOrganizationRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Organization, "organization", _org_views)

    def add(self, org: Organization) -> Organization:
        return self._s.add(org)

    def get(self, org_id: int) -> Organization:
        return self._s.get(f"ORG#{org_id}", "ORG")

    def find_by_slug(self, slug: str) -> Organization | None:
        return self._s.find(f"ORGSLUG#{slug}", "UNIQUE") if slug else None

    def save(self, org: Organization) -> Organization:
        return self._s.save(org)

    def delete(self, org_id: int) -> None:
        self._s.delete(f"ORG#{org_id}", "ORG")

    def list_all(self) -> list[Organization]:
        return sorted(self._s.query_gsi1("ORGS"), key=lambda o: o.id)


class DynamoMembershipRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Membership, "membership", _membership_views)

    def add(self, membership: Membership) -> Membership:
        return self._s.add(membership)

    def get(self, membership_id: int) -> Membership:
        return self._s.get(f"MEMBERSHIP#{membership_id}", "MEMBERSHIP")

    def find(self, organization_id: int, user_id: int) -> Membership | None:
        return self._s.find(f"USER#{user_id}#MEMBERSHIPS", f"ORG#{id_key(organization_id)}")

    def save(self, membership: Membership) -> Membership:
        return self._s.save(membership)

    def delete(self, membership_id: int) -> None:
        self._s.delete(f"MEMBERSHIP#{membership_id}", "MEMBERSHIP")

    def list_by_organization(self, organization_id: int) -> list[Membership]:
        return sorted(self._s.query_gsi1(f"ORG#{organization_id}#MEMBERSHIPS"), key=lambda m: m.id)

    def list_by_user(self, user_id: int) -> list[Membership]:
        return sorted(self._s.query(f"USER#{user_id}#MEMBERSHIPS"), key=lambda m: m.id)


class DynamoInvitationRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Invitation, "invitation", _invitation_views)

    def add(self, invitation: Invitation) -> Invitation:
        return self._s.add(invitation)

    def get(self, key: str) -> Invitation:
        return self._s.get(f"INVITATION#{key}", "INVITATION")

    def save(self, invitation: Invitation) -> Invitation:
        return self._s.save(invitation)

    def delete(self, key: str) -> None:
        self._s.delete(f"INVITATION#{key}", "INVITATION")

    def list_by_organization(self, organization_id: int) -> list[Invitation]:
        return sorted(self._s.query_gsi1(f"ORG#{organization_id}#INVITATIONS"), key=_invitation_order)

    def list_by_user(self, user_id: int) -> list[Invitation]:
        return sorted(self._s.query(f"USER#{user_id}#INVITATIONS"), key=_invitation_order)
