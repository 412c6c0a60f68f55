"""SageMaker inference handler for YOLOX-family detectors exported to ONNX with the raw grid output
(``decode_in_inference=False``: ``[1, cells, 5 + classes]`` = box deltas, objectness, class scores,
the two scores already through a sigmoid).

Self-contained on purpose: the packaging script copies this file into a model.tar.gz as
``code/inference.py``, so it imports only the standard library, numpy, Pillow and onnxruntime.

The wire protocol (the auto-annotate worker's and CVAT's Nuclio detectors'):
- request ``application/json``: ``{"images": ["<base64 image file>", ...], "threshold": 0.5}``, or
  CVAT's single-image ``{"image": "<base64>", "threshold": 0.5}``; a raw ``image/*`` body is one
  image at the default threshold (an untyped or octet-stream body is JSON when it starts with ``{``,
  else an image);
- response ``application/json``: ``{"results": [[det, ...], ...]}`` (one list per image, in order)
  for ``images``, the bare ``[det, ...]`` for ``image``; a det is ``{"label", "points": [x1, y1, x2,
  y2], "type": "rectangle", "confidence"}`` in the input image's own pixels.
Bad input raises ``InputError`` (a ``ValueError``). Inside the SageMaker inference toolkit (which
passes its request context to a handler function that takes one more argument) the handler answers
it as a 400 ``{"error": "<message>"}`` instead, since the toolkit makes every exception a 500 with a
traceback for a body; ``invoke()`` does the same for any other server.

Preprocessing is YOLOX's own: BGR, 0-255, the image scaled to fit the model's input and placed at
its top-left corner on a 114-grey canvas, no normalisation.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)
STRIDES = (8, 16, 32)
PAD_VALUE = 114
DEFAULT_THRESHOLD = 0.5
NMS_IOU = 0.45
MAX_DETECTIONS = 100
DEFAULT_INPUT_SIZE = 640  # YOLOX-s and larger, when the ONNX input has symbolic dimensions
THREADS_ENV = "CVAT_MODEL_THREADS"
JSON = "application/json"
RAW_IMAGE_TYPES = ("application/x-image", "application/octet-stream")
UNTYPED = ("", "application/octet-stream", "binary/octet-stream")


class InputError(ValueError):
    """The request cannot be served: the message says why (a 400 for the caller)."""


@dataclass
class YoloxModel:
    session: Any  # onnxruntime.InferenceSession
    input_name: str
    height: int
    width: int
    labels: tuple[str, ...]
    grid: np.ndarray  # (cells, 2) cell x, y
    stride: np.ndarray  # (cells, 1)


@dataclass
class DetectionRequest:
    images: list[bytes]
    threshold: float
    single: bool  # CVAT's {"image": ...} form: the answer is the bare list


@dataclass
class Prediction:
    results: list[list[dict[str, Any]]]
    single: bool


@dataclass
class Rejected:
    """A request answered 400 (inside the toolkit: its status is already set on the context)."""

    message: str


@dataclass
class Letterbox:
    """Where an image went on the model's canvas: scaled by ``ratio``, at the top-left corner."""

    ratio: float
    width: int  # the original image's size
    height: int


# ---------------------------------------------------------------------------- SageMaker entry points
def model_fn(model_dir: str) -> YoloxModel:
    """``model_dir/model.onnx``; labels from ``model_dir/labels.json`` (a list of names, or of
    ``{"name": ...}``) when present, else the 80 COCO names."""
    directory = Path(model_dir)
    labels_file = directory / "labels.json"
    labels = read_labels(labels_file) if labels_file.is_file() else None
    return load_model(directory / "model.onnx", labels)


def input_fn(body: bytes | str, content_type: str | None, context: Any = None) -> DetectionRequest | Rejected:
    try:
        return parse_request(body, content_type)
    except InputError as error:
        return _reject(error, context)


def predict_fn(data: DetectionRequest | Rejected, model: YoloxModel, context: Any = None) -> Prediction | Rejected:
    if isinstance(data, Rejected):
        return data
    try:
        return Prediction(detect(model, data.images, data.threshold), data.single)
    except InputError as error:
        return _reject(error, context)


def output_fn(prediction: Prediction | Rejected, accept: str | None, context: Any = None) -> tuple[bytes, str]:
    if not isinstance(prediction, Rejected):
        try:
            return serialize(prediction, accept)
        except InputError as error:
            prediction = _reject(error, context)
    return json.dumps({"error": prediction.message}).encode(), JSON


