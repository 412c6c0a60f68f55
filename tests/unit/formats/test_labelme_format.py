from __future__ import annotations

import io
from typing import Any

import pytest
from format_helpers import export_bytes, make_view, zip_names, zip_with
from hypothesis import given
from hypothesis import strategies as st
from more_format_helpers import bomb_zip, carried, member, rezip, round_trip, traversal_zip

from cvat_serverless.domain.annotations import (
    AttributeVal,
    DatasetView,
    InputType,
    LabeledData,
    LabeledShape,
    ShapeType,
    validate_annotations,
)
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.domain.labels import AttributeSpec
from cvat_serverless.formats.labelme import escape_attr, parse_attributes
from cvat_serverless.formats.registry import get_exporter, get_exporter_spec, get_importer

EXPORT = get_exporter("LabelMe 3.0")
IMPORT = get_importer("LabelMe 3.0")
CARRIED = {ShapeType.RECTANGLE, ShapeType.POLYGON, ShapeType.MASK}


def test_registered_with_cvat_name() -> None:
    assert get_exporter_spec("LabelMe 3.0").to_dict()["version"] == "3.0"


def test_layout(view: DatasetView, images: Any) -> None:
    data = export_bytes(EXPORT, view, images)
    assert zip_names(data) == sorted(
        [f"default/img_{i}.xml" for i in range(6)]
        + [f"default/img_{i}.jpg" for i in range(6)]
        + ["Masks/default/img_3_mask_0.png"]
    )
    xml = member(data, "default/img_0.xml")
    assert "<filename>img_0.jpg</filename>" in xml and "<nrows>48</nrows><ncols>64</ncols>" in xml
    assert "<type>bounding_box</type>" in xml and "<pt><x>1.5</x><y>2.25</y></pt>" in xml
    assert "<attributes>color=blue, parked=true, speed=42</attributes>" in xml
    assert "<attributes>rotation=30</attributes>" in xml
    assert "<attributes>track_id=0, keyframe=true</attributes>" in xml
    # the car and person boxes share group 1: object 0 leads, object 1 is its part
    assert "<parts><hasparts>1</hasparts><ispartof></ispartof></parts>" in xml
    assert "<parts><hasparts></hasparts><ispartof>0</ispartof></parts>" in xml
    assert "<segm><mask>img_3_mask_0.png</mask>" in member(data, "default/img_3.xml")
    assert "default/img_0.jpg" not in zip_names(export_bytes(EXPORT, view))


def test_round_trip(view: DatasetView) -> None:
    got = round_trip(EXPORT, IMPORT, view)
    validate_annotations(got, view.labels, frame_count=6)

    def key(data: LabeledData) -> list[Any]:
        # geometry, occluded, rotation, attributes (groups are renumbered; checked below)
        return [(*k[:4], k[4], k[6], k[-2]) for k in carried(data, view, CARRIED, digits=6)]

    assert key(got) == key(view.annotations)
    assert sorted(t.label_id for t in got.tracks) == [1, 2]
    frame0 = [s for s in got.shapes if s.frame == 0]
    assert len({s.group for s in frame0}) == 1 and frame0[0].group != 0


def test_attribute_text_escapes() -> None:
    view = make_view(annotations=LabeledData())
    view.labels[1].attributes = [AttributeSpec(20, "note", InputType.TEXT, False, [], "")]
    note = 'a=b, "c"\\d,'
    view.annotations.shapes = [
        LabeledShape(ShapeType.RECTANGLE, 2, 2, [1, 1, 5, 5], attributes=[AttributeVal(20, note)])
    ]
    got = round_trip(EXPORT, IMPORT, view)
    assert [a.value for a in got.shapes[0].attributes] == [note]
    assert parse_attributes('x=1, flag, q="2", e=a\\,b') == {"x": "1", "flag": "true", "q": "2", "e": "a,b"}


@given(
    st.dictionaries(st.text(min_size=1).filter(lambda s: s.strip() == s), st.text().filter(lambda s: s.strip() == s))
)
def test_attribute_text_round_trips(values: dict[str, str]) -> None:
    text = ", ".join(f"{escape_attr(k)}={escape_attr(v)}" for k, v in values.items())
    parsed = parse_attributes(text)
    assert parsed == values  # quotes in a value are escaped on the way out, so they come back as they were


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x: x.replace("<name>car</name>", "<name>truck</name>", 1), r"img_0\.xml, line 6: label 'truck'"),
        (lambda x: x.replace("<x>1.5</x>", "<x>abc</x>"), r"img_0\.xml, line 13: <pt> has a bad <x> 'abc'"),
        (lambda x: x.replace("</annotation>", ""), r"img_0\.xml, line \d+: malformed XML"),
        (lambda x: '<!DOCTYPE a [<!ENTITY e "x">]>' + x, r"DOCTYPE declarations are not allowed"),
        (lambda x: x.replace("<filename>img_0.jpg", "<filename>zzz.jpg"), None),
    ],
)
def test_bad_annotation_files(view: DatasetView, change: Any, message: str | None) -> None:
    data = export_bytes(EXPORT, view)
    assert member(data, "default/img_0.xml").splitlines()[5].startswith("  <object>")
    bad = rezip(data, lambda c: c.update({"default/img_0.xml": change(c["default/img_0.xml"].decode()).encode()}))
    if message is None:  # an unknown <filename> falls back to the XML's own name
        assert len(IMPORT(io.BytesIO(bad), view, "a.zip").shapes) == len(round_trip(EXPORT, IMPORT, view).shapes)
        return
    with pytest.raises(FormatError, match=message):
        IMPORT(io.BytesIO(bad), view, "a.zip")


def test_bad_archives(view: DatasetView) -> None:
    data = export_bytes(EXPORT, view)
    no_mask = rezip(data, lambda c: c.pop("Masks/default/img_3_mask_0.png"))
    with pytest.raises(FormatError, match=r"img_3\.xml, line \d+: mask file 'img_3_mask_0\.png' is missing"):
        IMPORT(io.BytesIO(no_mask), view, "a.zip")
    with pytest.raises(FormatError, match=r"no LabelMe \.xml files"):
        IMPORT(io.BytesIO(zip_with({"gt/gt.txt": "1"})), view, "mot.zip")
    with pytest.raises(FormatError, match="needs a ZIP"):
        IMPORT(io.BytesIO(b"<annotation/>"), view, "a.xml")
    orphan = zip_with({"default/zzz.xml": "<annotation><filename>zzz.jpg</filename></annotation>"})
    with pytest.raises(FormatError, match=r"default/zzz\.xml: could not match"):
        IMPORT(io.BytesIO(orphan), view, "a.zip")
    with pytest.raises(UnsafeArchiveError):
        IMPORT(io.BytesIO(traversal_zip("default/../../a.xml")), view, "a.zip")
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        IMPORT(io.BytesIO(bomb_zip("default/img_0.xml")), view, "a.zip")


def test_empty_task() -> None:
    assert len(round_trip(EXPORT, IMPORT, make_view(annotations=LabeledData()))) == 0
