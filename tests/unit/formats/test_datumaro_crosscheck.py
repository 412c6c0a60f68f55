"""Datumaro (an external reader/writer) agrees with our formats.

Datumaro 1.13 pins Pillow < 13, so it lives in its own venv (``.venv-datumaro`` at the repo
root) and runs in a subprocess (``datumaro_probe.py``). Skipped, with this reason, when absent.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from format_helpers import export_bytes, flat_shapes, image_bytes, make_annotations, make_view

from cvat_serverless.domain.annotations import DatasetView, LabeledData, ShapeType, validate_annotations
from cvat_serverless.formats.common import cvat_mask_to_bitmap
from cvat_serverless.formats.registry import get_exporter, get_importer

ROOT = Path(__file__).resolve().parents[3]
DATUMARO_PYTHON = ROOT / ".venv-datumaro" / "bin" / "python"
PROBE = Path(__file__).with_name("datumaro_probe.py")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATUMARO_PYTHON.exists(),
        reason=f"Datumaro venv not found at {DATUMARO_PYTHON} "
        "(python3.11 -m venv .venv-datumaro && .venv-datumaro/bin/pip install datumaro==1.13.* pycocotools)",
    ),
]


def _probe(action: str, fmt: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(DATUMARO_PYTHON), str(PROBE), action, fmt, str(path)],
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


def _flat(view: DatasetView) -> list[Any]:
    return flat_shapes(view.annotations, view.last_frame())


# --------------------------------------------------------------------------- our files -> Datumaro


def test_datumaro_reads_our_cvat_for_images(tmp_path: Path) -> None:
    view = make_view()
    got = _probe(
        "count", "cvat", _extract(export_bytes(get_exporter("CVAT for images 1.1"), view, image_bytes), tmp_path)
    )
    # Datumaro models a skeleton as its points and has no 2D ellipse/cuboid in its CVAT reader
    skip = {ShapeType.ELLIPSE, ShapeType.CUBOID}
    expected = sum(len(s.elements) if s.type == ShapeType.SKELETON else 1 for s in _flat(view) if s.type not in skip)
    assert got["items"] == len(view.frames)
    assert got["annotations"] == expected + len(view.annotations.tags)
    assert got["labels"] == ["car", "person", "face", "left_eye", "right_eye", "nose", "weather"]


def test_datumaro_reads_our_cvat_for_video(tmp_path: Path) -> None:
    # Datumaro 1.13's CVAT reader cannot read masks inside tracks (it needs <image> sizes), so
    # this task has no mask; everything else is there.
    data = make_annotations()
    data.shapes = [s for s in data.shapes if s.type != ShapeType.MASK]
    view = make_view(video=True, annotations=data)
    got = _probe("count", "cvat", _extract(export_bytes(get_exporter("CVAT for video 1.1"), view), tmp_path))
    skip = {ShapeType.ELLIPSE, ShapeType.CUBOID}
    # every track frame, outside ones included, is an annotation for Datumaro's reader
    root = zipfile.ZipFile(io.BytesIO(export_bytes(get_exporter("CVAT for video 1.1"), view)))
    xml = root.read("annotations.xml").decode()
    assert xml.count("<track ") == len(data.tracks) + len(data.shapes)
    assert got["items"] == len(view.frames)
    # Datumaro reads every frame element of every track (outside ones too), skeletons as points
    written = re.findall(r"<(box|polygon|polyline|points) ", xml)
    assert got["annotations"] == len(written) > len(data.tracks) + len(data.shapes)
    assert "ellipse" not in got["types"] and all(t not in skip for t in got["types"])


def test_datumaro_reads_our_coco(tmp_path: Path) -> None:
    view = make_view()
    got = _probe(
        "count", "coco_instances", _extract(export_bytes(get_exporter("COCO 1.0"), view, image_bytes), tmp_path)
    )
    carried = {ShapeType.RECTANGLE, ShapeType.POLYGON, ShapeType.MASK}
    assert got["items"] == len(view.frames)
    assert got["distinct_ids"] == sum(1 for s in _flat(view) if s.type in carried)
    assert got["labels"] == [label.name for label in view.labels]


def test_datumaro_reads_our_coco_keypoints(tmp_path: Path) -> None:
    view = make_view()
    got = _probe(
        "count",
        "coco_person_keypoints",
        _extract(export_bytes(get_exporter("COCO Keypoints 1.0"), view, image_bytes), tmp_path),
    )
    assert got["items"] == len(view.frames)
    assert got["types"]["points"] == sum(1 for s in _flat(view) if s.type == ShapeType.SKELETON)


def test_datumaro_reads_our_datumaro(tmp_path: Path) -> None:
    view = make_view()
    got = _probe("count", "datumaro", _extract(export_bytes(get_exporter("Datumaro 1.0"), view, image_bytes), tmp_path))
    assert got["items"] == len(view.frames)
    assert got["annotations"] == len(_flat(view)) + len(view.annotations.tags)
    assert got["labels"] == [label.name for label in view.labels]


# --------------------------------------------------------------------------- Datumaro files -> us


@pytest.mark.parametrize(
    ("dm_format", "our_format"),
    [("cvat", "CVAT 1.1"), ("coco_instances", "COCO 1.0"), ("datumaro", "Datumaro 1.0")],
)
def test_datumaro_written_archives_import(tmp_path: Path, dm_format: str, our_format: str) -> None:
    out = tmp_path / "dm"
    written = _probe("write", dm_format, out)
    view = make_view(annotations=LabeledData())
    got = get_importer(our_format)(io.BytesIO(_zip_dir(out)), view, "dataset.zip")
    validate_annotations(got, view.labels, frame_count=6)
    types = written["types"]
    assert len(got.shapes) == types.get("bbox", 0) + types.get("polygon", 0) + types.get("mask", 0)
    assert len(got.tags) == types.get("label", 0)
    assert sum(1 for s in got.shapes if s.type == ShapeType.MASK) == types.get("mask", 0)
    assert {s.frame for s in got.shapes} == set(range(6))
    # the mask Datumaro drew on frame 2 is rows 12..21, columns 5..14
    mask = next(s for s in got.shapes if s.type == ShapeType.MASK and s.frame == 2)
    bitmap = cvat_mask_to_bitmap(mask.points, 64, 48)
    ys, xs = bitmap.nonzero()
    assert (ys.min(), ys.max(), xs.min(), xs.max(), int(bitmap.sum())) == (12, 21, 5, 14, 100)
    shutil.rmtree(out)
