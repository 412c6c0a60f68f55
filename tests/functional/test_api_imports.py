"""Annotation and dataset imports through the API handlers (in-memory adapters): CVAT's upload
protocol (Upload-Start, TUS create/PATCH/HEAD, Upload-Finish; the one-request multipart form), the
background request, and the import workflow's step run through its Lambda handler, as the state
machine runs it (Fail on error)."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from typing import Any

import pytest

from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabeledData
from cvat_serverless.formats.registry import get_exporter
from cvat_serverless.services.annotations import label_specs
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_api_annotations import box, task_with_data
from tests.functional.test_api_task_data import multipart

UPLOAD_ID = re.compile(r"^[0-9]+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


def run_imports(api: Api) -> list[dict[str, Any]]:
    """Run every started import execution's step through the function's handler; on an error,
    the Fail step (the same handler with the Catch's error), as the state machine does."""
    handler = load_handler("import_annotations")
    done = []
    for workflow, _name, payload in list(api.container.workflows.started):
        if workflow != "import-annotations" or payload.get("_ran"):
            continue
        payload["_ran"] = True
        step = {k: v for k, v in payload.items() if k != "_ran"}
        try:
            done.append(handler(step, Context("import_annotations")))
        except Exception as exc:  # the state machine catches States.ALL
            cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            done.append(handler({**step, "error": {"Error": type(exc).__name__, "Cause": cause}},
                                Context("import_annotations")))
    return done


def export_file(api: Api, task: int, fmt: str = "CVAT for images 1.1", data: dict[str, Any] | None = None) -> bytes:
    """The task's annotations (or ``data``) as the formats engine exports them."""
    meta = api.get(f"/api/tasks/{task}/data/meta", "alice").body
    frames = [FrameInfo(i, f["name"], f["width"], f["height"]) for i, f in enumerate(meta["frames"])]
    annotations = data if data is not None else api.get(f"/api/tasks/{task}/annotations", "alice").body
    view = DatasetView(labels=label_specs(api.repos.labels.list_by_task(task)), frames=frames,
                       annotations=LabeledData.from_dict(annotations), task_id=task, name="T")
    out = io.BytesIO()
    get_exporter(fmt)(view, out, None)
    return out.getvalue()


def tus_import(api: Api, url: str, body: bytes, *, fmt: str, name: str = "annotations.zip", user: str = "alice",
               extra: dict[str, str] | None = None, chunk: int = 1000) -> Any:
    """The SDK's dance: Upload-Start, TUS create, PATCHes, Upload-Finish; the Finish answer."""
    query = {"format": fmt, "filename": name, **(extra or {})}
    start = api.call("POST", url + "/", None, as_user=user, query=query, headers={"Upload-Start": ""})
    assert start.status == 202, start.body
    created = api.call("POST", url + "/", None, as_user=user, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(body)),
        "Upload-Metadata": "filename " + base64.b64encode(name.encode()).decode()})
    assert created.status == 201, created.body
    location, file_id = created.header("Location"), created.header("Upload-Filename")
    assert location is not None and location.startswith("http") and location.endswith(f"{url}/{file_id}")
    assert file_id is not None and UPLOAD_ID.match(file_id)
    part_path = location[location.index("/api/") + 1:]  # after the host and the stage
    for offset in range(0, len(body), chunk):
        part = api.call("PATCH", "/" + part_path, None, as_user=user, raw_body=body[offset:offset + chunk],
                        binary=True, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                                              "Content-Type": "application/offset+octet-stream"})
        assert part.status == 204, part.body
        assert part.header("Upload-Offset") == str(min(len(body), offset + chunk))
    return api.call("POST", url + "/", None, as_user=user, query={**query, "filename": file_id},
                    headers={"Upload-Finish": ""})


