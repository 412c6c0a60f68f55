"""LabelMe 3.0, exporter and importer.

Archive (CVAT's layout, one folder per subset)::

    <subset>/<stem>.xml                      one LabelMe <annotation> per frame
    <subset>/<frame name>                    only with images
    Masks/<subset>/<stem>_mask_<id>.png      one full-frame RGBA PNG per mask object (where
                                             Datumaro's LabelMe reader looks for it)

Each ``<object>`` has ``name``, ``deleted``/``verified`` (0), ``occluded`` (yes/no), ``id``,
``parts`` (``hasparts`` / ``ispartof``: the objects of one ``group``, the first one leading),
then ``<polygon>`` points (rectangles: ``<type>bounding_box</type>`` and their four corners),
or ``<segm>`` with the mask file and its box, and ``<attributes>`` as ``name=value, ...``
(``\\``, ``=``, ``"`` and ``,`` escaped with a backslash), where a non-zero ``rotation`` and, for
track frames, ``track_id`` / ``keyframe`` are kept too.

What the format keeps: rectangles, polygons and masks (exact: coordinates are written in full,
not CVAT's two decimals), labels, ``occluded``, attributes, ``rotation``, ``group`` (as part
trees; group numbers are renumbered), and track identity (tracks are rebuilt from ``track_id``:
a keyframe on every frame, an ``outside`` keyframe closing each gap and the end). What it loses
(as CVAT's docs say): polylines, points, ellipses, cuboids, skeletons, tags, ``z_order``,
``source`` (imported as ``manual``), ``score``, keyframe positions.

Import reads every ``*.xml`` whose root is ``<annotation>`` (CVAT's layout, or Datumaro's
``Annotations/<subset>/`` with ``Masks/<subset>/``); the frame is the one named by
``<filename>`` (else by the XML's name). ``deleted`` objects are skipped. Labels the task does
not have, unknown frames, missing mask files and malformed XML are :class:`FormatError`\\ s
naming the file and line.
"""

from __future__ import annotations

import io
import posixpath
from typing import Any, BinaryIO

from cvat_serverless.domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
    attribute_values,
)
from cvat_serverless.domain.errors import FormatError

from ._raster import open_mask_image
from ._xml_tree import XmlNode, parse_xml, text_element
from .archive import ExportArchive, ImportFiles, open_import
from .common import (
    FlatShape,
    FrameAnnotations,
    ImageProvider,
    LabelMap,
    bitmap_to_cvat_mask,
    check_label,
    cvat_mask_to_bitmap,
    fmt,
    format_error,
    group_by_frame,
    rebuild_tracks,
)
from .registry import exporter, importer
from .yolo import FrameResolver, checked, stem_of

__all__ = ["export_labelme", "import_labelme"]

_CARRIED = {ShapeType.RECTANGLE, ShapeType.POLYGON, ShapeType.MASK}
_SPECIAL = ("rotation", "track_id", "keyframe")


# --------------------------------------------------------------------------- attributes text


def escape_attr(text: str) -> str:
    return text.replace("\\", "\\\\").replace("=", "\\=").replace('"', '\\"').replace(",", "\\,")


def parse_attributes(text: str) -> dict[str, str]:
    """``name=value, ...`` with backslash escapes; a bare ``name`` means ``true``."""
    out: dict[str, str] = {}
    items: list[list[str]] = [[]]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            items[-1].append("\\" + text[i + 1])
            i += 2
            continue
        if ch == ",":
            items.append([])
        else:
            items[-1].append(ch)
        i += 1
    for parts in items:
        raw = "".join(parts).strip()
        if not raw:
            continue
        name, sep, value = _split_unescaped(raw)
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[_unescape(name.strip())] = _unescape(value) if sep else "true"
    return out


def _split_unescaped(raw: str) -> tuple[str, str, str]:
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == "=":
            return raw[:i], "=", raw[i + 1 :]
        i += 1
    return raw, "", ""


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- export


def _mask_png(points: list[float], frame: FrameInfo) -> bytes:
    import numpy as np
    from PIL import Image

    bitmap = cvat_mask_to_bitmap(points, frame.width, frame.height)
    rgba = np.zeros((frame.height, frame.width, 4), dtype=np.uint8)
    rgba[bitmap] = (255, 203, 0, 153)
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG")
    return buf.getvalue()


def _pts(points: list[float]) -> str:
    return "".join(f"<pt><x>{fmt(points[i])}</x><y>{fmt(points[i + 1])}</y></pt>" for i in range(0, len(points), 2))


