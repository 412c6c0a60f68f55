"""Every AWS call each Lambda function makes is allowed by its role in template.yaml.

moto enforces no IAM: a grant missing from the template would work here and fail on AWS. This runs
one broad scenario against `cvat-serverless up` with CVAT_LOCAL_IAM_AUDIT set (the runtime then
records each call a handler makes as an IAM action and resource, see
infra/cvat_serverless_tools/local/iam_audit.py) so that every function of the template runs, and
checks each recorded call against the function's role in the transformed template (tests/_iam.py).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, models  # noqa: E402
from cvat_sdk.core.exceptions import BackgroundRequestException  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType  # noqa: E402
from PIL import Image  # noqa: E402

from tests._iam import template_policies  # noqa: E402
from tests._requirements import require_offline_detector  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-iam", "e2e-iam-pass-1"
TIMEOUT = 180

# Functions the scenario cannot run, with the reason (none today).
UNREACHABLE: dict[str, str] = {}


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.got.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    yield from conftest.serve_receiver(_Receiver)


@pytest.fixture(scope="module")
def audit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("iam") / "calls.jsonl"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, audit_file: Path) -> Iterator[conftest.Runtime]:
    """The module's own runtime: `cvat-serverless up` with the recorder on."""
    rt = conftest.Runtime(tmp_path_factory.mktemp("rt") / "data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVAT_LOCAL_IAM_AUDIT", str(audit_file))  # inherited by the runtime's process
        rt.start()
    yield rt
    if rt.process is not None:
        rt.stop()


