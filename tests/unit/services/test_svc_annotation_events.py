"""What an annotation save publishes (CVAT's ``handle_annotations_change``): ``<action>:tags``,
``<action>:shapes`` / ``<action>:tracks`` per shape type with ``obj_name`` and ``count``, the job's
org/project/task/job ids and the request id; a PUT, a DELETE and a restore are ``delete:`` of what
was there then ``create:``; then ``update:job``. Big saves are chunked under EventBridge's 256 KB.
Deleting a task or a project deletes its jobs' annotations and history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cvat_serverless.domain.annotations import LabeledData
from cvat_serverless.domain.errors import NotFoundError
from cvat_serverless.domain.events import DomainEvent
from cvat_serverless.domain.labels import LabelInput
from cvat_serverless.services.annotation_events import annotation_events
from cvat_serverless.services.annotations import AnnotationService
from cvat_serverless.services.projects import ProjectCreate
from cvat_serverless.services.tasks import TaskCreate
from tests.unit.services.test_svc_tasks_jobs import data

ENTRY_LIMIT = 256 * 1024  # EventBridge PutEvents entry (and SQS message) size limit


@pytest.fixture
def service(world: Any) -> AnnotationService:
    return AnnotationService(world.repos, world.ids, world.clock, world.events, world.container.annotation_store)


def setup(world: Any, *, project: bool = False) -> tuple[Any, Any, list[int], int]:
    """A task (in a project when asked) of 6 frames in 2 jobs; its jobs in frame order."""
    ctx = world.ctx(world.user("alice"))
    project_id = None
    if project:
        project_id = world.projects.create(ctx, ProjectCreate(name="P", labels=[LabelInput(name="car")])).value.id
    task = world.tasks.create(ctx, TaskCreate(name="T", project_id=project_id, segment_size=3,
                                              labels=[] if project else [LabelInput(name="car")])).value
    world.tasks.attach_data(task.id, data(6), ctx=ctx)
    jobs = [j.id for j in sorted(world.repos.jobs.list_by_task(task.id), key=lambda j: j.start_frame)]
    labels = (world.repos.labels.list_by_project(project_id) if project_id
              else world.repos.labels.list_by_task(task.id))
    return ctx, world.repos.tasks.get(task.id), jobs, labels[0].id


def box(label: int, x: float, frame: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "rectangle", "frame": frame, "label_id": label, "points": [x, 0.0, x + 5, 5.0], **extra}


def events_after(world: Any, mark: int) -> list[tuple[str, dict[str, Any]]]:
    """The annotation events (and ``update:job``) published since ``mark``."""
    return [(t, d) for t, d in world.events.events[mark:] if t.split(":")[1] in {"tags", "shapes", "tracks", "job"}]


def test_put_publishes_delete_of_the_old_then_create_of_the_new_with_the_jobs_ids(
        world: Any, service: AnnotationService) -> None:
    ctx, task, jobs, label = setup(world, project=True)
    first = service.put_job(ctx, jobs[0], {"shapes": [box(label, 1.0)], "tags": [{"frame": 1, "label_id": label}]})
    mark = len(world.events.events)
    second = service.put_job(ctx, jobs[0], {
        "shapes": [box(label, 2.0), box(label, 3.0, frame=2),
                   {"type": "points", "frame": 0, "label_id": label, "points": [1.0, 1.0]}],
        "tracks": [{"frame": 0, "label_id": label, "shapes": [
            {"type": "polygon", "frame": 0, "points": [0, 0, 1, 0, 1, 1]},
            {"type": "polygon", "frame": 2, "points": [0, 0, 2, 0, 2, 2]}]}]})

    published = events_after(world, mark)
    assert [(t, d.get("obj_name"), d.get("count")) for t, d in published] == [
        ("delete:tags", None, 1), ("delete:shapes", "rectangle", 1),
        ("create:shapes", "rectangle", 2), ("create:shapes", "points", 1), ("create:tracks", "polygon", 1),
        ("update:job", None, None)]
    for _, detail in published:
        assert (detail["organization_id"], detail["project_id"], detail["task_id"], detail["job_id"], detail["id"]) \
            == (task.organization_id, task.project_id, task.id, jobs[0], jobs[0])
        assert detail["request_id"] == ctx.request_id == "req-1"
        assert detail["actor_id"] == ctx.user_id
    assert published[1][1]["shapes"] == [
        {"id": first.shapes[0].id, "frame": 0, "attributes": [], "label_id": label}]
    assert [s["id"] for s in published[2][1]["shapes"]] == [s.id for s in second.shapes[:2]]
    track = published[4][1]["tracks"][0]
    assert (track["id"], [s["id"] for s in track["shapes"]]) == (
        second.tracks[0].id, [s.id for s in second.tracks[0].shapes])
    assert "label_id" not in track["shapes"][0]  # keyframes have no label of their own, as in CVAT
    assert published[5][1]["job"]["id"] == jobs[0]


def test_patch_publishes_its_action_and_delete_only_what_it_removed(world: Any, service: AnnotationService) -> None:
    ctx, _task, jobs, label = setup(world)
    mark = len(world.events.events)
    created = service.patch_job(ctx, jobs[0], "create", {"shapes": [box(label, 1.0), box(label, 2.0)]})
    assert [(t, d["count"], [s["id"] for s in d["shapes"]]) for t, d in events_after(world, mark)[:1]] == [
        ("create:shapes", 2, [s.id for s in created.shapes])]
    assert [t for t, _ in events_after(world, mark)] == ["create:shapes", "update:job"]

    mark = len(world.events.events)
    moved = created.shapes[0].to_dict() | {"points": [9.0, 9.0, 10.0, 10.0]}
    service.patch_job(ctx, jobs[0], "update", {"shapes": [moved]})
    assert [(t, d.get("count")) for t, d in events_after(world, mark)] == [("update:shapes", 1), ("update:job", None)]

    mark = len(world.events.events)
    gone = created.shapes[1].to_dict()
    service.patch_job(ctx, jobs[0], "delete", {"shapes": [gone, gone | {"id": 999_999}]})
    deleted = events_after(world, mark)
    assert [(t, d.get("count")) for t, d in deleted] == [("delete:shapes", 1), ("update:job", None)]
    assert deleted[0][1]["shapes"][0]["id"] == gone["id"]

    mark = len(world.events.events)
    service.patch_job(ctx, jobs[0], "delete", {"shapes": [gone]})  # already gone: nothing changed
    assert events_after(world, mark) == []


def test_delete_and_restore_publish_what_went_and_what_came_back(world: Any, service: AnnotationService) -> None:
    ctx, _task, jobs, label = setup(world)
    saved = service.put_job(ctx, jobs[1], {"shapes": [box(label, 1.0, frame=4)]})
    mark = len(world.events.events)
    service.delete_job(ctx, jobs[1])
    assert [(t, d["job_id"]) for t, d in events_after(world, mark)] == [("delete:shapes", jobs[1]),
                                                                        ("update:job", jobs[1])]

    mark = len(world.events.events)
    service.delete_job(ctx, jobs[1])  # empty already
    assert events_after(world, mark) == []

    mark = len(world.events.events)
    service.restore(ctx, jobs[1], saved.version)
    restored = events_after(world, mark)
    assert [t for t, _ in restored] == ["create:shapes", "update:job"]
    assert restored[0][1]["shapes"][0]["id"] == saved.shapes[0].id  # a restore keeps that version's ids


def test_task_saves_publish_per_job(world: Any, service: AnnotationService) -> None:
    ctx, task, jobs, label = setup(world)
    mark = len(world.events.events)
    service.put_task(ctx, task.id, {"shapes": [box(label, 1.0, frame=0), box(label, 2.0, frame=4)]})
    assert sorted((t, d["job_id"], d["task_id"]) for t, d in events_after(world, mark)) == sorted([
        ("create:shapes", jobs[0], task.id), ("update:job", jobs[0], task.id),
        ("create:shapes", jobs[1], task.id), ("update:job", jobs[1], task.id)])

    mark = len(world.events.events)
    service.delete_task(ctx, task.id)
    assert sorted((t, d["job_id"]) for t, d in events_after(world, mark)) == sorted([
        ("delete:shapes", jobs[0]), ("update:job", jobs[0]), ("delete:shapes", jobs[1]), ("update:job", jobs[1])])


def test_a_big_save_is_chunked_under_the_entry_limit(world: Any, service: AnnotationService) -> None:
    ctx, _task, jobs, label = setup(world)
    shapes = [box(label, float(i % 500), frame=i % 3, attributes=[]) for i in range(20_000)]
    mark = len(world.events.events)
    service.put_job(ctx, jobs[0], {"shapes": shapes})
    published = [(t, d) for t, d in events_after(world, mark) if t == "create:shapes"]
    assert len(published) > 1
    assert sum(d["count"] for _, d in published) == 20_000 == sum(len(d["shapes"]) for _, d in published)
    for _, detail in published:  # serialised as the EventBridge adapter does
        assert len(json.dumps(detail, default=str, separators=(",", ":")).encode()) < ENTRY_LIMIT


def test_an_object_too_big_for_one_event_goes_without_its_lists() -> None:
    track = {"id": 1, "frame": 0, "label_id": 2, "shapes": [
        {"id": 10 + i, "type": "rectangle", "frame": i, "points": [0, 0, 1, 1]} for i in range(20_000)]}
    tags = [{"id": 100 + i, "frame": 0, "label_id": 2} for i in range(3)]
    events = annotation_events("create", LabeledData.from_dict({"tracks": [track], "tags": tags}))
    assert [(e.scope, e.obj_name, len(e.objects)) for e in events] == [
        ("create:tags", None, 3), ("create:tracks", "rectangle", 1)]
    assert events[1].objects == [{"id": 1, "frame": 0, "attributes_count": 0, "label_id": 2, "shapes_count": 20_000}]


def test_deleting_a_task_deletes_its_jobs_annotations_and_history(world: Any, service: AnnotationService) -> None:
    ctx, task, jobs, label = setup(world)
    other = world.tasks.create(ctx, TaskCreate(name="U", labels=[LabelInput(name="car")], segment_size=3)).value
    world.tasks.attach_data(other.id, data(3), ctx=ctx)
    other_job = world.repos.jobs.list_by_task(other.id)[0].id
    other_label = world.repos.labels.list_by_task(other.id)[0].id
    saved = service.put_job(ctx, jobs[0], {"shapes": [box(label, 1.0)]})
    service.put_job(ctx, jobs[0], {"shapes": [box(label, 2.0)]})
    service.put_job(ctx, jobs[1], {"shapes": [box(label, 2.0, frame=4)]})
    kept = service.put_job(ctx, other_job, {"shapes": [box(other_label, 3.0)]})
    store = world.container.annotation_store

    world.tasks.delete(ctx, task.id)

    for job in jobs:
        assert store.read(job)[1].version == 0
        assert store.history(job) == []
    with pytest.raises(NotFoundError):
        store.read_version(jobs[0], saved.version)
    assert [s.id for s in store.read(other_job)[0].shapes] == [kept.shapes[0].id]


def test_deleting_a_project_deletes_its_tasks_annotations(world: Any, service: AnnotationService) -> None:
    ctx, task, jobs, label = setup(world, project=True)
    service.put_job(ctx, jobs[1], {"shapes": [box(label, 1.0, frame=3)]})
    assert task.project_id is not None

    world.projects.delete(ctx, task.project_id)

    assert world.container.annotation_store.read(jobs[1])[1].version == 0
    assert world.container.annotation_store.history(jobs[1]) == []


@pytest.mark.parametrize("text", ["plain", "ключ", "车辆", "🚗"])
def test_chunks_fit_the_entry_limit_as_the_bus_adapter_escapes_them(text: str) -> None:
    shapes = [{"id": i, "type": "rectangle", "frame": i % 7, "label_id": 2, "points": [0, 0, 1, 1],
               "attributes": [{"spec_id": 3, "value": text * 40}]} for i in range(5_000)]
    events = annotation_events("delete", LabeledData.from_dict({"shapes": shapes}))
    assert sum(len(e.objects) for e in events) == 5_000
    for e in events:
        detail = DomainEvent(scope=e.scope, resource="shapes", resource_id=1, actor_id=1, request_id="r" * 64,
                             timestamp=datetime(2026, 1, 1, tzinfo=UTC), organization_id=1, project_id=2,
                             task_id=3, job_id=4, obj=e.objects, obj_name=e.obj_name, count=len(e.objects)).detail()
        assert len(json.dumps(detail, default=str, separators=(",", ":")).encode()) < ENTRY_LIMIT
