"""Tasks through the core API: CVAT's shapes before and after data, org context, permissions."""

from __future__ import annotations

import json

from cvat_serverless.domain.segments import FrameRange
from cvat_serverless.domain.tasks import ChunkType, TaskMode
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.tasks import DataInfo
from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture


def attach(api, task_id: int, frames: int = 10) -> None:
    """What the media pipeline does once the data is processed."""
    api.container.tasks.attach_data(
        task_id,
        DataInfo(
            frames=FrameRange(0, frames - 1),
            mode=TaskMode.ANNOTATION,
            chunk_size=4,
            image_quality=70,
            compressed_chunk_type=ChunkType.IMAGESET,
            original_chunk_type=ChunkType.IMAGESET,
        ),
    )


def make_org(api, owner: str, slug: str) -> int:
    return api.post("/api/organizations", {"slug": slug, "name": slug}, owner).body["id"]


def add_member(api, org_id: int, user: str, role: str) -> None:
    """Invite and accept, through the API."""
    owner = api.repos.users.get(api.repos.organizations.get(org_id).owner_id).username
    slug = api.repos.organizations.get(org_id).slug
    inv = api.post("/api/invitations", {"email": f"{user}@example.com", "role": role}, owner,
                   headers={"X-Organization": slug})
    assert inv.status == 201, inv.body
    assert api.post(f"/api/invitations/{inv.body['key']}/accept", None, user).status == 200


def test_task_before_data_has_cvat_fields_the_sdk_accepts(api):
    api.user("alice")
    answer = api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}]}, "alice")
    assert answer.status == 201
    task = sdk_parse("TaskRead", answer.body)
    body = answer.body
    assert body["size"] == 0 and body["data"] is None and body["data_chunk_size"] is None
    assert body["mode"] == "" and body["dimension"] == "2d"
    assert "image_quality" not in body and "media_type" not in body  # the SDK refuses null here
    assert body["jobs"]["count"] == 0 and body["jobs"]["completed"] == 0 and body["jobs"]["validation"] == 0
    assert task.organization is None and task.target_storage.location.value == "local"


def test_task_after_data_reports_size_chunks_and_jobs(api):
    api.user("alice")
    tid = api.post("/api/tasks", {"name": "T", "labels": [{"name": "car"}], "segment_size": 4}, "alice").body["id"]
    attach(api, tid, frames=10)
    body = api.get(f"/api/tasks/{tid}", "alice").body
    sdk_parse("TaskRead", body)
    assert body["size"] == 10 and body["data_chunk_size"] == 4 and body["image_quality"] == 70
    assert body["data_original_chunk_type"] == "imageset" and body["mode"] == "annotation"
    assert body["media_type"] == "image"
    assert body["jobs"]["count"] == 3


def test_task_in_project_uses_the_project_and_labels_with_project_are_refused(api):
    api.user("alice")
    pid = api.post("/api/projects", {"name": "P", "labels": [{"name": "cat"}]}, "alice").body["id"]
    task = api.post("/api/tasks", {"name": "T", "project_id": pid, "subset": "train"}, "alice")
    assert task.status == 201 and task.body["project_id"] == pid and task.body["project_name"] == "P"
    labels = api.get("/api/labels", "alice", query={"task_id": str(task.body["id"]), "org": ""})
    assert [lb["name"] for lb in labels.body["results"]] == ["cat"]
    both = api.post("/api/tasks", {"name": "T", "project_id": pid, "labels": [{"name": "x"}]}, "alice")
    assert both.status == 400
    missing = api.post("/api/tasks", {"name": "T", "project_id": 999}, "alice")
    assert missing.status == 400 and "project_id" in missing.body
    project = api.get(f"/api/projects/{pid}", "alice").body
    assert project["tasks"]["count"] == 1 and project["task_subsets"] == ["train"]
    listed = api.get("/api/tasks", "alice", query={"project_id": str(pid), "org": ""})
    assert [t["id"] for t in listed.body["results"]] == [task.body["id"]]


