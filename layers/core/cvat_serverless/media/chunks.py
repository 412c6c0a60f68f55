"""Chunks (CVAT's "compressed" and "original" kinds) and previews.

- compressed: a stored (uncompressed) zip of JPEGs ``000000.jpeg, 000001.jpeg...`` at the task's
  ``image_quality`` (CVAT's ``imageset`` chunk type);
- original: for images, the original bytes zipped as ``000000.<ext>...`` without re-encoding (an
  EXIF-rotated image is re-encoded upright, as CVAT does); for video, an MP4 (H.264, crf 17,
  CVAT's choice) or, if asked, a zip of PNGs.

A span of chunks is produced by decoding each needed frame once (video: from the keyframe before
the first one), encoding it once per kind, and handing the bytes to every chunk that holds it.

Output is byte-for-byte deterministic for the same input and settings: fixed zip timestamps and
attributes, JPEG without timestamps, single-threaded x264. Nothing partial is left behind: a chunk
is built in memory and written in one go (paths: to a temporary name, then renamed).

JPEG ``optimize``: CVAT uses ``optimize=True`` (two-pass Huffman tables). It changes no pixel
(same PSNR) and saves ~6 % of the bytes (benchmarks/media_chunks.py: 259 vs 245 kB per 1080p
frame at q70), but costs ~2.5x the encode time, so the default here is False; pass
``optimize=True`` to get CVAT's bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Literal

import av
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from .decode import VideoDecoder, load_image, to_jpeg_mode
from .errors import CorruptMediaError
from .frames import ChunkSpec, SegmentLike
from .manifest import Manifest, ManifestFrame
from .probe import DEFAULT_MAX_PIXELS, PIL_DATA_ERRORS, VideoSource, open_image

PREVIEW_SIZE = (256, 256)  # CVAT's preview box
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_PIL_SAVE_FORMAT = {"MPO": "JPEG"}  # multi-picture JPEGs: keep the first picture

Destination = str | os.PathLike[str] | BinaryIO


class ChunkKind(StrEnum):
    COMPRESSED = "compressed"
    ORIGINAL = "original"


@dataclass(frozen=True, slots=True)
class ChunkSettings:
    """How chunks are made. ``image_quality`` and ``optimize`` apply to compressed chunks."""

    image_quality: int = 70
    optimize: bool = False
    video_original: Literal["video", "imageset"] = "video"  # CVAT: "video" (MP4)
    original_crf: int = 17
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    decoder_threads: int = 1


@dataclass(frozen=True, slots=True)
class ChunkResult:
    chunk: ChunkSpec
    kind: ChunkKind
    size_bytes: int
    frames: int
    mime: str


def chunk_mime(manifest: Manifest, kind: ChunkKind, settings: ChunkSettings) -> str:
    if kind is ChunkKind.ORIGINAL and manifest.media_type == "video" and settings.video_original == "video":
        return "video/mp4"
    return "application/zip"


# --- writers ------------------------------------------------------------------------------------


class _ZipBuilder:
    """A stored zip, written as it grows. To a path: straight into a temporary file beside it,
    renamed over the path by ``finish``. Building it in memory first, then copying it out, cost
    original image chunks (file bytes, nothing to encode) ~15 %: 0.96x the speed of a plain
    zip of the same files, 1.12-1.17x streamed (benchmarks/media_chunks.py).
    To a file object: built in memory and handed over in one write."""

    def __init__(self, dest: Destination) -> None:
        self._dest = dest
        self._part: Path | None = None
        self._fp: BinaryIO
        if isinstance(dest, (str, os.PathLike)):
            self._part, self._fp = _open_part(Path(dest))
        else:
            self._fp = io.BytesIO()
        self._zip: zipfile.ZipFile | None = None
        try:
            self._zip = zipfile.ZipFile(self._fp, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        except BaseException:
            self.abort()
            raise
        self.count = 0

    def add(self, arcname: str, data: bytes) -> None:
        info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_STORED
        assert self._zip is not None
        self._zip.writestr(info, data)
        self.count += 1

    def finish(self) -> int:
        """Complete the zip at its destination; its size in bytes."""
        try:
            assert self._zip is not None
            self._zip.close()
            if self._part is None:
                assert isinstance(self._fp, io.BytesIO)
                data = self._fp.getbuffer()
                deliver(data, self._dest)
                return len(data)
            size = self._fp.tell()
            self._fp.close()
            assert isinstance(self._dest, (str, os.PathLike))
            os.replace(self._part, self._dest)
            return size
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the chunk: nothing partial stays behind."""
        # The error being raised matters more than one from closing.
        if self._zip is not None:
            with contextlib.suppress(Exception):
                self._zip.close()
        with contextlib.suppress(Exception):
            self._fp.close()
        if self._part is not None:
            self._part.unlink(missing_ok=True)


