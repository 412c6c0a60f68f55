from __future__ import annotations

import threading

import pytest

from cvat_serverless.domain.errors import ConflictError, PermissionDeniedError, ValidationError
from cvat_serverless.domain.jobs import JobsSummary, JobStage, JobState, JobStatus
from cvat_serverless.domain.labels import AttributeInput, LabelInput
from cvat_serverless.domain.segments import FrameRange
from cvat_serverless.domain.tasks import ChunkType, TaskMode
from cvat_serverless.domain.users import SystemRole
from cvat_serverless.services.common import StorageInput
from cvat_serverless.services.projects import ProjectCreate, ProjectPatch
from cvat_serverless.services.tasks import DataInfo, TaskCreate, TaskPatch


def data(size: int, mode=TaskMode.ANNOTATION, step: int = 1, **kw) -> DataInfo:
    return DataInfo(
        frames=FrameRange(0, size * step - 1, step),
        mode=mode,
        chunk_size=72,
        image_quality=70,
        compressed_chunk_type=ChunkType.IMAGESET,
        original_chunk_type=ChunkType.IMAGESET,
        **kw,
    )


CAR = LabelInput(
    name="car", attributes=[AttributeInput(name="color", input_type="select", mutable=False, values=["red", "blue"])]
)


def test_task_lifecycle_before_and_after_data(world):
    alice = world.user("alice")
    ctx = world.ctx(alice)
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR], segment_size=4)).value
    # CVAT's fields before data
    assert (task.size, task.data_id, task.data_chunk_size, task.mode, task.overlap) == (
        0,
        None,
        None,
        TaskMode.NONE,
        None,
    )
    assert task.dimension == "2d" and task.status == JobStatus.ANNOTATION and task.owner_id == alice.id
    assert task.target_storage is not None and task.target_storage.location == "local"
    assert world.tasks.jobs_summary(task.id).count == 0

    task = world.tasks.attach_data(task.id, data(10), ctx=ctx)
    assert (task.size, task.segment_size, task.overlap, task.mode) == (10, 4, 0, TaskMode.ANNOTATION)
    assert (
        task.data_chunk_size == 72 and task.data_original_chunk_type == ChunkType.IMAGESET and task.image_quality == 70
    )
    jobs = sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.start_frame)
    assert [(j.start_frame, j.stop_frame, j.frame_count) for j in jobs] == [(0, 3, 4), (4, 7, 4), (8, 9, 2)]
    assert all(j.stage == JobStage.ANNOTATION and j.state == JobState.NEW for j in jobs)
    assert world.tasks.attach_data(task.id, data(10)).id == task.id  # a retry changes nothing
    assert len(world.repos.jobs.list_by_task(task.id)) == 3
    with pytest.raises(ConflictError):
        world.tasks.attach_data(task.id, data(11))
    event = world.events.of("update:task")[-1]
    assert event["before_update"]["size"] == 0 and "data_chunk_size" in event["changed_fields"]


def test_video_default_overlap_and_frame_step(world):
    ctx = world.ctx(world.user("alice"))
    task = world.tasks.create(ctx, TaskCreate(name="V", labels=[CAR], segment_size=20)).value
    task = world.tasks.attach_data(task.id, data(50, mode=TaskMode.INTERPOLATION, step=3))
    assert task.overlap == 5 and task.frame_filter == "step=3" and task.stop_frame == 147
    starts = [s.start_frame for s in world.tasks.segments(task.id)]
    assert starts == [0, 15, 30]


def test_job_stage_state_updates_task_status_and_events(world):
    alice = world.user("alice")
    ctx = world.ctx(alice)
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR], segment_size=5)).value
    world.tasks.attach_data(task.id, data(10))
    j1, j2 = sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.id)
    job = world.jobs.update(ctx, j1.id, stage="validation", state="in progress").value
    assert (job.stage, job.state, job.status) == (JobStage.VALIDATION, JobState.IN_PROGRESS, JobStatus.VALIDATION)
    assert world.repos.tasks.get(task.id).status == JobStatus.ANNOTATION  # j2 still annotating
    world.jobs.update(ctx, j2.id, stage="acceptance", state="completed")
    assert world.repos.tasks.get(task.id).status == JobStatus.VALIDATION
    world.jobs.update(ctx, j1.id, stage="acceptance", state="completed")
    assert world.repos.tasks.get(task.id).status == JobStatus.COMPLETED
    job = world.jobs.update(ctx, j1.id, stage="annotation").value
    assert job.state == JobState.NEW
    job_event = world.events.of("update:job")[-1]
    assert job_event["before_update"]["stage"] == "acceptance" and job_event["job_id"] == j1.id
    with pytest.raises(ValidationError):
        world.jobs.update(ctx, j1.id, state="done")
    summary = world.tasks.jobs_summary(task.id)
    assert (summary.count, summary.completed, summary.validation) == (2, 1, 0)


