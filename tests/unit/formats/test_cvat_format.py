from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable

import pytest
from format_helpers import (
    canon_shapes,
    canon_tags,
    canon_track,
    export_bytes,
    flat_shapes,
    make_view,
    zip_names,
    zip_with,
)

from cvat_serverless.domain.annotations import DatasetView, LabeledData, validate_annotations
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.domain.interpolation import shapes_to_tracks
from cvat_serverless.formats.registry import get_exporter, get_importer

EXPORT_IMAGES = get_exporter("CVAT for images 1.1")
EXPORT_VIDEO = get_exporter("CVAT for video 1.1")
IMPORT = get_importer("CVAT 1.1")


def _import(data: bytes, view: DatasetView, filename: str = "upload.zip") -> LabeledData:
    return IMPORT(io.BytesIO(data), view, filename)


def test_images_archive_layout_and_xml(view: DatasetView, images: Callable[[int], bytes]) -> None:
    data = export_bytes(EXPORT_IMAGES, view, images)
    assert zip_names(data) == ["annotations.xml"] + [f"images/img_{i}.jpg" for i in range(6)]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = ET.fromstring(z.read("annotations.xml"))
        assert z.read("images/img_3.jpg") == images(3)
    assert root.tag == "annotations" and root[0].tag == "version" and root[0].text == "1.1"
    assert [c.tag for c in root[1]] == ["task", "dumped"]
    labels = [lab.findtext("name") for lab in root.iter("label")]
    assert labels == ["car", "person", "face", "left_eye", "right_eye", "nose", "weather"]
    assert root.find(".//label[name='nose']/parent").text == "face"  # type: ignore[union-attr]
    images_el = root.findall("image")
    assert [i.get("name") for i in images_el] == [f"img_{i}.jpg" for i in range(6)]
    box = images_el[0].find("box[@label='car']")
    assert box is not None
    assert (box.get("xtl"), box.get("ytl"), box.get("xbr"), box.get("ybr")) == (
        "1.50",
        "2.25",
        "20.75",
        "30.00",
    )
    assert box.get("group_id") == "1" and box.get("z_order") == "1" and box.get("source") == "manual"
    assert {a.get("name"): a.text for a in box.findall("attribute")} == {
        "color": "blue",
        "parked": "true",
        "speed": "42",
    }
    mask = images_el[3].find("mask")
    assert mask is not None and mask.get("rle") == "2, 2, 3, 4, 1, 6, 1, 4, 1"
    assert (mask.get("left"), mask.get("top"), mask.get("width"), mask.get("height")) == (
        "10",
        "12",
        "6",
        "4",
    )
    skel = images_el[4].find("skeleton")
    assert skel is not None and [p.get("label") for p in skel.findall("points")] == [
        "left_eye",
        "right_eye",
        "nose",
    ]
    assert images_el[0].find("tag[@label='weather']") is not None


def test_images_round_trip_flattens_tracks(view: DatasetView) -> None:
    data = export_bytes(EXPORT_IMAGES, view)
    assert zip_names(data) == ["annotations.xml"]  # without images
    got = _import(data, view)
    validate_annotations(got, view.labels, frame_count=6)
    assert got.tracks == []
    assert canon_shapes(got.shapes) == canon_shapes(flat_shapes(view.annotations, stop_frame=5))
    assert canon_tags(got) == canon_tags(view.annotations)


def test_video_round_trip_keeps_tracks() -> None:
    view = make_view(video=True)
    data = export_bytes(EXPORT_VIDEO, view)
    got = _import(data, view)
    validate_annotations(got, view.labels, frame_count=6)
    # tracks come back keyframe for keyframe; plain shapes come back as 1-2 frame tracks
    expected_tracks = sorted(canon_track(t) for t in view.annotations.tracks)
    got_tracks = sorted(canon_track(t) for t in got.tracks)
    for t in expected_tracks:
        assert t in got_tracks
    assert len(got.tracks) == len(view.annotations.tracks) + len(view.annotations.shapes)
    # and the shapes they stand for are the same
    flattened = flat_shapes(got, stop_frame=5)
    assert canon_shapes(flattened) == canon_shapes(flat_shapes(view.annotations, stop_frame=5))
    assert got.tags == []  # CVAT for video has no tags


