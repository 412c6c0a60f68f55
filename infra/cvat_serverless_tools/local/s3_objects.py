"""S3 object bytes as files in the data directory; moto keeps only the objects' metadata.

moto 5.2 keeps every object's bytes in a SpooledTemporaryFile inside its FakeKey, reads them back
whole to answer a GET, and pickles them with the key, so a snapshot of the S3 backend held every
byte ever uploaded. Here (the ``s3-object-files`` moto patch, applied by moto_patches.apply()):

- Where the bytes live: ``<data dir>/s3-objects/<2 hex>/<sha256>``, one file per distinct
  content, written once (temporary file, fsync, rename) and never changed. An object is a list of
  segments ``(sha256, size, md5, crc32)``: one for a PutObject, one per part for a completed
  multipart upload (completing joins the parts' lists: no byte is copied). Copies and identical
  uploads share the files. The names are the content's own hash, so the files mean the same thing
  to any moto version, or to none.
- What moto keeps: a FakeKey holds its segment list (``_cvat_blob``) instead of a buffer; what it
  pickles (the S3 snapshot, and moto's own deep copies) is that list, so the snapshot holds only
  metadata. A FakeKey pickled by stock moto (bytes in the state, snapshot format 1) is converted
  when it is loaded: its bytes go to a file.
- Writes: an S3 PutObject or UploadPart body is streamed from the socket into the store by the
  runtime's middleware (receive_upload) before the request takes any lock, hashed on the way
  (md5 for the ETag, sha256 for the name, crc32, and the checksum the client asked for), and moto
  gets the finished segment instead of the bytes. aws-chunked bodies are decoded on the way.
- Reads: GetObject answers with a body that reads the files as the client takes them (moto's own
  range code slices it like bytes), and the middleware streams it after the request's locks are
  released; the files it reads are pinned until it is closed.
- Freeing: nothing counts references. At each S3 snapshot, the files that no object, version,
  multipart part or pin refers to are deleted, once the snapshot that no longer refers to them is
  on disk (a kill -9 in between leaves files, never a snapshot pointing at a missing file); and
  at start, after the snapshot is loaded. A file written or pinned while a sweep runs is kept.

Memory stays bounded: a request body passes through in 1 MiB blocks, an answer leaves in 1 MiB
blocks, and no code path but moto's rare whole-value ones (S3 Select, CopyObject with a new
checksum algorithm) holds an object in memory.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextvars
import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("cvat_serverless_tools.local")

DIRECTORY = "s3-objects"  # in the data directory
PATCH = "s3-object-files"
CHUNK = 1 << 20
UPLOADED = "cvat_serverless.s3.uploaded"  # environ: the request's body, already stored (a Blob)
STREAMING = "cvat_serverless.s3.streaming"  # environ: the answer reads an object's files as it is sent

# (sha256 hex, size, md5 hex, crc32) of one stored file
Segment = tuple[str, int, str, int]

_TMP = "tmp"
_EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()
_LINE_LIMIT = 8192  # an aws-chunked size or trailer line
# PUT subresources moto answers before PutObject (S3Response._key_response_put); their bodies are XML
_SUBRESOURCES = frozenset({"retention", "legal-hold", "acl", "tagging"})


class ObjectDataMissingError(RuntimeError):
    """An object's file is not in the store (removed by hand, or lost with an unsynced disk)."""


@dataclass(frozen=True)
class Blob:
    """An object's bytes: the stored files that, in order, hold them."""

    segments: tuple[Segment, ...] = ()

    @property
    def size(self) -> int:
        return sum(segment[1] for segment in self.segments)

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(segment[0] for segment in self.segments)


class Pin:
    """Keeps files from being swept until released (or garbage collected)."""

    def __init__(self, store: ObjectStore, digests: Iterable[str]) -> None:
        self._release = weakref.finalize(self, store._unpin, tuple(digests))

    def release(self) -> None:
        self._release()


class Sweep:
    """The second half of a garbage collection: delete what was unreferenced when it began."""

    def __init__(self, store: ObjectStore, keep: set[str]) -> None:
        self.store = store
        self.keep = keep

    def run(self) -> tuple[int, int]:
        """Delete the unreferenced files; (files, bytes) freed."""
        return self.store._finish_sweep(self.keep)