def invoke(model: YoloxModel, body: bytes | str, content_type: str | None,
           accept: str | None = None) -> tuple[int, bytes, str]:
    """The whole request for a server that is not the SageMaker toolkit: (status, body, content
    type); bad input is a 400 ``{"error": ...}``."""
    try:
        request = parse_request(body, content_type)
        prediction = Prediction(detect(model, request.images, request.threshold), request.single)
        answer, answer_type = serialize(prediction, accept)
    except InputError as error:
        return 400, json.dumps({"error": str(error)}).encode(), JSON
    return 200, answer, answer_type


def _reject(error: InputError, context: Any) -> Rejected:
    """Outside the toolkit (no context): the error goes to the caller. Inside: a 400 answer."""
    if context is None:
        raise error
    context.set_response_status(code=400, phrase="Bad Request")
    return Rejected(str(error))


# ---------------------------------------------------------------------------- the request
def parse_request(body: bytes | str, content_type: str | None) -> DetectionRequest:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    raw = body.encode() if isinstance(body, str) else bytes(body)
    if media_type in UNTYPED:  # an S3 object's default type (async inputs), or none: the body says
        media_type = JSON if raw.lstrip()[:1] == b"{" else "application/octet-stream"
    if media_type.startswith("image/") or media_type in RAW_IMAGE_TYPES:
        if not raw:
            raise InputError("the request body is empty: send an image file")
        return DetectionRequest([raw], DEFAULT_THRESHOLD, single=False)
    if media_type != JSON and not media_type.endswith("+json"):
        raise InputError(f"unsupported content type {content_type!r}: send application/json or an image")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"the request body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise InputError('the request body must be a JSON object with "images" (or "image")')
    threshold = _threshold(payload.get("threshold", DEFAULT_THRESHOLD))
    if "images" in payload:
        encoded = payload["images"]
        if not isinstance(encoded, list) or not encoded:
            raise InputError('"images" must be a non-empty list of base64-encoded image files')
        return DetectionRequest([_b64(item, f"images[{index}]") for index, item in enumerate(encoded)],
                                threshold, single=False)
    if "image" in payload:
        return DetectionRequest([_b64(payload["image"], "image")], threshold, single=True)
    raise InputError('no images: the request needs "images" (a list of base64 image files) or "image"')


def serialize(prediction: Prediction, accept: str | None) -> tuple[bytes, str]:
    media_type = (accept or "").split(";", 1)[0].strip().lower()
    if media_type not in ("", "*/*", "application/*", JSON) and not media_type.endswith("+json"):
        raise InputError(f"unsupported accept type {accept!r}: the detector answers application/json")
    payload: Any = prediction.results[0] if prediction.single else {"results": prediction.results}
    return json.dumps(payload, separators=(",", ":")).encode(), JSON


# ---------------------------------------------------------------------------- the detector
def load_model(onnx_path: str | os.PathLike[str], labels: Sequence[str] | None = None) -> YoloxModel:
    import onnxruntime as ort  # here, not at import: a caller that only decodes never pays for it

    options = ort.SessionOptions()
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    available = ort.get_available_providers()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
    model_input = session.get_inputs()[0]
    height, width = (dim if isinstance(dim, int) and dim > 0 else DEFAULT_INPUT_SIZE
                     for dim in model_input.shape[2:4])
    classes = session.get_outputs()[0].shape[-1]
    names = tuple(labels) if labels is not None else COCO_LABELS
    if isinstance(classes, int) and classes - 5 != len(names):
        raise ValueError(f"{onnx_path} scores {classes - 5} classes but {len(names)} labels are given")
    grid, stride = make_grid(height, width)
    return YoloxModel(session, model_input.name, height, width, names, grid, stride)


def read_labels(path: Path) -> tuple[str, ...]:
    entries = json.loads(path.read_text())
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path} must hold a non-empty JSON list of label names")
    return tuple(str(entry["name"] if isinstance(entry, dict) else entry) for entry in entries)


def detect(model: YoloxModel, image_bytes_list: Sequence[bytes], threshold: float) -> list[list[dict[str, Any]]]:
    """Detections for each encoded image file (one list per image, in order)."""
    threshold = _threshold(threshold)
    # every image is decoded before any runs: a bad one fails the request before it costs a run
    prepared = [preprocess(data, model.height, model.width, index) for index, data in enumerate(image_bytes_list)]
    results = []
    for tensor, box in prepared:
        raw = model.session.run(None, {model.input_name: tensor})[0][0]
        results.append(to_detections(postprocess(raw, model.grid, model.stride, box, threshold), model.labels))
    return results


