"""Direct uploads of the file of an import or a backup restore (``.../annotations/uploads``,
``/api/{tasks,projects}/backup/uploads``..., an extension beyond CVAT) through the core API handler:
the client PUTs the parts to the presigned URLs (the in-memory store plays S3), completes, and
finishes with CVAT's Upload-Finish and ``filename=<upload id>``. MaxRequestBytes, which refuses a
TUS upload too big for a Lambda request, does not apply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cvat_serverless.adapters.memory import InMemoryBlobStore
from cvat_serverless.domain.uploads import UploadScope
from cvat_serverless.services.direct_uploads import MIN_PART_SIZE
from tests.events import rest_event
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_api_annotations import box, task_with_data
from tests.functional.test_api_imports import UPLOAD_ID, export_file, objects, run_imports, tus_import
from tests.functional.test_api_restores import annotations, backup_of, run_restores


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    api.user("bob")
    api.container.uploads.max_request_bytes = 300  # as on AWS: a TUS upload of more is refused
    return api


def direct_upload(api: Api, base: str, body: bytes, *, name: str = "file.zip", user: str = "alice") -> str:
    """The client's side: start, PUT every part to S3, complete; the upload id."""
    started = api.post(base, {"filename": name, "size": len(body)}, user)
    assert started.status == 201, started.body
    assert UPLOAD_ID.match(started.body["upload_id"]) and started.body["expires_in"] > 0
    blobs: InMemoryBlobStore = api.container.blobs
    size = started.body["part_size"]
    etags = [{"part_number": p["part_number"],
              "etag": blobs.http_put(p["url"], body[(p["part_number"] - 1) * size:p["part_number"] * size])}
             for p in started.body["parts"]]
    done = api.post(base + "/complete", {"upload_id": started.body["upload_id"], "parts": etags}, user)
    assert done.status == 200, done.body
    assert done.body == {"upload_id": started.body["upload_id"], "filename": name, "size": len(body)}
    return str(started.body["upload_id"])


def finish(api: Api, url: str, upload_id: str, *, user: str = "alice", **query: str) -> Any:
    return api.call("POST", url + "/", None, as_user=user, query={**query, "filename": upload_id},
                    headers={"Upload-Finish": ""})


def staged(api: Api) -> list[str]:
    return [k for k, _ in api.container.blobs.list_keys("staging/uploads/")]


def test_a_backup_too_big_for_tus_restores_through_a_direct_upload(alice: Api) -> None:
    api = alice
    task, _jobs, labels = task_with_data(api, frames=3, segment_size=2)
    shapes = [box(f, labels["car"], 2.0 + f) for f in range(3)]
    assert api.call("PUT", f"/api/tasks/{task}/annotations", {"shapes": shapes}, as_user="alice").status == 200
    archive = backup_of(api, task)
    assert len(archive) > 300

    tus = api.call("POST", "/api/tasks/backup/", None, as_user="alice",
                   headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(archive))})
    assert tus.status == 413
    assert "/api/tasks/backup/uploads" in str(tus.body) and "cvat-serverless restore" in str(tus.body)

    upload_id = direct_upload(api, "/api/tasks/backup/uploads", archive, name="task_backup.zip")
    answer = finish(api, "/api/tasks/backup", upload_id)
    assert answer.status == 202, answer.body
    run_restores(api)
    request = api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body
    assert request["status"] == "finished", request
    new = request["result_id"]
    assert new != task and api.get(f"/api/tasks/{new}", "alice").body["size"] == 3
    assert annotations(api, new) == annotations(api, task)
    assert not staged(api)  # the upload is gone once restored


def test_an_import_through_a_direct_upload(alice: Api) -> None:
    api = alice
    task, _jobs, labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    exported = export_file(api, task, "COCO 1.0", data={"shapes": [box(1, labels["car"], x=9)]})
    assert api.call("POST", url + "/", None, as_user="alice", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(exported))}).status == 413
    upload_id = direct_upload(api, f"{url}/uploads", exported, name="coco.zip")
    answer = finish(api, url, upload_id, format="COCO 1.0")
    assert answer.status == 202, answer.body
    run_imports(api)
    assert api.get(f"/api/requests/{answer.body['rq_id']}", "alice").body["status"] == "finished"
    assert [(s["frame"], s["label_id"]) for s in api.get(url, "alice").body["shapes"]] == [(1, labels["car"])]
    assert not staged(api)