def test_job_permissions_and_lists_do_not_leak(world):
    alice, bob, carol = world.user("alice"), world.user("bob", SystemRole.WORKER), world.user("carol")
    ctx = world.ctx(alice)
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR], segment_size=5)).value
    world.tasks.attach_data(task.id, data(10))
    j1, _ = sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.id)
    with pytest.raises(PermissionDeniedError):
        world.jobs.get(world.ctx(bob), j1.id)
    world.jobs.update(ctx, j1.id, assignee_id=bob.id)
    bctx = world.ctx(bob)
    assert world.jobs.get(bctx, j1.id).value.assignee_id == bob.id
    assert world.jobs.update(bctx, j1.id, state="in progress").value.state == JobState.IN_PROGRESS
    with pytest.raises(PermissionDeniedError):
        world.jobs.update(bctx, j1.id, stage="validation")  # assignees move state, not stage
    page = world.jobs.list(bctx, {"task_id": str(task.id)}).value
    assert page.count == 1 and page.results[0].id == j1.id
    assert world.jobs.list(world.ctx(carol), {}).value.count == 0
    assert world.tasks.list(world.ctx(carol), {}).value.count == 0
    # bob sees the task's labels through his job
    assert [lb.name for lb in world.labels.list(bctx, {}, job_id=j1.id).value.results] == ["car"]
    with pytest.raises(PermissionDeniedError):
        world.tasks.get(bctx, task.id)


def test_stale_versions_conflict_even_across_threads(world):
    ctx = world.ctx(world.user("alice"))
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR])).value
    world.tasks.attach_data(task.id, data(3))
    (job,) = world.repos.jobs.list_by_task(task.id)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            world.jobs.update(ctx, job.id, state=["in progress", "rejected"][i % 2], version=job.version)
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        except Exception as exc:  # reported by the assertion below, not lost in a thread
            results.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 7 + ["ok"], results
    with pytest.raises(ConflictError):
        world.tasks.update(ctx, task.id, TaskPatch(name="A"), version=task.version - 1)


def test_projects_labels_inherited_and_task_moves(world):
    alice = world.user("alice")
    ctx = world.ctx(alice)
    project = world.projects.create(ctx, ProjectCreate(name="P", labels=[CAR, LabelInput(name="dog")])).value
    with pytest.raises(ValidationError):
        world.tasks.create(ctx, TaskCreate(name="T", project_id=project.id, labels=[CAR]))
    task = world.tasks.create(ctx, TaskCreate(name="T", project_id=project.id, subset="train")).value
    assert [lb.name for lb in world.labels.list(ctx, {}, task_id=task.id).value.results] == ["dog", "car"] or sorted(
        lb.name for lb in world.labels.list(ctx, {}, task_id=task.id).value.results
    ) == ["car", "dog"]
    assert world.repos.projects.get(project.id).task_subsets == ["train"]
    loose = world.tasks.create(ctx, TaskCreate(name="L", labels=[LabelInput(name="cat")])).value
    with pytest.raises(ValidationError):
        world.tasks.update(ctx, loose.id, TaskPatch(project_id=project.id))  # 'cat' not in project
    ok = world.tasks.create(ctx, TaskCreate(name="M", labels=[LabelInput(name="dog")])).value
    moved = world.tasks.update(ctx, ok.id, TaskPatch(project_id=project.id)).value
    assert moved.project_id == project.id and world.repos.labels.list_by_task(ok.id) == []
    assert world.tasks.list(ctx, {"project_id": str(project.id)}).value.count == 2
    with pytest.raises(ValidationError):
        world.tasks.update(ctx, task.id, TaskPatch(labels=[LabelInput(name="x")]))
    world.projects.update(ctx, project.id, ProjectPatch(labels=[LabelInput(name="bird")]))
    assert world.labels.list(ctx, {}, task_id=task.id).value.count == 3
    deleted = world.projects.delete(ctx, project.id)
    assert sorted(deleted) == sorted([task.id, ok.id])
    assert world.repos.tasks.list_all()[0].id == loose.id


