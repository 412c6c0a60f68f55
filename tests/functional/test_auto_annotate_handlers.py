"""The auto-annotate workflow's steps through its Lambda handlers (in-memory adapters and a fake
model endpoint), driven as statemachines/auto_annotate.asl.json drives them: prepare, the chunks
(sync, or async submit -> the results function's callback -> collect), finish; Fail on an error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from cvat_serverless.adapters.memory_inference import (
    FakeInferenceClient,
    MemoryAutoAnnotationLedger,
    MemoryTaskCallbacks,
)
from cvat_serverless.domain.auto_annotation import REQUEST_OVERHEAD_BYTES, encoded_size
from cvat_serverless.domain.errors import DependencyUnavailableError, ValidationError
from cvat_serverless.domain.functions import FunctionSpec
from cvat_serverless.domain.requests import BackgroundRequest, RequestAction, RequestStatus
from tests.functional._api_world import Api, api_fixture  # noqa: F401 - fixture
from tests.functional.conftest import Context, load_handler
from tests.functional.test_api_task_data import multipart, png, run_workflow

FRAMES = 5
CHUNK_SIZE = 2  # three chunks: [0, 1], [2, 3], [4]


@pytest.fixture
def world(api: Api) -> Api:
    api.user("alice")
    c = api.container
    c.__dict__.update(inference=FakeInferenceClient(blobs=c.blobs, bucket="b"),
                      auto_annotation_ledger=MemoryAutoAnnotationLedger(), task_callbacks=MemoryTaskCallbacks())
    return api


def make_task(api: Api, *, frames: int = FRAMES, chunk_size: int = CHUNK_SIZE) -> tuple[int, dict[str, int]]:
    labels = [{"name": "person", "attributes": [{"name": "pose", "mutable": False, "input_type": "select",
                                                  "default_value": "standing", "values": ["standing", "sitting"]}]},
              {"name": "car"}]
    created = api.post("/api/tasks", {"name": "T", "labels": labels, "segment_size": 3}, "alice")
    assert created.status == 201, created.body
    task = int(created.body["id"])
    ctype, body = multipart({"image_quality": "70", "chunk_size": str(chunk_size)},
                            [(f"client_files[{i}]", f"img{i}.png", png((i * 40, 0, 0))) for i in range(frames)])
    answer = api.call("POST", f"/api/tasks/{task}/data", None, as_user="alice", raw_body=body, binary=True,
                      headers={"Content-Type": ctype})
    assert answer.status == 202, answer.body
    run_workflow(api)
    labels_now = api.get("/api/labels", "alice", query={"task_id": str(task)}).body["results"]
    return task, {lb["name"]: lb["id"] for lb in labels_now}


def register(api: Api, *, mode: str = "local", fid: str = "yolox-nano", batch_size: int = 8,
             max_payload_bytes: int = 0) -> None:
    api.container.function_repository.put(FunctionSpec.from_dict({
        "id": fid, "name": "YOLOX-nano", "kind": "detector", "mode": mode, "endpoint": fid,
        "labels_v2": [{"name": "person", "type": "rectangle", "attributes": []}], "batch_size": batch_size,
        "max_payload_bytes": max_payload_bytes}), replace=True)


def request(api: Api, task: int, labels: dict[str, int], *, job_id: int | None = None, cleanup: bool = False,
            threshold: float | None = 0.5, **extra: Any) -> dict[str, Any]:
    """A queued request as the API stores it, and the workflow input it starts the execution with."""
    rid = f"autoannotate:task-{task}-0a1b2c3d4e5f"
    alice = api.container.repos.users.find_by_username("alice")
    assert alice is not None
    api.container.repos.requests.add(BackgroundRequest(
        id=rid, action=RequestAction.AUTOANNOTATE, target="job" if job_id else "task", owner_id=alice.id,
        subresource="annotations", task_id=task, job_id=job_id, function_id="yolox-nano", workflow="auto-annotate"))
    spec_ids = {a["name"]: a["id"] for lb in api.get("/api/labels", "alice", query={"task_id": str(task)}).body[
        "results"] if lb["name"] == "person" for a in lb["attributes"]}
    attrs = {"pose": spec_ids["pose"]}
    return {"request_id": rid, "function_id": "yolox-nano", "task_id": task, "job_id": job_id,
            "threshold": threshold, "cleanup": cleanup, "conv_mask_to_poly": False, "roi": None,
            "mapping": {"person": {"label_id": labels["person"], "type": "rectangle", "attributes": attrs}},
            **extra}


def step(name: str, inp: dict[str, Any], **fields: Any) -> Any:
    return load_handler("auto_annotate")({"step": name, "request_id": inp["request_id"], "input": inp, **fields},
                                         Context("auto_annotate"))


def fail_with(inp: dict[str, Any], exc: Exception) -> Any:
    """The state machine's Catch -> Fail step, with the Lambda error the failed step raised."""
    cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
    return step("fail", inp, error=type(exc).__name__, cause=cause)


