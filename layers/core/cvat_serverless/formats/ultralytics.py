"""Ultralytics YOLO Detection / Detection Track / Oriented Bounding Boxes / Segmentation / Pose 1.0.

Archive (CVAT's layout)::

    data.yaml                     path: ./ ; train: train.txt ; names: {0: car, ...} ; kpt_shape (Pose)
    train.txt                     "images/<subset>/<frame name>" per frame (and <subset>.txt per subset)
    labels/<subset>/<stem>.txt    one object a line, coordinates normalised to [0, 1]
    images/<subset>/<frame name>  only with images

The task subset ``default`` is written as ``train``. Lines:

* Detection: ``class cx cy w h`` (rectangles); *Detection Track* (exporter only) appends the
  track number to the boxes of tracks.
* Oriented Bounding Boxes: ``class x1 y1 x2 y2 x3 y3 x4 y4``, the corners of a rectangle turned
  by its ``rotation`` (top-left, top-right, bottom-right, bottom-left before turning).
* Segmentation: ``class x1 y1 x2 y2 ...`` (polygons).
* Pose: ``class cx cy w h x1 y1 v1 ...`` per skeleton: the box around its visible points, then
  ``kpt_shape[0]`` points (``v``: 2 visible, 1 occluded, 0 outside, written ``0 0 0``; shorter
  skeletons are padded with ``0 0 0``).

What each keeps: its shape type's geometry (six decimals of the normalised values) and labels,
on every frame where a shape is visible (track frames become plain shapes, except with the
Detection Track exporter). Lost (as CVAT's docs say): other shape types (masks are not
converted to polygons), tags, attributes, ``z_order``, ``group``, ``source`` (imported as
``manual``), ``score``, ``occluded`` (kept for Pose points only), ``rotation`` (kept by OBB
only), positions of outside skeleton points.

``data.yaml`` is read with PyYAML's ``safe_load``, as Ultralytics reads it; it is written by hand
(names always double-quoted, escaped so that ``safe_load`` gives them back unchanged).

Import accepts ``labels/<subset>/`` and the inverted ``<subset>/labels/`` layout (Roboflow), and
an optional trailing integer track id on any line, from which tracks are rebuilt (every frame a
keyframe, an ``outside`` keyframe closing gaps and the end). Frames are matched by the image name
without extension (else base name, else frame number). Bad class ids, labels the task lacks,
wrong value counts and malformed numbers are :class:`FormatError`\\ s naming the file and line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import IO, Any, BinaryIO

import yaml

from cvat_serverless.domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
)
from cvat_serverless.domain.errors import FormatError

from ._raster import rotated_box
from .archive import ExportArchive, ImportFiles, open_import
from .common import FlatShape, ImageProvider, LabelMap, format_error, group_by_frame, rebuild_tracks
from .registry import exporter, importer
from .yolo import FrameResolver, center_of, checked, norm, parse_class, parse_floats, read_lines, stem_of

__all__ = [
    "export_detection",
    "export_detection_track",
    "export_obb",
    "export_pose",
    "export_segmentation",
    "import_detection",
    "import_obb",
    "import_pose",
    "import_segmentation",
]

_RESERVED = frozenset({"names", "path", "kpt_shape", "nc"})
_LABEL_DIR = re.compile(r"^(?:labels/(?P<a>[^/]+)|(?P<b>[^/]+)/labels)/(?P<rel>.+)\.txt$")

LineWriter = Callable[[FlatShape, FrameInfo, int], str | None]


# --------------------------------------------------------------------------- data.yaml


def _yaml_error(exc: yaml.YAMLError, file: str) -> FormatError:
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    detail = f"{problem} {context}" if context else problem
    return format_error(file, f"malformed YAML ({detail})", mark.line + 1 if mark is not None else None)


def _class_name(value: Any, class_id: int, file: str) -> str:
    # Ultralytics reads names with safe_load and str()s them: `names: [1, yes]` -> "1", "True".
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, list | dict):
        raise FormatError(f"{file}: the name of class {class_id} is not a string ({value!r})")
    return str(value)


def _class_id(key: Any, file: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    raise FormatError(f"{file}: class id {key!r} under 'names' is not an integer")


def parse_data_yaml(text: str, file: str) -> tuple[list[str], list[int] | None]:
    """``(names by class id, kpt_shape)`` of an Ultralytics ``data.yaml`` (read with PyYAML's
    ``safe_load``, as Ultralytics reads it): ``names`` is a list or a map of class id to name."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file) from exc
    except RecursionError as exc:  # flow collections nested a thousand deep
        raise FormatError(f"{file}: malformed YAML (nested too deeply)") from exc
    if data is not None and not isinstance(data, dict):
        raise FormatError(f"{file}: expected 'key: value' lines, got a YAML {type(data).__name__}")
    if not data or "names" not in data:
        raise FormatError(f"{file}: 'names' is missing")
    raw_names = data["names"] if data["names"] is not None else []  # `names:` with none under it
    if isinstance(raw_names, list):
        names = {i: _class_name(v, i, file) for i, v in enumerate(raw_names)}
    elif isinstance(raw_names, dict):
        ids = [(_class_id(k, file), v) for k, v in raw_names.items()]
        names = {i: _class_name(v, i, file) for i, v in ids}
    else:
        raise FormatError(f"{file}: 'names' must be a list or a map")
    if sorted(names) != list(range(len(names))):
        raise FormatError(f"{file}: class ids under 'names' must be 0..{len(names) - 1}")
    kpt_shape = data.get("kpt_shape")
    if kpt_shape is not None:
        valid = (
            isinstance(kpt_shape, list)
            and len(kpt_shape) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in kpt_shape)
            and kpt_shape[0] >= 0
            and kpt_shape[1] in (2, 3)
        )
        if not valid:
            raise FormatError(f"{file}: kpt_shape '{kpt_shape}' is not [points, 2 or 3]")
    return [names[i] for i in range(len(names))], kpt_shape


