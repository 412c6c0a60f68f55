"""Annotations of jobs and tasks through the API handlers (in-memory adapters): CVAT's GET, PUT,
PATCH ?action=create|update|delete and DELETE, validation and permission answers, concurrent
saves, and a job's save history with restore."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import threading
from typing import Any

import pytest

from tests.events import rest_event
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_api_task_data import multipart, png, run_workflow


def task_with_data(api: Api, frames: int = 5,
                   segment_size: int = 2) -> tuple[int, list[dict[str, Any]], dict[str, int]]:
    """A task with ``frames`` images in jobs of ``segment_size``; its jobs (by start frame) and
    label ids by name."""
    labels = [{"name": "car", "attributes": [{"name": "color", "mutable": False, "input_type": "select",
                                              "default_value": "red", "values": ["red", "blue"]}]},
              {"name": "person"}]
    created = api.post("/api/tasks", {"name": "T", "labels": labels, "segment_size": segment_size}, "alice")
    assert created.status == 201, created.body
    task = int(created.body["id"])
    ctype, body = multipart({"image_quality": "70"},
                            [(f"client_files[{i}]", f"img{i}.png", png((i * 40, 0, 0))) for i in range(frames)])
    answer = api.call("POST", f"/api/tasks/{task}/data", None, as_user="alice", raw_body=body, binary=True,
                      headers={"Content-Type": ctype})
    assert answer.status == 202, answer.body
    run_workflow(api)
    jobs = api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"]
    task_labels = api.get("/api/labels", "alice", query={"task_id": str(task)}).body["results"]
    label_ids = {lb["name"]: lb["id"] for lb in task_labels}
    return task, sorted(jobs, key=lambda j: j["start_frame"]), label_ids


def box(frame: int, label_id: int, x: float = 1.0) -> dict[str, Any]:
    return {"type": "rectangle", "frame": frame, "label_id": label_id, "points": [x, 2.0, x + 10, 12.0]}


@pytest.fixture
def alice(api: Api) -> Api:
    api.user("alice")
    return api


def test_job_annotations_crud_with_server_ids_and_versions(alice: Api):
    api = alice
    _task, jobs, labels = task_with_data(api)
    job = jobs[0]["id"]
    url = f"/api/jobs/{job}/annotations"
    empty = api.get(url + "/", "alice")  # the SDK's trailing slash
    assert empty.status == 200 and empty.body == {"version": 0, "tags": [], "shapes": [], "tracks": [],
                                                  "intervals": []}
    put = api.call("PUT", url, {"shapes": [box(0, labels["car"]), box(1, labels["person"])],
                                "tags": [{"frame": 1, "label_id": labels["person"]}],
                                "tracks": [{"frame": 1, "label_id": labels["car"], "shapes": [
                                    {"type": "rectangle", "frame": 1, "points": [0, 0, 4, 4], "keyframe": True},
                                    {"type": "rectangle", "frame": 0, "points": [1, 1, 5, 5]}]}]}, as_user="alice")
    assert put.status == 200, put.body
    assert put.body["version"] == 1
    ids = [s["id"] for s in put.body["shapes"]] + [put.body["tags"][0]["id"], put.body["tracks"][0]["id"]]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 4
    track = put.body["tracks"][0]
    assert track["frame"] == 0 and [s["frame"] for s in track["shapes"]] == [0, 1]  # starts at its first keyframe

    created = api.patch(url, {"shapes": [box(0, labels["car"], x=20)]}, "alice", query={"action": "create"})
    assert created.status == 200 and created.body["version"] == 2
    new_id = created.body["shapes"][0]["id"]
    assert new_id not in ids

    moved = {**put.body["shapes"][0], "points": [5.0, 5.0, 9.0, 9.0]}
    updated = api.patch(url, {"shapes": [moved]}, "alice", query={"action": "update"})
    assert updated.status == 200, updated.body
    deleted = api.patch(url, {"tags": put.body["tags"]}, "alice", query={"action": "delete"})
    assert deleted.status == 200

    read = api.get(url, "alice").body
    assert read["version"] == 4
    assert {s["id"]: s["points"] for s in read["shapes"]} == {
        ids[0]: [5.0, 5.0, 9.0, 9.0], ids[1]: [11.0 - 10, 2.0, 11.0, 12.0], new_id: [20.0, 2.0, 30.0, 12.0]}
    assert read["tags"] == [] and len(read["tracks"]) == 1

    assert api.delete(url, "alice").status == 204
    assert api.get(url, "alice").body["shapes"] == []


def test_task_annotations_are_split_into_jobs_by_frame(alice: Api):
    api = alice
    task, jobs, labels = task_with_data(api, frames=5, segment_size=2)
    url = f"/api/tasks/{task}/annotations"
    put = api.call("PUT", url, {"version": 0, "shapes": [box(f, labels["car"]) for f in range(5)],
                                "tags": [{"frame": 4, "label_id": labels["person"], "source": "manual", "group": 0,
                                          "attributes": []}]}, as_user="alice")
    assert put.status == 200, put.body
    assert len(put.body["shapes"]) == 5 and len(put.body["tags"]) == 1  # FiftyOne re-PUTs until these match
    per_job = [api.get(f"/api/jobs/{j['id']}/annotations", "alice").body for j in jobs]
    assert [sorted(s["frame"] for s in d["shapes"]) for d in per_job] == [[0, 1], [2, 3], [4]]
    assert [len(d["tags"]) for d in per_job] == [0, 0, 1]

    created = api.patch(url, {"shapes": [box(3, labels["person"])]}, "alice", query={"action": "create"})
    assert created.status == 200 and created.body["shapes"][0]["id"]
    whole = api.get(url, "alice").body
    assert len(whole["shapes"]) == 6
    # remove_annotations(ids=...): GET, then PATCH action=delete with the full objects
    gone = [s for s in whole["shapes"] if s["frame"] in (0, 3)]
    assert api.patch(url, {"shapes": gone, "tags": [], "tracks": []}, "alice",
                     query={"action": "delete"}).status == 200
    assert sorted(s["frame"] for s in api.get(url, "alice").body["shapes"]) == [1, 2, 4]
    assert api.delete(url + "/", "alice").status == 204
    assert api.get(url, "alice").body["shapes"] == []


def test_invalid_annotations_are_400_in_cvats_format(alice: Api):
    api = alice
    task, jobs, labels = task_with_data(api)
    job_url = f"/api/jobs/{jobs[0]['id']}/annotations"
    unknown_label = api.call("PUT", job_url, {"shapes": [box(0, 999_999)]}, as_user="alice")
    assert unknown_label.status == 400 and isinstance(unknown_label.body, dict), unknown_label.body
    bad_points = api.call("PUT", job_url, {"shapes": [{**box(0, labels["car"]), "points": [1.0, 2.0]}]},
                          as_user="alice")
    assert bad_points.status == 400
    other_job_frame = api.call("PUT", job_url, {"shapes": [box(4, labels["car"])]}, as_user="alice")
    assert other_job_frame.status == 400
    past_the_end = api.call("PUT", f"/api/tasks/{task}/annotations", {"shapes": [box(5, labels["car"])]},
                            as_user="alice")
    assert past_the_end.status == 400
    bad_action = api.patch(job_url, {"shapes": []}, "alice", query={"action": "merge"})
    assert bad_action.status == 400 and "action" in bad_action.body
    not_a_list = api.call("PUT", job_url, {"shapes": {"type": "rectangle"}}, as_user="alice")
    assert not_a_list.status == 400
    missing = api.patch(job_url, {"shapes": [box(0, labels["car"])]}, "alice", query={"action": "update"})
    assert missing.status == 400  # an update names its objects by id
    gone = api.patch(job_url, {"shapes": [{**box(0, labels["car"]), "id": 123456}]}, "alice",
                     query={"action": "update"})
    assert gone.status == 409
    assert api.get(job_url, "alice").body["version"] == 0  # nothing was stored


def test_permissions_and_missing_objects(alice: Api):
    api = alice
    task, jobs, labels = task_with_data(api)
    api.user("bob")
    job_url = f"/api/jobs/{jobs[0]['id']}/annotations"
    assert api.get(job_url).status == 401
    assert api.get(job_url, "bob").status in (403, 404)
    assert api.call("PUT", job_url, {"shapes": [box(0, labels["car"])]}, as_user="bob").status in (403, 404)
    assert api.get(f"/api/tasks/{task}/annotations", "bob").status in (403, 404)
    assert api.delete(f"/api/tasks/{task}/annotations", "bob").status in (403, 404)
    assert api.get("/api/jobs/987654/annotations", "alice").status == 404
    assert api.get("/api/tasks/987654/annotations", "alice").status == 404
    # the job's assignee may annotate it
    bob_id = api.get("/api/users/self", "bob").body["id"]
    assert api.patch(f"/api/jobs/{jobs[0]['id']}", {"assignee": bob_id}, "alice").status == 200
    assert api.call("PUT", job_url, {"shapes": [box(0, labels["car"])]}, as_user="bob").status == 200


def test_concurrent_creates_on_one_job_lose_nothing(alice: Api):
    api = alice
    _task, jobs, labels = task_with_data(api)
    url = f"/api/jobs/{jobs[0]['id']}/annotations"
    service = api.container.annotations
    store = service.store
    real_write = store.write
    barrier = threading.Barrier(2)

    def racing_write(*args: Any, **kwargs: Any) -> Any:
        # both threads read version 0 before either writes: one of them must retry
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return real_write(*args, **kwargs)

    store.write = racing_write  # type: ignore[method-assign]
    answers: list[int] = []

    def save(x: float) -> None:
        answers.append(api.patch(url, {"shapes": [box(0, labels["car"], x=x)]}, "alice",
                                 query={"action": "create"}).status)

    threads = [threading.Thread(target=save, args=(x,)) for x in (1.0, 50.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    store.write = real_write  # type: ignore[method-assign]
    assert answers == [200, 200]
    read = api.get(url, "alice").body
    assert sorted(s["points"][0] for s in read["shapes"]) == [1.0, 50.0]
    assert read["version"] == 2


def test_history_lists_saves_and_restore_brings_a_version_back(alice: Api):
    api = alice
    _task, jobs, labels = task_with_data(api)
    url = f"/api/jobs/{jobs[0]['id']}/annotations"
    first = api.call("PUT", url, {"shapes": [box(0, labels["car"])]}, as_user="alice").body
    api.patch(url, {"shapes": [box(1, labels["car"]), box(1, labels["person"])]}, "alice", query={"action": "create"})
    history = api.get(url + "/history", "alice")
    assert history.status == 200, history.body
    assert [(h["version"], h["shapes"]) for h in history.body["results"]] == [(2, 3), (1, 1)]
    assert history.body["results"][0]["updated_by"]["username"] == "alice"
    restored = api.post(url + "/history/1/restore", None, "alice")
    assert restored.status == 200, restored.body
    assert restored.body["version"] == 3
    read = api.get(url, "alice").body
    assert [s["id"] for s in read["shapes"]] == [first["shapes"][0]["id"]]
    assert api.post(url + "/history/9/restore", None, "alice").status == 404


def test_the_annotations_function_serves_its_routes_gzipped_when_accepted(alice: Api):
    api = alice
    _task, jobs, labels = task_with_data(api)
    url = f"/api/jobs/{jobs[0]['id']}/annotations"
    shapes = [box(i % 2, labels["car"], x=float(i)) for i in range(300)]
    assert api.call("PUT", url, {"shapes": shapes}, as_user="alice").status == 200
    handler = load_handler("annotations_api")
    auth = {"Authorization": f"Token {api.keys['alice']}"}
    plain = handler(rest_event("GET", url, headers=auth), Context("annotations_api"))
    assert plain["statusCode"] == 200, plain
    assert len(json.loads(plain["body"])["shapes"]) == 300
    zipped = handler(rest_event("GET", url, headers={**auth, "Accept-Encoding": "gzip, deflate"}),
                     Context("annotations_api"))
    assert zipped["multiValueHeaders"]["Content-Encoding"] == ["gzip"] and zipped["isBase64Encoded"]
    raw = gzip.decompress(base64.b64decode(zipped["body"]))
    assert raw == plain["body"].encode() and len(zipped["body"]) < len(raw) / 3


def test_one_process_serves_the_core_and_annotations_apps_in_any_order(alice: Api):
    """The embedded runtime runs every function in one interpreter: the core API includes the
    annotations router too (for its OpenAPI document), and neither app may take it from the other."""
    api = alice
    _task, jobs, _labels = task_with_data(api)
    url = f"/api/jobs/{jobs[0]['id']}/annotations"
    handler = load_handler("annotations_api")
    auth = {"Authorization": f"Token {api.keys['alice']}"}
    for _ in range(2):
        assert handler(rest_event("GET", url, headers=auth), Context("annotations_api"))["statusCode"] == 200
        assert api.get(url, "alice").status == 200
        assert api.get(f"/api/jobs/{jobs[0]['id']}", "alice").status == 200


def test_a_mask_larger_than_its_frame_is_refused_and_nothing_stored(alice: Api):
    """The 100000x100000 mask on a small frame (a hostile-input finding): bounded by the frame
    size before anything is stored, with the check the importers share."""
    api = alice
    _task, jobs, labels = task_with_data(api, frames=2)
    url = f"/api/jobs/{jobs[0]['id']}/annotations"
    assert api.call("PUT", url, {"shapes": [box(0, labels["car"])]}, as_user="alice").status == 200
    huge = {"type": "mask", "frame": 0, "label_id": labels["car"], "points": [100000 * 100000, 0, 0, 99999, 99999]}
    refused = api.patch(url, {"shapes": [huge]}, "alice", query={"action": "create"})
    assert refused.status == 400, refused.body
    assert "shapes[0]" in json.dumps(refused.body)
    kept = api.get(url, "alice").body
    assert kept["version"] == 1 and [s["type"] for s in kept["shapes"]] == ["rectangle"]
    fits = {"type": "mask", "frame": 0, "label_id": labels["car"], "points": [4, 0, 1, 1, 2, 2]}  # 2x2 at (1,1)
    assert api.patch(url, {"shapes": [fits]}, "alice", query={"action": "create"}).status == 200