class _Mp4Builder:
    """An H.264 MP4 as CVAT's original video chunks: 25 fps, yuv420p, even size, crf 17 ultrafast."""

    def __init__(self, crf: int, dest: Destination) -> None:
        self._dest = dest
        self._buf = io.BytesIO()
        self._container = av.open(self._buf, mode="w", format="mp4")
        self._crf = crf
        self._stream: av.video.stream.VideoStream | None = None
        self._reformatter = VideoReformatter()  # one swscale context, one thread: see decode.frame_view
        self.count = 0

    def add(self, frame: av.VideoFrame) -> None:
        if self._stream is None:
            stream = self._container.add_stream("libx264", rate=25)
            stream.width = frame.width + frame.width % 2
            stream.height = frame.height + frame.height % 2
            stream.pix_fmt = "yuv420p"
            # threads=1: x264's output depends on its thread count; one thread keeps chunks
            # byte-identical on any machine (spans already run in parallel processes).
            stream.options = {"crf": str(self._crf), "preset": "ultrafast", "threads": "1"}
            stream.codec_context.thread_count = 1
            self._stream = stream
        stream = self._stream
        if frame.width != stream.width or frame.height != stream.height or frame.format.name != "yuv420p":
            frame = self._reformatter.reformat(
                frame, width=stream.width, height=stream.height, format="yuv420p", threads=1
            )
        frame.pts = self.count
        frame.time_base = Fraction(1, 25)
        for packet in stream.encode(frame):
            self._container.mux(packet)
        self.count += 1

    def finish(self) -> int:
        """Write the MP4 to its destination; its size in bytes."""
        if self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        self._container.close()
        data = self._buf.getbuffer()
        deliver(data, self._dest)
        return len(data)

    def abort(self) -> None:
        # The error being raised matters more than one from closing.
        with contextlib.suppress(Exception):
            self._container.close()