def test_a_multi_part_direct_upload_is_read_back_whole(alice: Api) -> None:
    api = alice
    body = bytes(range(256)) * (MIN_PART_SIZE // 256) + b"tail" * 100
    started = api.post("/api/projects/backup/uploads", {"filename": "p.zip", "size": len(body)}, "alice").body
    assert [(p["part_number"], p["size"]) for p in started["parts"]] == [(1, MIN_PART_SIZE), (2, 400)]
    assert api.post("/api/projects/backup/uploads/abort", {"upload_id": started["upload_id"]}, "alice").status == 204
    upload_id = direct_upload(api, "/api/projects/backup/uploads", body, name="p.zip")
    uploads = api.container.uploads
    alice_id = api.get("/api/users/self", "alice").body["id"]
    upload = uploads.finished(UploadScope("backup", "project"), alice_id, upload_id)
    assert upload.direct and upload.complete and upload.length == len(body)
    assert uploads.open(upload).read() == body
    assert uploads.assemble(upload) == upload.keys.assembled
    uploads.discard(upload)
    assert not staged(api)


def test_a_direct_upload_exists_only_for_its_owner_and_scope(alice: Api) -> None:
    api = alice
    task, jobs, _labels = task_with_data(api)
    other, _, _ = task_with_data(api)
    exported = export_file(api, task)
    base = f"/api/tasks/{task}/annotations/uploads"
    # who may not import may not start one (bob has no access to alice's task)
    assert api.post(base, {"filename": "a.xml", "size": 10}, "bob").status in (403, 404)
    assert api.post("/api/tasks/backup/uploads", {"filename": "b.zip", "size": 0}, "alice").status == 400

    upload_id = direct_upload(api, base, exported, name="a.xml")
    # another user, another task, a job of the task: no such upload
    assert finish(api, f"/api/tasks/{other}/annotations", upload_id, format="CVAT 1.1").status == 400
    assert finish(api, f"/api/jobs/{jobs[0]['id']}/annotations", upload_id, format="CVAT 1.1").status == 400
    assert finish(api, "/api/tasks/backup", upload_id).status == 400
    assert api.post(f"{base}/complete", {"upload_id": upload_id, "parts": [{"part_number": 1, "etag": "x"}]},
                    "bob").status in (403, 404)
    assert api.post(f"{base}/abort", {"upload_id": upload_id}, "bob").status in (403, 404)
    # a TUS PATCH does not go into a direct upload
    patch = api.call("PATCH", f"/api/tasks/{task}/annotations/{upload_id}", None, as_user="alice", raw_body=b"x",
                     binary=True, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                           "Content-Type": "application/offset+octet-stream"})
    assert patch.status == 400
    answer = finish(api, f"/api/tasks/{task}/annotations", upload_id, format="CVAT 1.1")
    assert answer.status == 202, answer.body


def test_an_unfinished_or_refused_direct_upload_is_not_imported(alice: Api) -> None:
    api = alice
    task, _jobs, _labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    started = api.post(f"{url}/uploads", {"filename": "a.xml", "size": 10}, "alice").body
    upload_id = started["upload_id"]
    assert finish(api, url, upload_id, format="CVAT 1.1").status == 400  # not complete
    bad = api.post(f"{url}/uploads/complete", {"upload_id": upload_id, "parts": [{"part_number": 1, "etag": "x"}]},
                   "alice")
    assert bad.status == 400 and "a.xml" in str(bad.body)
    assert not staged(api)  # aborted
    again = api.post(f"{url}/uploads", {"filename": "a.xml", "size": 10}, "alice").body["upload_id"]
    assert staged(api)
    assert api.post(f"{url}/uploads/abort", {"upload_id": again}, "alice").status == 204
    assert not staged(api) and not api.container.blobs.multipart
    assert finish(api, url, again, format="CVAT 1.1").status == 400


def test_a_tus_upload_within_the_request_size_still_works(alice: Api) -> None:
    api = alice
    api.container.uploads.max_request_bytes = 0
    task, _jobs, labels = task_with_data(api)
    url = f"/api/tasks/{task}/annotations"
    api.call("PUT", url, {"shapes": [box(0, labels["car"])]}, as_user="alice")
    before = api.get(url, "alice").body
    exported = export_file(api, task)
    api.call("DELETE", url, as_user="alice")
    answer = tus_import(api, url, exported, fmt="CVAT 1.1", chunk=700)
    assert answer.status == 202, answer.body
    run_imports(api)
    assert objects(api.get(url, "alice").body) == objects(before)


def test_the_annotations_function_serves_the_uploads_of_tasks_and_jobs(alice: Api) -> None:
    """On AWS ``/api/{tasks,jobs}/{id}/annotations/{proxy+}`` reach the annotations function."""
    api = alice
    task, jobs, _labels = task_with_data(api)
    handler = load_handler("annotations_api")
    auth = {"Authorization": f"Token {api.keys['alice']}", "Content-Type": "application/json"}
    for base in (f"/api/tasks/{task}/annotations/uploads", f"/api/jobs/{jobs[0]['id']}/annotations/uploads"):
        started = handler(rest_event("POST", base, headers=auth, body={"filename": "a.xml", "size": 5}),
                          Context("annotations_api"))
        assert started["statusCode"] == 201, started
        upload_id = json.loads(started["body"])["upload_id"]
        aborted = handler(rest_event("POST", base + "/abort", headers=auth, body={"upload_id": upload_id}),
                          Context("annotations_api"))
        assert aborted["statusCode"] == 204, aborted
    assert not staged(api)