def test_video_track_xml_has_every_frame_with_keyframe_flags() -> None:
    view = make_view(video=True)
    root = ET.fromstring(zipfile.ZipFile(io.BytesIO(export_bytes(EXPORT_VIDEO, view))).read("annotations.xml"))
    person = root.findall("track")[0]
    assert person.get("label") == "person"
    rows = [(b.get("frame"), b.get("keyframe"), b.get("outside")) for b in person.findall("box")]
    assert rows == [("0", "1", "0"), ("1", "0", "0"), ("2", "1", "0"), ("3", "0", "0"), ("4", "1", "1")]
    assert root.find("meta/task/original_size/width").text == "64"  # type: ignore[union-attr]


def test_bare_xml_upload_is_accepted(view: DatasetView) -> None:
    xml = zipfile.ZipFile(io.BytesIO(export_bytes(EXPORT_IMAGES, view))).read("annotations.xml")
    got = _import(xml, view, "annotations.xml")
    assert len(got.shapes) == len(flat_shapes(view.annotations, 5))


def test_shapes_to_tracks_matches_video_import_for_mot_style_data() -> None:
    view = make_view(video=True)
    got = _import(export_bytes(EXPORT_VIDEO, view), view)
    flattened = flat_shapes(got, stop_frame=5)
    tracks, plain = shapes_to_tracks(
        [s for s in flattened if s.label_id == 2 and s.type == "rectangle" and s.frame < 4 and s.points[0] < 20],
        key=lambda s: "person",
        stop_frame=5,
    )
    assert plain == [] and len(tracks) == 1 and tracks[0].shapes[-1].outside


# --------------------------------------------------------------------------- bad input

XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n<version>1.1</version>\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '<image id="0" name="img_0.jpg"><box label="truck" xtl="1" ytl="1" xbr="2" ybr="2"/></image>',
            r"annotations\.xml, line 6: label 'truck' is not in the task",
        ),
        ('<image id="0" name="nope.jpg"></image>', r"line 5: could not match image 'nope\.jpg'"),
        (
            '<image id="0" name="img_0.jpg"><box label="car" xtl="1" ytl="x" xbr="2" ybr="2"/></image>',
            r"line 6: attribute 'ytl'='x' is not a number",
        ),
        (
            '<image id="0" name="img_0.jpg"><polygon label="car" points="1,1;2,2"/></image>',
            r"line 6: a polygon needs",
        ),
        (
            '<image id="0" name="img_0.jpg"><box label="car" xtl="1" ytl="1" xbr="2" ybr="2">'
            '<attribute name="color">green</attribute></box></image>',
            r"attribute 'color' of 'car'",
        ),
        ('<image id="0" name="img_0.jpg"><box label="car" xtl="1" ytl="1"', r"line 7: malformed XML"),
    ],
)
def test_bad_xml_errors_name_the_file_and_line(view: DatasetView, body: str, message: str) -> None:
    xml = XML_HEAD + "\n" + body.replace("><", ">\n<", 1) + "\n</annotations>\n"
    with pytest.raises(FormatError, match=message):
        _import(zip_with({"annotations.xml": xml}), view)


def test_archive_without_xml_is_a_clear_error(view: DatasetView) -> None:
    with pytest.raises(FormatError, match=r"upload\.zip: no \.xml annotation file"):
        _import(zip_with({"instances_default.json": "{}"}), view)
    with pytest.raises(FormatError, match="not a valid ZIP"):
        _import(b"PK\x03\x04garbage", view)


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/annotations.xml", "a/../../b.xml", "C:\\x.xml"])
def test_path_traversal_is_refused(view: DatasetView, name: str) -> None:
    with pytest.raises(UnsafeArchiveError, match="unsafe path"):
        _import(zip_with({name: XML_HEAD + "</annotations>"}), view)


def test_zip_bomb_is_refused(view: DatasetView) -> None:
    bomb = zip_with({"annotations.xml": XML_HEAD + " " * (30 * 1024 * 1024) + "</annotations>"})
    assert len(bomb) < 200_000
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        _import(bomb, view)


def test_doctype_entities_are_refused(view: DatasetView) -> None:
    xml = (
        '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;">]>\n'
        '<annotations><image id="0" name="img_0.jpg"><tag label="&y;"/></image></annotations>'
    )
    with pytest.raises(FormatError, match="line 2: DOCTYPE declarations are not allowed"):
        _import(xml.encode(), view, "annotations.xml")
