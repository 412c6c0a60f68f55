"""CVAT's annotation model: ``LabeledData`` with shapes, tracks, tags, and its validation.

Field names and wire values are CVAT's (cvat-sdk 2.80 ``LabeledData``, ``LabeledShape``,
``LabeledTrack``, ``TrackedShape``, ``LabeledImage``, ``SubLabeledShape``, ``SubLabeledTrack``,
``AttributeVal``), so the annotations API can serve these objects with ``to_dict`` and accept
them with ``from_dict``; the export/import formats (``cvat_serverless.formats``) read and write
the same objects.

Geometry conventions (CVAT's ``points``):

* ``rectangle``: ``[xtl, ytl, xbr, ybr]``, ``rotation`` in degrees around the centre.
* ``ellipse``: ``[cx, cy, rx_point_x, ry_point_y]``, i.e. the centre and the right/top extreme
  point (so ``rx = points[2] - cx`` and ``ry = cy - points[3]``).
* ``polygon`` (>= 3 points), ``polyline`` (>= 2), ``points`` (>= 1): flat ``[x0, y0, x1, y1, ...]``.
* ``cuboid``: 8 points (16 numbers) in CVAT's order.
* ``mask``: CVAT's RLE over the mask's bounding box followed by that box:
  ``[run0, run1, ..., left, top, right, bottom]``; runs alternate 0/1 starting with 0,
  row-major, the box is inclusive (width = right - left + 1).
* ``skeleton``: no points of its own; ``elements`` holds one ``points`` shape (one point) per
  sublabel of the skeleton label. Skeleton tracks hold one element track per sublabel.

Tracks: ``shapes`` are keyframes (sorted by frame); a keyframe with ``outside=True`` ends the
visible part; mutable attributes live on the keyframes, immutable ones on the track
(see ``cvat_serverless.domain.interpolation`` for the per-frame semantics).

The dataset view (``FrameInfo`` + ``LabelSpec`` + ``LabeledData`` = ``DatasetView``) is what the
export step builds from storage and what importers resolve label names and frame names against.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from .errors import ValidationError
from .labels import ANNOTATION_VALUE_MAX, AttributeSpec, InputType, LabelType  # one label vocabulary

__all__ = [
    "MAX_ATTRIBUTE_VALUE_LENGTH",
    "AnnotationValidationError",
    "AttributeVal",
    "DatasetView",
    "FrameInfo",
    "FrameSizes",
    "InputType",
    "LabelSpec",
    "LabelType",
    "LabeledData",
    "LabeledImage",
    "LabeledInterval",
    "LabeledShape",
    "LabeledTrack",
    "ShapeType",
    "Source",
    "TrackedShape",
    "check_bounds",
    "check_geometry",
    "check_label_type",
    "check_raster_size",
    "mask_bbox",
    "mask_runs",
    "validate_annotations",
]

MAX_ATTRIBUTE_VALUE_LENGTH = ANNOTATION_VALUE_MAX


class ShapeType(StrEnum):
    RECTANGLE = "rectangle"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    POINTS = "points"
    ELLIPSE = "ellipse"
    CUBOID = "cuboid"
    MASK = "mask"
    SKELETON = "skeleton"


class Source(StrEnum):
    """The ``source`` values CVAT writes; the field itself is a free string on the wire."""

    MANUAL = "manual"
    AUTO = "auto"
    SEMI_AUTO = "semi-auto"
    FILE = "file"
    CONSENSUS = "consensus"


class AnnotationValidationError(ValidationError):
    """The annotations are not valid for the task's labels and frames."""


# --------------------------------------------------------------------------- labels (specs)


@dataclass(slots=True)
class LabelSpec:
    """What the annotation model needs of a CVAT ``Label``: id, name, type, attributes, sublabels.

    Skeleton labels list their points as ``sublabels`` (each with ``parent_id`` set to the
    skeleton's id); ``svg`` holds CVAT's skeleton drawing (edges between sublabels).
    """

    id: int
    name: str
    type: LabelType = LabelType.ANY
    color: str = ""
    attributes: list[AttributeSpec] = field(default_factory=list)
    sublabels: list[LabelSpec] = field(default_factory=list)
    parent_id: int | None = None
    svg: str = ""

    def attribute(self, spec_id: int) -> AttributeSpec | None:
        for spec in self.attributes:
            if spec.id == spec_id:
                return spec
        return None

    def attribute_by_name(self, name: str) -> AttributeSpec | None:
        for spec in self.attributes:
            if spec.name == name:
                return spec
        return None

    def sublabel_by_name(self, name: str) -> LabelSpec | None:
        for sub in self.sublabels:
            if sub.name == name:
                return sub
        return None

    def skeleton_edges(self) -> list[tuple[int, int]]:
        """Edges of a skeleton as pairs of 0-based sublabel indexes, read from ``svg``.

        CVAT's svg has ``<line ... data-node-from="i" data-node-to="j">`` with 1-based node ids
        that match ``data-element-id`` of ``<circle>`` elements carrying ``data-label-name``.
        """
        return _parse_skeleton_svg(self.svg, [s.name for s in self.sublabels])