@pytest.fixture(scope="module")
def client(runtime: conftest.Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


def _images(folder: Path, count: int, size: tuple[int, int] = (64, 48)) -> list[Path]:
    files = []
    for i in range(count):
        path = folder / f"img{i}.jpg"
        Image.new("RGB", size, (i * 40, 10, 10)).save(path, quality=90)
        files.append(path)
    return files


def _video(path: Path, frames: int) -> Path:
    from tests.e2e.test_drop_folder_and_upload import video

    path.write_bytes(video(frames))
    return path


def _calls(audit_file: Path) -> list[dict[str, Any]]:
    if not audit_file.exists():
        return []
    return [json.loads(line) for line in audit_file.read_text().splitlines() if line.strip()]


def _api(client: Client, method: str, path: str) -> Any:
    _, response = client.api_client.call_api(path, method, _parse_response=False)
    assert response.status in (200, 201, 202), (path, response.status, response.data)
    return json.loads(response.data) if response.data else None


def _cli(runtime: conftest.Runtime, *args: str) -> Any:
    return conftest.cli(*args, "--server", runtime.url, "--user", USER, data_dir=runtime.data_dir,
                        env={"CVAT_PASSWORD": PASSWORD}, timeout=300)


def _lambda_request(client: Client, runtime: conftest.Runtime, **body: Any) -> dict[str, Any]:
    answer, _ = client.api_client.lambda_api.create_requests(models.FunctionCallRequest(**body))
    request_id = answer.to_dict()["id"] if hasattr(answer, "to_dict") else dict(answer)["id"]

    def ended() -> dict[str, Any] | None:
        _, response = client.api_client.lambda_api.retrieve_requests(request_id, _parse_response=False)
        got = dict(json.loads(response.data))
        return got if got["status"] in ("finished", "failed") else None

    return conftest.wait_for(ended, what=f"lambda request {request_id} to end", timeout=TIMEOUT,
                             details=runtime.output)


@pytest.fixture(scope="module")
def scenario(client: Client, runtime: conftest.Runtime, receiver: str, audit_file: Path,
             tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Drive every function once; return what the recorder wrote."""
    require_offline_detector()
    folder = tmp_path_factory.mktemp("media")
    images = _images(folder, 4)
    project = client.projects.create(models.ProjectWriteRequest(
        name="iam", labels=[models.PatchedLabelRequest(name="car"), models.PatchedLabelRequest(name="person")]))

    # webhooks (WebhooksApi; WebhookDelivery through the domain events queue)
    hooks = client.api_client.webhooks_api
    hook, _ = hooks.create(models.WebhookWriteRequest(
        target_url=receiver, type=models.WebhookType("project"), events=[models.EventsEnum("update:task")],
        project_id=project.id, content_type=models.WebhookContentType("application/json")))
    hooks.create_ping(hook.id)

    # an image task (CoreApi, TaskDataPrepare/Unit/Finalize) and its media (MediaApi)
    task = client.tasks.create_from_data({"name": "images", "project_id": project.id, "segment_size": 2},
                                         resources=[str(f) for f in images], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 80, "chunk_size": 2})
    task.update(models.PatchedTaskWriteRequest(name="images renamed"))  # -> the webhook
    task.get_meta()
    task.get_preview()
    task.get_frame(0, quality="original")
    task.get_frame(1, quality="compressed")
    client.api_client.tasks_api.retrieve_data(task.id, type="chunk", number=0, quality="compressed",
                                              _parse_response=False)
    jobs = task.get_jobs()
    client.jobs.retrieve(jobs[0].id).get_preview()

    # annotations and their history (AnnotationsApi)
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.set_annotations(models.LabeledDataRequest(shapes=[
        models.LabeledShapeRequest(type="rectangle", frame=f, label_id=labels["car"], points=[1.0, 1.0, 9.0, 9.0])
        for f in range(len(images))]))
    task.set_annotations(models.LabeledDataRequest(shapes=[models.LabeledShapeRequest(
        type="rectangle", frame=0, label_id=labels["person"], points=[2.0, 2.0, 8.0, 8.0])]))
    task.get_annotations()
    history = _api(client, "GET", f"/api/jobs/{jobs[0].id}/annotations/history")
    oldest = min(entry["version"] for entry in history["results"])
    _api(client, "POST", f"/api/jobs/{jobs[0].id}/annotations/history/{oldest}/restore")
    client.api_client.jobs_api.retrieve_data(jobs[1].id, type="chunk", number=0, quality="original",
                                             _parse_response=False)
    client.api_client.tasks_api.partial_update_data_meta(
        task.id, patched_data_meta_write_request=models.PatchedDataMetaWriteRequest(deleted_frames=[3]))

    # a video task
    clip = _video(folder / "clip.mp4", 12)
    video_task = client.tasks.create_from_data({"name": "video", "project_id": project.id},
                                               resources=[str(clip)], resource_type=ResourceType.LOCAL,
                                               data_params={"chunk_size": 4})
    video_task.get_frame(3, quality="original")
    video_task.get_frame(5, quality="compressed")

    # a task whose data fails (TaskDataFail)
    bad = folder / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(BackgroundRequestException):
        client.tasks.create_from_data({"name": "bad data", "project_id": project.id},
                                      resources=[str(bad)], resource_type=ResourceType.LOCAL)

    # dataset export (DatasetExport), annotations import (ImportAnnotations), backup and restore
    exported = folder / "coco.zip"
    task.export_dataset("COCO 1.0", exported, include_images=True)
    xml = folder / "cvat.zip"
    task.export_dataset("CVAT for images 1.1", xml, include_images=False)
    task.import_annotations("CVAT 1.1", str(xml))
    backup = folder / "backup.zip"
    task.download_backup(backup)
    restored = client.tasks.create_from_backup(backup)
    assert restored.size == task.size
    # pieces over S3's 5 MiB part minimum are joined by server-side copies (UploadPartCopy)
    import numpy as np

    noise = []
    for i in range(2):  # ~5.8 MB each: noise does not compress
        path = folder / f"noise{i}.png"
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (1100, 1750, 3), dtype=np.uint8)).save(
            path, compress_level=1)
        noise.append(path)
    big = client.tasks.create_from_data({"name": "big images", "project_id": project.id},
                                        resources=[str(f) for f in noise], resource_type=ResourceType.LOCAL,
                                        data_params={"image_quality": 30, "chunk_size": 2})
    big.export_dataset("COCO 1.0", folder / "big.zip", include_images=True)

    project_export = folder / "project.zip"
    project.export_dataset("CVAT for images 1.1", project_export, include_images=False)
    project.import_dataset("CVAT 1.1", project_export)
    project_backup = folder / "project-backup.zip"
    project.download_backup(project_backup)
    client.projects.create_from_backup(project_backup)

    # the CLI's presigned multipart uploads: task data, a backup to restore, annotations to import
    # (CoreApi signs the parts)
    made = _cli(runtime, "upload", "--name", "uploaded", "--project", str(project.id), str(images[0]))
    assert made.returncode == 0, made.stdout + made.stderr
    made = _cli(runtime, "restore", str(backup))
    assert made.returncode == 0, made.stdout + made.stderr
    made = _cli(runtime, "import-annotations", str(restored.id), str(exported), "--format", "COCO 1.0")
    assert made.returncode == 0, made.stdout + made.stderr
    client.tasks.remove_by_ids([restored.id])

    # analytics (AnalyticsWriter through its queue) and the events export (EventsExport)
    now = datetime.now(UTC)
    client.api_client.events_api.create(models.ClientEventsRequest(timestamp=now, events=[
        models.EventRequest(scope="load:job", timestamp=now, task_id=task.id, payload='{"origin": "iam"}')]))

    def exported_events() -> bool:
        rq, _ = client.api_client.events_api.create_export(task_id=task.id)

        def finished() -> Any:
            request, _ = client.api_client.requests_api.retrieve(rq.rq_id)
            assert request.status.value != "failed", request.message
            return request if request.status.value == "finished" else None

        conftest.wait_for(finished, what="the events export to finish", timeout=TIMEOUT, details=runtime.output)
        return any(c["function"] == "AnalyticsWriterFunction" for c in _calls(audit_file))

    conftest.wait_for(exported_events, what="the analytics writer to run", timeout=TIMEOUT, interval=1,
                      details=runtime.output)

    # the drop folder (Ingest): a video under uploads/projects/<id>/
    outputs = runtime.facts()["outputs"]
    s3 = runtime.boto3("s3")
    s3.put_object(Bucket=outputs["MediaBucketName"], Key=f"{outputs['UploadPrefix']}projects/{project.id}/drop.mp4",
                  Body=clip.read_bytes(), ContentType="video/mp4")

    # auto-annotation with the offline detector (FunctionsApi, AutoAnnotate), then the same model as
    # an asynchronous endpoint (its answers come back through S3 and the results queue:
    # AutoAnnotateResults)
    mapping = {"car": {"name": "car"}, "person": {"name": "person"}}
    ended = _lambda_request(client, runtime, function="yolox-nano", task=task.id, threshold=0.5, mapping=mapping)
    assert ended["status"] == "finished", ended
    entry = folder / "async.json"
    entry.write_text(json.dumps({
        "id": "yolox-nano-async", "name": "YOLOX-nano async", "kind": "detector", "mode": "async",
        "endpoint": "yolox-nano", "labels_v2": [{"name": n, "type": "rectangle", "attributes": []}
                                                for n in ("car", "person")]}))
    added = conftest.cli("function", "add", str(entry), data_dir=runtime.data_dir)
    assert added.returncode == 0, added.stderr
    ended = _lambda_request(client, runtime, function="yolox-nano-async", task=task.id, threshold=0.5,
                            mapping=mapping)
    assert ended["status"] == "finished", ended

    # a request canceled while it runs (FunctionsApi stops the execution)
    many = client.tasks.create_from_data({"name": "to cancel", "project_id": project.id},
                                         resources=[str(f) for f in _images(folder, 40, (320, 240))],
                                         resource_type=ResourceType.LOCAL, data_params={"chunk_size": 2})
    answer, _ = client.api_client.lambda_api.create_requests(models.FunctionCallRequest(
        function="yolox-nano", task=many.id, mapping=mapping))
    client.api_client.lambda_api.delete_requests(answer.to_dict()["id"] if hasattr(answer, "to_dict")
                                                 else dict(answer)["id"])

    def delivered() -> bool:
        with _Receiver.lock:
            return any(event.get("event") == "update:task" for event in _Receiver.got)

    conftest.wait_for(delivered, what="the webhook delivery", timeout=TIMEOUT, details=runtime.output)
    page, _ = hooks.list_deliveries(hook.id)
    update = next(d for d in page.results if d.event == "update:task")
    hooks.create_deliveries_redelivery(str(update.id), hook.id)  # WebhooksApi queues it again

    def redelivered() -> bool:
        with _Receiver.lock:
            return sum(event.get("event") == "update:task" for event in _Receiver.got) > 1

    conftest.wait_for(redelivered, what="the webhook redelivery", timeout=TIMEOUT, details=runtime.output)

    def ingested() -> bool:
        tasks = client.api_client.tasks_api.list(project_id=project.id, name="drop.mp4")[0].results
        return bool(tasks) and tasks[0].size == 12

    conftest.wait_for(ingested, what="the dropped video's task", timeout=TIMEOUT, interval=0.5,
                      details=runtime.output)
    return _calls(audit_file)


def _describe(call: dict[str, Any]) -> str:
    prefix = f" (s3:prefix {call['s3_prefix']!r})" if "s3_prefix" in call else ""
    presigned = " [presigned]" if call.get("presigned") else ""
    return f"{call['function']}: {call['action']} on {call['resource']}{prefix}{presigned} ({call['operation']})"


def test_every_recorded_call_is_allowed_by_the_function_s_role(scenario: list[dict[str, Any]]) -> None:
    assert scenario, "the recorder wrote nothing: is CVAT_LOCAL_IAM_AUDIT read by the runtime?"
    policies = template_policies()
    denied = sorted({_describe(c) for c in scenario
                     if not policies.allowed(c["function"], c["action"], c["resource"], c.get("s3_prefix"))})
    assert not denied, "calls template.yaml does not allow:\n" + "\n".join(denied)


def test_every_function_of_the_template_ran(scenario: list[dict[str, Any]]) -> None:
    seen = {c["function"] for c in scenario}
    expected = set(template_policies().by_function) - set(UNREACHABLE)
    assert sorted(expected - seen) == [], "functions the scenario did not run"
    assert not seen - set(template_policies().by_function), "calls from functions not in the template"


def test_the_recorder_writes_nothing_for_the_runtime_s_own_calls(scenario: list[dict[str, Any]]) -> None:
    """Only handlers' calls are attributed: the deployer's and the SQS pollers' never are."""
    assert all(c["function"] in template_policies().by_function for c in scenario)
    assert not any(c["action"] in ("sqs:ReceiveMessage", "dynamodb:CreateTable") for c in scenario)



def test_the_recorder_saw_each_kind_of_call(scenario: list[dict[str, Any]]) -> None:
    """The recorder's wiring: presigned URLs, list prefixes, transactions split per item, calls
    from the transfer manager's threads; a recorder that misses them would pass (a) for nothing."""
    def seen(function: str, action: str, **match: Any) -> bool:
        return any(c["function"] == function and c["action"] == action and all(c.get(k) == v for k, v in match.items())
                   for c in scenario)

    assert seen("MediaApiFunction", "s3:GetObject", presigned=True)
    assert seen("CoreApiFunction", "s3:PutObject", presigned=True, operation="s3.UploadPart")
    assert any(c["action"] == "s3:ListBucket" and c.get("s3_prefix") for c in scenario)
    assert seen("CoreApiFunction", "dynamodb:PutItem", operation="dynamodb.TransactWriteItems")
    assert seen("DatasetExportFunction", "s3:GetObject", operation="s3.UploadPartCopy")
    assert seen("AutoAnnotateFunction", "sagemaker:InvokeEndpointAsync")
    assert seen("AutoAnnotateResultsFunction", "states:SendTaskSuccess")
