"""/api/lambda/* through the functions API function's handler, over in-memory adapters and a fake
InferenceClient: the registry as cvat-sdk 2.80 reads it, auto-annotation requests (start, CVAT's
409, list, read, cancel), interactive calls of detectors, interactors and trackers, and how a model
endpoint's failures reach the client (503 with Retry-After, 504, 400)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cvat_serverless import bootstrap
from cvat_serverless.domain.errors import DependencyUnavailableError, UpstreamTimeoutError, ValidationError
from tests.functional._api_world import Api, sdk_parse
from tests.functional.conftest import load_handler
from tests.functional.test_api_task_media import attach, image
from tests.memory_world import TEST_SETTINGS, memory_container

COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
DETECTOR = {"id": "yolox-nano", "name": "YOLOX-nano (COCO)", "kind": "detector", "mode": "local",
            "endpoint": "yolox-nano", "framework": "onnx",
            "labels_v2": [{"name": "person", "type": "rectangle", "attributes": []},
                          {"name": "car", "type": "rectangle", "attributes": []},
                          {"name": "dog", "type": "rectangle", "attributes": []}]}


class FakeInference:
    """ports.InferenceClient: answers ``answer`` (or raises ``error``) and records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer: Any = []
        self.error: Exception | None = None

    def invoke(self, endpoint: str, body: bytes, *, content_type: str = "application/json",
               timeout_s: float = 60.0) -> bytes:
        self.calls.append((endpoint, json.loads(body)))
        if self.error is not None:
            raise self.error
        return json.dumps(self.answer).encode()

    def invoke_async(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("interactive calls are synchronous")


class World:
    def __init__(self, core: Api, fns: Api, inference: FakeInference) -> None:
        self.core, self.api, self.inference = core, fns, inference
        self.container = core.container

    @property
    def workflows(self) -> Any:
        return self.container.workflows


@pytest.fixture(name="world")
def world_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The same container behind the core API (tasks, their data) and the functions API."""
    for key, value in TEST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    bootstrap.reset()
    container = memory_container()
    inference = FakeInference()
    container.__dict__["inference"] = inference
    monkeypatch.setattr(bootstrap, "container", lambda: container)
    core = Api(container, load_handler("core_api"))
    fns = Api(container, load_handler("functions_api"), keys=core.keys)
    container.lambda_functions.register(DETECTOR)
    yield World(core, fns, inference)
    bootstrap.reset()


def new_task(w: World, user: str = "alice", frames: int = 5) -> tuple[int, list[bytes]]:
    labels = [{"name": "person", "type": "rectangle", "attributes": [
        {"name": "age", "input_type": "number", "mutable": False, "values": ["0", "100", "1"]}]},
              {"name": "vehicle", "type": "any"}]
    answer = w.core.post("/api/tasks", {"name": "T", "labels": labels, "segment_size": 3}, user)
    assert answer.status == 201, answer.body
    task = int(answer.body["id"])
    pictures = [image(c) for c in COLORS[:frames]]
    attach(w.core, task, [(f"{i}.png", p) for i, p in enumerate(pictures)], user)
    return task, pictures


def jobs_of(w: World, task: int) -> list[dict[str, Any]]:
    return sorted(w.core.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"],
                  key=lambda j: j["start_frame"])


@pytest.fixture
def alice_task(world: World) -> tuple[World, int, list[bytes]]:
    world.core.user("alice")
    world.core.user("bob")
    task, pictures = new_task(world)
    return world, task, pictures


# --- the registry --------------------------------------------------------------------------------


def test_functions_are_listed_in_cvats_shape_for_any_signed_in_user(world):
    world.core.user("bob")
    listed = world.api.get("/api/lambda/functions", "bob")
    assert listed.status == 200
    assert listed.body == [{"id": "yolox-nano", "kind": "detector", "description": "", "name": "YOLOX-nano (COCO)",
                            "version": 1, "labels_v2": DETECTOR["labels_v2"]}]
    one = world.api.get("/api/lambda/functions/yolox-nano/", "bob")  # a trailing slash is accepted too
    assert one.status == 200 and one.body == listed.body[0]
    missing = world.api.get("/api/lambda/functions/nope", "bob")
    assert missing.status == 404 and "nope" in missing.body["detail"]
    assert world.api.get("/api/lambda/functions").status == 401


# --- requests -------------------------------------------------------------------------------------


def test_a_request_starts_the_workflow_with_the_resolved_mapping_and_reads_as_a_function_call(alice_task):
    w, task, _ = alice_task
    created = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task, "cleanup": True,
                                                  "mapping": {"car": {"name": "vehicle"},
                                                              "person": {"name": "person"}}}, "alice")
    assert created.status == 200, created.body
    sdk_parse("FunctionCall", created.body)
    rq_id = created.body["id"]
    assert rq_id.startswith(f"autoannotate:task-{task}-")
    assert created.body["function"] == {"id": "yolox-nano", "task": task, "threshold": 0.5}
    assert (created.body["status"], created.body["progress"], created.body["exc_info"]) == ("queued", 0, None)
    ((_, name, payload),) = [s for s in w.workflows.started if s[0] == "auto-annotate"]
    labels = {label.name: label for label in w.container.repos.labels.list_by_task(task)}
    assert payload == {
        "request_id": rq_id, "function_id": "yolox-nano", "task_id": task, "job_id": None, "threshold": 0.5,
        "cleanup": True, "conv_mask_to_poly": False, "roi": None,
        "mapping": {"car": {"label_id": labels["vehicle"].id, "type": "rectangle", "attributes": {},
                            "sublabels": {}},
                    "person": {"label_id": labels["person"].id, "type": "rectangle", "attributes": {},
                               "sublabels": {}}}}
    assert len(name) <= 80
    # CVAT's one running request per task
    again = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice")
    assert again.status == 409
    assert again.body["detail"] == f"Only one running request is allowed for the same task #{task}"
    # progress as an int, status as CVAT's
    w.container.requests.started(rq_id)
    w.container.requests.advance(rq_id, 0.426)
    read = w.api.get(f"/api/lambda/requests/{rq_id}", "alice")
    assert read.status == 200 and (read.body["status"], read.body["progress"]) == ("started", 42)
    sdk_parse("FunctionCall", read.body)
    listed = w.api.get("/api/lambda/requests", "alice")
    assert [r["id"] for r in listed.body] == [rq_id]
    for row in listed.body:
        sdk_parse("FunctionCall", row)
    # other users neither see it nor cancel it
    assert w.api.get("/api/lambda/requests", "bob").body == []
    hidden = w.api.get(f"/api/lambda/requests/{rq_id}", "bob")
    assert hidden.status == 404 and hidden.body["detail"] == f"{rq_id} lambda job is not found"
    assert w.api.delete(f"/api/lambda/requests/{rq_id}", "bob").status == 404
    w.container.requests.finish(rq_id)
    done = w.api.get(f"/api/lambda/requests/{rq_id}", "alice").body
    assert (done["status"], done["progress"]) == ("finished", 100) and done["ended"]


def test_a_job_request_and_a_threshold(alice_task):
    w, task, _ = alice_task
    job = jobs_of(w, task)[1]["id"]
    created = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task, "job": job,
                                                  "threshold": 0.3, "convMaskToPoly": True, "roi": [0, 0, 10, 10]},
                         "alice")
    assert created.status == 200, created.body
    assert created.body["function"] == {"id": "yolox-nano", "task": task, "threshold": 0.3, "job": job}
    payload = w.workflows.payloads("auto-annotate")[0]
    assert (payload["job_id"], payload["threshold"], payload["conv_mask_to_poly"], payload["roi"]) == (
        job, 0.3, True, [0, 0, 10, 10])
    assert list(payload["mapping"]) == ["person"]  # the default: same names only


def test_cancel_fails_the_request_and_stops_its_execution(alice_task):
    w, task, _ = alice_task
    rq_id = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice").body["id"]
    canceled = w.api.delete(f"/api/lambda/requests/{rq_id}", "alice")
    assert canceled.status == 204
    read = w.api.get(f"/api/lambda/requests/{rq_id}", "alice").body
    assert (read["status"], read["exc_info"]) == ("failed", "Canceled by the user.")
    ((_, name, _),) = [s for s in w.workflows.started if s[0] == "auto-annotate"]
    assert w.workflows.describe("auto-annotate", name).status == "ABORTED"
    assert w.api.get("/api/lambda/requests", "alice").body == []  # CVAT lists no failed request
    assert w.api.delete(f"/api/lambda/requests/{rq_id}", "alice").status == 204  # ended: stays as it is
    # the task is free again
    assert w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice").status == 200


def test_a_request_whose_execution_died_fails_and_frees_the_task(alice_task):
    w, task, _ = alice_task
    rq_id = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice").body["id"]
    ((_, name, _),) = [s for s in w.workflows.started if s[0] == "auto-annotate"]
    w.workflows.end("auto-annotate", name, "FAILED", error="States.TaskFailed")
    assert w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice").status == 200
    read = w.api.get(f"/api/lambda/requests/{rq_id}", "alice").body
    assert read["status"] == "failed" and "States.TaskFailed" in read["exc_info"]


def test_a_request_that_cannot_start_is_failed_not_left_queued(alice_task, monkeypatch):
    w, task, _ = alice_task

    def refuse(*_: Any, **__: Any) -> str:
        raise DependencyUnavailableError("Step Functions is throttling.", retry_after=3)

    monkeypatch.setattr(w.workflows, "start", refuse)
    answer = w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice")
    assert answer.status == 503 and answer.header("Retry-After") == "3"
    (stored,) = [r for r in w.container.repos.requests.list_by_task(task) if r.action.value == "autoannotate"]
    assert stored.status.value == "failed" and "could not be started" in stored.message


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"function": "yolox-nano", "task": "{task}", "threshold": 2}, 400, "threshold"),
    ({"function": "yolox-nano"}, 400, "task"),
    ({"function": "yolox-nano", "task": "{task}", "roi": [1, 2, 3]}, 400, "roi"),
    ({"function": "yolox-nano", "task": "{task}", "mapping": {"cat": {"name": "person"}}}, 400,
     'The function has no label "cat"'),
    ({"function": "yolox-nano", "task": "{task}", "mapping": {"person": {"name": "human"}}}, 400,
     'The task has no label "human"'),
    ({"function": "yolox-nano", "task": "{task}", "mapping": {"person": {"name": "person",
                                                                         "attributes": {"x": "age"}}}}, 400,
     'has no attribute "x"'),
    ({"function": "nope", "task": "{task}"}, 404, "nope"),
    ({"function": "yolox-nano", "task": 99999}, 404, ""),
])
def test_bad_requests_are_refused_with_a_message(alice_task, body, status, text):
    w, task, _ = alice_task
    body = {k: (task if v == "{task}" else v) for k, v in body.items()}
    answer = w.api.post("/api/lambda/requests", body, "alice")
    assert answer.status == status, answer.body
    assert text in json.dumps(answer.body, ensure_ascii=False).replace('\\"', '"')
    assert w.workflows.payloads("auto-annotate") == []


def test_only_who_may_change_the_annotations_starts_a_request(alice_task):
    w, task, _ = alice_task
    assert w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "bob").status == 403
    job = jobs_of(w, task)[0]["id"]
    assert w.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task + 1, "job": job},
                      "alice").status in (400, 404)


def test_a_task_without_data_and_a_non_detector_are_refused(world):
    world.core.user("alice")
    task = world.core.post("/api/tasks", {"name": "T", "labels": [{"name": "person"}]}, "alice").body["id"]
    empty = world.api.post("/api/lambda/requests", {"function": "yolox-nano", "task": task}, "alice")
    assert empty.status == 400 and "no data" in json.dumps(empty.body)
    world.container.lambda_functions.register({**DETECTOR, "id": "sam", "kind": "interactor", "endpoint": "sam"})
    world.core.user("carol")
    task2, _ = new_task(world, "carol", frames=1)
    refused = world.api.post("/api/lambda/requests", {"function": "sam", "task": task2}, "carol")
    assert refused.status == 400 and "only detectors" in json.dumps(refused.body)


# --- interactive calls --------------------------------------------------------------------------------


def test_a_detector_call_sends_the_original_frame_and_answers_task_label_names(alice_task):
    w, task, pictures = alice_task
    w.inference.answer = [
        {"label": "person", "points": [1.0, 2.0, 30.0, 40.0], "type": "rectangle", "confidence": 0.9,
         "attributes": [{"name": "unknown", "value": "x"}]},
        {"label": "car", "points": [5, 5, 9, 9], "type": "rectangle", "confidence": 0.8},
        {"label": "dog", "points": [5, 5, 9, 9], "type": "rectangle", "confidence": 0.7},
    ]
    answer = w.api.post("/api/lambda/functions/yolox-nano",
                        {"task": task, "frame": 2, "threshold": 0.4, "mapping": {"person": {"name": "person"},
                                                                                  "car": {"name": "vehicle"}}},
                        "alice")
    assert answer.status == 200, answer.body
    assert answer.body == [
        {"label": "person", "points": [1.0, 2.0, 30.0, 40.0], "type": "rectangle", "confidence": 0.9,
         "attributes": []},
        {"label": "vehicle", "points": [5, 5, 9, 9], "type": "rectangle", "confidence": 0.8, "attributes": []},
    ]
    ((endpoint, sent),) = w.inference.calls
    assert endpoint == "yolox-nano" and sent["threshold"] == 0.4
    assert base64.b64decode(sent["image"]) == pictures[2]
    # the default mapping: same names
    w.inference.calls.clear()
    default = w.api.post("/api/lambda/functions/yolox-nano", {"task": task, "frame": 0}, "alice")
    assert [s["label"] for s in default.body] == ["person"] and w.inference.calls[0][1]["threshold"] == 0.5


def test_a_call_in_a_job_checks_the_frame_is_in_the_job(alice_task):
    w, task, pictures = alice_task
    job = jobs_of(w, task)[1]  # frames 3..4
    outside = w.api.post("/api/lambda/functions/yolox-nano", {"job": job["id"], "frame": 0}, "alice")
    assert outside.status == 400 and outside.body == ["The frame is outside the job range"]
    inside = w.api.post("/api/lambda/functions/yolox-nano", {"job": job["id"], "frame": 4}, "alice")
    assert inside.status == 200 and base64.b64decode(w.inference.calls[-1][1]["image"]) == pictures[4]
    beyond = w.api.post("/api/lambda/functions/yolox-nano", {"task": task, "frame": 9}, "alice")
    assert beyond.status == 400
    assert w.api.post("/api/lambda/functions/yolox-nano", {"task": task, "frame": 0}, "bob").status == 403


@pytest.mark.parametrize(("error", "status"), [
    (DependencyUnavailableError("The endpoint yolox-nano is not available.", retry_after=30), 503),
    (UpstreamTimeoutError("The endpoint yolox-nano did not answer in time."), 504),
    (ValidationError("Cannot decode the image."), 400),
])
def test_endpoint_failures_reach_the_client(alice_task, error, status):
    w, task, _ = alice_task
    w.inference.error = error
    answer = w.api.post("/api/lambda/functions/yolox-nano", {"task": task, "frame": 0}, "alice")
    assert answer.status == status
    assert error.message in json.dumps(answer.body)
    if status == 503:
        assert answer.header("Retry-After") == "30"


def test_an_async_function_cannot_be_called_interactively(alice_task):
    w, task, _ = alice_task
    w.container.lambda_functions.register({**DETECTOR, "id": "big", "mode": "async", "endpoint": "big"})
    answer = w.api.post("/api/lambda/functions/big", {"task": task, "frame": 0}, "alice")
    assert answer.status == 400 and "cannot be called interactively" in answer.body[0]
    assert w.inference.calls == []


def test_an_interactor_gets_the_points_and_its_answer_is_passed_on(alice_task):
    w, task, pictures = alice_task
    w.container.lambda_functions.register({**DETECTOR, "id": "sam", "kind": "interactor", "endpoint": "sam",
                                           "mode": "realtime", "labels_v2": []})
    w.inference.answer = {"points": [[1, 1], [5, 1], [5, 5]], "mask": [[0, 1]]}
    answer = w.api.post("/api/lambda/functions/sam", {"task": task, "frame": 1, "pos_points": [[2, 2]],
                                                      "neg_points": [[9, 9]]}, "alice")
    assert answer.status == 200 and answer.body == w.inference.answer
    sent = w.inference.calls[0][1]
    assert (sent["pos_points"], sent["neg_points"], sent["obj_bbox"]) == ([[2.0, 2.0]], [[9.0, 9.0]], None)
    assert base64.b64decode(sent["image"]) == pictures[1]


def test_a_trackers_states_are_signed_and_checked_on_the_way_back(alice_task):
    w, task, _ = alice_task
    w.container.lambda_functions.register({**DETECTOR, "id": "siam", "kind": "tracker", "endpoint": "siam",
                                           "mode": "realtime", "labels_v2": []})
    w.inference.answer = {"shapes": [[1, 1, 5, 5]], "states": [{"memory": [1, 2, 3]}]}
    first = w.api.post("/api/lambda/functions/siam", {"task": task, "frame": 0, "shapes": [[1, 1, 5, 5]],
                                                      "states": []}, "alice")
    assert first.status == 200 and first.body["shapes"] == [[1, 1, 5, 5]]
    (token,) = first.body["states"]
    assert isinstance(token, str) and "memory" not in token
    again = w.api.post("/api/lambda/functions/siam", {"task": task, "frame": 1, "shapes": [[1, 1, 5, 5]],
                                                      "states": [token]}, "alice")
    assert again.status == 200
    assert w.inference.calls[-1][1]["states"] == [{"memory": [1, 2, 3]}]
    value, stamp, signature = token.split(":")
    forged = w.api.post("/api/lambda/functions/siam", {"task": task, "frame": 1, "shapes": [[1, 1, 5, 5]],
                                                       "states": [f"{value}x:{stamp}:{signature}"]}, "alice")
    assert forged.status == 400 and len(w.inference.calls) == 2


def test_registry_entries_are_added_replaced_and_removed(world):
    service = world.container.lambda_functions
    with pytest.raises(Exception, match="exists"):
        service.register(DETECTOR)
    service.register({**DETECTOR, "description": "new"}, replace=True)
    assert service.get("yolox-nano").description == "new"
    service.remove("yolox-nano")
    world.core.user("alice")
    assert world.api.get("/api/lambda/functions", "alice").body == []
