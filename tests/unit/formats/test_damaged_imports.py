"""Damaged uploads end in a FormatError (a 400 naming the file), whichever importer reads them
and wherever the damage is found: opening the archive, opening a member, or halfway through
parsing a member's stream. Each case here was found by a mutation fuzz of the importers
(random edits of exported archives) as an exception that was not a FormatError."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib

import pytest
from format_helpers import export_bytes, make_view
from more_format_helpers import rezip

from cvat_serverless.domain.annotations import DatasetView
from cvat_serverless.domain.errors import FormatError
from cvat_serverless.formats.archive import ArchiveError
from cvat_serverless.formats.registry import get_exporter, get_importer

# exporter, importer of the same format, a member the importer reads: one per way of reading
PAIRS = [
    ("COCO 1.0", "COCO 1.0", "annotations/instances_default.json"),  # read_text + JSON
    ("Datumaro 1.0", "Datumaro 1.0", "annotations/default.json"),
    ("CVAT for images 1.1", "CVAT 1.1", "annotations.xml"),  # a streamed SAX parse
    ("PASCAL VOC 1.1", "PASCAL VOC 1.1", "Annotations/img_0.xml"),  # streamed XML, many members
    ("LabelMe 3.0", "LabelMe 3.0", "default/img_0.xml"),
    ("YOLO 1.1", "YOLO 1.1", "obj_train_data/img_0.txt"),  # text lines
    ("MOT 1.1", "MOT 1.1", "gt/gt.txt"),
]


@pytest.fixture
def view() -> DatasetView:
    return make_view()


def _eocd(data: bytes) -> int:
    at = data.rfind(b"PK\x05\x06")
    assert at > 0
    return at


def with_shifted_directory(data: bytes) -> bytes:
    """The end record says the central directory starts 1,000 bytes later than it does: the
    archive still opens (zipfile corrects by the difference), but every member's header offset
    becomes negative."""
    at = _eocd(data)
    offset = struct.unpack_from("<I", data, at + 16)[0]
    return data[: at + 16] + struct.pack("<I", offset + 1000) + data[at + 20 :]


def with_flipped_byte(data: bytes, name: str) -> bytes:
    """One byte of ``name``'s stored data changed: the member opens, and its CRC fails only once
    the reader reaches its end."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    assert info.compress_type == zipfile.ZIP_STORED
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    return data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1 :]


def stored(data: bytes) -> bytes:
    """The same archive with every member stored (uncompressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    return out.getvalue()


@pytest.mark.parametrize(("exporter", "importer", "name"), PAIRS)
def test_member_offsets_before_the_start_of_the_file(
    view: DatasetView, exporter: str, importer: str, name: str
) -> None:
    bad = with_shifted_directory(export_bytes(get_exporter(exporter), view))
    # the first member read lands before the file's start, or 1,000 bytes early, in other data
    with pytest.raises(ArchiveError, match=r"upload\.zip: cannot read '.+': (negative seek value|Bad magic number)"):
        get_importer(importer)(io.BytesIO(bad), view, "upload.zip")


@pytest.mark.parametrize(("exporter", "importer", "name"), PAIRS)
def test_a_bad_crc_found_while_parsing_the_stream(view: DatasetView, exporter: str, importer: str, name: str) -> None:
    bad = with_flipped_byte(stored(export_bytes(get_exporter(exporter), view)), name)
    with pytest.raises(FormatError) as caught:
        get_importer(importer)(io.BytesIO(bad), view, "upload.zip")
    # The flipped byte may make the text unparsable before the CRC is checked: either way the
    # message names the member.
    assert name in str(caught.value)


def test_a_bad_crc_in_a_streamed_xml_is_an_archive_error(view: DatasetView) -> None:
    data = stored(export_bytes(get_exporter("CVAT for images 1.1"), view))
    # change a digit inside a coordinate: still well-formed XML, only the CRC can tell
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("annotations.xml")
        text = z.read("annotations.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    digit = text.index(b'xtl="') + 5
    assert text[digit : digit + 1].isdigit()
    flipped = b"1" if text[digit : digit + 1] != b"1" else b"2"
    bad = data[: start + digit] + flipped + data[start + digit + 1 :]
    with pytest.raises(ArchiveError, match=r"upload\.zip: 'annotations\.xml' is corrupt: Bad CRC-32"):
        get_importer("CVAT 1.1")(io.BytesIO(bad), view, "upload.zip")


@pytest.mark.parametrize(
    ("attribute", "value"), [("z_order", "x"), ("group_id", "../../x"), ("z_order", "1.5"), ("rotation", "x")]
)
def test_cvat_integer_and_number_attributes_are_checked(view: DatasetView, attribute: str, value: str) -> None:
    data = export_bytes(get_exporter("CVAT for images 1.1"), view)

    def change(members: dict[str, bytes]) -> None:
        xml = members["annotations.xml"].decode()
        start = xml.index("<box ")
        end = xml.index(">", start)
        box = re.sub(rf' {attribute}="[^"]*"', "", xml[start:end])  # drop it if the export wrote it
        members["annotations.xml"] = (xml[:start] + box + f' {attribute}="{value}"' + xml[end:]).encode()

    kind = "a number" if attribute == "rotation" else "an integer"
    with pytest.raises(FormatError, match=rf"annotations\.xml, line \d+: attribute '{attribute}'=.* is not {kind}"):
        get_importer("CVAT 1.1")(io.BytesIO(rezip(data, change)), view, "upload.zip")


def _png_with_a_broken_chunk(png: bytes) -> bytes:
    """A chunk with a type that is not letters between two halves of the image data: Pillow
    raises SyntaxError ('broken PNG file') while decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    at = png.index(b"IDAT") - 4
    (length,) = struct.unpack_from(">I", png, at)
    body = png[at + 8 : at + 8 + length]
    return (
        png[:at]
        + chunk(b"IDAT", body[:5])
        + chunk(b"\n>\x96\x00", b"")
        + chunk(b"IDAT", body[5:])
        + png[at + 12 + length :]
    )


