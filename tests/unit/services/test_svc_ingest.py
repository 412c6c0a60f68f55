"""The drop folder's service (services.ingest) on both backends: one task per dropped object
version whatever S3 redelivers, a retry after a crash goes on instead of making a second task,
and every refused drop leaves a failure record."""

from __future__ import annotations

import json

import pytest

from cvat_serverless.domain.drops import CLAIM_LEASE, DropState, drop_marker_id
from cvat_serverless.domain.labels import LabelInput
from cvat_serverless.services.ingest import DropBusyError, DropOutcome, DroppedObject
from cvat_serverless.services.projects import ProjectCreate

BUCKET = "media"


@pytest.fixture
def project(world):
    owner = world.user("owner")
    return world.projects.create(world.ctx(owner), ProjectCreate(name="P", labels=[LabelInput(name="car")])).value


def dropped(world, key: str, body: bytes = b"media", etag: str = "") -> DroppedObject:
    world.container.blobs.put(key, body)
    return DroppedObject(BUCKET, key, len(body), etag or world.container.blobs.head(key)["etag"])


def started(world) -> list[dict]:
    return [payload for _workflow, _name, payload in world.container.workflows.started]


def marker_of(world, obj: DroppedObject):
    return world.container.drop_markers.get(drop_marker_id(obj.bucket, obj.key, obj.etag))


def test_a_video_makes_a_task_in_its_project_read_where_it_is(world, project):
    ingest, blobs = world.container.ingest, world.container.blobs
    obj = dropped(world, f"uploads/projects/{project.id}/clip.mp4")
    result = ingest.accept(obj)
    assert result.outcome is DropOutcome.STARTED
    task = world.repos.tasks.get(result.task_id)
    assert (task.name, task.project_id, task.owner_id) == ("clip.mp4", project.id, project.owner_id)
    [payload] = started(world)
    assert (payload["task_id"], payload["request_id"]) == (task.id, result.request_id)
    document = json.loads(blobs.get(f"tasks/{task.id}/data/{payload['data_id']}/request.json"))
    assert document["source_prefix"] == f"uploads/projects/{project.id}/"
    assert document["data"]["client_files"] == ["clip.mp4"] and document["owner_id"] == project.owner_id
    assert marker_of(world, obj).state is DropState.DONE
    # redeliveries (S3 and SQS deliver at least once) make nothing more
    assert ingest.accept(obj).outcome is DropOutcome.DUPLICATE
    assert len(started(world)) == 1 and len(world.repos.tasks.list_by_project(project.id)) == 1
    # new content under the same key is a new drop
    assert ingest.accept(dropped(world, obj.key, b"other media")).outcome is DropOutcome.STARTED
    assert len(world.repos.tasks.list_by_project(project.id)) == 2


def test_a_folder_waits_for_done_and_takes_its_media_in_key_order(world, project):
    ingest = world.container.ingest
    folder = f"uploads/projects/{project.id}/day/"
    for name in ("b.png", "a.png", ".DS_Store"):
        assert ingest.accept(dropped(world, folder + name)).outcome is DropOutcome.IGNORED
    assert started(world) == []
    result = ingest.accept(dropped(world, folder + ".done", b""))
    assert result.outcome is DropOutcome.STARTED and world.repos.tasks.get(result.task_id).name == "day"
    document = json.loads(world.container.blobs.get(f"tasks/{result.task_id}/data/{started(world)[0]['data_id']}"
                                                    "/request.json"))
    assert document["data"]["client_files"] == ["a.png", "b.png"] and document["source_prefix"] == folder


def test_a_done_beside_a_task_json_is_ignored(world, project):
    folder = f"uploads/projects/{project.id}/day/"
    dropped(world, folder + "a.png")
    dropped(world, folder + "task.json", b'{"segment_size": 5}')
    assert world.container.ingest.accept(dropped(world, folder + ".done", b"")).outcome is DropOutcome.IGNORED
    assert started(world) == []


def test_a_retry_after_a_crash_goes_on_with_the_same_task(world, project, monkeypatch):
    ingest, clock = world.container.ingest, world.clock
    obj = dropped(world, f"uploads/projects/{project.id}/clip.mp4")
    real_start = ingest.task_data.start_in_place

    def crash(*_args, **_kwargs):
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(ingest.task_data, "start_in_place", crash)
    with pytest.raises(RuntimeError):
        ingest.accept(obj)  # the task was made, its data not started
    marker = marker_of(world, obj)
    assert marker.state is DropState.CLAIMED and marker.task_id is not None
    [task] = world.repos.tasks.list_by_project(project.id)
    assert task.id == marker.task_id
    monkeypatch.setattr(ingest.task_data, "start_in_place", real_start)
    # a duplicate delivered while the claim is live waits (the notification comes back later)
    with pytest.raises(DropBusyError):
        ingest.accept(obj)
    clock.advance(CLAIM_LEASE)
    result = ingest.accept(obj)
    assert (result.outcome, result.task_id) == (DropOutcome.STARTED, task.id)
    assert len(world.repos.tasks.list_by_project(project.id)) == 1 and len(started(world)) == 1