def _parse_skeleton_svg(svg: str, names: Sequence[str]) -> list[tuple[int, int]]:
    import re

    if not svg:
        return []
    node_to_name: dict[str, str] = {}
    for circle in re.finditer(r"<circle\b[^>]*>", svg):
        tag = circle.group(0)
        node = re.search(r'data-element-id="([^"]+)"', tag)
        name = re.search(r'data-label-name="([^"]+)"', tag)
        if node and name:
            node_to_name[node.group(1)] = name.group(1)
    index = {name: i for i, name in enumerate(names)}
    edges: list[tuple[int, int]] = []
    for line in re.finditer(r"<line\b[^>]*>", svg):
        tag = line.group(0)
        src = re.search(r'data-node-from="([^"]+)"', tag)
        dst = re.search(r'data-node-to="([^"]+)"', tag)
        if not (src and dst):
            continue
        a = index.get(node_to_name.get(src.group(1), ""))
        b = index.get(node_to_name.get(dst.group(1), ""))
        if a is not None and b is not None:
            edges.append((a, b))
    return edges


# --------------------------------------------------------------------------- annotations


@dataclass(slots=True)
class AttributeVal:
    spec_id: int
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"spec_id": self.spec_id, "value": self.value}


@dataclass(slots=True)
class LabeledShape:
    """A shape on one frame (CVAT ``LabeledShape``; ``elements`` are ``SubLabeledShape``)."""

    type: ShapeType
    frame: int
    label_id: int
    points: list[float] = field(default_factory=list)
    occluded: bool = False
    outside: bool = False
    z_order: int = 0
    rotation: float = 0.0
    id: int | None = None
    group: int | None = 0
    source: str = Source.MANUAL.value
    attributes: list[AttributeVal] = field(default_factory=list)
    score: float = 1.0
    elements: list[LabeledShape] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": str(self.type),
            "frame": self.frame,
            "label_id": self.label_id,
            "group": self.group,
            "source": self.source,
            "occluded": self.occluded,
            "outside": self.outside,
            "z_order": self.z_order,
            "rotation": self.rotation,
            "points": list(self.points),
            "attributes": [a.to_dict() for a in self.attributes],
            "score": self.score,
            "elements": [e.to_dict() for e in self.elements],
        }


@dataclass(slots=True)
class TrackedShape:
    """A keyframe of a track (CVAT ``TrackedShape``)."""

    type: ShapeType
    frame: int
    points: list[float] = field(default_factory=list)
    occluded: bool = False
    outside: bool = False
    z_order: int = 0
    rotation: float = 0.0
    attributes: list[AttributeVal] = field(default_factory=list)
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": str(self.type),
            "frame": self.frame,
            "occluded": self.occluded,
            "outside": self.outside,
            "z_order": self.z_order,
            "rotation": self.rotation,
            "points": list(self.points),
            "attributes": [a.to_dict() for a in self.attributes],
        }


@dataclass(slots=True)
class LabeledTrack:
    """A track (CVAT ``LabeledTrack``; ``elements`` are ``SubLabeledTrack`` for skeletons)."""

    frame: int
    label_id: int
    shapes: list[TrackedShape] = field(default_factory=list)
    id: int | None = None
    group: int | None = 0
    source: str = Source.MANUAL.value
    attributes: list[AttributeVal] = field(default_factory=list)
    elements: list[LabeledTrack] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "frame": self.frame,
            "label_id": self.label_id,
            "group": self.group,
            "source": self.source,
            "attributes": [a.to_dict() for a in self.attributes],
            "shapes": [s.to_dict() for s in self.shapes],
            "elements": [e.to_dict() for e in self.elements],
        }


@dataclass(slots=True)
class LabeledImage:
    """A tag (CVAT ``LabeledImage``)."""

    frame: int
    label_id: int
    id: int | None = None
    group: int | None = 0
    source: str = Source.MANUAL.value
    attributes: list[AttributeVal] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "frame": self.frame,
            "label_id": self.label_id,
            "group": self.group,
            "source": self.source,
            "attributes": [a.to_dict() for a in self.attributes],
        }


@dataclass(slots=True)
class LabeledInterval:
    """An audio interval (CVAT ``LabeledInterval``); carried through, no format uses it yet."""

    label_id: int
    start: int
    stop: int | None
    id: int | None = None
    group: int | None = 0
    source: str = Source.MANUAL.value
    attributes: list[AttributeVal] = field(default_factory=list)
    score: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label_id": self.label_id,
            "start": self.start,
            "stop": self.stop,
            "group": self.group,
            "source": self.source,
            "attributes": [a.to_dict() for a in self.attributes],
            "score": self.score,
        }


