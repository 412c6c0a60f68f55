"""What a file is and what it holds: media kind, image size/format/orientation, video stream facts.

Video facts come from demuxing packets, not from decoding: the frame count is the number of
packets the demuxer delivers (containers' own counts lie, e.g. after an edit or a cut), keyframe
positions are the packets flagged as keyframes, and the display order of frames is the order of
their presentation timestamps. This takes about a second for an hour of 1080p video.
"""

from __future__ import annotations

import math
import os
import struct
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import av.error
from PIL import Image, UnidentifiedImageError

from .errors import (
    CorruptMediaError,
    DecompressionBombError,
    EmptyMediaError,
    MixedMediaError,
    NoVideoStreamError,
    UnsupportedMediaError,
)

# Pillow's own warning threshold (~89.5 Mpx, 256 MiB of RGBA): a decoded frame of this size plus
# its JPEG work fits a 1 GB Lambda. Callers pass max_pixels to change it.
# What Pillow raises for damaged data, by plugin: OSError (truncated, decoder errors), SyntaxError
# (broken PNG chunks, bad headers), ValueError, EOFError, and TypeError (a TIFF directory without
# dimensions, found while counting its pages).
PIL_DATA_ERRORS: tuple[type[Exception], ...] = (OSError, SyntaxError, ValueError, EOFError, TypeError)
DEFAULT_MAX_PIXELS = 89_478_485

ORIENTATION_TAG = 0x0112

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".bmp",
        ".gif",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
        ".tga",
        ".ico",
        ".jp2",
        ".j2k",
    }
)
VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".mkv",
        ".webm",
        ".mpg",
        ".mpeg",
        ".ts",
        ".mts",
        ".m2ts",
        ".wmv",
        ".flv",
        ".3gp",
        ".ogv",
        ".asf",
        ".vob",
        ".h264",
        ".264",
        ".hevc",
        ".h265",
    }
)
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Names CVAT skips inside archives and folders (macOS metadata).
IGNORED_PARTS = ("__MACOSX", ".DS_Store", "._.DS_Store", "__MSOSX")


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    ARCHIVE = "archive"


def media_kind(name: str) -> MediaKind:
    """The kind of a file from its name, as CVAT decides by MIME type. PDF and others are refused."""
    lower = name.lower()
    if lower.endswith(ARCHIVE_SUFFIXES):
        return MediaKind.ARCHIVE
    suffix = os.path.splitext(lower)[1]
    if suffix in IMAGE_EXTENSIONS:
        return MediaKind.IMAGE
    if suffix in VIDEO_EXTENSIONS:
        return MediaKind.VIDEO
    reason = "PDF is not supported" if suffix == ".pdf" else f"unsupported file type {suffix or '(none)'!r}"
    raise UnsupportedMediaError(name, reason)


def is_ignored(name: str) -> bool:
    return any(part in IGNORED_PARTS or part.startswith("._") for part in name.replace("\\", "/").split("/"))


def classify_task_media(names: Iterable[str]) -> MediaKind:
    """The kind of a task's media. CVAT allows many images, or exactly one video, or one archive."""
    kinds: dict[MediaKind, list[str]] = {}
    for name in names:
        if is_ignored(name):
            continue
        kinds.setdefault(media_kind(name), []).append(name)
    if not kinds:
        raise UnsupportedMediaError("", "No media files found")
    if len(kinds) > 1:
        found = ", ".join(f"{len(v)} {k.value}(s) e.g. {v[0]!r}" for k, v in sorted(kinds.items()))
        raise MixedMediaError(f"A task takes images, or one video, or one archive; found {found}.")
    ((kind, files),) = kinds.items()
    if kind is not MediaKind.IMAGE and len(files) > 1:
        raise MixedMediaError(f"A task takes exactly one {kind.value}; found {len(files)}: {files[:3]!r}")
    return kind


# --- images -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageProbe:
    """An image as served: ``width`` x ``height`` are upright (after the EXIF orientation)."""

    name: str
    format: str  # Pillow's format name: JPEG, PNG, GIF, TIFF, ...
    width: int
    height: int
    orientation: int = 1  # EXIF orientation 1..8; 1 = upright
    mode: str = "RGB"
    frames: int = 1  # animated GIF/WebP/APNG or multi-page TIFF: only the first frame is used
    size_bytes: int = 0

    @property
    def animated(self) -> bool:
        return self.frames > 1


