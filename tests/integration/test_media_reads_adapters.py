"""Reading stored chunks by ranges (services.blob_range) on both media buckets: the in-memory fake
and S3BlobStore on moto (presigned reads: test_aws_adapters.py)."""

from __future__ import annotations

import io
import zipfile

import pytest

from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.s3 import S3BlobStore
from cvat_serverless.ports import BlobStore
from cvat_serverless.services.blob_range import BlobRangeFile, StoredZips


@pytest.fixture(params=["memory", "s3"])
def blobs(request: pytest.FixtureRequest) -> BlobStore:
    if request.param == "memory":
        return mem.InMemoryBlobStore()
    return S3BlobStore(request.getfixturevalue("stack").outputs["MediaBucketName"])


def chunk(count: int) -> tuple[bytes, list[bytes]]:
    frames = [bytes([i]) * (70_000 + i * 13) for i in range(count)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for i, data in enumerate(frames):
            z.writestr(f"{i:06d}.png", data)
    return out.getvalue(), frames


def test_zip_members_by_position_on_both_buckets(blobs: BlobStore) -> None:
    data, frames = chunk(36)
    blobs.put("tasks/1/data/1/chunks/original/0.zip", data, content_type="application/zip")
    zips = StoredZips(blobs)
    for position in (35, 0, 17):
        assert zips.member("tasks/1/data/1/chunks/original/0.zip", position) == (f"{position:06d}.png",
                                                                               frames[position])
    assert [d for _, d in zips.members("tasks/1/data/1/chunks/original/0.zip", [3, 4, 5])] == frames[3:6]


def test_a_range_file_reads_the_last_bytes_and_stops_at_the_end(blobs: BlobStore) -> None:
    blobs.put("k.bin", bytes(range(256)) * 4)
    file = BlobRangeFile(blobs, "k.bin", read_ahead=100)
    file.seek(1020)
    assert file.read(100) == bytes(range(252, 256)) and file.read(1) == b""
    assert file.size == 1024