# Characters PyYAML does not read back as themselves inside a double-quoted scalar: those its
# reader refuses (C0/C1 controls, DEL, surrogates, U+FFFE/U+FFFF) and the ones it takes for line
# breaks (NEL, LS, PS), which a quoted scalar folds into spaces.
_YAML_UNSAFE = re.compile(r"[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_YAML_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that ``safe_load`` reads back unchanged (JSON's
    string syntax is YAML's, once the characters above are escaped too)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _yaml_string(text: str) -> str:
    """``text`` plain where YAML reads it back as the same string (``train``), else quoted."""
    if _YAML_PLAIN.fullmatch(text) and yaml.safe_load(text) == text:
        return text
    return _yaml_quoted(text)


# --------------------------------------------------------------------------- export


def _subset(frame: FrameInfo) -> str:
    subset = frame.subset or "default"
    if subset == "default":
        return "train"
    if subset in _RESERVED or "/" in subset:
        raise FormatError(f"Ultralytics YOLO: the subset name '{subset}' cannot be used")
    return subset


def _pairs(points: list[float], frame: FrameInfo) -> str:
    W, H = frame.width or 1, frame.height or 1
    return " ".join(norm(v / (W if i % 2 == 0 else H)) for i, v in enumerate(points))


def _kpt_count(view: DatasetView) -> int:
    return max((len(label.sublabels) for label in view.labels), default=0)


def _export(
    view: DatasetView,
    out: BinaryIO,
    images: ImageProvider | None,
    line: LineWriter,
    *,
    kpt_shape: int | None = None,
) -> None:
    classes = {label.id: i for i, label in enumerate(view.labels)}
    subsets: dict[str, list[FrameInfo]] = {}
    with ExportArchive(out) as archive:
        for fa in group_by_frame(view):
            subset = _subset(fa.frame)
            subsets.setdefault(subset, []).append(fa.frame)
            with archive.open_text(f"labels/{subset}/{stem_of(fa.frame.name)}.txt") as f:
                for flat in fa.shapes:
                    cls = classes.get(flat.shape.label_id)
                    text = line(flat, fa.frame, cls) if cls is not None else None
                    if text is not None:
                        f.write(text + "\n")
        for subset, frames in subsets.items():
            with archive.open_text(f"{subset}.txt") as f:
                f.writelines(f"images/{subset}/{frame.name}\n" for frame in frames)
        with archive.open_text("data.yaml") as f:
            _write_yaml(f, view, list(subsets), kpt_shape)
        archive.write_images(view, images, lambda fr: f"images/{_subset(fr)}/{fr.name}")


def _write_yaml(f: IO[str], view: DatasetView, subsets: list[str], kpt_shape: int | None) -> None:
    f.write("path: ./\n")
    for subset in subsets or ["train"]:
        f.write(f"{_yaml_string(subset)}: {_yaml_string(subset + '.txt')}\n")
    f.write("names:\n" if view.labels else "names: {}\n")
    for i, label in enumerate(view.labels):
        f.write(f"  {i}: {_yaml_quoted(label.name)}\n")
    if kpt_shape is not None:
        f.write(f"kpt_shape: [{kpt_shape}, 3]\n")


def _box_line(flat: FlatShape, frame: FrameInfo, cls: int) -> str | None:
    if flat.shape.type != ShapeType.RECTANGLE:
        return None
    return f"{cls} {center_of(flat.shape.points, frame)}"


def _track_line(numbers: dict[Any, int]) -> LineWriter:
    def write(flat: FlatShape, frame: FrameInfo, cls: int) -> str | None:
        text = _box_line(flat, frame, cls)
        if text is not None and flat.track_id is not None:
            text += f" {numbers.setdefault(flat.track_id, len(numbers))}"
        return text

    return write


def _obb_line(flat: FlatShape, frame: FrameInfo, cls: int) -> str | None:
    if flat.shape.type != ShapeType.RECTANGLE:
        return None
    return f"{cls} {_pairs(rotated_box(flat.shape.points, flat.shape.rotation), frame)}"


def _polygon_line(flat: FlatShape, frame: FrameInfo, cls: int) -> str | None:
    if flat.shape.type != ShapeType.POLYGON:
        return None
    return f"{cls} {_pairs(flat.shape.points, frame)}"


def _pose_line(count: int) -> LineWriter:
    def write(flat: FlatShape, frame: FrameInfo, cls: int) -> str | None:
        shape = flat.shape
        if shape.type != ShapeType.SKELETON:
            return None
        visible = [e.points[:2] for e in shape.elements if not e.outside] or [e.points[:2] for e in shape.elements]
        xs, ys = [p[0] for p in visible], [p[1] for p in visible]
        parts = [str(cls), center_of([min(xs), min(ys), max(xs), max(ys)], frame)]
        for e in shape.elements:
            if e.outside:
                parts.append("0 0 0")
            else:
                parts.append(f"{_pairs(e.points[:2], frame)} {1 if e.occluded else 2}")
        parts.extend(["0 0 0"] * (count - len(shape.elements)))
        return " ".join(parts)

    return write


@exporter(name="Ultralytics YOLO Detection", ext="ZIP", version="1.0")
def export_detection(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, _box_line)


@exporter(name="Ultralytics YOLO Detection Track", ext="ZIP", version="1.0")
def export_detection_track(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, _track_line({}))


@exporter(name="Ultralytics YOLO Oriented Bounding Boxes", ext="ZIP", version="1.0")
def export_obb(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, _obb_line)


@exporter(name="Ultralytics YOLO Segmentation", ext="ZIP", version="1.0")
def export_segmentation(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, _polygon_line)


@exporter(name="Ultralytics YOLO Pose", ext="ZIP", version="1.0")
def export_pose(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    count = _kpt_count(view)
    _export(view, out, images, _pose_line(count), kpt_shape=count)


# --------------------------------------------------------------------------- import


class _Reader:
    def __init__(self, view: DatasetView, kind: str) -> None:
        self.view = view
        self.kind = kind
        self.labels = LabelMap(view.labels)
        self.frames = FrameResolver(view)
        self.pairs: list[tuple[LabeledShape, int | None]] = []
        self.names: list[str] = []
        self.kpt: list[int] | None = None

    def read(self, files: ImportFiles, filename: str) -> LabeledData:
        found = files.find("data.yaml")
        if not found:
            raise FormatError(f"{filename}: data.yaml is missing (not an Ultralytics YOLO archive)")
        yaml_name = min(found, key=len)
        self.names, self.kpt = parse_data_yaml(files.read_text(yaml_name), yaml_name)
        if self.kind == "pose" and self.kpt is None:
            raise FormatError(f"{yaml_name}: 'kpt_shape' is missing (needed by Pose)")
        root = yaml_name[: -len("data.yaml")]
        label_files = []
        for name in files.names():
            match = _LABEL_DIR.match(name[len(root) :]) if name.startswith(root) else None
            if match:
                label_files.append((name, match.group("rel")))
        for name, rel in sorted(label_files):
            frame = self.frames.resolve(rel, name)
            for line, text in read_lines(files, name):
                self.line(text.split(), frame, name, line)
        tracks, plain = rebuild_tracks(self.pairs, self.view)
        return LabeledData(shapes=plain, tracks=tracks)

    def label(self, token: str, file: str, line: int) -> LabelSpec:
        return self.labels.resolve(parse_class(token, self.names, file, line), f"{file}, line {line}")

    def split_track(self, values: list[str], sizes: Callable[[int], bool]) -> tuple[list[str], int | None]:
        """Values without a trailing integer track id (when the count says there is one)."""
        if not sizes(len(values)) and values and sizes(len(values) - 1):
            try:
                return values[:-1], int(values[-1])
            except ValueError:
                return values, None
        return values, None

    def line(self, tokens: list[str], frame: FrameInfo, file: str, line: int) -> None:
        label = self.label(tokens[0], file, line)
        W, H = frame.width, frame.height
        if self.kind == "detection":
            values, track = self.split_track(tokens[1:], lambda n: n == 4)
            if len(values) != 4:
                raise format_error(file, f"expected 'class cx cy w h [track]', got {len(tokens)} values", line)
            cx, cy, w, h = parse_floats(values, file, line)
            if w < 0 or h < 0:
                raise format_error(file, "box width and height must not be negative", line)
            pts = [(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H]
            shape = LabeledShape(
                ShapeType.RECTANGLE,
                frame.frame,
                label.id,
                checked(ShapeType.RECTANGLE, pts, file, line, frame=frame, label=label),
            )
        elif self.kind == "obb":
            values, track = self.split_track(tokens[1:], lambda n: n == 8)
            if len(values) != 8:
                raise format_error(file, f"expected 'class x1 y1 ... x4 y4 [track]', got {len(tokens)} values", line)
            c = parse_floats(values, file, line)
            corners = [(c[i] * W, c[i + 1] * H) for i in range(0, 8, 2)]
            cx, cy = sum(p[0] for p in corners) / 4, sum(p[1] for p in corners) / 4
            width = math.dist(corners[0], corners[1])
            height = math.dist(corners[1], corners[2])
            angle = math.degrees(math.atan2(corners[1][1] - corners[0][1], corners[1][0] - corners[0][0])) % 360.0
            angle = 0.0 if math.isclose(angle, 360.0, abs_tol=1e-9) else angle
            pts = [cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2]
            shape = LabeledShape(
                ShapeType.RECTANGLE,
                frame.frame,
                label.id,
                checked(ShapeType.RECTANGLE, pts, file, line, angle, frame=frame, label=label),
                rotation=angle,
            )
        elif self.kind == "segmentation":
            values, track = self.split_track(tokens[1:], lambda n: n % 2 == 0)
            coords = parse_floats(values, file, line)
            pts = [v * (W if i % 2 == 0 else H) for i, v in enumerate(coords)]
            shape = LabeledShape(
                ShapeType.POLYGON,
                frame.frame,
                label.id,
                checked(ShapeType.POLYGON, pts, file, line, frame=frame, label=label),
            )
        else:
            shape, track = self.skeleton(tokens, label, frame, file, line)
        self.pairs.append((shape, track))

    def skeleton(
        self, tokens: list[str], label: LabelSpec, frame: FrameInfo, file: str, line: int
    ) -> tuple[LabeledShape, int | None]:
        assert self.kpt is not None
        count, dims = self.kpt
        expected = 4 + count * dims
        values, track = self.split_track(tokens[1:], lambda n: n == expected)
        if len(values) != expected:
            raise format_error(file, f"expected {1 + expected} values (kpt_shape {self.kpt}), got {len(tokens)}", line)
        if not label.sublabels:
            raise format_error(file, f"label '{label.name}' is not a skeleton", line)
        if len(label.sublabels) > count:
            raise format_error(
                file, f"skeleton '{label.name}' has {len(label.sublabels)} points, the file {count}", line
            )
        nums = parse_floats(values, file, line)
        elements = []
        for i, sub in enumerate(label.sublabels):
            point = nums[4 + i * dims : 4 + (i + 1) * dims]
            v = int(point[2]) if dims == 3 else 2
            elements.append(
                LabeledShape(
                    ShapeType.POINTS,
                    frame.frame,
                    sub.id,
                    checked(
                        ShapeType.POINTS, [point[0] * frame.width, point[1] * frame.height], file, line, frame=frame
                    ),
                    outside=v == 0,
                    occluded=v == 1,
                )
            )
        return LabeledShape(ShapeType.SKELETON, frame.frame, label.id, [], elements=elements), track


def _import(src: BinaryIO, view: DatasetView, filename: str, kind: str) -> LabeledData:
    with open_import(src, filename) as files:
        return _Reader(view, kind).read(files, filename)


@importer(name="Ultralytics YOLO Detection", ext="ZIP", version="1.0")
def import_detection(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, "detection")


@importer(name="Ultralytics YOLO Oriented Bounding Boxes", ext="ZIP", version="1.0")
def import_obb(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, "obb")


@importer(name="Ultralytics YOLO Segmentation", ext="ZIP", version="1.0")
def import_segmentation(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, "segmentation")


@importer(name="Ultralytics YOLO Pose", ext="ZIP", version="1.0")
def import_pose(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, "pose")
