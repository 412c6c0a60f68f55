"""Users through the core API: self, list/search/filter, retrieve, update, delete."""

from __future__ import annotations

from cvat_serverless.domain.users import SystemRole
from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture


def test_self_is_a_full_user(api):
    api.user("alice")
    answer = api.get("/api/users/self", "alice")
    assert answer.status == 200
    user = sdk_parse("User", answer.body)
    assert user.username == "alice" and user.groups == ["user"] and answer.body["email"] == "alice@example.com"
    sdk_parse("MetaUser", answer.body)


def test_list_users_sees_self_admins_see_everyone(api):
    api.user("alice")
    api.user("bob")
    api.user("root", SystemRole.ADMIN, superuser=True)
    mine = api.get("/api/users", "alice")
    sdk_parse("PaginatedMetaUserList", mine.body)
    assert [u["username"] for u in mine.body["results"]] == ["alice"]
    everyone = api.get("/api/users", "root", query={"sort": "username"})
    assert [u["username"] for u in everyone.body["results"]] == ["alice", "bob", "root"]
    assert "email" in everyone.body["results"][0]
    assert [u["username"] for u in api.get("/api/users", "root", query={"search": "bo"}).body["results"]] == ["bob"]
    assert api.get("/api/users", "root", query={"username": "alice"}).body["count"] == 1
    assert api.get("/api/users", "root", query={"is_active": "true"}).body["count"] == 3


def test_org_members_see_each_other_as_basic_users(api):
    api.user("alice")
    api.user("bob")
    api.post("/api/organizations", {"slug": "acme"}, "alice")
    inv = api.post("/api/invitations", {"email": "bob@example.com", "role": "worker"}, "alice",
                   headers={"X-Organization": "acme"})
    api.post(f"/api/invitations/{inv.body['key']}/accept", None, "bob")
    members = api.get("/api/users", "bob", headers={"X-Organization": "acme"}, query={"sort": "username"})
    assert [u["username"] for u in members.body["results"]] == ["alice", "bob"]
    alice_row = members.body["results"][0]
    assert "email" not in alice_row  # others are BasicUser
    alice_id = alice_row["id"]
    assert api.get(f"/api/users/{alice_id}", "bob", headers={"X-Organization": "acme"}).status == 200


def test_update_and_delete_rules(api):
    alice = api.user("alice")
    bob = api.user("bob")
    api.user("root", SystemRole.ADMIN, superuser=True)
    named = api.patch(f"/api/users/{alice.id}", {"first_name": "Alice", "last_name": "A."}, "alice")
    assert named.status == 200 and named.body["first_name"] == "Alice"
    assert api.patch(f"/api/users/{alice.id}", {"is_superuser": True}, "alice").status == 403
    assert api.patch(f"/api/users/{alice.id}", {"username": "bad name!"}, "alice").status == 400
    assert api.patch(f"/api/users/{alice.id}", {"username": "bob"}, "alice").status == 400
    assert api.patch(f"/api/users/{bob.id}", {"first_name": "X"}, "alice").status == 403
    assert api.get(f"/api/users/{bob.id}", "alice").status == 403
    promoted = api.patch(f"/api/users/{bob.id}", {"groups": ["worker"]}, "root")
    assert promoted.status == 200 and promoted.body["groups"] == ["worker"]
    assert api.patch(f"/api/users/{bob.id}", {"groups": ["king"]}, "root").status == 400
    assert api.delete(f"/api/users/{bob.id}", "alice").status == 403
    assert api.delete(f"/api/users/{bob.id}", "root").status == 204
    assert api.get(f"/api/users/{bob.id}", "root").status == 404
    assert api.get("/api/users/999", "root").status == 404