def _open_part(path: Path) -> tuple[Path, BinaryIO]:
    """A new temporary file beside ``path`` (same folder: the final rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        return Path(tmp), os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise


def deliver(data: bytes | memoryview, dest: Destination) -> None:
    """Write all of ``data`` to a path (atomically) or a file object (in one write)."""
    if isinstance(dest, (str, os.PathLike)):
        path = Path(dest)
        tmp, fp = _open_part(path)
        try:
            with fp:
                fp.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    else:
        dest.write(data)


def encode_jpeg(image: Image.Image, quality: int, optimize: bool) -> bytes:
    buf = io.BytesIO()
    to_jpeg_mode(image).save(buf, format="JPEG", quality=quality, optimize=optimize)
    return buf.getvalue()


def _reencode_upright(data: bytes, info: ManifestFrame, max_pixels: int | None) -> bytes:
    """CVAT re-encodes EXIF-rotated originals upright, losslessly where the format allows."""
    with open_image(io.BytesIO(data), info.name, max_pixels=max_pixels) as image:
        try:
            image.load()
        except PIL_DATA_ERRORS as exc:
            raise CorruptMediaError(info.name, f"corrupt or truncated image data ({exc})") from exc
        rotated = ImageOps.exif_transpose(image)
        fmt = _PIL_SAVE_FORMAT.get(image.format or "", image.format or "PNG")
    buf = io.BytesIO()
    if fmt == "JPEG":
        rotated.save(buf, format="JPEG", quality=100, subsampling=0)
    elif fmt == "TIFF":
        rotated.save(buf, format="TIFF", compression="tiff_lzw")
    else:
        rotated.save(buf, format=fmt)
    return buf.getvalue()


def _original_ext(name: str) -> str:
    return os.path.splitext(name)[1].lstrip(".")


# --- spans of chunks ----------------------------------------------------------------------------


def write_chunks(
    manifest: Manifest,
    chunks: Sequence[ChunkSpec],
    source: VideoSource,
    dest_for: Callable[[ChunkSpec, ChunkKind], Destination],
    *,
    kinds: Iterable[ChunkKind | str] = (ChunkKind.COMPRESSED, ChunkKind.ORIGINAL),
    settings: ChunkSettings | None = None,
) -> list[ChunkResult]:
    """Build ``chunks`` of the given kinds, decoding every needed frame once.

    ``source``: the media folder for images (frame names are relative to it) or the video file.
    ``dest_for(chunk, kind)`` says where each chunk goes (a path or a binary file object). Chunks
    are written as soon as their last frame is done; a failure leaves the chunk being built
    unwritten (chunks already written are complete and correct).
    """
    settings = settings or ChunkSettings()
    kinds_in = kinds
    kind_list: list[ChunkKind] = [ChunkKind(k) for k in kinds_in]
    if not chunks or not kind_list:
        return []
    for c in chunks:
        if not 0 <= c.start <= c.stop < manifest.size:
            raise ValueError(f"chunk {c} is outside the manifest's frames [0, {manifest.size - 1}]")
    # frame -> the (chunk, position) pairs that hold it
    holders: dict[int, list[tuple[int, int]]] = {}
    for ci, c in enumerate(chunks):
        for pos, f in enumerate(c.frames):
            holders.setdefault(f, []).append((ci, pos))
    last_frame = {ci: c.stop for ci, c in enumerate(chunks)}
    builders: dict[tuple[int, ChunkKind], _ZipBuilder | _Mp4Builder] = {}
    results: list[ChunkResult] = []
    video = manifest.media_type == "video"
    mp4_original = video and settings.video_original == "video"

    def builder(ci: int, kind: ChunkKind) -> _ZipBuilder | _Mp4Builder:
        key = (ci, kind)
        if key not in builders:
            dest = dest_for(chunks[ci], kind)
            use_mp4 = kind is ChunkKind.ORIGINAL and mp4_original
            builders[key] = _Mp4Builder(settings.original_crf, dest) if use_mp4 else _ZipBuilder(dest)
        return builders[key]

    def finish(ci: int) -> None:
        for kind in kind_list:
            b = builders.pop((ci, kind), None)
            if b is None:
                continue
            size = b.finish()
            mime = chunk_mime(manifest, kind, settings)
            results.append(ChunkResult(chunks[ci], kind, size, b.count, mime))

    wanted = [manifest.frames[f] for f in sorted(holders)]
    want_compressed = ChunkKind.COMPRESSED in kind_list
    want_original = ChunkKind.ORIGINAL in kind_list
    try:
        if video:
            with VideoDecoder(source, manifest, threads=settings.decoder_threads) as decoder:
                rotation = decoder.rotation
                need_rgb = want_original and (rotation or not mp4_original)
                for info, frame in decoder.frames(wanted):
                    # ``view`` stays bound until the next frame's picture exists: freeing the
                    # buffer first made glibc unmap and map a fresh one per frame, and the page
                    # faults doubled decode + JPEG time (benchmarks/_media_cvat.py).
                    view = decoder.picture(frame, mode="RGBX") if want_compressed or need_rgb else None
                    jpeg = b""
                    if want_compressed and view is not None:
                        jpeg = encode_jpeg(view, settings.image_quality, settings.optimize)
                    rgb = view.convert("RGB") if need_rgb and view is not None else None
                    png = b""
                    if want_original and not mp4_original and rgb is not None:
                        buf = io.BytesIO()
                        rgb.save(buf, format="PNG", compress_level=1)
                        png = buf.getvalue()
                    mp4_frame = av.VideoFrame.from_image(rgb) if (rotation and rgb is not None) else frame
                    for ci, pos in holders[info.index]:
                        for kind in kind_list:
                            b = builder(ci, kind)
                            if kind is ChunkKind.COMPRESSED:
                                assert isinstance(b, _ZipBuilder)
                                b.add(f"{pos:06d}.jpeg", jpeg)
                            elif isinstance(b, _Mp4Builder):
                                b.add(mp4_frame)
                            else:
                                b.add(f"{pos:06d}.png", png)
                    _finish_done(info.index, holders, last_frame, finish)
        else:
            root = Path(source)  # type: ignore[arg-type]  # images: a folder
            for info in wanted:
                data = _read(root, info)
                jpeg = b""
                if want_compressed:
                    image = _decode_bytes(data, info, settings.max_pixels)
                    jpeg = encode_jpeg(image, settings.image_quality, settings.optimize)
                original = data
                if want_original and info.orientation != 1:
                    original = _reencode_upright(data, info, settings.max_pixels)
                ext = _original_ext(info.name)
                for ci, pos in holders[info.index]:
                    for kind in kind_list:
                        b = builder(ci, kind)
                        assert isinstance(b, _ZipBuilder)
                        if kind is ChunkKind.COMPRESSED:
                            b.add(f"{pos:06d}.jpeg", jpeg)
                        else:
                            b.add(f"{pos:06d}.{ext}", original)
                _finish_done(info.index, holders, last_frame, finish)
    finally:
        for b in builders.values():  # left only by a failure
            b.abort()
    return results


def _finish_done(
    frame: int,
    holders: dict[int, list[tuple[int, int]]],
    last_frame: dict[int, int],
    finish: Callable[[int], None],
) -> None:
    for ci, _ in holders[frame]:
        if last_frame[ci] == frame:
            finish(ci)


def _read(root: Path, info: ManifestFrame) -> bytes:
    try:
        data = (root / info.name).read_bytes()
    except FileNotFoundError as exc:
        raise CorruptMediaError(info.name, "file not found") from exc
    if not data:
        raise CorruptMediaError(info.name, "the file is empty (0 bytes)")
    return data


def _decode_bytes(data: bytes, info: ManifestFrame, max_pixels: int | None) -> Image.Image:
    image = open_image(io.BytesIO(data), info.name, max_pixels=max_pixels)
    try:
        image.load()
    except PIL_DATA_ERRORS as exc:
        raise CorruptMediaError(info.name, f"corrupt or truncated image data ({exc})") from exc
    if info.orientation != 1:
        image = ImageOps.exif_transpose(image)
    return image


def write_chunk(
    manifest: Manifest,
    chunk: ChunkSpec,
    source: VideoSource,
    dest: Destination,
    *,
    kind: ChunkKind | str = ChunkKind.COMPRESSED,
    settings: ChunkSettings | None = None,
) -> ChunkResult:
    """Build one chunk of one kind."""
    (result,) = write_chunks(manifest, [chunk], source, lambda _c, _k: dest, kinds=[kind], settings=settings)
    return result


# --- previews -----------------------------------------------------------------------------------


def make_preview(
    manifest: Manifest,
    frame: int,
    source: VideoSource,
    dest: Destination | None = None,
    *,
    size: tuple[int, int] = PREVIEW_SIZE,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> bytes:
    """CVAT's preview of a task frame: fitted into 256x256, JPEG. Returns the bytes too."""
    info = manifest.frame(frame)
    if manifest.media_type == "video":
        with VideoDecoder(source, manifest) as decoder:
            ((_, vframe),) = list(decoder.frames([info]))
            image = decoder.picture(vframe)
    else:
        image = load_image(source, info, max_pixels=max_pixels, draft=size)  # type: ignore[arg-type]  # a folder
    image = to_jpeg_mode(image).convert("RGB")
    image.thumbnail(size)
    buf = io.BytesIO()
    image.save(buf, format="JPEG")
    data = buf.getvalue()
    if dest is not None:
        deliver(data, dest)
    return data


def task_preview(manifest: Manifest, source: str | os.PathLike[str], dest: Destination | None = None) -> bytes:
    """The task's preview: its first frame."""
    return make_preview(manifest, 0, source, dest)


def job_preview(
    manifest: Manifest, segment: SegmentLike, source: str | os.PathLike[str], dest: Destination | None = None
) -> bytes:
    """A job's preview: the first frame of its segment."""
    return make_preview(manifest, segment.start_frame, source, dest)
