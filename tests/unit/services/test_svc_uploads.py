"""The store of uploaded files (services.uploads) over the in-memory blob store: CVAT-TUS create,
append and offset, scoping by kind, resource and owner, and reading a finished upload back."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvat_serverless.adapters.memory import FixedClock, InMemoryBlobStore
from cvat_serverless.domain.errors import NotFoundError, PayloadTooLargeError, ValidationError
from cvat_serverless.domain.task_data import TusOffsetConflictError
from cvat_serverless.domain.uploads import UploadScope, contiguous_end
from cvat_serverless.services.uploads import UploadService

SCOPE = UploadScope("annotations", "task", 7)


@pytest.fixture
def uploads() -> UploadService:
    return UploadService(InMemoryBlobStore(), FixedClock())


def test_a_file_arrives_in_parts_and_reads_back_whole(uploads: UploadService, tmp_path: Path):
    body = bytes(range(256)) * 41
    upload = uploads.create(SCOPE, 3, "/home/me/coco.zip", len(body))
    assert upload.id.startswith("3_") and upload.filename == "coco.zip" and upload.offset == 0
    for offset in range(0, len(body), 1000):
        upload = uploads.append(SCOPE, 3, upload.id, offset, body[offset:offset + 1000])
    assert upload.complete and uploads.get(SCOPE, 3, upload.id).offset == len(body)
    done = uploads.finished(SCOPE, 3, upload.id)
    assert uploads.open(done).read() == body
    assert uploads.download(done, str(tmp_path / "f")) == len(body) and (tmp_path / "f").read_bytes() == body
    key = uploads.assemble(done)
    assert uploads.blobs.get(key) == body
    uploads.discard(done)
    assert not list(uploads.blobs.list_keys("staging/uploads/"))
    with pytest.raises(ValidationError):
        uploads.finished(SCOPE, 3, upload.id)


def test_offsets_conflicts_and_limits(uploads: UploadService):
    upload = uploads.create(SCOPE, 3, "a.xml", 10)
    with pytest.raises(TusOffsetConflictError) as conflict:
        uploads.append(SCOPE, 3, upload.id, 4, b"xx")
    assert conflict.value.offset == 0
    uploads.append(SCOPE, 3, upload.id, 0, b"12345")
    with pytest.raises(TusOffsetConflictError):
        uploads.append(SCOPE, 3, upload.id, 0, b"12345")
    with pytest.raises(ValidationError):
        uploads.append(SCOPE, 3, upload.id, 5, b"123456")  # past Upload-Length
    with pytest.raises(ValidationError, match="not complete"):
        uploads.finished(SCOPE, 3, upload.id)
    with pytest.raises(ValidationError):
        uploads.create(SCOPE, 3, "a.xml", -1)
    with pytest.raises(ValidationError):
        uploads.create(SCOPE, 3, "../", 1)
    small = UploadService(InMemoryBlobStore(), FixedClock(), max_request_bytes=100)
    with pytest.raises(PayloadTooLargeError):
        small.create(SCOPE, 3, "big.zip", 101)
    assert small.store(SCOPE, 3, "big.zip", b"x" * 101).complete  # one request that arrived whole


def test_an_upload_exists_only_for_its_owner_and_scope(uploads: UploadService):
    upload = uploads.create(SCOPE, 3, "a.xml", 2)
    for scope, owner in ((SCOPE, 4), (UploadScope("annotations", "task", 8), 3),
                         (UploadScope("annotations", "job", 7), 3), (UploadScope("backup", "task"), 3)):
        with pytest.raises(NotFoundError):
            uploads.get(scope, owner, upload.id)
        with pytest.raises(NotFoundError):
            uploads.append(scope, owner, upload.id, 0, b"ab")
    with pytest.raises(NotFoundError):
        uploads.get(SCOPE, 3, "../../tasks/1/data")  # never a key outside the upload's
    with pytest.raises(ValidationError):
        uploads.finished(SCOPE, 3, "coco.zip")  # Upload-Finish must name an upload id


def test_the_offset_is_where_the_contiguous_parts_end():
    assert contiguous_end([]) == (0, [])
    assert contiguous_end([(5, 5), (0, 5)]) == (10, [(0, 5), (5, 5)])
    assert contiguous_end([(0, 5), (20, 5)]) == (5, [(0, 5)])  # a part beyond a gap does not count


def test_a_direct_upload_arrives_as_one_object_and_reads_back_whole(tmp_path: Path):
    blobs = InMemoryBlobStore()
    uploads = UploadService(blobs, FixedClock(), max_request_bytes=100)  # does not apply: the bytes go to S3
    body = bytes(range(256)) * 40
    started = uploads.start_direct(SCOPE, 3, "/home/me/coco.zip", len(body))
    upload = started.upload
    assert upload.direct and upload.id.startswith("3_") and upload.filename == "coco.zip"
    assert [p.number for p in started.parts] == [1] and started.parts[0].size == len(body)
    assert not uploads.get(SCOPE, 3, upload.id).complete
    with pytest.raises(ValidationError, match="not complete"):
        uploads.finished(SCOPE, 3, upload.id)
    with pytest.raises(ValidationError, match="direct upload"):
        uploads.append(SCOPE, 3, upload.id, 0, body)  # no TUS part goes into it
    etag = blobs.http_put(started.parts[0].url, body)
    with pytest.raises(NotFoundError):
        uploads.complete_direct(SCOPE, 4, upload.id, [(1, etag)])  # another user's
    done = uploads.complete_direct(SCOPE, 3, upload.id, [(1, etag)])
    assert done.complete and uploads.complete_direct(SCOPE, 3, upload.id, [(1, etag)]).complete  # again: a no-op
    finished = uploads.finished(SCOPE, 3, upload.id)
    assert uploads.part_keys(finished) == [upload.keys.assembled]
    assert uploads.open(finished).read() == body
    assert uploads.download(finished, str(tmp_path / "f")) == len(body)
    assert uploads.assemble(finished) == upload.keys.assembled
    uploads.discard(finished)
    assert not list(blobs.list_keys(SCOPE.prefix))


def test_a_tus_upload_too_big_for_a_request_names_the_direct_upload():
    small = UploadService(InMemoryBlobStore(), FixedClock(), max_request_bytes=100)
    with pytest.raises(PayloadTooLargeError, match=r"/api/tasks/7/annotations/uploads.*import-annotations"):
        small.create(SCOPE, 3, "big.zip", 101)
    with pytest.raises(PayloadTooLargeError, match=r"/api/projects/backup/uploads.*cvat-serverless restore"):
        small.create(UploadScope("backup", "project"), 3, "big.zip", 101)
    with pytest.raises(ValidationError, match="TUS upload"):
        small.complete_direct(SCOPE, 3, small.create(SCOPE, 3, "a.xml", 10).id, [(1, "x")])
