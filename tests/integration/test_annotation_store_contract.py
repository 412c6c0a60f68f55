"""The annotation store, held to one contract on both backends: the in-memory fake and
DynamoS3AnnotationStore (a head item per job on the data table, a gzip snapshot per job in a
versioned bucket, on moto). Saves version the head, a stale version conflicts and changes nothing,
every save stays readable (history, read_version), ids are never handed out twice."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import repository_backends as backends

from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.annotations import DynamoS3AnnotationStore, snapshot_key
from cvat_serverless.domain.annotations import LabeledData
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.ports import AnnotationStore
from cvat_serverless_tools.local.template import Template

dynamo_moto, table = backends.dynamo_moto, backends.table
BUCKET = "annotations-contract"
T0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@pytest.fixture(params=backends.BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[AnnotationStore]:
    if request.param == "memory":
        yield mem.InMemoryAnnotationStore()
        return
    table_name = request.getfixturevalue("table")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield DynamoS3AnnotationStore(table_name, BUCKET)
    empty_bucket(s3)


def empty_bucket(s3: Any) -> None:
    listed = s3.list_object_versions(Bucket=BUCKET)
    for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=BUCKET)


def sample(n: int) -> LabeledData:
    return LabeledData.from_dict({
        "shapes": [{"id": 100 + i, "type": "rectangle", "frame": i, "label_id": 1, "points": [1.5, 2, 3, 4.25],
                    "attributes": [{"spec_id": 2, "value": "ключ ✓"}], "source": "auto", "score": 0.5}
                   for i in range(n)],
        "tags": [{"id": 7, "frame": 0, "label_id": 1}],
        "tracks": [{"id": 8, "frame": 0, "label_id": 1, "shapes": [
            {"id": 9, "type": "polygon", "frame": 0, "points": [0, 0, 1, 0, 1, 1]},
            {"id": 10, "type": "polygon", "frame": 3, "points": [0, 0, 2, 0, 2, 2], "outside": True}]}],
    })


def test_an_unsaved_job_reads_empty_at_version_0(store: AnnotationStore) -> None:
    data, head = store.read(5)
    assert data.to_dict() == LabeledData().to_dict()
    assert (head.job_id, head.version, head.snapshot_id) == (5, 0, "")
    assert store.history(5) == []


def test_saves_round_trip_and_count_versions(store: AnnotationStore) -> None:
    first = store.write(5, sample(2), expected_version=0, actor_id=3, when=T0)
    assert (first.version, first.shapes, first.tracks, first.tags, first.updated_by) == (1, 2, 1, 1, 3)
    assert first.updated_date == T0 and first.snapshot_id
    second = store.write(5, sample(4), expected_version=1, actor_id=None, when=T0 + timedelta(seconds=1))
    data, head = store.read(5)
    assert head == second and head.version == 2 and head.updated_by is None
    expected = sample(4)
    expected.version = 2
    assert data.to_dict() == expected.to_dict()
    assert store.read(6)[1].version == 0  # jobs do not share snapshots


def test_a_stale_version_conflicts_and_changes_nothing(store: AnnotationStore) -> None:
    store.write(5, sample(1), expected_version=0, actor_id=3, when=T0)
    with pytest.raises(ConflictError):
        store.write(5, sample(3), expected_version=0, actor_id=4, when=T0)
    with pytest.raises(ConflictError):
        store.write(5, sample(3), expected_version=2, actor_id=4, when=T0)
    data, head = store.read(5)
    assert head.version == 1 and len(data.shapes) == 1
    assert [h.version for h in store.history(5)] == [1]


def test_history_keeps_every_save_readable(store: AnnotationStore) -> None:
    for v in range(3):
        store.write(5, sample(v), expected_version=v, actor_id=3, when=T0 + timedelta(minutes=v))
    history = store.history(5)
    assert [(h.version, h.shapes) for h in history] == [(3, 2), (2, 1), (1, 0)]
    assert [h.updated_date for h in history] == [T0 + timedelta(minutes=m) for m in (2, 1, 0)]
    old, head = store.read_version(5, 2)
    assert head == history[1] and len(old.shapes) == 1 and old.version == 2
    with pytest.raises(NotFoundError):
        store.read_version(5, 4)


def test_ids_are_reserved_in_blocks_never_twice(store: AnnotationStore) -> None:
    a = store.allocate_ids(3)
    b = store.allocate_ids(2)
    c = store.allocate_ids(1)
    assert len({*range(a, a + 3), *range(b, b + 2), c}) == 6 and min(a, b, c) >= 1


def test_delete_forgets_the_job_and_its_history_and_nothing_else(store: AnnotationStore) -> None:
    for v in range(3):
        store.write(5, sample(v), expected_version=v, actor_id=3, when=T0)
    store.write(6, sample(1), expected_version=0, actor_id=3, when=T0)

    store.delete(5)

    data, head = store.read(5)
    assert (head.version, data.to_dict()) == (0, LabeledData().to_dict())
    assert store.history(5) == []
    with pytest.raises(NotFoundError):
        store.read_version(5, 1)
    assert [h.version for h in store.history(6)] == [1] and len(store.read(6)[0].shapes) == 1
    store.delete(5)  # again, and a job never saved: nothing to do
    store.delete(7)
    assert store.write(5, sample(1), expected_version=0, actor_id=3, when=T0).version == 1


def test_delete_removes_the_items_and_the_current_object_leaving_versions_to_expire(table: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    store = DynamoS3AnnotationStore(table, BUCKET)
    saves = 30  # more than one BatchWriteItem (25)
    for v in range(saves):
        store.write(5, sample(1), expected_version=v, actor_id=3, when=T0)

    store.delete(5)

    items = boto3.client("dynamodb").query(TableName=table, KeyConditionExpression="pk = :pk",
                                           ExpressionAttributeValues={":pk": {"S": "JOB#5#ANNOTATIONS"}})["Items"]
    assert items == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="annotations/jobs/5/").get("KeyCount") == 0
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix="annotations/jobs/5/")
    # the lifecycle rule ExpireOldVersions (template.yaml) removes these after 30 days
    assert len(listed["Versions"]) == saves and not any(v["IsLatest"] for v in listed["Versions"])
    assert len(listed["DeleteMarkers"]) == 1
    empty_bucket(s3)


def test_the_lifecycle_rule_expires_a_deleted_jobs_versions_and_marker(template: Template) -> None:
    rules = template.resources["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    rule = next(r for r in rules if r["Id"] == "ExpireOldVersions")
    assert "Prefix" not in rule and rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rule["ExpiredObjectDeleteMarker"] is True


def test_the_snapshot_is_one_gzip_json_object_per_job_in_a_versioned_bucket(table: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    store = DynamoS3AnnotationStore(table, BUCKET)
    store.write(5, sample(1), expected_version=0, actor_id=3, when=T0)
    head = store.write(5, sample(2), expected_version=1, actor_id=3, when=T0)
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=snapshot_key(5))["Versions"]
    assert len(versions) == 2
    body = s3.get_object(Bucket=BUCKET, Key=snapshot_key(5), VersionId=head.snapshot_id)["Body"].read()
    assert len(json.loads(gzip.decompress(body))["shapes"]) == 2
    for v in versions:
        s3.delete_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=BUCKET)


# --- DynamoS3AnnotationStore: encoded reads and the per-store snapshot cache ------------------------


@pytest.fixture
def versioned_bucket(table: str) -> Iterator[Any]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield s3
    empty_bucket(s3)


def test_encoded_reads_answer_the_saves_json_with_its_version(table: str, versioned_bucket: Any) -> None:
    store = DynamoS3AnnotationStore(table, BUCKET)
    raw, head = store.read_encoded(5)
    assert head.version == 0 and json.loads(gzip.decompress(raw)) == LabeledData().to_dict()
    store.write(5, sample(1), expected_version=0, actor_id=3, when=T0)
    store.write(5, sample(3), expected_version=1, actor_id=3, when=T0)
    expected = sample(3)
    expected.version = 2
    for reader in (store, DynamoS3AnnotationStore(table, BUCKET)):  # cached, and read from S3
        raw, head = reader.read_encoded(5)
        assert head.version == 2 and json.loads(gzip.decompress(raw)) == expected.to_dict()


def test_appending_saves_encode_as_a_whole_one_would(table: str, versioned_bucket: Any) -> None:
    store = DynamoS3AnnotationStore(table, BUCKET)
    store.write(5, sample(2), expected_version=0, actor_id=3, when=T0)
    added = sample(4)
    for version, change in enumerate([
        {"shapes": added.shapes[2:3]},  # the same objects first, then new ones (PATCH create)
        {"shapes": added.shapes[3:]},
        {"shapes": [], "tracks": added.tracks},
        {"tags": added.tags, "shapes": added.shapes[:1]},
    ], start=2):
        current, head = store.read(5)
        for kind, objects in change.items():
            getattr(current, kind).extend(objects)
        store.write(5, current, expected_version=head.version, actor_id=3, when=T0)
        expected = {**current.to_dict(), "version": version}
        fresh = DynamoS3AnnotationStore(table, BUCKET)  # reads S3: what the first one encoded
        assert json.loads(gzip.decompress(fresh.read_encoded(5)[0])) == expected
        assert fresh.read(5)[0].to_dict() == store.read(5)[0].to_dict() == expected


def test_a_save_by_another_store_is_never_answered_from_the_cache(table: str, versioned_bucket: Any) -> None:
    mine, theirs = DynamoS3AnnotationStore(table, BUCKET), DynamoS3AnnotationStore(table, BUCKET)
    mine.write(5, sample(1), expected_version=0, actor_id=3, when=T0)
    assert len(mine.read(5)[0].shapes) == 1
    theirs.write(5, sample(4), expected_version=1, actor_id=3, when=T0)  # another Lambda instance
    data, head = mine.read(5)
    assert head.version == 2 and len(data.shapes) == 4
    assert len(json.loads(gzip.decompress(mine.read_encoded(5)[0]))["shapes"]) == 4
    with pytest.raises(ConflictError):
        mine.write(5, sample(2), expected_version=1, actor_id=3, when=T0)
    theirs.delete(5)
    assert mine.read(5)[1].version == 0 and mine.read(5)[0].to_dict() == LabeledData().to_dict()


def test_reads_hand_out_lists_of_their_own(table: str, versioned_bucket: Any) -> None:
    store = DynamoS3AnnotationStore(table, BUCKET)
    store.write(5, sample(2), expected_version=0, actor_id=3, when=T0)
    first, _ = store.read(5)
    first.shapes.clear()
    first.version = 9
    data, head = store.read(5)
    assert len(data.shapes) == 2 and data.version == head.version == 1


def test_a_snapshot_saved_without_its_version_is_answered_with_the_heads(table: str, versioned_bucket: Any) -> None:
    store = DynamoS3AnnotationStore(table, BUCKET)
    head = store.write(5, sample(2), expected_version=0, actor_id=3, when=T0)
    old = sample(2)  # as saves before the version mark stored it: the version read, no metadata
    answer = versioned_bucket.put_object(Bucket=BUCKET, Key=snapshot_key(5), Body=gzip.compress(
        json.dumps(old.to_dict()).encode()), ContentType="application/json", ContentEncoding="gzip")
    boto3.client("dynamodb").update_item(
        TableName=table, Key={"pk": {"S": "JOB#5#ANNOTATIONS"}, "sk": {"S": "HEAD"}},
        UpdateExpression="SET snapshot_id = :s", ExpressionAttributeValues={":s": {"S": answer["VersionId"]}})
    fresh = DynamoS3AnnotationStore(table, BUCKET)
    body = json.loads(gzip.decompress(fresh.read_encoded(5)[0]))
    assert body["version"] == head.version == 1 and len(body["shapes"]) == 2
