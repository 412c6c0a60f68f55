"""The repositories of task data upload and processing (background requests, task data, TUS
uploads), held to one contract on both backends: the in-memory fakes and the DynamoDB adapters
(``repos``, on moto). Every field round-trips (floats, tuples, enums, datetimes with their zone,
free-form JSON), versions guard every save, a task has at most one data, requests list in
creation order and an ended request's items carry the table's TTL attribute.

The media bucket and the workflow engine adapters of the same feature are in test_aws_adapters.py
(they run on a deployed stack, not on the shared data table of this module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args, get_origin, get_type_hints

import boto3
import pytest
import repository_backends as backends
import test_dynamo_round_trip as round_trip
import test_repository_lists as lists
from hypothesis import given, settings
from hypothesis import strategies as st

from cvat_serverless.adapters.aws.dynamo_codec import decode, encode
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.requests import BackgroundRequest, RequestAction, RequestStatus
from cvat_serverless.domain.task_data import TaskData, TusUpload
from cvat_serverless.domain.tasks import ChunkType

dynamo_moto, table, repos, calls = backends.dynamo_moto, backends.table, backends.repos, lists.calls
Repos = backends.Repos
assert_identical = round_trip.assert_identical

KYIV = timezone(timedelta(hours=2))
T0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=KYIV)
T1 = datetime(2026, 3, 4, 6, 0, 0, 1, tzinfo=UTC)
T2 = datetime(2026, 3, 5, 6, 0, 0, tzinfo=UTC)
MIB = 1024 * 1024

FULL_REQUEST = BackgroundRequest(
    id="create:task-7-ab12cd34", action=RequestAction.EXPORT, target="task", owner_id=3, subresource="dataset",
    organization_id=4, project_id=5, task_id=7, job_id=8, format="COCO 1.0", function_id="yolo-v8",
    status=RequestStatus.FAILED, progress=0.375, message="Bad frame ✗", created_date=T0, started_date=T1,
    finished_date=T2, expiry_date=T2 + timedelta(days=1), result_url="https://x.example/r?a=1", result_id=11,
    result_key="exports/tasks/7/dataset-ab.zip", result_filename="task_7_dataset.zip", workflow="task-data",
    workflow_input={"task": 7, "keys": ["a", "b"], "ratio": 0.5, "nested": {"x": None}},
    execution_name="create-task-7-ab12cd34", execution_base="create-task-7", resumes=2, version=0,
)
FULL_DATA = TaskData(
    id=9, task_id=7, media_type="video", size=1200, chunk_size=36, image_quality=70,
    compressed_chunk_type=ChunkType.VIDEO, original_chunk_type=ChunkType.IMAGESET, original_ext="mp4",
    start_frame=10, stop_frame=1209, frame_filter="step=2", segment_chunks=(0, 3, 5), deleted_frames=(4, 8),
    chunks_updated_date=T0, frame_rate=29.97, version=0,
)
FULL_TUS = TusUpload(id="3_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", task_id=7, owner_id=3, filename="vidéo 1.mp4",
                     length=10 * MIB, offset=4 * MIB, created_date=T0, parts=[0, 2 * MIB], version=0)


def _request(rid: str, *, owner: int = 1, task: int | None = 1, created: datetime | None = T0) -> BackgroundRequest:
    return BackgroundRequest(id=rid, action=RequestAction.CREATE, target="task", owner_id=owner, task_id=task,
                             created_date=created)


def _data(i: int, task: int) -> TaskData:
    return TaskData(id=i, task_id=task, media_type="images", size=10, chunk_size=5, image_quality=70,
                    compressed_chunk_type=ChunkType.IMAGESET, original_chunk_type=ChunkType.IMAGESET,
                    original_ext="zip")


def _tus(uid: str, task: int = 7) -> TusUpload:
    return TusUpload(id=uid, task_id=task, owner_id=3, filename=f"{uid}.jpg", length=100, created_date=T0)


# --------------------------------------------------------------------------- every field, both ways

def test_samples_set_every_field() -> None:
    for entity in (FULL_REQUEST, FULL_DATA, FULL_TUS):
        assert round_trip._all_set(entity) == [], f"{type(entity).__name__}: a new field is left at its default"


@pytest.mark.parametrize("entity", [FULL_REQUEST, FULL_DATA, FULL_TUS], ids=lambda e: type(e).__name__)
def test_every_field_round_trips_through_the_repository(repos: Repos, entity: Any) -> None:
    repo = {BackgroundRequest: repos.requests, TaskData: repos.task_data, TusUpload: repos.tus_uploads}[type(entity)]
    want = dataclasses.replace(entity, version=1)
    assert_identical(repo.add(entity), want, "add")
    assert_identical(repo.get(entity.id), want, "get")
    listings = {
        BackgroundRequest: lambda: [repos.requests.list_all(), repos.requests.list_by_owner(3),
                                    repos.requests.list_by_task(7)],
        TaskData: lambda: [[repos.task_data.find_by_task(7)]],
        TusUpload: lambda: [repos.tus_uploads.list_by_task(7)],
    }[type(entity)]()
    for i, listing in enumerate(listings):
        assert len(listing) == 1, i
        assert_identical(listing[0], want, f"listing {i}")
    assert_identical(repo.save(want), dataclasses.replace(want, version=2), "save")
    assert_identical(repo.get(entity.id), dataclasses.replace(want, version=2), "saved")


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    """round_trip.strategy_for, with the floats and tuples these entities hold."""
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint == float | None:
        return st.none() | _strategy(float)
    if get_origin(hint) is tuple:
        item, _ = get_args(hint)
        return st.lists(_strategy(item), max_size=4).map(tuple)
    return round_trip.strategy_for(hint)


@pytest.mark.parametrize("cls", [BackgroundRequest, TaskData, TusUpload], ids=lambda c: c.__name__)
def test_codec_round_trips_generated_entities(cls: type) -> None:
    hints = get_type_hints(cls)
    strategy = st.builds(cls, **{f.name: _strategy(hints[f.name])  # type: ignore[arg-type]
                                 for f in dataclasses.fields(cls) if f.name != "version"})

    @given(strategy)
    @settings(max_examples=60, deadline=None)
    def check(entity: Any) -> None:
        assert_identical(decode(cls, encode(entity), version=entity.version), entity)

    check()


# --------------------------------------------------------------------------- the rules they share

KINDS: dict[str, tuple[str, Callable[[Any], Any], tuple[str, Any]]] = {
    "request": ("requests", lambda i: _request(f"create:task-{i}-x"), ("progress", 0.5)),
    "task data": ("task_data", lambda i: _data(i, task=i), ("size", 99)),
    "tus upload": ("tus_uploads", lambda i: _tus(f"3_{i}"), ("offset", 50)),
}
each_kind = pytest.mark.parametrize("kind", list(KINDS))


@each_kind
def test_versions_copies_conflicts_and_deletes(repos: Repos, kind: str) -> None:
    attr, make, (field, value) = KINDS[kind]
    repo = getattr(repos, attr)
    stored = repo.add(make(1))
    assert stored.version == 1
    with pytest.raises(ConflictError):
        repo.add(make(1))
    setattr(stored, field, value)  # the returned copy is not the stored one
    assert getattr(repo.get(stored.id), field) != value
    saved = repo.save(stored)
    assert (saved.version, getattr(repo.get(stored.id), field)) == (2, value)
    with pytest.raises(ConflictError):
        repo.save(stored)  # still version 1
    with pytest.raises(NotFoundError):
        repo.save(make(2))
    repo.delete(stored.id)
    for call in (lambda: repo.get(stored.id), lambda: repo.delete(stored.id)):
        with pytest.raises(NotFoundError):
            call()
    assert repo.add(make(1)).version == 1


# --------------------------------------------------------------------------- background requests


def test_requests_list_in_creation_order_then_id(repos: Repos) -> None:
    r = repos.requests
    later = T0 + timedelta(microseconds=1)
    for rid, owner, task, created in [
        ("d", 1, 1, later), ("c", 2, 1, T0), ("a", 1, 2, later), ("b", 1, None, T0.astimezone(UTC)),
        ("e", 2, 2, None), ("f", 1, 1, T0 - timedelta(days=400)),
    ]:
        r.add(_request(rid, owner=owner, task=task, created=created))
    ids = lambda found: [x.id for x in found]  # noqa: E731
    assert ids(r.list_all()) == ["e", "f", "b", "c", "a", "d"]
    assert ids(r.list_by_owner(1)) == ["f", "b", "a", "d"]
    assert ids(r.list_by_owner(2)) == ["e", "c"]
    assert ids(r.list_by_task(1)) == ["f", "c", "d"]
    assert ids(r.list_by_task(2)) == ["e", "a"]
    assert r.list_by_owner(3) == [] and r.list_by_task(3) == []


def test_a_saved_request_moves_between_owners_and_tasks(repos: Repos) -> None:
    r = repos.requests
    stored = r.add(_request("create:task-1-a", owner=1, task=1))
    r.save(dataclasses.replace(stored, owner_id=2, task_id=None))
    assert r.list_by_owner(1) == [] and r.list_by_task(1) == []
    assert [x.id for x in r.list_by_owner(2)] == ["create:task-1-a"]
    r.delete("create:task-1-a")
    assert r.list_all() == [] and r.list_by_owner(2) == []


def _items_of(table_name: str, request_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The request's raw items (a test's look at the whole table)."""
    items = boto3.client("dynamodb").scan(TableName=table_name)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in items if request_id in i["pk"]["S"] + i["sk"]["S"]}