def preprocess(data: bytes, height: int, width: int, index: int = 0) -> tuple[np.ndarray, Letterbox]:
    """An encoded image file -> the model's ``[1, 3, height, width]`` float32 BGR tensor."""
    try:
        source = Image.open(io.BytesIO(data))
        original_width, original_height = source.size
        ratio = min(height / original_height, width / original_width)
        size = (max(1, int(original_width * ratio)), max(1, int(original_height * ratio)))
        if source.format == "JPEG":
            source.draft("RGB", size)  # decode at 1/2, 1/4 or 1/8 scale when that still covers `size`
        image = source.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"image {index} cannot be decoded: {error}") from None
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (width, height), (PAD_VALUE,) * 3)
    canvas.paste(image, (0, 0))
    bgr = np.asarray(canvas)[:, :, ::-1]
    tensor = np.ascontiguousarray(bgr.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)
    return tensor, Letterbox(ratio, original_width, original_height)


def make_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    grids, strides = [], []
    for stride in STRIDES:
        rows, cols = height // stride, width // stride
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        grids.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        strides.append(np.full((rows * cols, 1), stride))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)


def postprocess(raw: np.ndarray, grid: np.ndarray, stride: np.ndarray, box: Letterbox,
                threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw ``[cells, 5 + classes]`` -> (boxes ``[n, 4]`` x1 y1 x2 y2 in the original image, scores,
    class ids), best first, after per-class NMS, at most MAX_DETECTIONS."""
    class_ids = raw[:, 5:].argmax(axis=1)
    scores = raw[:, 4] * raw[np.arange(len(raw)), 5 + class_ids]
    keep = scores >= threshold
    if threshold == 0:
        keep &= scores > 0
    deltas, cells, steps = raw[keep, :4], grid[keep], stride[keep]
    scores, class_ids = scores[keep], class_ids[keep]
    centres = (deltas[:, :2] + cells) * steps
    sizes = np.exp(np.minimum(deltas[:, 2:4], 20.0)) * steps  # no overflow on a wild raw value
    boxes = np.concatenate((centres - sizes / 2, centres + sizes / 2), axis=1) / box.ratio
    boxes = np.clip(boxes, 0, [box.width, box.height, box.width, box.height])
    visible = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores, class_ids = boxes[visible], scores[visible], class_ids[visible]
    kept = nms(boxes, scores, class_ids, NMS_IOU, MAX_DETECTIONS)
    return boxes[kept], scores[kept], class_ids[kept]


def nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float, limit: int) -> np.ndarray:
    """Greedy NMS within each class: indices of the kept boxes, best first. Boxes of different
    classes are moved apart (by class id x the largest coordinate) so that one pass does all."""
    if not len(boxes):
        return np.zeros(0, dtype=np.int64)
    shifted = boxes + (class_ids.astype(boxes.dtype) * (float(boxes.max()) + 1))[:, None]
    areas = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size and len(kept) < limit:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        left_top = np.maximum(shifted[best, :2], shifted[rest, :2])
        right_bottom = np.minimum(shifted[best, 2:], shifted[rest, 2:])
        overlap = np.clip(right_bottom - left_top, 0, None).prod(axis=1)
        union = areas[best] + areas[rest] - overlap
        order = rest[overlap <= iou * union]
    return np.array(kept, dtype=np.int64)


def to_detections(found: tuple[np.ndarray, np.ndarray, np.ndarray], labels: Sequence[str]) -> list[dict[str, Any]]:
    boxes, scores, class_ids = found
    return [{"label": labels[int(class_id)], "points": [round(float(v), 2) for v in points],
             "type": "rectangle", "confidence": round(float(score), 4)}
            for points, score, class_id in zip(boxes, scores, class_ids, strict=True)]


# ---------------------------------------------------------------------------- helpers
def _threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or not 0 <= value <= 1:
        raise InputError(f'"threshold" must be a number from 0 to 1, not {value!r}')
    return float(value)


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where} must be a base64-encoded image file")
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]  # a data: URL, as a browser writes it
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where} is not valid base64") from None


def _threads() -> int:
    value = os.environ.get(THREADS_ENV, "1")
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"{THREADS_ENV}={value!r} is not a whole number") from None
    return max(threads, 1)
