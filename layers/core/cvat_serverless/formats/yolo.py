"""YOLO 1.1 (Darknet), exporter and importer.

Archive (as CVAT writes it through Datumaro's ``yolo`` converter)::

    obj.data                       classes = N / train = data/train.txt / names = data/obj.names / backup = backup/
    obj.names                      one label name per line; the line index is the class id
    obj_<subset>_data/<stem>.txt   "class cx cy w h" per box, normalised to [0, 1] by the frame size
    obj_<subset>_data/<name>       the frame image, only with images
    <subset>.txt                   "data/obj_<subset>_data/<name>" per frame

The task subset ``default`` (or none) is written as ``train``; other subsets keep their name
(``backup``, ``classes`` and ``names`` are reserved by the format and refused).

What the format keeps: rectangles (label and geometry, six decimals of the normalised values,
i.e. well under 0.01 px on frames up to 10 000 px), on every frame where they are visible;
track frames are written as plain boxes. What it loses (as CVAT's docs say): every other shape
type, tags, attributes, ``occluded``, ``rotation`` (the unrotated box is written), ``z_order``,
``group``, ``source`` (imported as ``manual``), ``score``, track identity and keyframes
(a re-import gives one plain box per frame).

Import matches ``obj_<subset>_data/<stem>.txt`` to task frames by the image name without its
extension (sub-folders kept), else by the base name, else by frame number (``<number>.txt``,
for video tasks). A class id the file's ``obj.names`` does not have, a label the task does not
have, an unknown frame, or a malformed line is a :class:`FormatError` naming the file and line.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterator
from typing import IO, BinaryIO

from cvat_serverless.domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
    check_bounds,
    check_geometry,
    check_label_type,
)
from cvat_serverless.domain.errors import FormatError

from .archive import ExportArchive, ImportFiles, open_import
from .common import FrameMap, ImageProvider, LabelMap, format_error, group_by_frame
from .registry import exporter, importer

__all__ = ["export_yolo", "import_yolo"]

_RESERVED_SUBSETS = frozenset({"backup", "classes", "names"})
_DATA_DIR = re.compile(r"^obj_(?P<subset>[^/]+)_data/(?P<rel>.+)\.txt$")


# --------------------------------------------------------------------------- shared text helpers


def norm(value: float) -> str:
    """A normalised coordinate as CVAT/Datumaro write it (``%.6f``)."""
    return f"{value:.6f}"


def stem_of(name: str) -> str:
    """A frame's name without its extension, sub-folders kept (``a/b.jpg`` -> ``a/b``)."""
    base = posixpath.basename(name)
    return name[: len(name) - len(base)] + (base.rsplit(".", 1)[0] if "." in base else base)


def read_lines(files: ImportFiles, name: str) -> Iterator[tuple[int, str]]:
    """``(line number, stripped text)`` of the non-empty lines of a UTF-8 member."""
    for number, line in enumerate(files.read_text(name).splitlines(), 1):
        text = line.strip()
        if text:
            yield number, text


def parse_floats(tokens: list[str], file: str, line: int) -> list[float]:
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise format_error(file, f"'{' '.join(tokens)}' has a value that is not a number", line) from None
    if not all(math.isfinite(v) for v in values):
        raise format_error(file, "coordinates must be finite numbers", line)
    return values


def parse_class(token: str, names: list[str], file: str, line: int) -> str:
    try:
        index = int(token)
    except ValueError:
        raise format_error(file, f"class id '{token}' is not an integer", line) from None
    if not 0 <= index < len(names):
        raise format_error(file, f"class id {index} is not in the label list ({len(names)} names)", line)
    return names[index]


