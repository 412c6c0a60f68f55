"""One ZIP made of pieces written apart: how an export with images is assembled without one
process ever holding (or even reading) the whole archive.

A ZIP is its members' local records (a local header, then the data) in any order, followed by a
central directory that lists every member with the offset of its local header. So pieces can be
written by different workers, each a run of local records whose offsets are relative to the
piece's start (:func:`stored_record` for images, which are compressed already;
:func:`records_of` for a ZIP the formats engine wrote, whose records end where its central
directory starts). Whoever joins the pieces knows their sizes, shifts every member's offset by the
bytes before its piece, and appends :func:`central_directory`: the pieces themselves are copied
byte for byte (on S3, server-side).

ZIP64 is used where the format needs it (more than 65,535 members, or offsets and sizes past
4 GiB); Python's ``zipfile``, Info-ZIP and 7-Zip read the result, which tests check.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import IO

__all__ = ["ZipRecord", "central_directory", "records_of", "shifted", "stored_header", "stored_record"]

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_LIMIT = 0xFFFFFFFF
_COUNT_LIMIT = 0xFFFF
_UTF8 = 0x800
_DOS_EPOCH = (1980, 1, 1, 0, 0, 0)
_UNIX_FILE = (0o100644 << 16)


@dataclass(frozen=True, slots=True)
class ZipRecord:
    """One member: what the central directory says of it. ``offset`` is its local header's,
    relative to the start of the piece that holds it until :func:`shifted`."""

    name: str
    offset: int
    crc: int
    compressed_size: int
    size: int
    method: int = zipfile.ZIP_STORED
    flags: int = 0
    date_time: tuple[int, int, int, int, int, int] = _DOS_EPOCH

    def to_list(self) -> list[object]:
        """A JSON-able form (pieces' indexes travel between workers as JSON)."""
        return [self.name, self.offset, self.crc, self.compressed_size, self.size, self.method, self.flags,
                list(self.date_time)]

    @classmethod
    def from_list(cls, row: Sequence[object]) -> ZipRecord:
        name, offset, crc, csize, size, method, flags, when = row
        assert isinstance(when, list | tuple)
        return cls(str(name), int(str(offset)), int(str(crc)), int(str(csize)), int(str(size)), int(str(method)),
                   int(str(flags)), tuple(int(v) for v in when))  # type: ignore[arg-type]


def _dos(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _encoded(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8


def stored_record(name: str, data: bytes, offset: int) -> tuple[bytes, ZipRecord]:
    """The local header of ``data`` stored as-is under ``name``, and its record; the caller
    writes the header, then ``data``, at ``offset`` of its piece."""
    return stored_header(name, zlib.crc32(data), len(data), offset)


def stored_header(name: str, crc: int, size: int, offset: int) -> tuple[bytes, ZipRecord]:
    """The local header of ``size`` bytes with CRC-32 ``crc`` stored under ``name`` (the bytes
    themselves follow it in the archive, from wherever they are), and its record."""
    raw_name, flags = _encoded(name)
    dos_time, dos_date = _dos(_DOS_EPOCH)
    extra, version, packed = b"", 20, size
    if size >= _LIMIT:  # a video of 4 GiB or more: ZIP64 sizes in the local header
        extra, version, packed = struct.pack("<HHQQ", 1, 16, size, size), 45, _LIMIT
    header = _LOCAL.pack(b"PK\x03\x04", version, 0, flags, zipfile.ZIP_STORED, dos_time, dos_date, crc,
                         packed, packed, len(raw_name), len(extra)) + raw_name + extra
    return header, ZipRecord(name, offset, crc, size, size, zipfile.ZIP_STORED, flags)


def records_of(archive: IO[bytes]) -> tuple[list[ZipRecord], int]:
    """The members of a complete ZIP and where its local records end (its central directory's
    offset): the bytes before it are a piece :func:`central_directory` can list."""
    with zipfile.ZipFile(archive) as z:
        infos = z.infolist()
    records = [ZipRecord(i.filename, i.header_offset, i.CRC, i.compress_size, i.file_size, i.compress_type,
                         i.flag_bits, i.date_time) for i in infos]
    return records, _directory_offset(archive)


def _directory_offset(archive: IO[bytes]) -> int:
    """Where the central directory starts, from the end records (no archive comment: ours have
    none; zipfile has already refused anything that is not a ZIP)."""
    archive.seek(0, 2)
    total = archive.tell()
    archive.seek(total - _END.size)
    end = _END.unpack(archive.read(_END.size))
    if end[0] != b"PK\x05\x06":
        raise ValueError("the archive ends with a comment or is not a ZIP")
    offset = int(end[6])
    if offset != _LIMIT:
        return offset
    archive.seek(total - _END.size - _LOCATOR64.size)
    locator = _LOCATOR64.unpack(archive.read(_LOCATOR64.size))
    archive.seek(int(locator[2]))
    return int(_END64.unpack(archive.read(_END64.size))[9])


def shifted(records: Iterable[ZipRecord], by: int) -> list[ZipRecord]:
    """The records of a piece that starts ``by`` bytes into the archive."""
    return [replace(r, offset=r.offset + by) for r in records]


def central_directory(records: Sequence[ZipRecord], start: int) -> bytes:
    """The central directory listing ``records`` (absolute offsets) and the end records, for a
    directory written at ``start`` (the bytes of every piece before it)."""
    out = bytearray()
    for r in records:
        raw_name, utf8 = _encoded(r.name)
        extra_values = []
        size, csize, offset = r.size, r.compressed_size, r.offset
        if size >= _LIMIT:
            extra_values.append(size)
            size = _LIMIT
        if csize >= _LIMIT:
            extra_values.append(csize)
            csize = _LIMIT
        if offset >= _LIMIT:
            extra_values.append(offset)
            offset = _LIMIT
        extra = b""
        if extra_values:  # the ZIP64 extended information field
            extra = struct.pack(f"<HH{len(extra_values)}Q", 1, 8 * len(extra_values), *extra_values)
        version = 45 if extra_values else 20
        dos_time, dos_date = _dos(r.date_time)
        out += _CENTRAL.pack(b"PK\x01\x02", version, 3, version, 0, r.flags | utf8, r.method, dos_time, dos_date,
                             r.crc, csize, size, len(raw_name), len(extra), 0, 0, 0, _UNIX_FILE, offset)
        out += raw_name + extra
    size = len(out)
    count = len(records)
    if count >= _COUNT_LIMIT or size >= _LIMIT or start >= _LIMIT:
        end64 = start + size
        out += _END64.pack(b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0, count, count, size, start)
        out += _LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1)
    out += _END.pack(b"PK\x05\x06", 0, 0, min(count, _COUNT_LIMIT), min(count, _COUNT_LIMIT),
                     min(size, _LIMIT), min(start, _LIMIT), 0)
    return bytes(out)