_PIL_LIMIT_LOCK = threading.Lock()


def open_image(fp: BinaryIO, name: str, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open (not decode) an image, enforcing our pixel limit instead of Pillow's global one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            pil_limit = Image.MAX_IMAGE_PIXELS
            if pil_limit is not None and (max_pixels is None or max_pixels >= pil_limit):
                # Pillow would refuse what the caller allows: lift its limit while opening; ours
                # is checked just below.
                with _PIL_LIMIT_LOCK:
                    Image.MAX_IMAGE_PIXELS = None
                    try:
                        image = Image.open(fp)
                    finally:
                        Image.MAX_IMAGE_PIXELS = pil_limit
            else:
                image = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(name, f"too many pixels ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise CorruptMediaError(name, "not a readable image (unknown or damaged header)") from exc
    except PIL_DATA_ERRORS as exc:
        raise CorruptMediaError(name, f"cannot read the image: {exc}") from exc
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        image.close()
        raise DecompressionBombError(
            name, f"{width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}"
        )
    return image


def _check_complete(fp: BinaryIO, name: str, fmt: str, size: int) -> None:
    """Catch truncated JPEG/PNG without decoding: their end markers must be there."""
    if fmt not in ("JPEG", "PNG"):
        return
    tail_len = min(size, 65536)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len).rstrip(b"\x00")
    if fmt == "JPEG" and b"\xff\xd9" not in tail[-4096:]:
        raise CorruptMediaError(name, "truncated JPEG (no end-of-image marker)")
    if fmt == "PNG" and b"IEND" not in tail[-4096:]:
        raise CorruptMediaError(name, "truncated PNG (no IEND chunk)")


def exif_orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block must not make the image unreadable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def probe_image(
    path: str | os.PathLike[str], *, name: str | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> ImageProbe:
    """Size, format, EXIF orientation and frame count of an image, from its header."""
    path = Path(path)
    name = name or path.name
    size = _file_size(path, name)
    with open(path, "rb") as fp:
        image = open_image(fp, name, max_pixels=max_pixels)
        with image:
            fmt = image.format or "UNKNOWN"
            orientation = exif_orientation(image)
            width, height = image.size
            if orientation > 4:  # 5..8 swap the axes
                width, height = height, width
            try:
                frames = int(getattr(image, "n_frames", 1) or 1)  # walks every page's header
            except PIL_DATA_ERRORS as exc:
                raise CorruptMediaError(name, f"cannot read the image's pages: {exc}") from exc
            mode = image.mode
        _check_complete(fp, name, fmt, size)
    return ImageProbe(name, fmt, width, height, orientation, mode, frames, size)


def _file_size(path: Path, name: str) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise CorruptMediaError(name, "file not found") from exc
    if size == 0:
        raise EmptyMediaError(name, "the file is empty (0 bytes)")
    return size


# --- video --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoProbe:
    """A video's first video stream. ``width`` x ``height`` are as served (after rotation)."""

    name: str
    container: str
    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # counter-clockwise degrees to turn decoded frames upright: 0, 90, 180, 270
    fps: Fraction
    time_base: Fraction
    frame_count: int  # exact: packets delivered by the demuxer
    container_frame_count: int  # what the container says (0 when it does not say)
    keyframes: tuple[int, ...]  # display-order frame numbers of the keyframes
    stream_index: int = 0
    size_bytes: int = 0

    @property
    def duration(self) -> float:
        return float(self.frame_count / self.fps) if self.fps else 0.0


@dataclass(frozen=True, slots=True)
class VideoIndex:
    """The demux-only index of a video: every frame's pts in display order and the keyframes."""

    probe: VideoProbe
    pts: tuple[int, ...] = field(repr=False)  # display order
    keyframe_pts: tuple[int, ...] = field(repr=False)


VideoSource = str | os.PathLike[str] | BinaryIO
"""A video as a path, or as a readable, seekable binary file (e.g. ranged reads of an S3 object:
decoding a span then reads only that span and the index)."""


def open_video(path: VideoSource, name: str, *, probe_only: bool = False) -> av.container.InputContainer:
    """Open a video. ``probe_only`` keeps FFmpeg from decoding frames while it reads the stream
    parameters (~60 ms for a 1080p keyframe), for callers that only demux."""
    target: Any = path if not isinstance(path, (str, os.PathLike)) else os.fspath(path)
    # Tags (title, encoder, ...) are not always UTF-8: cameras and old muxers write Latin-1 or
    # junk. PyAV decodes them strictly while opening, which would refuse a playable video.
    lenient: dict[str, Any] = {"mode": "r", "metadata_errors": "replace"}
    try:
        if probe_only:
            try:
                # PyAV's stub says list[str]; the runtime takes one options dict per stream.
                per_stream: Any = [{"skip_frame": "all"}]
                return av.open(target, stream_options=per_stream, **lenient)
            except ValueError:  # formats whose streams appear only while probing (MPEG-PS/TS)
                pass
        if hasattr(target, "seek"):
            target.seek(0)  # a failed probe_only open read some of it
        return av.open(target, **lenient)
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(name, f"cannot be read as a video ({exc.strerror or exc})") from exc


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """ISO-BMFF boxes in data[start:end]: (type, payload start, box end)."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _read_moov(fp: BinaryIO, size: int) -> bytes | None:
    pos = 0
    while pos + 8 <= size:
        fp.seek(pos)
        head = fp.read(16)
        if len(head) < 8:
            return None
        box_size, kind = struct.unpack_from(">I4s", head)
        if box_size == 1 and len(head) == 16:
            box_size = struct.unpack_from(">Q", head, 8)[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            return None
        if kind == b"moov":
            if box_size > 256 * 1024**2:
                return None
            fp.seek(pos)
            return fp.read(box_size)
        pos += box_size
    return None


def mp4_rotation(path: str | os.PathLike[str]) -> int | None:
    """The display rotation of the first video track of an MP4/MOV, from its ``tkhd`` matrix,
    without decoding anything (the value FFmpeg reports as the frames' rotation). None when the
    file is not ISO-BMFF or has no video track."""
    try:
        with open(path, "rb") as fp:
            moov = _read_moov(fp, os.fstat(fp.fileno()).st_size)
    except OSError:
        return None
    if moov is None:
        return None
    for kind, start, end in _boxes(moov, 8, len(moov)):
        if kind != b"trak":
            continue
        tkhd = handler = None
        for k, s, e in _boxes(moov, start, end):
            if k == b"tkhd":
                tkhd = (s, e)
            elif k == b"mdia":
                for k2, s2, _e2 in _boxes(moov, s, e):
                    if k2 == b"hdlr":
                        handler = moov[s2 + 8 : s2 + 12]
        if handler != b"vide" or tkhd is None:
            continue
        s, e = tkhd
        # version 0: 4+4+4+4+4+4+8+2+2+2+2 bytes before the matrix; version 1: 12 more.
        offset = s + (52 if moov[s] == 1 else 40)
        if offset + 36 > e:
            return None
        a, b = struct.unpack_from(">ii", moov, offset)
        if a == 0 and b == 0:
            return 0
        return _normalise_rotation(-math.degrees(math.atan2(b, a)))
    return None


def _normalise_rotation(value: float) -> int:
    return round(value / 90.0) * 90 % 360


def index_video(
    path: str | os.PathLike[str], *, name: str | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> VideoIndex:
    """Demux the whole video once (no decoding, except the first frame) and index it."""
    path = Path(path)
    name = name or path.name
    size = _file_size(path, name)
    rotation: int | None = mp4_rotation(path)
    with open_video(path, name, probe_only=rotation is not None) as container:
        if all(s.codec_context is None for s in container.streams):
            # e.g. an MP4 cut before its index (moov) was written: FFmpeg opens it but finds no
            # stream it can describe.
            raise CorruptMediaError(name, "no readable streams: the file is truncated or not a video")
        if not container.streams.video:
            raise NoVideoStreamError(name, "the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None or not ctx.name:
            raise CorruptMediaError(name, "the video stream cannot be read (truncated file or unknown codec)")
        coded_w, coded_h = ctx.width, ctx.height
        if max_pixels is not None and coded_w * coded_h > max_pixels:
            raise DecompressionBombError(
                name, f"{coded_w}x{coded_h} video frames exceed the limit of {max_pixels} pixels"
            )
        timestamps: list[int] = []
        keyframes: list[int] = []
        # Without a container matrix, the first decoded frame says how it is rotated.
        need_frame = rotation is None
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    raise UnsupportedMediaError(name, "the video packets carry no timestamps")
                timestamps.append(ts)
                if packet.is_keyframe:
                    keyframes.append(ts)
                if need_frame:
                    for frame in packet.decode():
                        rotation = _normalise_rotation(frame.rotation)
                        coded_w, coded_h = frame.width, frame.height
                        need_frame = False
                        break
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(
                name, f"corrupt or truncated video near frame {len(timestamps)} ({exc.strerror or exc})"
            ) from exc
        if need_frame and timestamps:
            # Frames with B-frame delay come out only when the decoder is flushed.
            try:
                for frame in stream.codec_context.decode(None):
                    rotation = _normalise_rotation(frame.rotation)
                    coded_w, coded_h = frame.width, frame.height
                    break
            except av.error.FFmpegError as exc:
                raise CorruptMediaError(name, f"the first frame cannot be decoded ({exc})") from exc
        if not timestamps or rotation is None:
            raise CorruptMediaError(name, "the video stream holds no decodable frames")
        _check_not_truncated(stream, name, size, len(timestamps))

        display = sorted(timestamps)
        if len(set(display)) != len(display):
            raise CorruptMediaError(name, "frames share timestamps; the stream order cannot be trusted")
        position = {ts: i for i, ts in enumerate(display)}
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25)
        probe = VideoProbe(
            name=name,
            container=container.format.name,
            codec=ctx.name,
            width=width,
            height=height,
            coded_width=coded_w,
            coded_height=coded_h,
            rotation=rotation,
            fps=Fraction(rate),
            time_base=Fraction(stream.time_base or Fraction(1, 1)),
            frame_count=len(display),
            container_frame_count=int(stream.frames or 0),
            keyframes=tuple(sorted(position[k] for k in keyframes)),
            stream_index=stream.index,
            size_bytes=size,
        )
        return VideoIndex(probe, tuple(display), tuple(sorted(keyframes)))


def _check_not_truncated(stream: av.video.stream.VideoStream, name: str, size: int, delivered: int) -> None:
    """MP4/MOV carry a sample table: samples that point past the end of the file mean a cut file."""
    try:
        entries = stream.index_entries
    except Exception:
        return
    if entries is None or len(entries) == 0:
        return
    last_end = max(e.pos + e.size for e in entries)
    if last_end > size or delivered < sum(1 for e in entries if not e.is_discard and e.size > 0):
        raise CorruptMediaError(
            name,
            f"truncated video: the index lists {len(entries)} frames up to byte {last_end}, "
            f"the file has {size} bytes and {delivered} readable frames",
        )


def probe_video(
    path: str | os.PathLike[str], *, name: str | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> VideoProbe:
    """Codec, exact frame count, fps, size, rotation and keyframe positions of a video."""
    return index_video(path, name=name, max_pixels=max_pixels).probe


ProbeResult = ImageProbe | VideoProbe


def probe(
    path: str | os.PathLike[str], *, name: str | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> ProbeResult:
    """Probe an image or a video, by its name."""
    name = name or Path(path).name
    kind = media_kind(name)
    if kind is MediaKind.IMAGE:
        return probe_image(path, name=name, max_pixels=max_pixels)
    if kind is MediaKind.VIDEO:
        return probe_video(path, name=name, max_pixels=max_pixels)
    raise UnsupportedMediaError(name, "an archive must be extracted first (see media.archive)")


def image_names(names: Sequence[str]) -> list[str]:
    """The image files among names, skipping macOS metadata and other files (as CVAT does)."""
    out = []
    for n in names:
        if is_ignored(n):
            continue
        if os.path.splitext(n.lower())[1] in IMAGE_EXTENSIONS:
            out.append(n)
    return out
