"""Datumaro (an external reader/writer) agrees with our YOLO, VOC, MOT, Ultralytics, mask,
ImageNet and LabelMe formats, both ways.

Datumaro 1.13 lives in its own venv (``.venv-datumaro``) and runs in a subprocess; the probe
script below is written to a temporary file and run by that venv's python. Skipped, with the
reason, when the venv is absent.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from format_helpers import export_bytes, flat_shapes, image_bytes, make_view

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledImage,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.formats.registry import get_exporter, get_importer

ROOT = Path(__file__).resolve().parents[3]
DATUMARO_PYTHON = ROOT / ".venv-datumaro" / "bin" / "python"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATUMARO_PYTHON.exists(),
        reason=f"Datumaro venv not found at {DATUMARO_PYTHON} "
        "(python3.11 -m venv .venv-datumaro && .venv-datumaro/bin/pip install datumaro==1.13.* pycocotools)",
    ),
]

PROBE = r"""
import collections, json, sys
import datumaro as dm
import numpy as np

LABELS = ["car", "person", "face", "weather"]


def count(fmt, path):
    ds = dm.Dataset.import_from(path, fmt)
    types = collections.Counter()
    tracks = set()
    occluded = 0
    for item in ds:
        for ann in item.annotations:
            types[ann.type.name] += 1
            if "track_id" in ann.attributes:
                tracks.add(ann.attributes["track_id"])
            occluded += bool(ann.attributes.get("occluded"))
    labels = ds.categories().get(dm.AnnotationType.label)
    return {
        "items": len(ds),
        "annotations": sum(types.values()),
        "types": dict(types),
        "tracks": len(tracks),
        "occluded": occluded,
        "labels": [label.name for label in labels] if labels else [],
        "ids": sorted(item.id for item in ds),
    }


def build(fmt):
    items = []
    for i in range(6):
        anns = [
            dm.Bbox(2 + i, 3, 10, 12, label=0, id=1, attributes={"occluded": i == 1, "track_id": 1}),
            dm.Bbox(30, 5 + i, 8, 6, label=1, id=2, attributes={"occluded": False, "track_id": 2}),
        ]
        if fmt in ("voc", "voc_segmentation", "label_me"):
            mask = np.zeros((48, 64), dtype=np.uint8)
            mask[20 + i : 30 + i, 40:50] = 1
            anns.append(dm.Mask(image=mask, label=1, id=3, group=3))
        if fmt == "imagenet":
            anns = [dm.Label(3 if i % 2 else 0)]
        if fmt == "mot_seq_gt" and i == 5:
            anns = anns[:1]  # track 2 ends on frame 4
        items.append(
            dm.DatasetItem(
                id=f"img_{i}",
                subset="default",
                annotations=anns,
                media=dm.Image.from_numpy(np.full((48, 64, 3), 40 * i, dtype=np.uint8)),
            )
        )
    categories = {dm.AnnotationType.label: dm.LabelCategories.from_iterable(LABELS)}
    return dm.Dataset.from_iterable(items, categories=categories)


def write(fmt, path):
    ds = build(fmt)
    kw = {"label_map": "source"} if fmt.startswith("voc") else {}
    ds.export(path, fmt, save_media=True, **kw)
    types = collections.Counter(a.type.name for item in ds for a in item.annotations)
    return {"items": len(ds), "annotations": sum(types.values()), "types": dict(types)}


