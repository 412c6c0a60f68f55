"""Presigned S3 multipart uploads of a task's files (``/api/tasks/{id}/data/uploads``, an
extension beyond CVAT) through the core API handler: the client PUTs the parts to the URLs (the
in-memory store plays S3), completes, and finishes with CVAT's Upload-Finish."""

from __future__ import annotations

import pytest

from cvat_serverless.adapters.memory import InMemoryBlobStore
from cvat_serverless.services.direct_uploads import MAX_PARTS, MIB, MIN_PART_SIZE, part_size_for
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.test_api_task_data import new_task, png, run_workflow


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    api.user("bob")
    return api


def upload(api: Api, task: int, files: dict[str, bytes], user: str = "alice") -> list[str]:
    """The client's side: start, PUT every part, complete; the staged names."""
    started = api.post(f"/api/tasks/{task}/data/uploads",
                       {"files": [{"name": n, "size": len(b), "content_type": "image/png"} for n, b in files.items()]},
                       user)
    assert started.status == 201, started.body
    blobs: InMemoryBlobStore = api.container.blobs
    completed = []
    for planned, body in zip(started.body["files"], files.values(), strict=True):
        size = planned["part_size"]
        etags = [{"part_number": p["part_number"],
                  "etag": blobs.http_put(p["url"], body[(p["part_number"] - 1) * size:p["part_number"] * size])}
                 for p in planned["parts"]]
        completed.append({"name": planned["name"], "upload_id": planned["upload_id"], "parts": etags})
    answer = api.post(f"/api/tasks/{task}/data/uploads/complete", {"files": completed}, user)
    assert answer.status == 200, answer.body
    return list(answer.body["files"])


def test_presigned_uploads_then_upload_finish_process_the_task(alice: Api):
    api = alice
    task = new_task(api, segment_size=2)
    images = {f"/home/me/img{i}.png": png((i * 50, 0, 0)) for i in range(3)}
    assert upload(api, task, images) == ["img0.png", "img1.png", "img2.png"]
    finish = api.call("POST", f"/api/tasks/{task}/data/", {"image_quality": 80}, as_user="alice",
                      headers={"Upload-Finish": ""})
    assert finish.status == 202, finish.body
    run_workflow(api)
    assert api.get(f"/api/requests/{finish.body['rq_id']}", "alice").body["status"] == "finished"
    read = api.get(f"/api/tasks/{task}", "alice").body
    assert (read["size"], read["jobs"]["count"]) == (3, 2)
    assert not list(api.container.blobs.list_keys(f"staging/tasks/{task}/"))  # the staging area is cleared
    # data once per task, as CVAT
    again = api.post(f"/api/tasks/{task}/data/uploads", {"files": [{"name": "x.png", "size": 1}]}, "alice")
    assert again.status == 400 and "Adding more data is not supported" in str(again.body)


def test_a_big_file_is_split_into_parts_and_joined_byte_for_byte(alice: Api):
    api = alice
    task = new_task(api)
    body = bytes(range(256)) * (MIN_PART_SIZE // 256) + b"tail" * 1000
    started = api.post(f"/api/tasks/{task}/data/uploads", {"files": [{"name": "big.zip", "size": len(body)}]},
                       "alice").body
    [planned] = started["files"]
    assert planned["part_size"] == MIN_PART_SIZE and started["expires_in"] > 3600
    assert [(p["part_number"], p["size"]) for p in planned["parts"]] == [(1, MIN_PART_SIZE), (2, 4000)]
    assert upload(api, task, {"big.zip": body}) == ["big.zip"]
    assert api.container.blobs.get(f"staging/tasks/{task}/files/big.zip") == body


def test_part_sizes_keep_every_file_within_the_part_limit():
    assert part_size_for(1) == MIN_PART_SIZE
    assert part_size_for(100 * 1024 * MIB) == 100 * MIB
    for size in (1, MIN_PART_SIZE * MAX_PARTS + 1, 5 * 1024 * 1024 * MIB):
        part = part_size_for(size)
        assert part % MIB == 0 and -(-size // part) <= MAX_PARTS and part <= 5 * 1024 * MIB


def test_a_bad_etag_aborts_the_upload_and_names_the_file(alice: Api):
    api = alice
    task = new_task(api)
    [planned] = api.post(f"/api/tasks/{task}/data/uploads", {"files": [{"name": "a.png", "size": 3}]},
                         "alice").body["files"]
    api.container.blobs.http_put(planned["parts"][0]["url"], b"abc")
    answer = api.post(f"/api/tasks/{task}/data/uploads/complete", {"files": [{
        "name": "a.png", "upload_id": planned["upload_id"], "parts": [{"part_number": 1, "etag": "0" * 32}]}]},
        "alice")
    assert answer.status == 400 and "a.png" in str(answer.body) and "aborted" in str(answer.body)
    assert planned["upload_id"] not in api.container.blobs.multipart


def test_abort_drops_the_upload(alice: Api):
    api = alice
    task = new_task(api)
    [planned] = api.post(f"/api/tasks/{task}/data/uploads", {"files": [{"name": "a.png", "size": 3}]},
                         "alice").body["files"]
    answer = api.post(f"/api/tasks/{task}/data/uploads/abort",
                      {"files": [{"name": "a.png", "upload_id": planned["upload_id"]}]}, "alice")
    assert answer.status == 204
    assert planned["upload_id"] not in api.container.blobs.multipart


def test_who_may_upload_and_what_is_refused(alice: Api):
    api = alice
    task = new_task(api)
    url = f"/api/tasks/{task}/data/uploads"
    one = {"files": [{"name": "a.png", "size": 10}]}
    assert api.post(url, one).status == 401
    assert api.post(url, one, "bob").status == 403
    assert api.post("/api/tasks/999/data/uploads", one, "alice").status == 404
    assert api.post(url, {"files": []}, "alice").status == 400
    assert api.post(url, {"files": [{"name": "a.png", "size": 0}]}, "alice").status == 400
    assert api.post(url, {"files": [{"name": "..", "size": 5}]}, "alice").status == 400
    too_many = api.post(url, {"files": [{"name": f"{i}.mp4", "size": 300 * MIN_PART_SIZE} for i in range(7)]},
                        "alice")
    assert too_many.status == 400 and "at most 2000" in str(too_many.body)
    assert upload(api, task, {"a.png": png((1, 2, 3))}) == ["a.png"]
    twice = api.post(url, one, "alice")
    assert twice.status == 409 and "a.png" in str(twice.body)
