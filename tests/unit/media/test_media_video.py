"""Video: probe, demux index, manifest, chunks that hold the right frames, previews, determinism."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from cvat_serverless.domain.segments import SegmentParams
from cvat_serverless.media.chunks import (
    ChunkKind,
    ChunkSettings,
    job_preview,
    task_preview,
    write_chunk,
    write_chunks,
)
from cvat_serverless.media.decode import VideoDecoder, frame_view, upright
from cvat_serverless.media.frames import plan_chunks
from cvat_serverless.media.manifest import Manifest, build_video_manifest
from cvat_serverless.media.probe import index_video, mp4_rotation, probe, probe_video

Reader = Callable[[Image.Image], int]


def zip_frames(data: bytes, reader: Reader) -> list[int]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [reader(Image.open(io.BytesIO(z.read(n)))) for n in z.namelist()]


def mp4_frames(data: bytes, reader: Reader) -> list[int]:
    with av.open(io.BytesIO(data), mode="r") as c:
        return [reader(f.to_image()) for f in c.decode(video=0)]


@pytest.mark.parametrize(("codec", "bframes"), [("libx264", 0), ("libx264", 3), ("mpeg4", 0), ("mpeg4", 2)])
def test_probe_counts_frames_and_keyframes_by_demuxing(make_video, codec: str, bframes: int) -> None:
    path = make_video(frames=37, codec=codec, gop=10, bframes=bframes)
    p = probe_video(path)
    assert p.frame_count == 37
    assert (p.width, p.height) == (64, 48)
    assert p.codec == ("h264" if codec == "libx264" else "mpeg4")
    assert p.fps == 25
    assert p.keyframes[0] == 0
    assert len(p.keyframes) >= 3
    # keyframe positions agree with what the decoder reports
    with av.open(str(path)) as c:
        decoded_keys = [i for i, f in enumerate(c.decode(video=0)) if f.key_frame]
    assert list(p.keyframes) == decoded_keys


def test_probe_dispatches_on_the_name(make_video) -> None:
    assert probe(make_video(frames=5)).frame_count == 5  # type: ignore[union-attr]


def test_rotation_metadata_is_read_and_frames_are_served_upright(make_video, number_reader: Reader) -> None:
    path = make_video(frames=12, rotation=90)
    p = probe_video(path)
    assert p.rotation == 90
    assert (p.width, p.height) == (48, 64)
    m = build_video_manifest(path)
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(m.size, 12)[0], path, buf)
    with zipfile.ZipFile(buf) as z:
        first = Image.open(io.BytesIO(z.read("000000.jpeg")))
        assert first.size == (48, 64)
        # Rotating 90 degrees counter-clockwise moves the stored bottom-right marker to the top-right.
        pixel = first.convert("RGB").getpixel((44, 3))
        assert isinstance(pixel, tuple)
        r, g, _ = pixel
        assert r > 180 and g < 90
        assert number_reader(first.transpose(Image.Transpose.ROTATE_270)) == 0


@pytest.mark.parametrize("bframes", [0, 3])
def test_every_chunk_holds_exactly_its_frames(make_video, number_reader: Reader, bframes: int) -> None:
    path = make_video(frames=47, gop=8, bframes=bframes)
    m = build_video_manifest(path, start_frame=2, stop_frame=44, step=3)
    assert [f.source for f in m.frames] == list(range(2, 45, 3))
    chunks = plan_chunks(m.size, 4)
    out: dict[tuple[int, ChunkKind], io.BytesIO] = {}

    def dest(c, k):
        return out.setdefault((c.number, k), io.BytesIO())

    results = write_chunks(m, chunks, path, dest)
    assert len(results) == 2 * len(chunks)
    for c in chunks:
        expected = [m.frame(i).source for i in c.frames]
        assert zip_frames(out[(c.number, ChunkKind.COMPRESSED)].getvalue(), number_reader) == expected
        assert mp4_frames(out[(c.number, ChunkKind.ORIGINAL)].getvalue(), number_reader) == expected


def test_any_chunk_alone_seeks_from_its_keyframe(make_video, number_reader: Reader) -> None:
    path = make_video(frames=60, gop=12, bframes=2)
    m = build_video_manifest(path)
    chunk = plan_chunks(m.size, 7)[5]  # frames 35..41, keyframe 24
    buf = io.BytesIO()
    write_chunk(m, chunk, path, buf)
    assert zip_frames(buf.getvalue(), number_reader) == list(range(35, 42))
    with VideoDecoder(path, m) as dec:
        got = [number_reader(f.to_image()) for _, f in dec.frames([m.frame(i) for i in chunk.frames])]
        assert got == list(range(35, 42))
        assert dec.decoded <= 42 - 24 + 3  # from keyframe 24, not from 0


def test_overlapping_segments_share_frames(make_video, number_reader: Reader) -> None:
    path = make_video(frames=30, gop=10)
    m = build_video_manifest(path)
    chunks = plan_chunks(m.size, 6, [SegmentParams(0, 14), SegmentParams(10, 29)])
    out: dict[tuple[int | None, int], io.BytesIO] = {}
    write_chunks(
        m,
        chunks,
        path,
        lambda c, k: out.setdefault((c.segment, c.number), io.BytesIO()),
        kinds=["compressed"],
    )
    assert zip_frames(out[(0, 2)].getvalue(), number_reader) == [12, 13, 14]
    assert zip_frames(out[(1, 0)].getvalue(), number_reader) == list(range(10, 16))


def test_chunks_are_byte_identical_across_runs(make_video, tmp_path: Path) -> None:
    path = make_video(frames=20, gop=10)
    m = build_video_manifest(path)
    chunk = plan_chunks(m.size, 20)[0]
    for kind in ("compressed", "original"):
        a, b = tmp_path / f"a_{kind}", tmp_path / f"b_{kind}"
        write_chunk(m, chunk, path, a, kind=kind)
        write_chunk(m, chunk, path, b, kind=kind)
        assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(tmp_path / "a_compressed") as z:
        assert z.namelist() == [f"{i:06d}.jpeg" for i in range(20)]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())


def test_quality_and_optimize_settings_change_the_output(make_video) -> None:
    path = make_video(frames=6)
    m = build_video_manifest(path)
    chunk = plan_chunks(m.size, 6)[0]
    sizes = {}
    for q, opt in [(95, False), (30, False), (95, True)]:
        buf = io.BytesIO()
        sizes[(q, opt)] = write_chunk(
            m, chunk, path, buf, settings=ChunkSettings(image_quality=q, optimize=opt)
        ).size_bytes
    assert sizes[(30, False)] < sizes[(95, False)]
    assert sizes[(95, True)] <= sizes[(95, False)]


def test_original_imageset_for_video_is_lossless_png(make_video, number_reader: Reader) -> None:
    path = make_video(frames=5)
    m = build_video_manifest(path)
    buf = io.BytesIO()
    r = write_chunk(
        m,
        plan_chunks(m.size, 5)[0],
        path,
        buf,
        kind="original",
        settings=ChunkSettings(video_original="imageset"),
    )
    assert r.mime == "application/zip"
    with zipfile.ZipFile(buf) as z:
        assert z.namelist()[0] == "000000.png"
    assert zip_frames(buf.getvalue(), number_reader) == [0, 1, 2, 3, 4]


def test_manifest_round_trips_and_is_deterministic(make_video) -> None:
    path = make_video(frames=25, gop=7, bframes=2)
    m = build_video_manifest(path, start_frame=1, step=2)
    text = m.to_jsonl()
    assert text == build_video_manifest(path, start_frame=1, step=2).to_jsonl()
    again = Manifest.from_jsonl(text)
    assert again == m
    assert all(f.keyframe is not None and f.keyframe <= f.source for f in m.frames)
    assert {f.keyframe for f in m.frames} <= set(m.video.keyframes)  # type: ignore[union-attr]


def test_index_gives_display_order_timestamps(make_video) -> None:
    path = make_video(frames=20, bframes=3)
    idx = index_video(path)
    with av.open(str(path)) as c:
        assert list(idx.pts) == [f.pts for f in c.decode(video=0)]


def test_previews_fit_cvat_box(make_video, number_reader: Reader, tmp_path: Path) -> None:
    path = make_video(frames=30, size=(320, 240))
    m = build_video_manifest(path)
    data = task_preview(m, path, tmp_path / "preview.jpeg")
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == (256, 192)
    assert (tmp_path / "preview.jpeg").read_bytes() == data
    job = Image.open(io.BytesIO(job_preview(m, SegmentParams(17, 29), path)))
    assert number_reader(job.resize((320, 240))) == 17


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_container_matrix_gives_the_decoder_rotation(make_video, rotation: int) -> None:
    path = make_video(frames=3, rotation=rotation, faststart=rotation == 180)
    with av.open(str(path), mode="r") as c:
        decoded = next(c.decode(video=0)).rotation
    assert mp4_rotation(path) == round(decoded / 90) * 90 % 360 == rotation
    assert probe_video(path).rotation == rotation


def test_other_containers_fall_back_to_the_first_frame(make_video, number_reader: Reader) -> None:
    path = make_video("clip.mkv", frames=15, gop=5, bframes=2)
    assert mp4_rotation(path) is None
    p = probe_video(path)
    assert p.frame_count == 15 and p.rotation == 0 and p.container.startswith("matroska")
    m = build_video_manifest(path)
    buf = io.BytesIO()
    write_chunk(m, plan_chunks(m.size, 5)[2], path, buf)
    assert zip_frames(buf.getvalue(), number_reader) == [10, 11, 12, 13, 14]


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_tags_that_are_not_utf8_do_not_refuse_a_playable_video(
    tmp_path: Path, ext: str, number_reader: Reader, frame_drawer: Callable[..., np.ndarray]
) -> None:
    # Cameras and old muxers write Latin-1 (or junk) titles; FFmpeg keeps the bytes as they are.
    path = tmp_path / f"latin1.{ext}"
    with av.open(str(path), "w") as container:
        container.metadata["title"] = "camera-XXXX"
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.metadata["handler_name"] = "track-XXXX"
        for i in range(12):
            frame = av.VideoFrame.from_ndarray(frame_drawer(i), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = path.read_bytes()
    assert data.count(b"XXXX") == 2
    path.write_bytes(data.replace(b"XXXX", b"\xe9t\xe9\xff"))  # same length: the boxes stay valid
    with pytest.raises(UnicodeDecodeError):
        av.open(str(path)).close()  # PyAV's default: strict UTF-8

    manifest = build_video_manifest(path)
    assert manifest.size == 12
    buf = io.BytesIO()
    write_chunk(manifest, plan_chunks(12, 12)[0], path, buf)
    with zipfile.ZipFile(buf) as z:
        assert [number_reader(Image.open(io.BytesIO(z.read(n)))) for n in sorted(z.namelist())] == list(range(12))


@pytest.mark.parametrize(
    "pix_fmt", ["yuv420p", "yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "nv12", "gray", "rgb24", "gbrp"]
)
@pytest.mark.parametrize("size", [(64, 48), (33, 17)])
def test_frame_view_has_the_pixels_and_jpeg_bytes_of_to_image(pix_fmt: str, size: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
    reference = frame.to_image()
    view = frame_view(frame)
    assert view.mode == "RGBX" and view.size == size
    assert np.array_equal(np.asarray(view.convert("RGB")), np.asarray(reference))
    assert np.array_equal(np.asarray(upright(frame, 0)), np.asarray(reference))
    assert np.array_equal(np.asarray(upright(frame, 90, mode="RGBX").convert("RGB")),
                          np.asarray(reference.transpose(Image.Transpose.ROTATE_90)))

    def jpeg(image: Image.Image) -> bytes:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=70)
        return buf.getvalue()

    assert jpeg(view) == jpeg(reference)


def test_compressed_chunk_holds_the_jpeg_of_each_decoded_frame(make_video, tmp_path: Path) -> None:
    """Chunks hold exactly what encoding ``frame.to_image()`` at the task's quality gives, whether
    written to a path (streamed into a temporary file) or to a file object."""
    path = make_video(frames=30, gop=10, size=(96, 64))
    m = build_video_manifest(path)
    chunks = plan_chunks(m.size, 12)
    with av.open(str(path)) as c:
        expected = []
        for f in c.decode(video=0):
            buf = io.BytesIO()
            f.to_image().save(buf, format="JPEG", quality=70)
            expected.append(buf.getvalue())
    out = tmp_path / "out"
    memory: dict[int, io.BytesIO] = {}
    by_path = write_chunks(m, chunks, path, lambda c, k: out / f"{c.number}.zip", kinds=["compressed"])
    write_chunks(m, chunks, path, lambda c, k: memory.setdefault(c.number, io.BytesIO()), kinds=["compressed"])
    assert sorted(p.name for p in out.iterdir()) == ["0.zip", "1.zip", "2.zip"]  # no temporary file left
    for r in by_path:
        data = (out / f"{r.chunk.number}.zip").read_bytes()
        assert data == memory[r.chunk.number].getvalue()
        assert r.size_bytes == len(data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert [z.read(n) for n in z.namelist()] == expected[r.chunk.start : r.chunk.stop + 1]
