"""Projects through the core API: CVAT's shapes, list parameters, validation and permissions."""

from __future__ import annotations

import json

import pytest

from cvat_serverless.domain.users import SystemRole
from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture

BASE = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1"


def test_create_retrieve_update_delete(api):
    api.user("alice")
    created = api.post("/api/projects", {"name": "Cats", "labels": [{"name": "cat"}, {"name": "dog"}],
                                          "bug_tracker": "https://bugs.example.com/1"}, "alice")
    assert created.status == 201
    project = sdk_parse("ProjectRead", created.body)
    assert project.name == "Cats" and project.owner.username == "alice" and project.organization is None
    assert created.body["url"] == f"{BASE}/api/projects/{project.id}"
    assert created.body["labels"]["url"] == f"{BASE}/api/labels?project_id={project.id}"
    assert created.body["tasks"] == {"count": 0, "url": f"{BASE}/api/tasks?project_id={project.id}"}
    assert created.body["target_storage"]["location"] == "local"

    got = api.get(f"/api/projects/{project.id}", "alice")
    assert got.status == 200 and got.body == created.body

    patched = api.patch(f"/api/projects/{project.id}", {"name": "Felines", "labels": [{"name": "lion"}]}, "alice")
    assert patched.status == 200 and patched.body["name"] == "Felines"
    labels = api.get("/api/labels", "alice", query={"project_id": str(project.id)}).body["results"]
    names = [lb["name"] for lb in labels]
    assert sorted(names) == ["cat", "dog", "lion"]

    assert api.delete(f"/api/projects/{project.id}", "alice").status == 204
    assert api.get(f"/api/projects/{project.id}", "alice").status == 404
    assert api.delete(f"/api/projects/{project.id}", "alice").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"name": "P", "bug_tracker": "not a url"}, "bug_tracker"),
        ({"name": "P", "labels": [{"name": "a"}, {"name": "a"}]}, "labels"),
        ({"name": "P", "labels": [{"name": "a", "type": "nonsense"}]}, "type"),
        ({"name": "P", "owner_id": 999}, "owner_id"),
        ({"name": "P", "target_storage": {"location": "cloud_storage"}}, "target_storage"),
        ({"name": "P", "target_storage": {"location": "moon"}}, "target_storage.location"),
        ({"name": 5}, "name"),
    ],
)
def test_bad_input_is_a_400_field_error(api, body, field):
    api.user("alice")
    answer = api.post("/api/projects", body, "alice")
    assert answer.status == 400, answer.body
    assert isinstance(answer.body, dict) and field in answer.body, answer.body
    assert all(isinstance(m, str) for m in answer.body[field])
    assert api.repos.projects.list_all() == []  # nothing half-created


def test_list_pages_with_absolute_links_and_stops(api):
    api.user("alice")
    for i in range(12):
        api.post("/api/projects", {"name": f"P{i:02d}"}, "alice")
    first = api.get("/api/projects", "alice", query={"page": "1"})
    assert first.status == 200
    sdk_parse("PaginatedProjectReadList", first.body)
    assert first.body["count"] == 12 and len(first.body["results"]) == 10
    assert first.body["next"] == f"{BASE}/api/projects?page=2" and first.body["previous"] is None
    second = api.get("/api/projects", "alice", query={"page": "2"})
    assert len(second.body["results"]) == 2 and second.body["next"] is None
    assert second.body["previous"] == f"{BASE}/api/projects"
    ids = [p["id"] for p in first.body["results"] + second.body["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 12  # CVAT's default -id, no overlap
    assert api.get("/api/projects", "alice", query={"page": "3"}).status == 404
    assert api.get("/api/projects", "alice", query={"page": "x"}).status == 404
    small = api.get("/api/projects", "alice", query={"page_size": "5", "page": "2", "sort": "name"})
    assert [p["name"] for p in small.body["results"]] == ["P05", "P06", "P07", "P08", "P09"]
    assert small.body["next"] == f"{BASE}/api/projects?page_size=5&page=3&sort=name"


def test_sort_search_filter_and_simple_filters(api):
    api.user("alice")
    api.user("bob")
    api.post("/api/projects", {"name": "Road signs"}, "alice")
    api.post("/api/projects", {"name": "Cats"}, "alice")
    api.post("/api/projects", {"name": "Road cracks"}, "alice")
    names = lambda a: [p["name"] for p in a.body["results"]]  # noqa: E731
    assert names(api.get("/api/projects", "alice", query={"sort": "name"})) == ["Cats", "Road cracks", "Road signs"]
    assert names(api.get("/api/projects", "alice", query={"sort": "-name"}))[0] == "Road signs"
    assert names(api.get("/api/projects", "alice", query={"search": "road"})) == ["Road cracks", "Road signs"]
    flt = json.dumps({"and": [{"==": [{"var": "owner"}, "alice"]}, {"in": ["signs", {"var": "name"}]}]})
    assert names(api.get("/api/projects", "alice", query={"filter": flt})) == ["Road signs"]
    assert names(api.get("/api/projects", "alice", query={"name": "Cats"})) == ["Cats"]
    bad = api.get("/api/projects", "alice", query={"filter": "{not json"})
    assert bad.status == 400
    unknown = api.get("/api/projects", "alice", query={"filter": json.dumps({"==": [{"var": "secret"}, 1]})})
    assert unknown.status == 400


def test_other_users_projects_are_403_and_never_listed(api):
    api.user("alice")
    api.user("bob")
    api.user("root", SystemRole.ADMIN, superuser=True)
    pid = api.post("/api/projects", {"name": "Alice's"}, "alice").body["id"]
    api.post("/api/projects", {"name": "Bob's"}, "bob")
    assert api.get(f"/api/projects/{pid}", "bob").status == 403
    assert api.patch(f"/api/projects/{pid}", {"name": "mine now"}, "bob").status == 403
    assert api.delete(f"/api/projects/{pid}", "bob").status == 403
    bobs = api.get("/api/projects", "bob", query={"search": "Alice"})
    assert bobs.body["count"] == 0 and bobs.body["results"] == []
    assert api.get("/api/projects", "bob").body["count"] == 1
    assert api.get("/api/projects", "root").body["count"] == 2
    # an assignee may see it
    bob_id = api.repos.users.find_by_username("bob").id
    assert api.patch(f"/api/projects/{pid}", {"assignee_id": bob_id}, "alice").status == 200
    assert api.get(f"/api/projects/{pid}", "bob").status == 200


def test_a_worker_cannot_create_projects(api):
    api.user("worker", SystemRole.WORKER)
    assert api.post("/api/projects", {"name": "P"}, "worker").status == 403


def test_patch_without_body_is_a_no_op_and_null_name_is_refused(api):
    api.user("alice")
    pid = api.post("/api/projects", {"name": "P"}, "alice").body["id"]
    assert api.call("PATCH", f"/api/projects/{pid}", as_user="alice").status == 200
    answer = api.patch(f"/api/projects/{pid}", {"name": None}, "alice")
    assert answer.status == 400 and "name" in answer.body
    # CVAT routes only numeric ids: a non-numeric id is no URL at all (404), not a bad field
    assert api.get("/api/projects/abc", "alice").status == 404


def test_non_numeric_ids_are_404_everywhere_like_cvat(api):
    api.user("alice")
    for path in ("/api/projects/abc", "/api/tasks/1.5", "/api/jobs/x", "/api/labels/-", "/api/users/me"):
        answer = api.get(path, "alice")
        assert (answer.status, answer.body) == (404, {"detail": "Not found."}), path
