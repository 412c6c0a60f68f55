"""Seeded hostile inputs for the importers: decompression bombs, sizes declared far beyond the
frame, absurd coordinates and labels used for the wrong kind of shape.

A hostile-input review found RLE and mask sizes that made importers allocate tens of GiB from a
few hundred bytes. Every case here must end in a ValidationError (FormatError) that names the
file, with a small allocation peak (tracemalloc sees numpy's buffers too). Each builder draws
its numbers from a seeded ``random.Random`` so a run always replays the same uploads."""

from __future__ import annotations

import io
import random
import re
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import orjson
import pytest
from format_helpers import W, export_bytes, make_view

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledShape, ShapeType
from cvat_serverless.domain.errors import FormatError, ValidationError
from cvat_serverless.formats.common import rle_string_encode
from cvat_serverless.formats.registry import get_exporter, get_importer

SEEDS = range(4)
PEAK_LIMIT = 64 * 2**20  # the frames are 64x48: anything near this is an allocation by a declared size

Case = tuple[str, str, bytes, str]  # importer, upload name, upload, message pattern
Builder = Callable[[random.Random, DatasetView], Case]


def _huge(rng: random.Random) -> tuple[int, int]:
    return rng.randrange(50_000, 300_000), rng.randrange(50_000, 300_000)


def _coco(annotation: dict[str, Any], *, keypoint_names: list[str] | None = None, category: str = "car") -> bytes:
    cat: dict[str, Any] = {"id": 1, "name": category, "supercategory": ""}
    if keypoint_names is not None:
        cat["keypoints"] = keypoint_names
        cat["skeleton"] = []
    doc = {
        "images": [{"id": 1, "file_name": "img_0.jpg", "width": 64, "height": 48}],
        "categories": [cat],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, **annotation}],
    }
    return orjson.dumps(doc)


def _cvat(body: str) -> bytes:
    image = '<image id="0" name="img_0.jpg" width="64" height="48">'
    return f"<annotations><version>1.1</version>{image}{body}</image></annotations>".encode()