def test_a_retry_after_the_task_was_reserved_but_not_made_makes_it_with_that_id(world, project, monkeypatch):
    ingest = world.container.ingest
    obj = dropped(world, f"uploads/projects/{project.id}/clip.mp4")
    real_create = ingest.tasks.create

    def crash(*_args, **_kwargs):
        raise RuntimeError("DynamoDB went away")

    monkeypatch.setattr(ingest.tasks, "create", crash)
    with pytest.raises(RuntimeError):
        ingest.accept(obj)
    reserved = marker_of(world, obj).task_id
    assert reserved is not None and world.repos.tasks.list_by_project(project.id) == []
    monkeypatch.setattr(ingest.tasks, "create", real_create)
    world.clock.advance(CLAIM_LEASE)
    assert ingest.accept(obj).task_id == reserved
    assert [t.id for t in world.repos.tasks.list_by_project(project.id)] == [reserved]


def test_a_retry_after_the_data_started_only_marks_the_drop_done(world, project, monkeypatch):
    ingest = world.container.ingest
    obj = dropped(world, f"uploads/projects/{project.id}/clip.mp4")
    markers = ingest.markers
    real_save = markers.save

    def save(marker):
        if marker.state is DropState.DONE:
            raise RuntimeError("crashed before the marker was saved")
        return real_save(marker)

    monkeypatch.setattr(markers, "save", save)
    with pytest.raises(RuntimeError):
        ingest.accept(obj)
    monkeypatch.setattr(markers, "save", real_save)
    world.clock.advance(CLAIM_LEASE)
    result = ingest.accept(obj)
    [payload] = started(world)
    assert (result.outcome, result.request_id) == (DropOutcome.STARTED, payload["request_id"])
    assert marker_of(world, obj).state is DropState.DONE


@pytest.mark.parametrize(("key", "body", "message"), [
    ("uploads/clip.mp4", b"x", "is not in a project's drop folder"),
    ("uploads/projects/999/clip.mp4", b"x", "Project 999 does not exist"),
    ("uploads/projects/{p}/a.jpg", b"x", "single images do not make tasks"),
    ("uploads/projects/{p}/f/task.json", b'{"overlap": -1}', "overlap"),
    ("uploads/projects/{p}/empty/.done", b"", "no media files"),
])
def test_a_refused_drop_leaves_a_failure_record_once(world, project, key, body, message):
    ingest, blobs = world.container.ingest, world.container.blobs
    if key.endswith("task.json"):
        dropped(world, key.format(p=project.id).replace("task.json", "a.png"))
    obj = dropped(world, key.format(p=project.id), body)
    result = ingest.accept(obj)
    assert result.outcome is DropOutcome.FAILED and message in result.message
    record = json.loads(blobs.get(result.failure_key))
    assert result.failure_key.startswith("drop-failures/")
    assert (record["key"], record["message"]) == (obj.key, result.message) and "help" in record
    assert world.repos.tasks.list_all() == [] and started(world) == []
    if "projects/" + str(project.id) in obj.key:
        assert marker_of(world, obj).state is DropState.FAILED
        assert ingest.accept(obj).outcome is DropOutcome.DUPLICATE


def test_a_project_without_an_active_owner_refuses_drops(world, project):
    owner = world.repos.users.get(project.owner_id)
    owner.is_active = False
    world.repos.users.save(owner)
    result = world.container.ingest.accept(dropped(world, f"uploads/projects/{project.id}/clip.mp4"))
    assert result.outcome is DropOutcome.FAILED and "no active owner" in result.message


def test_a_fixed_drop_removes_the_stale_failure_record(world, project):
    ingest, blobs = world.container.ingest, world.container.blobs
    key = f"uploads/projects/{project.id}/f/task.json"
    dropped(world, f"uploads/projects/{project.id}/f/a.png")
    failed = ingest.accept(dropped(world, key, b'{"image_quality": "best"}'))
    assert failed.outcome is DropOutcome.FAILED and blobs.head(failed.failure_key)
    fixed = ingest.accept(dropped(world, key, b'{"image_quality": 95}'))
    assert fixed.outcome is DropOutcome.STARTED
    assert not list(blobs.list_keys("drop-failures/"))


def test_data_the_task_cannot_take_removes_the_task_and_refuses_the_drop(world, project, monkeypatch):
    from cvat_serverless.domain.errors import ValidationError

    ingest = world.container.ingest

    def refuse(*_args, **_kwargs):
        raise ValidationError(fields={"image_quality": ["This field is required."]})

    monkeypatch.setattr(ingest.task_data, "start_in_place", refuse)
    result = ingest.accept(dropped(world, f"uploads/projects/{project.id}/clip.mp4"))
    assert (result.outcome, result.message) == (DropOutcome.FAILED, "image_quality: This field is required.")
    assert world.repos.tasks.list_by_project(project.id) == []
