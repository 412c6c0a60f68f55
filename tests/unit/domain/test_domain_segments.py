from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.segments import (
    FrameRange,
    SegmentParams,
    format_frame_filter,
    parse_frame_filter,
    resolve_frame_range,
    split_by_job_sizes,
    split_frames,
)

sizes = st.integers(min_value=0, max_value=400)
seg_sizes = st.integers(min_value=0, max_value=120)
overlaps = st.one_of(st.none(), st.integers(min_value=0, max_value=80))
modes = st.sampled_from(["annotation", "interpolation"])


@given(sizes, seg_sizes, overlaps, modes)
def test_every_frame_is_covered_exactly_in_order(size, segment_size, overlap, mode):
    plan = split_frames(size, segment_size=segment_size, overlap=overlap, mode=mode)
    covered = set()
    for seg in plan.segments:
        assert 0 <= seg.start_frame <= seg.stop_frame < size
        covered.update(seg.frames())
    assert covered == set(range(size))
    starts = [s.start_frame for s in plan.segments]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    if size:
        assert plan.segments[0].start_frame == 0
        assert plan.segments[-1].stop_frame == size - 1


@given(sizes, seg_sizes, overlaps, modes)
def test_overlap_is_exact_between_neighbours_and_sizes_are_equal(size, segment_size, overlap, mode):
    plan = split_frames(size, segment_size=segment_size, overlap=overlap, mode=mode)
    assert plan.overlap <= plan.segment_size // 2
    for a, b in zip(plan.segments, plan.segments[1:], strict=False):
        assert a.stop_frame - b.start_frame + 1 == plan.overlap
        assert a.frame_count == plan.segment_size
    if plan.segments:
        last = plan.segments[-1]
        assert 1 <= last.frame_count <= plan.segment_size
        assert last.frame_count == size - last.start_frame  # it runs to the task's last frame
        # the last segment always brings at least one frame the previous one did not have
        if len(plan.segments) > 1:
            assert last.stop_frame > plan.segments[-2].stop_frame


def test_zero_segment_size_or_larger_than_task_means_one_segment():
    assert split_frames(7, segment_size=0).segments == (SegmentParams(0, 6),)
    assert split_frames(7, segment_size=50).segments == (SegmentParams(0, 6),)
    assert split_frames(7, segment_size=0).segment_size == 7


def test_cvat_default_overlap_video_vs_images():
    video = split_frames(100, segment_size=20, mode="interpolation")
    assert video.overlap == 5
    assert [s.start_frame for s in video.segments] == [0, 15, 30, 45, 60, 75, 90]
    assert video.segments[-1] == SegmentParams(90, 99)
    images = split_frames(10, segment_size=4, mode="annotation")
    assert images.overlap == 0
    assert images.segments == (SegmentParams(0, 3), SegmentParams(4, 7), SegmentParams(8, 9))


def test_overlap_is_capped_at_half_a_segment():
    plan = split_frames(10, segment_size=4, overlap=3)
    assert plan.overlap == 2
    assert plan.segments == (
        SegmentParams(0, 3),
        SegmentParams(2, 5),
        SegmentParams(4, 7),
        SegmentParams(6, 9),
    )


def test_empty_task_has_no_segments():
    assert split_frames(0, segment_size=5).segments == ()


def test_negative_inputs_are_rejected():
    with pytest.raises(ValidationError):
        split_frames(5, segment_size=-1)
    with pytest.raises(ValidationError):
        split_frames(5, overlap=-1)


def test_job_file_mapping_split():
    plan = split_by_job_sizes([2, 3, 1])
    assert plan.segments == (SegmentParams(0, 1), SegmentParams(2, 4), SegmentParams(5, 5))
    assert (plan.segment_size, plan.overlap) == (0, 0)
    with pytest.raises(ValidationError):
        split_by_job_sizes([])


@given(
    st.integers(min_value=1, max_value=500),
    st.integers(min_value=0, max_value=499),
    st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    st.integers(min_value=1, max_value=9),
)
def test_frame_range_maps_task_frames_to_media_frames(media_frames, start, stop, step):
    if start >= media_frames:
        with pytest.raises(ValidationError):
            resolve_frame_range(media_frames, start_frame=start, stop_frame=stop, frame_filter=f"step={step}")
        return
    if stop is not None and 0 < stop < start:
        with pytest.raises(ValidationError):
            resolve_frame_range(media_frames, start_frame=start, stop_frame=stop, frame_filter=f"step={step}")
        return
    rng = resolve_frame_range(media_frames, start_frame=start, stop_frame=stop, frame_filter=f"step={step}")
    expected = list(range(rng.start_frame, rng.stop_frame + 1, step))
    assert rng.size == len(expected)
    assert [rng.data_frame(i) for i in range(rng.size)] == expected
    assert all(rng.task_frame(f) == i for i, f in enumerate(expected))
    assert rng.last_frame == expected[-1] <= media_frames - 1


def test_frame_filter_round_trip_and_errors():
    assert parse_frame_filter("") == 1
    assert parse_frame_filter("step=3") == 3
    assert format_frame_filter(1) == "" and format_frame_filter(4) == "step=4"
    for bad in ("step=0", "every=2", "step=-1", "3"):
        with pytest.raises(ValidationError):
            parse_frame_filter(bad)
    assert FrameRange(10, 20, 5).task_frame(12) is None
    with pytest.raises(ValidationError):
        FrameRange(0, 4).data_frame(5)
