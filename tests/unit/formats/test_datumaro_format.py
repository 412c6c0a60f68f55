from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from format_helpers import canon_shapes, canon_tags, export_bytes, flat_shapes, make_view, zip_names, zip_with

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledShape, ShapeType, validate_annotations
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.formats.registry import get_exporter, get_importer

EXPORT = get_exporter("Datumaro 1.0")
IMPORT = get_importer("Datumaro 1.0")


def _doc(data: bytes) -> Any:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return json.loads(z.read("annotations/default.json"))


def test_layout_and_document(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    assert zip_names(data) == ["annotations/default.json"] + [f"images/default/img_{i}.jpg" for i in range(6)]
    doc = _doc(data)
    assert doc["dm_format_version"] == "1.0" and doc["media_type"] == 2
    assert [lab["name"] for lab in doc["categories"]["label"]["labels"]] == [
        "car",
        "person",
        "face",
        "weather",
    ]
    assert doc["categories"]["points"]["items"] == [
        {
            "label_id": 2,
            "labels": ["left_eye", "right_eye", "nose"],
            "joints": [[1, 2], [2, 3]],
            "positions": [],
        }
    ]
    item = doc["items"][0]
    assert item["id"] == "img_0" and item["attr"] == {"frame": 0}
    assert item["image"] == {"path": "img_0.jpg", "size": [48, 64]}
    types = [a["type"] for a in item["annotations"]]
    assert types.count("bbox") == 3 and types.count("label") == 1
    frame3 = doc["items"][3]["annotations"]
    assert any(a["type"] == "mask" and isinstance(a["rle"]["counts"], str) for a in frame3)


def test_round_trip_keeps_everything_but_source_score_and_keyframes(view: DatasetView) -> None:
    got = IMPORT(io.BytesIO(export_bytes(EXPORT, view)), view, "task.zip")
    validate_annotations(got, view.labels, frame_count=6)
    # geometry, occluded, z_order, rotation, group, attributes, skeleton points (source is 'manual' here)
    assert canon_shapes(flat_shapes(got, 5)) == canon_shapes(flat_shapes(view.annotations, 5))
    assert canon_tags(got) == canon_tags(view.annotations)
    assert len(got.tracks) == len(view.annotations.tracks)
    assert sorted(s.score for s in got.shapes) == sorted(s.score for s in view.annotations.shapes)


def test_bare_json_import(view: DatasetView) -> None:
    doc = _doc(export_bytes(EXPORT, view))
    got = IMPORT(io.BytesIO(json.dumps(doc).encode()), view, "default.json")
    assert len(got.tags) == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["categories"]["label"]["labels"].append({"name": "truck", "parent": ""}),
            r"categories\.label\.labels\[4\]: label 'truck' is not in the task",
        ),
        (
            lambda d: d["items"][0].update(id="zzz", image={"path": "zzz.png"}, attr={}),
            r"items\[0\]: could not match item 'zzz'",
        ),
        (
            lambda d: d["items"][0]["annotations"][0].update(label_id=17),
            r"items\[0\]\.annotations\[0\]: label_id 17",
        ),
        (lambda d: d.pop("items"), r"not a Datumaro annotation file"),
    ],
)
def test_bad_documents_name_file_and_item(view: DatasetView, mutate: Any, message: str) -> None:
    doc = _doc(export_bytes(EXPORT, view))
    mutate(doc)
    archive = zip_with({"annotations/default.json": json.dumps(doc)})
    with pytest.raises(FormatError, match=r"annotations/default\.json: " + message):
        IMPORT(io.BytesIO(archive), view, "task.zip")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_numbers_json_cannot_spell_stop_the_export(bad: float) -> None:
    view = make_view(annotations=LabeledData(shapes=[LabeledShape(ShapeType.POLYLINE, 1, 1, [0.0, 1.0, bad, 2.0])]))
    with pytest.raises(FormatError, match="frame 1: a polyline with numbers that are not finite"):
        export_bytes(EXPORT, view)
