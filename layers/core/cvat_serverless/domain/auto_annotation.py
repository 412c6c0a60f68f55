"""Auto-annotation: which frames a request covers, and a detector's answer as CVAT shapes.

A request (``POST /api/lambda/requests``) covers the non-deleted frames of a task, or of one job
of it. The workflow works chunk by chunk (the task's original chunks: one read of the media per
chunk, one save per chunk, CVAT's "submit every 100 frames" in our unit of work).

A detector answers, per image, a list of detections (wire protocol, see
``infra/cvat_serverless_tools/models``)::

    {"label": "person", "points": [x1, y1, x2, y2], "type": "rectangle", "confidence": 0.93,
     "attributes": [{"name": "color", "value": "red"}], "mask": [...], "elements": [...]}

They become ``LabeledShape`` objects with the request's resolved mapping (model label name ->
task label id, shape type, attribute spec ids, sublabels), ``source: "auto"``, as CVAT's batch
worker makes them: detections under the threshold, of an unmapped label, or outside the region
of interest are dropped; unknown attributes are dropped; masks are CVAT RLE over their box with
the box appended (``points`` as the model gave them, or a ``mask`` field). Converting masks to
polygons (``conv_mask_to_poly``) needs numpy and happens in the worker.

Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .annotations import AttributeVal, LabeledShape, ShapeType, Source
from .errors import ValidationError

DEFAULT_THRESHOLD = 0.5
BASE64_INFLATION = 4 / 3
REQUEST_OVERHEAD_BYTES = 256  # the JSON around the images: {"images": [...], "threshold": ...}
PER_IMAGE_OVERHEAD_BYTES = 4  # quotes and a comma per image


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True, slots=True)
class LabelTarget:
    """Where a model label goes in the task: ``label_id``, the shape ``type`` the task label
    expects (``"any"``/``"unknown"``: as the model answers), attribute spec ids by model
    attribute name, and (skeletons) the sublabels."""

    label_id: int
    type: str = "any"
    attributes: Mapping[str, int] = field(default_factory=dict)
    sublabels: Mapping[str, LabelTarget] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> LabelTarget:
        try:
            return cls(
                label_id=int(doc["label_id"]),
                type=str(doc.get("type") or "any"),
                attributes={str(k): int(v) for k, v in (doc.get("attributes") or {}).items()},
                sublabels={str(k): cls.from_dict(v) for k, v in (doc.get("sublabels") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"A label mapping entry is malformed: {exc}.") from exc


@dataclass(frozen=True, slots=True)
class AutoAnnotateInput:
    """The workflow input (wire.md): what the request asked, already checked by the API."""

    request_id: str
    function_id: str
    task_id: int
    job_id: int | None = None
    threshold: float = DEFAULT_THRESHOLD
    cleanup: bool = False
    conv_mask_to_poly: bool = False
    roi: tuple[float, float, float, float] | None = None
    mapping: Mapping[str, LabelTarget] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> AutoAnnotateInput:
        """The workflow input, checked; every problem is a ValidationError."""
        try:
            return cls._from_dict(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"The auto-annotation input is malformed ({type(exc).__name__}: {exc}).") from exc

    @classmethod
    def _from_dict(cls, doc: Mapping[str, Any]) -> AutoAnnotateInput:
        roi = doc.get("roi")
        if roi is not None and (not isinstance(roi, (list, tuple)) or len(roi) != 4):
            raise ValidationError(fields={"roi": ["Four numbers: [xtl, ytl, xbr, ybr]."]})
        threshold = doc.get("threshold")
        mapping = doc.get("mapping") or {}
        if not isinstance(mapping, Mapping):
            raise ValidationError(fields={"mapping": ["An object of model label -> task label."]})
        return cls(
            request_id=str(doc["request_id"]),
            function_id=str(doc["function_id"]),
            task_id=int(doc["task_id"]),
            job_id=int(doc["job_id"]) if doc.get("job_id") is not None else None,
            threshold=DEFAULT_THRESHOLD if threshold is None else float(threshold),
            cleanup=bool(doc.get("cleanup", False)),
            conv_mask_to_poly=bool(doc.get("conv_mask_to_poly", False)),
            roi=(float(roi[0]), float(roi[1]), float(roi[2]), float(roi[3])) if roi is not None else None,
            mapping={str(k): LabelTarget.from_dict(v) for k, v in mapping.items()},
        )


# --------------------------------------------------------------------------- frames and chunks


def covered_frames(size: int, *, start: int = 0, stop: int | None = None, specific: Iterable[int] | None = None,
                   deleted: Iterable[int] = ()) -> list[int]:
    """The task frames a request works on: ``[start, stop]`` of a task of ``size`` frames (a
    job's range; the whole task by default) or a job's ``specific`` frames, without the
    deleted ones, sorted."""
    last = size - 1 if stop is None else min(stop, size - 1)
    gone = set(deleted)
    frames = sorted(set(specific)) if specific is not None else range(max(0, start), last + 1)
    return [f for f in frames if 0 <= f <= last and f >= start and f not in gone]


def frames_by_chunk(frames: Iterable[int], chunk_size: int) -> dict[int, list[int]]:
    """The frames grouped by the task chunk holding them (chunk number -> sorted frames)."""
    if chunk_size <= 0:
        raise ValidationError("The task's chunk size is not set: its data was not processed.")
    out: dict[int, list[int]] = {}
    for f in sorted(set(frames)):
        out.setdefault(f // chunk_size, []).append(f)
    return out


# --------------------------------------------------------------------------- batching


def encoded_size(raw_bytes: int) -> int:
    """The bytes ``raw_bytes`` take in the request JSON (base64 and the quotes around it)."""
    return 4 * math.ceil(raw_bytes / 3) + PER_IMAGE_OVERHEAD_BYTES


def image_budget(payload_limit: int) -> int:
    """The largest image (raw bytes) that fits a request alone."""
    return max(0, ((payload_limit - REQUEST_OVERHEAD_BYTES - PER_IMAGE_OVERHEAD_BYTES) * 3) // 4)


def batches(sizes: Sequence[int], *, batch_size: int, payload_limit: int) -> list[list[int]]:
    """Indexes of ``sizes`` (raw image bytes, in order) grouped into requests of at most
    ``batch_size`` images whose JSON stays under ``payload_limit``. An image that cannot fit
    alone is a ValidationError (the worker shrinks images to :func:`image_budget` first)."""
    out: list[list[int]] = []
    current: list[int] = []
    used = REQUEST_OVERHEAD_BYTES
    for i, raw in enumerate(sizes):
        cost = encoded_size(raw)
        if REQUEST_OVERHEAD_BYTES + cost > payload_limit:
            raise ValidationError(f"An image of {raw} bytes does not fit the model's request limit of "
                                  f"{payload_limit} bytes.")
        if current and (len(current) >= batch_size or used + cost > payload_limit):
            out.append(current)
            current, used = [], REQUEST_OVERHEAD_BYTES
        current.append(i)
        used += cost
    if current:
        out.append(current)
    return out


def parse_results(answer: Any, count: int) -> list[list[Mapping[str, Any]]]:
    """The model's answer for ``count`` images: ``{"results": [[det...], ...]}``, or a bare list
    of detections when one image was sent (CVAT's Nuclio shape)."""
    if isinstance(answer, Mapping) and isinstance(answer.get("results"), list):
        results = answer["results"]
    elif isinstance(answer, list) and count == 1 and all(isinstance(d, Mapping) for d in answer):
        results = [answer]
    else:
        raise ValidationError("The model answered something else than detections "
                              "({\"results\": [[...], ...]}).")
    if len(results) != count or not all(isinstance(r, list) for r in results):
        raise ValidationError(f"The model answered {len(results)} result lists for {count} images.")
    return [[d for d in r if isinstance(d, Mapping)] for r in results]


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True, slots=True)
class Conversion:
    """How detections become shapes for one request."""

    mapping: Mapping[str, LabelTarget]
    threshold: float = DEFAULT_THRESHOLD
    roi: tuple[float, float, float, float] | None = None


def to_shapes(detections: Iterable[Mapping[str, Any]], frame: int, width: int, height: int, conv: Conversion, *,
              scale: float = 1.0) -> list[LabeledShape]:
    """The detections of one frame as shapes (see the module doc). ``scale`` maps the input
    image's pixels back to the frame's (an image sent downscaled: frame = input / scale)."""
    out = []
    for det in detections:
        shape = _shape(det, frame, width, height, conv, scale=scale)
        if shape is not None:
            out.append(shape)
    return out


def _confidence(det: Mapping[str, Any]) -> float | None:
    value = det.get("confidence", det.get("score"))
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numbers(values: Any) -> list[float] | None:
    if not isinstance(values, (list, tuple)):
        return None
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def _shape(det: Mapping[str, Any], frame: int, width: int, height: int, conv: Conversion, *,
           scale: float) -> LabeledShape | None:
    target = conv.mapping.get(str(det.get("label", "")))
    if target is None:
        return None
    confidence = _confidence(det)
    if confidence is not None and confidence < conv.threshold:
        return None
    kind = str(det.get("type") or "rectangle")
    points = _numbers(det.get("points", []))
    if points is None:
        return None
    if kind == ShapeType.MASK.value:
        shape_type, points = ShapeType.MASK, _mask_points(det, points, width, height, scale)
    else:
        try:
            shape_type = ShapeType(kind)
        except ValueError:
            return None
        points = [v / scale for v in points] if scale != 1.0 else points
        points = _clip_points(shape_type, points, width, height)
    if points is None or not _in_roi(shape_type, points, conv.roi):
        return None
    if shape_type is ShapeType.RECTANGLE and conv.roi is not None:
        points = _clip_rectangle(points, conv.roi)
        if points[2] <= points[0] or points[3] <= points[1]:
            return None  # it only touched the region's edge
    elements = []
    if shape_type is ShapeType.SKELETON:
        for element in det.get("elements") or []:
            if not isinstance(element, Mapping):
                continue
            sub = target.sublabels.get(str(element.get("label", "")))
            if sub is None:
                continue
            child = _shape({**element, "confidence": None}, frame, width, height,
                           Conversion({str(element.get("label", "")): sub}, conv.threshold, None), scale=scale)
            if child is not None:
                elements.append(child)
        if not elements:
            return None
    return LabeledShape(
        type=shape_type, frame=frame, label_id=target.label_id, points=points if shape_type is not ShapeType.SKELETON
        else [], source=Source.AUTO.value, attributes=_attributes(det.get("attributes"), target),
        score=confidence if confidence is not None else 1.0, elements=elements, group=0,
        outside=bool(det.get("outside", False)) if shape_type is ShapeType.POINTS and elements == [] else False,
    )


def _attributes(values: Any, target: LabelTarget) -> list[AttributeVal]:
    out: list[AttributeVal] = []
    if not isinstance(values, list):
        return out
    for item in values:
        if not isinstance(item, Mapping):
            continue
        spec_id = target.attributes.get(str(item.get("name", "")))
        if spec_id is None:
            continue
        value = item.get("value")
        out.append(AttributeVal(spec_id, _text(value)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _clip(v: float, low: float, high: float) -> float:
    return min(max(v, low), high)


def _clip_points(kind: ShapeType, points: list[float], width: int, height: int) -> list[float] | None:
    """Coordinates inside the frame: rectangles, polygons, polylines and points are clipped to
    it (a box the model drew past the edge); a shape left without area or points is dropped."""
    if kind is ShapeType.SKELETON:
        return []
    if kind is ShapeType.RECTANGLE:
        if len(points) != 4:
            return None
        x1, y1, x2, y2 = points
        x1, x2 = sorted((_clip(x1, 0, width), _clip(x2, 0, width)))
        y1, y2 = sorted((_clip(y1, 0, height), _clip(y2, 0, height)))
        return [x1, y1, x2, y2] if x2 > x1 and y2 > y1 else None
    if kind in (ShapeType.POLYGON, ShapeType.POLYLINE, ShapeType.POINTS):
        if len(points) % 2 or not points:
            return None
        out = [_clip(v, 0, width if i % 2 == 0 else height) for i, v in enumerate(points)]
        least = {ShapeType.POLYGON: 3, ShapeType.POLYLINE: 2, ShapeType.POINTS: 1}[kind]
        return out if len(out) // 2 >= least else None
    if kind is ShapeType.ELLIPSE:
        return points if len(points) == 4 else None
    if kind is ShapeType.CUBOID:
        return points if len(points) == 16 else None
    return None


def _mask_points(det: Mapping[str, Any], points: list[float], width: int, height: int,
                 scale: float) -> list[float] | None:
    """A mask's CVAT points: RLE runs then the inclusive box. The model gives them in ``mask``
    (RLE + box) or in ``points``. A mask of a downscaled input cannot be rescaled without
    numpy: the worker never downscales for mask models' sake (it re-encodes at full size)."""
    rle = _numbers(det.get("mask")) if det.get("mask") is not None else points
    if rle is None or len(rle) < 5 or scale != 1.0:
        return None
    runs = [round(v) for v in rle[:-4]]
    left, top, right, bottom = (round(v) for v in rle[-4:])
    area = (right - left + 1) * (bottom - top + 1)
    if right < left or bottom < top or any(r < 0 for r in runs) or sum(runs) != area:
        return None
    if left < 0 or top < 0 or right > width or bottom > height:
        return None
    return [float(r) for r in runs] + [float(left), float(top), float(right), float(bottom)]


def bounding_box(kind: ShapeType, points: Sequence[float]) -> tuple[float, float, float, float] | None:
    """``(xtl, ytl, xbr, ybr)`` of a shape's points (a mask: its box)."""
    if kind is ShapeType.MASK:
        left, top, right, bottom = points[-4:]
        return left, top, right + 1, bottom + 1
    if not points:
        return None
    xs, ys = points[0::2], points[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _in_roi(kind: ShapeType, points: Sequence[float], roi: tuple[float, float, float, float] | None) -> bool:
    """Whether the shape's box meets the region of interest (touching edges count for points)."""
    if roi is None or kind is ShapeType.SKELETON:
        return True
    box = bounding_box(kind, points)
    if box is None:
        return False
    x1, y1, x2, y2 = box
    rx1, ry1, rx2, ry2 = roi
    return x1 <= rx2 and x2 >= rx1 and y1 <= ry2 and y2 >= ry1


def _clip_rectangle(points: list[float], roi: tuple[float, float, float, float]) -> list[float]:
    rx1, ry1, rx2, ry2 = roi
    x1, y1, x2, y2 = points
    return [_clip(x1, rx1, rx2), _clip(y1, ry1, ry2), _clip(x2, rx1, rx2), _clip(y2, ry1, ry2)]


# --------------------------------------------------------------------------- progress


def chunk_progress(done: int, total: int) -> float:
    """A request's progress from its chunks done: never 1.0 before the finish step (CVAT's
    ``progress`` is an integer percent; 99 at most while working)."""
    if total <= 0:
        return 0.0
    return min(0.99, max(0.0, done / total))
