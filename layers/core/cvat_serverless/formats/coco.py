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
position marked ``outside``.

Numbers are written as ``json`` writes them: Python's ``repr`` (the shortest text that reads
back as the same float; full precision, no rounding). JSON is streamed into the ZIP member, one
write per image, and deflated on a worker thread. Rectangles and polygons (the bulk of real
tasks) are formatted straight from the shapes with one ``%`` each (``_CocoWriter.fast_annotation``);
everything else goes through dicts and the ``json`` encoder. Both give the same bytes (tested).
"""

from __future__ import annotations

import json
import operator
import posixpath
from collections import defaultdict
from collections.abc import Iterator, Mapping
from functools import reduce as _reduce
from typing import IO, Any, BinaryIO

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    LabelSpec,
    ShapeType,
    check_geometry,
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
# one encoder for all annotations: json.dumps(..., separators=...) builds a new one per call
_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


# The fast path's templates: exactly the bytes _dumps gives for the same dicts (key order of
# ``_CocoWriter.annotation``; %r is json's spelling of ints and finite floats).
_RECT = (
    '{"id":%d,"image_id":%d,"category_id":%d,"segmentation":[],"area":%r,'
    '"bbox":[%r,%r,%r,%r],"iscrowd":0,"attributes":%s}'
)
_POLYGON = (
    '{"id":%d,"image_id":%d,"category_id":%d,"segmentation":[[%s]],"area":%r,'
    '"bbox":[%r,%r,%r,%r],"iscrowd":0,"attributes":%s}'
)
_RECT_PLAIN = _RECT.replace('"attributes":%s}', '"attributes":{"occluded":%s,"rotation":%r}}')
_POLYGON_ATTRS = {False: '{"occluded":false}', True: '{"occluded":true}'}
_RECT_TRACK_ATTRS = '{"occluded":%s,"rotation":%r,"track_id":%d,"keyframe":%s}'
_POLYGON_TRACK_ATTRS = '{"occluded":%s,"track_id":%d,"keyframe":%s}'
_JSON_BOOL = {False: "false", True: "true"}
_add, _sub, _mul = operator.add, operator.sub, operator.mul
# Enum members as module constants: ``ShapeType.RECTANGLE`` is a ~100 ns class lookup per use.
_RECTANGLE, _POLYGON_TYPE = ShapeType.RECTANGLE, ShapeType.POLYGON
# json.dumps(image) of _CocoWriter.write: default separators, as before
_IMAGE = (
    '{"id": %d, "width": %r, "height": %r, "file_name": %s, "license": 0, '
    '"flickr_url": "", "coco_url": "", "date_captured": 0}'
)


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
        shape = flat.shape
        category = self.category.get(shape.label_id)
        if category is None:
            return None
        seg: Any
        if self.keypoints:
            if shape.type != ShapeType.SKELETON:
                return None
            kps: list[float] = []
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

    def fast_annotation(self, flat: FlatShape | None, shape: LabeledShape, image_id: int, ann_id: int) -> str | None:
        """``_dumps(self.annotation(...))`` (with id ``ann_id``) for a rectangle or polygon,
        byte for byte, formatted straight from the shape (no dicts, one or two ``%``); ``flat``
        is ``None`` for a plain shape. ``None`` when the shape needs the general path
        (keypoints, other types, non-finite numbers, which JSON spells differently from
        ``repr``)."""
        category = self.category.get(shape.label_id)
        if category is None or self.keypoints:
            return None
        kind = shape.type
        if kind is _RECTANGLE:
            x, y, x2, y2 = shape.points
            w, h = x2 - x, y2 - y
            area = w * h
            rotation = shape.rotation
            # area = (x2 - x) * (y2 - y) is finite only if every coordinate is
            check = area + rotation
            if check - check != 0.0:
                return None
            occluded = _JSON_BOOL[shape.occluded]
            if shape.attributes:
                attrs = _dumps(self.attributes(flat or FlatShape(shape, None, True)))
            elif flat is None:  # the common case: one % in all
                return _RECT_PLAIN % (ann_id, image_id, category, area, x, y, w, h, occluded, rotation)
            else:
                attrs = _RECT_TRACK_ATTRS % (occluded, rotation, flat.track_id, _JSON_BOOL[flat.keyframe])
            return _RECT % (ann_id, image_id, category, area, x, y, w, h, attrs)
        if kind is _POLYGON_TYPE:
            p = shape.points
            if len(p) % 2:
                return None
            xs, ys = p[0::2], p[1::2]
            x, y = min(xs), min(ys)
            w, h = max(xs) - x, max(ys) - y
            # polygon_area(p), inlined on the same lists: every coordinate is in two of the
            # summed products, so the area is finite only if every coordinate is.
            products = map(_sub, map(_mul, xs, ys[1:] + ys[:1]), map(_mul, xs[1:] + xs[:1], ys))
            area = abs(_reduce(_add, products, 0.0)) / 2.0
            if area - area != 0.0:
                return None
            if shape.attributes:
                attrs = _dumps(self.attributes(flat or FlatShape(shape, None, True)))
            elif flat is None:
                attrs = _POLYGON_ATTRS[shape.occluded]
            else:
                attrs = _POLYGON_TRACK_ATTRS % (_JSON_BOOL[shape.occluded], flat.track_id, _JSON_BOOL[flat.keyframe])
            return _POLYGON % (ann_id, image_id, category, ",".join(map(repr, p)), area, x, y, w, h, attrs)
        return None

    def _frame_chunk(self, fs: FrameShapes) -> list[str]:
        f = fs.frame
        image_id = f.frame + 1
        fast = self.fast_annotation
        chunk: list[str] = []
        append = chunk.append
        for shape in fs.shapes:
            text = fast(None, shape, image_id, self.next_id)
            if text is not None:
                self.next_id += 1
                append(text)
            else:
                ann = self.annotation(FlatShape(shape, None, True), image_id, f.height, f.width)
                if ann is not None:
                    append(_dumps(ann))
        for flat in fs.tracked:
            text = fast(flat, flat.shape, image_id, self.next_id)
            if text is not None:
                self.next_id += 1
                append(text)
            else:
                ann = self.annotation(flat, image_id, f.height, f.width)
                if ann is not None:
                    append(_dumps(ann))
        return chunk

    def write(self, out: IO[str], frames: list[FrameShapes]) -> None:
        w = out.write
        w('{"licenses":' + json.dumps(_LICENSES) + ',"info":' + json.dumps(_INFO))
        w(',"categories":' + json.dumps(self.categories()))
        w(',"images":[')
        string = json.encoder.encode_basestring_ascii  # json.dumps' default: ensure_ascii
        w(",".join([_IMAGE % (f.frame + 1, f.width, f.height, string(f.name)) for f in (fs.frame for fs in frames)]))
        w('],"annotations":[')
        first = True
        for fs in frames:
            chunk = self._frame_chunk(fs)
            if chunk:  # one write per frame
                w(("" if first else ",") + ",".join(chunk))
                first = False
        w("]}")


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
            with archive.open_text_pipelined(f"annotations/{prefix}_{subset}.json") as text:
                writer.write(text, subset_frames)
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
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{name}, line {exc.lineno} column {exc.colno}: malformed JSON ({exc.msg})") from exc


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

    def read(self, doc: Any, file: str) -> None:
        if not isinstance(doc, Mapping):
            raise FormatError(f"{file}: the top level must be a JSON object")
        categories: dict[int, LabelSpec] = {}
        for i, cat in enumerate(_need(doc, "categories", list, file)):
            where = f"{file}: categories[{i}]"
            categories[_need(cat, "id", int, where)] = self.labels.resolve(_need(cat, "name", str, where), where)
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
            label = categories.get(_need(ann, "category_id", int, where))
            if label is None:
                raise FormatError(f"{where}: category_id {ann['category_id']} is not in 'categories'")
            self.annotation(ann, frame, label, where)

    def annotation(self, ann: Mapping[str, Any], frame: int, label: LabelSpec, where: str) -> None:
        attrs = ann.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise FormatError(f"{where}: 'attributes' must be an object")
        common: dict[str, Any] = {
            "frame": frame,
            "label_id": label.id,
            "occluded": bool(attrs.get("occluded", False)),
            "attributes": self.labels.attributes(label, attrs, where, ignore=_RESERVED),
        }
        track = attrs.get("track_id")
        keyframe = bool(attrs.get("keyframe", True))
        new: list[LabeledShape] = []
        if self.keypoints:
            if "keypoints" not in ann:
                return
            new.append(self.skeleton(ann, label, common, where))
        else:
            seg = ann.get("segmentation")
            if isinstance(seg, Mapping):
                bitmap = coco_rle_to_bitmap(seg, where)
                points = bitmap_to_cvat_mask(bitmap)
                if points is not None:
                    new.append(LabeledShape(ShapeType.MASK, points=points, **common))
            elif isinstance(seg, list) and seg:
                for poly in seg:
                    pts = [float(v) for v in poly]
                    self.check(ShapeType.POLYGON, pts, where)
                    new.append(LabeledShape(ShapeType.POLYGON, points=pts, **common))
            else:
                bbox = _need(ann, "bbox", list, where)
                if len(bbox) != 4:
                    raise FormatError(f"{where}: 'bbox' must be [x, y, w, h]")
                x, y, w, h = (float(v) for v in bbox)
                rotation = float(attrs.get("rotation", 0.0) or 0.0) % 360.0
                pts = [x, y, x + w, y + h]
                self.check(ShapeType.RECTANGLE, pts, where)
                new.append(LabeledShape(ShapeType.RECTANGLE, points=pts, rotation=rotation, **common))
        for shape in new:
            self.shapes.append((shape, track, keyframe))

    def skeleton(self, ann: Mapping[str, Any], label: LabelSpec, common: dict[str, Any], where: str) -> LabeledShape:
        kps = _need(ann, "keypoints", list, where)
        if not label.sublabels:
            raise FormatError(f"{where}: label '{label.name}' is not a skeleton")
        if len(kps) != 3 * len(label.sublabels):
            raise FormatError(f"{where}: {len(kps) // 3} keypoints, skeleton '{label.name}' has {len(label.sublabels)}")
        elements = []
        for i, sub in enumerate(label.sublabels):
            x, y, v = (float(t) for t in kps[3 * i : 3 * i + 3])
            elements.append(
                LabeledShape(ShapeType.POINTS, common["frame"], sub.id, [x, y], outside=v == 0, occluded=v == 1)
            )
        return LabeledShape(ShapeType.SKELETON, points=[], elements=elements, **common)

    @staticmethod
    def check(type_: ShapeType, pts: list[float], where: str) -> None:
        why = check_geometry(type_, pts)
        if why:
            raise FormatError(f"{where}: {why}")

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
