"""Backup restore through the API handlers (in-memory adapters): CVAT's one-request form and TUS,
the workflow's steps as the state machine runs them (the task-data workflow of each restored task
in between), the new task equal to the backed-up one, and a damaged backup that creates nothing."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.test_api_annotations import box, task_with_data
from tests.functional.test_api_exports import download, run_exports
from tests.functional.test_api_task_data import multipart, png, run_workflow


def run_restores(api: Api) -> list[dict[str, Any]]:
    """Run every started restore as the state machine does: restore, then (the task-data
    workflows run) check until done, annotate; Fail on error."""
    c = api.container
    done = []
    for workflow, name, payload in list(c.workflows.started):
        if payload.get("_ran") or workflow != "backup-restore":
            continue
        payload["_ran"] = True
        rq = payload["request_id"]
        try:
            progress = c.restores.restore(rq, name)
            for _ in range(5):
                run_workflow(api)
                progress = c.restores.check_progress(rq, progress["round"])
                if progress["done"]:
                    break
            assert progress["done"]
            done.append(c.restores.annotate(rq))
        except Exception as exc:
            cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            done.append(c.restores.fail(rq, type(exc).__name__, cause))
    return done


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


def backup_of(api: Api, task: int) -> bytes:
    started = api.call("POST", f"/api/tasks/{task}/backup/export", None, as_user="alice")
    assert started.status == 202, started.body
    run_exports(api)
    request = api.get(f"/api/requests/{started.body['rq_id']}", "alice").body
    assert request["result_url"].startswith("http") and "/backup/download" in request["result_url"]
    data, headers = download(api, started.body["rq_id"])
    assert "_backup_" in headers["Content-Disposition"]
    return data


def restore(api: Api, archive: bytes, target: str = "task") -> dict[str, Any]:
    ctype, body = multipart({}, [(f"{target}_file", "backup.zip", archive)])
    answer = api.call("POST", f"/api/{target}s/backup", None, as_user="alice", raw_body=body, binary=True,
                      headers={"Content-Type": ctype})
    assert answer.status == 202, answer.body
    run_restores(api)
    return api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body


def annotations(api: Api, task: int) -> list[tuple[Any, ...]]:
    got = api.get(f"/api/tasks/{task}/annotations", "alice").body
    labels = {lb["id"]: lb["name"] for lb in api.get("/api/labels", "alice", query={"task_id": str(task)}).body[
        "results"]}
    return sorted((s["type"], s["frame"], labels[s["label_id"]], tuple(s["points"])) for s in got["shapes"])


def test_a_task_backup_restores_as_an_equal_task(alice: Api) -> None:
    api = alice
    task, jobs, labels = task_with_data(api, frames=5, segment_size=2)
    shapes = [box(f, labels["person"], 1.0 + f) for f in range(5)]
    assert api.call("PUT", f"/api/tasks/{task}/annotations", {"shapes": shapes}, as_user="alice").status == 200
    api.call("PATCH", f"/api/jobs/{jobs[1]['id']}", {"stage": "validation"}, as_user="alice")
    archive = backup_of(api, task)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert {"task.json", "annotations.json", "data/img0.png"} <= set(z.namelist())

    request = restore(api, archive)
    assert request["status"] == "finished", request
    new = request["result_id"]
    assert new != task
    original = api.get(f"/api/tasks/{task}", "alice").body
    restored = api.get(f"/api/tasks/{new}", "alice").body
    assert (restored["name"], restored["size"], restored["segment_size"]) == \
        (original["name"], original["size"], original["segment_size"])
    assert annotations(api, new) == annotations(api, task)
    new_jobs = sorted(api.get("/api/jobs", "alice", query={"task_id": str(new)}).body["results"],
                      key=lambda j: j["start_frame"])
    assert [(j["start_frame"], j["stop_frame"], j["stage"]) for j in new_jobs] == \
        [(0, 1, "annotation"), (2, 3, "validation"), (4, 4, "annotation")]
    events = api.container.events.of("import:backup")
    assert events and events[-1]["id"] == new
    assert not [k for k, _ in api.container.blobs.list_keys("staging/restores/")]


def test_a_damaged_backup_fails_and_creates_nothing(alice: Api) -> None:
    api = alice
    before = api.get("/api/tasks", "alice").body["count"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("task.json", json.dumps({"name": "x", "labels": [{"name": "car", "attributes": []}],
                                            "jobs": [{"start_frame": 0, "stop_frame": 0, "status": "annotation"}],
                                            "data": {"image_quality": 70}, "version": "1.0"}))
        z.writestr("annotations.json", json.dumps([{"version": 1, "tags": [], "tracks": [], "shapes": [
            {"type": "rectangle", "frame": 0, "label": "dog", "points": [1, 1, 5, 5], "attributes": []}]}]))
    request = restore(api, buffer.getvalue())
    assert request["status"] == "failed" and "dog" in request["message"]
    assert api.get("/api/tasks", "alice").body["count"] == before

    request = restore(api, b"not a zip at all")
    assert request["status"] == "failed" and request["message"]
    assert api.get("/api/tasks", "alice").body["count"] == before


def test_a_restore_needs_an_uploaded_file(alice: Api) -> None:
    api = alice
    finish = api.call("POST", "/api/tasks/backup", None, as_user="alice", query={"filename": "1_nope"},
                      headers={"Upload-Finish": ""})
    assert finish.status == 400
    assert api.call("POST", "/api/jobs/backup", None, as_user="alice").status in (400, 404, 405)


def test_an_old_cvat_backup_without_a_stop_frame_restores_every_frame(alice: Api) -> None:
    api = alice
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # CVAT 2.0-era task.json: no stop_frame, no sorting_method
        z.writestr("task.json", json.dumps({
            "name": "old", "labels": [{"name": "car", "attributes": []}], "version": "1.0",
            "data": {"chunk_size": 2, "image_quality": 70, "start_frame": 0},
            "jobs": [{"start_frame": 0, "stop_frame": 2, "status": "annotation"}]}))
        z.writestr("annotations.json", json.dumps([{"version": 0, "tags": [], "tracks": [], "shapes": [
            {"type": "rectangle", "frame": 2, "label": "car", "points": [1, 1, 5, 5], "attributes": [],
             "occluded": False, "z_order": 0, "group": 0, "source": "manual"}]}]))
        for i in range(3):
            z.writestr(f"data/img{i}.png", png((i * 60, 0, 0)))
    request = restore(api, buffer.getvalue())
    assert request["status"] == "finished", request
    task = api.get(f"/api/tasks/{request['result_id']}", "alice").body
    assert task["size"] == 3
    assert [s[1] for s in annotations(api, task["id"])] == [2]
