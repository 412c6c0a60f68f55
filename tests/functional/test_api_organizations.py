"""Organizations, memberships and invitations through the core API."""

from __future__ import annotations

from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture


def test_organization_lifecycle(api):
    api.user("alice")
    api.user("bob")
    created = api.post("/api/organizations", {"slug": "acme", "name": "Acme", "contact": {"email": "a@acme"}},
                       "alice")
    assert created.status == 201
    sdk_parse("OrganizationRead", created.body)
    org_id = created.body["id"]
    assert created.body["owner"]["username"] == "alice"
    assert api.post("/api/organizations", {"slug": "acme"}, "bob").status == 400  # slug taken
    assert api.post("/api/organizations", {"slug": "bad slug"}, "bob").status == 400
    assert api.post("/api/organizations", {"slug": "x" * 17}, "bob").status == 400
    listed = api.get("/api/organizations", "alice")
    sdk_parse("PaginatedOrganizationReadList", listed.body)
    assert listed.body["count"] == 1
    assert api.get("/api/organizations", "bob").body["count"] == 0
    assert api.get(f"/api/organizations/{org_id}", "bob").status == 403
    assert api.patch(f"/api/organizations/{org_id}", {"name": "ACME"}, "bob").status == 403
    renamed = api.patch(f"/api/organizations/{org_id}", {"name": "ACME Corp"}, "alice")
    assert renamed.status == 200 and renamed.body["name"] == "ACME Corp"
    # deleting it deletes its projects and tasks
    pid = api.post("/api/projects", {"name": "P"}, "alice", headers={"X-Organization": "acme"}).body["id"]
    tid = api.post("/api/tasks", {"name": "T"}, "alice", headers={"X-Organization": "acme"}).body["id"]
    assert api.delete(f"/api/organizations/{org_id}", "bob").status == 403
    assert api.delete(f"/api/organizations/{org_id}", "alice").status == 204
    assert api.get(f"/api/projects/{pid}", "alice").status == 404
    assert api.get(f"/api/tasks/{tid}", "alice").status == 404
    assert api.get("/api/tasks", "alice", headers={"X-Organization": "acme"}).status == 404


def test_invitations_accept_decline_resend_and_memberships(api):
    api.user("alice")
    api.user("bob")
    api.user("carol")
    org_id = api.post("/api/organizations", {"slug": "acme"}, "alice").body["id"]
    org = {"X-Organization": "acme"}
    inv = api.post("/api/invitations", {"email": "bob@example.com", "role": "maintainer"}, "alice", headers=org)
    assert inv.status == 201
    sdk_parse("InvitationRead", inv.body)
    assert inv.body["organization_info"] == {"id": org_id, "slug": "acme"} and inv.body["accepted"] is False
    assert api.post("/api/invitations", {"email": "nobody@example.com", "role": "worker"}, "alice",
                    headers=org).status == 400
    boss = api.post("/api/invitations", {"email": "bob@example.com", "role": "boss"}, "alice", headers=org)
    assert boss.status == 400 and "role" in boss.body
    assert api.post("/api/invitations", {"email": "carol@example.com", "role": "worker"}, "alice").status == 400
    # the invitee sees it, others do not
    assert api.get(f"/api/invitations/{inv.body['key']}", "bob").status == 200
    assert api.get(f"/api/invitations/{inv.body['key']}", "carol").status == 403
    assert api.post(f"/api/invitations/{inv.body['key']}/accept", None, "carol").status == 403
    assert api.post(f"/api/invitations/{inv.body['key']}/resend", None, "alice").status == 204
    accepted = api.post(f"/api/invitations/{inv.body['key']}/accept", None, "bob")
    assert accepted.status == 200 and accepted.body == {"organization_slug": "acme"}
    assert api.post(f"/api/invitations/{inv.body['key']}/accept", None, "bob").status == 400
    # carol declines hers
    inv2 = api.post("/api/invitations", {"email": "carol@example.com", "role": "worker"}, "bob", headers=org)
    assert inv2.status == 201
    listed = api.get("/api/invitations", "alice", headers=org)
    sdk_parse("PaginatedInvitationReadList", listed.body)
    assert listed.body["count"] == 2
    assert api.post(f"/api/invitations/{inv2.body['key']}/decline", None, "carol").status == 204
    assert api.get(f"/api/invitations/{inv2.body['key']}", "alice").status == 404
    # memberships of the organization
    members = api.get("/api/memberships", "bob", headers=org)
    sdk_parse("PaginatedMembershipReadList", members.body)
    roles = {m["user"]["username"]: m["role"] for m in members.body["results"]}
    assert roles == {"alice": "owner", "bob": "maintainer"}
    bob_m = next(m for m in members.body["results"] if m["user"]["username"] == "bob")
    assert api.patch(f"/api/memberships/{bob_m['id']}", {"role": "supervisor"}, "bob").status == 403
    changed = api.patch(f"/api/memberships/{bob_m['id']}", {"role": "supervisor"}, "alice")
    assert changed.status == 200 and changed.body["role"] == "supervisor"
    assert api.patch(f"/api/memberships/{bob_m['id']}", {"role": "owner"}, "alice").status == 403
    assert api.get("/api/memberships", "carol", headers=org).status == 403
    # bob leaves
    assert api.delete(f"/api/memberships/{bob_m['id']}", "bob").status == 204
    assert api.get("/api/projects", "bob", headers=org).status == 403
