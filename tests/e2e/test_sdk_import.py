"""Importing annotations with the official cvat-sdk / cvat-cli 2.80 against the embedded runtime:
the SDK's upload protocol (TUS even for a tiny file) into the import state machine. Files are made
by the formats engine from a task's annotations (the HTTP export is tested on its own); they are
imported into a fresh task, a job, and with append and replace; a junk file fails the request with
the engine's message and leaves the annotations as they were."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, models  # noqa: E402
from cvat_sdk.core.exceptions import BackgroundRequestException  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: E402
from PIL import Image  # noqa: E402

from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabeledData, LabelSpec  # noqa: E402
from cvat_serverless.formats.registry import get_exporter  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-import", "e2e-import-pass-1"
LABELS = [{"name": "car"}, {"name": "sky"}]


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("images")
    files = []
    for i in range(4):
        Image.new("RGB", (64, 48), (i * 50, 10, 10)).save(folder / f"img{i}.png")
        files.append(folder / f"img{i}.png")
    return files


def new_task(client: Client, images: list[Path], name: str) -> Task:
    return client.tasks.create_from_data({"name": name, "labels": LABELS, "segment_size": 2},
                                         resources=[str(f) for f in images], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 90})


def rect(frame: int, label_id: int, x: float) -> models.LabeledShapeRequest:
    return models.LabeledShapeRequest(type="rectangle", frame=frame, label_id=label_id, points=[x, 1.0, x + 9, 10.0])


def export(task: Task, fmt: str, path: Path) -> Path:
    """The task's annotations as the formats engine writes ``fmt``, built from the API's answers."""
    labels = [LabelSpec(id=lb.id, name=lb.name) for lb in task.get_labels()]
    meta = task.get_meta()
    frames = [FrameInfo(i, f.name, f.width, f.height) for i, f in enumerate(meta.frames)]
    data = LabeledData.from_dict(task.get_annotations().to_dict())
    out = io.BytesIO()
    get_exporter(fmt)(DatasetView(labels=labels, frames=frames, annotations=data, task_id=task.id, name=task.name),
                      out, None)
    path.write_bytes(out.getvalue())
    return path


def by_name(task: Task) -> dict[int, str]:
    return {lb.id: lb.name for lb in task.get_labels()}


def shapes(task: Task) -> list[tuple[Any, ...]]:
    names = by_name(task)
    got = task.get_annotations()
    return sorted((s.type.value, s.frame, names[s.label_id], tuple(s.points)) for s in got.shapes) + sorted(
        ("tag", t.frame, names[t.label_id]) for t in got.tags)


@pytest.fixture(scope="module")
def source(client: Client, images: list[Path]) -> Task:
    task = new_task(client, images, "import source")
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.set_annotations(models.LabeledDataRequest(
        shapes=[rect(0, labels["car"], 1.0), rect(1, labels["sky"], 20.0), rect(3, labels["car"], 5.0)],
        tags=[models.LabeledImageRequest(frame=2, label_id=labels["sky"])]))
    return task


@pytest.mark.parametrize("fmt, exporter, name", [("COCO 1.0", "COCO 1.0", "coco.zip"),
                                                 ("CVAT 1.1", "CVAT for images 1.1", "cvat.zip")])
def test_import_annotations_into_a_fresh_task(client: Client, images: list[Path], source: Task, tmp_path: Path,
                                              fmt: str, exporter: str, name: str):
    file = export(source, exporter, tmp_path / name)
    target = new_task(client, images, f"import {fmt}")
    target.import_annotations(fmt, file)
    expected = [s for s in shapes(source) if fmt != "COCO 1.0" or s[0] != "tag"]  # COCO has no tags
    assert shapes(target) == expected


def test_replace_append_and_a_junk_file(client: Client, images: list[Path], source: Task, tmp_path: Path):
    file = export(source, "CVAT for images 1.1", tmp_path / "cvat.zip")
    target = new_task(client, images, "import modes")
    labels = {lb.name: lb.id for lb in target.get_labels()}
    target.set_annotations(models.LabeledDataRequest(shapes=[rect(2, labels["car"], 30.0)]))
    target.import_annotations("CVAT 1.1", file, import_mode="append")
    assert len(target.get_annotations().shapes) == 4
    target.import_annotations("CVAT 1.1", file)  # CVAT's default: replace
    assert shapes(target) == shapes(source)

    before = target.get_annotations().to_dict()
    junk = tmp_path / "annotations.xml"
    junk.write_text("<annotations><version>1.1</version><image id='0' name='img0.png'><box label='car'")
    with pytest.raises(BackgroundRequestException, match=r"annotations\.xml"):
        target.import_annotations("CVAT 1.1", junk)
    assert target.get_annotations().to_dict() == before


def test_a_job_import(client: Client, images: list[Path], source: Task, tmp_path: Path):
    target = new_task(client, images, "import job")
    job = client.jobs.retrieve(sorted(target.get_jobs(), key=lambda j: j.start_frame)[1].id)  # frames 2-3
    names = by_name(source)
    only_job = [s for s in source.get_annotations().shapes if 2 <= s.frame <= 3]
    view_source = new_task(client, images, "import job source")
    labels = {lb.name: lb.id for lb in view_source.get_labels()}
    view_source.set_annotations(models.LabeledDataRequest(shapes=[
        rect(s.frame, labels[names[s.label_id]], s.points[0]) for s in only_job]))
    file = export(view_source, "CVAT for images 1.1", tmp_path / "job.zip")
    job.import_annotations("CVAT 1.1", file)
    got = job.get_annotations()
    assert sorted((s.frame, s.points[0]) for s in got.shapes) == sorted((s.frame, s.points[0]) for s in only_job)


def test_cli_import_dataset(client: Client, runtime, images: list[Path], source: Task, tmp_path: Path):
    file = export(source, "CVAT for images 1.1", tmp_path / "cvat.zip")
    target = new_task(client, images, "import cli")
    done = subprocess.run([sys.executable, "-m", "cvat_cli", "--server-host", runtime.url, "--auth",
                           f"{USER}:{PASSWORD}", "task", "import-dataset", str(target.id), str(file),
                           "--format", "CVAT 1.1"], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert shapes(target) == shapes(source)


def test_project_import_dataset_into_its_tasks(client: Client, images: list[Path], tmp_path: Path):
    project = client.projects.create(models.ProjectWriteRequest(name="import project", labels=[
        models.PatchedLabelRequest(name="car"), models.PatchedLabelRequest(name="sky")]))
    task = client.tasks.create_from_data({"name": "in project", "project_id": project.id},
                                         resources=[str(f) for f in images], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 90})
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.set_annotations(models.LabeledDataRequest(shapes=[rect(1, labels["car"], 3.0), rect(2, labels["sky"], 7.0)]))
    expected = shapes(task)
    file = export(task, "COCO 1.0", tmp_path / "coco.zip")
    task.remove_annotations()
    assert shapes(task) == []
    project.import_dataset("COCO 1.0", file)
    assert shapes(task) == expected
