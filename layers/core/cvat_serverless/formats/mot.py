"""MOT 1.1 (MOT Challenge sequence ground truth), exporter and importer.

Archive (as Datumaro's ``mot_seq_gt`` converter writes it for CVAT)::

    gt/gt.txt                 "frame_id,track_id,x,y,w,h,not_ignored,class_id,visibility" per box
    gt/labels.txt             label names, one a line; class_id is the 1-based line number
    img1/<frame_id:06d><ext>  the frame images, only with images

``frame_id`` is the task frame number + 1. Track frames get the track's number (1, 2, ... in
order of first appearance); plain boxes get ``-1``. ``visibility`` is the label's ``visibility``
attribute when it has one, else ``0`` for occluded boxes and ``1`` otherwise; ``not_ignored`` is
``0`` when the label's ``ignored`` attribute is true.

What the format keeps: rectangles (label, geometry to 6 decimals, occluded), track identity.
The importer rebuilds tracks from the ids (shapes -> tracks, as CVAT): every row is a keyframe,
and an ``outside`` keyframe closes each gap and the end of a track, so per-frame geometry of
box tracks survives while their keyframe positions do not. What it loses (as CVAT's docs say):
every other shape type, tags, attributes other than ``visibility`` / ``ignored``, ``rotation``,
``z_order``, ``group``, ``source`` (imported as ``manual``), ``score``.

Import: a row is occluded when its visibility is ``<= 0`` (Datumaro's rule); without
``gt/labels.txt`` class ids are MOT's standard classes (``pedestrian``, ...). A frame outside the
task, a class id the file does not list, a label the task does not have, or a malformed row is
a :class:`FormatError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Iterator
from typing import Any, BinaryIO

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
    attribute_values,
)
from cvat_serverless.domain.errors import FormatError

from .archive import ExportArchive, open_import
from .common import ImageProvider, LabelMap, fmt, format_error, group_by_frame, rebuild_tracks
from .registry import exporter, importer
from .yolo import checked, parse_floats

__all__ = ["MOT_LABELS", "export_mot", "import_mot"]

GT_FILE = "gt/gt.txt"
LABELS_FILE = "gt/labels.txt"
MOT_LABELS = (
    "pedestrian",
    "person on vehicle",
    "car",
    "bicycle",
    "motorbike",
    "non motorized vehicle",
    "static person",
    "distractor",
    "occluder",
    "occluder on the ground",
    "occluder full",
    "reflection",
)


def _image_name(frame_id: int, name: str) -> str:
    base = posixpath.basename(name)
    ext = "." + base.rsplit(".", 1)[1] if "." in base else ".jpg"
    return f"img1/{frame_id:06d}{ext}"


def _visibility(label: LabelSpec, values: dict[str, str], occluded: bool) -> str:
    if label.attribute_by_name("visibility") is not None and "visibility" in values:
        return values["visibility"]
    return "0" if occluded else "1"


@exporter(name="MOT", ext="ZIP", version="1.1")
def export_mot(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    classes = {label.id: i + 1 for i, label in enumerate(view.labels)}
    labels = view.label_index()
    track_numbers: dict[Any, int] = {}
    with ExportArchive(out) as archive:
        with archive.open_text(GT_FILE) as f:
            for fa in group_by_frame(view):
                frame_id = fa.frame.frame + 1
                rows = []
                for flat in fa.shapes:
                    shape = flat.shape
                    cls = classes.get(shape.label_id)
                    if cls is None or shape.type != ShapeType.RECTANGLE:
                        continue
                    track = -1
                    if flat.track_id is not None:
                        track = track_numbers.setdefault(flat.track_id, len(track_numbers) + 1)
                    label = labels[shape.label_id]
                    values = attribute_values(shape.attributes, label)
                    x0, y0, x1, y1 = shape.points
                    not_ignored = 0 if values.get("ignored", "false").lower() == "true" else 1
                    rows.append(
                        f"{frame_id},{track},{fmt(x0)},{fmt(y0)},{fmt(x1 - x0)},{fmt(y1 - y0)},"
                        f"{not_ignored},{cls},{_visibility(label, values, shape.occluded)}\n"
                    )
                f.writelines(rows)
        with archive.open_text(LABELS_FILE) as f:
            f.writelines(label.name + "\n" for label in view.labels)
        archive.write_images(view, images, lambda fr: _image_name(fr.frame + 1, fr.name))


def _root_of(names: list[str], filename: str) -> str:
    found = [n for n in names if n == GT_FILE or n.endswith("/" + GT_FILE)]
    if not found:
        raise FormatError(f"{filename}: {GT_FILE} is missing (not a MOT archive)")
    return min(found, key=len)[: -len(GT_FILE)]


def _csv_rows(reader: Any, file: str) -> Iterator[list[str]]:
    """The reader's rows; a line csv cannot split (a stray quote or carriage return) is a
    FormatError naming the file and line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise format_error(file, f"not comma-separated values ({exc})", reader.line_num) from exc
        yield row


