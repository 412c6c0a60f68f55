"""Reading task data: CVAT's query checks, which stored chunk holds what a task or a job asks for
(checked against the chunks the pipeline plans), and a job's view of data/meta."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.data_reads import (
    ChunkLayout,
    ChunkRef,
    DataMeta,
    DataQuery,
    DataType,
    FrameInfo,
    FrameQuality,
    JobFrames,
    job_deleted_frames,
    job_meta,
    parse_data_query,
)
from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.media.frames import plan_chunks


def test_queries_as_the_sdk_and_fiftyone_send_them():
    assert parse_data_query({"number": "3", "quality": "original", "type": "frame"}) == DataQuery(
        DataType.FRAME, FrameQuality.ORIGINAL, 3)
    assert parse_data_query({"type": "chunk", "number": "0"}) == DataQuery(DataType.CHUNK, FrameQuality.COMPRESSED, 0)
    assert parse_data_query({"type": "chunk", "index": "2"}, job=True).index == 2
    assert parse_data_query({"type": "context_image", "number": "1", "quality": "x"}).quality is FrameQuality.COMPRESSED


@pytest.mark.parametrize(("params", "job", "message"), [
    ({}, False, "Data type not specified or has wrong value"),
    ({"type": "preview"}, False, "Data type not specified or has wrong value"),
    ({"type": "frame"}, False, "Number is not specified"),
    ({"type": "chunk", "index": "0"}, False, "Number is not specified"),  # index is for jobs only
    ({"type": "chunk"}, True, "Number or Index is not specified"),
    ({"type": "chunk", "number": "0", "index": "0"}, True, "Number and Index cannot be used together"),
    ({"type": "frame", "number": "0", "quality": "high"}, False, "Wrong quality value"),
])
def test_cvats_messages_for_bad_queries(params, job, message):
    with pytest.raises(ValidationError) as caught:
        parse_data_query(params, job=job)
    assert caught.value.message == message


@pytest.mark.parametrize("number", ["x", "-1", "1.5", str(2**31)])
def test_numbers_are_checked(number):
    with pytest.raises(ValidationError) as caught:
        parse_data_query({"type": "frame", "number": number})
    assert list(caught.value.fields) == ["number"]


def test_task_chunks_and_frames():
    layout = ChunkLayout(size=10, chunk_size=4)
    assert layout.last_chunk == 2
    assert layout.task_chunk(2) == ChunkRef(2)
    assert layout.frame_position(9) == (2, 1)
    with pytest.raises(ValidationError, match=r"should be in the \[0, 2\] range"):
        layout.task_chunk(3)
    with pytest.raises(ValidationError, match=r"Invalid frame '10'. The frame number should be in the \[0, 9\] range"):
        layout.check_frame(10)


def test_a_job_that_shares_task_chunks_reads_its_part_of_them():
    job = JobFrames(ChunkLayout(size=10, chunk_size=4), start=3, stop=6)
    assert not job.aligned
    assert job.chunk_by_index(0, segment=1) == ChunkRef(0, 1)
    assert job.chunk_by_number(0) == ChunkRef(0, positions=(3,))
    assert job.chunk_by_number(1) == ChunkRef(1, positions=(0, 1, 2))
    with pytest.raises(ValidationError):
        job.chunk_by_number(2)
    with pytest.raises(ValidationError, match="Incorrect requested frame number: 7"):
        job.check_frame(7)
    aligned = JobFrames(ChunkLayout(size=10, chunk_size=4), start=8, stop=9)
    assert aligned.aligned and aligned.chunk_by_index(0, None) == ChunkRef(2)
    assert aligned.chunk_by_number(2) == ChunkRef(2)


@given(st.integers(1, 60), st.integers(1, 12), st.data())
def test_a_jobs_chunk_holds_exactly_the_frames_of_the_chunk_the_pipeline_made_for_it(size, chunk_size, data):
    start = data.draw(st.integers(0, size - 1))
    stop = data.draw(st.integers(start, size - 1))
    job = JobFrames(ChunkLayout(size, chunk_size), start, stop)
    task_chunks = {c.number: c for c in plan_chunks(size, chunk_size)}
    own = plan_chunks(size, chunk_size, [_Segment(start, stop)])
    assert job.last_chunk == len(own) - 1
    for index, planned in enumerate(own):
        ref = job.chunk_by_index(index, segment=0)
        held = task_chunks[ref.number].frames if ref.segment is None else planned.frames
        assert list(held) == list(planned.frames)


class _Segment:
    def __init__(self, start: int, stop: int) -> None:
        self.start_frame, self.stop_frame = start, stop


def _meta(**changes) -> DataMeta:
    values = dict(chunk_size=4, size=6, image_quality=70, start_frame=2, stop_frame=12, frame_filter="step=2",
                  frames=tuple(FrameInfo(f"{i}.png", 10, 10) for i in range(6)), deleted_frames=(0, 3, 5),
                  chunks_updated_date=datetime(2026, 1, 1, tzinfo=UTC))
    return DataMeta(**(values | changes))


def test_a_jobs_meta_is_its_share_of_the_tasks():
    meta = job_meta(_meta(), start=2, stop=4, video=False)
    assert (meta.size, meta.start_frame, meta.stop_frame) == (3, 6, 10)
    assert [f.name for f in meta.frames] == ["2.png", "3.png", "4.png"]
    assert meta.deleted_frames == (3,)
    video = job_meta(_meta(frames=(FrameInfo("clip.mp4", 10, 10),)), start=4, stop=5, video=True)
    assert [f.name for f in video.frames] == ["clip.mp4"] and video.stop_frame == 12


def test_a_job_changes_only_its_own_deleted_frames():
    assert job_deleted_frames([0, 3, 5], [4], start=2, stop=4) == [0, 4, 5]
    assert job_deleted_frames([0, 3, 5], [], start=2, stop=4) == [0, 5]
    with pytest.raises(ValidationError) as caught:
        job_deleted_frames([], [1, 2], start=2, stop=4)
    assert caught.value.fields == {"deleted_frames": ["Frames 1 do not belong to the job"]}
