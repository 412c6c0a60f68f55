"""formats.zipjoin: pieces of ZIP records written apart, joined by offsets, read back by zipfile
(and by Info-ZIP's ``unzip -t`` where it is installed)."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from cvat_serverless.formats.archive import ExportArchive, ImageSlot
from cvat_serverless.formats.zipjoin import ZipRecord, central_directory, records_of, shifted, stored_record


def piece(members: list[tuple[str, bytes]]) -> tuple[bytes, list[ZipRecord]]:
    out = bytearray()
    records = []
    for name, data in members:
        header, record = stored_record(name, data, len(out))
        out += header + data
        records.append(record)
    return bytes(out), records


def annotations_zip() -> bytes:
    buffer = io.BytesIO()
    with ExportArchive(buffer) as archive:
        with archive.open_text("annotations/instances_default.json") as f:
            f.write('{"images": []}' * 1000)
        archive.write_bytes("labels.txt", b"car\nperson\n")
    return buffer.getvalue()


def join(pieces: list[tuple[bytes, list[ZipRecord]]]) -> bytes:
    out = bytearray()
    records: list[ZipRecord] = []
    for data, own in pieces:
        records += shifted(own, len(out))
        out += data
    return bytes(out + central_directory(records, len(out)))


def test_pieces_and_an_engine_zip_join_into_one_readable_archive(tmp_path: Path) -> None:
    first = piece([("images/default/a.jpg", b"\xff\xd8 a" * 100), ("images/default/ü.png", b"png" * 10)])
    second = piece([("images/default/b.jpg", b"\xff\xd8 b" * 7)])
    engine = annotations_zip()
    own, end = records_of(io.BytesIO(engine))
    joined = join([first, second, (engine[:end], own)])
    with zipfile.ZipFile(io.BytesIO(joined)) as z:
        assert z.testzip() is None
        assert z.namelist() == ["images/default/a.jpg", "images/default/ü.png", "images/default/b.jpg",
                                "annotations/instances_default.json", "labels.txt"]
        assert z.read("images/default/a.jpg") == b"\xff\xd8 a" * 100
        assert z.read("images/default/b.jpg") == b"\xff\xd8 b" * 7
        assert z.read("labels.txt") == b"car\nperson\n"
        assert z.read("annotations/instances_default.json").startswith(b'{"images": []}')
    if shutil.which("unzip"):
        path = tmp_path / "joined.zip"
        path.write_bytes(joined)
        check = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr


def test_more_than_65535_members_use_zip64_end_records() -> None:
    members = [(f"f/{i}.txt", b"x") for i in range(70_000)]
    data, records = piece(members)
    joined = data + central_directory(records, len(data))
    assert b"PK\x06\x06" in joined[-200:]  # the ZIP64 end record is there
    with zipfile.ZipFile(io.BytesIO(joined)) as z:
        infos = z.infolist()
        assert len(infos) == 70_000
        assert z.read("f/69999.txt") == b"x"


def test_offsets_past_4_gib_are_written_as_zip64_extra_fields() -> None:
    far = ZipRecord("big.bin", offset=5 * 2**30, crc=0, compressed_size=0, size=0)
    directory = central_directory([far], 6 * 2**30)
    # the 32-bit offset says "see the extra field", which holds the real one
    assert b"\xff\xff\xff\xff" in directory
    assert (5 * 2**30).to_bytes(8, "little") in directory
    assert b"PK\x06\x06" in directory and b"PK\x06\x07" in directory


def test_records_survive_json() -> None:
    _, (record,) = piece([("a.jpg", b"abc")])
    assert ZipRecord.from_list(record.to_list()) == record


def test_an_image_slot_names_the_member_without_writing_it() -> None:
    placed: list[tuple[str, int]] = []
    buffer = io.BytesIO()
    with ExportArchive(buffer) as archive:
        assert archive.write_image("images/default/a.jpg", ImageSlot(3, placed))
    assert placed == [("images/default/a.jpg", 3)]
    with zipfile.ZipFile(buffer) as z:
        assert z.namelist() == []


def test_a_slot_claims_its_name() -> None:
    placed: list[tuple[str, int]] = []
    with ExportArchive(io.BytesIO()) as archive:
        archive.write_image("a.jpg", ImageSlot(0, placed))
        with pytest.raises(Exception, match="duplicate"):
            archive.write_image("a.jpg", ImageSlot(1, placed))
