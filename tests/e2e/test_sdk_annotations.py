"""Annotations with the official cvat-sdk 2.80 against the embedded runtime: a job's and a task's
set/get/update/remove_annotations, server ids echoed back, versions counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

import requests  # noqa: E402
from cvat_sdk import Client, Config, models  # noqa: E402
from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-annotations", "e2e-annotations-pass-1"


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "ann@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    config = Config(status_check_period=0.2, cache_dir=tmp_path_factory.mktemp("sdk-cache"))
    with Client(runtime.url, config=config) as c:
        c.login((USER, PASSWORD))
        yield c


@pytest.fixture(scope="module")
def task(client: Client, tmp_path_factory: pytest.TempPathFactory) -> Task:
    folder = tmp_path_factory.mktemp("images")
    files = []
    for i in range(4):
        Image.new("RGB", (64, 48), (i * 50, 10, 10)).save(folder / f"img{i}.png")
        files.append(folder / f"img{i}.png")
    return client.tasks.create_from_data({"name": "e2e annotations", "labels": [{"name": "car"}, {"name": "sky"}],
                                          "segment_size": 2}, resources=[str(f) for f in files],
                                         resource_type=ResourceType.LOCAL, data_params={"image_quality": 90})


def rect(frame: int, label_id: int, x: float) -> models.LabeledShapeRequest:
    return models.LabeledShapeRequest(type="rectangle", frame=frame, label_id=label_id, points=[x, 1.0, x + 9, 10.0])


def test_job_annotations_with_the_sdk(client: Client, task: Task) -> None:
    labels = {lb.name: lb.id for lb in task.get_labels()}
    job = sorted(task.get_jobs(), key=lambda j: j.start_frame)[0]
    job = client.jobs.retrieve(job.id)
    job.set_annotations(models.LabeledDataRequest(
        shapes=[rect(0, labels["car"], 1.0), rect(1, labels["car"], 20.0)],
        tags=[models.LabeledImageRequest(frame=1, label_id=labels["sky"])]))
    got = job.get_annotations()
    assert got.version == 1 and len(got.shapes) == 2 and len(got.tags) == 1
    assert all(s.id for s in got.shapes)
    first = got.shapes[0]
    job.update_annotations(models.PatchedLabeledDataRequest(shapes=[models.LabeledShapeRequest(
        id=first.id, type="rectangle", frame=first.frame, label_id=first.label_id, points=[2.0, 2.0, 8.0, 8.0])]))
    job.update_annotations(models.PatchedLabeledDataRequest(shapes=[rect(1, labels["car"], 40.0)]),
                           action=AnnotationUpdateAction.CREATE)
    got = job.get_annotations()
    assert got.version == 3 and len(got.shapes) == 3
    assert {s.id: s.points for s in got.shapes}[first.id] == [2.0, 2.0, 8.0, 8.0]
    job.remove_annotations(ids=[first.id, got.tags[0].id])
    got = job.get_annotations()
    assert first.id not in {s.id for s in got.shapes} and got.tags == []
    # the save history and restore (this server's extension), with the SDK's session
    cookies = {name: client.api_client.cookies[name].value for name in ("sessionid", "csrftoken")}
    base = f"{client.api_map.host}/api/jobs/{job.id}/annotations/history"
    history = requests.get(base, cookies=cookies, timeout=10)
    assert history.status_code == 200, history.text
    assert [h["version"] for h in history.json()["results"]] == [4, 3, 2, 1]
    restored = requests.post(f"{base}/1/restore", cookies=cookies, headers={"X-CSRFToken": cookies["csrftoken"]},
                             timeout=10)
    assert restored.status_code == 200, restored.text
    assert job.get_annotations().version == 5 and len(job.get_annotations().shapes) == 2
    job.remove_annotations()
    assert job.get_annotations().shapes == []


def test_task_annotations_with_the_sdk(task: Task) -> None:
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.set_annotations(models.LabeledDataRequest(shapes=[rect(f, labels["car"], 5.0 * f) for f in range(4)]))
    got = task.get_annotations()
    assert sorted(s.frame for s in got.shapes) == [0, 1, 2, 3]
    per_job = {j.id: len(j.get_annotations().shapes) for j in task.get_jobs()}
    assert sorted(per_job.values()) == [2, 2]
    task.update_annotations(models.PatchedLabeledDataRequest(shapes=[rect(3, labels["sky"], 30.0)]),
                            action=AnnotationUpdateAction.CREATE)
    got = task.get_annotations()
    assert len(got.shapes) == 5
    task.remove_annotations(ids=[s.id for s in got.shapes if s.frame in (0, 3)])
    assert sorted(s.frame for s in task.get_annotations().shapes) == [1, 2]
    task.remove_annotations()
    assert task.get_annotations().shapes == []