def test_labelme_mask_with_a_broken_png_chunk(view: DatasetView) -> None:
    data = export_bytes(get_exporter("LabelMe 3.0"), view)
    name = "Masks/default/img_3_mask_0.png"
    bad = rezip(data, lambda m: m.update({name: _png_with_a_broken_chunk(m[name])}))
    with pytest.raises(FormatError, match=r"img_3_mask_0\.png: not a readable PNG mask \(broken PNG file"):
        get_importer("LabelMe 3.0")(io.BytesIO(bad), view, "upload.zip")


def test_segmentation_mask_with_a_broken_png_chunk(view: DatasetView) -> None:
    data = export_bytes(get_exporter("Segmentation mask 1.1"), view)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        name = sorted(n for n in z.namelist() if n.startswith("SegmentationClass/"))[0]
    bad = rezip(data, lambda m: m.update({name: _png_with_a_broken_chunk(m[name])}))
    with pytest.raises(FormatError, match=r"not a readable PNG mask \(broken PNG file"):
        get_importer("Segmentation mask 1.1")(io.BytesIO(bad), view, "upload.zip")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("keypoints", [[1, 2], 3, 2] * 3, "'keypoints' must be a list of numbers"),
        ("keypoints", ["x", 3, 2] * 3, "'keypoints' must be a list of numbers"),
    ],
)
def test_coco_keypoints_that_are_not_numbers(view: DatasetView, path: str, value: object, message: str) -> None:
    data = export_bytes(get_exporter("COCO Keypoints 1.0"), view)
    name = "annotations/person_keypoints_default.json"

    def change(members: dict[str, bytes]) -> None:
        doc = json.loads(members[name])
        doc["annotations"][0][path] = value
        members[name] = json.dumps(doc).encode()

    with pytest.raises(FormatError, match=rf"{re.escape(name)}.*{re.escape(message)}"):
        get_importer("COCO Keypoints 1.0")(io.BytesIO(rezip(data, change)), view, "upload.zip")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("segmentation", [[1, 2, {"x": 1}, 4, 5, 6]], "'segmentation' must be a list of numbers"),
        ("segmentation", [7], "'segmentation' must be a list of numbers"),
        ("bbox", [1, "y", 3, 4], "'bbox' must be a list of numbers"),
        ("rotation", [1], "'attributes.rotation' must be a list of numbers"),
        ("rotation", "nan", "rotation nan is outside 0..360"),  # float() reads it; the check refuses it
    ],
)
def test_coco_geometry_that_is_not_numbers(view: DatasetView, field: str, value: object, message: str) -> None:
    data = export_bytes(get_exporter("COCO 1.0"), view)
    name = "annotations/instances_default.json"

    def change(members: dict[str, bytes]) -> None:
        doc = json.loads(members[name])
        boxes = [a for a in doc["annotations"] if not a["segmentation"]]
        if field == "rotation":
            boxes[0]["attributes"]["rotation"] = value
        elif field == "bbox":
            boxes[0]["bbox"] = value
        else:
            boxes[0]["segmentation"] = value
        members[name] = json.dumps(doc).encode()

    with pytest.raises(FormatError, match=rf"{re.escape(name)}.*{re.escape(message)}"):
        get_importer("COCO 1.0")(io.BytesIO(rezip(data, change)), view, "upload.zip")


