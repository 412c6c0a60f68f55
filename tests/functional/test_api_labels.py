"""Labels through the core API: lists by task/project/job, skeletons, PATCH and DELETE."""

from __future__ import annotations

from tests.functional._api_world import api_fixture, sdk_parse  # noqa: F401 - fixture

SKELETON = {
    "name": "person",
    "type": "skeleton",
    "svg": '<line x1="1" y1="1" x2="2" y2="2" data-node-from="1" data-node-to="2"></line>'
           '<circle r="1" cx="1" cy="1" data-label-name="head"></circle>'
           '<circle r="1" cx="2" cy="2" data-label-name="hand"></circle>',
    "sublabels": [{"name": "head", "type": "points"}, {"name": "hand", "type": "points"}],
}
CAR = {"name": "car", "color": "#ff0000", "attributes": [
    {"name": "color", "mutable": False, "input_type": "select", "values": ["red", "blue"], "default_value": "blue"},
    {"name": "parked", "mutable": True, "input_type": "checkbox", "values": ["false"]},
]}


def test_task_labels_with_attributes_and_skeleton_sublabels(api):
    api.user("alice")
    tid = api.post("/api/tasks", {"name": "T", "labels": [CAR, SKELETON]}, "alice").body["id"]
    answer = api.get("/api/labels", "alice", query={"task_id": str(tid), "org": "", "page": "1"})
    assert answer.status == 200
    sdk_parse("PaginatedLabelList", answer.body)
    by_name = {lb["name"]: lb for lb in answer.body["results"]}
    assert set(by_name) == {"car", "person"}  # sublabels come inside their skeleton
    car = by_name["car"]
    assert car["color"] == "#ff0000" and car["type"] == "any" and car["task_id"] == tid
    assert {a["name"]: a["default_value"] for a in car["attributes"]} == {"color": "blue", "parked": "false"}
    person = by_name["person"]
    assert [s["name"] for s in person["sublabels"]] == ["head", "hand"]
    assert all(s["has_parent"] for s in person["sublabels"])
    assert 'data-label-id="' in person["svg"] and "data-label-name" not in person["svg"]
    head_id = person["sublabels"][0]["id"]
    sub = api.get(f"/api/labels/{head_id}", "alice").body
    assert sub["parent_id"] == person["id"] and sub["has_parent"] is True
    only_subs = api.get("/api/labels", "alice", query={"task_id": str(tid), "parent_id": str(person["id"])})
    assert sorted(lb["name"] for lb in only_subs.body["results"]) == ["hand", "head"]


def test_patch_and_delete_a_label(api):
    api.user("alice")
    api.user("bob")
    pid = api.post("/api/projects", {"name": "P", "labels": [CAR, {"name": "cat"}]}, "alice").body["id"]
    labels = api.get("/api/labels", "alice", query={"project_id": str(pid)}).body["results"]
    cat = next(lb for lb in labels if lb["name"] == "cat")
    renamed = api.patch(f"/api/labels/{cat['id']}", {"name": "kitty", "color": "#00ff00"}, "alice")
    assert renamed.status == 200 and renamed.body["name"] == "kitty" and renamed.body["color"] == "#00ff00"
    sdk_parse("Label", renamed.body)
    assert api.patch(f"/api/labels/{cat['id']}", {"color": "green"}, "alice").status == 400
    assert api.patch(f"/api/labels/{cat['id']}", {"name": "car"}, "alice").status == 400  # names are unique
    assert api.patch(f"/api/labels/{cat['id']}", {"name": "x"}, "bob").status == 403
    assert api.delete(f"/api/labels/{cat['id']}", "bob").status == 403
    assert api.delete(f"/api/labels/{cat['id']}", "alice").status == 204
    assert api.get(f"/api/labels/{cat['id']}", "alice").status == 404
    names = [lb["name"] for lb in api.get("/api/labels", "alice", query={"project_id": str(pid)}).body["results"]]
    assert names == ["car"]


def test_label_list_visibility_and_bad_parameters(api):
    api.user("alice")
    api.user("bob")
    tid = api.post("/api/tasks", {"name": "T", "labels": [{"name": "secret"}]}, "alice").body["id"]
    assert api.get("/api/labels", "bob").body["count"] == 0
    assert api.get("/api/labels", "alice").body["count"] == 1
    assert api.get("/api/labels", "bob", query={"task_id": str(tid)}).status == 403
    assert api.get("/api/labels", "alice", query={"task_id": "abc"}).status == 400
    assert api.get("/api/labels", "alice", query={"task_id": "1", "project_id": "1"}).status == 400
    assert api.get("/api/labels", "alice", query={"task_id": "999"}).status == 404
    bad_attr = {"name": "T2", "labels": [{"name": "x", "attributes": [
        {"name": "n", "mutable": True, "input_type": "number", "values": ["1"]}]}]}
    assert api.post("/api/tasks", bad_attr, "alice").status == 400
