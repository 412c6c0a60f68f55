"""Datumaro 1.0 (exporter and importer).

Archive: ``annotations/<subset>.json`` and, with images, ``images/<subset>/<frame name>``.
Imports accept that ZIP or a bare ``.json``. The JSON is Datumaro's format version 1.0
(``dm_format_version``, ``media_type``, ``infos``, ``categories``, ``items``) as Datumaro 1.x
reads and writes it; items are ``{"id": <name without extension>, "attr": {"frame": n},
"image": {"path": <name>, "size": [h, w]}, "annotations": [...]}``.

Mapping: rectangles -> ``bbox`` (rotation in ``attributes.rotation``), polygons, polylines,
points, ellipses (``points`` = corners of the unrotated bounding box, rotation in attributes),
cuboids -> ``cuboid_2d`` (8 points in CVAT's order), masks -> ``mask`` with a compressed COCO RLE
over the whole frame, tags -> ``label``, skeletons -> one ``points`` annotation of the skeleton
label (a point per sublabel, ``visibility`` 0 = outside, 1 = occluded, 2 = visible; the
``points`` category lists sublabel names and 1-based joints), as Datumaro 1.x models keypoints.
CVAT's own Datumaro fork writes ``skeleton`` annotations with ``elements``; those are read too.
``attributes`` carry ``occluded``, user attributes, ``source`` (when not ``manual``), ``score``
(when not 1) and ``track_id``/``keyframe`` for track frames; tracks are rebuilt from
``track_id`` (every frame a keyframe). Kept: ``group``, ``z_order``. Lost: keyframe positions
(tracks come back with a keyframe on every visible frame), outside shapes, ids.

JSON is written with orjson (numbers at full precision, as COCO's), one write per item, deflated
on a worker thread; numbers that are not finite stop the export with a FormatError.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import IO, Any, BinaryIO

import orjson

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabelSpec,
    ShapeType,
)
from cvat_serverless.domain.errors import FormatError

from .archive import ExportArchive, ImportFiles, open_import
from .coco import load_json
from .common import (
    FlatShape,
    FrameMap,
    FrameShapes,
    ImageProvider,
    LabelMap,
    bitmap_to_coco_rle,
    bitmap_to_cvat_mask,
    check_label,
    check_shape,
    coco_rle_to_bitmap,
    cvat_mask_to_bitmap,
    rebuild_tracks,
    rle_string_encode,
    shapes_by_frame,
    typed_attributes,
)
from .registry import exporter, importer

MEDIA_TYPE_IMAGE = 2
_dumps = orjson.dumps  # bytes, compact, keys in insertion order
_RESERVED = ("occluded", "rotation", "track_id", "keyframe", "outside", "source", "score")


def _item_id(name: str) -> str:
    base = posixpath.basename(name)
    return name[: len(name) - len(base)] + (base.rsplit(".", 1)[0] if "." in base else base)


class _Writer:
    def __init__(self, view: DatasetView) -> None:
        self.view = view
        self.index = {label.id: i for i, label in enumerate(view.labels)}
        self.labels = view.label_index()
        self.next_id = 0

    def categories(self) -> dict[str, Any]:
        labels = [
            {"name": label.name, "parent": "", "attributes": sorted(a.name for a in label.attributes)}
            for label in self.view.labels
        ]
        out: dict[str, Any] = {
            "label": {"labels": labels, "label_groups": [], "attributes": ["occluded"]},
        }
        skeletons = [
            {
                "label_id": self.index[label.id],
                "labels": [s.name for s in label.sublabels],
                "joints": [[a + 1, b + 1] for a, b in label.skeleton_edges()],
                "positions": [],
            }
            for label in self.view.labels
            if label.sublabels
        ]
        if skeletons:
            out["points"] = {"items": skeletons}
        return out

    def common(
        self, type_: str, label_id: int, attributes: dict[str, Any], group: int | None, z_order: int | None
    ) -> dict[str, Any]:
        ann: dict[str, Any] = {
            "id": self.next_id,
            "type": type_,
            "attributes": attributes,
            "group": group or 0,
            "label_id": self.index[label_id],
        }
        if z_order is not None:
            ann["z_order"] = z_order
        self.next_id += 1
        return ann

    def shape(self, flat: FlatShape, height: int, width: int) -> dict[str, Any] | None:
        s = flat.shape
        if s.label_id not in self.index:
            return None
        attrs: dict[str, Any] = {"occluded": s.occluded}
        attrs.update(typed_attributes(self.labels[s.label_id], s.attributes))
        if s.type in (ShapeType.RECTANGLE, ShapeType.ELLIPSE):
            attrs["rotation"] = s.rotation
        if s.source != "manual":
            attrs["source"] = s.source
        if s.score != 1.0:
            attrs["score"] = s.score  # Datumaro's convention for prediction scores
        if flat.track_id is not None:
            attrs["track_id"] = flat.track_id
            attrs["keyframe"] = flat.keyframe
        p = s.points
        check = sum(p) + s.rotation + s.score
        if check - check != 0.0:  # nan or infinite somewhere: JSON cannot spell it (orjson: null)
            raise FormatError(f"frame {s.frame}: a {s.type} with numbers that are not finite")
        if s.type == ShapeType.RECTANGLE:
            ann = self.common("bbox", s.label_id, attrs, s.group, s.z_order)
            ann["bbox"] = [p[0], p[1], p[2] - p[0], p[3] - p[1]]
        elif s.type in (ShapeType.POLYGON, ShapeType.POLYLINE, ShapeType.POINTS):
            ann = self.common(str(s.type), s.label_id, attrs, s.group, s.z_order)
            ann["points"] = list(p)
            if s.type == ShapeType.POINTS:
                ann["visibility"] = [2] * (len(p) // 2)
        elif s.type == ShapeType.ELLIPSE:
            cx, cy, rx, ry = p[0], p[1], p[2] - p[0], p[1] - p[3]
            ann = self.common("ellipse", s.label_id, attrs, s.group, s.z_order)
            ann["points"] = [cx - rx, cy - ry, cx + rx, cy + ry]
        elif s.type == ShapeType.CUBOID:
            ann = self.common("cuboid_2d", s.label_id, attrs, s.group, s.z_order)
            ann["points"] = [[p[i], p[i + 1]] for i in range(0, 16, 2)]
        elif s.type == ShapeType.MASK:
            rle = bitmap_to_coco_rle(cvat_mask_to_bitmap(p, width, height))
            ann = self.common("mask", s.label_id, attrs, s.group, s.z_order)
            ann["rle"] = {"counts": rle_string_encode(rle["counts"]), "size": rle["size"]}
        elif s.type == ShapeType.SKELETON:
            ann = self.common("points", s.label_id, attrs, s.group, s.z_order)
            by_label = {e.label_id: e for e in s.elements}
            pts: list[float] = []
            vis: list[int] = []
            for sub in self.labels[s.label_id].sublabels:
                e = by_label.get(sub.id)
                if e is None:
                    pts.extend((0.0, 0.0))
                    vis.append(0)
                else:
                    pts.extend(e.points[:2])
                    vis.append(0 if e.outside else (1 if e.occluded else 2))
            ann["points"] = pts
            ann["visibility"] = vis
        else:
            return None
        return ann

    def write(self, out: IO[bytes], frames: list[FrameShapes]) -> None:
        w = out.write
        w(b'{"dm_format_version":"1.0","media_type":' + str(MEDIA_TYPE_IMAGE).encode() + b',"infos":{}')
        w(b',"categories":' + _dumps(self.categories()) + b',"items":[')
        sep = b""
        for fa in frames:
            f = fa.frame
            anns = []
            for shape in fa.shapes:
                ann = self.shape(FlatShape(shape, None, True), f.height, f.width)
                if ann is not None:
                    anns.append(ann)
            for flat in fa.tracked:
                ann = self.shape(flat, f.height, f.width)
                if ann is not None:
                    anns.append(ann)
            for tag in fa.tags:
                if tag.label_id in self.index:
                    attrs = typed_attributes(self.labels[tag.label_id], tag.attributes)
                    anns.append(self.common("label", tag.label_id, attrs, tag.group, None))
            item = {
                "id": _item_id(f.name),
                "attr": {"frame": f.frame},
                "image": {"path": f.name, "size": [f.height, f.width]},
                "annotations": anns,
            }
            w(sep)
            w(_dumps(item))  # one write per item
            sep = b","
        w(b"]}")


@exporter(name="Datumaro", ext="ZIP", version="1.0")
def export_datumaro(view: DatasetView, out: BinaryIO, images: ImageProvider | None = None) -> None:
    subsets: dict[str, list[FrameShapes]] = defaultdict(list)
    for fa in shapes_by_frame(view):
        subsets[fa.frame.subset or "default"].append(fa)
    writer = _Writer(view)
    with ExportArchive(out) as archive:
        for subset, frames in subsets.items():
            with archive.open_binary_pipelined(f"annotations/{subset}.json") as stream:
                writer.write(stream, frames)
        archive.write_images(view, images, lambda f: f"images/{f.subset or 'default'}/{f.name}")


# --------------------------------------------------------------------------- import


class _Reader:
    def __init__(self, view: DatasetView) -> None:
        self.view = view
        self.labels = LabelMap(view.labels)
        self.frames = FrameMap(view.frames)
        self.valid = {f.frame for f in view.frames}
        self.shapes: list[tuple[LabeledShape, Any]] = []
        self.tags: list[LabeledImage] = []

    def read(self, doc: Any, file: str) -> None:
        if not isinstance(doc, Mapping) or not isinstance(doc.get("items"), list):
            raise FormatError(f"{file}: not a Datumaro annotation file (no 'items' list)")
        cats = doc.get("categories") or {}
        label_cat = cats.get("label") or {}
        labels: list[LabelSpec] = []
        for i, lab in enumerate(label_cat.get("labels") or []):
            where = f"{file}: categories.label.labels[{i}]"
            if not isinstance(lab, Mapping) or not isinstance(lab.get("name"), str):
                raise FormatError(f"{where}: a label needs a 'name'")
            parent = lab.get("parent") or ""
            if parent:  # CVAT's fork lists skeleton points as labels with a parent
                owner = self.labels.resolve(parent, where)
                labels.append(self.labels.sublabel(owner, lab["name"], where))
            else:
                labels.append(self.labels.resolve(lab["name"], where))
        point_names: dict[int, list[str]] = {}
        for item in (cats.get("points") or {}).get("items") or []:
            point_names[int(item.get("label_id", -1))] = [str(n) for n in item.get("labels") or []]
        for i, item in enumerate(doc["items"]):
            self.item(item, labels, point_names, f"{file}: items[{i}]")

    def frame_of(self, item: Mapping[str, Any], where: str) -> int:
        image = item.get("image") or {}
        name = image.get("path") if isinstance(image, Mapping) else None
        for candidate in (name, item.get("id")):
            if isinstance(candidate, str):
                frame = self.frames.get(candidate)
                if frame is not None:
                    return frame
        attr = item.get("attr") or {}
        frame_attr = attr.get("frame") if isinstance(attr, Mapping) else None
        if isinstance(frame_attr, int) and frame_attr in self.valid:
            return frame_attr
        raise FormatError(f"{where}: could not match item '{item.get('id')}' with any task frame")

    def item(self, item: Any, labels: list[LabelSpec], point_names: dict[int, list[str]], where: str) -> None:
        if not isinstance(item, Mapping):
            raise FormatError(f"{where}: an item must be an object")
        frame = self.frame_of(item, where)
        for j, ann in enumerate(item.get("annotations") or []):
            self.annotation(ann, frame, labels, point_names, f"{where}.annotations[{j}]")

    def annotation(
        self, ann: Any, frame: int, labels: list[LabelSpec], point_names: dict[int, list[str]], where: str
    ) -> None:
        if not isinstance(ann, Mapping) or not isinstance(ann.get("type"), str):
            raise FormatError(f"{where}: an annotation needs a 'type'")
        kind = ann["type"]
        label_index = ann.get("label_id")
        if not isinstance(label_index, int) or not 0 <= label_index < len(labels):
            if kind in ("caption",):
                return
            raise FormatError(f"{where}: label_id {label_index} is not in categories.label")
        label = labels[label_index]
        attrs = ann.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise FormatError(f"{where}: 'attributes' must be an object")
        values = self.labels.attributes(label, attrs, where, ignore=_RESERVED)
        group = int(ann.get("group") or 0)
        if kind == "label":
            check_label(label, None, where)
            self.tags.append(LabeledImage(frame=frame, label_id=label.id, group=group, attributes=values))
            return
        common: dict[str, Any] = {
            "frame": frame,
            "label_id": label.id,
            "group": group,
            "z_order": int(ann.get("z_order") or 0),
            "occluded": bool(attrs.get("occluded", False)),
            "attributes": values,
            "source": str(attrs.get("source") or "manual"),
        }
        score = attrs.get("score")
        if isinstance(score, int | float) and not isinstance(score, bool) and 0.0 <= score <= 1.0:
            common["score"] = float(score)
        info = self.frames.info(frame)
        rotation = float(attrs.get("rotation", 0.0) or 0.0) % 360.0
        pts = [float(v) for v in ann.get("points") or []] if kind != "cuboid_2d" else []
        if kind == "bbox":
            x, y, w, h = (float(v) for v in ann.get("bbox") or [0, 0, -1, -1])
            shape = LabeledShape(ShapeType.RECTANGLE, points=[x, y, x + w, y + h], rotation=rotation, **common)
        elif kind in ("polygon", "polyline"):
            shape = LabeledShape(ShapeType(kind), points=pts, **common)
        elif kind == "points" and label.sublabels:
            shape = self.skeleton(ann, pts, label, point_names.get(label_index), common, where)
        elif kind == "points":
            shape = LabeledShape(ShapeType.POINTS, points=pts, **common)
        elif kind == "skeleton":
            shape = self.fork_skeleton(ann, labels, label, common, where)
        elif kind == "ellipse":
            if len(pts) != 4:
                raise FormatError(f"{where}: an ellipse needs 4 numbers")
            x1, y1, x2, y2 = pts
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            shape = LabeledShape(ShapeType.ELLIPSE, points=[cx, cy, x2, y1], rotation=rotation, **common)
        elif kind == "cuboid_2d":
            flat = [float(v) for p in ann.get("points") or [] for v in p]
            shape = LabeledShape(ShapeType.CUBOID, points=flat, **common)
        elif kind == "mask":
            rle = ann.get("rle")
            if not isinstance(rle, Mapping):
                raise FormatError(f"{where}: a mask needs 'rle'")
            check_label(label, ShapeType.MASK, where)
            points = bitmap_to_cvat_mask(coco_rle_to_bitmap(rle, where, frame=info))
            if points is None:
                return
            shape = LabeledShape(ShapeType.MASK, points=points, **common)
        else:
            return  # captions, 3D, ... have no CVAT 2D counterpart
        check_label(label, shape.type, where)
        check_shape(shape.type, shape.points, where, rotation=shape.rotation, frame=info)
        for k, element in enumerate(shape.elements):
            check_shape(element.type, element.points, f"{where}.elements[{k}]", frame=info)
        self.shapes.append((shape, attrs.get("track_id")))

    def skeleton(  # noqa: PLR0917 - private helper
        self,
        ann: Mapping[str, Any],
        pts: list[float],
        label: LabelSpec,
        names: list[str] | None,
        common: dict[str, Any],
        where: str,
    ) -> LabeledShape:
        names = names or [s.name for s in label.sublabels]
        vis = list(ann.get("visibility") or [2] * (len(pts) // 2))
        if len(pts) != 2 * len(names) or len(vis) != len(names):
            raise FormatError(f"{where}: {len(pts) // 2} points for the {len(names)} of '{label.name}'")
        elements = []
        for i, name in enumerate(names):
            sub = self.labels.sublabel(label, name, where)
            v = int(vis[i])
            elements.append(
                LabeledShape(
                    ShapeType.POINTS,
                    common["frame"],
                    sub.id,
                    pts[2 * i : 2 * i + 2],
                    outside=v == 0,
                    occluded=v == 1,
                )
            )
        order = {s.id: i for i, s in enumerate(label.sublabels)}
        elements.sort(key=lambda e: order[e.label_id])
        return LabeledShape(ShapeType.SKELETON, points=[], elements=elements, **common)

    def fork_skeleton(
        self,
        ann: Mapping[str, Any],
        labels: list[LabelSpec],
        label: LabelSpec,
        common: dict[str, Any],
        where: str,
    ) -> LabeledShape:
        elements = []
        for k, el in enumerate(ann.get("elements") or []):
            el_where = f"{where}.elements[{k}]"
            index = el.get("label_id")
            if not isinstance(index, int) or not 0 <= index < len(labels):
                raise FormatError(f"{el_where}: label_id {index} is not in categories.label")
            sub = labels[index]
            vis = list(el.get("visibility") or [2])
            el_attrs = el.get("attributes") or {}
            elements.append(
                LabeledShape(
                    ShapeType.POINTS,
                    common["frame"],
                    sub.id,
                    [float(v) for v in el.get("points") or []],
                    outside=int(vis[0]) == 0 or bool(el_attrs.get("outside", False)),
                    occluded=int(vis[0]) == 1,
                    attributes=self.labels.attributes(sub, el_attrs, el_where, ignore=_RESERVED),
                )
            )
        return LabeledShape(ShapeType.SKELETON, points=[], elements=elements, **common)

    def result(self) -> LabeledData:
        tracks, plain = rebuild_tracks(self.shapes, self.view)
        return LabeledData(tags=self.tags, shapes=plain, tracks=tracks)


def _annotation_files(files: ImportFiles) -> Iterator[str]:
    if not files.is_archive:
        yield files.names()[0]
        return
    names = [
        n
        for n in files.names()
        if n.lower().endswith(".json") and posixpath.basename(posixpath.dirname(n)) == "annotations"
    ]
    if not names:
        raise FormatError(f"{files.filename}: no annotations/<subset>.json in the archive")
    yield from sorted(names)


@importer(name="Datumaro", ext="JSON, ZIP", version="1.0")
def import_datumaro(src: BinaryIO, view: DatasetView, filename: str) -> LabeledData:
    reader = _Reader(view)
    with open_import(src, filename) as files:
        for name in _annotation_files(files):
            reader.read(load_json(files, name), name)
    return reader.result()