def run(inp: dict[str, Any]) -> dict[str, Any]:
    """Prepare -> every chunk (sync) -> finish, as the state machine runs them (any error: Fail)."""
    try:
        prepared = step("prepare", inp, execution_name="exec-1")
        for chunk in prepared["chunks"]:
            step("run_chunk", inp, chunk=chunk)
        step("finish", inp)
    except Exception as exc:
        fail_with(inp, exc)
    return prepared if "prepared" in locals() else {}


def shapes(api: Api, task: int) -> list[dict[str, Any]]:
    return api.get(f"/api/tasks/{task}/annotations", "alice").body["shapes"]


def status(api: Api, rid: str) -> BackgroundRequest:
    return api.container.repos.requests.get(rid)


def test_a_task_is_annotated_chunk_by_chunk(world: Api):
    api = world
    task, labels = make_task(api)
    register(api, batch_size=1)

    def detect(endpoint: str, req: dict[str, Any]) -> list[list[dict[str, Any]]]:
        return [[{"label": "person", "points": [10, 10, 20, 30], "type": "rectangle", "confidence": 0.9,
                  "attributes": [{"name": "pose", "value": "sitting"}, {"name": "unknown", "value": "x"}]},
                 {"label": "person", "points": [1, 1, 5, 5], "type": "rectangle", "confidence": 0.2},
                 {"label": "dog", "points": [1, 1, 5, 5], "type": "rectangle", "confidence": 0.99},
                 {"label": "person", "points": [50, 40, 90, 90], "type": "rectangle", "confidence": 0.8}]
                for _ in req["images"]]

    api.container.inference.detector = detect
    inp = request(api, task, labels)
    prepared = run(inp)
    assert prepared == {"chunks": [0, 1, 2], "concurrency": 3, "mode": "sync"}
    # one call per image (batch_size 1), the original PNGs as they were uploaded, the threshold
    calls = api.container.inference.calls
    assert len(calls) == FRAMES and all(len(c[1]["images"]) == 1 and c[1]["threshold"] == 0.5 for c in calls)
    saved = shapes(api, task)
    assert sorted(s["frame"] for s in saved) == sorted([f for f in range(FRAMES)] * 2)
    first = next(s for s in saved if s["frame"] == 0 and s["points"][0] == 10)
    assert first["label_id"] == labels["person"] and first["source"] == "auto" and first["type"] == "rectangle"
    assert [a["value"] for a in first["attributes"]] == ["sitting"]
    clipped = next(s for s in saved if s["frame"] == 0 and s["points"][0] == 50)
    assert clipped["points"] == [50, 40, 64, 48]  # clipped to the 64x48 frame
    rq = status(api, inp["request_id"])
    assert rq.status is RequestStatus.FINISHED and rq.progress == 1.0 and rq.execution_name == "exec-1"