def box_from_center(values: list[float], frame: FrameInfo, file: str, line: int) -> list[float]:
    cx, cy, w, h = values
    if w < 0 or h < 0:
        raise format_error(file, "box width and height must not be negative", line)
    W, H = frame.width, frame.height
    return [(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H]


def center_of(points: list[float], frame: FrameInfo) -> str:
    """``cx cy w h`` (normalised) of an ``[x0, y0, x1, y1]`` box."""
    x0, y0, x1, y1 = points[:4]
    W, H = frame.width or 1, frame.height or 1
    return " ".join(norm(v) for v in ((x0 + x1) / 2 / W, (y0 + y1) / 2 / H, (x1 - x0) / W, (y1 - y0) / H))


def checked(
    type_: ShapeType,
    points: list[float],
    file: str,
    line: int,
    rotation: float = 0.0,
    *,
    frame: FrameInfo | None = None,
    label: LabelSpec | None = None,
) -> list[float]:
    """``points``, once the label takes ``type_`` and the geometry is valid within ``frame``."""
    why = check_label_type(label, type_) if label is not None else None
    why = why or check_geometry(type_, points, rotation)
    if why is None and frame is not None:
        why = check_bounds(type_, points, frame.width, frame.height)
    if why:
        raise format_error(file, why, line)
    return points


class FrameResolver:
    """Annotation file names -> task frames (name without extension, base name, frame number)."""

    def __init__(self, view: DatasetView) -> None:
        self.frames = FrameMap(view.frames)
        self.by_number = {f.frame: f for f in view.frames}

    def resolve(self, rel: str, file: str) -> FrameInfo:
        frame = self.frames.get(rel)
        if frame is None:
            digits = re.fullmatch(r"(?:.*/)?(?:frame_)?0*(\d+)", rel)
            if digits and int(digits.group(1)) in self.by_number:
                frame = int(digits.group(1))
        if frame is None:
            raise format_error(file, f"could not match '{rel}' with any task frame")
        return self.by_number[frame]


# --------------------------------------------------------------------------- export


def _subset_name(frame: FrameInfo) -> str:
    subset = frame.subset or "default"
    if subset == "default":
        return "train"
    if subset in _RESERVED_SUBSETS or "/" in subset:
        raise FormatError(f"YOLO: the subset name '{subset}' cannot be used (reserved by the format)")
    return subset


def _write_boxes(out: IO[str], shapes: list[LabeledShape], frame: FrameInfo, classes: dict[int, int]) -> None:
    for shape in shapes:
        cls = classes.get(shape.label_id)
        if cls is None or shape.type != ShapeType.RECTANGLE:
            continue
        out.write(f"{cls} {center_of(shape.points, frame)}\n")


@exporter(name="YOLO", ext="ZIP", version="1.1")
def export_yolo(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    classes = {label.id: i for i, label in enumerate(view.labels)}
    subsets: dict[str, list[FrameInfo]] = {}
    with ExportArchive(out) as archive:
        with archive.open_text("obj.names") as f:
            for label in view.labels:
                f.write(label.name + "\n")
        for fa in group_by_frame(view):
            subset = _subset_name(fa.frame)
            subsets.setdefault(subset, []).append(fa.frame)
            with archive.open_text(f"obj_{subset}_data/{stem_of(fa.frame.name)}.txt") as f:
                _write_boxes(f, [s.shape for s in fa.shapes], fa.frame, classes)
        for subset, frames in subsets.items():
            with archive.open_text(f"{subset}.txt") as f:
                for frame in frames:
                    f.write(f"data/obj_{subset}_data/{frame.name}\n")
        with archive.open_text("obj.data") as f:
            f.write(f"classes = {len(view.labels)}\n")
            for subset in subsets:
                f.write(f"{subset} = data/{subset}.txt\n")
            f.write("names = data/obj.names\nbackup = backup/\n")
        archive.write_images(view, images, lambda fr: f"obj_{_subset_name(fr)}_data/{fr.name}")


# --------------------------------------------------------------------------- import


def _find_names(files: ImportFiles) -> str:
    found = files.find("obj.names")
    if not found:
        raise FormatError(f"{files.filename}: obj.names is missing (not a YOLO 1.1 archive)")
    return min(found, key=len)


@importer(name="YOLO", ext="ZIP", version="1.1")
def import_yolo(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    labels = LabelMap(view.labels)
    frames = FrameResolver(view)
    shapes: list[LabeledShape] = []
    with open_import(src, filename) as files:
        names_file = _find_names(files)
        names = [text for _, text in read_lines(files, names_file)]
        root = posixpath.dirname(names_file)
        prefix = root + "/" if root else ""
        ann_files = []
        for member in files.names():
            match = _DATA_DIR.match(member[len(prefix) :]) if member.startswith(prefix) else None
            if match:
                ann_files.append((member, match.group("rel")))
        if not ann_files and not files.exists(prefix + "obj.data"):
            raise FormatError(f"{filename}: no obj_<subset>_data/<image>.txt annotation files (nor obj.data)")
        for member, rel in sorted(ann_files):
            frame = frames.resolve(rel, member)
            for line, text in read_lines(files, member):
                tokens = text.split()
                if len(tokens) != 5:
                    raise format_error(member, f"expected 'class cx cy w h', got {len(tokens)} values", line)
                label = labels.resolve(parse_class(tokens[0], names, member, line), f"{member}, line {line}")
                points = box_from_center(parse_floats(tokens[1:], member, line), frame, member, line)
                shapes.append(
                    LabeledShape(
                        ShapeType.RECTANGLE,
                        frame.frame,
                        label.id,
                        checked(ShapeType.RECTANGLE, points, member, line, frame=frame, label=label),
                    )
                )
    return LabeledData(shapes=shapes)
