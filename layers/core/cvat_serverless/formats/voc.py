"""PASCAL VOC 1.1, exporter and importer.

Archive (as Datumaro's ``voc`` converter writes it for CVAT, ``label_map="source"``)::

    Annotations/<stem>.xml              one per frame: filename, size, segmented, <object>s
    ImageSets/Main/<subset>.txt         every frame's stem
    ImageSets/Main/<label>_<subset>.txt tags: "<stem>  1" / "<stem> -1" (labels used by tags)
    ImageSets/Segmentation/<subset>.txt frames that have polygons or masks
    SegmentationClass/<stem>.png        class index per pixel (palette PNG, label-map colours)
    SegmentationObject/<stem>.png       instance index per pixel (palette PNG, VOC colours)
    JPEGImages/<frame name>             only with images
    labelmap.txt                        "# label:color_rgb:parts:actions", background first

``<subset>`` is the task subset (``default`` when there is none).

What the format keeps:

* rectangles as ``<object>``\\ s: label, zero-based float ``<bndbox>`` (exact to 6 decimals),
  ``<occluded>``, the label's ``truncated`` / ``difficult`` / ``pose`` attributes in their own
  elements, other attributes plus a non-zero ``rotation`` and, for track frames,
  ``track_id`` / ``keyframe`` in Datumaro's ``<attributes>`` block. The importer rebuilds tracks
  from ``track_id`` (a keyframe on every frame, an ``outside`` keyframe closing gaps and the
  end), so box tracks survive except for their keyframe positions;
* polygons and masks as instance segmentation (painted in ``z_order``, later shapes on top):
  they come back as **masks** (a polygon becomes its rasterised pixels; the pixels a later
  instance covers are lost; at most 254 instances per frame);
* tags as classification lists (frame and label; not ``group`` or attributes).

What it loses (as CVAT's docs say): polylines, points, ellipses, cuboids, skeletons, attributes
of segmentation instances, ``z_order``, ``group``, ``source`` (imported as ``manual``),
``score``, the track identity of polygon/mask tracks.

Import reads that structure, or a flat ZIP of VOC ``*.xml`` files (CVAT accepts both). Without a
``labelmap.txt`` class index ``i`` means the task's ``i``-th label (background is 0), as CVAT's
importer assumes; a label map without colours means VOC's palette by class index (Datumaro).
Objects and instances whose label the task does not have, unknown frames and
malformed files are :class:`FormatError`\\ s that name the file and line (or pixel).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from cvat_serverless.domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabelSpec,
    ShapeType,
    attribute_values,
)
from cvat_serverless.domain.errors import FormatError

from ._raster import Rgb, png_bytes, rasterize, read_png, voc_colormap
from ._xml_tree import XmlNode, parse_xml, text_element
from .archive import ExportArchive, ImportFiles, open_import
from .common import (
    FlatShape,
    FrameAnnotations,
    ImageProvider,
    LabelMap,
    bitmap_to_cvat_mask,
    check_label,
    fmt,
    format_error,
    group_by_frame,
    rebuild_tracks,
)
from .registry import exporter, importer
from .yolo import FrameResolver, checked, stem_of

__all__ = ["VocReader", "export_voc", "import_voc", "label_colors", "paint", "segmentation_instances", "write_labelmap"]

_BUILTIN = ("truncated", "difficult")
MAX_INSTANCES = 254  # 0 is background, 255 is VOC's "void"
_SEGMENTED = {ShapeType.POLYGON, ShapeType.MASK}
_ROOT_MARKER = re.compile(r"(^|/)(Annotations|ImageSets|SegmentationObject|SegmentationClass)/")


# --------------------------------------------------------------------------- label map


def _hex_color(color: str) -> Rgb | None:
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", color.strip())
    if not m:
        return None
    v = int(m.group(1), 16)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def label_colors(labels: Sequence[LabelSpec]) -> list[Rgb]:
    """Colours of ``[background, *labels]``: the task's label colours when they are all set,
    distinct and not black, otherwise VOC's palette (so the class PNG can be read back)."""
    own = [_hex_color(label.color) for label in labels]
    palette = voc_colormap(len(labels) + 1)
    valid = [c for c in own if c is not None and c != (0, 0, 0)]
    if len(valid) == len(labels) and len(set(valid)) == len(valid):
        return [(0, 0, 0), *valid]
    return palette


def write_labelmap(out: IO[str], labels: Sequence[LabelSpec], colors: Sequence[Rgb]) -> None:
    out.write("# label:color_rgb:parts:actions\n")
    out.write("background:0,0,0::\n")
    for label, (r, g, b) in zip(labels, colors[1:], strict=True):
        out.write(f"{label.name}:{r},{g},{b}::\n")


@dataclass(slots=True)
class LabelMapFile:
    names: list[str]  # class index -> name (index 0 is the background)
    colors: list[Rgb]


def read_labelmap(files: ImportFiles, name: str) -> LabelMapFile:
    names: list[str] = []
    colors: list[Rgb | None] = []
    for line_no, raw in enumerate(files.read_text(name).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != 4:
            raise format_error(name, f"expected 'name:r,g,b:parts:actions', got {len(fields)} fields", line_no)
        color: Rgb | None = None
        if fields[1].strip():
            try:
                r, g, b = (int(c) for c in fields[1].split(","))
            except ValueError:
                raise format_error(name, f"colour '{fields[1]}' is not 'r,g,b'", line_no) from None
            color = (r, g, b)
        if fields[0] in names:
            raise format_error(name, f"label '{fields[0]}' is listed twice", line_no)
        names.append(fields[0])
        colors.append(color)
    if "background" not in names:
        names.insert(0, "background")
        colors.insert(0, (0, 0, 0))
    elif names[0] != "background":
        i = names.index("background")
        names.insert(0, names.pop(i))
        colors.insert(0, colors.pop(i))
    full = [c for c in colors if c is not None]
    # a map without colours means VOC's palette by class index (as Datumaro reads and writes it)
    return LabelMapFile(names, full if len(full) == len(colors) else voc_colormap(len(names)))


def default_labelmap(labels: Sequence[LabelSpec]) -> LabelMapFile:
    return LabelMapFile(["background", *(label.name for label in labels)], label_colors(labels))


# --------------------------------------------------------------------------- export


def _object_xml(flat: FlatShape, label: LabelSpec) -> str:
    shape = flat.shape
    values = attribute_values(shape.attributes, label)
    parts = ["  <object>", "    " + text_element("name", label.name)]
    if "pose" in values:
        parts.append("    " + text_element("pose", values["pose"]))
    parts.append("    " + text_element("truncated", int(values.get("truncated", "false").lower() == "true")))
    parts.append("    " + text_element("occluded", int(shape.occluded)))
    parts.append("    " + text_element("difficult", int(values.get("difficult", "false").lower() == "true")))
    x0, y0, x1, y1 = shape.points
    parts.append(
        "    <bndbox>"
        + "".join(text_element(k, fmt(v)) for k, v in (("xmin", x0), ("ymin", y0), ("xmax", x1), ("ymax", y1)))
        + "</bndbox>"
    )
    extra = [(k, v) for k, v in values.items() if k not in ("pose", *_BUILTIN)]
    if shape.rotation:
        extra.append(("rotation", fmt(shape.rotation)))
    if flat.track_id is not None:
        extra.append(("track_id", str(flat.track_id)))
        extra.append(("keyframe", "True" if flat.keyframe else "False"))
    if extra:
        parts.append("    <attributes>")
        for k, v in extra:
            parts.append(f"      <attribute>{text_element('name', k)}{text_element('value', v)}</attribute>")
        parts.append("    </attributes>")
    parts.append("  </object>")
    return "\n".join(parts) + "\n"


def segmentation_instances(fa: FrameAnnotations, types: set[ShapeType]) -> list[LabeledShape]:
    """Visible shapes of ``types`` in painting order (``z_order``, then file order)."""
    shapes = [f.shape for f in fa.shapes if f.shape.type in types]
    return sorted(shapes, key=lambda s: s.z_order)


def paint(
    frame: FrameInfo, instances: Iterable[Sequence[LabeledShape]], class_of: dict[int, int]
) -> tuple[Any, Any, int] | None:
    """(class indices, instance indices, instance count) of a frame, or ``None`` if empty.

    Each instance is one or more shapes of one label (painted with one instance index)."""
    import numpy as np

    classes = np.zeros((frame.height, frame.width), dtype=np.uint8)
    objects = np.zeros((frame.height, frame.width), dtype=np.uint8)
    count = 0
    for shapes in instances:
        cls = class_of.get(shapes[0].label_id, 0) if shapes else 0
        bitmaps = [rasterize(s, frame.width, frame.height) for s in shapes] if cls else []
        painted = [b for b in bitmaps if b is not None and b.any()]
        if not painted:
            continue
        count += 1
        if count > MAX_INSTANCES:
            raise FormatError(f"frame {frame.frame} ('{frame.name}'): more than {MAX_INSTANCES} instances")
        for bitmap in painted:
            classes[bitmap] = cls
            objects[bitmap] = count
    return (classes, objects, count) if count else None


class _VocWriter:
    def __init__(self, view: DatasetView) -> None:
        self.view = view
        self.labels = view.label_index()
        self.class_of = {label.id: i + 1 for i, label in enumerate(view.labels)}
        self.colors = label_colors(view.labels)

    def annotation_xml(self, out: IO[str], fa: FrameAnnotations, segmented: bool) -> None:
        f = fa.frame
        out.write("<annotation>\n")
        out.write("  <folder></folder>\n  " + text_element("filename", f.name) + "\n")
        out.write(
            "  <source><database>Unknown</database><annotation>Unknown</annotation><image>Unknown</image></source>\n"
        )
        out.write(f"  <size><width>{f.width}</width><height>{f.height}</height><depth>3</depth></size>\n")
        out.write(f"  <segmented>{int(segmented)}</segmented>\n")
        for flat in fa.shapes:
            label = self.labels.get(flat.shape.label_id)
            if flat.shape.type == ShapeType.RECTANGLE and label is not None and label.id in self.class_of:
                out.write(_object_xml(flat, label))
        out.write("</annotation>\n")

    def write(self, archive: ExportArchive, images: ImageProvider | None) -> None:
        subsets: dict[str, list[str]] = {}
        segmented: dict[str, list[str]] = {}
        tagged: dict[tuple[int, str], set[str]] = {}
        for fa in group_by_frame(self.view):
            stem = stem_of(fa.frame.name)
            subset = fa.frame.subset or "default"
            subsets.setdefault(subset, []).append(stem)
            painted = paint(fa.frame, [[s] for s in segmentation_instances(fa, _SEGMENTED)], self.class_of)
            if painted is not None:
                classes, instances, _ = painted
                archive.write_bytes(f"SegmentationClass/{stem}.png", png_bytes(classes, self.colors), compress=False)
                archive.write_bytes(
                    f"SegmentationObject/{stem}.png", png_bytes(instances, voc_colormap()), compress=False
                )
                segmented.setdefault(subset, []).append(stem)
            with archive.open_text(f"Annotations/{stem}.xml") as out:
                self.annotation_xml(out, fa, painted is not None)
            for tag in fa.tags:
                tagged.setdefault((tag.label_id, subset), set()).add(stem)
        for subset, stems in subsets.items():
            with archive.open_text(f"ImageSets/Main/{subset}.txt") as out:
                out.writelines(s + "\n" for s in stems)
        for (label_id, subset), positive in tagged.items():
            label = self.labels.get(label_id)
            if label is None:
                continue
            with archive.open_text(f"ImageSets/Main/{label.name}_{subset}.txt") as out:
                out.writelines(f"{s} {1 if s in positive else -1:2d}\n" for s in subsets[subset])
        for subset, stems in segmented.items():
            with archive.open_text(f"ImageSets/Segmentation/{subset}.txt") as out:
                out.writelines(s + "\n" for s in stems)
        with archive.open_text("labelmap.txt") as out:
            write_labelmap(out, self.view.labels, self.colors)
        archive.write_images(self.view, images, lambda fr: f"JPEGImages/{fr.name}")


@exporter(name="PASCAL VOC", ext="ZIP", version="1.1")
def export_voc(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    with ExportArchive(out) as archive:
        _VocWriter(view).write(archive, images)


# --------------------------------------------------------------------------- import


def _float(node: XmlNode, tag: str, file: str) -> float:
    child = node.find(tag)
    if child is None:
        raise format_error(file, f"<{node.tag}> has no <{tag}>", node.line)
    try:
        return float(child.text.strip())
    except ValueError:
        raise format_error(file, f"<{tag}> '{child.text.strip()}' is not a number", child.line) from None


def _flag(node: XmlNode, tag: str) -> bool:
    return (node.child_text(tag, "0") or "0").lower() in ("1", "true")


class VocReader:
    def __init__(self, view: DatasetView, files: ImportFiles) -> None:
        self.view = view
        self.files = files
        self.labels = LabelMap(view.labels)
        self.frames = FrameResolver(view)
        self.shapes: list[tuple[LabeledShape, Any]] = []
        self.tags: list[LabeledImage] = []
        self.root = self._root()
        found = files.find("labelmap.txt")
        self.labelmap = read_labelmap(files, min(found, key=len)) if found else default_labelmap(view.labels)

    def _root(self) -> str:
        markers = [n for n in self.files.names() if _ROOT_MARKER.search(n)]
        if not markers:
            return ""
        best = min(markers, key=len)
        m = _ROOT_MARKER.search(best)
        assert m is not None
        return best[: m.start() + len(m.group(1))]

    def frame_of(self, rel: str, file: str) -> FrameInfo:
        return self.frames.resolve(rel, file)

    # ---- boxes

    def annotation_files(self) -> list[tuple[str, str]]:
        prefix = self.root + "Annotations/"
        out = [(n, n[len(prefix) : -4]) for n in self.files.names() if n.startswith(prefix) and n.endswith(".xml")]
        if not out and not any(n.startswith(self.root + p) for n in self.files.names() for p in ("Segm", "ImageSets")):
            out = [(n, n[:-4]) for n in self.files.names() if n.lower().endswith(".xml")]
        return sorted(out)

    def read_annotation(self, name: str, rel: str) -> None:
        with self.files.open(name) as stream:
            root = parse_xml(stream, name)
        if root.tag != "annotation":
            raise format_error(name, f"the root element is <{root.tag}>, not <annotation>", root.line)
        filename = root.child_text("filename")
        frame = self.frames.frames.get(rel)
        if frame is None and filename:
            frame = self.frames.frames.get(filename)
        info = self.frames.by_number[frame] if frame is not None else self.frame_of(rel, name)
        for obj in root.findall("object"):
            self.read_object(obj, info, name)

    def read_object(self, obj: XmlNode, frame: FrameInfo, file: str) -> None:
        where = f"{file}, line {obj.line}"
        label = self.labels.resolve(obj.child_text("name", "") or "", where)
        box = obj.find("bndbox")
        if box is None:
            raise format_error(file, "<object> has no <bndbox>", obj.line)
        points = [_float(box, k, file) for k in ("xmin", "ymin", "xmax", "ymax")]
        values: dict[str, str] = {}
        attrs = obj.find("attributes")
        for attr in attrs.findall("attribute") if attrs is not None else ():
            key = attr.child_text("name")
            if key is None:
                raise format_error(file, "<attribute> has no <name>", attr.line)
            values[key] = attr.child_text("value", "") or ""
        for key in _BUILTIN:
            if label.attribute_by_name(key) is not None:
                values[key] = "true" if _flag(obj, key) else "false"
        pose = obj.child_text("pose")
        if pose is not None and label.attribute_by_name("pose") is not None:
            values["pose"] = pose
        try:
            rotation = float(values.get("rotation", 0) or 0) % 360.0
        except ValueError:
            raise format_error(file, f"rotation '{values['rotation']}' is not a number", obj.line) from None
        track = values.get("track_id")
        shape = LabeledShape(
            ShapeType.RECTANGLE,
            frame.frame,
            label.id,
            checked(ShapeType.RECTANGLE, points, file, obj.line, rotation, frame=frame, label=label),
            occluded=_flag(obj, "occluded"),
            rotation=rotation,
            attributes=self.labels.attributes(label, values, where, ignore=("rotation", "track_id", "keyframe")),
        )
        self.shapes.append((shape, track))

    # ---- segmentation

    def read_segmentation(self) -> None:
        obj_prefix = self.root + "SegmentationObject/"
        cls_prefix = self.root + "SegmentationClass/"
        names = set(self.files.names())
        stems = {n[len(obj_prefix) : -4] for n in names if n.startswith(obj_prefix) and n.endswith(".png")}
        class_only = {n[len(cls_prefix) : -4] for n in names if n.startswith(cls_prefix) and n.endswith(".png")}
        for stem in sorted(stems | class_only):
            obj_name, cls_name = f"{obj_prefix}{stem}.png", f"{cls_prefix}{stem}.png"
            file = obj_name if stem in stems else cls_name
            frame = self.frame_of(stem, file)
            classes = (
                read_png(self.files.read_bytes(cls_name), cls_name, self.labelmap.colors, frame)
                if cls_name in names
                else None
            )
            if stem in stems:
                instances = read_png(self.files.read_bytes(obj_name), obj_name, voc_colormap(), frame)
                if classes is None:
                    raise FormatError(f"{obj_name}: {cls_name} is missing (it gives the instances' labels)")
            else:
                assert classes is not None
                instances = classes
            self.read_masks(frame, instances, classes, file)

    def read_masks(self, frame: FrameInfo, instances: Any, classes: Any, file: str) -> None:
        import numpy as np

        if instances.shape != (frame.height, frame.width) or classes.shape != instances.shape:
            raise FormatError(
                f"{file}: mask size {instances.shape[1]}x{instances.shape[0]} is not the frame's"
                f" {frame.width}x{frame.height}"
            )
        for index in (int(v) for v in np.unique(instances)):
            if index in (0, 255):
                continue
            bitmap = instances == index
            counts = Counter(int(v) for v in classes[bitmap])
            cls = counts.most_common(1)[0][0]
            if cls in (0, 255):
                continue
            if cls >= len(self.labelmap.names):
                raise FormatError(f"{file}: class index {cls} is not in the label map")
            label = self.labels.resolve(self.labelmap.names[cls], f"{file}, instance {index}")
            check_label(label, ShapeType.MASK, f"{file}, instance {index}")
            points = bitmap_to_cvat_mask(bitmap)
            if points is not None:
                self.shapes.append((LabeledShape(ShapeType.MASK, frame.frame, label.id, points), None))

    # ---- tags

    def read_class_lists(self) -> None:
        prefix = self.root + "ImageSets/Main/"
        lists = [n for n in self.files.names() if n.startswith(prefix) and n.endswith(".txt")]
        subsets = {posixpath.basename(n)[:-4] for n in lists}
        for name in sorted(lists):
            base = posixpath.basename(name)[:-4]
            label_name = next(
                (lab for lab in self.labelmap.names if base.startswith(lab + "_") and base[len(lab) + 1 :] in subsets),
                None,
            )
            if label_name is None:
                continue
            for line_no, raw in enumerate(self.files.read_text(name).splitlines(), 1):
                fields = raw.split()
                if not fields:
                    continue
                if len(fields) != 2 or not fields[1].lstrip("-").isdigit():
                    raise format_error(name, "expected '<image> 1|-1|0'", line_no)
                if int(fields[1]) != 1:
                    continue
                label = self.labels.resolve(label_name, f"{name}, line {line_no}")
                check_label(label, None, f"{name}, line {line_no}")
                frame = self.frame_of(fields[0], f"{name}, line {line_no}")
                self.tags.append(LabeledImage(frame.frame, label.id))

    def result(self) -> LabeledData:
        tracks, plain = rebuild_tracks(self.shapes, self.view)
        return LabeledData(shapes=plain, tracks=tracks, tags=self.tags)


@importer(name="PASCAL VOC", ext="ZIP", version="1.1")
def import_voc(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    with open_import(src, filename) as files:
        if not files.is_archive:
            raise FormatError(f"{filename}: PASCAL VOC needs a ZIP archive")
        reader = VocReader(view, files)
        ann_files = reader.annotation_files()
        has_segm = any("/Segmentation" in "/" + n for n in files.names())
        if not ann_files and not has_segm:
            raise FormatError(f"{filename}: no Annotations/*.xml or Segmentation*/ masks (not a PASCAL VOC archive)")
        for name, rel in ann_files:
            reader.read_annotation(name, rel)
        reader.read_segmentation()
        reader.read_class_lists()
        return reader.result()