def test_progress_counts_chunks_and_never_reaches_one_before_finish(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    inp = request(api, task, labels)
    prepared = step("prepare", inp)
    seen = []
    for chunk in prepared["chunks"]:
        step("run_chunk", inp, chunk=chunk)
        seen.append(status(api, inp["request_id"]).progress)
    assert seen == [pytest.approx(1 / 3), pytest.approx(2 / 3), 0.99]
    step("finish", inp)
    assert status(api, inp["request_id"]).progress == 1.0


def test_requests_stay_under_the_payload_limit_and_downscaled_detections_scale_back(world: Api):
    api = world
    task, labels = make_task(api, chunk_size=5)  # one chunk of five frames
    largest = max(len(png((i * 40, 0, 0))) for i in range(FRAMES))
    limit = REQUEST_OVERHEAD_BYTES + 2 * encoded_size(largest)  # two images per request at most
    register(api, max_payload_bytes=limit)
    api.container.auto_annotation.encode = lambda data, name, budget, allow: (data, 0.5)  # "sent at half size"
    inp = request(api, task, labels)
    assert run(inp)["chunks"] == [0]
    calls = api.container.inference.calls
    assert [len(c[1]["images"]) for c in calls] == [2, 2, 1]
    assert all(len(json.dumps(c[1], separators=(",", ":"))) <= limit for c in calls)
    # the fake's box (10, 10)-(20, 30) in the half-size input is (20, 20)-(40, 60) on the frame, clipped to 48
    assert {tuple(s["points"]) for s in shapes(api, task)} == {(20, 20, 40, 48)}


@pytest.mark.parametrize("to_polygons", [False, True])
def test_masks_are_saved_as_rle_or_polygons(world: Api, to_polygons: bool):
    api = world
    task, labels = make_task(api, frames=1)
    register(api)
    square = [0.0, 16.0, 10.0, 10.0, 13.0, 13.0]  # a 4x4 box at (10, 10), every pixel set
    api.container.inference.detector = lambda endpoint, req: [
        [{"label": "person", "type": "mask", "points": square, "confidence": 0.9}] for _ in req["images"]]
    inp = request(api, task, labels, conv_mask_to_poly=to_polygons)
    inp["mapping"]["person"]["type"] = "mask"
    run(inp)
    [saved] = shapes(api, task)
    if to_polygons:
        corners = sorted(zip(saved["points"][0::2], saved["points"][1::2], strict=True))
        assert saved["type"] == "polygon" and corners == [(10, 10), (10, 14), (14, 10), (14, 14)]
    else:
        assert saved["type"] == "mask" and saved["points"] == square
    assert status(api, inp["request_id"]).status is RequestStatus.FINISHED


def test_a_retried_chunk_does_not_save_twice(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    inp = request(api, task, labels)
    step("prepare", inp)
    step("run_chunk", inp, chunk=0)
    again = step("run_chunk", inp, chunk=0)  # Step Functions retried the step after its save
    assert again == {"chunk": 0, "saved": False}
    assert len(api.container.inference.calls) == 1  # the model is not asked again either
    assert sorted(s["frame"] for s in shapes(api, task)) == [0, 1]


def test_a_canceled_request_stops_saving(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    inp = request(api, task, labels)
    step("prepare", inp)
    step("run_chunk", inp, chunk=0)
    # the user cancels while chunk 1 is at the model: its answer is not saved, nor is chunk 2 asked
    fake = api.container.inference
    fake.before_answer = lambda: api.container.requests.fail(inp["request_id"], "Canceled by the user.")
    assert step("run_chunk", inp, chunk=1) == {"chunk": 1, "saved": False}
    fake.before_answer = None
    calls = len(fake.calls)
    assert step("run_chunk", inp, chunk=2) == {"chunk": 2, "saved": False}
    assert len(fake.calls) == calls
    step("finish", inp)  # the Map ends; the request keeps the user's word
    fail_with(inp, ValidationError("late"))  # and so does a late failure
    rq = status(api, inp["request_id"])
    assert rq.status is RequestStatus.FAILED and rq.message == "Canceled by the user."
    assert sorted(s["frame"] for s in shapes(api, task)) == [0, 1]


def test_a_model_error_fails_the_request_naming_the_function(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    api.container.inference.error = ValidationError(
        "The model behind endpoint yolox-nano refused the input: cannot identify image file")
    inp = request(api, task, labels)
    run(inp)
    rq = status(api, inp["request_id"])
    assert rq.status is RequestStatus.FAILED
    assert rq.message == ("The function yolox-nano failed on chunk 0: The model behind endpoint yolox-nano refused "
                          "the input: cannot identify image file")
    assert shapes(api, task) == []


def test_a_missing_endpoint_is_retried_by_the_state_machine_then_fails_with_its_message(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    fake = api.container.inference
    fake.errors = [DependencyUnavailableError("Endpoint yolox-nano of account 1 not found.")]
    inp = request(api, task, labels)
    step("prepare", inp)
    with pytest.raises(DependencyUnavailableError) as raised:  # Retry: DependencyUnavailableError
        step("run_chunk", inp, chunk=0)
    assert str(raised.value) == "The function yolox-nano failed on chunk 0: Endpoint yolox-nano of account 1 not found."
    assert step("run_chunk", inp, chunk=0)["saved"] is True  # the retry, once the endpoint is up
    # retries exhausted: the request fails with the endpoint's answer
    fail_with(inp, raised.value)
    assert status(api, inp["request_id"]).message == raised.value.message


def test_cleanup_a_job_range_and_deleted_frames(world: Api):
    api = world
    task, labels = make_task(api)
    register(api)
    assert api.patch(f"/api/tasks/{task}/data/meta", {"deleted_frames": [1]}, "alice").status == 200
    old = {"type": "rectangle", "frame": 2, "label_id": labels["car"], "points": [1.0, 1.0, 5.0, 5.0]}
    saved = api.call("PUT", f"/api/tasks/{task}/annotations", {"shapes": [old]}, as_user="alice")
    assert saved.status == 200, saved.body
    jobs = sorted(api.get("/api/jobs", "alice", query={"task_id": str(task)}).body["results"],
                  key=lambda j: j["start_frame"])
    inp = request(api, task, labels, job_id=jobs[0]["id"], cleanup=True)  # frames 0-2, 1 deleted
    prepared = run(inp)
    assert prepared["chunks"] == [0, 1]
    assert sorted(s["frame"] for s in shapes(api, task)) == [0, 2]
    assert all(s["source"] == "auto" for s in shapes(api, task))  # the job's old box went first


def test_async_submit_callback_collect(world: Api):
    api = world
    task, labels = make_task(api)
    register(api, mode="async")
    inp = request(api, task, labels)
    prepared = step("prepare", inp)
    assert prepared["mode"] == "async"
    fake, callbacks = api.container.inference, api.container.task_callbacks
    fake.hold_async = True
    results = load_handler("auto_annotate_results")
    for chunk in prepared["chunks"]:
        submitted = step("submit_chunk", inp, chunk=chunk, task_token=f"token-{chunk}")
        assert submitted["submitted"] is True
        _, location, inference_id = fake.async_calls[-1]
        assert location == f"s3://b/auto-annotation/async-input/autoannotate-task-{task}-0a1b2c3d4e5f/{chunk}.json"
        from cvat_serverless.ports import AsyncInvocation

        invocation = AsyncInvocation(inference_id, f"s3://b/auto-annotation/async-results/{inference_id}.out",
                                     f"s3://b/auto-annotation/async-failures/{inference_id}-error.out")
        key = fake.complete(invocation, location)
        answer = results(s3_notification(key), Context("auto_annotate_results"))
        assert answer == {"batchItemFailures": []}
        token, output = callbacks.succeeded[-1]
        assert token == f"token-{chunk}" and output == {"output_key": key, "failure_key": ""}
        step("collect_chunk", inp, chunk=chunk, **output)
    step("finish", inp)
    assert sorted(s["frame"] for s in shapes(api, task)) == list(range(FRAMES))
    assert status(api, inp["request_id"]).status is RequestStatus.FINISHED


def test_async_failure_object_fails_the_request_and_an_unknown_key_is_retried(world: Api):
    api = world
    task, labels = make_task(api)
    register(api, mode="async")
    inp = request(api, task, labels)
    step("prepare", inp)
    fake, callbacks = api.container.inference, api.container.task_callbacks
    fake.error = ValueError("CUDA out of memory")
    step("submit_chunk", inp, chunk=1, task_token="token-1")  # the fake endpoint fails at once
    failure_key = next(k for k, _ in api.container.blobs.list_keys("auto-annotation/async-failures/"))
    results = load_handler("auto_annotate_results")
    assert results(s3_notification(failure_key), Context("auto_annotate_results")) == {"batchItemFailures": []}
    assert callbacks.succeeded == [("token-1", {"output_key": "", "failure_key": failure_key})]
    # Collect fails with the endpoint's words; the state machine's Catch fails the request
    with pytest.raises(ValidationError) as raised:
        step("collect_chunk", inp, chunk=1, output_key="", failure_key=failure_key)
    fail_with(inp, raised.value)
    assert status(api, inp["request_id"]).message == "The function yolox-nano failed on chunk 1: CUDA out of memory"
    # a result no chunk waits for (yet): the record fails, SQS delivers it again
    with pytest.raises(BatchProcessingError, match="No auto-annotate chunk waits for"):
        results(s3_notification("auto-annotation/async-results/nobody.out"), Context("auto_annotate_results"))


def s3_notification(key: str) -> dict[str, Any]:
    """An SQS event holding S3's ObjectCreated notification, the key URL-encoded as S3 sends it."""
    from urllib.parse import quote_plus

    body = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                         "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
                                "object": {"key": quote_plus(key, safe="/"), "size": 10, "eTag": "x",
                                           "sequencer": "0A"}}}]}
    return {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": json.dumps(body),
                         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0",
                                        "SenderId": "s", "ApproximateFirstReceiveTimestamp": "0"},
                         "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