class _Writer:
    def __init__(self, view: DatasetView) -> None:
        self.view = view
        self.labels = view.label_index()
        self.top = {label.id for label in view.labels}
        self.pending_masks: list[tuple[str, list[float], FrameInfo]] = []

    def objects(self, fa: FrameAnnotations) -> list[tuple[int, FlatShape]]:
        return [
            (i, flat)
            for i, flat in enumerate(f for f in fa.shapes if f.shape.type in _CARRIED and f.shape.label_id in self.top)
        ]

    def attributes(self, flat: FlatShape, label: LabelSpec) -> str:
        shape = flat.shape
        values = attribute_values(shape.attributes, label)
        if shape.rotation:
            values["rotation"] = fmt(shape.rotation)
        if flat.track_id is not None:
            values["track_id"] = str(flat.track_id)
            values["keyframe"] = "true" if flat.keyframe else "false"
        return ", ".join(f"{escape_attr(k)}={escape_attr(v)}" for k, v in values.items())

    def frame(self, archive: ExportArchive, fa: FrameAnnotations, subset: str) -> None:
        f = fa.frame
        stem = stem_of(f.name)
        objects = self.objects(fa)
        groups: dict[int, list[int]] = {}
        for obj_id, flat in objects:
            if flat.shape.group:
                groups.setdefault(flat.shape.group, []).append(obj_id)
        with archive.open_text(f"{subset}/{stem}.xml") as out:
            out.write("<annotation>\n  " + text_element("filename", f.name) + "\n  " + text_element("folder", subset))
            out.write("\n  <source><sourceImage></sourceImage><sourceAnnotation>CVAT</sourceAnnotation></source>\n")
            out.write(f"  <imagesize><nrows>{f.height}</nrows><ncols>{f.width}</ncols></imagesize>\n")
            for obj_id, flat in objects:
                shape = flat.shape
                label = self.labels[shape.label_id]
                members = groups.get(shape.group or 0, [])
                leader = members[0] if members else None
                hasparts = ",".join(str(m) for m in members[1:]) if leader == obj_id else ""
                ispartof = str(leader) if leader is not None and leader != obj_id else ""
                out.write("  <object>\n    " + text_element("name", label.name))
                out.write("\n    <deleted>0</deleted><verified>0</verified>")
                out.write(f"\n    <occluded>{'yes' if shape.occluded else 'no'}</occluded><date></date>")
                out.write(f"\n    <id>{obj_id}</id>")
                out.write(f"\n    <parts><hasparts>{hasparts}</hasparts><ispartof>{ispartof}</ispartof></parts>\n")
                if shape.type == ShapeType.RECTANGLE:
                    x0, y0, x1, y1 = shape.points
                    out.write("    <type>bounding_box</type>\n")
                    out.write(f"    <polygon>{_pts([x0, y0, x1, y0, x1, y1, x0, y1])}<username></username></polygon>\n")
                elif shape.type == ShapeType.POLYGON:
                    out.write(f"    <polygon>{_pts(shape.points)}<username></username></polygon>\n")
                else:
                    mask_name = f"{posixpath.basename(stem)}_mask_{obj_id}.png"
                    self.pending_masks.append((f"Masks/{subset}/{mask_name}", shape.points, f))
                    left, top, right, bottom = shape.points[-4:]
                    out.write(
                        f"    <segm>{text_element('mask', mask_name)}<box><xmin>{fmt(left)}</xmin>"
                        f"<ymin>{fmt(top)}</ymin><xmax>{fmt(right)}</xmax><ymax>{fmt(bottom)}</ymax></box>"
                        "<username></username></segm>\n"
                    )
                out.write("    " + text_element("attributes", self.attributes(flat, label)) + "\n  </object>\n")
            out.write("</annotation>\n")

    def write(self, archive: ExportArchive, images: ImageProvider | None) -> None:
        for fa in group_by_frame(self.view):
            subset = fa.frame.subset or "default"
            self.pending_masks = []
            self.frame(archive, fa, subset)
            for name, points, frame in self.pending_masks:
                archive.write_bytes(name, _mask_png(points, frame), compress=False)
        archive.write_images(self.view, images, lambda fr: f"{fr.subset or 'default'}/{fr.name}")