def objects(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The annotations without ids, comparable across tasks."""
    return sorted((s["type"], s["frame"], s["label_id"], tuple(s["points"])) for s in data["shapes"]) + sorted(
        ("tag", t["frame"], t["label_id"]) for t in data["tags"])


def test_a_task_import_with_the_sdks_upload_protocol_replaces_its_annotations(alice: Api):
    api = alice
    task, _jobs, labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    assert api.call("PUT", url, {"shapes": [box(0, labels["car"]), box(3, labels["person"], x=5)],
                                 "tags": [{"frame": 4, "label_id": labels["person"]}]}, as_user="alice").status == 200
    before = api.get(url, "alice").body
    exported = export_file(api, task)
    api.call("PUT", url, {"shapes": [box(1, labels["car"], x=30)]}, as_user="alice")

    finish = tus_import(api, url, exported, fmt="CVAT 1.1", chunk=700)
    assert finish.status == 202, finish.body
    rq_id = finish.body["rq_id"]
    queued = api.get(f"/api/requests/{rq_id}", "alice").body
    assert queued["status"] == "queued" and queued["operation"]["type"] == "import:annotations"
    assert queued["operation"]["format"] == "CVAT 1.1" and queued["operation"]["task_id"] == task
    run_imports(api)
    done = api.get(f"/api/requests/{rq_id}", "alice").body
    assert done["status"] == "finished", done
    assert done["progress"] == 1.0
    after = api.get(url, "alice").body
    assert objects(after) == objects(before)  # replace: the shape saved in between is gone
    assert {s["id"] for s in after["shapes"]}.isdisjoint({s["id"] for s in before["shapes"]})  # new ids
    events = api.container.events.of("import:dataset")
    assert events and events[-1]["task_id"] == task and events[-1]["dataset"]["format"] == "CVAT 1.1"
    # the uploaded file is gone once imported
    assert not [k for k in api.container.blobs.objects if k.startswith("staging/uploads/")]


def test_append_adds_to_what_the_task_has(alice: Api):
    api = alice
    task, _jobs, labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    api.call("PUT", url, {"shapes": [box(0, labels["car"])]}, as_user="alice")
    exported = export_file(api, task, "COCO 1.0", data={"shapes": [box(2, labels["person"], x=7)]})
    finish = tus_import(api, url, exported, fmt="COCO 1.0", name="coco.zip", extra={"import_mode": "append"})
    assert finish.status == 202, finish.body
    run_imports(api)
    got = api.get(url, "alice").body
    assert sorted((s["frame"], s["label_id"]) for s in got["shapes"]) == [(0, labels["car"]), (2, labels["person"])]


def test_a_damaged_file_fails_the_request_and_changes_nothing(alice: Api):
    api = alice
    task, _jobs, labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    api.call("PUT", url, {"shapes": [box(0, labels["car"]), box(3, labels["person"])]}, as_user="alice")
    before = api.get(url, "alice").body
    with zipfile.ZipFile(io.BytesIO(export_file(api, task))) as archive:
        good = archive.read("annotations.xml").decode()
    broken = good.replace("</annotations>", "<image id=")  # cut off: XML that ends mid-tag
    finish = tus_import(api, url, broken.encode(), fmt="CVAT 1.1", name="annotations.xml")
    assert finish.status == 202, finish.body
    run_imports(api)
    failed = api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body
    assert failed["status"] == "failed"
    assert "annotations.xml" in failed["message"] and "line" in failed["message"], failed["message"]
    assert api.get(url, "alice").body == before  # exactly as it was, version included

    # labels the task does not have: the whole file is refused, nothing saved
    coco = json.dumps({"images": [{"id": 1, "file_name": "img0.png", "width": 64, "height": 48}],
                       "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "dragon"}],
                       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]},
                                       {"id": 2, "image_id": 1, "category_id": 2, "bbox": [1, 1, 5, 5]}]})
    finish = tus_import(api, url, coco.encode(), fmt="COCO 1.0", name="instances.json")
    run_imports(api)
    failed = api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body
    assert failed["status"] == "failed" and "dragon" in failed["message"], failed
    assert api.get(url, "alice").body == before


def test_the_protocol_answers_and_refusals(alice: Api):
    api = alice
    task, _jobs, _labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations/"
    unknown = api.call("POST", url, None, as_user="alice", query={"format": "Nope 9.9", "filename": "a.zip"},
                       headers={"Upload-Start": ""})
    assert unknown.status == 400 and "Nope 9.9" in json.dumps(unknown.body)
    no_format = api.call("POST", url, None, as_user="alice", headers={"Upload-Start": ""})
    assert no_format.status == 400 and "format" in no_format.body
    bad_mode = api.call("POST", url, None, as_user="alice", query={"format": "CVAT 1.1", "import_mode": "merge"},
                        headers={"Upload-Start": ""})
    assert bad_mode.status == 400 and "import_mode" in bad_mode.body

    created = api.call("POST", url, None, as_user="alice", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10",
        "Upload-Metadata": "filename " + base64.b64encode(b"a.xml").decode()})
    file_id = created.header("Upload-Filename")
    part_url = f"/api/tasks/{task}/annotations/{file_id}"
    tus = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    wrong = api.call("PATCH", part_url, None, as_user="alice", raw_body=b"12345", binary=True,
                     headers={**tus, "Upload-Offset": "3"})
    assert wrong.status == 409 and wrong.header("Upload-Offset") == "0"
    ok = api.call("PATCH", part_url, None, as_user="alice", raw_body=b"12345", binary=True,
                  headers={**tus, "Upload-Offset": "0"})
    assert ok.status == 204 and ok.header("Upload-Offset") == "5"
    head = api.call("HEAD", part_url, as_user="alice", headers={"Tus-Resumable": "1.0.0"})
    assert head.status == 200 and head.header("Upload-Offset") == "5" and head.header("Upload-Length") == "10"
    too_long = api.call("PATCH", part_url, None, as_user="alice", raw_body=b"123456", binary=True,
                        headers={**tus, "Upload-Offset": "5"})
    assert too_long.status == 400
    unfinished = api.call("POST", url, None, as_user="alice", query={"format": "CVAT 1.1", "filename": file_id},
                          headers={"Upload-Finish": ""})
    assert unfinished.status == 400 and "not complete" in json.dumps(unfinished.body)
    not_an_upload = api.call("POST", url, None, as_user="alice", query={"format": "CVAT 1.1", "filename": "../x"},
                             headers={"Upload-Finish": ""})
    assert not_an_upload.status == 400

    # another user's upload does not exist for bob; bob may not import into alice's task at all
    api.user("bob")
    assert api.call("HEAD", part_url, as_user="bob", headers={"Tus-Resumable": "1.0.0"}).status in (403, 404)
    assert api.call("POST", url, None, as_user="bob", query={"format": "CVAT 1.1"},
                    headers={"Upload-Start": ""}).status in (403, 404)
    # an upload of task A is not one of task B
    other, _j, _l = task_with_data(api, frames=2)
    assert api.call("HEAD", f"/api/tasks/{other}/annotations/{file_id}", as_user="alice",
                    headers={"Tus-Resumable": "1.0.0"}).status == 404
    # no data, no import
    empty = api.post("/api/tasks", {"name": "E", "labels": [{"name": "car"}]}, "alice").body["id"]
    no_data = api.call("POST", f"/api/tasks/{empty}/annotations/", None, as_user="alice",
                       query={"format": "CVAT 1.1"}, headers={"Upload-Start": ""})
    assert no_data.status == 400 and "no data" in json.dumps(no_data.body)


def test_the_one_request_multipart_form_and_a_job_import(alice: Api):
    api = alice
    task, jobs, labels = task_with_data(api, frames=5, segment_size=2)
    job = jobs[1]  # frames 2-3
    exported = export_file(api, task, data={"shapes": [box(2, labels["car"]), box(3, labels["person"], x=9)]})
    ctype, body = multipart({}, [("annotation_file", "annotations.zip", exported)])
    answer = api.call("POST", f"/api/jobs/{job['id']}/annotations", None, as_user="alice", raw_body=body, binary=True,
                      headers={"Content-Type": ctype}, query={"format": "CVAT 1.1"})
    assert answer.status == 202, answer.body
    assert api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body["operation"]["job_id"] == job["id"]
    run_imports(api)
    assert api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body["status"] == "finished"
    got = api.get(f"/api/jobs/{job['id']}/annotations", "alice").body
    assert sorted(s["frame"] for s in got["shapes"]) == [2, 3]
    assert api.get(f"/api/jobs/{jobs[0]['id']}/annotations", "alice").body["shapes"] == []

    # a job import of a file with frames outside the job fails; the job keeps what it has
    outside = export_file(api, task, data={"shapes": [box(0, labels["car"])]})
    finish = tus_import(api, f"/api/jobs/{job['id']}/annotations", outside, fmt="CVAT 1.1")
    run_imports(api)
    failed = api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body
    assert failed["status"] == "failed", failed
    assert sorted(s["frame"] for s in api.get(f"/api/jobs/{job['id']}/annotations", "alice").body["shapes"]) == [2, 3]


def test_conv_mask_to_poly_turns_masks_into_polygons(alice: Api):
    api = alice
    task, _jobs, labels = task_with_data(api, frames=2)
    # a 4x3 block at (2, 1) as CVAT's mask points: runs then the inclusive box
    mask = {"type": "mask", "frame": 0, "label_id": labels["car"], "points": [0, 12, 2.0, 1.0, 5.0, 3.0]}
    exported = export_file(api, task, "COCO 1.0", data={"shapes": [mask]})
    url = f"/api/tasks/{task}/annotations"
    tus_import(api, url, exported, fmt="COCO 1.0", name="coco.zip", extra={"conv_mask_to_poly": "true"})
    run_imports(api)
    got = api.get(url, "alice").body
    assert [(s["type"], s["points"]) for s in got["shapes"]] == [("polygon", [2.0, 1.0, 6.0, 1.0, 6.0, 4.0, 2.0, 4.0])]
    tus_import(api, url, exported, fmt="COCO 1.0", name="coco.zip", extra={"conv_mask_to_poly": "false"})
    run_imports(api)
    assert [s["type"] for s in api.get(url, "alice").body["shapes"]] == ["mask"]


def test_a_project_dataset_goes_into_the_tasks_holding_its_frames(alice: Api):
    api = alice
    project = api.post("/api/projects", {"name": "P", "labels": [{"name": "car"}, {"name": "person"}]}, "alice")
    assert project.status == 201, project.body
    pid = project.body["id"]
    first, _j1, labels = _project_task(api, pid, ["a0.png", "a1.png"])
    second, _j2, _l = _project_task(api, pid, ["b0.png", "b1.png", "b2.png"])
    api.call("PUT", f"/api/tasks/{second}/annotations", {"shapes": [box(0, labels["car"])]}, as_user="alice")
    meta = [f for t in (first, second) for f in api.get(f"/api/tasks/{t}/data/meta", "alice").body["frames"]]
    frames = [FrameInfo(i, f["name"], f["width"], f["height"]) for i, f in enumerate(meta)]
    view = DatasetView(labels=label_specs(api.repos.labels.list_by_project(pid)), frames=frames,
                       annotations=LabeledData.from_dict({"shapes": [box(1, labels["car"]), box(4, labels["person"])]}))
    out = io.BytesIO()
    get_exporter("COCO 1.0")(view, out, None)
    finish = tus_import(api, f"/api/projects/{pid}/dataset", out.getvalue(), fmt="COCO 1.0", name="coco.zip")
    assert finish.status == 202, finish.body
    rq = api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body
    assert rq["operation"]["type"] == "import:dataset" and rq["operation"]["project_id"] == pid
    run_imports(api)
    assert api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body["status"] == "finished"
    assert [(s["frame"], s["label_id"]) for s in api.get(f"/api/tasks/{first}/annotations", "alice").body["shapes"]] \
        == [(1, labels["car"])]
    assert [(s["frame"], s["label_id"]) for s in api.get(f"/api/tasks/{second}/annotations", "alice").body["shapes"]] \
        == [(2, labels["person"])]


def _project_task(api: Api, project_id: int, names: list[str]) -> tuple[int, list[dict[str, Any]], dict[str, int]]:
    from tests.functional.test_api_task_data import png, run_workflow

    created = api.post("/api/tasks", {"name": "T", "project_id": project_id}, "alice")
    assert created.status == 201, created.body
    task = int(created.body["id"])
    ctype, body = multipart({"image_quality": "70"},
                            [(f"client_files[{i}]", n, png((i * 40, 0, 0))) for i, n in enumerate(names)])
    api.call("POST", f"/api/tasks/{task}/data", None, as_user="alice", raw_body=body, binary=True,
             headers={"Content-Type": ctype})
    run_workflow(api)
    labels = {lb["name"]: lb["id"] for lb in api.get("/api/labels", "alice", query={"project_id": str(project_id)})
              .body["results"]}
    return task, [], labels
