"""A frame out of an original MP4 chunk (ports.FrameDecoder with PyAV), as the media API serves
``type=frame&quality=original`` of a video task: the right frame, cropped back to the task's size."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cvat_serverless.media.chunk_frames import PyAvFrameDecoder
from cvat_serverless.media.chunks import ChunkKind, write_chunks
from cvat_serverless.media.errors import CorruptMediaError
from cvat_serverless.media.frames import plan_chunks
from cvat_serverless.media.manifest import build_video_manifest


def original_chunks(path, chunk_size: int) -> dict[int, bytes]:
    manifest = build_video_manifest(path)
    out: dict[int, io.BytesIO] = {}
    write_chunks(manifest, plan_chunks(manifest.size, chunk_size), path,
                 lambda c, _k: out.setdefault(c.number, io.BytesIO()), kinds=(ChunkKind.ORIGINAL,))
    return {n: b.getvalue() for n, b in out.items()}


def test_every_frame_of_a_chunk_comes_back_as_png(make_video, number_reader) -> None:
    chunks = original_chunks(make_video(frames=20, gop=6, bframes=2), 8)
    decoder = PyAvFrameDecoder()
    for number, chunk in chunks.items():
        for position in range(8 if number < 2 else 4):
            png = decoder.video_frame_png(chunk, position, width=64, height=48)
            image = Image.open(io.BytesIO(png))
            assert image.format == "PNG" and image.size == (64, 48)
            assert number_reader(image) == number * 8 + position


def test_a_whole_chunk_comes_back_as_the_same_pngs_in_order(make_video, number_reader) -> None:
    # what a video task's original chunk is read as (an image set): the frames one by one agree
    chunks = original_chunks(make_video(frames=11, gop=4, bframes=2), 8)
    decoder = PyAvFrameDecoder()
    for number, chunk in chunks.items():
        pngs = list(decoder.video_frames_png(chunk, width=64, height=48))
        numbers = [number_reader(Image.open(io.BytesIO(p))) for p in pngs]
        assert numbers == list(range(number * 8, min(11, number * 8 + 8)))
        assert pngs == [decoder.video_frame_png(chunk, i, width=64, height=48) for i in range(len(pngs))]
    with pytest.raises(CorruptMediaError, match=r"clip\.mp4 \(chunk 3\): cannot decode"):
        list(decoder.video_frames_png(b"not a video", name="clip.mp4 (chunk 3)"))


def test_the_padding_of_odd_sizes_is_cropped_off(make_video, number_reader) -> None:
    # media.chunks pads an odd-sized video to even sizes for yuv420p; the task's size is asked back
    (chunk,) = original_chunks(make_video(frames=3), 4).values()
    image = Image.open(io.BytesIO(PyAvFrameDecoder().video_frame_png(chunk, 2, width=63, height=47)))
    assert image.size == (63, 47) and number_reader(image) == 2


def test_a_missing_or_unreadable_frame_is_a_media_error_that_names_the_chunk(make_video) -> None:
    (chunk,) = original_chunks(make_video(frames=3), 4).values()
    with pytest.raises(CorruptMediaError, match=r"clip\.mp4 \(chunk 0\): the chunk has no frame 5"):
        PyAvFrameDecoder().video_frame_png(chunk, 5, name="clip.mp4 (chunk 0)")
    with pytest.raises(CorruptMediaError, match="cannot decode"):
        PyAvFrameDecoder().video_frame_png(b"not a video", 0)
