"""Archives for formats: a streaming ZIP writer and a safe reader for uploaded files.

The reader never extracts to disk; still, it refuses archives a careless extractor would be
hurt by, so an error is reported at upload time with the offending member's name: path
traversal ("zip slip"), symlinks and zip bombs, by the checks and limits that the media engine
uses too (:mod:`cvat_serverless.domain.archives`, raising
:class:`~cvat_serverless.domain.errors.UnsafeArchiveError`).

A non-ZIP upload (``annotations.xml``, ``instances_default.json``) is served as a one-member
archive named after the uploaded file, so importers treat both the same way.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import queue
import shutil
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Any, BinaryIO

from cvat_serverless.domain.annotations import DatasetView, FrameInfo
from cvat_serverless.domain.archives import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    check_expansion,
    zip_members,
)
from cvat_serverless.domain.errors import FormatError

__all__ = [
    "ArchiveError",
    "ExportArchive",
    "ImageSlot",
    "ImportFiles",
    "open_import",
]


class ArchiveError(FormatError):
    """The uploaded file is not a readable archive."""


class ImageSlot:
    """A frame's image that another worker writes into the archive (an export's images are
    copied in parallel, then joined with the annotations: :mod:`.zipjoin`). The exporter names
    the member as it always does; the archive records ``(member name, frame)`` in ``placed``
    instead of writing anything."""

    __slots__ = ("frame", "placed")

    def __init__(self, frame: int, placed: list[tuple[str, int]]) -> None:
        self.frame = frame
        self.placed = placed


ImageData = bytes | BinaryIO | IO[bytes] | ImageSlot | None


class ExportArchive:
    """A ZIP being written to ``out`` (seekable or not), member by member, in constant memory."""

    # Level 1: annotation JSON/XML still shrinks ~5-8x, at a third of level 6's CPU time.
    def __init__(self, out: BinaryIO | IO[bytes], *, compresslevel: int = 1) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._names: set[str] = set()

    def __enter__(self) -> ExportArchive:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._zip.close()

    def _claim(self, name: str) -> None:
        if name in self._names:
            raise FormatError(f"duplicate archive member '{name}'")
        self._names.add(name)

    def open_text(self, name: str, *, buffer_size: int = 1 << 20) -> IO[str]:
        """A text stream into member ``name`` (UTF-8); close it before opening the next."""
        self._claim(name)
        raw = self._zip.open(name, "w", force_zip64=True)
        buffered = io.BufferedWriter(raw, buffer_size=buffer_size)
        return io.TextIOWrapper(buffered, encoding="utf-8", newline="\n", write_through=False)

    def open_binary_pipelined(self, name: str, *, buffer_size: int = 1 << 20, depth: int = 1) -> IO[bytes]:
        """A binary stream into member ``name``, compressed and written on a worker thread while
        the caller produces the next ``buffer_size`` bytes: zlib releases the GIL, so on two
        cores deflate costs (almost) no wall time. At most ``depth`` buffers wait in between.
        An error of the worker is raised by the next write or by ``close``."""
        self._claim(name)
        raw = _BackgroundWriter(self._zip.open(name, "w", force_zip64=True), depth)
        return io.BufferedWriter(raw, buffer_size=buffer_size)

    def open_text_pipelined(self, name: str, *, buffer_size: int = 1 << 20, depth: int = 1) -> IO[str]:
        """:meth:`open_text`, deflated on a worker thread (see :meth:`open_binary_pipelined`)."""
        buffered = self.open_binary_pipelined(name, buffer_size=buffer_size, depth=depth)
        return io.TextIOWrapper(buffered, encoding="utf-8", newline="\n", write_through=False)

    def write_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        self._claim(name)
        kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip.writestr(name, data, compress_type=kind)

    def write_stream(self, name: str, src: IO[bytes], *, compress: bool = False) -> None:
        self._claim(name)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with self._zip.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def write_image(self, name: str, data: ImageData) -> bool:
        """Store an image (bytes or a file object, as the callback gave it); False if none."""
        if data is None:
            return False
        if isinstance(data, ImageSlot):
            self._claim(name)
            data.placed.append((name, data.frame))
            return True
        if isinstance(data, bytes | bytearray | memoryview):
            self.write_bytes(name, bytes(data), compress=False)  # media is compressed already
        else:
            try:
                self.write_stream(name, data)
            finally:
                close = getattr(data, "close", None)
                if close is not None:
                    close()
        return True

    def write_images(
        self,
        view: DatasetView,
        images: Callable[[int], ImageData] | None,
        path: Callable[[FrameInfo], str],
    ) -> int:
        """Store every frame's image at ``path(frame)``; returns how many were stored."""
        if images is None:
            return 0
        count = 0
        for frame in view.frames:
            if self.write_image(path(frame), images(frame.frame)):
                count += 1
        return count


class _SwitchInterval:
    """Shortens the interpreter's thread switch interval while pipelined writers run.

    The deflate worker spends its time in zlib with the GIL released, but it needs the GIL back
    after every call into zlib (crc32, each output block of ``compress``, the file write): half a
    dozen times per chunk. While the producer runs Python code it holds the GIL, and a thread
    waiting for it only asks for it after the switch interval (5 ms by default): the worker then
    waits far longer than it works and the two threads hardly overlap. At 0.2 ms the waits cost
    the worker a few ms per export and the producer a few hundred forced switches. The setting
    is process-wide, so it is counted: the last writer to close restores the previous value
    (an interval that is already shorter is left alone)."""

    INTERVAL = 0.0002

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: float | None = None

    def acquire(self) -> None:
        with self._lock:
            if self._users == 0:
                current = sys.getswitchinterval()
                if current > self.INTERVAL:
                    self._saved = current
                    sys.setswitchinterval(self.INTERVAL)
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._saved is not None:
                sys.setswitchinterval(self._saved)
                self._saved = None


