"""Dataset export with the official cvat-sdk 2.80 and cvat-cli against the embedded runtime: tasks,
jobs and projects, with and without images, in several formats; the archives opened (pycocotools
reads the COCO file), images byte for byte, a video's frames as PNGs, stored results reused."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

import requests  # noqa: E402
from cvat_sdk import Client, models  # noqa: E402
from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-export", "e2e-export-pass-1"


@pytest.fixture(scope="module")
def client(runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield from conftest.sdk_client(runtime, tmp_path_factory.mktemp("sdk-cache"), USER, PASSWORD)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("images")
    files = []
    for i in range(6):
        path = folder / f"img{i}.jpg"
        Image.new("RGB", (64 + i, 48), (i * 40, 10, 10)).save(path, quality=90)
        files.append(path)
    return files


def rect(frame: int, label_id: int, x: float) -> models.LabeledShapeRequest:
    return models.LabeledShapeRequest(type="rectangle", frame=frame, label_id=label_id, points=[x, 1.0, x + 9, 10.0])


def annotated_task(client: Client, images: list[Path], name: str, **spec: object) -> Task:
    task = client.tasks.create_from_data({"name": name, "segment_size": 3, **spec},
                                         resources=[str(f) for f in images], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 80, "chunk_size": 2})
    labels = {lb.name: lb.id for lb in task.get_labels()}
    count = len(images)
    task.set_annotations(models.LabeledDataRequest(
        shapes=[rect(f, labels["car"], 1.0 + f) for f in range(count)] + [rect(count - 2, labels["person"], 30.0)],
        tags=[models.LabeledImageRequest(frame=1, label_id=labels["person"])],
        tracks=[models.LabeledTrackRequest(frame=0, label_id=labels["car"], shapes=[
            models.TrackedShapeRequest(type="rectangle", frame=0, points=[5.0, 5.0, 20.0, 20.0]),
            models.TrackedShapeRequest(type="rectangle", frame=count // 2, points=[9.0, 5.0, 24.0, 20.0],
                                       outside=True)])]))
    return task


@pytest.fixture(scope="module")
def task(client: Client, images: list[Path]) -> Task:
    return annotated_task(client, images, "e2e export", labels=[{"name": "car"}, {"name": "person"}])


def test_coco_with_images(task: Task, tmp_path: Path, images: list[Path]) -> None:
    from pycocotools.coco import COCO

    out = tmp_path / "coco.zip"
    task.export_dataset("COCO 1.0", out, include_images=True)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {f"images/default/{p.name}" for p in images} <= names
        for p in images:  # the uploaded files, byte for byte
            assert z.read(f"images/default/{p.name}") == p.read_bytes()
        z.extract("annotations/instances_default.json", tmp_path)
    coco = COCO(str(tmp_path / "annotations/instances_default.json"))
    assert len(coco.getImgIds()) == 6
    # 7 shapes, and the track's boxes on frames 0, 1, 2 (outside from 3)
    assert len(coco.getAnnIds()) == 10
    assert {c["name"] for c in coco.loadCats(coco.getCatIds())} == {"car", "person"}


def test_cvat_xml_without_images_through_the_cli(runtime, task: Task, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "cvat_cli", "--server-host", runtime.url, "--auth", f"{USER}:{PASSWORD}",
         "task", "export-dataset", str(task.id), f"{out_dir}/", "--format", "CVAT for images 1.1",
         "--with-images", "false", "--completion_verification_period", "0.2"],
        capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stderr
    (saved,) = out_dir.iterdir()  # named from Content-Disposition
    assert saved.name.startswith(f"task_{task.id}_annotations_") and saved.name.endswith(".zip")
    with zipfile.ZipFile(saved) as z:
        assert z.namelist() == ["annotations.xml"]
        xml = z.read("annotations.xml").decode()
    assert xml.count("<box ") == 7 + 3 and "<tag " in xml


@pytest.mark.parametrize("fmt", ["YOLO 1.1", "Datumaro 1.0", "PASCAL VOC 1.1", "Segmentation mask 1.1"])
def test_other_formats_with_images(task: Task, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "export.zip"
    task.export_dataset(fmt, out, include_images=True)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        images = [n for n in z.namelist() if n.lower().endswith((".jpg", ".jpeg"))]
    assert len(images) == 6


def test_a_job_export_has_the_jobs_frames_only(client: Client, task: Task, tmp_path: Path) -> None:
    job = sorted(task.get_jobs(), key=lambda j: j.start_frame)[1]  # frames 3-5
    out = tmp_path / "job.zip"
    client.jobs.retrieve(job.id).export_dataset("COCO 1.0", out, include_images=True)
    with zipfile.ZipFile(out) as z:
        coco = json.loads(z.read("annotations/instances_default.json"))
        images = sorted(n for n in z.namelist() if n.startswith("images/"))
    assert [i["file_name"] for i in coco["images"]] == ["img3.jpg", "img4.jpg", "img5.jpg"]
    assert images == ["images/default/img3.jpg", "images/default/img4.jpg", "images/default/img5.jpg"]
    assert len(coco["annotations"]) == 4  # the shapes on 3, 4 (two) and 5; the track is outside


def test_a_project_export_holds_every_task(client: Client, images: list[Path], tmp_path: Path) -> None:
    project = client.projects.create(models.ProjectWriteRequest(
        name="e2e export project", labels=[models.PatchedLabelRequest(name="car"),
                                           models.PatchedLabelRequest(name="person")]))
    first = annotated_task(client, images[:4], "first", project_id=project.id, subset="train")
    second = client.tasks.create_from_data({"name": "second", "project_id": project.id, "subset": "val"},
                                           resources=[str(f) for f in images[4:]], resource_type=ResourceType.LOCAL)
    labels = {lb.name: lb.id for lb in first.get_labels()}
    second.set_annotations(models.LabeledDataRequest(shapes=[rect(0, labels["person"], 3.0)]))
    out = tmp_path / "project.zip"
    project.export_dataset("COCO 1.0", out, include_images=True)
    with zipfile.ZipFile(out) as z:
        train = json.loads(z.read("annotations/instances_train.json"))
        val = json.loads(z.read("annotations/instances_val.json"))
        names = set(z.namelist())
    assert [i["file_name"] for i in train["images"]] == ["img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg"]
    assert [i["file_name"] for i in val["images"]] == ["img4.jpg", "img5.jpg"]
    assert len(train["annotations"]) == 4 + 1 + 2  # the shapes, and the track's boxes on frames 0 and 1
    assert len(val["annotations"]) == 1
    assert {"images/train/img0.jpg", "images/val/img5.jpg"} <= names
    # the second task's shape is on its frame 0, the project's frame 4
    assert val["annotations"][0]["image_id"] == val["images"][0]["id"]


def test_a_video_task_exports_its_frames_as_pngs(client: Client, tmp_path: Path) -> None:
    import av

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w", format="mp4") as muxer:
        stream = muxer.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            for packet in stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 40, 0, 0)))):
                muxer.mux(packet)
        for packet in stream.encode():
            muxer.mux(packet)
    task = client.tasks.create_from_data({"name": "video export", "labels": [{"name": "car"}]},
                                         resources=[str(path)], resource_type=ResourceType.LOCAL)
    out = tmp_path / "video.zip"
    task.export_dataset("CVAT for video 1.1", out, include_images=True)
    with zipfile.ZipFile(out) as z:
        frames = sorted(n for n in z.namelist() if n.startswith("images/"))
        assert frames == [f"images/frame_{i:06d}.PNG" for i in range(5)] or \
            frames == [f"images/default/frame_{i:06d}.PNG" for i in range(5)], frames
        first = Image.open(io.BytesIO(z.read(frames[0])))
    assert first.format == "PNG" and first.size == (64, 48)
    stepped = client.tasks.create_from_data({"name": "video every other frame", "labels": [{"name": "car"}]},
                                            resources=[str(path)], resource_type=ResourceType.LOCAL,
                                            data_params={"frame_step": 2, "start_frame": 1})
    out = tmp_path / "stepped.zip"
    stepped.export_dataset("COCO 1.0", out, include_images=True)
    meta = stepped.get_meta()
    step = int(meta.frame_filter.split("=")[1]) if meta.frame_filter else 1
    assert (meta.start_frame, step) == (1, 2), (meta.start_frame, meta.frame_filter)
    with zipfile.ZipFile(out) as z:  # named by their number in the video, as CVAT names them
        assert [i["file_name"] for i in json.loads(z.read("annotations/instances_default.json"))["images"]] == [
            f"frame_{meta.start_frame + i * step:06d}.PNG" for i in range(meta.size)]
    backup = tmp_path / "video-backup.zip"
    task.download_backup(backup)
    with zipfile.ZipFile(backup) as z:  # the uploaded video itself, kept after processing
        assert z.read("data/clip.mp4") == path.read_bytes()


def test_an_unchanged_task_is_answered_from_the_stored_export(client: Client, task: Task, tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    task.export_dataset("COCO 1.0", a, include_images=True)
    task.export_dataset("COCO 1.0", b, include_images=True)
    assert a.read_bytes() == b.read_bytes()
    labels = {lb.name: lb.id for lb in task.get_labels()}
    task.update_annotations(models.PatchedLabeledDataRequest(shapes=[rect(2, labels["car"], 40.0)]),
                            action=AnnotationUpdateAction.CREATE)
    c = tmp_path / "c.zip"
    task.export_dataset("COCO 1.0", c, include_images=True)
    with zipfile.ZipFile(c) as z:
        assert len(json.loads(z.read("annotations/instances_default.json"))["annotations"]) == 11


def test_refusals(client: Client, runtime, task: Task) -> None:
    cookies = {name: client.api_client.cookies[name].value for name in ("sessionid", "csrftoken")}
    headers = {"X-CSRFToken": cookies["csrftoken"]}
    unknown = requests.post(f"{runtime.url}/api/tasks/{task.id}/dataset/export?format=Nope+1.0",
                            cookies=cookies, headers=headers, timeout=10)
    assert unknown.status_code == 400 and "Nope 1.0" in unknown.text
    missing = requests.get(f"{runtime.url}/api/tasks/{task.id}/dataset/download?rq_id=export:none",
                           cookies=cookies, timeout=10, allow_redirects=False)
    assert missing.status_code == 404
    empty = client.tasks.create({"name": "no data", "labels": [{"name": "car"}]})
    with pytest.raises(Exception, match="no data"):
        empty.export_dataset("COCO 1.0", "never.zip")
    assert not Path("never.zip").exists()


def test_a_task_backup_has_cvats_layout(task: Task, images: list[Path], tmp_path: Path) -> None:
    from cvat_serverless.formats.backup import read_task_backup

    out = tmp_path / "backup.zip"
    task.download_backup(out)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        for p in images:
            assert z.read(f"data/{p.name}") == p.read_bytes()
        meta = json.loads(z.read("task.json"))
    assert {"task.json", "annotations.json", "data/manifest.jsonl"} <= names
    assert meta["name"] == "e2e export" and [j["start_frame"] for j in meta["jobs"]] == [0, 3]
    assert {lb["name"] for lb in meta["labels"]} == {"car", "person"}
    with out.open("rb") as f, read_task_backup(f, out.name) as contents:
        assert contents.media == [p.name for p in images]
        shapes = sum(len(job["shapes"]) for job in contents.annotations)
        assert shapes == len(task.get_annotations().shapes)


def test_a_project_backup_holds_its_tasks(client: Client, images: list[Path], tmp_path: Path) -> None:
    from cvat_serverless.formats.backup import read_project_backup

    project = client.projects.create(models.ProjectWriteRequest(
        name="e2e backup project", labels=[models.PatchedLabelRequest(name="car"),
                                           models.PatchedLabelRequest(name="person")]))
    annotated_task(client, images[:2], "one", project_id=project.id)
    annotated_task(client, images[2:5], "two", project_id=project.id)
    out = tmp_path / "project.zip"
    project.download_backup(out)
    with out.open("rb") as f, read_project_backup(f, out.name) as contents:
        assert contents.name == "e2e backup project"
        assert [t.name for t in contents.tasks] == ["one", "two"]
        assert [t.media for t in contents.tasks] == [[p.name for p in images[:2]], [p.name for p in images[2:5]]]


def test_a_task_backup_restores_as_an_equal_task(client: Client, task: Task, tmp_path: Path) -> None:
    out = tmp_path / "backup.zip"
    task.download_backup(out)
    restored = client.tasks.create_from_backup(out)
    assert restored.id != task.id and restored.name == task.name and restored.size == task.size
    assert [(j.start_frame, j.stop_frame) for j in sorted(restored.get_jobs(), key=lambda j: j.start_frame)] == \
        [(j.start_frame, j.stop_frame) for j in sorted(task.get_jobs(), key=lambda j: j.start_frame)]
    assert {lb.name for lb in restored.get_labels()} == {lb.name for lb in task.get_labels()}
    assert comparable(restored) == comparable(task)
    for frame in range(task.size):  # the same images, frame by frame
        assert restored.get_frame(frame, quality="original").read() == task.get_frame(frame, quality="original").read()


def test_a_project_backup_restores_with_its_tasks(client: Client, images: list[Path], tmp_path: Path) -> None:
    project = client.projects.create(models.ProjectWriteRequest(
        name="e2e restore project", labels=[models.PatchedLabelRequest(name="car"),
                                            models.PatchedLabelRequest(name="person")]))
    first = annotated_task(client, images[:3], "one", project_id=project.id)
    out = tmp_path / "project.zip"
    project.download_backup(out)
    restored = client.projects.create_from_backup(out)
    assert restored.id != project.id and restored.name == project.name
    (task,) = restored.get_tasks()
    assert task.name == "one" and comparable(task) == comparable(first)


def test_a_damaged_backup_creates_nothing(client: Client, tmp_path: Path) -> None:
    from cvat_sdk.core.exceptions import BackgroundRequestException

    before = {t.id for t in client.tasks.list()}
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("task.json", json.dumps({"name": "x", "labels": [{"name": "car", "attributes": []}],
                                            "jobs": [{"start_frame": 0, "stop_frame": 0, "status": "annotation"}],
                                            "data": {"image_quality": 70}, "version": "1.0"}))
        z.writestr("annotations.json", json.dumps([{"version": 1, "tags": [], "tracks": [], "shapes": [
            {"type": "rectangle", "frame": 0, "label": "dog", "points": [1, 1, 5, 5], "attributes": []}]}]))
        z.writestr("data/a.png", b"not a png")
    with pytest.raises(BackgroundRequestException, match="dog"):
        client.tasks.create_from_backup(bad)
    assert {t.id for t in client.tasks.list()} == before


def comparable(task: Task) -> list[tuple[Any, ...]]:
    """A task's annotations without ids, label ids as names: what a restore must keep."""
    names = {lb.id: lb.name for lb in task.get_labels()}
    data = task.get_annotations()
    shapes = sorted((s.type.value, s.frame, names[s.label_id], tuple(s.points)) for s in data.shapes)
    tags = sorted((t.frame, names[t.label_id]) for t in data.tags)
    tracks = sorted((names[t.label_id], tuple((s.frame, s.outside, tuple(s.points)) for s in t.shapes))
                    for t in data.tracks)
    return [tuple(shapes), tuple(tags), tuple(tracks)]


