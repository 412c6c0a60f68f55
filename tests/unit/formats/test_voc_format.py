from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from format_helpers import export_bytes, make_view, zip_names, zip_with
from more_format_helpers import bomb_zip, carried, member, members, rezip, round_trip, traversal_zip
from PIL import Image

from cvat_serverless.domain.annotations import (
    DatasetView,
    LabeledData,
    LabeledShape,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.formats._raster import rasterize, voc_colormap
from cvat_serverless.formats.common import cvat_mask_to_bitmap, group_by_frame
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("PASCAL VOC 1.1")
IMPORT = get_importer("PASCAL VOC 1.1")
BOX = {ShapeType.RECTANGLE}


def _png(data: bytes, name: str) -> Any:
    return Image.open(io.BytesIO(members(data)[name]))


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("PASCAL VOC 1.1").to_dict()["ext"] == "ZIP"


def test_layout(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    names = zip_names(data)
    assert [n for n in names if n.startswith("Annotations/")] == [f"Annotations/img_{i}.xml" for i in range(6)]
    assert [n for n in names if n.startswith("JPEGImages/")] == [f"JPEGImages/img_{i}.jpg" for i in range(6)]
    # frames 1..4 have polygons (frame 1 and the car polygon track) or the mask (frame 3)
    assert [n for n in names if n.startswith("SegmentationObject/")] == [
        f"SegmentationObject/img_{i}.png" for i in range(1, 5)
    ]
    assert member(data, "ImageSets/Main/default.txt").split() == [f"img_{i}" for i in range(6)]
    assert member(data, "ImageSets/Segmentation/default.txt").split() == [f"img_{i}" for i in range(1, 5)]
    assert member(data, "ImageSets/Main/weather_default.txt").splitlines() == [
        "img_0  1",
        "img_1 -1",
        "img_2 -1",
        "img_3 -1",
        "img_4 -1",
        "img_5  1",
    ]
    assert member(data, "labelmap.txt").splitlines() == [
        "# label:color_rgb:parts:actions",
        "background:0,0,0::",
        "car:255,0,0::",
        "person:0,255,0::",
        "face:0,0,255::",
        "weather:136,136,136::",
    ]
    xml = member(data, "Annotations/img_0.xml")
    assert "<filename>img_0.jpg</filename>" in xml and "<width>64</width><height>48</height>" in xml
    assert "<segmented>0</segmented>" in xml and xml.count("<object>") == 3
    assert "<bndbox><xmin>1.5</xmin><ymin>2.25</ymin><xmax>20.75</xmax><ymax>30</ymax></bndbox>" in xml
    assert "<attribute><name>color</name><value>blue</value></attribute>" in xml
    assert "<attribute><name>rotation</name><value>30</value></attribute>" in xml
    assert "<attribute><name>track_id</name><value>0</value></attribute>" in xml
    cls = _png(data, "SegmentationClass/img_3.png")
    assert cls.mode == "P" and cls.getpalette()[3:6] == [255, 0, 0]
    assert set(np.unique(np.asarray(cls)).tolist()) == {0, 1}
    assert "JPEGImages/img_0.jpg" not in zip_names(export_bytes(EXPORT, view))


def _painted_masks(view: DatasetView) -> list[tuple[int, int, bytes]]:
    """What the segmentation should carry: polygons and masks painted in z order."""
    out = []
    for fa in group_by_frame(view):
        shapes = sorted(
            (f.shape for f in fa.shapes if f.shape.type in (ShapeType.POLYGON, ShapeType.MASK)), key=lambda s: s.z_order
        )
        bitmaps = [rasterize(s, 64, 48) for s in shapes]
        for i, (shape, bitmap) in enumerate(zip(shapes, bitmaps, strict=True)):
            assert bitmap is not None
            visible = bitmap.copy()
            for later in bitmaps[i + 1 :]:
                assert later is not None
                visible &= ~later
            if visible.any():
                out.append((fa.frame.frame, shape.label_id, np.packbits(visible).tobytes()))
    return sorted(out)


def test_round_trip(view: DatasetView) -> None:
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)

    # boxes: geometry, occluded, rotation, attributes; box tracks come back as tracks
    def boxes(data: LabeledData) -> list[Any]:
        return [(*k[:4], k[4], k[6], k[-2]) for k in carried(data, view, BOX)]

    assert boxes(got) == boxes(view.annotations)
    assert [t.label_id for t in got.tracks] == [2]
    assert [k.frame for k in got.tracks[0].shapes] == [0, 1, 2, 3, 4] and got.tracks[0].shapes[-1].outside
    # polygons and masks come back as the masks of what was visible
    masks = [s for s in got.shapes if s.type == ShapeType.MASK]
    assert {s.type for s in got.shapes} == {ShapeType.RECTANGLE, ShapeType.MASK}
    have = sorted((s.frame, s.label_id, np.packbits(cvat_mask_to_bitmap(s.points, 64, 48)).tobytes()) for s in masks)
    assert have == _painted_masks(view)
    assert [(t.frame, t.label_id) for t in got.tags] == [(t.frame, t.label_id) for t in view.annotations.tags]


def test_mask_only_round_trip_is_exact() -> None:
    original = make_view().annotations.shapes[7]
    view = make_view(annotations=LabeledData(shapes=[original]))
    got = round_trip(EXPORT, IMPORT, view)
    assert [(s.frame, s.label_id, s.points) for s in got.shapes] == [(3, 1, original.points)]


def test_flat_zip_of_xml_files_and_no_labelmap(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    flat = {f"img_{i}.xml": member(data, f"Annotations/img_{i}.xml") for i in range(6)}
    got = IMPORT(io.BytesIO(zip_with(flat)), view, "xmls.zip")
    assert len(carried(got, view, BOX)) == 6
    # without labelmap.txt, class index i is the task's i-th label
    no_map = rezip(data, lambda c: c.pop("labelmap.txt"))
    again = IMPORT(io.BytesIO(no_map), view, "a.zip")
    assert sorted(s.label_id for s in again.shapes if s.type == ShapeType.MASK) == [1] * 6


def test_colour_class_masks_are_read_through_the_labelmap(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)

    def to_rgb(content: dict[str, bytes]) -> None:
        for name in [n for n in content if n.startswith("SegmentationClass/")]:
            buf = io.BytesIO()
            Image.open(io.BytesIO(content[name])).convert("RGB").save(buf, format="PNG")
            content[name] = buf.getvalue()

    got = IMPORT(io.BytesIO(rezip(data, to_rgb)), view, "a.zip")
    assert len([s for s in got.shapes if s.type == ShapeType.MASK]) == 6

    def bad_colour(content: dict[str, bytes]) -> None:
        to_rgb(content)
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (1, 2, 3)).save(buf, format="PNG")
        content["SegmentationClass/img_3.png"] = buf.getvalue()

    with pytest.raises(FormatError, match=r"SegmentationClass/img_3\.png: pixel \(0, 0\) has colour \(1, 2, 3\)"):
        IMPORT(io.BytesIO(rezip(data, bad_colour)), view, "a.zip")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda x: x.replace("<name>car</name>", "<name>truck</name>", 1),
            r"Annotations/img_0\.xml, line 7: label 'truck' is not in the task",
        ),
        (lambda x: x.replace("<xmin>1.5</xmin>", "<xmin>abc</xmin>"), r"img_0\.xml, line 12: <xmin> 'abc' is not"),
        (lambda x: x.replace("<ymax>30</ymax>", ""), r"img_0\.xml, line 12: <bndbox> has no <ymax>"),
        (lambda x: x.replace("</annotation>", ""), r"img_0\.xml, line \d+: malformed XML"),
        (lambda x: '<!DOCTYPE a [<!ENTITY e "x">]>' + x, r"img_0\.xml, line 1: DOCTYPE declarations are not allowed"),
        (lambda x: x.replace("<annotation>", "<doc>").replace("</annotation>", "</doc>"), r"not <annotation>"),
    ],
)
def test_bad_annotation_files(view: DatasetView, change: Any, message: str) -> None:
    data = export_bytes(EXPORT, view)
    assert member(data, "Annotations/img_0.xml").splitlines()[6] == "  <object>"
    bad = rezip(
        data, lambda c: c.update({"Annotations/img_0.xml": change(c["Annotations/img_0.xml"].decode()).encode()})
    )
    with pytest.raises(FormatError, match=message):
        IMPORT(io.BytesIO(bad), view, "a.zip")


