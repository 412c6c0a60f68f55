"""Reading frames for chunks and previews: images from a folder, video frames by keyframe seek."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from .errors import CorruptMediaError, DecompressionBombError
from .manifest import Manifest, ManifestFrame
from .probe import DEFAULT_MAX_PIXELS, PIL_DATA_ERRORS, VideoSource, open_image, open_video

_ROTATE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
_JPEG_MODES = ("RGB", "RGBX", "L")  # RGBX: written as RGB


def load_image(
    root: str | os.PathLike[str],
    info: ManifestFrame,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """Decode one image, upright (EXIF orientation applied), first frame of animated/multi-page.

    ``draft`` lets libjpeg decode a JPEG at 1/2, 1/4 or 1/8 scale when only a small picture is
    needed (previews): the result is at least that size.
    """
    path = Path(root) / info.name
    if not path.is_file():
        raise CorruptMediaError(info.name, "file not found")
    with open(path, "rb") as fp:
        image = open_image(fp, info.name, max_pixels=max_pixels)
        try:
            if draft is not None and image.format == "JPEG":
                # Size as stored: the orientation is applied after decoding.
                w, h = draft if info.orientation <= 4 else (draft[1], draft[0])
                image.draft("RGB", (w, h))
            image.load()
        except Image.DecompressionBombError as exc:
            raise DecompressionBombError(info.name, str(exc)) from exc
        except PIL_DATA_ERRORS as exc:
            raise CorruptMediaError(info.name, f"corrupt or truncated image data ({exc})") from exc
    if info.orientation != 1:
        image = ImageOps.exif_transpose(image)
    return image


def to_jpeg_mode(image: Image.Image) -> Image.Image:
    """A mode JPEG can store: RGB, RGBX (stored as RGB) or L. High-bit-depth greyscale is stretched to 8 bits."""
    if image.mode in _JPEG_MODES:
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        data = np.asarray(image, dtype=np.float64)
        lo, hi = float(data.min()), float(data.max())
        scaled = (data - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(data)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    return image.convert("RGB")


def iter_images(
    root: str | os.PathLike[str], frames: Sequence[ManifestFrame], *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> Iterator[tuple[ManifestFrame, Image.Image]]:
    for info in frames:
        yield info, load_image(root, info, max_pixels=max_pixels)


def frame_view(frame: av.VideoFrame, reformatter: VideoReformatter | None = None, *, threads: int = 1) -> Image.Image:
    """The frame as a read-only ``RGBX`` image over the buffer of its RGB conversion: no copy.

    The same pixels as ``frame.to_image()`` (one swscale conversion either way; the tests check it
    for the usual decoder output formats), but ``to_image`` then copies the picture three times
    (bytearray, bytes, Pillow's unpacking into its 4-byte pixels): 1080p, 2 vCPUs, 3.3-4.7 CPU-ms
    per frame for ``to_image`` against 0.5 for this. JPEG stores RGBX as RGB: the same bytes.

    Pass one ``reformatter`` for a run of frames. ``frame.reformat`` (and so ``to_image``) makes a
    new swscale context per frame with ``threads=0``: two threads started and joined for every
    frame on this 2-CPU machine, and a conversion that quietly spreads onto a second core, which
    a span worker's process already owns. ``threads``: swscale's, 1 by default for that reason.
    """
    rgb = (reformatter or VideoReformatter()).reformat(frame, format="rgb0", threads=threads)
    plane = rgb.planes[0]
    # The image keeps the plane (and so the converted frame) alive. VideoPlane exports the buffer
    # protocol; its stubs do not say so.
    size = (plane.width, plane.height)
    return Image.frombuffer("RGBX", size, plane, "raw", "RGBX", plane.line_size, 1)  # type: ignore[arg-type]


def upright(
    frame: av.VideoFrame,
    rotation: int,
    *,
    mode: Literal["RGB", "RGBX"] = "RGB",
    reformatter: VideoReformatter | None = None,
    threads: int = 1,
) -> Image.Image:
    """A decoded frame as an upright image. ``RGBX`` (for JPEG) skips the copy into an RGB image;
    ``reformatter``/``threads``: see :func:`frame_view`."""
    image = frame_view(frame, reformatter, threads=threads)
    if rotation:
        image = image.transpose(_ROTATE[rotation])
    return image if mode == "RGBX" else image.convert("RGB")


class VideoDecoder:
    """Decodes selected frames of one video, seeking to the keyframe before each run of frames.

    Frames are matched by presentation timestamp, so B-frame reordering, open GOPs and frames the
    decoder shows before the wanted one are handled. A jump forward seeks only when a keyframe lies
    between the current position and the target (otherwise decoding on is cheaper).
    """

    def __init__(self, path: VideoSource, manifest: Manifest, *, threads: int = 1) -> None:
        if manifest.video is None:
            raise ValueError("not a video manifest")
        self.name = manifest.video.name
        self.rotation = manifest.video.rotation
        self._container = open_video(path, self.name)
        self._stream = self._container.streams.video[0]
        if threads == 1:
            # One thread per process: spans run in parallel processes, and frame/slice threads cost
            # 18-34 % more CPU per frame.
            self._stream.thread_type = "NONE"
        else:
            self._stream.thread_type = "AUTO"
            self._stream.codec_context.thread_count = threads
        self._threads = threads
        self._reformatter = VideoReformatter()  # one swscale context for every frame
        self._frames: Iterator[av.VideoFrame] | None = None
        self._last_pts: int | None = None
        self._last_keyframe: int | None = None
        self.decoded = 0  # frames decoded, wanted or not: the cost of the seeks

    def close(self) -> None:
        self._container.close()

    def picture(self, frame: av.VideoFrame, *, mode: Literal["RGB", "RGBX"] = "RGB") -> Image.Image:
        """A frame from :meth:`frames` as an upright image (see :func:`upright`)."""
        return upright(frame, self.rotation, mode=mode, reformatter=self._reformatter, threads=self._threads)

    def __enter__(self) -> VideoDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _seek(self, pts: int) -> None:
        try:
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(self.name, f"cannot seek to timestamp {pts} ({exc})") from exc
        self._frames = self._container.decode(self._stream)
        self._last_pts = None

    def _next(self, info: ManifestFrame) -> av.VideoFrame | None:
        assert self._frames is not None
        try:
            frame = next(self._frames, None)
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(
                self.name, f"corrupt or truncated video while decoding towards frame {info.source} ({exc})"
            ) from exc
        if frame is not None:
            self.decoded += 1
            self._last_pts = frame.pts
        return frame

    def frames(self, wanted: Sequence[ManifestFrame]) -> Iterator[tuple[ManifestFrame, av.VideoFrame]]:
        """Yield the wanted frames (sorted by source frame, duplicates once) as decoded frames."""
        for info in sorted({f.source: f for f in wanted}.values(), key=lambda f: f.source):
            assert info.pts is not None and info.keyframe_pts is not None
            if (
                self._frames is None
                or self._last_pts is None
                or info.pts <= self._last_pts
                or (
                    self._last_keyframe is not None
                    and info.keyframe is not None
                    and info.keyframe > self._last_keyframe
                    and info.keyframe_pts > self._last_pts
                )
            ):
                self._seek(info.keyframe_pts)
                self._last_keyframe = info.keyframe
            yield info, self._decode_until(info)

    def _decode_until(self, info: ManifestFrame) -> av.VideoFrame:
        assert info.pts is not None
        retried = False
        while True:
            frame = self._next(info)
            if frame is None:
                raise CorruptMediaError(self.name, f"frame {info.source} is missing (the video ends early)")
            if frame.pts is None or frame.pts < info.pts:
                continue
            if frame.pts == info.pts:
                return frame
            # Overshoot: the seek landed after the frame (a container whose index disagrees with its
            # packets). Start again from the very first frame once.
            if retried:
                raise CorruptMediaError(self.name, f"frame {info.source} (pts {info.pts}) cannot be reached")
            retried = True
            self._container.seek(0, stream=self._stream, backward=True, any_frame=True)
            self._frames = self._container.decode(self._stream)
            self._last_keyframe = 0
