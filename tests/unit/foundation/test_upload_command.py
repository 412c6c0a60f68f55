"""`cvat-serverless upload`'s client side without a server: which files it sends, how it batches
them, the part offsets it PUTs, and the abort when a part cannot be sent."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from cvat_serverless_tools.admin import upload as up

MIB = 1024 * 1024


def files(tmp_path: Path, **sizes: int) -> list[up.LocalFile]:
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(bytes(i % 251 for i in range(size)))
    return up.local_files([str(tmp_path / n) for n in sizes])


def test_directories_expand_and_clashing_or_empty_files_are_refused(tmp_path: Path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for name in ("b.png", "a.png", ".hidden"):
        (folder / name).write_bytes(b"x")
    assert [f.name for f in up.local_files([str(folder)])] == ["a.png", "b.png"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.png").write_bytes(b"y")
    with pytest.raises(up.UploadError, match="same name"):
        up.local_files([str(folder), str(other / "a.png")])
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(up.UploadError, match="empty"):
        up.local_files([str(tmp_path / "empty.png")])
    with pytest.raises(up.UploadError, match="no such file"):
        up.local_files([str(tmp_path / "missing.mp4")])


def test_batches_bound_files_and_bytes():
    many = [up.LocalFile(Path(f"{i}.png"), 10) for i in range(250)]
    assert [len(b) for b in up.batches(many)] == [100, 100, 50]
    big = [up.LocalFile(Path("a.mp4"), up.BATCH_BYTES), up.LocalFile(Path("b.png"), 1)]
    assert [len(b) for b in up.batches(big)] == [1, 1]


class FakeServer:
    """Answers the direct-upload calls as the API does, with parts of ``part`` bytes."""

    def __init__(self, part: int) -> None:
        self.part = part
        self.calls: list[tuple[str, Any]] = []

    def call(self, method: str, path: str, body: Any = None, **_: Any) -> Any:
        self.calls.append((path.rsplit("/", 1)[-1], body))
        if path.endswith("/uploads"):
            return {"files": [{
                "name": f["name"], "upload_id": f"u-{f['name']}", "part_size": self.part,
                "parts": [{"part_number": n + 1, "url": f"http://s3/{f['name']}/{n + 1}",
                           "size": min(self.part, f["size"] - n * self.part)}
                          for n in range(-(-f["size"] // self.part))]} for f in body["files"]]}
        if path.endswith("/complete"):
            return {"files": [f["name"] for f in body["files"]]}
        return None


def test_every_byte_is_sent_once_in_its_part_and_completed_in_order(tmp_path: Path):
    sent: dict[str, bytes] = {}

    def put(url: str, path: Path, offset: int, length: int) -> str:
        sent[url] = path.read_bytes()[offset:offset + length]
        return f"etag-{url.rsplit('/', 1)[-1]}"

    local = files(tmp_path, **{"a.bin": 2500, "b.bin": 700})
    server = FakeServer(part=1000)
    progress = up.Progress(3200, 2, io.StringIO())
    staged = up.upload_files(server, 7, local, jobs=3, progress=progress, put=put)  # type: ignore[arg-type]
    assert staged == ["a.bin", "b.bin"] and (progress.done, progress.files_done) == (3200, 2)
    assert b"".join(sent[f"http://s3/a.bin/{n}"] for n in (1, 2, 3)) == (tmp_path / "a.bin").read_bytes()
    [(_, complete)] = [c for c in server.calls if c[0] == "complete"]
    assert [p["part_number"] for p in complete["files"][0]["parts"]] == [1, 2, 3]
    assert complete["files"][0]["parts"][2]["etag"] == "etag-3"


def test_a_part_that_cannot_be_sent_aborts_the_batch(tmp_path: Path):
    def put(url: str, *_: Any) -> str:
        if url.endswith("/2"):
            raise up.UploadError("a.bin: a part could not be sent")
        return "etag"

    server = FakeServer(part=1000)
    with pytest.raises(up.UploadError, match="could not be sent"):
        up.upload_files(server, 7, files(tmp_path, **{"a.bin": 2500}), jobs=2,  # type: ignore[arg-type]
                        progress=up.Progress(2500, 1, io.StringIO()), put=put)
    assert [c[0] for c in server.calls] == ["uploads", "abort"]
    assert server.calls[-1][1] == {"files": [{"name": "a.bin", "upload_id": "u-a.bin"}]}


def test_progress_prints_a_line_per_tenth_off_a_terminal():
    out = io.StringIO()
    progress = up.Progress(100, 1, out)
    for _ in range(20):
        progress.add(5)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 12 and lines[-1].startswith("Uploading: 0.0/0.0 MiB (100%)")


def test_a_direct_import_upload_sends_each_part_and_aborts_on_a_failure(tmp_path: Path):
    from cvat_serverless_tools.admin import direct_import as di

    class OneFile:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Any]] = []

        def call(self, method: str, path: str, body: Any = None, **_: Any) -> Any:
            self.calls.append((path.rsplit("/", 1)[-1], body))
            if path.endswith("/uploads"):
                return {"upload_id": "1_u", "part_size": 1000, "parts": [
                    {"part_number": n, "url": f"http://s3/{n}", "size": min(1000, body["size"] - (n - 1) * 1000)}
                    for n in (1, 2, 3)]}
            return {}

    [local] = files(tmp_path, **{"backup.zip": 2500})
    sent: dict[int, bytes] = {}

    def put(url: str, path: Path, offset: int, length: int) -> str:
        sent[int(url.rsplit("/", 1)[-1])] = path.read_bytes()[offset:offset + length]
        return f"e{url[-1]}"

    server = OneFile()
    assert di.upload_file(server, "/api/tasks/backup/uploads", local, jobs=2,  # type: ignore[arg-type]
                          progress=up.Progress(2500, 1, io.StringIO()), put=put) == "1_u"
    assert b"".join(sent[n] for n in (1, 2, 3)) == local.path.read_bytes()
    assert server.calls[-1] == ("complete", {"upload_id": "1_u", "parts": [
        {"part_number": n, "etag": f"e{n}"} for n in (1, 2, 3)]})

    def broken(url: str, *_: Any) -> str:
        raise up.UploadError("backup.zip: a part could not be sent")

    server = OneFile()
    with pytest.raises(up.UploadError, match="could not be sent"):
        di.upload_file(server, "/api/tasks/backup/uploads", local, jobs=2,  # type: ignore[arg-type]
                       progress=up.Progress(2500, 1, io.StringIO()), put=broken)
    assert server.calls[-1] == ("abort", {"upload_id": "1_u"})
