"""CVAT's own XML: exporters "CVAT for images 1.1" and "CVAT for video 1.1", importer "CVAT 1.1".

Archive (task export): ``annotations.xml`` and, with images, ``images/<frame name>``.

* *for images*: one ``<image>`` per frame (empty ones too) with its shapes and tags; tracks are
  split into per-frame shapes (track identity and keyframes are lost).
* *for video*: ``<track>`` elements with every frame of the track (``keyframe``, ``outside``
  flags); plain shapes become 1- or 2-frame tracks (a shape then an ``outside`` frame), so a
  re-import yields tracks, not shapes. Tags are not written (as in CVAT); the importer still
  reads ``<tag frame=...>`` elements outside images.
* Both: coordinates are written with two decimals (CVAT's ``%.2f``); ``score`` and shape /
  track ids are not carried; everything else (types, rotation, occluded, z_order, group,
  source, attributes, masks, skeletons with their points' outside/occluded) round-trips.

The exporters stream the XML into the ZIP member (one write per image, deflated on a worker
thread); in *for images*, unrotated boxes, polygons, polylines and points without attributes or
groups get a cached %-template each and every image is formatted with one ``%``
(``_Writer.image_shapes``), byte for byte what the general writer gives (tested).

The importer streams the XML with SAX (defusedxml: a DOCTYPE, and so any entity, is refused),
so errors name the file and the line; it accepts a bare ``.xml`` or a ZIP in which every
``*.xml`` is read.
"""

from __future__ import annotations

import xml.sax
import xml.sax.handler
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

from cvat_serverless.domain.annotations import (
    AttributeVal,
    DatasetView,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    ShapeType,
    TrackedShape,
    check_bounds,
    check_geometry,
    check_label_type,
)
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.domain.interpolation import FrameShape, interpolate_track

from ._xml_tree import sax_parse
from .archive import ExportArchive, open_import
from .common import FrameMap, ImageProvider, LabelMap, shapes_by_frame, track_stop_frame
from .registry import exporter, importer

ANNOTATIONS_XML = "annotations.xml"

_TAG_OF = {
    ShapeType.RECTANGLE: "box",
    ShapeType.POLYGON: "polygon",
    ShapeType.POLYLINE: "polyline",
    ShapeType.POINTS: "points",
    ShapeType.ELLIPSE: "ellipse",
    ShapeType.CUBOID: "cuboid",
    ShapeType.MASK: "mask",
    ShapeType.SKELETON: "skeleton",
}
_TYPE_OF = {v: k for k, v in _TAG_OF.items()}
_CUBOID_KEYS = (
    "xtl1",
    "ytl1",
    "xbl1",
    "ybl1",
    "xtr1",
    "ytr1",
    "xbr1",
    "ybr1",
    "xtl2",
    "ytl2",
    "xbl2",
    "ybl2",
    "xtr2",
    "ytr2",
    "xbr2",
    "ybr2",
)


_PAIR = "{:.2f},{:.2f}".format
# What _Writer.geometry + z_order + the closing tag give for an unrotated box (image mode).
_BOX = ' xtl="%.2f" ytl="%.2f" xbr="%.2f" ybr="%.2f" z_order="%s"></box>\n'
# Enum members as module constants: ``ShapeType.RECTANGLE`` is a ~100 ns class lookup per use.
_RECTANGLE = ShapeType.RECTANGLE
_POINT_LISTS = frozenset({ShapeType.POLYGON, ShapeType.POLYLINE, ShapeType.POINTS})


def _f(value: float) -> str:
    return f"{value:.2f}"


def _bool(value: bool) -> str:
    return "1" if value else "0"


# --------------------------------------------------------------------------- writing


