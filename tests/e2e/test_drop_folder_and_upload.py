"""The two upload paths that never pass media through the API, against `cvat-serverless up`:
the S3 drop folder (a video and a folder closed by .done become tasks of their project, once each
whatever S3 redelivers; a bad object gets a failure record) and `cvat-serverless upload` (presigned
S3 multipart uploads to the embedded S3 port, then the task's data processed)."""

from __future__ import annotations

import io
import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from PIL import Image

conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "drop-admin", "drop-admin-pass-1"
PROCESSING_TIMEOUT = 180


class Client:
    """The REST API as one user (a Token from a password login)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = self.call("POST", "/api/auth/login", {"username": USER, "password": PASSWORD})["key"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Token {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def tasks_of(self, project_id: int) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/tasks?project_id={project_id}&page_size=100")["results"])


@pytest.fixture(scope="module")
def client(runtime) -> Client:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "drop@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    return Client(runtime.url)


@pytest.fixture(scope="module")
def bucket(runtime) -> tuple[Any, str, str]:
    outputs = runtime.facts()["outputs"]
    return runtime.boto3("s3"), outputs["MediaBucketName"], outputs["UploadPrefix"]


def project(client: Client, name: str) -> int:
    made = client.call("POST", "/api/projects", {"name": name, "labels": [{"name": "car"}, {"name": "person"}]})
    return int(made["id"])


def video(frames: int) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as muxer:
        stream = muxer.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            for packet in stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 10, 0, 0)))):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    return out.getvalue()


def png(shade: int, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (shade, 0, shade)).save(out, format="PNG")
    return out.getvalue()


def processed(client: Client, project_id: int, count: int, runtime) -> list[dict[str, Any]]:
    """The project's tasks once ``count`` of them have their jobs (the data is processed)."""
    def ready() -> list[dict[str, Any]] | None:
        tasks = client.tasks_of(project_id)
        return tasks if len(tasks) == count and all(t["jobs"]["count"] > 0 for t in tasks) else None

    return conftest.wait_for(ready, what=f"{count} processed tasks in project {project_id}",
                             timeout=PROCESSING_TIMEOUT, details=runtime.output)


def queue_drained(runtime) -> bool:
    sqs = runtime.boto3("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=runtime.facts()["outputs"]["UploadQueueUrl"], AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def notification(bucket_name: str, key: str, size: int, etag: str) -> str:
    """The body S3 sends the upload queue for one created object."""
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket_name, "arn": f"arn:aws:s3:::{bucket_name}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": etag, "sequencer": "0A"}},
    }]})


def test_a_video_and_a_closed_folder_become_tasks_once_each(client, bucket, runtime):
    s3, name, prefix = bucket
    pid = project(client, "drops")
    clip = video(20)
    s3.put_object(Bucket=name, Key=f"{prefix}projects/{pid}/street cam.mp4", Body=clip, ContentType="video/mp4")
    folder = f"{prefix}projects/{pid}/day 1/"
    for i in range(4):
        s3.put_object(Bucket=name, Key=f"{folder}frame_{i}.png", Body=png(i * 60), ContentType="image/png")
    s3.put_object(Bucket=name, Key=folder + ".done", Body=b"")
    tasks = {t["name"]: t for t in processed(client, pid, 2, runtime)}
    assert (tasks["street cam.mp4"]["size"], tasks["street cam.mp4"]["mode"]) == (20, "interpolation")
    assert (tasks["day 1"]["size"], tasks["day 1"]["mode"]) == (4, "annotation")
    assert {lb["name"] for lb in client.call("GET", f"/api/labels?task_id={tasks['day 1']['id']}")["results"]} == {
        "car", "person"}

    # duplicates: the same content written again (same ETag), and S3 delivering a notification twice
    s3.put_object(Bucket=name, Key=f"{prefix}projects/{pid}/street cam.mp4", Body=clip, ContentType="video/mp4")
    done = s3.head_object(Bucket=name, Key=folder + ".done")
    runtime.boto3("sqs").send_message(QueueUrl=runtime.facts()["outputs"]["UploadQueueUrl"], MessageBody=notification(
        name, folder + ".done", 0, done["ETag"].strip('"')))
    conftest.wait_for(lambda: queue_drained(runtime), what="the upload queue to be drained", timeout=60,
                      details=runtime.output)
    assert sorted(t["name"] for t in client.tasks_of(pid)) == ["day 1", "street cam.mp4"]