def test_org_worker_cannot_create_but_supervisor_can_and_lists_filter(world):
    alice, bob, carol = world.user("alice"), world.user("bob"), world.user("carol")
    org = world.orgs.create(world.ctx(alice), slug="acme").value
    for who, role in ((bob, "worker"), (carol, "supervisor")):
        inv = world.orgs.invite(world.ctx(alice, "acme"), email=f"{who.username}@example.com", role=role).value
        world.orgs.accept(world.ctx(who), inv.key)
    with pytest.raises(PermissionDeniedError):
        world.tasks.create(world.ctx(bob, "acme"), TaskCreate(name="x", labels=[CAR]))
    t1 = world.tasks.create(world.ctx(carol, "acme"), TaskCreate(name="carol's", labels=[CAR])).value
    t2 = world.tasks.create(
        world.ctx(alice, "acme"), TaskCreate(name="alice's", labels=[CAR], assignee_id=bob.id)).value
    world.tasks.create(world.ctx(alice), TaskCreate(name="personal", labels=[CAR]))
    assert t1.organization_id == org.id
    assert [t.id for t in world.tasks.list(world.ctx(bob, "acme"), {}).value.results] == [t2.id]
    assert world.tasks.list(world.ctx(alice, "acme"), {}).value.count == 2
    assert world.tasks.list(world.ctx(alice, ""), {}).value.count == 1
    # no context at all: CVAT's sandbox filter, i.e. only what alice owns or is assigned, anywhere
    assert world.tasks.list(world.ctx(alice), {}).value.count == 2
    # search/filter never count what the caller cannot see
    assert world.tasks.list(world.ctx(bob, "acme"), {"search": "carol"}).value.count == 0
    with pytest.raises(PermissionDeniedError):
        world.tasks.list(world.ctx(world.user("dave"), "acme"), {})
    # the task's own organization decides, whatever context the request names
    assert world.tasks.get(world.ctx(alice, ""), t1.id).value.id == t1.id
    with pytest.raises(PermissionDeniedError):
        world.tasks.get(world.ctx(carol), t2.id)


def test_task_update_scopes_and_events(world):
    alice, bob = world.user("alice"), world.user("bob", SystemRole.WORKER)
    ctx = world.ctx(alice)
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR], assignee_id=bob.id)).value
    bctx = world.ctx(bob)
    assert world.tasks.update(bctx, task.id, TaskPatch(name="Renamed")).value.name == "Renamed"
    with pytest.raises(PermissionDeniedError):
        world.tasks.update(bctx, task.id, TaskPatch(assignee_id=None))
    with pytest.raises(PermissionDeniedError):
        world.tasks.delete(bctx, task.id)
    with pytest.raises(PermissionDeniedError):
        world.tasks.update(world.ctx(alice, read_only=True), task.id, TaskPatch(name="x"))
    patch = TaskPatch(target_storage=StorageInput("cloud_storage", 3), subset="val")
    updated = world.tasks.update(ctx, task.id, patch).value
    assert updated.target_storage.cloud_storage_id == 3
    event = world.events.of("update:task")[-1]
    assert event["before_update"]["subset"] == "" and event["request_id"] == "req-1"
    with pytest.raises(ValidationError):
        world.tasks.update(ctx, task.id, TaskPatch(target_storage=StorageInput("cloud_storage", None)))
    world.tasks.delete(ctx, task.id)
    assert world.repos.labels.list_by_task(task.id) == []
    assert world.events.of("delete:task")[0]["task"]["name"] == "Renamed"


def test_the_jobs_summary_is_kept_on_the_task_so_lists_need_no_job_queries(world):
    ctx = world.ctx(world.user("alice"))
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[CAR], segment_size=5)).value
    world.tasks.attach_data(task.id, data(10))
    j1, j2 = sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.id)
    assert world.tasks.jobs_summary(task.id) == JobsSummary(2, 0, 0)
    world.jobs.update(ctx, j1.id, stage="validation")
    world.jobs.update(ctx, j2.id, state="completed")
    stored = world.repos.tasks.get(task.id)
    assert (stored.jobs_count, stored.jobs_completed, stored.jobs_validation) == (2, 1, 1)
    before = len(world.events.of("update:task"))
    world.jobs.update(ctx, j2.id, state="in progress")  # summary changes, task status does not
    assert world.repos.tasks.get(task.id).jobs_completed == 0
    assert len(world.events.of("update:task")) == before