def test_an_ended_request_expires_a_week_after_its_result(table: str) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"  # the attribute the template's table expires on
    r = backends.dynamo_repos(table).requests
    request = r.add(_request("create:task-1-a", owner=1, task=1))
    items = _items_of(table, "create:task-1-a")
    assert len(items) == 4  # main, all, owner, task
    assert not [i for i in items.values() if "expires_at" in i]  # a request not yet ended stays
    request.finish(T1)
    r.save(request)
    items = _items_of(table, "create:task-1-a")
    assert request.expiry_date is not None
    expected = int((request.expiry_date + timedelta(days=7)).timestamp())
    assert len(items) == 4
    assert {int(i["expires_at"]["N"]) for i in items.values()} == {expected}


def test_request_lists_are_consistent_queries_of_one_partition(table: str, calls: lists.Calls) -> None:
    r = backends.dynamo_repos(table)
    r.requests.add(_request("a"))
    r.task_data.add(_data(1, task=1))
    r.tus_uploads.add(_tus("3_a", task=1))
    calls.made.clear()
    assert all([r.requests.list_all(), r.requests.list_by_owner(1), r.requests.list_by_task(1),
                r.tus_uploads.list_by_task(1), r.task_data.find_by_task(1)])
    assert {name for name, _, _ in calls.made} == {"Query", "GetItem"}
    assert all("IndexName" not in q and q["ConsistentRead"] is True for q in calls.of("Query"))
    assert all(g["ConsistentRead"] is True for g in calls.of("GetItem"))


