"""Dataset exports through the API handlers (in-memory adapters): the request, the workflow's steps
as the state machine runs them, the result's download by redirect, stored results reused, and the
refusals (unknown format, no data, other users, not finished, cloud storage)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from urllib.parse import parse_qsl

import pytest

from cvat_serverless.adapters.memory import InMemoryBlobStore
from cvat_serverless.services.exports import _MultipartWriter
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.test_api_annotations import box, task_with_data


def run_exports(api: Api) -> list[dict[str, Any]]:
    """Run every started export execution's steps as the state machine does (Fail on error)."""
    c = api.container
    done = []
    for workflow, name, payload in list(c.workflows.started):
        if payload.get("_ran") or workflow != "dataset-export":
            continue
        payload["_ran"] = True
        rq = payload["request_id"]
        try:
            prepared = c.exports.annotations(rq, name)
            if not prepared["done"]:
                for part in prepared["parts"]:
                    c.exports.images(rq, part)
                c.exports.finalize(rq)
            done.append(prepared)
        except Exception as exc:
            cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            done.append(c.exports.fail(rq, type(exc).__name__, cause))
    return done


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    api.user("bob")
    return api


def export(api: Api, path: str, user: str = "alice", **query: str) -> Any:
    return api.call("POST", path, None, as_user=user, query=query)


def download(api: Api, rq_id: str, user: str = "alice") -> tuple[bytes, dict[str, str]]:
    request = api.get(f"/api/requests/{rq_id}", user).body
    assert request["status"] == "finished", request
    url = request["result_url"]
    assert url.startswith("http") and "/download?rq_id=" in url
    path, _, query = url.split("/api/", 1)[1].partition("?")
    answer = api.get("/api/" + path, user, query=dict(parse_qsl(query)))
    assert answer.status == 302, answer.body
    blobs = api.container.blobs
    assert isinstance(blobs, InMemoryBlobStore)
    return blobs.http_get(answer.header("Location") or "")


def test_a_task_exports_with_images_and_downloads_by_redirect(alice: Api) -> None:
    api = alice
    task, jobs, labels = task_with_data(api, frames=5, segment_size=2)
    put = api.call("PUT", f"/api/tasks/{task}/annotations", {"shapes": [box(f, labels["person"]) for f in range(5)]},
                   as_user="alice")
    assert put.status == 200, put.body
    started = export(api, f"/api/tasks/{task}/dataset/export", format="COCO 1.0", save_images="True")
    assert started.status == 202, started.body
    rq_id = started.body["rq_id"]
    queued = api.get(f"/api/requests/{rq_id}", "alice").body
    assert queued["operation"]["type"] == "export:dataset" and queued["status"] == "queued"
    run_exports(api)
    data, headers = download(api, rq_id)
    assert headers["Content-Disposition"].startswith('attachment; filename="task_') and "coco_1.0.zip" in \
        headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        coco = json.loads(z.read("annotations/instances_default.json"))
        assert sorted(n for n in z.namelist() if n.startswith("images/")) == [
            f"images/default/img{i}.png" for i in range(5)]
    assert len(coco["annotations"]) == 5 and len(coco["images"]) == 5
    (event,) = api.container.events.of("export:dataset")
    assert event["id"] == task and event["request_id"] == rq_id and event["actor_id"] is not None
    # the pieces are gone once the archive is joined
    assert not [k for k, _ in api.container.blobs.list_keys("exports/tmp/")]

    # the same export again: answered from the stored result, with a new request
    again = export(api, f"/api/tasks/{task}/dataset/export", format="COCO 1.0", save_images="true")
    assert again.body["rq_id"] != rq_id
    assert run_exports(api) == [{"done": True, "parts": [], "concurrency": 1}]
    assert download(api, again.body["rq_id"])[0] == data

    # a job's annotations only
    job = export(api, f"/api/jobs/{jobs[1]['id']}/dataset/export", format="CVAT for images 1.1")
    assert job.status == 202
    run_exports(api)
    job_data, _ = download(api, job.body["rq_id"])
    with zipfile.ZipFile(io.BytesIO(job_data)) as z:
        assert z.namelist() == ["annotations.xml"]
        assert z.read("annotations.xml").count(b"<box ") == 2


def test_refusals(alice: Api) -> None:
    api = alice
    task, _jobs, _labels = task_with_data(api, frames=2)
    url = f"/api/tasks/{task}/dataset/export"
    assert export(api, url).status == 400  # no format
    unknown = export(api, url, format="Nope 1.0")
    assert unknown.status == 400 and "Nope 1.0" in json.dumps(unknown.body)
    assert export(api, url, format="COCO 1.0", location="cloud_storage").status == 400
    assert export(api, url, format="COCO 1.0", save_images="perhaps").status == 400
    assert export(api, url, "bob", format="COCO 1.0").status in (403, 404)  # not bob's task
    empty = api.post("/api/tasks", {"name": "empty", "labels": [{"name": "car"}]}, "alice").body["id"]
    no_data = export(api, f"/api/tasks/{empty}/dataset/export", format="COCO 1.0")
    assert no_data.status == 400 and "no data" in json.dumps(no_data.body)
    assert api.container.workflows.started == [w for w in api.container.workflows.started if w[0] == "task-data"]

    started = export(api, url, format="COCO 1.0").body["rq_id"]
    path = f"/api/tasks/{task}/dataset/download"
    assert api.get(path, "alice", query={"rq_id": started}).status == 400  # not finished yet
    run_exports(api)
    assert api.get(path, "alice", query={"rq_id": started}).status == 302
    assert api.get(path, "bob", query={"rq_id": started}).status == 404  # somebody else's request
    assert api.get(f"/api/tasks/{task + 1000}/dataset/download", "alice", query={"rq_id": started}).status == 404
    assert api.get(path, "alice").status == 400  # no rq_id


def test_a_failed_step_fails_the_request_with_its_message(alice: Api) -> None:
    api = alice
    task, _jobs, _labels = task_with_data(api, frames=2)
    rq_id = export(api, f"/api/tasks/{task}/dataset/export", format="COCO 1.0", save_images="true").body["rq_id"]
    blobs = api.container.blobs
    for key, _ in list(blobs.list_keys(f"tasks/{task}/")):
        if "/chunks/original/" in key:
            blobs.delete(key)  # the originals are gone: the images step cannot read them
    run_exports(api)
    request = api.get(f"/api/requests/{rq_id}", "alice").body
    assert request["status"] == "failed" and request["message"]
    assert not [k for k, _ in blobs.list_keys("exports/tmp/")]


def test_the_joining_writer_copies_big_ranges_and_gathers_small_ones() -> None:
    blobs = InMemoryBlobStore(min_part_size=10)
    pieces = {"a": b"A" * 25, "b": b"B" * 3, "c": b"C" * 40, "d": b"D" * 12}
    for key, data in pieces.items():
        blobs.put(key, data)
    copied: list[tuple[str, int, int]] = []
    original = blobs.copy_part

    def spy(key: str, upload_id: str, number: int, source: str, *, start: int, end: int) -> str:
        copied.append((source, start, end))
        return original(key, upload_id, number, source, start=start, end=end)

    blobs.copy_part = spy  # type: ignore[method-assign]
    writer = _MultipartWriter(blobs, "out.zip", 10, 16)
    for key, data in pieces.items():
        writer.add_object(key, len(data))
    writer.add_bytes(b"END")
    writer.complete()
    assert blobs.get("out.zip") == b"".join(pieces.values()) + b"END"
    assert copied and copied[0] == ("a", 0, 24)  # a whole object, copied by the store
