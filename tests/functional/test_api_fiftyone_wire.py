"""FiftyOne's CVAT backend through the API handler (in-memory adapters): the label schemas and
annotation bodies that ``fiftyone/utils/cvat.py`` sends to a CVAT >= 2.5 server (the end-to-end
replay is ``tests/e2e/test_fiftyone_wire.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.test_api_annotations import task_with_data

# FiftyOne's recommend_attr_tool for booleans, stringified: {"type": "checkbox", "values": [True, False]}
FO_CHECKBOX = {"name": "moving", "mutable": True, "input_type": "checkbox", "values": ["true", "false"]}
LABEL_ID_ATTR = {"name": "label_id", "input_type": "text", "mutable": True, "values": []}


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


def test_a_checkbox_with_both_values_as_fiftyone_sends_it(alice: Api):
    api = alice
    created = api.post("/api/tasks", {"name": "FiftyOne", "image_quality": 75, "labels": [
        {"name": "car", "attributes": [FO_CHECKBOX, LABEL_ID_ATTR]}]}, "alice")
    assert created.status == 201, created.body
    labels = api.get("/api/labels", "alice", query={"task_id": str(created.body["id"])}).body["results"]
    moving = next(a for a in labels[0]["attributes"] if a["name"] == "moving")
    assert (moving["values"], moving["default_value"]) == (["true", "false"], "false")  # unchecked by default
    with_default = api.post("/api/tasks", {"name": "FiftyOne 2", "labels": [
        {"name": "car", "attributes": [{**FO_CHECKBOX, "default_value": "true"}]}]}, "alice")
    assert with_default.status == 201, with_default.body
    assert with_default.body["id"] != created.body["id"]
    for bad in (["true", "true"], ["true", "false", "maybe"], []):
        refused = api.post("/api/tasks", {"name": "bad", "labels": [
            {"name": "car", "attributes": [{**FO_CHECKBOX, "values": bad}]}]}, "alice")
        assert refused.status == 400, (bad, refused.body)


def test_a_project_patch_adds_a_fiftyone_checkbox_and_label_id_to_listed_labels(alice: Api):
    api = alice
    project = api.post("/api/projects", {"name": "P", "labels": [{"name": "car"}]}, "alice").body
    listed = api.get("/api/labels", "alice", query={"project_id": str(project["id"])}).body["results"]
    patched = [{**lb, "attributes": [*lb["attributes"], FO_CHECKBOX, LABEL_ID_ATTR]} for lb in listed]
    answer = api.patch(f"/api/projects/{project['id']}", {"labels": patched}, "alice")
    assert answer.status == 200, answer.body
    after = api.get("/api/labels", "alice", query={"project_id": str(project["id"])}).body["results"]
    assert [lb["id"] for lb in after] == [lb["id"] for lb in listed]
    assert sorted(a["name"] for a in after[0]["attributes"]) == ["label_id", "moving"]


def fo_rectangle(frame: int, label: int, attrs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "rectangle", "occluded": False, "points": [1.0, 2.0, 11.0, 12.0], "label_id": label,
            "group": 0, "frame": frame, "source": "manual", "attributes": attrs}


def test_checkbox_values_on_a_fiftyone_track_with_its_last_frame(alice: Api):
    api = alice
    task, jobs, labels = task_with_data(api, frames=5, segment_size=2)
    car = labels["car"]
    api.patch(f"/api/tasks/{task}", {"labels": [{"name": "car", "id": car, "attributes": [FO_CHECKBOX]}]}, "alice")
    specs = {a["name"]: a["id"] for a in api.get(f"/api/labels/{car}", "alice").body["attributes"]}
    shapes = []
    for n, frame in enumerate((1, 2)):
        shape = fo_rectangle(frame, car, [{"spec_id": specs["moving"], "value": "true" if n else "false"}])
        del shape["label_id"]
        shapes.append({**shape, "outside": False, "keyframe": n == 0})
    shapes.append({**shapes[-1], "frame": 3, "outside": True, "keyframe": False})
    track = {"label_id": car, "shapes": shapes, "frame": 2, "group": 0,
             "attributes": [{"spec_id": specs["color"], "value": "blue"}]}  # frame: the last visible one
    put = api.call("PUT", f"/api/tasks/{task}/annotations",
                   {"version": 0, "shapes": [], "tags": [], "tracks": [track]}, as_user="alice")
    assert put.status == 200, put.body
    stored = put.body["tracks"][0]
    assert stored["frame"] == 1 and [(s["frame"], s["outside"]) for s in stored["shapes"]] == [
        (1, False), (2, False), (3, True)]
    assert [s["attributes"][0]["value"] for s in stored["shapes"][:2]] == ["false", "true"]
    job = next(j for j in jobs if j["start_frame"] <= 1 <= j["stop_frame"])
    read = api.get(f"/api/jobs/{job['id']}/annotations", "alice").body["tracks"]
    assert [t["id"] for t in read] == [stored["id"]]
