from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from format_helpers import canon_shapes, export_bytes, flat_shapes, make_view, zip_names, zip_with

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.formats.common import (
    bitmap_to_coco_rle,
    coco_rle_to_bitmap,
    cvat_mask_to_bitmap,
    rle_string_decode,
    rle_string_encode,
)
from cvat_serverless.formats.registry import get_exporter, get_importer

EXPORT = get_exporter("COCO 1.0")
IMPORT = get_importer("COCO 1.0")
EXPORT_KP = get_exporter("COCO Keypoints 1.0")
IMPORT_KP = get_importer("COCO Keypoints 1.0")

COCO_TYPES = {ShapeType.RECTANGLE, ShapeType.POLYGON, ShapeType.MASK}


def _json(data: bytes, name: str) -> Any:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return json.loads(z.read(name))


def _carried(shapes: list[LabeledShape], types: set[ShapeType]) -> list[Any]:
    # COCO keeps geometry, occluded, rotation and attributes; not z_order, group or source
    return sorted(
        (*key, s.occluded, round(s.rotation, 6))
        for s in shapes
        if s.type in types
        for key in [canon_shapes([s], 6, flags=False)[0]]
    )


def test_layout_and_document(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    assert zip_names(data) == ["annotations/instances_default.json"] + [f"images/default/img_{i}.jpg" for i in range(6)]
    doc = _json(data, "annotations/instances_default.json")
    assert list(doc) == ["licenses", "info", "categories", "images", "annotations"]
    assert doc["categories"][0] == {"id": 1, "name": "car", "supercategory": ""}
    assert doc["images"][0] == {
        "id": 1,
        "width": 64,
        "height": 48,
        "file_name": "img_0.jpg",
        "license": 0,
        "flickr_url": "",
        "coco_url": "",
        "date_captured": 0,
    }
    box = doc["annotations"][0]
    assert box["bbox"] == [1.5, 2.25, 19.25, 27.75] and box["segmentation"] == [] and box["iscrowd"] == 0
    assert box["attributes"] == {
        "occluded": False,
        "rotation": 0.0,
        "color": "blue",
        "parked": True,
        "speed": 42,
    }
    mask = next(a for a in doc["annotations"] if a["iscrowd"] == 1)
    assert mask["segmentation"]["size"] == [48, 64] and mask["area"] == 16.0
    tracked = [a for a in doc["annotations"] if "track_id" in a["attributes"]]
    assert {a["attributes"]["track_id"] for a in tracked} == {0, 1}
    assert [a["attributes"]["keyframe"] for a in tracked if a["attributes"]["track_id"] == 0] == [
        True,
        False,
        True,
        False,
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2 copy keyword
def test_pycocotools_reads_our_file(view: DatasetView, tmp_path: Path) -> None:
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    path = tmp_path / "instances_default.json"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(export_bytes(EXPORT, view))).read("annotations/instances_default.json"))
    coco = COCO(str(path))
    assert len(coco.getImgIds()) == 6
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car", "person", "face", "weather"]
    anns = coco.loadAnns(coco.getAnnIds())
    mask_ann = next(a for a in anns if a["iscrowd"])
    bitmap = coco.annToMask(mask_ann)
    ours = cvat_mask_to_bitmap(view.annotations.shapes[7].points, 64, 48)
    assert np.array_equal(bitmap.astype(bool), ours)
    assert mask_utils.area(mask_utils.frPyObjects(mask_ann["segmentation"], 48, 64)) == mask_ann["area"]
    poly = next(a for a in anns if a["segmentation"] and not a["iscrowd"])
    assert coco.annToMask(poly).sum() > 0


def test_instances_round_trip(view: DatasetView) -> None:
    got = IMPORT(io.BytesIO(export_bytes(EXPORT, view)), view, "task.zip")
    validate_annotations(got, view.labels, frame_count=6)
    assert _carried(flat_shapes(got, 5), COCO_TYPES) == _carried(flat_shapes(view.annotations, 5), COCO_TYPES)
    assert len(got.tracks) == 2  # the person box track and the car polygon track, by track_id
    assert {t.label_id for t in got.tracks} == {1, 2}
    assert got.tags == []  # COCO has no tags


def test_keypoints_round_trip(view: DatasetView) -> None:
    data = export_bytes(EXPORT_KP, view)
    doc = _json(data, "annotations/person_keypoints_default.json")
    face = next(c for c in doc["categories"] if c["name"] == "face")
    assert face["keypoints"] == ["left_eye", "right_eye", "nose"] and face["skeleton"] == [[1, 2], [2, 3]]
    first = next(a for a in doc["annotations"] if "track_id" not in a["attributes"])
    assert first["image_id"] == 5
    assert first["keypoints"] == [10, 10, 2, 30, 10, 2, 20, 20, 0] and first["num_keypoints"] == 2
    got = IMPORT_KP(io.BytesIO(data), view, "task.zip")
    validate_annotations(got, view.labels, frame_count=6)
    skel = {ShapeType.SKELETON}
    assert _carried(flat_shapes(got, 5), skel) == _carried(flat_shapes(view.annotations, 5), skel)