class _Writer:
    def __init__(self, view: DatasetView, out: IO[str]) -> None:
        self.view = view
        self.out = out
        self.labels: dict[int, LabelSpec] = view.label_index()
        self._quoted: dict[str, str] = {}
        # (label id, source, occluded, type, number of coordinates) -> the whole element as
        # one %-template: the cached head, then the geometry and z_order slots
        self._templates: dict[tuple[int, str, bool, ShapeType, int], str] = {}
        self.spec_names: dict[int, dict[int, str]] = {
            label_id: {a.id: a.name for a in label.attributes} for label_id, label in self.labels.items()
        }

    def label_name(self, label_id: int) -> str:
        label = self.labels.get(label_id)
        if label is None:
            raise FormatError(f"label id {label_id} is not in the task")
        return label.name

    def meta(self) -> None:
        v = self.view
        w = self.out.write
        now = datetime.now(UTC).isoformat()
        frames = [f.frame for f in v.frames]
        subsets = sorted({f.subset for f in v.frames})
        w('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n')
        w("    <task>\n")
        w(f"      <id>{v.task_id if v.task_id is not None else ''}</id>\n")
        w(f"      <name>{escape(v.name)}</name>\n      <size>{len(v.frames)}</size>\n")
        w(f"      <mode>{escape(v.mode)}</mode>\n      <overlap>0</overlap>\n")
        w("      <bugtracker></bugtracker>\n")
        w(f"      <created>{now}</created>\n      <updated>{now}</updated>\n")
        w(f"      <subset>{escape(subsets[0] if len(subsets) == 1 else '')}</subset>\n")
        w(f"      <start_frame>{min(frames, default=0)}</start_frame>\n")
        w(f"      <stop_frame>{max(frames, default=0)}</stop_frame>\n      <frame_filter></frame_filter>\n")
        w("      <labels>\n")
        for label in v.labels:
            self.label(label, None)
            for sub in label.sublabels:
                self.label(sub, label.name)
        w("      </labels>\n")
        if v.mode == "interpolation" and v.frames:
            w(
                f"      <original_size>\n        <width>{v.frames[0].width}</width>\n"
                f"        <height>{v.frames[0].height}</height>\n      </original_size>\n"
            )
        w("    </task>\n")
        w(f"    <dumped>{now}</dumped>\n  </meta>\n")

    def label(self, label: LabelSpec, parent: str | None) -> None:
        w = self.out.write
        w(f"        <label>\n          <name>{escape(label.name)}</name>\n")
        w(f"          <color>{escape(label.color)}</color>\n          <type>{label.type}</type>\n")
        w("          <attributes>\n")
        for a in label.attributes:
            w(
                f"            <attribute>\n              <name>{escape(a.name)}</name>\n"
                f"              <mutable>{a.mutable}</mutable>\n"
                f"              <input_type>{a.input_type}</input_type>\n"
                f"              <default_value>{escape(a.default_value)}</default_value>\n"
                f"              <values>{escape(chr(10).join(a.values))}</values>\n"
                f"            </attribute>\n"
            )
        w("          </attributes>\n")
        if parent is not None:
            w(f"          <parent>{escape(parent)}</parent>\n")
        if label.svg:
            w(f"          <svg>{escape(label.svg)}</svg>\n")
        w("        </label>\n")

    def attrs(self, label_id: int, attributes: Iterable[AttributeVal], indent: str) -> str:
        names = self.spec_names.get(label_id, {})
        parts = []
        for a in attributes:
            name = names.get(a.spec_id)
            if name is not None:
                parts.append(f"{indent}<attribute name={quoteattr(name)}>{escape(a.value)}</attribute>\n")
        return "".join(parts)

    @staticmethod
    def geometry(type_: ShapeType, points: Sequence[float], rotation: float) -> str:
        if type_ == ShapeType.RECTANGLE:
            g = ' xtl="%.2f" ytl="%.2f" xbr="%.2f" ybr="%.2f"' % tuple(points)  # noqa: UP031 - hot path
        elif type_ == ShapeType.ELLIPSE:
            cx, cy = points[0], points[1]
            g = f' cx="{_f(cx)}" cy="{_f(cy)}" rx="{_f(points[2] - cx)}" ry="{_f(cy - points[3])}"'
        elif type_ == ShapeType.CUBOID:
            g = "".join(f' {k}="{_f(p)}"' for k, p in zip(_CUBOID_KEYS, points, strict=True))
        elif type_ == ShapeType.MASK:
            left, top, right, bottom = (round(v) for v in points[-4:])
            rle = ", ".join(str(round(v)) for v in points[:-4])
            g = f' rle="{rle}" left="{left}" top="{top}" width="{right - left + 1}" height="{bottom - top + 1}"'
        elif type_ == ShapeType.SKELETON:
            g = ""
        else:
            pts = ";".join(map(_PAIR, points[0::2], points[1::2]))
            g = f' points="{pts}"'
        if rotation and type_ in (ShapeType.RECTANGLE, ShapeType.ELLIPSE):
            g += f' rotation="{_f(rotation)}"'
        return g

    def quoted(self, value: str) -> str:
        q = self._quoted.get(value)
        if q is None:
            q = self._quoted[value] = quoteattr(value)
        return q

    def shape(self, shape: LabeledShape, indent: str, extra: str = "") -> str:
        tag = _TAG_OF[shape.type]
        head = (
            f"{indent}<{tag} label={self.quoted(self.label_name(shape.label_id))}"
            f' source={self.quoted(shape.source)} occluded="{_bool(shape.occluded)}"{extra}'
        )
        head += self.geometry(shape.type, shape.points, shape.rotation)
        head += f' z_order="{shape.z_order}"'
        if shape.group:
            head += f' group_id="{shape.group}"'
        body = self.attrs(shape.label_id, shape.attributes, indent + "  ")
        for element in shape.elements:
            body += self.shape(element, indent + "  ", f' outside="{_bool(element.outside)}"')
        if not body:
            return head + "></" + tag + ">\n"
        return f"{head}>\n{body}{indent}</{tag}>\n"

    def tag(self, tag: LabeledImage, indent: str, extra: str = "") -> str:
        head = f"{indent}<tag{extra} label={quoteattr(self.label_name(tag.label_id))} source={quoteattr(tag.source)}"
        if tag.group:
            head += f' group_id="{tag.group}"'
        body = self.attrs(tag.label_id, tag.attributes, indent + "  ")
        return f"{head}>\n{body}{indent}</tag>\n" if body else head + "></tag>\n"

    def image_shape(self, shape: LabeledShape) -> str:
        """``self.shape(shape, "    ")``, byte for byte, by the path :meth:`images` takes."""
        templates: list[str] = []
        values: list[Any] = []
        self.image_shapes((shape,), templates, values)
        return "".join(templates) % tuple(values)

    def image_shapes(self, shapes: Iterable[LabeledShape], templates: list[str], values: list[Any]) -> None:
        """Add the ``<image>`` elements of ``shapes`` as %-templates and their values: the text
        is ``"".join(templates) % tuple(values)``, one ``%`` per image (a call per shape costs
        more than formatting its numbers). The common case (a box without rotation, a polygon,
        polyline or points; no attributes, elements or group) gets a cached template; the rest
        is written by :meth:`shape` and added as literal text ('%' doubled)."""
        add_template = templates.append
        add_values = values.extend
        add_value = values.append
        cached = self._templates.get
        for shape in shapes:
            kind = shape.type
            p = shape.points
            if (
                shape.attributes
                or shape.group
                or shape.elements
                # a wrong number of coordinates must fail here, not shift the image's values
                or ((shape.rotation or len(p) != 4) if kind is _RECTANGLE else kind not in _POINT_LISTS or len(p) % 2)
            ):
                add_template(self.shape(shape, "    ").replace("%", "%%"))
                continue
            key = (shape.label_id, shape.source, shape.occluded, kind, len(p))
            template = cached(key)
            if template is None:
                template = self._template(key)
            add_template(template)
            add_values(p)
            add_value(shape.z_order)

    def _template(self, key: tuple[int, str, bool, ShapeType, int]) -> str:
        label_id, source, occluded, kind, n = key
        head = (
            f"    <{_TAG_OF[kind]} label={self.quoted(self.label_name(label_id))}"
            f' source={self.quoted(source)} occluded="{_bool(occluded)}"'
        ).replace("%", "%%")
        if kind is _RECTANGLE:
            tail = _BOX
        else:
            pairs = ";".join(["%.2f,%.2f"] * (n // 2))
            tail = f' points="{pairs}" z_order="%s"></{_TAG_OF[kind]}>\n'
        template = self._templates[key] = head + tail
        return template

    def images(self) -> None:
        subsets = {f.subset for f in self.view.frames}
        write = self.out.write
        add_shapes = self.image_shapes
        for fs in shapes_by_frame(self.view):
            f = fs.frame
            sub = f" subset={quoteattr(f.subset)}" if len(subsets) > 1 else ""
            head = f'  <image id="{f.frame}" name={quoteattr(f.name)}{sub} width="{f.width}" height="{f.height}">\n'
            templates = [head.replace("%", "%%")]
            values: list[Any] = []
            add_shapes(fs.shapes, templates, values)
            if fs.tracked:
                add_shapes([flat.shape for flat in fs.tracked], templates, values)
            for tag in fs.tags:
                templates.append(self.tag(tag, "    ").replace("%", "%%"))
            templates.append("  </image>\n")
            write("".join(templates) % tuple(values))

    def track_frame(  # noqa: PLR0917 - recursive helper
        self,
        fs: FrameShape,
        label_id: int,
        attributes: Sequence[AttributeVal],
        indent: str,
        sublabels: Sequence[int] = (),
        element_attrs: Sequence[Sequence[AttributeVal]] = (),
        *,
        element: bool = False,
    ) -> str:
        tag = _TAG_OF[fs.type]
        label = f" label={quoteattr(self.label_name(label_id))}" if element else ""
        head = (
            f'{indent}<{tag}{label} frame="{fs.frame}" keyframe="{_bool(fs.keyframe)}"'
            f' outside="{_bool(fs.outside)}" occluded="{_bool(fs.occluded)}"'
        )
        head += self.geometry(fs.type, fs.points, fs.rotation)
        head += f' z_order="{fs.z_order}"'
        body = self.attrs(label_id, [*attributes, *fs.attributes], indent + "  ")
        for el, sub_id, el_attrs in zip(fs.elements, sublabels, element_attrs, strict=False):
            body += self.track_frame(el, sub_id, el_attrs, indent + "  ", element=True)
        if not body:
            return head + f"></{tag}>\n"
        return f"{head}>\n{body}{indent}</{tag}>\n"

    def tracks(self) -> None:
        data = self.view.annotations
        stop = self.view.last_frame()
        frames = {f.frame for f in self.view.frames}
        next_id = 0
        for track in data.tracks:
            self._track(next_id, track, stop, frames)
            next_id += 1
        for shape in data.shapes:
            self._track(next_id, _shape_as_track(shape, stop), stop, frames)
            next_id += 1

    def _track(self, track_id: int, track: LabeledTrack, stop: int, frames: set[int]) -> None:
        head = (
            f'  <track id="{track_id}" label={quoteattr(self.label_name(track.label_id))}'
            f" source={quoteattr(track.source)}"
        )
        if track.group:
            head += f' group_id="{track.group}"'
        parts = [head + ">\n"]
        sublabels = [e.label_id for e in track.elements]
        el_attrs = [e.attributes for e in track.elements]
        for fs in interpolate_track(
            track, stop_frame=track_stop_frame(track, stop), include_outside=True, frames=frames
        ):
            parts.append(self.track_frame(fs, track.label_id, track.attributes, "    ", sublabels, el_attrs))
        parts.append("  </track>\n")
        self.out.write("".join(parts))


def _shape_as_track(shape: LabeledShape, stop: int) -> LabeledTrack:
    def key(s: LabeledShape, frame: int, outside: bool) -> TrackedShape:
        return TrackedShape(
            s.type,
            frame,
            s.points,
            s.occluded,
            outside,
            s.z_order,
            s.rotation,
            [] if outside else s.attributes,
        )

    shapes = [key(shape, shape.frame, shape.outside)]
    if shape.frame + 1 <= stop and not shape.outside:
        shapes.append(key(shape, shape.frame + 1, True))
    elements = []
    for e in shape.elements:
        el_shapes = [key(e, shape.frame, e.outside)]
        if len(shapes) > 1:
            el_shapes.append(key(e, shape.frame + 1, True))
        elements.append(LabeledTrack(frame=shape.frame, label_id=e.label_id, shapes=el_shapes))
    return LabeledTrack(
        frame=shape.frame,
        label_id=shape.label_id,
        shapes=shapes,
        group=shape.group,
        source=shape.source,
        elements=elements,
    )


def _export(view: DatasetView, out: BinaryIO, images: ImageProvider | None, *, video: bool) -> None:
    with ExportArchive(out) as archive:
        with archive.open_text_pipelined(ANNOTATIONS_XML) as text:
            writer = _Writer(view, text)
            writer.meta()
            if video:
                writer.tracks()
            else:
                writer.images()
            text.write("</annotations>\n")
        archive.write_images(view, images, lambda f: f"images/{f.name}")


@exporter(name="CVAT for images", ext="ZIP", version="1.1")
def export_cvat_images(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, video=False)


@exporter(name="CVAT for video", ext="ZIP", version="1.1")
def export_cvat_video(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, video=True)


# --------------------------------------------------------------------------- reading


class _Handler(xml.sax.handler.ContentHandler):
    def __init__(self, view: DatasetView, file: str) -> None:
        super().__init__()
        self.file = file
        self.labels = LabelMap(view.labels)
        self.frames = FrameMap(view.frames)
        self.valid_frames = {f.frame for f in view.frames}
        self.result = LabeledData()
        self.locator: Any = None
        self.depth_meta = 0
        self.frame: int | None = None
        self.track: dict[str, Any] | None = None
        self.stack: list[dict[str, Any]] = []  # open shapes / tags (skeleton -> elements)
        self.attr_name: str | None = None
        self.attr_text: list[str] = []

    # ---- helpers

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def where(self) -> str:
        line = self.locator.getLineNumber() if self.locator is not None else None
        return f"{self.file}, line {line}" if line is not None else self.file

    def error(self, message: str) -> FormatError:
        return FormatError(f"{self.where()}: {message}")

    def num(self, attrs: Any, key: str) -> float:
        raw = attrs.get(key)
        if raw is None:
            raise self.error(f"attribute '{key}' is missing")
        try:
            return float(raw)
        except ValueError:
            raise self.error(f"attribute '{key}'='{raw}' is not a number") from None

    def integer(self, attrs: Any, key: str, default: int | None = 0) -> int:
        """An integer attribute (``default`` when absent or empty; ``None``: it is required)."""
        raw = attrs.get(key)
        if raw is None or (default is not None and not raw.strip()):
            if default is None:
                raise self.error(f"attribute '{key}' is missing")
            return default
        try:
            return int(raw)
        except ValueError:
            raise self.error(f"attribute '{key}'='{raw[:50]}' is not an integer") from None

    def flag(self, attrs: Any, key: str) -> bool:
        return str(attrs.get(key, "0")).strip().lower() in ("1", "true")

    def points(self, tag: str, attrs: Any, frame: int | None = None) -> tuple[ShapeType, list[float], float]:
        type_ = _TYPE_OF[tag]
        rotation = self.num(attrs, "rotation") if (attrs.get("rotation") or "").strip() else 0.0
        if type_ == ShapeType.RECTANGLE:
            pts = [self.num(attrs, k) for k in ("xtl", "ytl", "xbr", "ybr")]
        elif type_ == ShapeType.ELLIPSE:
            cx, cy, rx, ry = (self.num(attrs, k) for k in ("cx", "cy", "rx", "ry"))
            pts = [cx, cy, cx + rx, cy - ry]
        elif type_ == ShapeType.CUBOID:
            pts = [self.num(attrs, k) for k in _CUBOID_KEYS]
        elif type_ == ShapeType.MASK:
            try:
                runs = [float(int(v)) for v in str(attrs.get("rle", "")).split(",") if v.strip()]
            except ValueError:
                raise self.error("mask 'rle' must be comma-separated integers") from None
            left, top = self.num(attrs, "left"), self.num(attrs, "top")
            width, height = self.num(attrs, "width"), self.num(attrs, "height")
            pts = [*runs, left, top, left + width - 1, top + height - 1]
        elif type_ == ShapeType.SKELETON:
            pts = []
        else:
            raw = attrs.get("points")
            if raw is None:
                raise self.error("attribute 'points' is missing")
            try:
                pts = [float(v) for pair in raw.split(";") if pair.strip() for v in pair.split(",")]
            except ValueError:
                raise self.error(f"'points'='{raw[:50]}' is not 'x,y;x,y;...'") from None
        why = check_geometry(type_, pts, rotation)
        if why is None and frame in self.valid_frames:
            # Bounded before anything is stored: a mask box beyond the frame would make every
            # later export of the task allocate its size.
            info = self.frames.info(frame)
            why = check_bounds(type_, pts, info.width, info.height)
        if why:
            raise self.error(why)
        return type_, pts, rotation

    # ---- SAX events

    def startElement(self, name: str, attrs: Any) -> None:
        if name == "meta" or self.depth_meta:
            self.depth_meta += 1
            return
        if name == "image":
            raw_name = attrs.get("name")
            frame = self.frames.get(raw_name) if raw_name is not None else None
            if frame is None and attrs.get("id") is not None and raw_name is None:
                frame = self.integer(attrs, "id", None)
            if frame is None:
                raise self.error(f"could not match image '{raw_name}' with any task frame")
            self.frame = frame
        elif name == "track":
            label = self.labels.resolve(attrs.get("label", ""), self.where())
            self.track = {
                "label": label,
                "source": attrs.get("source", "manual"),
                "group": self.integer(attrs, "group_id"),
                "shapes": [],
                "elements": {},
            }
        elif name in _TYPE_OF:
            self.start_shape(name, attrs)
        elif name == "tag":
            label = self.labels.resolve(attrs.get("label", ""), self.where())
            why = check_label_type(label, None)
            if why:
                raise self.error(why)
            frame = self.frame
            if attrs.get("frame") is not None:
                frame = self.integer(attrs, "frame", None)
            if frame is None:
                raise self.error("a <tag> outside an <image> needs a 'frame'")
            self.stack.append(
                {
                    "kind": "tag",
                    "label": label,
                    "frame": frame,
                    "source": attrs.get("source", "manual"),
                    "group": self.integer(attrs, "group_id"),
                    "attrs": {},
                }
            )
        elif name == "attribute":
            self.attr_name = attrs.get("name", "")
            self.attr_text = []

    def start_shape(self, tag: str, attrs: Any) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and parent.get("kind") == "shape":
            label = self.labels.sublabel(parent["label"], attrs.get("label", ""), self.where())
        elif self.track is not None:
            label = self.track["label"]
        else:
            label = self.labels.resolve(attrs.get("label", ""), self.where())
        if self.track is None and parent is None and self.frame is None:
            raise self.error(f"<{tag}> is outside an <image> or <track>")
        frame_raw = attrs.get("frame")
        frame = (
            self.integer(attrs, "frame", None)
            if frame_raw is not None
            else (parent["frame"] if parent is not None else self.frame)
        )
        type_, pts, rotation = self.points(tag, attrs, frame)
        why = check_label_type(label, type_)
        if why:
            raise self.error(why)
        self.stack.append(
            {
                "kind": "shape",
                "type": type_,
                "label": label,
                "points": pts,
                "rotation": rotation,
                "frame": frame,
                "occluded": self.flag(attrs, "occluded"),
                "outside": self.flag(attrs, "outside"),
                "keyframe": self.flag(attrs, "keyframe") if "keyframe" in attrs else True,
                "z_order": self.integer(attrs, "z_order"),
                "source": attrs.get("source", "manual"),
                "group": self.integer(attrs, "group_id"),
                "attrs": {},
                "elements": [],
                "line": self.where(),
            }
        )

    def characters(self, content: str) -> None:
        if self.attr_name is not None:
            self.attr_text.append(content)

    def endElement(self, name: str) -> None:
        if self.depth_meta:
            self.depth_meta -= 1
            return
        if name == "attribute":
            if self.attr_name is not None and self.stack:
                self.stack[-1]["attrs"][self.attr_name] = "".join(self.attr_text)
            self.attr_name = None
        elif name == "image":
            self.frame = None
        elif name == "tag":
            item = self.stack.pop()
            self.check_frame(item["frame"])
            self.result.tags.append(
                LabeledImage(
                    frame=item["frame"],
                    label_id=item["label"].id,
                    group=item["group"],
                    source=item["source"],
                    attributes=self.labels.attributes(item["label"], item["attrs"], self.where()),
                )
            )
        elif name in _TYPE_OF:
            item = self.stack.pop()
            if self.stack and self.stack[-1].get("kind") == "shape":
                self.stack[-1]["elements"].append(item)
            elif self.track is not None:
                self.track["shapes"].append(item)
            else:
                self.result.shapes.append(self.to_shape(item))
        elif name == "track":
            self.finish_track()
            self.track = None

    def check_frame(self, frame: int) -> None:
        if frame not in self.valid_frames:
            raise self.error(f"frame {frame} is not in the task")

    def to_shape(self, item: dict[str, Any]) -> LabeledShape:
        self.check_frame(item["frame"])
        return LabeledShape(
            type=item["type"],
            frame=item["frame"],
            label_id=item["label"].id,
            points=item["points"],
            occluded=item["occluded"],
            outside=item["outside"],
            z_order=item["z_order"],
            rotation=item["rotation"],
            group=item["group"],
            source=item["source"],
            attributes=self.labels.attributes(item["label"], item["attrs"], item["line"]),
            elements=[self.to_shape(e) for e in item["elements"]],
        )

    def keyframes(self, items: list[dict[str, Any]], label: LabelSpec) -> tuple[list[TrackedShape], list[AttributeVal]]:
        keys = [i for i in items if i["keyframe"]] or items[:1]
        immutable: list[AttributeVal] = []
        shapes = []
        for n, item in enumerate(keys):
            self.check_frame(item["frame"])
            attrs = self.labels.attributes(label, item["attrs"], item["line"])
            imm, mut = self.labels.split(label, attrs)
            if n == 0:
                immutable = imm
            shapes.append(
                TrackedShape(
                    type=item["type"],
                    frame=item["frame"],
                    points=item["points"],
                    occluded=item["occluded"],
                    outside=item["outside"],
                    z_order=item["z_order"],
                    rotation=item["rotation"],
                    attributes=mut,
                )
            )
        shapes.sort(key=lambda s: s.frame)
        return shapes, immutable

    def finish_track(self) -> None:
        assert self.track is not None
        label = self.track["label"]
        items = self.track["shapes"]
        if not items:
            return
        shapes, immutable = self.keyframes(items, label)
        elements: list[LabeledTrack] = []
        if shapes[0].type == ShapeType.SKELETON:
            per_label: dict[int, list[dict[str, Any]]] = {}
            sublabels: dict[int, LabelSpec] = {}
            for item in items:
                for e in item["elements"]:
                    e.setdefault("keyframe", True)
                    per_label.setdefault(e["label"].id, []).append(e)
                    sublabels[e["label"].id] = e["label"]
            for sub_id, el_items in per_label.items():
                el_shapes, el_imm = self.keyframes(el_items, sublabels[sub_id])
                elements.append(
                    LabeledTrack(
                        frame=el_shapes[0].frame,
                        label_id=sub_id,
                        shapes=el_shapes,
                        attributes=el_imm,
                        source=self.track["source"],
                    )
                )
        self.result.tracks.append(
            LabeledTrack(
                frame=shapes[0].frame,
                label_id=label.id,
                shapes=shapes,
                group=self.track["group"],
                source=self.track["source"],
                attributes=immutable,
                elements=elements,
            )
        )


def parse_cvat_xml(stream: IO[bytes], view: DatasetView, file: str) -> LabeledData:
    handler = _Handler(view, file)
    sax_parse(stream, handler, file)  # untrusted input: defusedxml, no DTD, no entities
    return handler.result


@importer(name="CVAT", ext="XML, ZIP", version="1.1")
def import_cvat(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    result = LabeledData()
    with open_import(src, filename) as files:
        names = [n for n in files.names() if n.lower().endswith(".xml")]
        if not names:
            raise FormatError(f"{filename}: no .xml annotation file found (expected {ANNOTATIONS_XML})")
        for name in sorted(names):
            with files.open(name) as stream:
                part = parse_cvat_xml(stream, view, name)
            result.tags.extend(part.tags)
            result.shapes.extend(part.shapes)
            result.tracks.extend(part.tracks)
    return result