@importer(name="MOT", ext="ZIP", version="1.1")
def import_mot(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    labels = LabelMap(view.labels)
    frames = {f.frame for f in view.frames}
    by_number = {f.frame: f for f in view.frames}
    pairs: list[tuple[LabeledShape, int | None]] = []
    with open_import(src, filename) as files:
        root = _root_of(files.names(), filename)
        gt = root + GT_FILE
        if files.exists(root + LABELS_FILE):
            names = [line.strip() for line in files.read_text(root + LABELS_FILE).splitlines() if line.strip()]
        else:
            names = list(MOT_LABELS)
        resolved: dict[int, LabelSpec] = {}
        reader = csv.reader(io.StringIO(files.read_text(gt)))
        for row in _csv_rows(reader, gt):
            line = reader.line_num
            fields = [f.strip() for f in row]
            if not fields or fields == [""]:
                continue
            if len(fields) < 8:
                raise format_error(
                    gt, f"expected at least 8 fields (frame,id,x,y,w,h,conf,class), got {len(fields)}", line
                )
            try:
                frame_id, track_id, class_id = int(fields[0]), int(float(fields[1])), int(fields[7])
            except (ValueError, OverflowError):  # OverflowError: "1e309" is a float, not an id
                raise format_error(gt, "frame, track and class ids must be integers", line) from None
            x, y, w, h, confidence = parse_floats(fields[2:7], gt, line)
            visibility = parse_floats(fields[8:9], gt, line)[0] if len(fields) > 8 and fields[8] else 1.0
            if frame_id - 1 not in frames:
                raise format_error(gt, f"frame {frame_id} is not in the task (frames are 1-based)", line)
            if not 1 <= class_id <= len(names):
                raise format_error(gt, f"class id {class_id} is not in the label list ({len(names)} names)", line)
            label = resolved.get(class_id)
            if label is None:
                label = resolved[class_id] = labels.resolve(names[class_id - 1], f"{gt}, line {line}")
            if w < 0 or h < 0:
                raise format_error(gt, "box width and height must not be negative", line)
            values: dict[str, Any] = {"visibility": fields[8] if len(fields) > 8 else "1"}
            values["ignored"] = "true" if confidence == 0 else "false"
            shape = LabeledShape(
                ShapeType.RECTANGLE,
                frame_id - 1,
                label.id,
                checked(
                    ShapeType.RECTANGLE, [x, y, x + w, y + h], gt, line, frame=by_number[frame_id - 1], label=label
                ),
                occluded=visibility <= 0.0,
                attributes=labels.attributes(label, values, f"{gt}, line {line}"),
            )
            pairs.append((shape, track_id if track_id > 0 else None))
    tracks, plain = rebuild_tracks(pairs, view)
    return LabeledData(shapes=plain, tracks=tracks)
