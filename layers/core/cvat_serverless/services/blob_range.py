"""Reading part of a stored object without downloading all of it: a seekable, read-only file over
``BlobStore.get_range`` (one ranged GET per read that misses its small cache, with read-ahead), and
the members of a stored zip read through it.

A chunk is a zip of up to a few hundred frames (tens of MB for originals); one frame is one member.
``zipfile`` reads the end of the archive (the central directory) and then the member, so a frame
costs a HEAD (the size), a GET of the archive's tail and a GET of the member. ``StoredZips`` keeps
the tails of the zips it read (keys of task data are written once and never change in place), so
the next frame of the same chunk costs one GET.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence

from ..domain.errors import CvatServerlessError, NotFoundError
from ..ports import BlobStore

READ_AHEAD = 256 * 1024  # a miss reads at least this much: zipfile reads headers in small pieces
TAIL = 64 * 1024  # the end of a zip: the end record and, for a chunk, its whole central directory
CACHED_SPANS = 8
_LOCAL_HEADER = 30  # zipfile.sizeFileHeader
_HEADER_SLACK = 1024  # a local header's extra field may be longer than the central directory's
TAILS_KEPT = 128


class BlobRangeFile(io.RawIOBase):
    """A stored object as a seekable, read-only binary file. Reads are served from a few cached
    spans; a miss fetches one span of at least ``read_ahead`` bytes with one ranged GET.
    ``prefetch`` fetches a span the caller knows it will read, in one GET. ``gets`` counts the
    ranged GETs (the HEAD for the size, when the size is not given, is not counted)."""

    def __init__(self, blobs: BlobStore, key: str, *, size: int | None = None, read_ahead: int = READ_AHEAD,
                 spans: int = CACHED_SPANS) -> None:
        super().__init__()
        self.blobs = blobs
        self.key = key
        self._size = size
        self.read_ahead = read_ahead
        self._max_spans = spans
        self._spans: OrderedDict[int, bytes] = OrderedDict()  # start -> bytes, least recently used first
        self._pos = 0
        self.gets = 0

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = int(self.blobs.head(self.key)["size"])
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            raise OSError(22, "negative seek position")
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        data = self._read_at(self._pos, end - self._pos) if end > self._pos else b""
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def prefetch(self, start: int, end: int) -> None:
        """Fetch bytes ``start`` .. ``end`` (inclusive, clipped to the object) in one GET, unless
        cached already."""
        end = min(end, self.size - 1)
        if start > end or self._covered(start, end):
            return
        self._fetch(start, end)

    def add_span(self, start: int, data: bytes) -> None:
        """Bytes of the object known already (a cached tail)."""
        self._spans[start] = data
        self._trim()

    def span_at_end(self) -> tuple[int, bytes] | None:
        """The cached span that reaches the end of the object, if any."""
        for start, data in self._spans.items():
            if start + len(data) >= self.size:
                return start, data
        return None

    # --- the cache -------------------------------------------------------------------------------

    def _covered(self, start: int, end: int) -> bool:
        return any(s <= start and end < s + len(d) for s, d in self._spans.items())

    def _span_with(self, pos: int) -> tuple[int, bytes] | None:
        for start, data in self._spans.items():
            if start <= pos < start + len(data):
                self._spans.move_to_end(start)
                return start, data
        return None

    def _fetch(self, start: int, end: int) -> tuple[int, bytes]:
        data = self.blobs.get_range(self.key, start, end)
        self.gets += 1
        if not data:
            raise NotFoundError(f"{self.key}: no bytes at {start}.")
        self._spans[start] = data
        self._trim()
        return start, data

    def _trim(self) -> None:
        while len(self._spans) > self._max_spans:
            self._spans.popitem(last=False)

    def _read_at(self, pos: int, n: int) -> bytes:
        out = bytearray()
        while n > 0:
            span = self._span_with(pos)
            if span is None:
                span = self._fetch(pos, min(self.size, pos + max(n, self.read_ahead)) - 1)
            start, data = span
            piece = data[pos - start: pos - start + n]
            out += piece
            pos += len(piece)
            n -= len(piece)
        return bytes(out)


class StoredZips:
    """Members of stored zips, by position (``infolist()`` order, as chunks hold frames), read with
    ranged GETs. The tails of the zips opened lately are kept by this reader: keys of task data
    are written once and never change in place, so the next member of the same zip costs one GET.
    One reader per blob store (a service holds it for the life of the process)."""

    def __init__(self, blobs: BlobStore, *, kept: int = TAILS_KEPT) -> None:
        self.blobs = blobs
        self.kept = kept
        self._tails: OrderedDict[str, tuple[int, int, bytes]] = OrderedDict()  # key -> (size, start, tail)
        self._lock = threading.Lock()

    def open(self, key: str) -> tuple[BlobRangeFile, zipfile.ZipFile]:
        """A stored zip, read through a range file; opening a zip whose tail is known costs no
        request. NotFoundError when there is no such object."""
        with self._lock:
            known = self._tails.get(key)
            if known is not None:
                self._tails.move_to_end(key)
        if known is not None:
            size, start, tail = known
            file = BlobRangeFile(self.blobs, key, size=size)
            file.add_span(start, tail)
        else:
            file = BlobRangeFile(self.blobs, key)
            file.prefetch(max(0, file.size - TAIL), file.size - 1)
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile as exc:
            raise CvatServerlessError(f"{key} is not a readable zip ({exc}).") from exc
        if known is None:
            end = file.span_at_end()
            if end is not None:
                with self._lock:
                    self._tails[key] = (file.size, *end)
                    while len(self._tails) > self.kept:
                        self._tails.popitem(last=False)
        return file, archive

    def members(self, key: str, positions: Sequence[int]) -> list[tuple[str, bytes]]:
        """Members by position: their names and bytes, fetched with one ranged GET for all of
        them. NotFoundError for a position the zip does not have."""
        file, archive = self.open(key)
        with archive:
            infos = archive.infolist()
            bad = [p for p in positions if not 0 <= p < len(infos)]
            if bad:
                raise NotFoundError(f"{key}: no member {bad[0]} (it has {len(infos)}).")
            wanted = [infos[p] for p in positions]
            if wanted:
                spans = [member_span(i) for i in wanted]
                file.prefetch(min(s for s, _ in spans), max(e for _, e in spans))
            return [(info.filename, archive.read(info)) for info in wanted]

    def member(self, key: str, position: int) -> tuple[str, bytes]:
        """One member by position: its name and bytes."""
        ((name, data),) = self.members(key, [position])
        return name, data


def member_span(info: zipfile.ZipInfo) -> tuple[int, int]:
    """The bytes of a member in its archive, local header included (a little more, to be safe)."""
    start = info.header_offset
    return start, start + _LOCAL_HEADER + len(info.filename.encode()) + len(info.extra) + _HEADER_SLACK \
        + info.compress_size
