"""ExportArchive.open_text_pipelined: the member is compressed on a worker thread; the archive
must be the same as with open_text, errors must reach the caller, and no thread may be left."""

from __future__ import annotations

import io
import random
import sys
import threading
import zipfile
from typing import Any

import pytest

from cvat_serverless.formats.archive import ExportArchive


def _text(seed: int, size: int) -> str:
    rng = random.Random(seed)
    words = ["box", "polygon", "ümlaut", "12.5", "<&>", "\n", "座標", "0.3333333333333333"]
    parts: list[str] = []
    total = 0
    while total < size:
        word = rng.choice(words)
        parts.append(word)
        total += len(word)
    return " ".join(parts)


def _write(pipelined: bool, chunks: list[str], out: Any) -> None:
    with ExportArchive(out) as archive:
        opener = archive.open_text_pipelined if pipelined else archive.open_text
        with opener("annotations/a.json", buffer_size=1 << 12) as text:
            for chunk in chunks:
                text.write(chunk)
        archive.write_bytes("after.txt", b"next member")


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {name: z.read(name) for name in z.namelist()}


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zip-writer"]


@pytest.mark.parametrize("size", [0, 100, 50_000])
def test_pipelined_member_is_the_same_as_a_plain_one(size: int) -> None:
    text = _text(size, size)
    chunks = [text[i : i + 777] for i in range(0, len(text), 777)]
    plain, pipelined = io.BytesIO(), io.BytesIO()
    _write(False, chunks, plain)
    _write(True, chunks, pipelined)
    assert _members(pipelined.getvalue()) == _members(plain.getvalue())
    assert _members(pipelined.getvalue())["annotations/a.json"] == text.encode()
    assert not _writer_threads()


class _Unseekable(io.RawIOBase):
    """A write-only stream without seek/tell, as an S3 multipart upload stream is."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        view = memoryview(b)  # type: ignore[arg-type]
        self.data += view
        return len(view)


def test_pipelined_member_streams_into_an_unseekable_output() -> None:
    text = _text(1, 30_000)
    out = _Unseekable()
    _write(True, [text], out)
    assert _members(bytes(out.data))["annotations/a.json"] == text.encode()


class _FailingOnceOutput(io.RawIOBase):
    """Fails one write (past ``fail_after`` bytes), then accepts everything: an error that a
    worker swallowed would leave no trace."""

    def __init__(self, fail_after: int) -> None:
        self.left = fail_after
        self.failed = False

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        n = len(memoryview(b))  # type: ignore[arg-type]
        if not self.failed and self.left - n < 0:
            self.failed = True
            raise OSError("disk full")
        self.left -= n
        return n


def test_an_output_error_on_the_worker_reaches_the_caller() -> None:
    text = _text(2, 200_000)
    out = _FailingOnceOutput(20_000)
    with pytest.raises(OSError, match="disk full"):
        _write(True, [text[i : i + 1000] for i in range(0, len(text), 1000)], out)
    assert out.failed
    assert not _writer_threads()


def test_a_caller_error_stops_the_worker() -> None:
    out = io.BytesIO()
    with (
        pytest.raises(RuntimeError, match="formatting failed"),
        ExportArchive(out) as archive,
        archive.open_text_pipelined("a.json", buffer_size=1 << 10) as text,
    ):
        text.write("x" * 10_000)
        raise RuntimeError("formatting failed")
    assert not _writer_threads()


def test_the_switch_interval_is_short_while_a_worker_runs_and_restored_after() -> None:
    """The worker needs the GIL back after every zlib call: the interval is shortened while a
    pipelined member is open (nested ones too) and restored when the last one closes, also
    when the export fails."""
    before = sys.getswitchinterval()
    out = io.BytesIO()
    with ExportArchive(out) as archive:
        with archive.open_text_pipelined("a.json") as first:
            first.write("a")
            assert sys.getswitchinterval() < before
            with ExportArchive(io.BytesIO()) as other, other.open_binary_pipelined("b.json") as second:
                second.write(b"b")
            assert sys.getswitchinterval() < before  # the first writer still runs
        assert sys.getswitchinterval() == before
    with (
        pytest.raises(RuntimeError),
        ExportArchive(io.BytesIO()) as archive,
        archive.open_text_pipelined("c.json") as text,
    ):
        text.write("c")
        raise RuntimeError("formatting failed")
    assert sys.getswitchinterval() == before
    assert _members(out.getvalue()) == {"a.json": b"a"}