def test_update_and_delete(api):
    api.user("alice")
    api.user("bob")
    tid = api.post("/api/tasks", {"name": "T"}, "alice").body["id"]
    bob_id = api.repos.users.find_by_username("bob").id
    answer = api.patch(f"/api/tasks/{tid}", {"name": "T2", "assignee_id": bob_id, "subset": "val"}, "alice")
    assert answer.status == 200
    assert answer.body["name"] == "T2" and answer.body["assignee"]["username"] == "bob"
    assert answer.body["subset"] == "val" and answer.body["assignee_updated_date"] is not None
    assert api.patch(f"/api/tasks/{tid}", {"segment_size": -1, "subset": "x" * 65}, "alice").status == 400
    assert api.delete(f"/api/tasks/{tid}", "bob").status == 403  # an assignee may not delete
    assert api.delete(f"/api/tasks/{tid}", "alice").status == 204
    assert api.get(f"/api/tasks/{tid}", "alice").status == 404


def test_a_worker_sees_none_of_another_users_tasks(api):
    api.user("alice")
    api.user("worker", SystemRole.WORKER)
    for i in range(3):
        api.post("/api/tasks", {"name": f"T{i}"}, "alice")
    listed = api.get("/api/tasks", "worker")
    assert listed.status == 200 and listed.body["count"] == 0 and listed.body["results"] == []
    assert api.get("/api/tasks/1", "worker").status == 403
    assert api.get("/api/jobs", "worker").body["count"] == 0
    flt = json.dumps({">": [{"var": "id"}, 0]})
    assert api.get("/api/tasks", "worker", query={"filter": flt}).body["count"] == 0


def test_org_maintainer_sees_the_orgs_tasks_and_outsiders_do_not(api):
    for name in ("owner", "maint", "member", "outsider"):
        api.user(name)
    org_id = make_org(api, "owner", "acme")
    add_member(api, org_id, "maint", "maintainer")
    add_member(api, org_id, "member", "worker")
    org = {"X-Organization": "acme"}
    created = api.post("/api/tasks", {"name": "org task"}, "owner", headers=org)
    assert created.status == 201 and created.body["organization"] == org_id
    api.post("/api/tasks", {"name": "personal"}, "owner", headers={"X-Organization": ""})

    assert api.get("/api/tasks", "maint", headers=org).body["count"] == 1
    assert api.get(f"/api/tasks/{created.body['id']}", "maint").status == 200
    # a plain member sees only what they are assigned to
    assert api.get("/api/tasks", "member", headers=org).body["count"] == 0
    # an outsider cannot even list in the organization
    assert api.get("/api/tasks", "outsider", headers=org).status == 403
    assert api.get("/api/tasks", "outsider").body["count"] == 0
    # the same context with the org / org_id query parameters
    assert api.get("/api/tasks", "maint", query={"org": "acme"}).body["count"] == 1
    assert api.get("/api/tasks", "maint", query={"org_id": str(org_id)}).body["count"] == 1
    # the personal workspace (empty value) of the owner holds only the personal task
    personal = api.get("/api/tasks", "owner", query={"org": ""})
    assert [t["name"] for t in personal.body["results"]] == ["personal"]
    everything = api.get("/api/tasks", "owner")
    assert everything.body["count"] == 2


def test_org_context_errors(api):
    api.user("alice")
    make_org(api, "alice", "acme")
    assert api.get("/api/tasks", "alice", headers={"X-Organization": "nope"}).status == 404
    assert api.get("/api/tasks", "alice", query={"org_id": "1", "org": "acme"}).status == 400
    assert api.get("/api/tasks", "alice", query={"org": "acme"}, headers={"X-Organization": "other"}).status == 400
    assert api.get("/api/tasks", "alice", query={"org_id": "abc"}).status == 400
    assert api.get("/api/tasks", "alice", query={"org_id": "999"}).status == 404


def test_task_list_filters(api):
    api.user("alice")
    api.post("/api/tasks", {"name": "alpha", "subset": "train"}, "alice")
    api.post("/api/tasks", {"name": "beta", "subset": "val"}, "alice")
    names = lambda a: [t["name"] for t in a.body["results"]]  # noqa: E731
    assert names(api.get("/api/tasks", "alice", query={"subset": "val"})) == ["beta"]
    assert names(api.get("/api/tasks", "alice", query={"sort": "name"})) == ["alpha", "beta"]
    assert names(api.get("/api/tasks", "alice", query={"search": "alp"})) == ["alpha"]
    flt = json.dumps({"==": [{"var": "status"}, "annotation"]})
    assert names(api.get("/api/tasks", "alice", query={"filter": flt, "name": "alpha"})) == ["alpha"]
    assert api.get("/api/tasks", "alice", query={"owner": "alice"}).body["count"] == 2