_switch_interval = _SwitchInterval()


class _BackgroundWriter(io.RawIOBase):
    """A raw stream that hands each chunk to a thread which writes it to ``target``."""

    _interval_held = False  # this writer counts in _switch_interval

    def __init__(self, target: IO[bytes], depth: int) -> None:
        super().__init__()
        self._target = target
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="zip-writer", daemon=True)
        _switch_interval.acquire()
        self._interval_held = True
        try:
            self._thread.start()
        except BaseException:
            self._interval_held = False
            _switch_interval.release()
            raise

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._error is not None:
            raise self._error
        chunk = bytes(data)  # BufferedWriter reuses (or lends) its buffer: keep a copy
        self._queue.put(chunk)
        return len(chunk)

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            if self._error is None:  # after an error, drain so the producer never blocks
                try:
                    self._target.write(chunk)
                except BaseException as exc:  # handed to the producer thread
                    self._error = exc

    def close(self) -> None:
        if self.closed:
            return
        self._queue.put(None)
        try:
            self._thread.join()
        finally:
            if self._interval_held:
                self._interval_held = False
                _switch_interval.release()
        try:
            if self._error is not None:
                raise self._error
        finally:
            self._target.close()
            super().close()


# What zipfile raises for damaged data: a bad CRC or header (BadZipFile), a broken deflate
# stream (zlib.error), a member cut short (EOFError), impossible offsets (ValueError, OSError).
_CORRUPT_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError)


class _CheckedMember(io.RawIOBase):
    """A ZIP member being read, whose damage surfaces as an ArchiveError (a 400) wherever it is
    found: while an importer parses the stream, not only when the member is opened."""

    def __init__(self, member: IO[bytes], message: str) -> None:
        super().__init__()
        self._member = member
        self._message = message

    def readable(self) -> bool:
        return True

    def _read(self, size: int) -> bytes:
        try:
            return self._member.read(size)
        except _CORRUPT_ZIP as exc:
            raise ArchiveError(f"{self._message}: {exc}") from exc

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self._read(-1)  # read_bytes: one call, not a loop of 8 KiB reads

    def close(self) -> None:
        if not self.closed:
            self._member.close()
        super().close()


class ImportFiles:
    """Read-only view of an uploaded archive (or single file), with safety checks up front."""

    def __init__(
        self,
        src: BinaryIO | IO[bytes],
        filename: str,
        *,
        limits: ArchiveLimits = DEFAULT_LIMITS,
    ) -> None:
        self.filename = filename
        self._zip: zipfile.ZipFile | None = None
        self._single: bytes | None = None
        self._single_name = posixpath.basename(filename.replace("\\", "/")) or "upload"
        head = src.read(4)
        try:
            src.seek(0)
        except (AttributeError, OSError, io.UnsupportedOperation):
            rest = src.read()
            src = io.BytesIO(head + rest)
        if head[:2] == b"PK":
            try:
                self._zip = zipfile.ZipFile(src)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                # NotImplementedError: a member "needs" a ZIP version zipfile does not read
                raise ArchiveError(f"{filename}: not a valid ZIP archive ({exc})") from exc
            members = zip_members(self._zip, filename)
            check_expansion([m for m, _ in members], filename, limits=limits)
            # importers look members up by the names the archive gives them
            self._members = {i.filename: i for m, i in members if not m.is_dir}
        else:
            if filename.lower().endswith(".zip"):
                raise ArchiveError(f"{filename}: not a valid ZIP archive")
            self._single = src.read()
            self._members = {}

    # ---- listing

    @property
    def is_archive(self) -> bool:
        return self._zip is not None

    def names(self) -> list[str]:
        if self._zip is None:
            return [self._single_name]
        return list(self._members)

    def glob(self, pattern: str) -> list[str]:
        """Members matching a shell pattern (``*`` crosses ``/``), sorted."""
        return sorted(n for n in self.names() if fnmatch.fnmatchcase(n, pattern))

    def exists(self, name: str) -> bool:
        return name in self.names()

    def find(self, suffix: str) -> list[str]:
        """Members whose path ends with ``suffix`` (at a ``/`` boundary), sorted."""
        out = [n for n in self.names() if n == suffix or n.endswith("/" + suffix)]
        return sorted(out)

    # ---- reading

    def open(self, name: str) -> IO[bytes]:
        if self._zip is None:
            if name != self._single_name:
                raise FormatError(f"{self.filename}: '{name}' is not in the upload")
            return io.BytesIO(self._single or b"")
        info = self._members.get(name)
        if info is None:
            raise FormatError(f"{self.filename}: '{name}' is missing from the archive")
        try:
            member = self._zip.open(info)
        except (*_CORRUPT_ZIP, NotImplementedError, RuntimeError) as exc:
            # ValueError: a header offset that points before the start of the file
            raise ArchiveError(f"{self.filename}: cannot read '{name}': {exc}") from exc
        return io.BufferedReader(_CheckedMember(member, f"{self.filename}: '{name}' is corrupt"))

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def read_text(self, name: str) -> str:
        data = self.read_bytes(name)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FormatError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> ImportFiles:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def open_import(src: BinaryIO | IO[bytes], filename: str, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> ImportFiles:
    """Open an uploaded file: a ZIP (checked for traversal and bombs) or a single bare file."""
    return ImportFiles(src, filename, limits=limits)