class ObjectStore:
    """Content-addressed files under ``root``; thread-safe."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable  # fsync each file and its directory entry before an object refers to it
        self._lock = threading.Lock()
        self._pins: dict[str, int] = {}
        self._touched: set[str] | None = None  # written or pinned since the running sweep began

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    # ------------------------------------------------------------------------------- writing
    def write(self, blocks: Iterable[bytes], extra: Checksum | None = None) -> tuple[Blob, Pin]:
        """Store the bytes ``blocks`` yields as one file; the Blob, and a pin that keeps the file
        until the caller's object refers to it. ``extra`` sees the bytes too."""
        tmp = self.root / _TMP
        tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp)
        md5, sha256, crc, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0, 0
        try:
            with os.fdopen(fd, "wb") as file:
                for block in blocks:
                    file.write(block)
                    md5.update(block)
                    sha256.update(block)
                    crc = binascii.crc32(block, crc)
                    if extra is not None:
                        extra.update(block)
                    size += len(block)
                if self.durable:
                    file.flush()
                    os.fsync(file.fileno())
            if size == 0:
                os.unlink(name)
                return Blob(), Pin(self, ())
            digest = sha256.hexdigest()
            pin = self._adopt(Path(name), digest)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Blob(((digest, size, md5.hexdigest(), crc),)), pin

    def put_bytes(self, data: bytes) -> Blob:
        """For moto's own writes of bytes (small bodies, converted snapshots): the caller's object
        refers to the file before any sweep can see it unreferenced (or the sweep saw it written)."""
        view = memoryview(data)
        blob, pin = self.write(bytes(view[i:i + CHUNK]) for i in range(0, len(view), CHUNK))
        pin.release()
        return blob

    def copy(self, blob: Blob, start: int, stop: int) -> Blob:
        """Bytes [start, stop) of a stored object as a new one."""
        copied, pin = self.write(self.read_range(blob, start, stop))
        pin.release()
        return copied

    def _adopt(self, tmp: Path, digest: str) -> Pin:
        target = self.path(digest)
        target.parent.mkdir(exist_ok=True)
        with self._lock:
            pin = self._pin_locked((digest,))
            if target.exists():
                tmp.unlink()  # the same content is stored already
                return pin
            os.replace(tmp, target)
        if self.durable:
            _fsync_dir(target.parent)
        return pin

    # ------------------------------------------------------------------------------- reading
    def read_range(self, blob: Blob, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Bytes [start, stop) of ``blob`` in blocks of at most CHUNK."""
        stop = blob.size if stop is None else stop
        offset = 0
        for digest, size, _, _ in blob.segments:
            first, end = max(start, offset), min(stop, offset + size)
            if first < end:
                try:
                    file = open(self.path(digest), "rb")  # noqa: SIM115 - closed below, also on GeneratorExit
                except FileNotFoundError:
                    raise ObjectDataMissingError(f"{self.path(digest)} is missing") from None
                with file:
                    file.seek(first - offset)
                    remaining = end - first
                    while remaining:
                        block = file.read(min(CHUNK, remaining))
                        if not block:
                            raise ObjectDataMissingError(f"{self.path(digest)} is shorter than {size} bytes")
                        remaining -= len(block)
                        yield block
            offset += size

    def read(self, blob: Blob) -> bytes:
        return b"".join(self.read_range(blob))

    def body(self, blob: Blob) -> BlobBody:
        """``blob``'s bytes as a WSGI body; its files are kept until the body is closed."""
        return BlobBody(self, blob)

    def md5(self, blob: Blob) -> str:
        if not blob.segments:
            return _EMPTY_MD5
        if len(blob.segments) == 1:
            return blob.segments[0][2]
        md5 = hashlib.md5(usedforsecurity=False)
        for block in self.read_range(blob):
            md5.update(block)
        return md5.hexdigest()

    def missing(self, digests: Iterable[str]) -> list[str]:
        return sorted(d for d in digests if not self.path(d).is_file())

    # ----------------------------------------------------------------------- pins and sweeps
    def pin(self, digests: Iterable[str]) -> Pin:
        with self._lock:
            return self._pin_locked(tuple(digests))

    def _pin_locked(self, digests: tuple[str, ...]) -> Pin:
        for digest in digests:
            self._pins[digest] = self._pins.get(digest, 0) + 1
        if self._touched is not None:
            self._touched.update(digests)
        return Pin(self, digests)

    def _unpin(self, digests: tuple[str, ...]) -> None:
        with self._lock:
            for digest in digests:
                left = self._pins.get(digest, 0) - 1
                if left > 0:
                    self._pins[digest] = left
                else:
                    self._pins.pop(digest, None)

    def begin_sweep(self, referenced: set[str]) -> Sweep:
        """Call where nothing can add a reference (the snapshot's write lock): ``referenced`` is
        every digest an object refers to now. Files stored or pinned from here on are kept."""
        with self._lock:
            self._touched = set()
            return Sweep(self, referenced | set(self._pins))

    def _finish_sweep(self, keep: set[str]) -> tuple[int, int]:
        candidates = [path for path in self.files() if path.name not in keep]
        files = freed = 0
        with self._lock:
            spared = (self._touched or set()) | set(self._pins)
            for path in candidates:
                if path.name in spared:
                    continue
                try:
                    size = path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
                files, freed = files + 1, freed + size
            self._touched = None
        return files, freed

    def collect(self, referenced: set[str]) -> tuple[int, int]:
        """A whole garbage collection, for when no request runs (at start)."""
        shutil.rmtree(self.root / _TMP, ignore_errors=True)  # bodies of requests that never finished
        return self.begin_sweep(referenced).run()

    def files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for directory in self.root.iterdir():
            if len(directory.name) == 2 and directory.is_dir():
                yield from (path for path in directory.iterdir() if len(path.name) == 64)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------- the store in use
_current: dict[str, ObjectStore] = {}
_current_lock = threading.Lock()


def configure(root: Path, *, durable: bool = True) -> ObjectStore:
    """Where this process's S3 objects live from now on (before moto's state is loaded)."""
    with _current_lock:
        _current["store"] = ObjectStore(root, durable=durable)
        return _current["store"]


def store() -> ObjectStore:
    """The configured store; without one (moto in tests, other tools), a temporary directory
    that goes away with the process."""
    with _current_lock:
        if "store" not in _current:
            root = Path(tempfile.mkdtemp(prefix="cvat-serverless-s3-objects-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            _current["store"] = ObjectStore(root, durable=False)
        return _current["store"]


def referenced_digests() -> set[str]:
    """Every file an S3 object, version, delete marker or multipart part refers to (call where
    no request runs)."""
    from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends

    found: set[str] = set()

    def add(key: Any) -> None:
        while isinstance(key, FakeDeleteMarker):
            key = key.key
        if isinstance(key, FakeKey):
            blob = key.__dict__.get("_cvat_blob")
            if blob is not None:
                found.update(blob.digests)
            if key.multipart is not None:
                for part in list(key.multipart.parts.values()):
                    add(part)

    for account in list(s3_backends.values()):
        for backend in list(account.values()):
            for bucket in [*backend.buckets.values(), *backend.table_buckets.values()]:
                for _, versions in list(bucket.keys.iterlists()):
                    for key in versions:
                        add(key)
                for multipart in list(bucket.multiparts.values()):
                    for part in list(multipart.parts.values()):
                        add(part)
    return found


# ------------------------------------------------------------------------------------- checksums
class Checksum:
    """moto's compute_checksum (moto.s3.utils), fed block by block: the same algorithm choices
    and fallbacks (CRC32 where the optional crc32c / awscrt libraries are missing)."""

    def __init__(self, algorithm: str) -> None:
        from moto.core.compat import HAS_CRT

        self._hash: Any = None
        self._crc = 0
        self._width = 4
        self._crc_of: Callable[[bytes, int], int] = binascii.crc32
        if algorithm == "SHA1":
            self._hash = hashlib.sha1(usedforsecurity=False)
        elif algorithm == "CRC32C":
            try:
                import crc32c

                self._crc_of = lambda data, value: int(crc32c.crc32c(data, value))
            except ImportError:
                pass
        elif algorithm == "CRC64NVME":
            if HAS_CRT:
                from awscrt import checksums

                self._crc_of = lambda data, value: int(checksums.crc64nvme(data, value))
                self._width = 8
        elif algorithm != "CRC32":
            self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            self._crc = self._crc_of(data, self._crc)

    def digest(self) -> bytes:
        if self._hash is not None:
            return bytes(self._hash.digest())
        return self._crc.to_bytes(self._width, "big")

    @property
    def is_crc32(self) -> bool:
        """Whether this is plain CRC32 (asked for, or moto's fallback), which each stored
        segment already records."""
        return self._hash is None and self._crc_of is binascii.crc32


def checksum_of(blob: Blob, algorithm: str) -> bytes:
    """The raw checksum of a stored object's bytes. CRC32 comes from the segments' own (the
    checksum a multipart upload gets by default, without reading its parts again)."""
    checksum = Checksum(algorithm)
    if checksum.is_crc32:
        crc = 0
        for _, size, _, segment_crc in blob.segments:
            crc = crc32_combine(crc, segment_crc, size)
        return crc.to_bytes(4, "big")
    for block in store().read_range(blob):
        checksum.update(block)
    return checksum.digest()


# zlib's crc32_combine (1.2.12 and later: x^(8n) mod p by squaring); Python's zlib does not expose it
_CRC32_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a * b mod p in CRC32's reflected polynomial arithmetic."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _CRC32_POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return table


_X2N = _x2n_table()  # x^(2^k) mod p


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC32 of A + B from CRC32(A), CRC32(B) and len(B)."""
    power, n, k = 1 << 31, length2, 3  # x^0; then x^(8 * length2) mod p
    while n:
        if n & 1:
            power = _multmodp(_X2N[k & 31], power)
        n >>= 1
        k += 1
    return _multmodp(power, crc1) ^ crc2


def _multipart_checksum(algorithm: str | None, checksum_type: str | None,
                        parts: list[Blob]) -> tuple[str, str, int]:
    """moto's MultipartChecksumBuilder over stored parts."""
    algorithm = algorithm or "CRC64NVME"
    checksum_type = checksum_type or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    if checksum_type == "COMPOSITE":
        joined = b"".join(checksum_of(part, algorithm) for part in parts)
        checksum = Checksum(algorithm)
        checksum.update(joined)
        return checksum_type, base64.b64encode(checksum.digest()).decode(), len(parts)
    whole = Blob(tuple(segment for part in parts for segment in part.segments))
    return checksum_type, base64.b64encode(checksum_of(whole, algorithm)).decode(), 1


# ------------------------------------------------------------------------------- GetObject bodies
class BlobBody:
    """An object's bytes as a WSGI body, read from its files while it is sent. moto's range
    code measures and slices it as it would bytes; the files stay pinned until it is closed."""

    def __init__(self, store: ObjectStore, blob: Blob, start: int = 0, stop: int | None = None,
                 pin: Pin | None = None) -> None:
        self._store = store
        self._blob = blob
        self._start, self._stop = start, blob.size if stop is None else stop
        self._pin = pin if pin is not None else store.pin(blob.digests)

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, index: slice) -> BlobBody:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("an object's body is sliced by byte range only")
        start, stop, _ = index.indices(len(self))
        return BlobBody(self._store, self._blob, self._start + start, self._start + max(start, stop), self._pin)

    def __iter__(self) -> Iterator[bytes]:
        return self._store.read_range(self._blob, self._start, self._stop)

    def close(self) -> None:
        self._pin.release()


# ------------------------------------------------------------------------------ request bodies
class _Body:
    """The request body as sent, at most ``length`` bytes (all of it where no length is given)."""

    def __init__(self, stream: Any, length: int | None) -> None:
        self.stream = stream
        self.remaining = length

    def _limit(self, size: int) -> int:
        return size if self.remaining is None else min(size, self.remaining)

    def _took(self, data: bytes) -> bytes:
        if self.remaining is not None:
            self.remaining -= len(data)
        return data

    def read(self, size: int) -> bytes:
        size = self._limit(size)
        return self._took(self.stream.read(size)) if size else b""

    def readline(self) -> bytes:
        size = self._limit(_LINE_LIMIT)
        return self._took(self.stream.readline(size)) if size else b""

    def blocks(self) -> Iterator[bytes]:
        while True:
            block = self.read(CHUNK)
            if not block:
                break
            yield block
        if self.remaining:
            raise ValueError(f"the request body ended {self.remaining} bytes before its Content-Length")


def _dechunked(body: _Body, trailers: dict[str, str]) -> Iterator[bytes]:
    """The payload of an aws-chunked body (``<hex size>[;chunk-signature=...]`` lines, each followed
    by that many bytes), and its trailing headers into ``trailers``."""
    while True:
        line = body.readline()
        if not line.endswith(b"\n"):
            raise ValueError("an aws-chunked body ended inside a chunk header")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        while size:
            block = body.read(min(CHUNK, size))
            if not block:
                raise ValueError("an aws-chunked body ended inside a chunk")
            size -= len(block)
            yield block
        body.readline()  # the CRLF after the chunk
    while (line := body.readline()).strip():
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


def _names_a_key(environ: dict[str, Any]) -> bool:
    from moto.s3.responses import S3Response

    path = environ.get("PATH_INFO", "").lstrip("/")
    host = SimpleNamespace(headers={"host": environ.get("HTTP_HOST", "")}, url="")
    if S3Response.subdomain_based_buckets(host):
        return bool(path)
    return bool(path.partition("/")[2])


def is_object_upload(environ: dict[str, Any], service: str) -> bool:
    """Whether moto answers this request with PutObject or UploadPart (its _key_response_put)."""
    if service != "s3" or environ.get("REQUEST_METHOD") != "PUT" or "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return False
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    part = "uploadId" in query and "partNumber" in query
    return (part or not _SUBRESOURCES & query.keys()) and _names_a_key(environ)


def receive_upload(environ: dict[str, Any], service: str) -> Pin | None:
    """For an S3 PutObject or UploadPart, the body from the socket into the store, before the
    request reaches moto (which then gets the stored Blob instead of bytes); None for any other
    request, which keeps its body. Release the pin once moto has answered."""
    if not _state["installed"] or not is_object_upload(environ, service):
        return None
    if environ.get("CONTENT_LENGTH"):
        body = _Body(environ["wsgi.input"], int(environ["CONTENT_LENGTH"]))
    elif environ.get("wsgi.input_terminated"):
        body = _Body(environ["wsgi.input"], None)  # Transfer-Encoding: chunked, ends by itself
    else:
        return None
    chunked = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-")
    trailers: dict[str, str] = {}
    blocks = _dechunked(body, trailers) if chunked else body.blocks()
    # moto computes the checksum the client names but does not send (S3Response._get_checksum)
    algorithm = environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", "")
    header = "HTTP_X_AMZ_CHECKSUM_" + algorithm.upper().replace("-", "_")
    wanted = algorithm and header not in environ and "HTTP_X_AMZ_TRAILER" not in environ
    checksum = Checksum(algorithm) if wanted else None
    blob, pin = store().write(blocks, checksum)
    if checksum is not None:
        environ[header] = base64.b64encode(checksum.digest()).decode()
    for name, value in trailers.items():
        if name.startswith("x-amz-checksum-"):
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    if chunked:
        environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
        environ.pop("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", None)
    environ[UPLOADED] = blob
    environ["wsgi.input"] = io.BytesIO()
    environ["CONTENT_LENGTH"] = "0"
    return pin


# ---------------------------------------------------------------------------------- the patch
# How FakeKey.value answers: bytes (moto's default), the Blob itself (copies share the files),
# or a BlobBody (GetObject through the server).
_value_mode: contextvars.ContextVar[str] = contextvars.ContextVar("cvat_s3_value_mode", default="bytes")
_state = {"installed": False}


def install() -> None:
    """Patch moto's S3 models and responses (moto_patches.apply() checks the version and calls
    this once)."""
    from moto.s3 import models, responses

    _patch_key(models.FakeKey)
    _patch_multipart(models)
    _patch_backend(models.S3Backend)
    _patch_responses(responses)
    _state["installed"] = True


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    # moto's BaseModel.__new__ appends every instance to a class list (for dispose() on reset),
    # so each key ever written, overwritten or deep-copied stayed in memory; with the bytes in
    # files there is nothing to dispose of.
    return object.__new__(cls)


def _patch_key(key_type: Any) -> None:
    original_init = key_type.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        buffer = self.__dict__.pop("_value_buffer", None)  # moto's, never written: the setter below
        if buffer is not None:
            buffer.close()

    def get_value(self: Any) -> Any:
        blob: Blob = self._cvat_blob
        mode = _value_mode.get()
        if mode == "blob":
            return blob
        if mode == "body":
            return store().body(blob)
        return store().read(blob)

    def set_value(self: Any, value: Any) -> None:
        if not isinstance(value, Blob):
            value = store().put_bytes(value.encode() if isinstance(value, str) else bytes(value))
        self._cvat_blob = value
        self.contentsize = value.size

    def etag(self: Any) -> str:
        if self._etag is None:
            self._etag = store().md5(self._cvat_blob)
        return f'"{self._etag}"'

    def __getstate__(self: Any) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_value_buffer", None)
        state.pop("lock", None)
        state["_cvat_blob"] = self._cvat_blob.segments  # plain tuples: no class of ours in a snapshot
        return state

    def __setstate__(self: Any, state: dict[str, Any]) -> None:
        state = dict(state)
        segments = state.pop("_cvat_blob", None)
        value = state.pop("value", b"")  # stock moto's state (snapshot format 1): the bytes
        self.__dict__.update(state)
        if segments is not None:
            self._cvat_blob = Blob(tuple(tuple(segment) for segment in segments))
        else:
            set_value(self, value)
        self.lock = threading.Lock()

    def dispose(self: Any, garbage: bool = False) -> None:
        self.disposed = True  # the files go once nothing refers to them (the sweep)

    key_type.__new__ = staticmethod(_untracked_new)
    key_type.__init__ = __init__
    key_type.value = property(get_value, set_value)
    key_type.etag = property(etag)
    key_type.__getstate__ = __getstate__
    key_type.__setstate__ = __setstate__
    key_type.dispose = dispose


def _patch_multipart(models: Any) -> None:
    def complete(self: Any, body: Iterable[tuple[int, str]]) -> tuple[Blob, str, tuple[str, str, int]]:
        """moto's FakeMultipart.complete, joining the parts' segment lists instead of their bytes."""
        md5s = bytearray()
        parts: list[Blob] = []
        last = None
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise models.InvalidPart()
            if last is not None and last.contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
                raise models.EntityTooSmall()
            md5s.extend(bytes.fromhex(part.etag.replace('"', "")))
            parts.append(part._cvat_blob)
            last = part
        if not parts:
            raise models.MalformedXML
        whole = Blob(tuple(segment for part in parts for segment in part.segments))
        etag = f"{hashlib.md5(bytes(md5s), usedforsecurity=False).hexdigest()}-{len(parts)}"
        checksum = _multipart_checksum(self.metadata.get("x-amz-checksum-algorithm"),
                                       self.metadata.get("x-amz-checksum-type"), parts)
        return whole, etag, checksum

    models.FakeMultipart.__new__ = staticmethod(_untracked_new)
    models.FakeMultipart.complete = complete


def _patch_backend(backend_type: Any) -> None:
    def upload_part_copy(  # noqa: PLR0917 - moto's signature
            self: Any, dest_bucket_name: str, multipart_id: str, part_id: int, src_bucket_name: str,
                         src_key_name: str, src_version_id: str | None, start_byte: int | None,
                         end_byte: int | None) -> Any:
        """moto's S3Backend.upload_part_copy, copying the range file to file."""
        multipart = self.get_bucket(dest_bucket_name).multiparts[multipart_id]
        blob: Blob = self.get_object(src_bucket_name, src_key_name, version_id=src_version_id)._cvat_blob
        if start_byte is not None:
            start, stop, _ = slice(start_byte, (end_byte or 0) + 1).indices(blob.size)  # as moto's bytes slice
            blob = store().copy(blob, start, max(start, stop))
        return multipart.set_part(part_id, blob)

    backend_type.upload_part_copy = upload_part_copy


def _patch_responses(responses: Any) -> None:
    response_type = responses.S3Response
    original_setup = response_type.setup_class
    original_get = response_type.get_object
    original_copy = response_type.copy_object
    original_checksum = responses.compute_checksum

    def setup_class(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> None:
        original_setup(self, request, full_url, headers)
        uploaded = request.environ.get(UPLOADED)
        if uploaded is not None:  # receive_upload stored the body: PutObject / UploadPart take the Blob
            self.body = uploaded
            self.raw_body = b""

    def get_object(self: Any) -> Any:
        if not self.is_werkzeug_request:  # in-process moto (mock_aws): bytes, as botocore wants them
            return original_get(self)
        token = _value_mode.set("body")
        try:
            status, headers, body = original_get(self)
        finally:
            _value_mode.reset(token)
        if isinstance(body, BlobBody):
            self.request.environ[STREAMING] = True
        return status, headers, body

    def copy_object(self: Any) -> Any:
        token = _value_mode.set("blob")  # the copy refers to the source's files
        try:
            return original_copy(self)
        finally:
            _value_mode.reset(token)

    def compute_checksum(body: Any, algorithm: str, encode_base64: bool = True) -> bytes:
        if not isinstance(body, Blob):
            return bytes(original_checksum(body, algorithm, encode_base64))
        raw = checksum_of(body, algorithm)
        return base64.b64encode(raw) if encode_base64 else raw

    response_type.setup_class = setup_class
    response_type.get_object = get_object
    response_type.copy_object = copy_object
    responses.compute_checksum = compute_checksum