def test_bad_objects_get_a_failure_record(client, bucket, runtime):
    s3, name, prefix = bucket
    pid = project(client, "bad drops")
    s3.put_object(Bucket=name, Key=f"{prefix}projects/{pid}/notes.txt", Body=b"not media")
    s3.put_object(Bucket=name, Key=f"{prefix}projects/999999/clip.mp4", Body=b"x")

    def record(key: str) -> dict[str, Any] | None:
        try:
            return json.loads(s3.get_object(Bucket=name, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    notes = conftest.wait_for(lambda: record(f"drop-failures/projects/{pid}/notes.txt.json"),
                              what="the failure record of notes.txt", timeout=60, details=runtime.output)
    assert "not a video or an archive" in notes["message"]
    missing = conftest.wait_for(lambda: record("drop-failures/projects/999999/clip.mp4.json"),
                                what="the failure record of a missing project", timeout=60)
    assert "Project 999999 does not exist" in missing["message"]
    assert client.tasks_of(pid) == []
    dlq = runtime.boto3("sqs").get_queue_attributes(QueueUrl=runtime.facts()["outputs"]["UploadDeadLetterQueueUrl"],
                                                    AttributeNames=["ApproximateNumberOfMessages"])
    assert dlq["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_cvat_serverless_upload_sends_files_in_parts_and_the_task_is_processed(client, runtime, tmp_path: Path):
    import numpy as np

    task = client.call("POST", "/api/tasks", {"name": "uploaded", "labels": [{"name": "car"}], "segment_size": 2})
    noise = np.random.default_rng(1).integers(0, 256, (2600, 2600, 3), dtype=np.uint8)
    big = tmp_path / "big.png"
    Image.fromarray(noise).save(big, format="PNG", compress_level=0)
    assert big.stat().st_size > 17 * 1024 * 1024  # two parts of 16 MiB at least
    small = [tmp_path / f"small_{i}.png" for i in range(2)]
    for i, path in enumerate(small):
        path.write_bytes(png(i * 100))
    sent = conftest.cli("upload", "--server", runtime.url, "--user", USER, str(task["id"]), str(big),
                        *map(str, small), data_dir=runtime.data_dir, env={"CVAT_PASSWORD": PASSWORD}, timeout=300)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert f"Task {task['id']} (uploaded): 3 frames, 2 jobs, 3 files uploaded." in sent.stdout
    assert "Uploading:" in sent.stderr and "(100%)" in sent.stderr
    read = client.call("GET", f"/api/tasks/{task['id']}")
    assert (read["size"], read["jobs"]["count"]) == (3, 2)

    # a new task from a folder, with the project's labels
    pid = project(client, "uploads")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        (folder / f"f{i}.png").write_bytes(png(i * 30))
    made = conftest.cli("upload", "--server", runtime.url, "--user", USER, "--name", "from a folder",
                        "--project", str(pid), str(folder), data_dir=runtime.data_dir,
                        env={"CVAT_PASSWORD": PASSWORD}, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    [created] = client.tasks_of(pid)
    assert (created["name"], created["size"]) == ("from a folder", 3)

    # a task that has data refuses more, with CVAT's message
    again = conftest.cli("upload", "--server", runtime.url, "--user", USER, str(task["id"]), str(small[0]),
                         data_dir=runtime.data_dir, env={"CVAT_PASSWORD": PASSWORD})
    assert again.returncode == 1 and "Adding more data is not supported" in again.stderr
