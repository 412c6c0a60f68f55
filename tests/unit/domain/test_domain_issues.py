"""An issue's position and frame, as CVAT validates them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.issues import validate_frame, validate_message, validate_position
from cvat_serverless.domain.jobs import Job

numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False))


@given(st.lists(st.tuples(numbers, numbers), min_size=1, max_size=20))
def test_point_pairs_are_positions(pairs):
    flat = [v for pair in pairs for v in pair]
    assert validate_position(flat) == [float(v) for v in flat]


@given(st.lists(numbers, min_size=1, max_size=41).filter(lambda v: len(v) % 2 == 1))
def test_an_odd_count_is_refused(values):
    with pytest.raises(ValidationError) as err:
        validate_position(values)
    assert "position" in err.value.fields


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [1.0, math.inf], [True, 1.0], ["1", 2.0]])
def test_empty_and_non_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        validate_position(bad)


def test_the_frame_belongs_to_the_job_and_messages_are_bounded():
    job = Job(id=3, task_id=1, segment_id=1, start_frame=5, stop_frame=9, frame_count=5)
    assert validate_frame(job, 5) == 5 and validate_frame(job, 9) == 9
    for frame in (4, 10):
        with pytest.raises(ValidationError) as err:
            validate_frame(job, frame)
        assert err.value.fields["frame"] == ["The frame number doesn't belong to the job #3"]
    assert validate_message("", required=False) == ""
    with pytest.raises(ValidationError):
        validate_message("x" * 65537)