def _rezip(archive: bytes, edit: Callable[[str, bytes], bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = edit(name, src.read(name))
            if body is not None:
                dst.writestr(name, body)
    return out.getvalue()


def _datumaro(view: DatasetView, annotation: dict[str, Any]) -> bytes:
    archive = export_bytes(get_exporter("Datumaro 1.0"), view)

    def edit(name: str, body: bytes) -> bytes:
        doc = orjson.loads(body)
        doc["items"][0]["annotations"] = [{"id": 1, "group": 0, "attributes": {}, **annotation}]
        return orjson.dumps(doc)

    return _rezip(archive, edit)


def _png_size(rng: random.Random) -> tuple[int, int]:
    # under Pillow's own bomb limit (2 x 89 Mpx), so only the frame-size check stands between
    # the header and a decode of up to 144 MB (1.1 GB as int64 indices)
    return rng.randrange(4_000, 12_000), rng.randrange(4_000, 12_000)


def _png_header_bomb(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` (grey) with a token of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- bombs


def coco_compressed_rle_bomb(rng: random.Random, view: DatasetView) -> Case:
    h, w = _huge(rng)
    counts = rle_string_encode([0, h * w])  # a handful of bytes
    seg = {"size": [h, w], "counts": counts}
    return (
        "COCO 1.0",
        "bomb.json",
        _coco({"segmentation": seg, "iscrowd": 1, "bbox": [0, 0, 1, 1]}),
        "exceeds the frame",
    )


def coco_list_rle_bomb(rng: random.Random, view: DatasetView) -> Case:
    h, w = _huge(rng)
    seg = {"size": [h, w], "counts": [rng.randrange(h * w), 0]}
    seg["counts"][1] = h * w - seg["counts"][0]
    return (
        "COCO 1.0",
        "bomb.json",
        _coco({"segmentation": seg, "iscrowd": 1, "bbox": [0, 0, 1, 1]}),
        "exceeds the frame",
    )


def coco_rle_total_beyond_size(rng: random.Random, view: DatasetView) -> Case:
    seg = {"size": [48, 64], "counts": [0, rng.randrange(10**9, 10**12)]}
    return "COCO 1.0", "bomb.json", _coco({"segmentation": seg, "iscrowd": 1, "bbox": [0, 0, 1, 1]}), "RLE covers"


def coco_rle_endless_count(rng: random.Random, view: DatasetView) -> Case:
    # every character sets the continuation bit: one count of ever more digits
    seg = {"size": [48, 64], "counts": "o" * rng.randrange(10_000, 200_000)}
    return "COCO 1.0", "bomb.json", _coco({"segmentation": seg, "iscrowd": 1, "bbox": [0, 0, 1, 1]}), "malformed RLE"


def datumaro_compressed_rle_bomb(rng: random.Random, view: DatasetView) -> Case:
    h, w = _huge(rng)
    ann = {"type": "mask", "label_id": 0, "rle": {"size": [h, w], "counts": rle_string_encode([0, h * w])}}
    return "Datumaro 1.0", "upload.zip", _datumaro(view, ann), "exceeds the frame"


def cvat_mask_beyond_frame(rng: random.Random, view: DatasetView) -> Case:
    w, h = _huge(rng)
    box = f'left="0" top="0" width="{w}" height="{h}"'
    body = f'<mask label="car" source="manual" occluded="0" rle="0, {w * h}" {box} z_order="0"></mask>'
    return "CVAT 1.1", "annotations.xml", _cvat(body), "outside the frame"


def cvat_mask_box_shifted_out(rng: random.Random, view: DatasetView) -> Case:
    left = rng.randrange(W + 1, 10**6)
    body = f'<mask label="car" rle="0, 4" left="{left}" top="0" width="2" height="2"></mask>'
    return "CVAT 1.1", "annotations.xml", _cvat(body), "outside the frame"


def labelme_png_bomb(rng: random.Random, view: DatasetView) -> Case:
    archive = export_bytes(get_exporter("LabelMe 3.0"), view)
    bomb = _png_header_bomb(*_png_size(rng))
    upload = _rezip(archive, lambda name, body: bomb if name.startswith("Masks/") else body)
    return "LabelMe 3.0", "upload.zip", upload, "is not the frame's"


def segmentation_png_bomb(rng: random.Random, view: DatasetView) -> Case:
    archive = export_bytes(get_exporter("Segmentation mask 1.1"), view)
    bomb = _png_header_bomb(*_png_size(rng))
    upload = _rezip(archive, lambda name, body: bomb if name.endswith("img_1.png") else body)
    return "Segmentation mask 1.1", "upload.zip", upload, "is not the frame's"


# --------------------------------------------------------------------------- absurd coordinates


def coco_far_box(rng: random.Random, view: DatasetView) -> Case:
    x = rng.choice([-1.0, 1.0]) * 10.0 ** rng.randrange(7, 300)
    return "COCO 1.0", "far.json", _coco({"segmentation": [], "bbox": [x, 0, 10, 10]}), "too far outside the frame"


def cvat_far_polygon(rng: random.Random, view: DatasetView) -> Case:
    y = 10 ** rng.randrange(7, 300)
    return "CVAT 1.1", "annotations.xml", _cvat(f'<polygon label="car" points="0,0;10,{y};5,5"></polygon>'), "too far"


def yolo_far_box(rng: random.Random, view: DatasetView) -> Case:
    archive = export_bytes(get_exporter("YOLO 1.1"), view)
    cx = 10 ** rng.randrange(6, 200)
    line = f"0 {cx} 0.5 0.1 0.1\n".encode()
    upload = _rezip(archive, lambda name, body: line if name.endswith("img_0.txt") else body)
    return "YOLO 1.1", "upload.zip", upload, "too far outside the frame"


# --------------------------------------------------------------------------- wrong label types


def coco_box_with_tag_label(rng: random.Random, view: DatasetView) -> Case:
    box = [rng.randrange(10), rng.randrange(10), 5, 5]
    return "COCO 1.0", "tag.json", _coco({"segmentation": [], "bbox": box}, category="weather"), "of type tag"


def coco_polygon_with_skeleton_label(rng: random.Random, view: DatasetView) -> Case:
    poly = [[float(rng.randrange(40)) for _ in range(6)]]
    return "COCO 1.0", "sk.json", _coco({"segmentation": poly}, category="face"), "needs skeleton shapes"


def coco_keypoints_on_plain_label(rng: random.Random, view: DatasetView) -> Case:
    kps = [float(rng.randrange(40)), 1.0, 2.0]
    doc = _coco({"keypoints": kps, "bbox": [0, 0, 1, 1]}, keypoint_names=["p"], category="car")
    return "COCO Keypoints 1.0", "kp.json", doc, "is not a skeleton"


def coco_keypoints_unknown_name(rng: random.Random, view: DatasetView) -> Case:
    names = ["left_eye", "right_eye", "nose"]
    names[rng.randrange(3)] = rng.choice(["tail", "Nose", "left eye", ""])
    doc = _coco({"keypoints": [1.0, 1.0, 2.0] * 3, "bbox": [0, 0, 1, 1]}, keypoint_names=names, category="face")
    return "COCO Keypoints 1.0", "kp.json", doc, "not points of skeleton 'face'"


def datumaro_box_with_tag_label(rng: random.Random, view: DatasetView) -> Case:
    ann = {"type": "bbox", "label_id": 3, "bbox": [rng.randrange(10), 0, 5, 5]}
    return "Datumaro 1.0", "upload.zip", _datumaro(view, ann), "of type tag"


def datumaro_tag_with_skeleton_label(rng: random.Random, view: DatasetView) -> Case:
    return "Datumaro 1.0", "upload.zip", _datumaro(view, {"type": "label", "label_id": 2}), "cannot tag"


def cvat_box_with_skeleton_label(rng: random.Random, view: DatasetView) -> Case:
    x = rng.randrange(30)
    body = f'<box label="face" xtl="{x}" ytl="0" xbr="{x + 5}" ybr="5"></box>'
    return "CVAT 1.1", "annotations.xml", _cvat(body), "needs skeleton shapes"


def cvat_tag_with_skeleton_label(rng: random.Random, view: DatasetView) -> Case:
    return "CVAT 1.1", "annotations.xml", _cvat('<tag label="face" source="manual"></tag>'), "cannot tag"


def cvat_mask_with_tag_label(rng: random.Random, view: DatasetView) -> Case:
    body = '<mask label="weather" rle="0, 4" left="0" top="0" width="2" height="2"></mask>'
    return "CVAT 1.1", "annotations.xml", _cvat(body), "of type tag"


def yolo_box_with_tag_label(rng: random.Random, view: DatasetView) -> Case:
    archive = export_bytes(get_exporter("YOLO 1.1"), view)
    names = None
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = z.read("obj.names").decode().split()
    line = f"{names.index('weather')} 0.5 0.5 0.{rng.randrange(1, 9)} 0.1\n".encode()
    upload = _rezip(archive, lambda name, body: line if name.endswith("img_0.txt") else body)
    return "YOLO 1.1", "upload.zip", upload, "of type tag"


def imagenet_tag_with_skeleton_label(rng: random.Random, view: DatasetView) -> Case:
    archive = export_bytes(get_exporter("ImageNet 1.0"), view)
    upload = _rezip(archive, lambda name, body: body.replace(b"weather", b"face") if name.endswith(".txt") else body)
    return "ImageNet 1.0", "upload.zip", upload, "cannot tag"


BUILDERS: list[Builder] = [
    coco_compressed_rle_bomb,
    coco_list_rle_bomb,
    coco_rle_total_beyond_size,
    coco_rle_endless_count,
    datumaro_compressed_rle_bomb,
    cvat_mask_beyond_frame,
    cvat_mask_box_shifted_out,
    labelme_png_bomb,
    segmentation_png_bomb,
    coco_far_box,
    cvat_far_polygon,
    yolo_far_box,
    coco_box_with_tag_label,
    coco_polygon_with_skeleton_label,
    coco_keypoints_on_plain_label,
    coco_keypoints_unknown_name,
    datumaro_box_with_tag_label,
    datumaro_tag_with_skeleton_label,
    cvat_box_with_skeleton_label,
    cvat_tag_with_skeleton_label,
    cvat_mask_with_tag_label,
    yolo_box_with_tag_label,
    imagenet_tag_with_skeleton_label,
]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the header says so; we refuse
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_hostile_upload_is_refused_with_little_memory(
    build: Builder, seed: int, deadline: Callable[[int], AbstractContextManager[None]]
) -> None:
    view = make_view()
    importer, filename, upload, pattern = build(random.Random(f"{build.__name__}/{seed}"), view)
    assert len(upload) < 2**20  # small uploads: the danger is what they declare
    tracemalloc.start()
    try:
        with deadline(20), pytest.raises(ValidationError) as caught:
            get_importer(importer)(io.BytesIO(upload), view, filename)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(caught.value, FormatError)
    assert re.search(pattern, str(caught.value)), str(caught.value)
    assert peak < PEAK_LIMIT, f"{build.__name__}: allocated {peak / 2**20:.0f} MiB before refusing"


@pytest.mark.parametrize("exporter", ["COCO 1.0", "Datumaro 1.0", "Segmentation mask 1.1", "LabelMe 3.0"])
def test_a_mask_stored_before_the_bounds_fails_its_export_cleanly(exporter: str) -> None:
    # the reported task: a 100000x100000 mask on a small frame, accepted before frame sizes
    # were checked; its export now stops with a FormatError instead of a MemoryError
    bad = LabeledShape(ShapeType.MASK, 0, 1, [0.0, 1e10, 0.0, 0.0, 99_999.0, 99_999.0])
    view = make_view(annotations=LabeledData(shapes=[bad]))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="exceeds the frame"):
            export_bytes(get_exporter(exporter), view)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT
