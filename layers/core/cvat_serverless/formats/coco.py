"""COCO 1.0 (instances) and COCO Keypoints 1.0 (skeletons), exporters and importers.

Archive: ``annotations/instances_<subset>.json`` (``person_keypoints_<subset>.json`` for
Keypoints) and, with images, ``images/<subset>/<frame name>``. Imports accept that ZIP or a
bare ``.json``.

What is carried (COCO 1.0): rectangles (``bbox``, ``segmentation: []``), polygons (one polygon
per annotation), masks (RLE ``{"counts": [...], "size": [h, w]}`` with ``iscrowd: 1``; compressed
string counts are read too), tags are lost. CVAT's extra ``attributes`` object carries
``occluded``, ``rotation`` (boxes), user attributes and ``track_id``/``keyframe`` for track
frames; the importer rebuilds tracks from ``track_id`` (each frame a keyframe; an ``outside``
keyframe closes every gap and the end), so track identity and per-frame geometry survive,
keyframe positions do not. Lost: polylines, points, ellipses, cuboids, skeletons (use COCO
Keypoints), tags, ``z_order``, ``group``, ``source`` (imported as ``manual``), ``score``,
outside shapes. Category ids are ``1 + label index`` over the task's top-level labels.

COCO Keypoints 1.0 carries skeletons only: one annotation per skeleton with ``keypoints``
``[x, y, v, ...]`` in sublabel order (``v``: 0 = outside, 1 = occluded, 2 = visible), its
``bbox`` and ``num_keypoints``; categories list ``keypoints`` (sublabel names) and ``skeleton``
(1-based edges from the label's svg). A point with ``v = 0`` comes back at its exported
position marked ``outside``. The importer maps points by the category's ``keypoints`` names, not
by position (names the skeleton lacks are refused; points the file does not name come back
``outside``); a category without names is read in sublabel order.

Imports are bounded by the frame before anything is allocated: an RLE's declared ``size`` and
run total, every coordinate (``check_bounds``), and the label's type against the shape's.

Numbers keep full precision: every float is written as the shortest text that reads back as
the same float (no rounding), by orjson, which formats them ~10x faster than ``json``; exponents
are spelled ``1e-7`` (``json``: ``1e-07``), the same number to any JSON reader. Numbers that are
not finite have no JSON spelling and stop the export with a FormatError (validated annotations
have none). JSON is streamed into the ZIP member, one write per image, and deflated on a worker
thread. Rectangles and polygons (the bulk of real tasks) get their dicts from one loop per image
(``_CocoWriter.fast_annotations``; a polygon's box and area in one pass over its points),
everything else from ``_CocoWriter.annotation``: the same dicts, the same numbers bit for bit
(tested).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, BinaryIO

import orjson

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
)
from cvat_serverless.domain.errors import FormatError

from .archive import ExportArchive, ImportFiles, open_import
from .common import (
    FlatShape,
    FrameMap,
    FrameShapes,
    ImageProvider,
    LabelMap,
    bitmap_to_cvat_mask,
    check_label,
    check_shape,
    coco_rle_to_bitmap,
    points_bbox,
    polygon_area,
    rebuild_tracks,
    shapes_by_frame,
    typed_attributes,
)
from .registry import exporter, importer

_INFO = {"contributor": "", "date_created": "", "description": "", "url": "", "version": "", "year": ""}
_LICENSES = [{"name": "", "id": 0, "url": ""}]
_RESERVED = ("occluded", "rotation", "track_id", "keyframe", "z_order")
_dumps = orjson.dumps  # bytes, compact, keys in insertion order
# Enum members as module constants: ``ShapeType.RECTANGLE`` is a ~100 ns class lookup per use.
_RECTANGLE, _POLYGON = ShapeType.RECTANGLE, ShapeType.POLYGON


def _skip(shape: LabeledShape) -> None:
    """The ``general`` of :meth:`_CocoWriter.fast_annotation`: the shape is left to the caller."""


def _finite(value: float) -> bool:
    return value - value == 0.0  # inf - inf and nan - nan are nan


class _CocoWriter:
    def __init__(self, view: DatasetView, keypoints: bool) -> None:
        self.view = view
        self.keypoints = keypoints
        self.category = {label.id: i + 1 for i, label in enumerate(view.labels)}
        self.labels = view.label_index()
        self.next_id = 1

    def categories(self) -> list[dict[str, Any]]:
        out = []
        for label in self.view.labels:
            cat: dict[str, Any] = {"id": self.category[label.id], "name": label.name, "supercategory": ""}
            if self.keypoints:
                cat["keypoints"] = [s.name for s in label.sublabels]
                cat["skeleton"] = [[a + 1, b + 1] for a, b in label.skeleton_edges()]
            out.append(cat)
        return out

    def attributes(self, flat: FlatShape) -> dict[str, Any]:
        shape = flat.shape
        label = self.labels[shape.label_id]
        attrs: dict[str, Any] = {"occluded": shape.occluded}
        if shape.type == ShapeType.RECTANGLE:
            attrs["rotation"] = shape.rotation
        attrs.update(typed_attributes(label, shape.attributes))
        if flat.track_id is not None:
            attrs["track_id"] = flat.track_id
            attrs["keyframe"] = flat.keyframe
        return attrs

    def annotation(self, flat: FlatShape, image_id: int, height: int, width: int) -> dict[str, Any] | None:
        """The annotation of any shape (``None``: not carried by this format); takes the next id."""
        shape = flat.shape
        category = self.category.get(shape.label_id)
        if category is None:
            return None
        seg: Any
        kps: list[float] = []
        if self.keypoints:
            if shape.type != ShapeType.SKELETON:
                return None
            visible: list[float] = []
            for e in shape.elements:
                v = 0 if e.outside else (1 if e.occluded else 2)
                kps.extend((e.points[0], e.points[1], v))
                if v:
                    visible.extend(e.points[:2])
            x, y, w, h = points_bbox(visible) if visible else (0.0, 0.0, 0.0, 0.0)
            seg, area, iscrowd = [], w * h, 0
            extra = {"keypoints": kps, "num_keypoints": sum(1 for e in shape.elements if not e.outside)}
        elif shape.type == ShapeType.RECTANGLE:
            x, y = shape.points[0], shape.points[1]
            w, h = shape.points[2] - x, shape.points[3] - y
            seg, area, iscrowd, extra = [], w * h, 0, {}
        elif shape.type == ShapeType.POLYGON:
            x, y, w, h = points_bbox(shape.points)
            seg, area, iscrowd, extra = [list(shape.points)], polygon_area(shape.points), 0, {}
        elif shape.type == ShapeType.MASK:
            seg = _cvat_mask_to_coco(shape.points, height, width)
            left, top, right, bottom = (round(v) for v in shape.points[-4:])
            x, y, w, h = float(left), float(top), float(right - left + 1), float(bottom - top + 1)
            area, iscrowd, extra = float(sum(seg["counts"][1::2])), 1, {}
        else:
            return None
        if not all(map(_finite, (x, y, w, h, area, *kps))):
            # JSON has no spelling for them (orjson would write null): validated annotations
            # never get here, but an export must not quietly write a box of nulls.
            raise FormatError(f"frame {shape.frame}: a {shape.type} with numbers that are not finite")
        ann = {
            "id": self.next_id,
            "image_id": image_id,
            "category_id": category,
            "segmentation": seg,
            "area": area,
            "bbox": [x, y, w, h],
            "iscrowd": iscrowd,
            "attributes": self.attributes(flat),
            **extra,
        }
        self.next_id += 1
        return ann

    def fast_annotation(self, flat: FlatShape | None, shape: LabeledShape, image_id: int) -> dict[str, Any] | None:
        """``self.annotation(...)`` for a rectangle or polygon, the same dict built with less
        work per shape (these are the bulk of real tasks); ``flat`` is ``None`` for a plain
        shape. ``None`` when the shape needs the general path (keypoints, other types, numbers
        that are not finite). Takes the next id when it answers."""
        out: list[dict[str, Any]] = []
        self.fast_annotations((shape,), image_id, out, _skip)
        if not out:
            return None
        ann = out[0]
        if flat is not None and flat.track_id is not None:
            attrs = ann["attributes"]
            attrs["track_id"] = flat.track_id
            attrs["keyframe"] = flat.keyframe
        return ann

    def fast_annotations(
        self,
        shapes: Iterable[LabeledShape],
        image_id: int,
        out: list[dict[str, Any]],
        general: Callable[[LabeledShape], None],
    ) -> None:
        """Append the annotations of ``shapes`` (as plain shapes) to ``out``, in order: the dict
        of :meth:`annotation` built with less work for rectangles and polygons (the bulk of real
        tasks, so this loop is the export's hot path), ``general(shape)`` called in its place
        for every other shape (keypoints, other types, numbers that are not finite), which
        appends what it has, if anything, and may take ids. Takes the ids it uses."""
        if self.keypoints:
            for shape in shapes:
                general(shape)
            return
        category_of = self.category.get
        labels = self.labels
        append = out.append
        ann_id = self.next_id
        ann: dict[str, Any] | None
        for shape in shapes:
            category = category_of(shape.label_id)
            kind = shape.type
            if category is None:
                ann = None
            elif kind is _RECTANGLE:
                x, y, x2, y2 = shape.points
                w, h = x2 - x, y2 - y
                area = w * h
                check = area + shape.rotation  # finite only if every coordinate and the rotation are
                if check - check != 0.0:
                    ann = None
                else:
                    ann = {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": category,
                        "segmentation": [],
                        "area": area,
                        "bbox": [x, y, w, h],
                        "iscrowd": 0,
                        "attributes": {"occluded": shape.occluded, "rotation": shape.rotation},
                    }
            elif kind is _POLYGON and (n := len(p := shape.points)) and not n % 2:
                # points_bbox and polygon_area in one pass: min/max keep the first of equal
                # values as min()/max() do, the shoelace terms are added left to right from 0.0
                # as polygon_area adds them, so the numbers are bit for bit the same (tested).
                # Every coordinate is in two of the summed products, so the area is finite only
                # if every coordinate is.
                px = x = x2 = p[0]
                py = y = y2 = p[1]
                twice = 0.0
                for i in range(2, n, 2):
                    cx = p[i]
                    cy = p[i + 1]
                    twice += px * cy - cx * py
                    if cx < x:
                        x = cx
                    elif cx > x2:
                        x2 = cx
                    if cy < y:
                        y = cy
                    elif cy > y2:
                        y2 = cy
                    px = cx
                    py = cy
                twice += px * p[1] - p[0] * py
                area = abs(twice) / 2.0
                if area - area != 0.0:
                    ann = None
                else:
                    ann = {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": category,
                        "segmentation": [p],  # serialised at once: the shape's own list will do
                        "area": area,
                        "bbox": [x, y, x2 - x, y2 - y],
                        "iscrowd": 0,
                        "attributes": {"occluded": shape.occluded},
                    }
            else:
                ann = None
            if ann is None:
                self.next_id = ann_id
                general(shape)
                ann_id = self.next_id
                continue
            if shape.attributes:
                ann["attributes"].update(typed_attributes(labels[shape.label_id], shape.attributes))
            append(ann)
            ann_id += 1
        self.next_id = ann_id

    def frame_annotations(self, fs: FrameShapes) -> list[dict[str, Any]]:
        f = fs.frame
        image_id = f.frame + 1
        out: list[dict[str, Any]] = []

        def general(shape: LabeledShape) -> None:
            ann = self.annotation(FlatShape(shape, None, True), image_id, f.height, f.width)
            if ann is not None:
                out.append(ann)

        self.fast_annotations(fs.shapes, image_id, out, general)
        for flat in fs.tracked:
            ann = self.fast_annotation(flat, flat.shape, image_id)
            if ann is None:
                ann = self.annotation(flat, image_id, f.height, f.width)
                if ann is None:
                    continue
            out.append(ann)
        return out

    def write(self, out: IO[bytes], frames: list[FrameShapes]) -> None:
        w = out.write
        w(b'{"licenses":' + _dumps(_LICENSES) + b',"info":' + _dumps(_INFO))
        w(b',"categories":' + _dumps(self.categories()))
        images = [
            {
                "id": f.frame + 1,
                "width": f.width,
                "height": f.height,
                "file_name": f.name,
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
            for f in (fs.frame for fs in frames)
        ]
        w(b',"images":' + _dumps(images))
        del images
        w(b',"annotations":[')
        sep = b""
        for fs in frames:
            anns = self.frame_annotations(fs)
            if anns:  # one write per frame: the list's items without its brackets
                w(sep)
                w(memoryview(_dumps(anns))[1:-1])
                sep = b","
        w(b"]}")


def _cvat_mask_to_coco(points: list[float], height: int, width: int) -> dict[str, Any]:
    from .common import bitmap_to_coco_rle, cvat_mask_to_bitmap

    return bitmap_to_coco_rle(cvat_mask_to_bitmap(points, width, height))


def _export(view: DatasetView, out: BinaryIO, images: ImageProvider | None, *, keypoints: bool) -> None:
    prefix = "person_keypoints" if keypoints else "instances"
    frames = shapes_by_frame(view)
    subsets: dict[str, list[FrameShapes]] = defaultdict(list)
    for fa in frames:
        subsets[fa.frame.subset or "default"].append(fa)
    writer = _CocoWriter(view, keypoints)
    with ExportArchive(out) as archive:
        for subset, subset_frames in subsets.items():
            with archive.open_binary_pipelined(f"annotations/{prefix}_{subset}.json") as stream:
                writer.write(stream, subset_frames)
        archive.write_images(view, images, lambda f: f"images/{f.subset or 'default'}/{f.name}")


@exporter(name="COCO", ext="ZIP", version="1.0")
def export_coco(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, keypoints=False)


@exporter(name="COCO Keypoints", ext="ZIP", version="1.0")
def export_coco_keypoints(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    _export(view, out, images, keypoints=True)


# --------------------------------------------------------------------------- import


def load_json(files: ImportFiles, name: str) -> Any:
    text = files.read_text(name)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"{name}, line {exc.lineno} column {exc.colno}: malformed JSON ({exc.msg})") from exc


def _floats(values: Any, where: str, what: str) -> list[float]:
    """A JSON list of numbers as floats (numeric strings are let through, as ``float`` does)."""
    if isinstance(values, list):
        try:
            return [float(v) for v in values]
        except (TypeError, ValueError):
            pass
    raise FormatError(f"{where}: '{what}' must be a list of numbers")


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise FormatError(f"{where}: '{key}' is missing")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise FormatError(f"{where}: '{key}' has the wrong type")
    return value


class _CocoReader:
    def __init__(self, view: DatasetView, keypoints: bool) -> None:
        self.view = view
        self.keypoints = keypoints
        self.labels = LabelMap(view.labels)
        self.frames = FrameMap(view.frames)
        self.sizes = {f.frame: (f.height, f.width) for f in view.frames}
        self.shapes: list[tuple[LabeledShape, Any, bool]] = []
        # category id -> the skeleton's sublabels in the order of the category's "keypoints"
        self.keypoint_order: dict[int, list[LabelSpec]] = {}

    def read(self, doc: Any, file: str) -> None:
        if not isinstance(doc, Mapping):
            raise FormatError(f"{file}: the top level must be a JSON object")
        categories: dict[int, LabelSpec] = {}
        self.keypoint_order = {}
        for i, cat in enumerate(_need(doc, "categories", list, file)):
            where = f"{file}: categories[{i}]"
            cat_id = _need(cat, "id", int, where)
            label = categories[cat_id] = self.labels.resolve(_need(cat, "name", str, where), where)
            if self.keypoints and "keypoints" in cat:
                self.keypoint_order[cat_id] = self.keypoint_names(cat["keypoints"], label, where)
        images: dict[int, int] = {}
        for i, img in enumerate(_need(doc, "images", list, file)):
            where = f"{file}: images[{i}]"
            images[_need(img, "id", int, where)] = self.frames.match(_need(img, "file_name", str, where), where)
        for i, ann in enumerate(_need(doc, "annotations", list, file)):
            where = f"{file}: annotations[{i}]"
            image_id = _need(ann, "image_id", int, where)
            frame = images.get(image_id)
            if frame is None:
                raise FormatError(f"{where}: image_id {image_id} is not in 'images'")
            category_id = _need(ann, "category_id", int, where)
            found = categories.get(category_id)
            if found is None:
                raise FormatError(f"{where}: category_id {category_id} is not in 'categories'")
            self.annotation(ann, frame, found, where, self.keypoint_order.get(category_id))

    def keypoint_names(self, names: Any, label: LabelSpec, where: str) -> list[LabelSpec]:
        """The sublabels of skeleton ``label`` in the order of a category's ``keypoints``.

        Points are matched by name, never by position: a file that lists the skeleton's points
        in another order keeps each point on its own sublabel. Names the skeleton does not have
        are refused; sublabels the file does not name come back ``outside``."""
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise FormatError(f"{where}: 'keypoints' must be a list of point names")
        if not names:  # the exporter lists every label, non-skeletons with no points
            return []
        check_label(label, ShapeType.SKELETON, where)
        if len(set(names)) != len(names):
            raise FormatError(f"{where}: 'keypoints' names a point twice")
        unknown = [n for n in names if label.sublabel_by_name(n) is None]
        if unknown:
            known = ", ".join(s.name for s in label.sublabels)
            raise FormatError(
                f"{where}: keypoint(s) {', '.join(repr(n) for n in unknown)} are not points of skeleton"
                f" '{label.name}' (its points: {known})"
            )
        return [sub for n in names if (sub := label.sublabel_by_name(n)) is not None]

    def annotation(
        self,
        ann: Mapping[str, Any],
        frame: int,
        label: LabelSpec,
        where: str,
        keypoint_order: list[LabelSpec] | None = None,
    ) -> None:
        attrs = ann.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise FormatError(f"{where}: 'attributes' must be an object")
        common: dict[str, Any] = {
            "frame": frame,
            "label_id": label.id,
            "occluded": bool(attrs.get("occluded", False)),
            "attributes": self.labels.attributes(label, attrs, where, ignore=_RESERVED),
        }
        info = self.frames.info(frame)
        track = attrs.get("track_id")
        keyframe = bool(attrs.get("keyframe", True))
        new: list[LabeledShape] = []
        if self.keypoints:
            if "keypoints" not in ann:
                return
            check_label(label, ShapeType.SKELETON, where)
            new.append(self.skeleton(ann, label, common, where, keypoint_order))
        else:
            seg = ann.get("segmentation")
            if isinstance(seg, Mapping):
                check_label(label, ShapeType.MASK, where)
                bitmap = coco_rle_to_bitmap(seg, where, frame=info)
                points = bitmap_to_cvat_mask(bitmap)
                if points is not None:
                    check_shape(ShapeType.MASK, points, where, frame=info)
                    new.append(LabeledShape(ShapeType.MASK, points=points, **common))
            elif isinstance(seg, list) and seg:
                check_label(label, ShapeType.POLYGON, where)
                for poly in seg:
                    pts = _floats(poly, where, "segmentation")
                    check_shape(ShapeType.POLYGON, pts, where, frame=info)
                    new.append(LabeledShape(ShapeType.POLYGON, points=pts, **common))
            else:
                bbox = _need(ann, "bbox", list, where)
                if len(bbox) != 4:
                    raise FormatError(f"{where}: 'bbox' must be [x, y, w, h]")
                x, y, w, h = _floats(bbox, where, "bbox")
                (rotation,) = _floats([attrs.get("rotation", 0.0) or 0.0], where, "attributes.rotation")
                rotation %= 360.0
                pts = [x, y, x + w, y + h]
                check_label(label, ShapeType.RECTANGLE, where)
                check_shape(ShapeType.RECTANGLE, pts, where, rotation=rotation, frame=info)
                new.append(LabeledShape(ShapeType.RECTANGLE, points=pts, rotation=rotation, **common))
        for shape in new:
            self.shapes.append((shape, track, keyframe))

    def skeleton(
        self,
        ann: Mapping[str, Any],
        label: LabelSpec,
        common: dict[str, Any],
        where: str,
        order: list[LabelSpec] | None,
    ) -> LabeledShape:
        kps = _need(ann, "keypoints", list, where)
        if order is None:  # a category without "keypoints" names: the skeleton's own order
            order = label.sublabels
        if len(kps) != 3 * len(order):
            raise FormatError(f"{where}: {len(kps) // 3} keypoints, the category names {len(order)}")
        frame = common["frame"]
        info = self.frames.info(frame)
        placed: dict[int, LabeledShape] = {}
        for i, sub in enumerate(order):
            x, y, v = _floats(kps[3 * i : 3 * i + 3], where, "keypoints")
            check_shape(ShapeType.POINTS, [x, y], f"{where}: keypoint '{sub.name}'", frame=info)
            placed[sub.id] = LabeledShape(ShapeType.POINTS, frame, sub.id, [x, y], outside=v == 0, occluded=v == 1)
        elements = [
            placed.get(sub.id) or LabeledShape(ShapeType.POINTS, frame, sub.id, [0.0, 0.0], outside=True)
            for sub in label.sublabels
        ]
        return LabeledShape(ShapeType.SKELETON, points=[], elements=elements, **common)

    def result(self) -> LabeledData:
        tracks, plain = rebuild_tracks(((s, t) for s, t, _ in self.shapes), self.view)
        return LabeledData(shapes=plain, tracks=tracks)


def _annotation_files(files: ImportFiles, prefix: str) -> Iterator[str]:
    if not files.is_archive:
        yield files.names()[0]
        return
    names = [n for n in files.names() if n.lower().endswith(".json") and posixpath.basename(n).startswith(prefix + "_")]
    if not names:
        raise FormatError(f"{files.filename}: no annotations/{prefix}_<subset>.json in the archive")
    yield from sorted(names)


def _import(src: BinaryIO, view: DatasetView, filename: str, *, keypoints: bool) -> LabeledData:
    prefix = "person_keypoints" if keypoints else "instances"
    reader = _CocoReader(view, keypoints)
    with open_import(src, filename) as files:
        for name in _annotation_files(files, prefix):
            reader.read(load_json(files, name), name)
    return reader.result()


@importer(name="COCO", ext="JSON, ZIP", version="1.0")
def import_coco(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, keypoints=False)


@importer(name="COCO Keypoints", ext="JSON, ZIP", version="1.0")
def import_coco_keypoints(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    return _import(src, view, filename, keypoints=True)


__all__ = ["export_coco", "export_coco_keypoints", "import_coco", "import_coco_keypoints", "load_json"]