@dataclass(slots=True)
class LabeledData:
    """CVAT's ``LabeledData``: everything annotated in a job or task."""

    version: int = 0
    tags: list[LabeledImage] = field(default_factory=list)
    shapes: list[LabeledShape] = field(default_factory=list)
    tracks: list[LabeledTrack] = field(default_factory=list)
    intervals: list[LabeledInterval] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tags": [t.to_dict() for t in self.tags],
            "shapes": [s.to_dict() for s in self.shapes],
            "tracks": [t.to_dict() for t in self.tracks],
            "intervals": [i.to_dict() for i in self.intervals],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabeledData:
        """Parse a ``LabeledData``/``LabeledDataRequest`` JSON object (types and enums only;
        call :func:`validate_annotations` for the checks against labels and frames)."""
        return _Parser().labeled_data(data)

    def __len__(self) -> int:
        return len(self.tags) + len(self.shapes) + len(self.tracks) + len(self.intervals)


# --------------------------------------------------------------------------- dataset view


@dataclass(slots=True)
class FrameInfo:
    """One frame of the exported task: ``frame`` number, the media ``name`` (relative path as
    stored in the task, e.g. ``img1.jpg`` or ``frame_000000.PNG`` for videos), its size and the
    task's subset (``default`` when the task has none)."""

    frame: int
    name: str
    width: int
    height: int
    subset: str = "default"


@dataclass(slots=True)
class DatasetView:
    """The pure input of an export (and the target of an import): task metadata + annotations.

    The API's export step builds it from storage; importers read ``labels`` and ``frames`` to
    resolve names and ignore ``annotations``. ``mode`` is CVAT's task mode (``annotation`` for
    image tasks, ``interpolation`` for videos); ``stop_frame`` bounds how far the last visible
    keyframe of a track extends (default: the last frame in ``frames``).
    """

    labels: list[LabelSpec]
    frames: list[FrameInfo]
    annotations: LabeledData = field(default_factory=LabeledData)
    task_id: int | None = None
    name: str = ""
    mode: str = "annotation"
    stop_frame: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def last_frame(self) -> int:
        if self.stop_frame is not None:
            return self.stop_frame
        return max((f.frame for f in self.frames), default=0)

    def label_index(self) -> dict[int, LabelSpec]:
        """Every label and sublabel by id."""
        out: dict[int, LabelSpec] = {}
        for label in self.labels:
            out[label.id] = label
            for sub in label.sublabels:
                out[sub.id] = sub
        return out


# --------------------------------------------------------------------------- mask helpers