@exporter(name="LabelMe", ext="ZIP", version="3.0")
def export_labelme(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    with ExportArchive(out) as archive:
        _Writer(view).write(archive, images)


# --------------------------------------------------------------------------- import


def _read_mask(data: bytes, file: str, frame: FrameInfo) -> Any:
    import numpy as np

    image = open_mask_image(data, file, frame)
    if image.mode == "RGBA":
        bitmap = np.asarray(image)[..., 3] > 0
    else:
        array = np.asarray(image.convert("RGB") if image.mode not in ("L", "1", "P") else image)
        bitmap = np.asarray(array.any(axis=2) if array.ndim == 3 else array > 0, dtype=bool)
    if bitmap.shape != (frame.height, frame.width):
        raise FormatError(
            f"{file}: mask size {bitmap.shape[1]}x{bitmap.shape[0]} is not the frame's {frame.width}x{frame.height}"
        )
    return bitmap


class _Reader:
    def __init__(self, view: DatasetView, files: ImportFiles) -> None:
        self.view = view
        self.files = files
        self.labels = LabelMap(view.labels)
        self.frames = FrameResolver(view)
        self.pairs: list[tuple[LabeledShape, str | None]] = []
        self.group_base = 0

    def read(self, name: str) -> None:
        with self.files.open(name) as stream:
            root = parse_xml(stream, name)
        if root.tag != "annotation":
            return  # not a LabelMe file (e.g. another tool's XML next to it)
        filename = root.child_text("filename") or ""
        number = self.frames.frames.get(filename) if filename else None
        frame = self.frames.by_number[number] if number is not None else self.frames.resolve(name[:-4], name)
        objects = [o for o in root.findall("object") if (o.child_text("deleted", "0") or "0") != "1"]
        leaders: dict[str, str] = {}
        for obj in objects:
            parts = obj.find("parts")
            obj_id = obj.child_text("id", "") or ""
            owner = (parts.child_text("ispartof", "") or "") if parts is not None else ""
            has = (parts.child_text("hasparts", "") or "") if parts is not None else ""
            if owner:
                leaders[obj_id] = owner
            elif has:
                leaders[obj_id] = obj_id
        group_of = {key: i + 1 + self.group_base for i, key in enumerate(sorted(set(leaders.values())))}
        self.group_base += len(group_of)
        for obj in objects:
            obj_id = obj.child_text("id", "") or ""
            group = group_of.get(leaders.get(obj_id, ""), 0)
            self.object(obj, frame, name, group)

    def object(self, obj: XmlNode, frame: FrameInfo, file: str, group: int) -> None:
        where = f"{file}, line {obj.line}"
        label = self.labels.resolve(obj.child_text("name", "") or "", where)
        values = parse_attributes(obj.child_text("attributes", "") or "")
        try:
            rotation = float(values.get("rotation", 0) or 0) % 360.0
        except ValueError:
            raise format_error(file, f"rotation '{values['rotation']}' is not a number", obj.line) from None
        common: dict[str, Any] = {
            "frame": frame.frame,
            "label_id": label.id,
            "occluded": (obj.child_text("occluded", "no") or "no").lower() in ("yes", "1", "true"),
            "group": group,
            "attributes": self.labels.attributes(label, values, where, ignore=_SPECIAL),
        }
        segm = obj.find("segm")
        polygon = obj.find("polygon")
        if segm is not None:
            mask_name = segm.child_text("mask")
            if not mask_name:
                raise format_error(file, "<segm> has no <mask>", segm.line)
            check_label(label, ShapeType.MASK, where)
            bitmap = _read_mask(self.files.read_bytes(self.mask_path(mask_name, file, segm.line)), mask_name, frame)
            points = bitmap_to_cvat_mask(bitmap)
            if points is None:
                return
            shape = LabeledShape(ShapeType.MASK, points=points, **common)
        elif polygon is not None:
            pts: list[float] = []
            for pt in polygon.findall("pt"):
                for key in ("x", "y"):
                    text = pt.child_text(key)
                    try:
                        pts.append(float(text if text is not None else ""))
                    except ValueError:
                        raise format_error(file, f"<pt> has a bad <{key}> '{text}'", pt.line) from None
            if (obj.child_text("type", "") or "") == "bounding_box":
                if not pts:
                    raise format_error(file, "a bounding_box has no points", polygon.line)
                xs, ys = pts[0::2], pts[1::2]
                box = [min(xs), min(ys), max(xs), max(ys)]
                shape = LabeledShape(
                    ShapeType.RECTANGLE,
                    points=checked(ShapeType.RECTANGLE, box, file, polygon.line, rotation, frame=frame, label=label),
                    rotation=rotation,
                    **common,
                )
            else:
                pts = checked(ShapeType.POLYGON, pts, file, polygon.line, frame=frame, label=label)
                shape = LabeledShape(ShapeType.POLYGON, points=pts, **common)
        else:
            raise format_error(file, "<object> has neither <polygon> nor <segm>", obj.line)
        self.pairs.append((shape, values.get("track_id")))

    def mask_path(self, mask_name: str, file: str, line: int) -> str:
        found = self.files.find(posixpath.basename(mask_name))
        if not found:
            raise format_error(file, f"mask file '{mask_name}' is missing from the archive", line)
        xml_dir = posixpath.dirname(file)
        return max(found, key=lambda n: len(posixpath.commonprefix([n, xml_dir])))

    def result(self) -> LabeledData:
        tracks, plain = rebuild_tracks(self.pairs, self.view)
        return LabeledData(shapes=plain, tracks=tracks)


@importer(name="LabelMe", ext="ZIP", version="3.0")
def import_labelme(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    with open_import(src, filename) as files:
        if not files.is_archive:
            raise FormatError(f"{filename}: LabelMe needs a ZIP archive")
        names = sorted(n for n in files.names() if n.lower().endswith(".xml"))
        if not names:
            raise FormatError(f"{filename}: no LabelMe .xml files in the archive")
        reader = _Reader(view, files)
        for name in names:
            reader.read(name)
        return reader.result()