def test_an_xml_declaration_with_an_unknown_encoding(view: DatasetView) -> None:
    data = export_bytes(get_exporter("CVAT for images 1.1"), view)

    def change(members: dict[str, bytes]) -> None:
        members["annotations.xml"] = members["annotations.xml"].replace(b'encoding="utf-8"', b'encoding="utt-8"', 1)

    bad = rezip(data, change)
    assert b"utt-8" in zipfile.ZipFile(io.BytesIO(bad)).read("annotations.xml")
    with pytest.raises(FormatError, match=r"annotations\.xml, line 1: malformed XML \(unknown encoding: utt-8\)"):
        get_importer("CVAT 1.1")(io.BytesIO(bad), view, "upload.zip")
    voc = export_bytes(get_exporter("PASCAL VOC 1.1"), view)
    voc_bad = rezip(
        voc, lambda m: m.update({"Annotations/img_0.xml": b'<?xml version="1.0" encoding="utt-8"?>\n<annotation/>'})
    )
    with pytest.raises(FormatError, match=r"img_0\.xml, line 1: malformed XML \(unknown encoding: utt-8\)"):
        get_importer("PASCAL VOC 1.1")(io.BytesIO(voc_bad), view, "upload.zip")


def test_a_zip_needing_a_newer_zip_version(view: DatasetView) -> None:
    data = bytearray(export_bytes(get_exporter("COCO 1.0"), view))
    entry = data.index(b"PK\x01\x02")  # first central directory entry
    data[entry + 6 : entry + 8] = (84).to_bytes(2, "little")  # "version needed to extract": 8.4
    with pytest.raises(ArchiveError, match=r"upload\.zip: not a valid ZIP archive \(zip file version 8\.4\)"):
        get_importer("COCO 1.0")(io.BytesIO(bytes(data)), view, "upload.zip")


def test_rle_runs_that_are_negative(view: DatasetView) -> None:
    data = export_bytes(get_exporter("COCO 1.0"), view)
    name = "annotations/instances_default.json"

    def change(members: dict[str, bytes]) -> None:
        doc = json.loads(members[name])
        mask = next(a for a in doc["annotations"] if a["iscrowd"])
        mask["segmentation"]["counts"][:2] = [-3, mask["segmentation"]["counts"][1] + 3]
        members[name] = json.dumps(doc).encode()

    with pytest.raises(FormatError, match=r"malformed RLE segmentation \(negative size or run length\)"):
        get_importer("COCO 1.0")(io.BytesIO(rezip(data, change)), view, "upload.zip")


def test_mot_line_that_csv_cannot_split(view: DatasetView) -> None:
    data = export_bytes(get_exporter("MOT 1.1"), view)

    def change(members: dict[str, bytes]) -> None:
        lines = members["gt/gt.txt"].split(b"\n")
        lines[1] = lines[1].replace(b",", b",\rx", 1)  # a carriage return inside an unquoted field
        members["gt/gt.txt"] = b"\n".join(lines)

    with pytest.raises(FormatError, match=r"gt/gt\.txt, line 2: not comma-separated values"):
        get_importer("MOT 1.1")(io.BytesIO(rezip(data, change)), view, "upload.zip")


def test_mot_track_id_that_overflows(view: DatasetView) -> None:
    data = export_bytes(get_exporter("MOT 1.1"), view)

    def change(members: dict[str, bytes]) -> None:
        lines = members["gt/gt.txt"].split(b"\n")
        fields = lines[0].split(b",")
        fields[1] = b"1e309"  # float("1e309") is inf: int() of it overflows
        lines[0] = b",".join(fields)
        members["gt/gt.txt"] = b"\n".join(lines)

    with pytest.raises(FormatError, match=r"gt/gt\.txt, line 1: frame, track and class ids must be integers"):
        get_importer("MOT 1.1")(io.BytesIO(rezip(data, change)), view, "upload.zip")
