"""Task and project backups in CVAT's layout (cvat/apps/engine/backup.py, Version "1.0").

The fixture archives are built by hand, key by key, as CVAT 2.x's TaskExporter/ProjectExporter
write them; the key sets asserted for our own archives are the ones CVAT's importer reads (its
``_prepare_*_meta`` allow-lists)."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import zipfile
from typing import Any

import pytest
from format_helpers import image_bytes, make_annotations, make_labels, zip_with

from cvat_serverless.domain.annotations import (
    AttributeVal,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabelSpec,
    LabelType,
    ShapeType,
)
from cvat_serverless.domain.archives import ArchiveLimits
from cvat_serverless.domain.errors import ArchiveBombError, FormatError, UnsafeArchiveError
from cvat_serverless.domain.jobs import JobStage, JobState, JobStatus, JobType
from cvat_serverless.domain.labels import InputType
from cvat_serverless.formats.backup import (
    BackupData,
    BackupFrame,
    BackupJob,
    BackupVideo,
    ProjectBackup,
    TaskBackup,
    bind_annotations,
    read_project_backup,
    read_task_backup,
    to_label_inputs,
    write_project_backup,
    write_task_backup,
)
from cvat_serverless.formats.registry import list_exporters, list_importers

# --------------------------------------------------------------------------- CVAT's key sets
# (TaskExporter/_TaskBackupBase/_BackupBase in cvat/apps/engine/backup.py)

CVAT_TASK_KEYS = {"name", "bug_tracker", "status", "subset", "labels", "consensus_replicas"}
CVAT_TASK_ADDED = {"version", "data", "jobs"}
CVAT_LABEL_KEYS = {"name", "color", "attributes", "type", "svg", "sublabels"}
CVAT_ATTRIBUTE_KEYS = {"name", "mutable", "input_type", "default_value", "values"}
CVAT_DATA_KEYS = {
    "chunk_size", "image_quality", "start_frame", "stop_frame", "frame_filter", "chunk_type",
    "storage_method", "storage", "sorting_method", "deleted_frames", "custom_segments",
    "job_file_mapping", "validation_layout",
}
# a job entry: SimpleJobSerializer's {status, type} + SegmentSerializer minus jobs/type (+files)
CVAT_JOB_KEYS = {"status", "type", "start_frame", "stop_frame", "frames", "files"}
CVAT_ANNOTATION_KEYS = {
    "label", "label_id", "type", "occluded", "outside", "z_order", "points", "rotation", "frame",
    "group", "source", "attributes", "shapes", "elements",
}
CVAT_PROJECT_KEYS = {"bug_tracker", "labels", "name", "status", "version"}


# --------------------------------------------------------------------------- helpers


def make_backup(n_frames: int = 6) -> TaskBackup:
    annotations = make_annotations()
    first = LabeledData(
        tags=[t for t in annotations.tags if t.frame < 3],
        shapes=[s for s in annotations.shapes if s.frame < 3],
        tracks=list(annotations.tracks),
    )
    second = LabeledData(
        tags=[t for t in annotations.tags if t.frame >= 3],
        shapes=[s for s in annotations.shapes if s.frame >= 3],
    )
    return TaskBackup(
        name="round trip",
        labels=make_labels(),
        jobs=[
            BackupJob(0, 2, stage=JobStage.VALIDATION, state=JobState.IN_PROGRESS),
            BackupJob(3, n_frames - 1, stage=JobStage.ACCEPTANCE, state=JobState.COMPLETED),
        ],
        data=BackupData(chunk_size=36, image_quality=80, stop_frame=n_frames - 1, deleted_frames=[4]),
        annotations=[first, second],
        frames=[BackupFrame(f"img_{i}.jpg", 64, 48, checksum=f"{i:032x}") for i in range(n_frames)],
        bug_tracker="https://bugs.example/1",
        subset="train",
    )


def media(n_frames: int = 6) -> list[tuple[str, bytes | io.BytesIO]]:
    return [(f"img_{i}.jpg", image_bytes(i) if i % 2 else io.BytesIO(image_bytes(i))) for i in range(n_frames)]


def write(backup: TaskBackup, items: Any = None) -> bytes:
    out = io.BytesIO()
    write_task_backup(out, backup, media() if items is None else items)
    return out.getvalue()


def renumbered(labels: list[LabelSpec], offset: int) -> list[LabelSpec]:
    """The labels as a restored task would have them: same names, new ids."""
    out = []
    for label in copy.deepcopy(labels):
        label.id += offset
        for a in label.attributes:
            a.id += offset
        for sub in label.sublabels:
            sub.id += offset
            sub.parent_id = label.id
        out.append(label)
    return out


def shift_ids(data: LabeledData, offset: int) -> LabeledData:
    data = copy.deepcopy(data)

    def attrs(items: list[AttributeVal]) -> None:
        for a in items:
            a.spec_id += offset

    for tag in data.tags:
        tag.label_id += offset
        attrs(tag.attributes)
    for shape in data.shapes:
        shape.label_id += offset
        attrs(shape.attributes)
        for e in shape.elements:
            e.label_id += offset
    for track in data.tracks:
        track.label_id += offset
        attrs(track.attributes)
        for s in track.shapes:
            attrs(s.attributes)
        for element in track.elements:
            element.label_id += offset
    return data


def as_restored(data: LabeledData) -> LabeledData:
    """What a backup keeps of ``data``: no score, group 0 for none (CVAT's allow-list)."""
    data = copy.deepcopy(data)
    for shape in data.shapes:
        shape.score = 1.0
        shape.group = shape.group or 0
        for e in shape.elements:
            e.score = 1.0
            e.group = e.group or 0
    for track in data.tracks:
        track.group = track.group or 0
    for tag in data.tags:
        tag.group = tag.group or 0
    return data


def read_zip_json(data: bytes, name: str) -> Any:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return json.loads(z.read(name))


# --------------------------------------------------------------------------- CVAT 2.x fixtures

SKELETON_SVG_BY_NAME = (
    '<line x1="10" y1="10" x2="30" y2="10" data-type="edge" data-node-from="1" data-node-to="2"></line>'
    '<circle r="0.75" cx="10" cy="10" data-type="element node" data-element-id="1" data-node-id="1" '
    'data-label-name="left_eye"></circle>'
    '<circle r="0.75" cx="30" cy="10" data-type="element node" data-element-id="2" data-node-id="2" '
    'data-label-name="right_eye"></circle>'
)

CVAT_LABELS = [
    {
        "name": "car",
        "color": "#fa3253",
        "attributes": [
            {"name": "model", "mutable": False, "input_type": "select", "default_value": "bmw",
             "values": ["bmw", "audi"]},
            {"name": "parked", "mutable": True, "input_type": "checkbox", "default_value": "false",
             "values": ["false"]},
        ],
        "type": "rectangle",
        "svg": "",
        "sublabels": [],
    },
    {
        "name": "face",
        "color": "#33ddff",
        "attributes": [],
        "type": "skeleton",
        "svg": SKELETON_SVG_BY_NAME,
        "sublabels": [
            {"name": "left_eye", "color": "#d12345", "attributes": [], "type": "points", "svg": "",
             "sublabels": []},
            {"name": "right_eye", "color": "#350dea", "attributes": [], "type": "points", "svg": "",
             "sublabels": []},
        ],
    },
    {"name": "sunny", "color": "#ffcc33", "attributes": [], "type": "tag", "svg": "", "sublabels": []},
]


def cvat_image_task() -> dict[str, bytes | str]:
    """A CVAT 2.x backup of a 4-image task in two jobs plus a ground-truth job."""
    task = {
        "name": "cvat images",
        "bug_tracker": "",
        "status": "annotation",
        "subset": "Train",
        "labels": CVAT_LABELS,
        "version": "1.0",
        "data": {
            "chunk_size": 72,
            "image_quality": 70,
            "start_frame": 0,
            "stop_frame": 3,
            "chunk_type": "imageset",
            "storage_method": "cache",
            "storage": "local",
            "sorting_method": "natural",
            "deleted_frames": [],
        },
        "jobs": [
            {"status": "completed", "type": "annotation", "start_frame": 0, "stop_frame": 1, "frames": []},
            {"status": "annotation", "type": "annotation", "start_frame": 2, "stop_frame": 3, "frames": []},
            {"status": "validation", "type": "ground_truth", "start_frame": 1, "stop_frame": 3, "frames": [1, 3]},
        ],
    }
    annotations = [
        {
            "version": 3,
            "tags": [{"frame": 0, "group": 0, "source": "manual", "attributes": [], "label": "sunny"}],
            "shapes": [
                {"type": "rectangle", "occluded": False, "outside": False, "z_order": 0, "rotation": 0.0,
                 "points": [1.0, 2.0, 30.0, 40.0], "frame": 1, "group": 0, "source": "manual",
                 "attributes": [{"value": "audi", "name": "model"}, {"value": "true", "name": "parked"}],
                 "elements": [], "label": "car"},
                {"type": "skeleton", "occluded": False, "outside": False, "z_order": 0, "rotation": 0.0,
                 "points": [], "frame": 0, "group": 0, "source": "manual", "attributes": [],
                 "elements": [
                     {"type": "points", "occluded": False, "outside": False, "z_order": 0, "rotation": 0.0,
                      "points": [10.0, 10.0], "frame": 0, "group": 0, "source": "manual", "attributes": [],
                      "label": "left_eye"},
                     {"type": "points", "occluded": False, "outside": True, "z_order": 0, "rotation": 0.0,
                      "points": [30.0, 10.0], "frame": 0, "group": 0, "source": "manual", "attributes": [],
                      "label": "right_eye"},
                 ],
                 "label": "face"},
            ],
            "tracks": [],
        },
        {
            "version": 0,
            "tags": [],
            "shapes": [],
            "tracks": [
                {"frame": 2, "group": 0, "source": "manual",
                 "attributes": [{"value": "bmw", "name": "model"}],
                 "shapes": [
                     {"type": "rectangle", "occluded": False, "outside": False, "z_order": 0, "rotation": 0.0,
                      "points": [0.0, 0.0, 5.0, 5.0], "frame": 2,
                      "attributes": [{"value": "false", "name": "parked"}]},
                     {"type": "rectangle", "occluded": False, "outside": True, "z_order": 0, "rotation": 0.0,
                      "points": [0.0, 0.0, 5.0, 5.0], "frame": 3, "attributes": []},
                 ],
                 "elements": [],
                 "label": "car"},
            ],
        },
        {"version": 0, "tags": [], "shapes": [], "tracks": []},
    ]
    manifest = "\n".join(
        json.dumps(line, separators=(",", ":"))
        for line in [
            {"version": "1.1"},
            {"type": "images"},
            {"name": "img2", "extension": ".jpg", "width": 64, "height": 48, "checksum": "a" * 32},
            {"name": "img10", "extension": ".jpg", "width": 64, "height": 48, "checksum": "b" * 32},
            {"name": "sub/img1", "extension": ".png", "width": 32, "height": 24},
            {"name": "z", "extension": ".jpg", "width": 64, "height": 48},
        ]
    ) + "\n"
    return {
        "data/img10.jpg": image_bytes(1),
        "data/img2.jpg": image_bytes(0),
        "data/sub/img1.png": b"png",
        "data/z.jpg": image_bytes(3),
        "data/manifest.jsonl": manifest,
        "task/preview.jpeg": b"preview",
        "task.json": json.dumps(task),
        "annotations.json": json.dumps(annotations),
    }


def cvat_video_task() -> dict[str, bytes | str]:
    task = {
        "name": "cvat video",
        "bug_tracker": "",
        "status": "validation",
        "subset": "",
        "labels": CVAT_LABELS[:1],
        "version": "1.0",
        "data": {
            "chunk_size": 36,
            "image_quality": 70,
            "start_frame": 0,
            "stop_frame": 24,
            "frame_filter": "step=5",
            "chunk_type": "video",
            "storage_method": "cache",
            "storage": "local",
            "sorting_method": "lexicographical",
            "deleted_frames": [2],
        },
        "jobs": [{"status": "validation", "type": "annotation", "start_frame": 0, "stop_frame": 4, "frames": []}],
    }
    annotations = [{
        "version": 1, "tags": [], "shapes": [],
        "tracks": [{"frame": 0, "group": 0, "source": "manual", "attributes": [], "elements": [], "label": "car",
                    "shapes": [{"type": "rectangle", "occluded": False, "outside": False, "z_order": 0,
                                "rotation": 0.0, "points": [1, 1, 9, 9], "frame": 0, "attributes": []}]}],
    }]
    manifest = "".join(
        json.dumps(line, separators=(",", ":")) + "\n"
        for line in [
            {"version": "1.1"},
            {"type": "video"},
            {"properties": {"name": "clip.mp4", "resolution": [1280, 720], "length": 25}},
            {"number": 0, "pts": 0, "checksum": "c" * 32},
            {"number": 12, "pts": 6144, "checksum": "d" * 32},
        ]
    )
    return {
        "data/clip.mp4": b"\x00\x00\x00\x18ftypmp42",
        "data/manifest.jsonl": manifest,
        "data/index.json": '{"0":44,"1":98}',  # older CVAT backups carried the manifest's index
        "task.json": json.dumps(task),
        "annotations.json": json.dumps(annotations),
    }


def cvat_old_task() -> dict[str, bytes | str]:
    """A CVAT 2.0-era backup: no label type/svg/sublabels, no job type/frames, no sorting."""
    task = {
        "name": "old",
        "bug_tracker": "",
        "status": "annotation",
        "subset": "",
        "labels": [{"name": "cat", "color": "#aabbcc", "attributes": []}],
        "version": "1.0",
        "data": {"chunk_size": 36, "image_quality": 50, "start_frame": 0, "stop_frame": 1,
                 "chunk_type": "imageset", "storage_method": "file_system", "storage": "local"},
        "jobs": [{"start_frame": 0, "stop_frame": 1, "status": "annotation"}],
    }
    annotations = [{"version": 0, "tags": [], "tracks": [], "shapes": [
        {"type": "polygon", "occluded": False, "z_order": 0, "points": [0, 0, 4, 0, 4, 4], "frame": 1,
         "group": None, "source": "manual", "attributes": [], "label": "cat"}]}]
    return {
        "data/b.jpg": b"b",
        "data/a.jpg": b"a",
        "data/index.json": "{}",
        "task.json": json.dumps(task),
        "annotations.json": json.dumps(annotations),
    }


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_task_labels_jobs_data_media_and_annotations() -> None:
    backup = make_backup()
    data = write(backup)

    with read_task_backup(io.BytesIO(data), "task_backup.zip") as contents:
        assert (contents.name, contents.bug_tracker, contents.subset, contents.status) == (
            "round trip", "https://bugs.example/1", "train", JobStatus.ANNOTATION)
        assert contents.version == "1.0"
        assert [lb.name for lb in contents.labels] == ["car", "person", "face", "weather"]
        car, _, face, weather = contents.labels
        assert [(a.name, a.input_type, a.mutable, a.values, a.default_value) for a in car.attributes] == [
            ("color", InputType.SELECT, False, ["red", "blue"], "red"),
            ("parked", InputType.CHECKBOX, True, ["false"], "false"),
            ("speed", InputType.NUMBER, True, ["0", "200", "1"], "0"),
        ]
        assert face.type == LabelType.SKELETON
        assert [s.name for s in face.sublabels] == ["left_eye", "right_eye", "nose"]
        assert "data-label-id" not in face.svg and 'data-label-name="nose"' in face.svg
        assert face.skeleton_edges() == [(0, 1), (1, 2)]
        assert weather.type == LabelType.TAG
        assert all(lb.id == 0 for lb in contents.labels)

        # stage/state are not in a backup: CVAT keeps the legacy status only
        assert [(j.start_frame, j.stop_frame, j.type, j.status) for j in contents.jobs] == [
            (0, 2, JobType.ANNOTATION, JobStatus.VALIDATION), (3, 5, JobType.ANNOTATION, JobStatus.COMPLETED)]
        assert (contents.jobs[1].stage, contents.jobs[1].state) == (JobStage.ACCEPTANCE, JobState.COMPLETED)
        assert contents.data == backup.data
        assert contents.frames == backup.frames
        assert contents.media == [f"img_{i}.jpg" for i in range(6)]
        for i, name in enumerate(contents.media):
            with contents.open_media(name) as f:
                assert f.read() == image_bytes(i)

        bound = bind_annotations(contents, make_labels())
    assert bound == [as_restored(a) for a in backup.annotations]
    assert bound[0].shapes[1].score == 1.0  # score is not in CVAT's allow-list


def test_round_trip_binds_names_to_the_restored_task_ids() -> None:
    backup = make_backup()
    with read_task_backup(io.BytesIO(write(backup)), "b.zip") as contents:
        restored = renumbered(make_labels(), 100)
        bound = bind_annotations(contents, restored)
    assert bound == [shift_ids(as_restored(a), 100) for a in backup.annotations]
    mask = next(s for s in bound[1].shapes if s.type == ShapeType.MASK)
    assert mask.label_id == 101
    skeleton_track = bound[0].tracks[2]
    assert [e.label_id for e in skeleton_track.elements] == [131, 132, 133]
    assert skeleton_track.shapes[-1].outside and skeleton_track.elements[0].shapes[-1].outside


def test_label_inputs_carry_what_the_label_service_creates_from() -> None:
    with read_task_backup(io.BytesIO(write(make_backup())), "b.zip") as contents:
        inputs = to_label_inputs(contents.labels)
    face = inputs[2]
    assert (face.name, face.type, face.color) == ("face", "skeleton", "#0000ff")
    assert [s.name for s in face.sublabels] == ["left_eye", "right_eye", "nose"]
    assert face.svg is not None and 'data-label-name="left_eye"' in face.svg
    color = inputs[0].attributes[0]
    assert (color.name, color.input_type, color.values) == ("color", "select", ["red", "blue"])


def test_writer_streams_to_a_non_seekable_output() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.chunks.append(bytes(b))
            return len(b)

    pipe = Pipe()
    write_task_backup(pipe, make_backup(), media())  # type: ignore[arg-type]
    with read_task_backup(io.BytesIO(b"".join(pipe.chunks)), "piped.zip") as contents:
        assert len(contents.media) == 6


def test_video_task_round_trip_with_keyframes() -> None:
    backup = TaskBackup(
        name="video",
        labels=make_labels()[:2],
        jobs=[BackupJob(0, 9)],
        data=BackupData(chunk_type="video", stop_frame=9),
        video=BackupVideo("clip.mp4", 640, 480, 10, keyframes=[(0, 0, "e" * 32), (5, 2560, "f" * 32)]),
    )
    data = write(backup, [("clip.mp4", b"video")])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        lines = [json.loads(line) for line in z.read("data/manifest.jsonl").decode().splitlines()]
    assert lines == [
        {"version": "1.1"},
        {"type": "video"},
        {"properties": {"name": "clip.mp4", "resolution": [640, 480], "length": 10}},
        {"number": 0, "pts": 0, "checksum": "e" * 32},
        {"number": 5, "pts": 2560, "checksum": "f" * 32},
    ]
    with read_task_backup(io.BytesIO(data), "v.zip") as contents:
        assert contents.video == backup.video
        assert contents.media == ["clip.mp4"]
        assert bind_annotations(contents, make_labels()) == [LabeledData()]


def test_video_without_keyframes_has_no_manifest_so_cvat_builds_one() -> None:
    backup = TaskBackup(name="v", labels=[], jobs=[BackupJob(0, 3)],
                        video=BackupVideo("clip.mp4", 64, 48, 4))
    with zipfile.ZipFile(io.BytesIO(write(backup, [("clip.mp4", b"v")]))) as z:
        assert sorted(z.namelist()) == ["annotations.json", "data/clip.mp4", "task.json"]


# --------------------------------------------------------------------------- CVAT's layout, exactly


def test_written_archive_has_the_members_and_keys_cvat_reads() -> None:
    backup = make_backup()
    data = write(backup)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        manifest = [json.loads(line) for line in z.read("data/manifest.jsonl").decode().splitlines()]
        media_info = z.getinfo("data/img_0.jpg")
    assert names == {"task.json", "annotations.json", "data/manifest.jsonl"} | {
        f"data/img_{i}.jpg" for i in range(6)}
    assert media_info.compress_type == zipfile.ZIP_STORED  # media is compressed already

    task = read_zip_json(data, "task.json")
    assert set(task) == (CVAT_TASK_KEYS | CVAT_TASK_ADDED) - {"consensus_replicas"}
    assert task["version"] == "1.0"
    assert set(task["data"]) <= CVAT_DATA_KEYS
    assert set(task["data"]) == {"chunk_size", "image_quality", "start_frame", "stop_frame", "chunk_type",
                                 "storage_method", "storage", "sorting_method", "deleted_frames"}
    for label in task["labels"]:
        assert set(label) == CVAT_LABEL_KEYS
        for attribute in label["attributes"]:
            assert set(attribute) == CVAT_ATTRIBUTE_KEYS
        for sub in label["sublabels"]:
            assert set(sub) == CVAT_LABEL_KEYS
    face = task["labels"][2]
    assert "data-label-id" not in face["svg"] and face["svg"].count('data-label-name="nose"') == 1
    assert [j["status"] for j in task["jobs"]] == ["validation", "completed"]
    for job in task["jobs"]:
        assert set(job) == CVAT_JOB_KEYS - {"files"}
        assert job["type"] == "annotation"

    annotations = read_zip_json(data, "annotations.json")
    assert len(annotations) == len(task["jobs"])
    for job in annotations:
        assert set(job) == {"version", "tags", "shapes", "tracks"}
        for tag in job["tags"]:
            assert set(tag) == {"frame", "group", "source", "attributes", "label"}
        for shape in job["shapes"]:
            assert set(shape) <= CVAT_ANNOTATION_KEYS and "label_id" not in shape
            assert set(shape) == {"type", "occluded", "outside", "z_order", "rotation", "points", "frame",
                                  "group", "source", "attributes", "elements", "label"}
            for element in shape["elements"]:
                assert set(element) == set(shape) - {"elements"}
            for attribute in shape["attributes"]:
                assert set(attribute) == {"name", "value"}
        for track in job["tracks"]:
            assert set(track) == {"frame", "group", "source", "attributes", "shapes", "elements", "label"}
            for keyframe in track["shapes"]:
                assert set(keyframe) == {"type", "occluded", "outside", "z_order", "rotation", "points",
                                         "frame", "attributes"}
    skeleton = next(s for s in annotations[1]["shapes"] if s["type"] == "skeleton")
    assert [e["label"] for e in skeleton["elements"]] == ["left_eye", "right_eye", "nose"]
    car = annotations[0]["shapes"][0]
    assert car["label"] == "car"
    assert car["attributes"] == [{"name": "color", "value": "blue"}, {"name": "parked", "value": "true"},
                                 {"name": "speed", "value": "42"}]

    assert manifest[:2] == [{"version": "1.1"}, {"type": "images"}]
    assert manifest[2] == {"name": "img_0", "extension": ".jpg", "width": 64, "height": 48, "checksum": "0" * 32}
    assert len(manifest) == 2 + 6


def test_optional_data_keys_are_written_only_when_set() -> None:
    backup = make_backup()
    backup.data.frame_filter = "step=2"
    backup.data.custom_segments = True
    backup.consensus_replicas = 2
    task = read_zip_json(write(backup), "task.json")
    assert task["data"]["frame_filter"] == "step=2"
    assert task["data"]["custom_segments"] is True
    assert task["consensus_replicas"] == 2
    # custom segments: CVAT rebuilds the job file mapping from each job's files
    assert task["jobs"][0]["files"] == ["img_0.jpg", "img_1.jpg", "img_2.jpg"]
    assert set(task) <= CVAT_TASK_KEYS | CVAT_TASK_ADDED


def test_unknown_chunk_size_is_left_out_not_null() -> None:
    backup = make_backup()
    backup.data.chunk_size = None
    data = write(backup)
    assert "chunk_size" not in read_zip_json(data, "task.json")["data"]
    with read_task_backup(io.BytesIO(data), "b.zip") as contents:
        assert contents.data.chunk_size is None


def test_project_backup_round_trip_with_task_folders() -> None:
    one, two = make_backup(), make_backup(4)
    two.name, two.labels = "second", []  # a project task's labels are the project's
    two.jobs = [BackupJob(0, 3)]
    two.annotations = [LabeledData(tags=[LabeledImage(1, 4)])]
    out = io.BytesIO()
    write_project_backup(out, ProjectBackup("proj", make_labels(), bug_tracker="bt"),
                         [(one, media()), (two, media(4))])
    data = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
    assert "project.json" in names
    assert {"task_0/task.json", "task_0/annotations.json", "task_0/data/manifest.jsonl",
            "task_1/task.json", "task_1/annotations.json", "task_1/data/img_3.jpg"} <= names
    assert all(n == "project.json" or n.startswith(("task_0/", "task_1/")) for n in names)
    project = read_zip_json(data, "project.json")
    assert set(project) == CVAT_PROJECT_KEYS
    assert [lb["name"] for lb in read_zip_json(data, "task_1/task.json")["labels"]] == [
        "car", "person", "face", "weather"]

    with read_project_backup(io.BytesIO(data), "project_backup.zip") as contents:
        assert (contents.name, contents.bug_tracker, contents.version) == ("proj", "bt", "1.0")
        assert [t.name for t in contents.tasks] == ["round trip", "second"]
        assert contents.tasks[1].media == ["img_0.jpg", "img_1.jpg", "img_2.jpg", "img_3.jpg"]
        with contents.tasks[1].open_media("img_2.jpg") as f:
            assert f.read() == image_bytes(2)
        labels = renumbered(make_labels(), 7)
        assert bind_annotations(contents.tasks[1], labels) == [LabeledData(tags=[LabeledImage(1, 11)])]
        assert bind_annotations(contents.tasks[0], labels) == [
            shift_ids(as_restored(a), 7) for a in one.annotations]


# --------------------------------------------------------------------------- CVAT's archives


def test_cvat_image_task_backup_parses() -> None:
    with read_task_backup(io.BytesIO(zip_with(cvat_image_task())), "task_cvat.zip") as contents:
        assert (contents.name, contents.subset, contents.status) == ("cvat images", "Train", JobStatus.ANNOTATION)
        car, face, sunny = contents.labels
        assert (car.type, car.color, [a.name for a in car.attributes]) == (
            LabelType.RECTANGLE, "#fa3253", ["model", "parked"])
        assert car.attributes[1].mutable and car.attributes[1].input_type == InputType.CHECKBOX
        assert (face.type, [s.name for s in face.sublabels]) == (LabelType.SKELETON, ["left_eye", "right_eye"])
        assert face.skeleton_edges() == [(0, 1)]
        assert sunny.type == LabelType.TAG
        assert [(j.type, j.start_frame, j.stop_frame, j.frames, j.status) for j in contents.jobs] == [
            (JobType.ANNOTATION, 0, 1, [], JobStatus.COMPLETED),
            (JobType.ANNOTATION, 2, 3, [], JobStatus.ANNOTATION),
            (JobType.GROUND_TRUTH, 1, 3, [1, 3], JobStatus.VALIDATION),
        ]
        assert contents.data == BackupData(chunk_size=72, image_quality=70, start_frame=0, stop_frame=3,
                                           chunk_type="imageset", storage_method="cache", storage="local",
                                           sorting_method="natural")
        # the manifest's order, not the archive's; the task/ folder is not media
        assert contents.media == ["img2.jpg", "img10.jpg", "sub/img1.png", "z.jpg"]
        assert contents.frames[2] == BackupFrame("sub/img1.png", 32, 24)
        assert contents.frames[0].checksum == "a" * 32
        with contents.open_media("sub/img1.png") as f:
            assert f.read() == b"png"

        # the restored task's labels, with ids assigned by our label service
        restored = [
            LabelSpec(1, "car", LabelType.RECTANGLE, attributes=[
                dataclasses.replace(make_labels()[0].attributes[0], id=5, name="model", values=["bmw", "audi"],
                                    default_value="bmw"),
                dataclasses.replace(make_labels()[0].attributes[1], id=6, name="parked"),
            ]),
            LabelSpec(2, "face", LabelType.SKELETON, sublabels=[
                LabelSpec(21, "left_eye", LabelType.POINTS, parent_id=2),
                LabelSpec(22, "right_eye", LabelType.POINTS, parent_id=2),
            ]),
            LabelSpec(3, "sunny", LabelType.TAG),
        ]
        first, second, gt = bind_annotations(contents, restored)
    assert first.version == 3
    assert first.tags == [LabeledImage(0, 3)]
    rect, skel = first.shapes
    assert (rect.label_id, rect.points, rect.attributes) == (
        1, [1.0, 2.0, 30.0, 40.0], [AttributeVal(5, "audi"), AttributeVal(6, "true")])
    assert skel.type == ShapeType.SKELETON
    assert [(e.label_id, e.points, e.outside) for e in skel.elements] == [
        (21, [10.0, 10.0], False), (22, [30.0, 10.0], True)]
    (track,) = second.tracks
    assert (track.label_id, track.frame, track.attributes) == (1, 2, [AttributeVal(5, "bmw")])
    assert [(s.frame, s.outside, s.attributes) for s in track.shapes] == [
        (2, False, [AttributeVal(6, "false")]), (3, True, [])]
    assert gt == LabeledData()


def test_cvat_video_task_backup_parses() -> None:
    with read_task_backup(io.BytesIO(zip_with(cvat_video_task())), "video.zip") as contents:
        assert contents.media == ["clip.mp4"]  # index.json and manifest.jsonl are not media
        assert contents.video == BackupVideo("clip.mp4", 1280, 720, 25, [(0, 0, "c" * 32), (12, 6144, "d" * 32)])
        assert contents.frames == []
        assert (contents.data.frame_filter, contents.data.chunk_type, contents.data.deleted_frames) == (
            "step=5", "video", [2])
        assert contents.jobs == [BackupJob(0, 4, JobType.ANNOTATION, JobStage.VALIDATION, JobState.NEW)]
        (data,) = bind_annotations(contents, [LabelSpec(9, "car", LabelType.RECTANGLE)])
    assert data.tracks[0].label_id == 9 and data.tracks[0].shapes[0].points == [1.0, 1.0, 9.0, 9.0]


def test_older_cvat_backup_without_newer_keys_parses_with_cvat_defaults() -> None:
    with read_task_backup(io.BytesIO(zip_with(cvat_old_task())), "old.zip") as contents:
        (cat,) = contents.labels
        assert (cat.type, cat.svg, cat.sublabels) == (LabelType.ANY, "", [])
        assert contents.jobs == [BackupJob(0, 1)]
        assert contents.data.sorting_method == "lexicographical"
        assert contents.data.storage_method == "file_system"
        assert contents.media == ["a.jpg", "b.jpg"]  # no manifest: the sorting method's order
        (data,) = bind_annotations(contents, [LabelSpec(1, "cat")])
    assert data.shapes == [LabeledShape(ShapeType.POLYGON, 1, 1, [0, 0, 4, 0, 4, 4], group=None)]


def test_cvat_project_backup_with_two_tasks_parses_in_folder_order() -> None:
    task_a = cvat_image_task()
    task_b = cvat_old_task()
    members: dict[str, bytes | str] = {
        "project.json": json.dumps({"name": "cvat project", "bug_tracker": "", "status": "annotation",
                                    "labels": CVAT_LABELS, "version": "1.0"}),
        "annotation_guide.md": "# guide",
    }
    # task_10 sorts after task_2 numerically, as CVAT restores them
    members |= {f"task_10/{k}": v for k, v in task_b.items()}
    members |= {f"task_2/{k}": v for k, v in task_a.items()}
    with read_project_backup(io.BytesIO(zip_with(members)), "project.zip") as contents:
        assert contents.name == "cvat project"
        assert [lb.name for lb in contents.labels] == ["car", "face", "sunny"]
        assert [t.name for t in contents.tasks] == ["cvat images", "old"]
        assert contents.tasks[0].media == ["img2.jpg", "img10.jpg", "sub/img1.png", "z.jpg"]
        assert contents.tasks[1].media == ["a.jpg", "b.jpg"]
        with contents.tasks[1].open_media("b.jpg") as f:
            assert f.read() == b"b"
        with pytest.raises(FormatError, match=r"project\.zip: task_10/annotations\.json: \[0\]: shapes\[0\]\.label: "
                                              r"label 'cat' is not in the task"):
            bind_annotations(contents.tasks[1], [LabelSpec(1, "car")])


# --------------------------------------------------------------------------- malformed archives


def test_missing_task_json_is_not_a_task_backup() -> None:
    members = cvat_image_task()
    del members["task.json"]
    with pytest.raises(FormatError, match=r"^x\.zip: task\.json is missing - not a CVAT task backup$"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_missing_annotations_json() -> None:
    members = cvat_image_task()
    del members["annotations.json"]
    with pytest.raises(FormatError, match=r"x\.zip: annotations\.json is missing"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_bad_json_names_the_file_and_place() -> None:
    members = cvat_image_task()
    members["task.json"] = '{"name": "t",\n "labels": [}'
    with pytest.raises(FormatError, match=r"x\.zip: task\.json: not valid JSON \(.* at line 2"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_wrong_field_type_names_the_field() -> None:
    members = cvat_image_task()
    task = json.loads(members["task.json"])
    task["jobs"][1]["start_frame"] = "2"
    members["task.json"] = json.dumps(task)
    with pytest.raises(FormatError, match=r"x\.zip: task\.json: jobs\[1\]\.start_frame: expected an integer"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_unsupported_version() -> None:
    members = cvat_image_task()
    task = json.loads(members["task.json"])
    task["version"] = "2.0"
    members["task.json"] = json.dumps(task)
    with pytest.raises(FormatError, match=r"version '2\.0' is not supported"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_archive_limits_apply_to_backups() -> None:
    with pytest.raises(ArchiveBombError, match=r"x\.zip: 8 members exceed the limit of 3"):
        read_task_backup(io.BytesIO(zip_with(cvat_image_task())), "x.zip", limits=ArchiveLimits(max_members=3))


def test_project_json_missing() -> None:
    with pytest.raises(FormatError, match=r"p\.zip: project\.json is missing - not a CVAT project backup"):
        read_project_backup(io.BytesIO(zip_with(cvat_image_task())), "p.zip")


def test_not_a_zip() -> None:
    with pytest.raises(FormatError, match=r"t\.json: a backup is a ZIP archive"):
        read_task_backup(io.BytesIO(b'{"name": 1}'), "t.json")


def test_manifest_listing_a_missing_file() -> None:
    members = cvat_image_task()
    del members["data/z.jpg"]
    with pytest.raises(FormatError, match=r"data/manifest\.jsonl: lists \['z\.jpg'\], not in the archive"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_unknown_label_name_in_annotations() -> None:
    with read_task_backup(io.BytesIO(zip_with(cvat_image_task())), "x.zip") as contents:
        car = LabelSpec(1, "car", attributes=[dataclasses.replace(a, id=5 + i) for i, a in enumerate(
            contents.labels[0].attributes)])
        labels = [car, LabelSpec(3, "sunny", LabelType.TAG)]
        with pytest.raises(FormatError, match=r"x\.zip: annotations\.json: \[0\]: shapes\[1\]\.label: "
                                              r"label 'face' is not in the task \(task labels: car, sunny\)"):
            bind_annotations(contents, labels)


def test_unknown_attribute_and_skeleton_point_names() -> None:
    with read_task_backup(io.BytesIO(zip_with(cvat_image_task())), "x.zip") as contents:
        face = LabelSpec(2, "face", LabelType.SKELETON, sublabels=[LabelSpec(21, "left_eye", parent_id=2)])
        with pytest.raises(FormatError, match=r"shapes\[0\]\.attributes\[0\]: attribute 'model' is not an attribute"
                                              r" of label 'car'"):
            bind_annotations(contents, [LabelSpec(1, "car"), face, LabelSpec(3, "sunny", LabelType.TAG)])
        car = LabelSpec(1, "car", attributes=[dataclasses.replace(a, id=5 + i) for i, a in enumerate(
            contents.labels[0].attributes)])
        with pytest.raises(FormatError, match=r"shapes\[1\]\.elements\[1\]\.label: 'right_eye' is not a point of "
                                              r"skeleton 'face'"):
            bind_annotations(contents, [car, face, LabelSpec(3, "sunny", LabelType.TAG)])


def test_annotations_that_do_not_fit_the_labels_are_refused() -> None:
    members = cvat_old_task()
    with read_task_backup(io.BytesIO(zip_with(members)), "x.zip") as contents:
        with pytest.raises(FormatError, match=r"x\.zip: annotations\.json: \[0\]: .*rectangle, not polygon"):
            bind_annotations(contents, [LabelSpec(1, "cat", LabelType.RECTANGLE)])
        assert bind_annotations(contents, [LabelSpec(1, "cat", LabelType.RECTANGLE)], validate=False)


def test_zip_slip_member_is_refused() -> None:
    members = cvat_image_task()
    members["data/../../etc/evil"] = b"x"
    with pytest.raises(UnsafeArchiveError, match=r"x\.zip: unsafe path 'data/\.\./\.\./etc/evil'"):
        read_task_backup(io.BytesIO(zip_with(members)), "x.zip")


def test_zip_slip_in_a_project_task_folder_is_refused() -> None:
    with pytest.raises(UnsafeArchiveError, match=r"p\.zip: unsafe path '/abs/task\.json'"):
        read_project_backup(io.BytesIO(zip_with({"project.json": "{}", "/abs/task.json": "{}"})), "p.zip")


# --------------------------------------------------------------------------- writer errors


def test_writer_refuses_unknown_label_and_attribute_ids() -> None:
    backup = make_backup()
    backup.annotations[0].shapes[0].label_id = 99
    with pytest.raises(FormatError, match=r"annotations\.json\[0\]\.shapes\[0\]: label 99 is not a label"):
        write(backup)
    backup = make_backup()
    backup.annotations[0].tags[0].attributes = [AttributeVal(10, "red")]
    with pytest.raises(FormatError, match=r"attribute 10 does not belong to label 'weather'"):
        write(backup)


def test_writer_refuses_unsafe_media_names_and_missing_media() -> None:
    with pytest.raises(FormatError, match=r"unsafe path '\.\./x\.jpg'"):
        write(make_backup(), [("../x.jpg", b"x")])
    with pytest.raises(FormatError, match=r"'manifest\.jsonl' is not a valid media file name"):
        write(make_backup(), [("manifest.jsonl", b"x")])
    with pytest.raises(FormatError, match=r"media for \['img_5\.jpg'\] was not given"):
        write(make_backup(), media(5))


def test_custom_segments_need_one_file_per_frame() -> None:
    backup = make_backup()
    backup.data.custom_segments = True
    backup.frames = []
    with pytest.raises(FormatError, match=r"jobs\[0\]: custom segments need one file per frame \(3\), got 0"):
        write(backup, [])


def test_backup_is_not_a_dataset_format() -> None:
    names = {s.name for s in list_exporters()} | {s.name for s in list_importers()}
    assert not any("backup" in n.lower() for n in names)
