"""`cvat-serverless restore` and `cvat-serverless import-annotations` against `cvat-serverless up`
started with a small --max-request-bytes (as on AWS, where cvat-sdk's TUS upload of a big backup is
refused): the backup cvat-sdk's task.download_backup made goes straight to the embedded S3 port in
presigned parts, the restore runs, and the restored task has the annotations; then a COCO file is
imported into it the same way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, models  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-restore", "e2e-restore-pass-1"
MAX_REQUEST_BYTES = 20_000


@pytest.fixture(scope="module")
def small_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[conftest.Runtime]:
    rt = conftest.Runtime(tmp_path_factory.mktemp("rt") / "data",
                          up_args=("--max-request-bytes", str(MAX_REQUEST_BYTES))).start()
    yield rt
    if rt.process is not None:
        rt.stop()


@pytest.fixture(scope="module")
def client(small_runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(small_runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


def shapes(task: Task) -> list[tuple[Any, ...]]:
    names = {lb.id: lb.name for lb in task.get_labels()}
    return sorted((s.type.value, s.frame, names[s.label_id], tuple(s.points)) for s in task.get_annotations().shapes)


def cli(runtime: conftest.Runtime, *args: str) -> Any:
    return conftest.cli(*args, "--server", runtime.url, "--user", USER, data_dir=runtime.data_dir,
                        env={"CVAT_PASSWORD": PASSWORD}, timeout=300)


def test_a_backup_too_big_for_a_request_restores_with_the_cli(client: Client, small_runtime, tmp_path: Path):
    import numpy as np

    rng = np.random.default_rng(7)
    images = []
    for i in range(3):  # noise: PNG cannot shrink it, so the backup is bigger than a request may be
        Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(tmp_path / f"img{i}.png")
        images.append(str(tmp_path / f"img{i}.png"))
    task = client.tasks.create_from_data({"name": "backed up", "labels": [{"name": "car"}, {"name": "sky"}],
                                          "segment_size": 2}, resources=images, resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 90})
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.set_annotations(models.LabeledDataRequest(shapes=[
        models.LabeledShapeRequest(type="rectangle", frame=f, label_id=labels["car" if f % 2 else "sky"],
                                   points=[1.0 + f, 2.0, 20.0, 30.0 + f]) for f in range(3)]))
    backup = tmp_path / "task_backup.zip"
    task.download_backup(str(backup))
    assert backup.stat().st_size > MAX_REQUEST_BYTES

    # cvat-sdk's own restore (TUS) is refused, naming the way that works
    with pytest.raises(Exception, match=r"413|cvat-serverless restore"):
        client.tasks.create_from_backup(str(backup))

    restored = cli(small_runtime, "restore", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    found = re.search(r"^Task (\d+) \(backed up\) restored from task_backup\.zip\.$", restored.stdout, re.M)
    assert found, restored.stdout
    new = client.tasks.retrieve(int(found.group(1)))
    assert new.id != task.id and new.size == 3
    assert shapes(new) == shapes(task)

    # import-annotations: the task's annotations, exported as COCO, replace what the new task has
    coco = tmp_path / "coco.zip"
    task.export_dataset("COCO 1.0", str(coco), include_images=False)
    new.remove_annotations()
    assert shapes(new) == []
    imported = cli(small_runtime, "import-annotations", str(new.id), str(coco), "--format", "COCO 1.0")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert f"Task {new.id}: coco.zip imported (COCO 1.0, replace)." in imported.stdout
    assert [(s[1], s[2]) for s in shapes(new)] == [(s[1], s[2]) for s in shapes(task)]

    # a wrong format is refused before any byte is sent
    wrong = cli(small_runtime, "import-annotations", str(new.id), str(coco), "--format", "No such 9.9")
    assert wrong.returncode == 1 and "No such 9.9" in wrong.stderr
