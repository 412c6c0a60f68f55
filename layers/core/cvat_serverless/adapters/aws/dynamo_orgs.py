"""Organizations, memberships and invitations on the single table.

Items (pk / sk):
- organization ``ORG#<id>`` / ``ORG``                              -> get, get_many
  all copy     ``ALL#ORGS`` / <id>                                 -> list_all
  slug guard   ``ORGSLUG#<slug>`` / ``UNIQUE``                     -> find_by_slug, unique slugs
- membership   ``MEMBERSHIP#<id>`` / ``MEMBERSHIP``                -> get
  org copy     ``ORG#<org>#MEMBERSHIPS`` / <id>                    -> list_by_organization
  user copy    ``USER#<user>#MEMBERSHIPS`` / ``ORG#<org>``         -> find, list_by_user, one per (org, user)
- invitation   ``INVITATION#<key>`` / ``INVITATION``               -> get
  org copy     ``ORG#<org>#INVITATIONS`` / <key>                   -> list_by_organization
  user copies  ``USER#<user>#INVITATIONS`` / <key> for the invitee and the inviter -> list_by_user
Lookups by a unique value are GetItems and every list is a strongly consistent Query of one
base-table partition (the per-user lists are read on every request to resolve the caller's roles).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...domain.organizations import Invitation, Membership, Organization
from .dynamo_store import VersionedStore, View, id_key, user_views


def org_views(org: Organization) -> list[View]:
    return [
        View(f"ORG#{org.id}", "ORG"),
        View("ALL#ORGS", id_key(org.id)),
        View(f"ORGSLUG#{org.slug}", "UNIQUE", unique="slug"),
    ]


def membership_views(m: Membership) -> list[View]:
    return [
        View(f"MEMBERSHIP#{m.id}", "MEMBERSHIP"),
        View(f"ORG#{m.organization_id}#MEMBERSHIPS", id_key(m.id)),
        View(f"USER#{m.user_id}#MEMBERSHIPS", f"ORG#{id_key(m.organization_id)}", unique="user"),
    ]


def invitation_views(inv: Invitation) -> list[View]:
    return [
        View(f"INVITATION#{inv.key}", "INVITATION"),
        View(f"ORG#{inv.organization_id}#INVITATIONS", inv.key),
        *user_views("INVITATIONS", inv.key, inv.user_id, inv.owner_id),
    ]


def _org_key(org_id: int) -> tuple[str, str]:
    return f"ORG#{org_id}", "ORG"


def _invitation_order(inv: Invitation) -> str:
    return inv.key.zfill(20)  # the fakes' order


class DynamoOrganizationRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Organization, "organization", org_views)

    def add(self, org: Organization) -> Organization:
        return self._s.add(org)

    def get(self, org_id: int) -> Organization:
        return self._s.get(*_org_key(org_id))

    def get_many(self, org_ids: Iterable[int]) -> dict[int, Organization]:
        return self._s.get_many(org_ids, _org_key)

    def find_by_slug(self, slug: str) -> Organization | None:
        return self._s.find(f"ORGSLUG#{slug}", "UNIQUE") if slug else None

    def save(self, org: Organization) -> Organization:
        return self._s.save(org)

    def delete(self, org_id: int) -> None:
        self._s.delete(*_org_key(org_id))

    def list_all(self) -> list[Organization]:
        return self._s.query("ALL#ORGS")


class DynamoMembershipRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Membership, "membership", membership_views)

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
        return self._s.query(f"ORG#{organization_id}#MEMBERSHIPS")

    def list_by_user(self, user_id: int) -> list[Membership]:
        return sorted(self._s.query(f"USER#{user_id}#MEMBERSHIPS"), key=lambda m: m.id)


class DynamoInvitationRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Invitation, "invitation", invitation_views)

    def add(self, invitation: Invitation) -> Invitation:
        return self._s.add(invitation)

    def get(self, key: str) -> Invitation:
        return self._s.get(f"INVITATION#{key}", "INVITATION")

    def save(self, invitation: Invitation) -> Invitation:
        return self._s.save(invitation)

    def delete(self, key: str) -> None:
        self._s.delete(f"INVITATION#{key}", "INVITATION")

    def list_by_organization(self, organization_id: int) -> list[Invitation]:
        return sorted(self._s.query(f"ORG#{organization_id}#INVITATIONS"), key=_invitation_order)

    def list_by_user(self, user_id: int) -> list[Invitation]:
        return sorted(self._s.query(f"USER#{user_id}#INVITATIONS"), key=_invitation_order)