def _keypoints_doc(names: list[str], kps: list[float]) -> bytes:
    doc = {
        "images": [{"id": 1, "file_name": "img_0.jpg", "width": 64, "height": 48}],
        "categories": [{"id": 1, "name": "face", "keypoints": names, "skeleton": []}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": kps, "bbox": [0, 0, 1, 1]}],
    }
    return json.dumps(doc).encode()


def test_keypoints_are_matched_by_name_not_position(view: DatasetView) -> None:
    # the file lists the skeleton's points in another order: each point keeps its own sublabel
    doc = _keypoints_doc(["nose", "left_eye", "right_eye"], [20, 20, 2, 10, 10, 1, 30, 10, 0])
    got = IMPORT_KP(io.BytesIO(doc), view, "kp.json")
    validate_annotations(got, view.labels, frame_count=6)
    (skeleton,) = got.shapes
    by_name = {31: "left_eye", 32: "right_eye", 33: "nose"}
    points = {by_name[e.label_id]: (e.points, e.occluded, e.outside) for e in skeleton.elements}
    assert points == {
        "nose": ([20, 20], False, False),
        "left_eye": ([10, 10], True, False),
        "right_eye": ([30, 10], False, True),
    }
    assert [e.label_id for e in skeleton.elements] == [31, 32, 33]  # the skeleton's own order


def test_keypoints_the_file_does_not_name_come_back_outside(view: DatasetView) -> None:
    got = IMPORT_KP(io.BytesIO(_keypoints_doc(["nose"], [20, 20, 2])), view, "kp.json")
    validate_annotations(got, view.labels, frame_count=6)
    (skeleton,) = got.shapes
    assert [(e.label_id, e.outside) for e in skeleton.elements] == [(31, True), (32, True), (33, False)]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["left_eye", "right_eye", "mouth"], r"kp.json: categories\[0\]: keypoint\(s\) 'mouth' are not points"),
        (["left_eye", "left_eye", "nose"], "names a point twice"),
        ("left_eye", "must be a list of point names"),
    ],
)
def test_keypoint_names_the_skeleton_lacks_are_refused(view: DatasetView, names: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        IMPORT_KP(io.BytesIO(_keypoints_doc(names, [1, 1, 2] * 3)), view, "kp.json")


def test_bare_json_and_compressed_rle_are_read(view: DatasetView) -> None:
    doc = _json(export_bytes(EXPORT, view), "annotations/instances_default.json")
    for ann in doc["annotations"]:
        if ann["iscrowd"]:
            ann["segmentation"]["counts"] = rle_string_encode(ann["segmentation"]["counts"])
    got = IMPORT(io.BytesIO(json.dumps(doc).encode()), view, "instances_default.json")
    masks = [s for s in got.shapes if s.type == ShapeType.MASK]
    assert [m.points for m in masks] == [view.annotations.shapes[7].points]


def test_rle_helpers_agree_with_pycocotools() -> None:
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(3)
    bitmap = rng.random((17, 23)) > 0.6
    ours = bitmap_to_coco_rle(bitmap)
    theirs = mask_utils.encode(np.asfortranarray(bitmap.astype(np.uint8)))
    assert rle_string_encode(ours["counts"]) == theirs["counts"].decode()
    assert rle_string_decode(theirs["counts"]) == ours["counts"]
    assert np.array_equal(coco_rle_to_bitmap(ours), bitmap)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["categories"].append({"id": 9, "name": "truck"}),
            r"categories\[4\]: label 'truck' is not in the task",
        ),
        (
            lambda d: d["images"][0].update(file_name="other.jpg"),
            r"images\[0\]: could not match item 'other\.jpg'",
        ),
        (lambda d: d["annotations"][0].update(category_id=42), r"annotations\[0\]: category_id 42"),
        (lambda d: d["annotations"][0].pop("image_id"), r"annotations\[0\]: 'image_id' is missing"),
        (
            lambda d: d["annotations"][2].update(segmentation=[[1, 2, 3, 4]]),
            r"annotations\[2\]: a polygon needs",
        ),
    ],
)
def test_bad_documents_name_file_and_item(view: DatasetView, mutate: Any, message: str) -> None:
    doc = _json(export_bytes(EXPORT, view), "annotations/instances_default.json")
    mutate(doc)
    archive = zip_with({"annotations/instances_default.json": json.dumps(doc)})
    with pytest.raises(FormatError, match=r"annotations/instances_default\.json: " + message):
        IMPORT(io.BytesIO(archive), view, "task.zip")


def test_malformed_json_reports_line(view: DatasetView) -> None:
    archive = zip_with({"annotations/instances_default.json": '{\n"images": [\n  {"id": 1,,}\n]}'})
    with pytest.raises(FormatError, match=r"instances_default\.json, line 3 column 12: malformed JSON"):
        IMPORT(io.BytesIO(archive), view, "task.zip")
    with pytest.raises(FormatError, match=r"no annotations/instances_<subset>\.json"):
        IMPORT(io.BytesIO(zip_with({"annotations.xml": "<a/>"})), view, "task.zip")


def test_empty_task_exports_valid_files() -> None:
    view = make_view(annotations=LabeledData())
    for exp in (EXPORT, EXPORT_KP):
        data = export_bytes(exp, view)
        (name,) = zip_names(data)
        assert _json(data, name)["annotations"] == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_numbers_json_cannot_spell_stop_the_export(bad: float) -> None:
    polygon = LabeledShape(ShapeType.POLYGON, 2, 1, [0.0, 1.0, bad, 2.0, 3, 3])
    view = make_view(annotations=LabeledData(shapes=[polygon]))
    with pytest.raises(FormatError, match="frame 2: a polygon with numbers that are not finite"):
        export_bytes(get_exporter("COCO 1.0"), view)