def mask_bbox(points: Sequence[float]) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` (inclusive) of a CVAT mask's ``points``."""
    left, top, right, bottom = (round(v) for v in points[-4:])
    return left, top, right, bottom


def mask_runs(points: Sequence[float]) -> list[int]:
    """The RLE runs of a CVAT mask's ``points`` (alternating 0/1, starting with 0)."""
    return [round(v) for v in points[:-4]]


# --------------------------------------------------------------------------- parsing

# The fast path: a request of 20,000 well-formed shapes is parsed with plain type checks, about
# three times faster than the checked path below. Anything it does not expect (a missing or
# ill-typed field, a Mapping that is not a dict, an unknown shape type) makes it answer None, and
# the checked path parses that object again and reports the error with its field path. For the
# objects it accepts, both build the same model.
_SHAPE_TYPES: dict[str, ShapeType] = {t.value: t for t in ShapeType}
_DEFAULT_SOURCE = Source.MANUAL.value


def _fast_points(raw: Any) -> list[float] | None:
    if raw is None:
        return []
    if type(raw) is not list:
        return None
    out: list[float] = []
    append = out.append
    for value in raw:
        kind = type(value)
        if kind is float:
            append(value)
        elif kind is int:
            append(float(value))
        else:
            return None
    return out


def _fast_attributes(raw: Any) -> list[AttributeVal] | None:
    if raw is None:
        return []
    if type(raw) is not list:
        return None
    out: list[AttributeVal] = []
    for item in raw:
        if type(item) is not dict:
            return None
        spec_id, value = item.get("spec_id"), item.get("value")
        if type(spec_id) is not int or type(value) is not str:
            return None
        out.append(AttributeVal(spec_id, value))
    return out


def _fast_number(value: Any) -> float | None:
    kind = type(value)
    if kind is float:
        return float(value)
    if kind is int:
        return float(value)
    return None


def _fast_shape(raw: Any, nested: bool) -> LabeledShape | None:
    if type(raw) is not dict:
        return None
    get = raw.get
    type_name, frame, label_id = get("type"), get("frame"), get("label_id")
    if type(type_name) is not str or type(frame) is not int or type(label_id) is not int:
        return None
    shape_type = _SHAPE_TYPES.get(type_name)
    occluded, outside, z_order = get("occluded", False), get("outside", False), get("z_order", 0)
    if shape_type is None or type(occluded) is not bool or type(outside) is not bool or type(z_order) is not int:
        return None
    rotation, score = _fast_number(get("rotation", 0.0)), _fast_number(get("score", 1.0))
    id_, group, source = get("id"), get("group", 0), get("source", _DEFAULT_SOURCE)
    if (rotation is None or score is None or (id_ is not None and type(id_) is not int)
            or (group is not None and type(group) is not int) or type(source) is not str):
        return None
    points, attributes = _fast_points(get("points")), _fast_attributes(get("attributes"))
    if points is None or attributes is None:
        return None
    elements: list[LabeledShape] = []
    if not nested:
        raw_elements = get("elements")
        if raw_elements is not None:
            if type(raw_elements) is not list:
                return None
            for raw_element in raw_elements:
                element = _fast_shape(raw_element, True)
                if element is None:
                    return None
                elements.append(element)
    return LabeledShape(shape_type, frame, label_id, points, occluded, outside, z_order, rotation, id_, group,
                        source, attributes, score, elements)


def _fast_tracked_shape(raw: Any) -> TrackedShape | None:
    if type(raw) is not dict:
        return None
    get = raw.get
    type_name, frame = get("type"), get("frame")
    if type(type_name) is not str or type(frame) is not int:
        return None
    shape_type = _SHAPE_TYPES.get(type_name)
    occluded, outside, z_order = get("occluded", False), get("outside", False), get("z_order", 0)
    if shape_type is None or type(occluded) is not bool or type(outside) is not bool or type(z_order) is not int:
        return None
    rotation, id_ = _fast_number(get("rotation", 0.0)), get("id")
    if rotation is None or (id_ is not None and type(id_) is not int):
        return None
    points, attributes = _fast_points(get("points")), _fast_attributes(get("attributes"))
    if points is None or attributes is None:
        return None
    return TrackedShape(shape_type, frame, points, occluded, outside, z_order, rotation, attributes, id_)


def _fast_common(get: Callable[..., Any]) -> tuple[Any, Any, Any, list[AttributeVal]] | None:
    id_, group, source = get("id"), get("group", 0), get("source", _DEFAULT_SOURCE)
    if (id_ is not None and type(id_) is not int) or (group is not None and type(group) is not int) \
            or type(source) is not str:
        return None
    attributes = _fast_attributes(get("attributes"))
    return None if attributes is None else (id_, group, source, attributes)


def _fast_track(raw: Any, nested: bool) -> LabeledTrack | None:
    if type(raw) is not dict or "shapes" not in raw:
        return None
    get = raw.get
    frame, label_id, raw_shapes = get("frame"), get("label_id"), get("shapes")
    if type(frame) is not int or type(label_id) is not int or (raw_shapes is not None and type(raw_shapes) is not list):
        return None
    common = _fast_common(get)
    if common is None:
        return None
    shapes: list[TrackedShape] = []
    for raw_shape in raw_shapes or ():
        shape = _fast_tracked_shape(raw_shape)
        if shape is None:
            return None
        shapes.append(shape)
    elements: list[LabeledTrack] = []
    if not nested:
        raw_elements = get("elements")
        if raw_elements is not None:
            if type(raw_elements) is not list:
                return None
            for raw_element in raw_elements:
                element = _fast_track(raw_element, True)
                if element is None:
                    return None
                elements.append(element)
    id_, group, source, attributes = common
    return LabeledTrack(frame, label_id, shapes, id_, group, source, attributes, elements)


def _fast_tag(raw: Any) -> LabeledImage | None:
    if type(raw) is not dict:
        return None
    get = raw.get
    frame, label_id = get("frame"), get("label_id")
    if type(frame) is not int or type(label_id) is not int:
        return None
    common = _fast_common(get)
    if common is None:
        return None
    id_, group, source, attributes = common
    return LabeledImage(frame, label_id, id_, group, source, attributes)


class _Parser:
    """JSON -> model with CVAT-style field errors (``{"shapes[3].points": ["..."]}``)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        raise AnnotationValidationError(f"{path}: {message}", fields={path: [message]})

    def _get(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        nullable: bool = False,
    ) -> Any:
        if key not in obj:
            if default is ...:
                self.fail(f"{path}.{key}", "This field is required.")
            return default
        value = obj[key]
        if value is None and nullable:
            return None
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(f"{path}.{key}", "A valid number is required.")
            return float(value)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail(f"{path}.{key}", "A valid integer is required.")
        if not isinstance(value, kind):
            self.fail(f"{path}.{key}", f"Expected {getattr(kind, '__name__', kind)}.")
        return value

    def _list(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{path}.{key}", "Expected a list of items.")
        return value

    def _obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "Expected an object.")
        return value

    def _shape_type(self, obj: Mapping[str, Any], path: str) -> ShapeType:
        raw = self._get(obj, "type", path, str)
        try:
            return ShapeType(raw)
        except ValueError:
            self.fail(f"{path}.type", f'"{raw}" is not a valid choice.')
            raise  # unreachable; keeps mypy happy

    def _points(self, obj: Mapping[str, Any], path: str) -> list[float]:
        raw = self._list(obj, "points", path)
        out: list[float] = []
        for value in raw:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(f"{path}.points", "A valid number is required.")
            out.append(float(value))
        return out

    def _attributes(self, obj: Mapping[str, Any], path: str) -> list[AttributeVal]:
        out = []
        for i, raw in enumerate(self._list(obj, "attributes", path)):
            p = f"{path}.attributes[{i}]"
            item = self._obj(raw, p)
            out.append(AttributeVal(self._get(item, "spec_id", p, int), self._get(item, "value", p, str)))
        return out

    def _common(self, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
        return {
            "id": self._get(obj, "id", path, int, None, nullable=True),
            "group": self._get(obj, "group", path, int, 0, nullable=True),
            "source": self._get(obj, "source", path, str, Source.MANUAL.value),
            "attributes": self._attributes(obj, path),
        }

    def shape(self, raw: Any, path: str, *, nested: bool = False) -> LabeledShape:
        fast = _fast_shape(raw, nested)
        if fast is not None:
            return fast
        obj = self._obj(raw, path)
        elements = []
        if not nested:
            elements = [
                self.shape(e, f"{path}.elements[{i}]", nested=True)
                for i, e in enumerate(self._list(obj, "elements", path))
            ]
        return LabeledShape(
            type=self._shape_type(obj, path),
            frame=self._get(obj, "frame", path, int),
            label_id=self._get(obj, "label_id", path, int),
            points=self._points(obj, path),
            occluded=self._get(obj, "occluded", path, bool, False),
            outside=self._get(obj, "outside", path, bool, False),
            z_order=self._get(obj, "z_order", path, int, 0),
            rotation=self._get(obj, "rotation", path, float, 0.0),
            score=self._get(obj, "score", path, float, 1.0),
            elements=elements,
            **self._common(obj, path),
        )

    def tracked_shape(self, raw: Any, path: str) -> TrackedShape:
        fast = _fast_tracked_shape(raw)
        if fast is not None:
            return fast
        obj = self._obj(raw, path)
        return TrackedShape(
            type=self._shape_type(obj, path),
            frame=self._get(obj, "frame", path, int),
            points=self._points(obj, path),
            occluded=self._get(obj, "occluded", path, bool, False),
            outside=self._get(obj, "outside", path, bool, False),
            z_order=self._get(obj, "z_order", path, int, 0),
            rotation=self._get(obj, "rotation", path, float, 0.0),
            attributes=self._attributes(obj, path),
            id=self._get(obj, "id", path, int, None, nullable=True),
        )

    def track(self, raw: Any, path: str, *, nested: bool = False) -> LabeledTrack:
        fast = _fast_track(raw, nested)
        if fast is not None:
            return fast
        obj = self._obj(raw, path)
        elements = []
        if not nested:
            elements = [
                self.track(e, f"{path}.elements[{i}]", nested=True)
                for i, e in enumerate(self._list(obj, "elements", path))
            ]
        if "shapes" not in obj:
            self.fail(f"{path}.shapes", "This field is required.")
        return LabeledTrack(
            frame=self._get(obj, "frame", path, int),
            label_id=self._get(obj, "label_id", path, int),
            shapes=[
                self.tracked_shape(s, f"{path}.shapes[{i}]")
                for i, s in enumerate(self._list(obj, "shapes", path))
            ],
            elements=elements,
            **self._common(obj, path),
        )

    def tag(self, raw: Any, path: str) -> LabeledImage:
        fast = _fast_tag(raw)
        if fast is not None:
            return fast
        obj = self._obj(raw, path)
        return LabeledImage(
            frame=self._get(obj, "frame", path, int),
            label_id=self._get(obj, "label_id", path, int),
            **self._common(obj, path),
        )

    def interval(self, raw: Any, path: str) -> LabeledInterval:
        obj = self._obj(raw, path)
        if "stop" not in obj:
            self.fail(f"{path}.stop", "This field is required.")
        return LabeledInterval(
            label_id=self._get(obj, "label_id", path, int),
            start=self._get(obj, "start", path, int),
            stop=self._get(obj, "stop", path, int, None, nullable=True),
            score=self._get(obj, "score", path, float, 1.0),
            **self._common(obj, path),
        )

    def labeled_data(self, raw: Any) -> LabeledData:
        obj = self._obj(raw, "annotations")
        version = obj.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            self.fail("version", "A valid integer is required.")
        return LabeledData(
            version=version,
            tags=[self.tag(t, f"tags[{i}]") for i, t in enumerate(self._list(obj, "tags", "annotations"))],
            shapes=[
                self.shape(s, f"shapes[{i}]") for i, s in enumerate(self._list(obj, "shapes", "annotations"))
            ],
            tracks=[
                self.track(t, f"tracks[{i}]") for i, t in enumerate(self._list(obj, "tracks", "annotations"))
            ],
            intervals=[
                self.interval(t, f"intervals[{i}]")
                for i, t in enumerate(self._list(obj, "intervals", "annotations"))
            ],
        )


# --------------------------------------------------------------------------- validation

# Minimum number of coordinates (not points) per shape type; "exact" types must match it.
_MIN_COORDS: dict[ShapeType, int] = {
    ShapeType.RECTANGLE: 4,
    ShapeType.ELLIPSE: 4,
    ShapeType.CUBOID: 16,
    ShapeType.POLYGON: 6,
    ShapeType.POLYLINE: 4,
    ShapeType.POINTS: 2,
    ShapeType.MASK: 5,
    ShapeType.SKELETON: 0,
}
_EXACT_COORDS = {ShapeType.RECTANGLE, ShapeType.ELLIPSE, ShapeType.CUBOID}


def check_geometry(type_: ShapeType, points: Sequence[float], rotation: float = 0.0) -> str | None:
    """Return why a shape's geometry is invalid, or ``None``. Pure; used by importers too."""
    n = len(points)
    for value in points:
        if not math.isfinite(value):
            return "points must be finite numbers"
    if not 0.0 <= rotation <= 360.0 or not math.isfinite(rotation):
        return f"rotation {rotation} is outside 0..360"
    minimum = _MIN_COORDS[type_]
    if type_ in _EXACT_COORDS:
        if n != minimum:
            return f"a {type_} needs exactly {minimum} numbers, got {n}"
    elif type_ == ShapeType.MASK:
        if n < minimum:
            return f"a mask needs RLE runs and a bounding box (>= 5 numbers), got {n}"
        left, top, right, bottom = mask_bbox(points)
        if right < left or bottom < top or left < 0 or top < 0:
            return f"mask bounding box {[left, top, right, bottom]} is invalid"
        runs = points[:-4]
        if any(r < 0 or r != int(r) for r in runs):
            return "mask runs must be non-negative integers"
        area = (right - left + 1) * (bottom - top + 1)
        if int(sum(runs)) != area:
            return f"mask runs cover {int(sum(runs))} pixels, the box has {area}"
    elif type_ != ShapeType.SKELETON and (n < minimum or n % 2):
        return f"a {type_} needs an even number of coordinates >= {minimum}, got {n}"
    if type_ == ShapeType.ELLIPSE and (points[2] < points[0] or points[3] > points[1]):
        return "ellipse points must be [cx, cy, cx + rx, cy - ry] with rx, ry >= 0"
    return None


def check_label_type(label: LabelSpec, type_: ShapeType | None) -> str | None:
    """Return why ``label`` cannot carry a ``type_`` shape (``None``: a tag), or ``None``.

    As CVAT: a label of type ``any`` takes every shape but a skeleton, a typed label takes its
    own type, a skeleton label (one with sublabels) only skeletons, a ``tag`` label only tags;
    a skeleton's sublabels are checked by their skeleton."""
    if type_ is None:
        if label.type not in (LabelType.ANY, LabelType.TAG) or label.sublabels:
            return f"label '{label.name}' of type {label.type} cannot tag"
        return None
    if type_ == ShapeType.SKELETON:
        return None if label.sublabels else f"label '{label.name}' is not a skeleton"
    if label.sublabels:
        return f"skeleton label '{label.name}' needs skeleton shapes, not {type_}"
    if label.type not in (LabelType.ANY, type_.value) and label.parent_id is None:
        return f"label '{label.name}' is of type {label.type}, not {type_}"
    return None


# A mask's inclusive box may end one pixel past the frame (a box drawn to the frame's edge and
# rounded up); the exporters clip that pixel. Anything further out is refused, because mask
# export and import allocate width x height of the box.
MASK_EDGE_TOLERANCE = 1
# CVAT lets shapes lie partly outside the frame; coordinates are only bounded so that numbers
# which drive rasterising and clipping stay sane: this many frame sizes beyond each edge, and
# never less than COORD_MARGIN_MIN pixels (rasters are always the frame's size, so this bound
# guards arithmetic, not memory).
COORD_MARGIN_FRAMES = 10
COORD_MARGIN_MIN = 100_000


def check_raster_size(width: int, height: int, frame_width: int, frame_height: int, what: str = "mask") -> str | None:
    """Return why a ``width`` x ``height`` raster (a mask box, a declared RLE size) does not fit
    a ``frame_width`` x ``frame_height`` frame, or ``None``. Callers check it *before*
    allocating anything of that size; importers and the annotations API share it."""
    if width < 0 or height < 0:
        return f"{what} size {width}x{height} is negative"
    if width > frame_width + MASK_EDGE_TOLERANCE or height > frame_height + MASK_EDGE_TOLERANCE:
        return f"{what} size {width}x{height} exceeds the frame's {frame_width}x{frame_height}"
    return None


def check_bounds(type_: ShapeType, points: Sequence[float], frame_width: int, frame_height: int) -> str | None:
    """Return why a shape's ``points`` do not fit a ``frame_width`` x ``frame_height`` frame.

    A mask's box must lie within the frame (one pixel of tolerance at the right/bottom edge);
    other shapes may lie partly outside the frame, as in CVAT, but every coordinate must be
    finite and within :data:`COORD_MARGIN_FRAMES` frame sizes (at least
    :data:`COORD_MARGIN_MIN` pixels) of it. Run totals are
    :func:`check_geometry`'s business; this check only needs the points' numbers.
    """
    if type_ == ShapeType.MASK:
        if len(points) < 4 or not all(math.isfinite(v) for v in points[-4:]):
            return "a mask needs a finite bounding box"
        left, top, right, bottom = mask_bbox(points)
        limit_x, limit_y = frame_width - 1 + MASK_EDGE_TOLERANCE, frame_height - 1 + MASK_EDGE_TOLERANCE
        if left < 0 or top < 0 or right > limit_x or bottom > limit_y:
            return (
                f"mask bounding box {[left, top, right, bottom]} is outside the frame"
                f" ({frame_width}x{frame_height})"
            )
        return None
    margin = max(COORD_MARGIN_FRAMES * max(frame_width, frame_height), COORD_MARGIN_MIN)
    for i, value in enumerate(points):
        if not math.isfinite(value):
            return "points must be finite numbers"
        extent = frame_width if i % 2 == 0 else frame_height
        if not -margin <= value <= extent + margin:
            axis = "x" if i % 2 == 0 else "y"
            return f"{axis} = {value} is too far outside the frame ({frame_width}x{frame_height})"
    return None


FrameSizes: TypeAlias = (
    Callable[[int], tuple[int, int] | None] | Sequence[tuple[int, int]] | Mapping[int, tuple[int, int]]
)
"""Frame sizes for :func:`validate_annotations`: ``frame -> (width, height)`` as a callable
(``None`` for an unknown frame), a sequence indexed by frame, or a mapping."""


def _size_lookup(sizes: FrameSizes | None) -> Callable[[int], tuple[int, int] | None]:
    if sizes is None:
        return lambda frame: None
    if isinstance(sizes, Mapping):
        return sizes.get
    if isinstance(sizes, Sequence):
        seq = sizes

        def by_index(frame: int) -> tuple[int, int] | None:
            return seq[frame] if 0 <= frame < len(seq) else None

        return by_index
    return sizes


class _Validator:
    def __init__(
        self,
        labels: Sequence[LabelSpec],
        frame_count: int | None,
        max_errors: int,
        frame_sizes: FrameSizes | None = None,
    ) -> None:
        self.frame_size = _size_lookup(frame_sizes)
        self.labels: dict[int, LabelSpec] = {}
        self.parents: dict[int, LabelSpec] = {}
        for label in labels:
            self.labels[label.id] = label
            for sub in label.sublabels:
                self.labels[sub.id] = sub
                self.parents[sub.id] = label
        self.frame_count = frame_count
        self.max_errors = max_errors
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)
        if len(self.errors) >= self.max_errors:
            raise _TooManyErrors

    def frame(self, frame: int, path: str) -> None:
        if frame < 0 or (self.frame_count is not None and frame >= self.frame_count):
            self.error(f"{path}.frame", f"frame {frame} is outside the task (0..{self.frame_count})")

    def label(self, label_id: int, path: str, *, parent: LabelSpec | None) -> LabelSpec | None:
        label = self.labels.get(label_id)
        if label is None:
            self.error(f"{path}.label_id", f"label {label_id} does not exist in the task")
            return None
        actual_parent = self.parents.get(label_id)
        if parent is None and actual_parent is not None:
            self.error(f"{path}.label_id", f"label {label_id} is a skeleton point, not a label")
            return None
        if parent is not None and (actual_parent is None or actual_parent.id != parent.id):
            self.error(f"{path}.label_id", f"label {label_id} is not a sublabel of '{parent.name}'")
            return None
        return label

    def attributes(self, attrs: Sequence[AttributeVal], label: LabelSpec, path: str) -> None:
        seen: set[int] = set()
        for i, attr in enumerate(attrs):
            spec = label.attribute(attr.spec_id)
            p = f"{path}.attributes[{i}]"
            if spec is None:
                self.error(p, f"attribute {attr.spec_id} does not belong to label '{label.name}'")
                continue
            if attr.spec_id in seen:
                self.error(p, f"attribute '{spec.name}' is given twice")
            seen.add(attr.spec_id)
            why = spec.check_value(attr.value)
            if why:
                self.error(p, f"attribute '{spec.name}': {why}")

    def shape_type(self, type_: ShapeType, label: LabelSpec, path: str) -> None:
        why = check_label_type(label, type_)
        if why:
            self.error(f"{path}.type", why)

    def geometry(self, type_: ShapeType, points: Sequence[float], rotation: float, path: str, frame: int) -> None:
        why = check_geometry(type_, points, rotation)
        if why is None:
            size = self.frame_size(frame)
            if size is not None:
                why = check_bounds(type_, points, size[0], size[1])
        if why:
            self.error(f"{path}.points", why)

    def score(self, score: float, path: str) -> None:
        if not 0.0 <= score <= 1.0:
            self.error(f"{path}.score", f"score {score} is outside 0..1")

    def group(self, group: int | None, path: str) -> None:
        if group is not None and group < 0:
            self.error(f"{path}.group", "group must be >= 0")

    def elements_cover(self, label: LabelSpec, label_ids: Sequence[int], path: str) -> None:
        expected = {s.id for s in label.sublabels}
        if len(label_ids) != len(set(label_ids)) or set(label_ids) != expected:
            self.error(f"{path}.elements", f"a '{label.name}' skeleton needs one element per sublabel")

    def shape(self, shape: LabeledShape, path: str, parent: LabelSpec | None = None) -> None:
        self.frame(shape.frame, path)
        self.group(shape.group, path)
        self.score(shape.score, path)
        label = self.label(shape.label_id, path, parent=parent)
        self.geometry(shape.type, shape.points, shape.rotation, path, shape.frame)
        if label is None:
            return
        self.shape_type(shape.type, label, path)
        self.attributes(shape.attributes, label, path)
        if parent is not None and shape.type != ShapeType.POINTS:
            self.error(f"{path}.type", "skeleton elements are points")
        if parent is not None and len(shape.points) != 2:
            self.error(f"{path}.points", "a skeleton element is one point")
        if shape.type == ShapeType.SKELETON and parent is None:
            self.elements_cover(label, [e.label_id for e in shape.elements], path)
            for i, element in enumerate(shape.elements):
                p = f"{path}.elements[{i}]"
                if element.frame != shape.frame:
                    self.error(f"{p}.frame", "an element is on its skeleton's frame")
                self.shape(element, p, parent=label)
        elif shape.elements and parent is None:
            self.error(f"{path}.elements", "only skeletons have elements")

    def track(self, track: LabeledTrack, path: str, parent: LabelSpec | None = None) -> None:
        self.frame(track.frame, path)
        self.group(track.group, path)
        label = self.label(track.label_id, path, parent=parent)
        if not track.shapes:
            self.error(f"{path}.shapes", "a track needs at least one shape")
            return
        type_ = track.shapes[0].type
        if track.frame != track.shapes[0].frame:
            self.error(f"{path}.frame", "a track starts on its first shape's frame")
        previous = -1
        for i, shape in enumerate(track.shapes):
            p = f"{path}.shapes[{i}]"
            self.frame(shape.frame, p)
            if shape.frame <= previous:
                self.error(f"{p}.frame", "track shapes must have increasing, unique frames")
            previous = shape.frame
            if shape.type != type_:
                self.error(f"{p}.type", f"all shapes of a track are {type_}")
            self.geometry(shape.type, shape.points, shape.rotation, p, shape.frame)
            if label is not None:
                self.attributes(shape.attributes, label, p)
        if label is None:
            return
        self.shape_type(type_, label, path)
        self.attributes(track.attributes, label, path)
        if parent is not None and type_ != ShapeType.POINTS:
            self.error(f"{path}.shapes", "skeleton element tracks are points")
        if type_ == ShapeType.SKELETON and parent is None:
            self.elements_cover(label, [e.label_id for e in track.elements], path)
            for i, element in enumerate(track.elements):
                self.track(element, f"{path}.elements[{i}]", parent=label)
        elif track.elements and parent is None:
            self.error(f"{path}.elements", "only skeleton tracks have elements")

    def tag(self, tag: LabeledImage, path: str) -> None:
        self.frame(tag.frame, path)
        self.group(tag.group, path)
        label = self.label(tag.label_id, path, parent=None)
        if label is None:
            return
        why = check_label_type(label, None)
        if why:
            self.error(f"{path}.label_id", why)
        self.attributes(tag.attributes, label, path)


class _TooManyErrors(Exception):
    pass


def validate_annotations(
    data: LabeledData,
    labels: Sequence[LabelSpec],
    *,
    frame_count: int | None = None,
    max_errors: int = 50,
    frame_sizes: FrameSizes | None = None,
) -> None:
    """Check ``data`` against the task's labels (and frame count, when given).

    With ``frame_sizes`` (``frame -> (width, height)``), every shape is also bounded by its
    frame (:func:`check_bounds`): masks lie within it, other coordinates near it, so nothing
    stored can make a later export allocate more than the frame.

    Raises :class:`AnnotationValidationError` whose ``fields`` map paths such as
    ``shapes[3].points`` to messages (at most ``max_errors`` paths are collected).
    """
    v = _Validator(labels, frame_count, max_errors, frame_sizes)
    try:
        for i, tag in enumerate(data.tags):
            v.tag(tag, f"tags[{i}]")
        for i, shape in enumerate(data.shapes):
            v.shape(shape, f"shapes[{i}]")
        for i, track in enumerate(data.tracks):
            v.track(track, f"tracks[{i}]")
    except _TooManyErrors:
        pass
    if v.errors:
        first_path, first_messages = next(iter(v.errors.items()))
        more = f" (and {len(v.errors) - 1} more)" if len(v.errors) > 1 else ""
        raise AnnotationValidationError(f"{first_path}: {first_messages[0]}{more}", fields=v.errors)


def iter_all_shapes(data: LabeledData) -> Iterator[LabeledShape]:
    """Plain shapes and their skeleton elements (not tracks)."""
    for shape in data.shapes:
        yield shape
        yield from shape.elements


def attribute_values(attrs: Iterable[AttributeVal], label: LabelSpec) -> dict[str, str]:
    """``{name: value}`` for the attributes of ``label`` (unknown spec ids are dropped)."""
    out: dict[str, str] = {}
    for attr in attrs:
        spec = label.attribute(attr.spec_id)
        if spec is not None:
            out[spec.name] = attr.value
    return out
