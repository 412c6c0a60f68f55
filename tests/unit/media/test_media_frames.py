"""Property tests of range, step and chunk arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.segments import SegmentParams
from cvat_serverless.domain.tasks import SortingMethod
from cvat_serverless.media.frames import (
    chunk_number,
    default_chunk_size,
    group_contiguous,
    parse_frame_step,
    plan_chunks,
    select_frames,
)
from cvat_serverless.media.sorting import sort_names


@given(
    size=st.integers(1, 500),
    start=st.integers(0, 499),
    stop=st.one_of(st.none(), st.integers(0, 800)),
    step=st.integers(1, 40),
)
def test_selection_matches_python_range(size: int, start: int, stop: int | None, step: int) -> None:
    if start >= size:
        with pytest.raises(ValidationError):
            select_frames(size, start_frame=start, stop_frame=stop, step=step)
        return
    last = size - 1 if stop in (None, 0) or stop > size - 1 else stop
    if last < start:
        with pytest.raises(ValidationError):
            select_frames(size, start_frame=start, stop_frame=stop, step=step)
        return
    sel = select_frames(size, start_frame=start, stop_frame=stop, step=step)
    expected = list(range(start, last + 1, step))
    assert list(sel.source_frames()) == expected
    assert sel.size == len(expected)
    assert sel.last_frame == expected[-1]
    assert [sel.source_frame(i) for i in range(sel.size)] == expected


@given(frames=st.integers(0, 2000), chunk_size=st.integers(1, 100))
def test_task_chunks_partition_the_frames(frames: int, chunk_size: int) -> None:
    chunks = plan_chunks(frames, chunk_size)
    covered = [f for c in chunks for f in c.frames]
    assert covered == list(range(frames))
    assert all(c.size == chunk_size for c in chunks[:-1])
    assert all(chunk_number(f, chunk_size) == c.number for c in chunks for f in c.frames)
    assert [c.number for c in chunks] == list(range(len(chunks)))


@st.composite
def segment_plans(draw: st.DrawFn) -> tuple[int, list[SegmentParams]]:
    size = draw(st.integers(1, 600))
    seg = draw(st.integers(1, size))
    overlap = draw(st.integers(0, seg // 2))
    stride = seg - overlap
    segments = [SegmentParams(s, min(s + seg - 1, size - 1)) for s in range(0, max(size - overlap, 1), stride)]
    return size, segments


@given(plan=segment_plans(), chunk_size=st.integers(1, 80))
def test_segment_chunks_cover_each_segment_in_order(plan: tuple[int, list[SegmentParams]], chunk_size: int) -> None:
    size, segments = plan
    chunks = plan_chunks(size, chunk_size, segments)
    for index, segment in enumerate(segments):
        mine = [c for c in chunks if c.segment == index]
        assert [f for c in mine for f in c.frames] == list(range(segment.start_frame, segment.stop_frame + 1))
        assert [c.number for c in mine] == list(range(len(mine)))
        assert all(c.size <= chunk_size for c in mine)
    runs = group_contiguous(chunks)
    assert [c for r in runs for c in r] == chunks


def test_segment_outside_the_task_is_refused() -> None:
    with pytest.raises(ValidationError):
        plan_chunks(10, 4, [SegmentParams(5, 12)])


@pytest.mark.parametrize(("text", "step"), [("", 1), (None, 1), ("step=1", 1), ("step=5", 5), (" step = 12 ", 12)])
def test_frame_filter(text: str | None, step: int) -> None:
    assert parse_frame_step(text) == step


@pytest.mark.parametrize("text", ["step=0", "step=-1", "every=2", "step=2;x"])
def test_bad_frame_filter(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_frame_step(text)


@pytest.mark.parametrize(
    ("media", "w", "h", "size"),
    [
        ("video", 1920, 1080, 36),
        ("video", 64, 48, 36),
        ("images", 1920, 1080, 36),
        ("images", 640, 480, 72),
        ("images", 3840, 2160, 9),
        ("images", 10000, 10000, 2),
    ],
)
def test_default_chunk_size(media: str, w: int, h: int, size: int) -> None:
    assert default_chunk_size(media, w, h) == size


def test_sorting_methods() -> None:
    names = ["img10.jpg", "img2.jpg", "IMG1.jpg", "a/img3.jpg", "img1.jpg"]
    assert sort_names(names, "lexicographical") == sorted(names)
    assert sort_names(names, SortingMethod.NATURAL) == [
        "a/img3.jpg",
        "IMG1.jpg",
        "img1.jpg",
        "img2.jpg",
        "img10.jpg",
    ]
    assert sort_names(names, "predefined") == names
    shuffled = sort_names(names, "random", seed=7)
    assert shuffled == sort_names(names, "random", seed=7)
    assert sorted(shuffled) == sorted(names)
    assert any(sort_names(names, "random", seed=s) != shuffled for s in range(8))


@given(st.lists(st.text(alphabet="ab01 ._/", max_size=8), max_size=20))
def test_natural_sort_is_a_total_deterministic_order(names: list[str]) -> None:
    once = sort_names(names, "natural")
    assert sorted(once) == sorted(names)
    assert sort_names(list(reversed(names)), "natural") == once
