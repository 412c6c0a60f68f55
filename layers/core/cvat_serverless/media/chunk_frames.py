"""Frames out of an original video chunk (the MP4 that media.chunks writes), as PNG: what CVAT
answers for ``type=frame&quality=original`` of a video task, and every frame of the chunk for the
image-set original chunk a video task is read as (``services.task_media``). Used where frames are
served (the media API function, through the ``ports.FrameDecoder`` port); PyAV is imported on the
first decode, so wiring the decoder costs a cold start nothing."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from .errors import CorruptMediaError

if TYPE_CHECKING:
    import av

PNG_COMPRESS_LEVEL = 1  # as the pipeline's PNG chunks: ~3x faster than the default for ~10 % more bytes


def _decoded(chunk: bytes, name: str) -> Generator[av.VideoFrame, None, None]:
    """The chunk's frames in order. A chunk is one short GOP run, so it is decoded from its start
    (no seek is worth it)."""
    import av
    import av.error

    try:
        with av.open(io.BytesIO(chunk), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frames are wanted one by one: let the decoder use the cores
            yield from container.decode(stream)
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(name, f"cannot decode the chunk ({exc})") from exc


def video_chunk_frames_png(chunk: bytes, *, width: int | None = None, height: int | None = None,
                           name: str = "chunk.mp4") -> Iterator[bytes]:
    """Every frame of an MP4 chunk, in order, as PNG bytes.

    The chunk's frames are the task's frames in order (upright, 25 fps timestamps), padded to even
    sizes for yuv420p: ``width``/``height`` crop the padding off again."""
    for frame in _decoded(chunk, name):
        yield _png(frame, width, height)


def video_chunk_frame_png(chunk: bytes, position: int, *, width: int | None = None, height: int | None = None,
                          name: str = "chunk.mp4") -> bytes:
    """Frame ``position`` (0-based, in the chunk's order) of an MP4 chunk, as PNG bytes (cropped as
    ``video_chunk_frames_png`` crops them)."""
    if position < 0:
        raise ValueError("position must be >= 0")
    with contextlib.closing(_decoded(chunk, name)) as frames:  # closes the container at once
        for index, frame in enumerate(frames):
            if index == position:
                return _png(frame, width, height)
    raise CorruptMediaError(name, f"the chunk has no frame {position}")


def _png(frame: av.VideoFrame, width: int | None, height: int | None) -> bytes:
    image = frame.to_image()
    if width and height and (image.width, image.height) != (width, height):
        image = image.crop((0, 0, min(width, image.width), min(height, image.height)))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


class PyAvFrameDecoder:
    """``ports.FrameDecoder`` with PyAV and Pillow."""

    def video_frame_png(self, chunk: bytes, position: int, *, width: int | None = None,
                        height: int | None = None, name: str = "chunk.mp4") -> bytes:
        return video_chunk_frame_png(chunk, position, width=width, height=height, name=name)

    def video_frames_png(self, chunk: bytes, *, width: int | None = None, height: int | None = None,
                         name: str = "chunk.mp4") -> Iterator[bytes]:
        return video_chunk_frames_png(chunk, width=width, height=height, name=name)
