from __future__ import annotations

import itertools

import pytest

from cvat_serverless.domain.errors import ValidationError
from cvat_serverless.domain.jobs import (
    Job,
    JobStage,
    JobState,
    JobStatus,
    apply_stage_state,
    job_status,
    parse_stage,
    parse_state,
    task_status,
)


def make_job(**kw):
    return Job(id=1, task_id=1, segment_id=1, start_frame=0, stop_frame=9, frame_count=10, **kw)


def test_wire_values_are_cvats():
    assert [s.value for s in JobStage] == ["annotation", "validation", "acceptance"]
    assert [s.value for s in JobState] == ["new", "in progress", "rejected", "completed"]
    assert [s.value for s in JobStatus] == ["annotation", "validation", "completed"]


@pytest.mark.parametrize(("stage", "state"), list(itertools.product(JobStage, JobState)))
def test_status_follows_stage_and_state(stage, state):
    expected = (
        JobStatus.ANNOTATION
        if stage == JobStage.ANNOTATION
        else JobStatus.COMPLETED
        if (stage, state) == (JobStage.ACCEPTANCE, JobState.COMPLETED)
        else JobStatus.VALIDATION
    )
    assert job_status(stage, state) == expected


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(JobStage, JobStage)))
def test_every_stage_move_is_allowed_and_resets_state_without_explicit_state(src, dst):
    job = make_job(stage=src, state=JobState.IN_PROGRESS, status=job_status(src, JobState.IN_PROGRESS))
    before = apply_stage_state(job, stage=dst)
    assert job.stage == dst
    if src != dst:
        assert job.state == JobState.NEW
        assert before["stage"] == src and before["state"] == JobState.IN_PROGRESS
    else:
        assert job.state == JobState.IN_PROGRESS
        assert "stage" not in before
    assert job.status == job_status(job.stage, job.state)


def test_stage_with_explicit_state_keeps_that_state():
    job = make_job()
    before = apply_stage_state(job, stage=JobStage.ACCEPTANCE, state=JobState.COMPLETED)
    assert (job.stage, job.state, job.status) == (
        JobStage.ACCEPTANCE,
        JobState.COMPLETED,
        JobStatus.COMPLETED,
    )
    assert before == {"stage": JobStage.ANNOTATION, "state": JobState.NEW, "status": JobStatus.ANNOTATION}


def test_state_only_change_recomputes_status():
    job = make_job(stage=JobStage.ACCEPTANCE, status=JobStatus.VALIDATION)
    apply_stage_state(job, state=JobState.COMPLETED)
    assert job.status == JobStatus.COMPLETED
    assert apply_stage_state(job, state=JobState.COMPLETED) == {}


def test_task_status_from_jobs():
    assert task_status([JobStatus.COMPLETED, JobStatus.ANNOTATION]) == JobStatus.ANNOTATION
    assert task_status([JobStatus.COMPLETED, JobStatus.VALIDATION]) == JobStatus.VALIDATION
    assert task_status([JobStatus.COMPLETED]) == JobStatus.COMPLETED
    assert task_status([]) == JobStatus.ANNOTATION


def test_parse_errors_are_field_errors():
    with pytest.raises(ValidationError) as err:
        parse_stage("done")
    assert "stage" in err.value.fields
    with pytest.raises(ValidationError):
        parse_state("in_progress")
    assert parse_state("in progress") == JobState.IN_PROGRESS