def test_bad_archives(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    with pytest.raises(FormatError, match="not a PASCAL VOC archive"):
        IMPORT(io.BytesIO(zip_with({"obj.names": "car\n"})), view, "yolo.zip")
    with pytest.raises(FormatError, match="needs a ZIP"):
        IMPORT(io.BytesIO(b"<annotation/>"), view, "a.xml")

    def rename(content: dict[str, bytes]) -> None:
        xml = content.pop("Annotations/img_0.xml").replace(b"img_0.jpg", b"zzz.jpg")
        content["Annotations/zzz.xml"] = xml

    renamed = rezip(data, rename)
    with pytest.raises(FormatError, match=r"Annotations/zzz\.xml: could not match 'zzz'"):
        IMPORT(io.BytesIO(renamed), view, "a.zip")
    small = rezip(data, lambda c: c.update({"SegmentationObject/img_3.png": _tiny_png()}))
    with pytest.raises(FormatError, match=r"SegmentationObject/img_3\.png: mask size 2x2 is not the frame's 64x48"):
        IMPORT(io.BytesIO(small), view, "a.zip")
    broken = rezip(data, lambda c: c.update({"SegmentationObject/img_3.png": b"\x89PNG broken"}))
    with pytest.raises(FormatError, match=r"img_3\.png: not a readable PNG"):
        IMPORT(io.BytesIO(broken), view, "a.zip")
    bad_map = rezip(data, lambda c: c.update({"labelmap.txt": b"# x\nbackground:0,0,0::\ncar:1,2::\n"}))
    with pytest.raises(FormatError, match=r"labelmap\.txt, line 3: colour '1,2' is not 'r,g,b'"):
        IMPORT(io.BytesIO(bad_map), view, "a.zip")
    with pytest.raises(UnsafeArchiveError):
        IMPORT(io.BytesIO(traversal_zip("Annotations/../../x.xml")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("Annotations/img_0.xml")), view, "a.zip")


def _tiny_png() -> bytes:
    buf = io.BytesIO()
    img = Image.new("P", (2, 2), 1)
    img.putpalette([c for rgb in voc_colormap() for c in rgb])
    img.save(buf, format="PNG")
    return buf.getvalue()


def _masks_only(data: bytes, labelmap: bytes) -> bytes:
    """The export without its boxes (so the masks give the first error) and with ``labelmap``."""

    def change(content: dict[str, bytes]) -> None:
        for name in [n for n in content if n.startswith("Annotations/")]:
            del content[name]
        content["labelmap.txt"] = labelmap

    return rezip(data, change)


def test_mask_classes_must_be_in_the_map_and_the_task(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    with pytest.raises(FormatError, match=r"SegmentationObject/img_1\.png: class index 1 is not in the label map"):
        IMPORT(io.BytesIO(_masks_only(data, b"background:0,0,0::\n")), view, "a.zip")
    truck = _masks_only(data, b"background:0,0,0::\ntruck:255,0,0::\n")
    with pytest.raises(FormatError, match=r"img_1\.png, instance 1: label 'truck' is not in the task"):
        IMPORT(io.BytesIO(truck), view, "a.zip")


def test_empty_task_and_too_many_instances() -> None:
    empty = make_view(annotations=LabeledData())
    assert len(round_trip(EXPORT, IMPORT, empty)) == 0
    many = [LabeledShape(ShapeType.POLYGON, 0, 1, [i % 60, 0, i % 60 + 1, 0, i % 60, 1 + i // 60]) for i in range(255)]
    with pytest.raises(FormatError, match="more than 254 instances"):
        export_bytes(EXPORT, make_view(annotations=LabeledData(shapes=many)))