# --------------------------------------------------------------------------- task data


def test_a_task_has_at_most_one_data(repos: Repos) -> None:
    data = repos.task_data
    first = data.add(_data(1, task=7))
    with pytest.raises(ConflictError):
        data.add(_data(2, task=7))
    with pytest.raises(NotFoundError):
        data.get(2)  # nothing of the refused one was written
    assert data.find_by_task(7) == first
    assert data.find_by_task(8) is None
    data.add(_data(3, task=8))
    with pytest.raises(ConflictError):  # nor can a save move data onto a task that has some
        data.save(dataclasses.replace(data.get(3), task_id=7))
    data.delete(1)
    assert data.find_by_task(7) is None
    assert data.add(_data(2, task=7)).id == 2  # the task's guard went with its data


def test_deleted_frames_are_saved_as_tuples(repos: Repos) -> None:
    stored = repos.task_data.add(_data(1, task=7))
    stored.set_deleted_frames([5, 1, 5])
    repos.task_data.save(stored)
    assert repos.task_data.get(1).deleted_frames == (1, 5)


# --------------------------------------------------------------------------- TUS uploads


def test_two_patches_at_the_same_offset_cannot_both_land(repos: Repos) -> None:
    tus = repos.tus_uploads
    tus.add(_tus("3_a"))
    first, second = tus.get("3_a"), tus.get("3_a")
    first.offset, first.parts = 40, [0]
    second.offset, second.parts = 40, [0]
    assert tus.save(first).version == 2
    with pytest.raises(ConflictError):
        tus.save(second)
    got = tus.get("3_a")
    assert (got.offset, got.parts, got.version) == (40, [0], 2)


def test_tus_uploads_list_by_task(repos: Repos) -> None:
    tus = repos.tus_uploads
    for uid, task in [("3_b", 7), ("3_a", 7), ("4_c", 8)]:
        tus.add(_tus(uid, task))
    assert [u.id for u in tus.list_by_task(7)] == ["3_a", "3_b"]
    tus.delete("3_a")
    assert [u.id for u in tus.list_by_task(7)] == ["3_b"]
    assert tus.list_by_task(9) == []