def test_a_backup_in_cvats_own_layout_restores(client: Client, tmp_path: Path) -> None:
    """A backup as CVAT 2.x writes it (task.json, annotations.json with labels by name, data/ with
    the files and their manifest), made by hand from CVAT's layout: the restored task has its
    frames in the manifest's order, its jobs, and every annotation with the new label ids."""
    images = {}
    for i, name in enumerate(["img2.jpg", "img10.jpg", "b.jpg", "a.jpg"]):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (i * 60, 20, 20)).save(buffer, format="JPEG")
        images[name] = buffer.getvalue()
    labels = [
        {"name": "car", "color": "#fa3253", "type": "rectangle", "svg": "", "sublabels": [], "attributes": [
            {"name": "model", "mutable": False, "input_type": "select", "default_value": "bmw",
             "values": ["bmw", "audi"]}]},
        {"name": "sunny", "color": "#ffcc33", "type": "tag", "svg": "", "sublabels": [], "attributes": []},
    ]
    task_json = {
        "name": "made by cvat", "bug_tracker": "", "status": "annotation", "subset": "Train", "labels": labels,
        "version": "1.0",
        "data": {"chunk_size": 2, "image_quality": 70, "start_frame": 0, "stop_frame": 3, "chunk_type": "imageset",
                 "storage_method": "cache", "storage": "local", "sorting_method": "predefined", "deleted_frames": []},
        "jobs": [{"status": "completed", "type": "annotation", "start_frame": 0, "stop_frame": 1, "frames": []},
                 {"status": "annotation", "type": "annotation", "start_frame": 2, "stop_frame": 3, "frames": []}],
    }
    shape = {"type": "rectangle", "occluded": False, "outside": False, "z_order": 0, "rotation": 0.0, "group": 0,
             "source": "manual", "elements": []}
    annotations = [
        {"version": 2, "tags": [{"frame": 0, "group": 0, "source": "manual", "attributes": [], "label": "sunny"}],
         "shapes": [{**shape, "points": [1.0, 2.0, 30.0, 40.0], "frame": 1, "label": "car",
                     "attributes": [{"name": "model", "value": "audi"}]}], "tracks": []},
        {"version": 0, "tags": [], "shapes": [], "tracks": [
            {"frame": 2, "group": 0, "source": "manual", "label": "car", "elements": [],
             "attributes": [{"name": "model", "value": "bmw"}],
             "shapes": [{**shape, "points": [0.0, 0.0, 5.0, 5.0], "frame": 2, "attributes": []},
                        {**shape, "points": [2.0, 0.0, 7.0, 5.0], "frame": 3, "outside": True, "attributes": []}]}]},
    ]
    manifest = [{"version": "1.1"}, {"type": "images"}] + [
        {"name": name.rsplit(".", 1)[0], "extension": ".jpg", "width": 64, "height": 48} for name in images]
    path = tmp_path / "cvat-backup.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("task.json", json.dumps(task_json))
        z.writestr("annotations.json", json.dumps(annotations))
        z.writestr("data/manifest.jsonl", "".join(json.dumps(line) + "\n" for line in manifest))
        for name, data in images.items():
            z.writestr(f"data/{name}", data)
        z.writestr("task/preview.jpeg", images["a.jpg"])  # CVAT's own extra: ignored
    task = client.tasks.create_from_backup(path)
    assert task.name == "made by cvat" and task.size == 4 and task.subset == "Train"
    assert [task.get_frame(i, quality="original").read() for i in range(4)] == list(images.values())
    jobs = sorted(task.get_jobs(), key=lambda j: j.start_frame)
    assert [(j.start_frame, j.stop_frame, j.stage, j.state) for j in jobs] == [
        (0, 1, "acceptance", "completed"), (2, 3, "annotation", "new")]
    names = {lb.id: lb.name for lb in task.get_labels()}
    model = {a.id: a.name for lb in task.get_labels() for a in lb.attributes}
    data = task.get_annotations()
    assert [(names[t.label_id], t.frame) for t in data.tags] == [("sunny", 0)]
    (rect,) = data.shapes
    assert (names[rect.label_id], rect.frame, rect.points) == ("car", 1, [1.0, 2.0, 30.0, 40.0])
    assert [(model[a.spec_id], a.value) for a in rect.attributes] == [("model", "audi")]
    (track,) = data.tracks
    assert [(s.frame, s.outside) for s in track.shapes] == [(2, False), (3, True)]


