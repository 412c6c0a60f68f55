"""Work units: every chunk in exactly one unit, keyframe-aware cuts, runnable independently."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cvat_serverless.domain.segments import SegmentParams
from cvat_serverless.media.frames import FrameSelection, plan_chunks
from cvat_serverless.media.manifest import Manifest, ManifestFrame, build_image_manifest, build_video_manifest
from cvat_serverless.media.units import WorkUnit, chunk_path, plan_work_units, run_work_unit


def synthetic_video_manifest(size: int, gop: int) -> Manifest:
    frames = tuple(
        ManifestFrame(
            i,
            f"frame_{i:06d}",
            64,
            48,
            i,
            pts=i * 512,
            keyframe=i - i % gop,
            keyframe_pts=(i - i % gop) * 512,
        )
        for i in range(size)
    )
    return Manifest("video", FrameSelection(0, size - 1, 1), frames)


@given(
    size=st.integers(1, 3000),
    gop=st.integers(1, 300),
    chunk_size=st.integers(1, 72),
    target=st.integers(1, 800),
    segment_size=st.one_of(st.none(), st.integers(1, 1000)),
)
@settings(max_examples=60, deadline=None)
def test_units_partition_the_chunks(
    size: int, gop: int, chunk_size: int, target: int, segment_size: int | None
) -> None:
    m = synthetic_video_manifest(size, gop)
    segments = None
    if segment_size is not None:
        segments = [SegmentParams(s, min(s + segment_size - 1, size - 1)) for s in range(0, size, segment_size)]
    chunks = plan_chunks(size, chunk_size, segments)
    units = plan_work_units(m, chunks, target_frames=target)
    assert [c for u in units for c in u.chunks] == chunks
    assert [u.number for u in units] == list(range(len(units)))
    for u in units[:-1]:
        assert u.frame_count >= target  # a unit is closed only once full
    for u in units:
        assert u.frame_count <= 2 * target + 2 * chunk_size
    for u in units:
        first = m.frame(u.first_frame)
        assert u.seek_frame == first.keyframe and u.seek_frame is not None and u.seek_frame <= first.source
        assert WorkUnit.from_dict(json.loads(json.dumps(u.to_dict()))) == u


def test_cuts_prefer_keyframes() -> None:
    m = synthetic_video_manifest(2000, 250)
    units = plan_work_units(m, plan_chunks(2000, 50), target_frames=400)
    # Every cut after the first unit lands on a keyframe when one is reachable within the slack.
    assert [u.first_frame for u in units] == [0, 500, 1000, 1500]
    assert units[-1].last_frame == 1999
    assert all(u.seek_frame == u.first_frame for u in units)


def _run(args: tuple[str, str, dict[str, object], str]) -> list[tuple[str, int]]:
    manifest_text, source, unit, out = args
    m = Manifest.from_jsonl(manifest_text)
    results = run_work_unit(m, WorkUnit.from_dict(unit), source, out)
    return [(r.kind.value, r.size_bytes) for r in results]


def test_units_run_in_parallel_processes_give_the_serial_bytes(
    make_video, tmp_path: Path, number_reader: Callable[[Image.Image], int]
) -> None:
    path = make_video(frames=48, gop=8, bframes=2)
    m = build_video_manifest(path)
    chunks = plan_chunks(m.size, 5, [SegmentParams(0, 24), SegmentParams(20, 47)])
    units = plan_work_units(m, chunks, target_frames=12)
    assert len(units) >= 3
    text = m.to_jsonl()
    for u in units:
        _run((text, str(path), u.to_dict(), str(tmp_path / "serial")))
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_run, [(text, str(path), u.to_dict(), str(tmp_path / "par")) for u in units]))
    serial = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*") if p.is_file())
    assert len(serial) == 2 * len(chunks)
    for rel in serial:
        assert (tmp_path / "par" / rel).read_bytes() == (tmp_path / "serial" / rel).read_bytes()
    c = next(c for c in chunks if c.segment == 1 and c.number == 1)
    with zipfile.ZipFile(chunk_path(tmp_path / "par", "compressed", c, "zip")) as z:
        assert [number_reader(Image.open(io.BytesIO(z.read(n)))) for n in z.namelist()] == list(range(25, 30))


def test_image_units(image_dir, tmp_path: Path) -> None:
    root, names = image_dir(9)
    m = build_image_manifest(root, names)
    units = plan_work_units(m, plan_chunks(m.size, 2), target_frames=4)
    assert [len(u.chunks) for u in units] == [2, 3]  # the short tail joins the last unit
    assert all(u.seek_frame is None for u in units)
    results = [r for u in units for r in run_work_unit(m, u, root, tmp_path / "o")]
    assert len(results) == 10
    assert (tmp_path / "o" / "original" / "4.zip").exists()


def test_images_make_units_by_their_pixels_and_video_by_frames() -> None:
    from cvat_serverless.media.units import DEFAULT_UNIT_FRAMES, default_unit_frames

    def images(count: int, width: int, height: int) -> Manifest:
        frames = tuple(ManifestFrame(i, f"IMG_{i:04d}.jpg", width, height, i) for i in range(count))
        return Manifest("images", FrameSelection(0, count - 1, 1), frames)

    assert default_unit_frames(synthetic_video_manifest(1000, 250)) == DEFAULT_UNIT_FRAMES
    assert default_unit_frames(images(10, 1920, 1080)) == 120
    assert default_unit_frames(images(10, 4000, 3000)) == 21  # a 12 MP photo weighs ~6 1080p frames
    assert default_unit_frames(images(10, 64, 48)) > 10_000
    photos = images(300, 4000, 3000)
    units = plan_work_units(photos, plan_chunks(300, 6))
    assert len(units) == 13  # 24 photos each, not one unit of 300
    assert [c for u in units for c in u.chunks] == plan_chunks(300, 6)
