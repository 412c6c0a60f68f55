"""AnnotationService on both backends (the in-memory store; DynamoDB heads + S3 snapshots on moto):
concurrent saves of one job merge, a true conflict is a 409, a PUT replaces with new ids."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from cvat_serverless.adapters.aws.annotations import DynamoS3AnnotationStore
from cvat_serverless.domain.errors import ConflictError
from cvat_serverless.domain.labels import LabelInput
from cvat_serverless.services.annotations import AnnotationService
from cvat_serverless.services.tasks import TaskCreate
from tests.unit.services.test_svc_tasks_jobs import data

BUCKET = "annotations-svc"


@pytest.fixture
def service(world: Any, request: pytest.FixtureRequest) -> Any:
    store = world.container.annotation_store
    if type(world.repos.jobs).__name__.startswith("Dynamo"):
        table = request.getfixturevalue("table")
        s3 = boto3.client("s3")
        if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket=BUCKET)
            s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        store = DynamoS3AnnotationStore(table, BUCKET)
    return AnnotationService(world.repos, world.ids, world.clock, world.events, store)


def setup_job(world: Any) -> tuple[Any, int, int, int]:
    ctx = world.ctx(world.user("alice"))
    task = world.tasks.create(ctx, TaskCreate(name="T", labels=[LabelInput(name="car")], segment_size=3)).value
    world.tasks.attach_data(task.id, data(6), ctx=ctx)
    job = min(world.repos.jobs.list_by_task(task.id), key=lambda j: j.start_frame)
    label = world.repos.labels.list_by_task(task.id)[0]
    return ctx, task.id, job.id, label.id


def box(label: int, x: float, frame: int = 0) -> dict[str, Any]:
    return {"type": "rectangle", "frame": frame, "label_id": label, "points": [x, 0.0, x + 5, 5.0]}


def test_concurrent_creates_and_deletes_of_one_job_all_land(world: Any, service: AnnotationService) -> None:
    ctx, _task, job, label = setup_job(world)
    base = service.put_job(ctx, job, {"shapes": [box(label, 100.0), box(label, 200.0)]})
    doomed = base.shapes[0].to_dict()
    errors: list[BaseException] = []

    def run(fn: Any) -> None:
        try:
            fn()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    work = [lambda x=x: service.patch_job(ctx, job, "create", {"shapes": [box(label, x)]}) for x in (1.0, 2.0, 3.0)]
    work.append(lambda: service.patch_job(ctx, job, "delete", {"shapes": [doomed]}))
    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    stored = service.get_job(ctx, job)
    assert sorted(s.points[0] for s in stored.shapes) == [1.0, 2.0, 3.0, 200.0]
    assert stored.version == 5
    assert len({s.id for s in stored.shapes}) == 4


def test_updating_an_object_deleted_meanwhile_is_a_conflict(world: Any, service: AnnotationService) -> None:
    ctx, _task, job, label = setup_job(world)
    shape = service.put_job(ctx, job, {"shapes": [box(label, 1.0)]}).shapes[0].to_dict()
    service.patch_job(ctx, job, "delete", {"shapes": [shape]})
    with pytest.raises(ConflictError):
        service.patch_job(ctx, job, "update", {"shapes": [{**shape, "points": [2.0, 2.0, 4.0, 4.0]}]})
    assert service.get_job(ctx, job).version == 2


def test_put_replaces_everything_with_new_ids(world: Any, service: AnnotationService) -> None:
    ctx, task, job, label = setup_job(world)
    first = service.put_job(ctx, job, {"shapes": [box(label, 1.0)]})
    again = service.put_job(ctx, job, {"shapes": [first.shapes[0].to_dict(), box(label, 9.0, frame=2)]})
    assert again.version == 2 and first.shapes[0].id not in {s.id for s in again.shapes}
    whole = service.get_task(ctx, task)
    assert sorted(s.points[0] for s in whole.shapes) == [1.0, 9.0]
    assert [h.head.version for h in service.history(ctx, job)] == [2, 1]
