"""Task data on `cvat-serverless up`, as the issue's "done means" asks: a 1,000-frame video and a
1,000-image archive go through the Step Functions workflow, the execution and the domain event are
visible on the embedded AWS, and a runtime killed mid-processing ends the request cleanly after a
restart (no task stuck in "started")."""

from __future__ import annotations

import io
import json
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
av = pytest.importorskip("av")
np = pytest.importorskip("numpy")
from cvat_sdk import Client, make_client, models  # noqa: E402
from PIL import Image  # noqa: E402

from tests.e2e.conftest import Runtime, cli, wait_for  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "data-admin", "data-admin-pass-1"


def make_video(path: Path, frames: int, *, size: tuple[int, int] = (160, 120), fps: int = 25) -> Path:
    """An H.264 clip whose frame n is a flat grey of level n % 256 (so frames are told apart)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "50"}
        for n in range(frames):
            pixels = np.full((size[1], size[0], 3), n % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_archive(path: Path, images: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for n in range(images):
            buffer = io.BytesIO()
            Image.new("RGB", (48, 32), (n % 256, (n * 7) % 256, 0)).save(buffer, "PNG")
            archive.writestr(f"images/img_{n:04d}.png", buffer.getvalue())
    return path


def superuser(rt: Runtime) -> None:
    made = cli("createsuperuser", "--username", USER, "--email", "data@example.com", "--password", PASSWORD,
               data_dir=rt.data_dir)
    assert made.returncode == 0, made.stderr


def client_for(rt: Runtime) -> Client:
    host, port = rt.url.rsplit(":", 1)
    return make_client(host, port=int(port), credentials=(USER, PASSWORD))


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[Client]:
    superuser(runtime)
    with client_for(runtime) as c:
        yield c


def test_a_1000_frame_video_becomes_a_task_with_jobs_and_chunks(client: Client, runtime: Runtime,
                                                                   tmp_path: Path):
    video = make_video(tmp_path / "long clip.mp4", 1000)
    task = client.tasks.create_from_data(
        models.TaskWriteRequest(name="video 1000", labels=[{"name": "car"}], segment_size=300),
        resources=[str(video)], data_params={"image_quality": 70, "chunk_size": 72})
    assert task.size == 1000 and task.mode == "interpolation", task
    jobs = sorted(task.get_jobs(), key=lambda j: j.start_frame)
    # CVAT's default overlap for video: 5 frames
    assert [(j.start_frame, j.stop_frame) for j in jobs] == [(0, 299), (295, 594), (590, 889), (885, 999)]
    outputs = runtime.facts()["outputs"]
    keys = [o["Key"] for page in runtime.boto3("s3").get_paginator("list_objects_v2").paginate(
        Bucket=outputs["MediaBucketName"], Prefix=f"tasks/{task.id}/data/") for o in page.get("Contents", [])]
    compressed = [k for k in keys if "/compressed/" in k and "segment_" not in k]
    assert len(compressed) == 14, keys  # ceil(1000 / 72)
    # the execution that did it, and the task's update event, as the analytics event store keeps
    # it (the domain events' own queue is consumed by the webhook delivery)
    sfn = runtime.boto3("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=outputs["TaskDataStateMachineArn"])["executions"]
    mine = [e for e in executions if e["name"].startswith(f"task-{task.id}-")]
    assert [e["status"] for e in mine] == ["SUCCEEDED"], mine
    s3 = runtime.boto3("s3")
    bucket = outputs["MediaBucketName"]

    def data_attached() -> dict | None:  # other tests on this runtime publish events too
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
                for row in (json.loads(line) for line in body.splitlines() if line.strip()):
                    if row["scope"] == "update:task" and row["task_id"] == task.id and \
                            "size" in str(row["obj_name"] or "").split(","):
                        return row
        return None

    event = wait_for(data_attached, what="the task's update:task event (data attached) in the event store")
    assert event["source"] == "server"


def test_a_1000_image_archive_becomes_a_task(client: Client, tmp_path: Path):
    archive = make_archive(tmp_path / "photos.zip", 1000)
    task = client.tasks.create_from_data(
        models.TaskWriteRequest(name="archive 1000", labels=[{"name": "cat"}], segment_size=400),
        resources=[str(archive)], data_params={"image_quality": 80, "sorting_method": "natural"})
    assert task.size == 1000 and task.mode == "annotation"
    assert sorted((j.start_frame, j.stop_frame) for j in task.get_jobs()) == [(0, 399), (400, 799), (800, 999)]


def _request_of(c: Client, task_id: int) -> dict:
    answer = c.api_client.rest_client.GET(f"{c.api_map.host}/api/requests",
                                          headers=c.api_client.get_common_headers())
    for request in json.loads(answer.data)["results"]:
        if request["operation"]["task_id"] == task_id:
            return request
    raise AssertionError(f"no request for task {task_id}")


def test_a_runtime_killed_mid_processing_ends_the_request_after_restart(fresh_runtime: Runtime, tmp_path: Path):
    rt = fresh_runtime.start()
    superuser(rt)
    video = make_video(tmp_path / "clip.mp4", 1500, size=(320, 240))
    with client_for(rt) as c:
        task = c.tasks.create(models.TaskWriteRequest(name="interrupted", labels=[{"name": "car"}]))
        task.upload_data([str(video)], params={"image_quality": 70, "chunk_size": 50}, wait_for_completion=False)
        wait_for(lambda: _request_of(c, task.id)["status"] == "started", timeout=60,
                 what="the request to start", details=rt.output)
    # the request's "started" must be on disk before the kill (the snapshot trails by <= ~1 s)
    snapshot = rt.data_dir / "aws" / "dynamodb.pickle"
    wait_for(lambda: b"started" in snapshot.read_bytes(), timeout=10, what="the snapshot to hold the started request")
    # and its execution (Step Functions' own file: the execution shows as aborted after the restart)
    executions = rt.data_dir / "aws" / "states.pickle"
    wait_for(lambda: executions.exists() and f"task-{task.id}-data-".encode() in executions.read_bytes(), timeout=10,
             what="the snapshot to hold the running execution")
    rt.stop(signal.SIGKILL)
    rt.start()
    with client_for(rt) as c:
        ended = wait_for(lambda: (r := _request_of(c, task.id))["status"] in ("finished", "failed") and r,
                         timeout=120, what="the resumed request to end", details=rt.output)
        assert ended["status"] == "finished", ended
        task = c.tasks.retrieve(task.id)
        assert task.size == 1500
        assert len(task.get_jobs()) == 1  # one set of jobs, though the steps ran twice
    # it finished in a new execution, started by the restart; the killed one shows as aborted
    outputs = rt.facts()["outputs"]
    executions = rt.boto3("stepfunctions").list_executions(stateMachineArn=outputs["TaskDataStateMachineArn"])
    assert sorted((e["name"].endswith("-r1"), e["status"]) for e in executions["executions"]) == [
        (False, "ABORTED"), (True, "SUCCEEDED")]


def test_boto3_lambda_invoke_runs_the_template_handler_in_process(runtime: Runtime):
    lam = runtime.boto3("lambda")
    about = {"resource": "/{proxy+}", "path": "/api/server/about", "httpMethod": "GET", "headers": {},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": {"proxy": "api/server/about"}, "requestContext": {"requestId": "r-1", "stage": "api"},
             "body": None, "isBase64Encoded": False}
    ok = lam.invoke(FunctionName="cvat-local-CoreApiFunction", Payload=json.dumps(about))
    assert "FunctionError" not in ok
    answer = json.loads(ok["Payload"].read())
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["name"] == "Computer Vision Annotation Tool"
    # AWS's error payload: what Step Functions' Retry/Catch match on
    name = "cvat-local-TaskDataPrepareFunction"
    bad = lam.invoke(FunctionName=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                     Payload=json.dumps({"request_id": "create:task-404-x", "task_id": 404, "data_id": 1}))
    assert bad["FunctionError"] == "Unhandled"
    error = json.loads(bad["Payload"].read())
    assert error["errorType"] == "NotFoundError" and "not found" in error["errorMessage"].lower(), error
    queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
