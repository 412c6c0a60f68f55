"""The media pipeline's functions through their lambda_handler, on the template deployed on moto:
the ingest function (S3 notifications of the drop folder, through SQS) and the task-data steps
(prepare, unit, finalize, fail) as the state machine calls them, with their input validated."""

from __future__ import annotations

import copy
import io
import json
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import ValidationError as StepInputError
from PIL import Image

from tests.events import load


def s3_event(bucket: str, *keys: str, etags: dict[str, str] | None = None) -> dict[str, Any]:
    """An SQS batch of S3 ObjectCreated notifications, one message per key (keys URL-encoded as
    S3 and moto send them), and S3's test event last."""
    fixture = load("sqs_s3_object_created.json")
    created, test_event = fixture["Records"]
    records = []
    for i, key in enumerate(keys):
        record = copy.deepcopy(created)
        body = json.loads(record["body"].replace("BUCKET", bucket))
        obj = body["Records"][0]["s3"]["object"]
        obj["key"] = quote_plus(key, safe="/")
        obj["eTag"] = (etags or {}).get(key, obj["eTag"])
        record["body"], record["messageId"] = json.dumps(body), f"message-{i}"
        records.append(record)
    test_event["body"] = test_event["body"].replace("BUCKET", bucket)
    return {"Records": [*records, test_event]}


def put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def drop(invoke, bucket: str, files: dict[str, bytes], *, notify: list[str] | None = None) -> dict[str, Any]:
    """Write ``files`` and deliver the notifications of ``notify`` (default: of those files),
    each with its object's ETag as S3 sends it."""
    for key, body in files.items():
        put(bucket, key, body)
    keys = notify or list(files)
    s3 = boto3.client("s3")
    etags = {key: s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') for key in keys}
    return invoke("ingest", s3_event(bucket, *keys, etags=etags))


def executions(stack) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=stack.outputs["TaskDataStateMachineArn"])["executions"]
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def run_steps(invoke, payload: dict[str, Any]) -> dict[str, Any]:
    """The state machine's path through the step functions: Prepare, the Map of units, Finalize."""
    ids = {k: payload[k] for k in ("request_id", "task_id", "data_id")}
    prepared = invoke("task_data_prepare", {**ids, "execution_name": "exec-1"})
    for unit in prepared["units"]:
        invoke("task_data_unit", {**ids, "unit": unit})
    return invoke("task_data_finalize", ids)


@pytest.fixture
def project(stack) -> Any:
    """A user's project with two labels, in the deployed stack's table."""
    from cvat_serverless.bootstrap import container
    from cvat_serverless.domain.labels import LabelInput
    from cvat_serverless.services.projects import ProjectCreate

    c = container()
    owner = c.superusers.create_superuser("owner", "owner@example.com", "long enough password")
    ctx = c.organizations.resolve_context(owner)
    return c.projects.create(ctx, ProjectCreate(name="streets", labels=[LabelInput(name="car"),
                                                                          LabelInput(name="person")])).value


def tasks_of(project_id: int) -> list[Any]:
    from cvat_serverless.bootstrap import container

    return container().repos.tasks.list_by_project(project_id)


def video(frames: int) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as muxer:
        stream = muxer.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            for packet in stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 20, 0, 0)))):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (shade, shade, 0)).save(out, format="PNG")
    return out.getvalue()


def test_a_video_dropped_in_a_project_folder_becomes_one_task_read_in_place(invoke, stack, project):
    bucket = stack.outputs["MediaBucketName"]
    key = f"uploads/projects/{project.id}/my clip (take 2).mp4"
    answer = drop(invoke, bucket, {key: video(12)})
    assert answer == {"batchItemFailures": []}
    [started] = executions(stack)
    [task] = tasks_of(project.id)
    assert (task.id, task.name, task.owner_id) == (started["task_id"], "my clip (take 2).mp4", project.owner_id)
    # S3 delivers at least once: the same notification again makes nothing
    assert drop(invoke, bucket, {}, notify=[key]) == {"batchItemFailures": []}
    assert len(executions(stack)) == 1 and len(tasks_of(project.id)) == 1

    final = run_steps(invoke, started)
    assert final["size"] == 12
    from cvat_serverless.bootstrap import container

    c = container()
    assert sorted(lb.name for lb in c.repos.labels.list_by_project(project.id)) == ["car", "person"]
    assert [j.task_id for j in c.repos.jobs.list_by_task(task.id)] == [task.id]
    assert c.repos.requests.get(started["request_id"]).status.value == "finished"
    # read where it was dropped: not copied into the task's source/, and left in the drop folder
    data_root = f"tasks/{task.id}/data/{started['data_id']}/"
    assert not [k for k, _ in c.blobs.list_keys(data_root + "source/")]
    assert [k for k, _ in c.blobs.list_keys(data_root + "chunks/compressed/")]
    assert c.blobs.head(key)["size"] > 0