def test_backup_and_restore_through_the_cli(runtime, task: Task, tmp_path: Path) -> None:
    def cli(*args: str) -> str:
        run = subprocess.run([sys.executable, "-m", "cvat_cli", "--server-host", runtime.url, "--auth",
                              f"{USER}:{PASSWORD}", "task", *args], capture_output=True, text=True, timeout=180,
                             check=False)
        assert run.returncode == 0, run.stderr
        return run.stdout

    cli("backup", str(task.id), f"{tmp_path}/", "--completion_verification_period", "0.2")
    (saved,) = tmp_path.glob("*.zip")  # named from Content-Disposition
    assert saved.name.startswith(f"task_{task.id}_backup_")
    new_id = int(cli("create-from-backup", str(saved), "--completion_verification_period", "0.2").split()[-1])
    assert new_id != task.id


def test_images_bigger_than_a_part_are_joined_by_server_side_copies(client: Client, tmp_path: Path) -> None:
    """Pieces of more than S3's 5 MiB part minimum are copied by the embedded S3 (UploadPartCopy),
    not read back: the archive must still hold every byte."""
    import numpy as np

    rng = np.random.default_rng(7)
    files = []
    for i in range(3):  # ~5.8 MB each: noise does not compress
        path = tmp_path / f"noise{i}.png"
        Image.fromarray(rng.integers(0, 255, (1100, 1750, 3), dtype=np.uint8)).save(path, compress_level=1)
        files.append(path)
    task = client.tasks.create_from_data({"name": "big images", "labels": [{"name": "car"}]},
                                         resources=[str(f) for f in files], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 30, "chunk_size": 3})
    out = tmp_path / "big.zip"
    task.export_dataset("COCO 1.0", out, include_images=True)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        for f in files:
            assert z.read(f"images/default/{f.name}") == f.read_bytes()