action, fmt, path = sys.argv[1:4]
print(json.dumps(count(fmt, path) if action == "count" else write(fmt, path)))
"""


@pytest.fixture(scope="module")
def probe_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("probe") / "more_datumaro_probe.py"
    path.write_text(PROBE)
    return path


def _probe(probe: Path, action: str, fmt: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(DATUMARO_PYTHON), str(probe), action, fmt, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _extract(data: bytes, dest: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(dest)
    return dest


def _zip_dir(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(path).as_posix())
    return buf.getvalue()


def _flat(view: DatasetView, types: set[ShapeType]) -> list[Any]:
    return [s for s in flat_shapes(view.annotations, view.last_frame()) if s.type in types]


def _blank() -> DatasetView:
    return make_view(annotations=LabeledData())


# --------------------------------------------------------------------------- YOLO 1.1


def test_datumaro_reads_our_yolo(tmp_path: Path, probe_path: Path) -> None:
    view = make_view()
    data = export_bytes(get_exporter("YOLO 1.1"), view, image_bytes)
    got = _probe(probe_path, "count", "yolo", _extract(data, tmp_path))
    assert got["items"] == len(view.frames)
    assert got["annotations"] == got["types"]["bbox"] == len(_flat(view, {ShapeType.RECTANGLE}))
    assert got["labels"] == [label.name for label in view.labels]


def test_datumaro_written_yolo_imports(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "yolo", tmp_path / "dm")
    view = _blank()
    got = get_importer("YOLO 1.1")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert len(got.shapes) == written["types"]["bbox"] == 12
    first = sorted((s.frame, s.label_id, [round(v, 3) for v in s.points]) for s in got.shapes)[0]
    assert first == (0, 1, [2.0, 3.0, 12.0, 15.0])


# --------------------------------------------------------------------------- PASCAL VOC 1.1


def test_datumaro_reads_our_voc(tmp_path: Path, probe_path: Path) -> None:
    view = make_view()
    data = export_bytes(get_exporter("PASCAL VOC 1.1"), view, image_bytes)
    got = _probe(probe_path, "count", "voc", _extract(data, tmp_path))
    ours = get_importer("PASCAL VOC 1.1")(io.BytesIO(data), view, "a.zip")
    instances = sum(1 for s in ours.shapes if s.type == ShapeType.MASK)
    boxes = _flat(view, {ShapeType.RECTANGLE})
    assert got["items"] == len(view.frames)
    assert got["types"]["bbox"] == len(boxes)
    assert got["occluded"] == sum(1 for s in boxes if s.occluded) == 3
    assert got["tracks"] == 1
    assert got["types"]["mask"] == instances == 6
    assert got["types"]["label"] == len(view.annotations.tags)
    assert got["labels"] == ["background", *(label.name for label in view.labels)]


def test_datumaro_written_voc_imports(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "voc", tmp_path / "dm")
    view = _blank()
    got = get_importer("PASCAL VOC 1.1")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    flat = flat_shapes(got, 5)
    assert sum(1 for s in flat if s.type == ShapeType.RECTANGLE) == written["types"]["bbox"] == 12
    assert sum(1 for s in flat if s.type == ShapeType.MASK) == written["types"]["mask"] == 6
    # Datumaro keeps track_id in <attributes>: the two box tracks come back as tracks
    assert sorted(t.label_id for t in got.tracks) == [1, 2]
    assert [s.frame for s in flat if s.occluded] == [1]
    mask = next(s for s in got.shapes if s.type == ShapeType.MASK and s.frame == 2)
    assert mask.label_id == 2 and mask.points[-4:] == [40.0, 22.0, 49.0, 31.0]


# --------------------------------------------------------------------------- MOT 1.1


def test_datumaro_reads_our_mot(tmp_path: Path, probe_path: Path) -> None:
    view = make_view(video=True)
    data = export_bytes(get_exporter("MOT 1.1"), view, image_bytes)
    got = _probe(probe_path, "count", "mot_seq", _extract(data, tmp_path))
    boxes = _flat(view, {ShapeType.RECTANGLE})
    assert got["items"] == len(view.frames)
    assert got["annotations"] == got["types"]["bbox"] == len(boxes)
    assert got["tracks"] == 1 and got["occluded"] == sum(1 for s in boxes if s.occluded) == 3
    assert got["labels"] == [label.name for label in view.labels]


def test_datumaro_written_mot_imports(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "mot_seq_gt", tmp_path / "dm")
    view = _blank()
    got = get_importer("MOT 1.1")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert got.shapes == []
    flat = flat_shapes(got, 5)
    assert len(flat) == written["types"]["bbox"] == 11
    car, person = sorted(got.tracks, key=lambda t: t.label_id)
    assert [k.frame for k in car.shapes] == [0, 1, 2, 3, 4, 5]  # runs to the end: no closing keyframe
    assert [k.frame for k in person.shapes] == [0, 1, 2, 3, 4, 5] and person.shapes[-1].outside
    assert [k.occluded for k in car.shapes] == [False, True, False, False, False, False]
    assert car.shapes[2].points == [4.0, 3.0, 14.0, 15.0]


# --------------------------------------------------------------------------- Ultralytics YOLO Detection 1.0


def test_datumaro_reads_our_ultralytics_detection(tmp_path: Path, probe_path: Path) -> None:
    view = make_view()
    data = export_bytes(get_exporter("Ultralytics YOLO Detection 1.0"), view, image_bytes)
    got = _probe(probe_path, "count", "yolo", _extract(data, tmp_path))
    assert got["items"] == len(view.frames)
    assert got["annotations"] == got["types"]["bbox"] == len(_flat(view, {ShapeType.RECTANGLE}))
    assert got["labels"] == [label.name for label in view.labels]


# --------------------------------------------------------------------------- Segmentation mask 1.1


def test_datumaro_reads_our_segmentation_masks(tmp_path: Path, probe_path: Path) -> None:
    view = make_view()
    data = export_bytes(get_exporter("Segmentation mask 1.1"), view, image_bytes)
    got = _probe(probe_path, "count", "voc_segmentation", _extract(data, tmp_path))
    ours = get_importer("Segmentation mask 1.1")(io.BytesIO(data), view, "a.zip")
    assert got["items"] == len(view.frames)
    assert got["annotations"] == got["types"]["mask"] == len(ours.shapes) == 12
    assert got["labels"] == ["background", *(label.name for label in view.labels)]


def test_datumaro_written_segmentation_masks_import(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "voc_segmentation", tmp_path / "dm")
    view = _blank()
    got = get_importer("Segmentation mask 1.1")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert len(got.shapes) == written["types"]["mask"] == 6
    assert {(s.frame, s.label_id, *s.points[-4:]) for s in got.shapes} == {
        (i, 2, 40.0, 20.0 + i, 49.0, 29.0 + i) for i in range(6)
    }


# --------------------------------------------------------------------------- ImageNet 1.0


def _tagged_view() -> DatasetView:
    return make_view(annotations=LabeledData(tags=[LabeledImage(0, 4), LabeledImage(0, 2), LabeledImage(3, 1)]))


@pytest.mark.parametrize(("with_images", "dm_format"), [(False, "imagenet_txt"), (True, "imagenet")])
def test_datumaro_reads_our_imagenet(tmp_path: Path, probe_path: Path, with_images: bool, dm_format: str) -> None:
    view = _tagged_view()
    data = export_bytes(get_exporter("ImageNet 1.0"), view, image_bytes if with_images else None)
    got = _probe(probe_path, "count", dm_format, _extract(data, tmp_path))
    assert got["types"] == {"label": 3}
    # Datumaro's folder reader makes one item per (folder, image): frame 0 is in two folders
    assert got["items"] == (7 if with_images else 6)


def test_datumaro_written_imagenet_imports(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "imagenet", tmp_path / "dm")
    view = _blank()
    got = get_importer("ImageNet 1.0")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert len(got.tags) == written["types"]["label"] == 6
    assert sorted((t.frame, t.label_id) for t in got.tags) == [(i, 4 if i % 2 else 1) for i in range(6)]


# --------------------------------------------------------------------------- LabelMe 3.0


def test_datumaro_reads_our_labelme(tmp_path: Path, probe_path: Path) -> None:
    view = make_view()
    data = export_bytes(get_exporter("LabelMe 3.0"), view, image_bytes)
    got = _probe(probe_path, "count", "label_me", _extract(data, tmp_path))
    flat = _flat(view, {ShapeType.RECTANGLE, ShapeType.POLYGON, ShapeType.MASK})
    assert got["items"] == len(view.frames)
    assert got["annotations"] == len(flat)
    assert got["types"].get("polygon", 0) == sum(1 for s in flat if s.type == ShapeType.POLYGON)


def test_datumaro_written_labelme_imports(tmp_path: Path, probe_path: Path) -> None:
    written = _probe(probe_path, "write", "label_me", tmp_path / "dm")
    view = _blank()
    got = get_importer("LabelMe 3.0")(io.BytesIO(_zip_dir(tmp_path / "dm")), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    flat = flat_shapes(got, 5)
    assert sum(1 for s in flat if s.type == ShapeType.RECTANGLE) == written["types"]["bbox"] == 12
    assert sum(1 for s in flat if s.type == ShapeType.MASK) == written["types"]["mask"] == 6
    assert sorted(t.label_id for t in got.tracks) == [1, 2]  # Datumaro writes track_id attributes
    mask = next(s for s in flat if s.type == ShapeType.MASK and s.frame == 2)
    assert mask.label_id == 2 and mask.points[-4:] == [40.0, 22.0, 49.0, 31.0]