def test_a_folder_closed_by_task_json_is_one_task_with_its_settings(invoke, stack, project):
    bucket = stack.outputs["MediaBucketName"]
    folder = f"uploads/projects/{project.id}/street-42/"
    images = {f"{folder}frame_{i}.png": png(i * 40) for i in range(5)}
    # the images alone ask for nothing: the folder is not closed yet
    assert drop(invoke, bucket, images) == {"batchItemFailures": []}
    assert executions(stack) == [] and tasks_of(project.id) == []
    settings = json.dumps({"name": "Street 42", "segment_size": 2, "image_quality": 50, "subset": "train"})
    assert drop(invoke, bucket, {folder + "task.json": settings.encode()}) == {"batchItemFailures": []}
    # a .done beside a task.json is ignored: one folder, one task
    assert drop(invoke, bucket, {folder + ".done": b""}) == {"batchItemFailures": []}
    [started] = executions(stack)
    [task] = tasks_of(project.id)
    assert (task.name, task.segment_size, task.subset) == ("Street 42", 2, "train")
    run_steps(invoke, started)
    from cvat_serverless.bootstrap import container

    c = container()
    assert len(c.repos.jobs.list_by_task(task.id)) == 3
    assert c.repos.task_data.find_by_task(task.id).image_quality == 50


def test_bad_drops_get_a_failure_record_and_are_not_retried(invoke, stack, project):
    bucket = stack.outputs["MediaBucketName"]
    s3 = boto3.client("s3")
    bad = {
        "uploads/clip.mp4": b"x",  # not in a project's folder
        "uploads/projects/999/clip.mp4": b"x",  # no such project
        f"uploads/projects/{project.id}/notes.txt": b"x",  # not media
        f"uploads/projects/{project.id}/f/a.png": png(1),
        f"uploads/projects/{project.id}/f/task.json": b'{"image_quality": 101}',
    }
    answer = drop(invoke, bucket, bad)
    assert answer == {"batchItemFailures": []}  # user errors never reach the dead-letter queue
    assert executions(stack) == [] and tasks_of(project.id) == []

    def record(key: str) -> dict[str, Any]:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    assert "projects/<project id>/" in record("drop-failures/clip.mp4.json")["message"]
    assert "Project 999 does not exist" in record("drop-failures/projects/999/clip.mp4.json")["message"]
    assert "not a video or an archive" in record(f"drop-failures/projects/{project.id}/notes.txt.json")["message"]
    failed = record(f"drop-failures/projects/{project.id}/f/task.json.json")
    assert failed["message"].startswith("image_quality: ") and failed["project_id"] == project.id
    # fixed (new content, a new ETag): the task is made and the stale record goes
    assert drop(invoke, bucket, {f"uploads/projects/{project.id}/f/task.json": b"{}"}) == {"batchItemFailures": []}
    assert len(tasks_of(project.id)) == 1
    assert not list(s3.list_objects_v2(Bucket=bucket, Prefix=f"drop-failures/projects/{project.id}/f/")
                    .get("Contents", []))


def test_ingest_reports_only_the_broken_record(invoke, stack):
    event = s3_event(stack.outputs["MediaBucketName"], "uploads/projects/1/sub/a.png")
    event["Records"][1]["body"] = "{not json"
    answer = invoke("ingest", event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


STEPS = {
    "task_data_prepare": {"request_id": "r", "task_id": 1, "data_id": 2, "execution_name": "e"},
    "task_data_unit": {"request_id": "r", "task_id": 1, "data_id": 2, "unit": 3},
    "task_data_finalize": {"request_id": "r", "task_id": 1, "data_id": 2},
    "task_data_fail": {"request_id": "r", "task_id": 1, "data_id": 2, "error": "MediaError", "cause": "{}"},
}


class _Recorder:
    """A container whose pipeline records the step it was asked to run."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        recorder = self

        class Pipeline:
            def __getattr__(self, name: str) -> Any:
                return lambda *args: recorder.calls.append((name, args)) or {"step": name}

        self.pipeline = Pipeline()


@pytest.mark.parametrize("function", sorted(STEPS))
def test_each_step_passes_its_parsed_input_to_the_pipeline(invoke, settings_env, monkeypatch, function):
    from cvat_serverless import bootstrap

    recorder = _Recorder()
    monkeypatch.setattr(bootstrap, "container", lambda: recorder)
    step = {"task_data_prepare": "prepare", "task_data_unit": "run_unit", "task_data_finalize": "finalize",
            "task_data_fail": "fail"}[function]
    assert invoke(function, {**STEPS[function], "extra": "ignored"}) == {"step": step}
    [(called, args)] = recorder.calls
    assert called == step and args[:3] == ("r", 1, 2)


@pytest.mark.parametrize(("function", "change"), [
    ("task_data_prepare", {"task_id": "first"}),
    ("task_data_prepare", {"request_id": None}),
    ("task_data_unit", {"unit": "one"}),
    ("task_data_unit", {"data_id": None}),
    ("task_data_finalize", {"task_id": [1]}),
    ("task_data_fail", {"request_id": {"id": "r"}}),
])
def test_step_input_is_validated(invoke, settings_env, monkeypatch, function, change):
    from cvat_serverless import bootstrap

    recorder = _Recorder()
    monkeypatch.setattr(bootstrap, "container", lambda: recorder)
    payload = {k: v for k, v in {**STEPS[function], **change}.items() if v is not None}
    with pytest.raises(StepInputError):
        invoke(function, payload)
    assert recorder.calls == []
