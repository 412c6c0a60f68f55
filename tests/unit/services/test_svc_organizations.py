from __future__ import annotations

from datetime import timedelta

import pytest

from cvat_serverless.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from cvat_serverless.domain.organizations import OrgRole
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.organizations import OrganizationPatch


def test_create_org_makes_owner_membership_and_event(world):
    alice = world.user("alice")
    org = world.orgs.create(world.ctx(alice), slug="acme", name="Acme").value
    assert org.owner_id == alice.id and org.version == 1
    ctx = world.ctx(alice, "acme")
    assert ctx.org_id == org.id and ctx.actor.role_in(org.id) == OrgRole.OWNER
    (event,) = world.events.of("create:organization")
    assert event["organization"]["slug"] == "acme" and event["actor_id"] == alice.id
    with pytest.raises(ValidationError) as err:
        world.orgs.create(world.ctx(alice), slug="acme")
    assert "slug" in err.value.fields
    with pytest.raises(ValidationError):
        world.orgs.create(world.ctx(alice), slug="bad slug!")
    with pytest.raises(PermissionDeniedError):
        world.orgs.create(world.ctx(world.user("w", SystemRole.WORKER)), slug="x")


def test_org_context_resolution_rules(world):
    alice = world.user("alice")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    user = world.repos.users.get(alice.id)
    assert world.orgs.resolve_context(user).org.explicit is False
    personal = world.orgs.resolve_context(user, org="")
    assert personal.org_id is None and personal.org.explicit
    assert world.orgs.resolve_context(user, org_id=str(org.id)).org_id == org.id
    assert world.orgs.resolve_context(user, header="acme").org_id == org.id
    with pytest.raises(ValidationError):
        world.orgs.resolve_context(user, org="acme", org_id=org.id)
    with pytest.raises(ValidationError):
        world.orgs.resolve_context(user, org="acme", header="other")
    with pytest.raises(NotFoundError):
        world.orgs.resolve_context(user, header="nope")


def test_invitation_accept_decline_resend_expire(world):
    alice, bob, carol = world.user("alice"), world.user("bob"), world.user("carol")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    actx = world.ctx(alice, "acme")
    inv = world.orgs.invite(actx, email="bob@example.com", role="supervisor").value
    assert world.ctx(bob).actor.role_in(org.id) is None  # inactive until accepted
    with pytest.raises(PermissionDeniedError):
        world.orgs.accept(world.ctx(carol), inv.key)
    assert world.orgs.accept(world.ctx(bob), inv.key).slug == "acme"
    assert world.ctx(bob).actor.role_in(org.id) == OrgRole.SUPERVISOR
    with pytest.raises(ValidationError):
        world.orgs.invite(actx, email="bob@example.com", role="worker")
    with pytest.raises(ValidationError):
        world.orgs.invite(actx, email="nobody@example.com", role="worker")
    # a supervisor cannot invite
    with pytest.raises(PermissionDeniedError):
        world.orgs.invite(world.ctx(bob, "acme"), email="carol@example.com", role="worker")

    inv2 = world.orgs.invite(actx, email="carol@example.com", role="worker").value
    world.orgs.decline(world.ctx(carol), inv2.key)
    assert world.repos.memberships.find(org.id, carol.id) is None
    inv3 = world.orgs.invite(actx, email="carol@example.com", role="worker").value
    world.clock.advance(timedelta(days=8))
    with pytest.raises(ValidationError):
        world.orgs.accept(world.ctx(carol), inv3.key)
    world.orgs.resend(actx, inv3.key)
    world.orgs.accept(world.ctx(carol), inv3.key)
    assert world.ctx(carol).actor.role_in(org.id) == OrgRole.WORKER
    assert world.orgs.list_invitations(actx, {}).value.count == 2


def test_memberships_roles_and_leaving(world):
    alice, bob = world.user("alice"), world.user("bob")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    inv = world.orgs.invite(world.ctx(alice, "acme"), email="bob@example.com", role="maintainer").value
    world.orgs.accept(world.ctx(bob), inv.key)
    owner_m = world.repos.memberships.find(org.id, alice.id)
    bob_m = world.repos.memberships.find(org.id, bob.id)
    with pytest.raises(PermissionDeniedError):
        world.orgs.change_role(world.ctx(bob, "acme"), owner_m.id, "worker")
    with pytest.raises(PermissionDeniedError):
        world.orgs.change_role(world.ctx(alice, "acme"), bob_m.id, "owner")
    assert world.orgs.change_role(world.ctx(alice, "acme"), bob_m.id, "worker").value.role == OrgRole.WORKER
    assert world.events.of("update:membership")[0]["before_update"] == {"role": "maintainer"}
    page = world.orgs.list_memberships(world.ctx(bob, "acme"), {"sort": "user"}).value
    assert [m.user_id for m in page.results] == [alice.id, bob.id]
    with pytest.raises(PermissionDeniedError):
        world.orgs.delete_membership(world.ctx(alice, "acme"), owner_m.id)
    world.orgs.delete_membership(world.ctx(bob, "acme"), bob_m.id)  # leave
    with pytest.raises(PermissionDeniedError):
        world.orgs.list_memberships(world.ctx(bob, "acme"), {})


def test_update_and_delete_org(world):
    alice, bob = world.user("alice"), world.user("bob")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    with pytest.raises(PermissionDeniedError):
        world.orgs.get(world.ctx(bob), org.id)
    updated = world.orgs.update(world.ctx(alice), org.id, OrganizationPatch(name="ACME Inc")).value
    assert updated.name == "ACME Inc" and updated.version == 2
    assert world.events.of("update:organization")[0]["before_update"] == {"name": ""}
    with pytest.raises(ConflictError):
        world.orgs.update(world.ctx(alice), org.id, OrganizationPatch(name="x"), version=1)
    assert world.orgs.list(world.ctx(bob), {}).value.count == 0
    assert world.orgs.list(world.ctx(alice), {"search": "acm"}).value.count == 1
    world.orgs.delete(world.ctx(alice), org.id)
    assert world.repos.memberships.list_by_organization(org.id) == []
