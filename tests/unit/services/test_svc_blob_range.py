"""Reading part of a stored object: the seekable range file and zip members by position (what a
frame read costs: one ranged GET once the zip's tail is known)."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from typing import Any

import pytest

from cvat_serverless.adapters.memory import InMemoryBlobStore
from cvat_serverless.domain.errors import CvatServerlessError, NotFoundError
from cvat_serverless.services.blob_range import BlobRangeFile, StoredZips


class CountingBlobs(InMemoryBlobStore):
    """Counts the requests a client makes (the fake's own calls to itself are not requests)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self._inside = False

    def _count(self, name: str, call: Any) -> Any:
        if not self._inside:
            self.calls[name] += 1
        outer, self._inside = self._inside, True
        try:
            return call()
        finally:
            self._inside = outer

    def head(self, key: str) -> Any:
        return self._count("head", lambda: super(CountingBlobs, self).head(key))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return self._count("get_range", lambda: super(CountingBlobs, self).get_range(key, start, end))

    def get(self, key: str) -> bytes:
        return self._count("get", lambda: super(CountingBlobs, self).get(key))


def chunk(count: int, size: int = 5000) -> tuple[bytes, list[bytes]]:
    frames = [bytes([i % 256]) * (size + i) for i in range(count)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for i, data in enumerate(frames):
            z.writestr(f"{i:06d}.jpeg", data)
    return out.getvalue(), frames


def test_members_by_position_cost_one_get_once_the_tail_is_known():
    blobs = CountingBlobs()
    data, frames = chunk(72, size=20_000)  # ~1.5 MB: bigger than the read-ahead
    blobs.put("c.zip", data)
    zips = StoredZips(blobs)
    assert zips.member("c.zip", 40) == ("000040.jpeg", frames[40])
    assert blobs.calls == {"head": 1, "get_range": 2}  # the size, the tail, the member
    blobs.calls.clear()
    assert zips.member("c.zip", 3) == ("000003.jpeg", frames[3])
    assert blobs.calls == {"get_range": 1}
    assert zips.members("c.zip", [10, 11, 12]) == [(f"{i:06d}.jpeg", frames[i]) for i in (10, 11, 12)]
    assert blobs.calls["get"] == 0


def test_bad_positions_missing_objects_and_non_zips():
    blobs = InMemoryBlobStore()
    blobs.put("c.zip", chunk(3)[0])
    blobs.put("text", b"not a zip at all")
    zips = StoredZips(blobs)
    with pytest.raises(NotFoundError, match="no member 3"):
        zips.member("c.zip", 3)
    with pytest.raises(NotFoundError):
        zips.member("missing.zip", 0)
    with pytest.raises(CvatServerlessError, match="not a readable zip"):
        zips.member("text", 0)


def test_the_range_file_reads_like_a_file():
    blobs = InMemoryBlobStore()
    blobs.put("k", bytes(range(256)) * 10)
    file = BlobRangeFile(blobs, "k", read_ahead=16, spans=2)
    assert file.read(4) == bytes([0, 1, 2, 3])
    file.seek(-2, io.SEEK_END)
    assert file.read() == bytes([254, 255]) and file.read() == b""
    file.seek(300)
    assert file.tell() == 300 and file.read(3) == bytes([44, 45, 46])
    buffer = bytearray(5)
    file.seek(1000)
    assert file.readinto(buffer) == 5 and bytes(buffer) == bytes(range(232, 237))
    with pytest.raises(OSError):
        file.seek(-1)
