"""Drop-folder markers (ports.DropMarkerRepository) behave alike on the in-memory fake and on
DynamoDB (moto, the table template.yaml declares): one claim per id, version-checked take-overs,
and the TTL attribute that lets DynamoDB expire them."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo_drops import DynamoDropMarkerRepository
from cvat_serverless.adapters.memory import InMemoryDropMarkerRepository
from cvat_serverless.domain.drops import MARKER_RETENTION, DropMarker, DropState
from cvat_serverless.domain.errors import ConflictError, NotFoundError

dynamo_moto, table = backends.dynamo_moto, backends.table
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=backends.BACKENDS)
def markers(request: pytest.FixtureRequest):
    if request.param == "memory":
        return InMemoryDropMarkerRepository()
    return DynamoDropMarkerRepository(request.getfixturevalue("table"))


def marker(**fields) -> DropMarker:
    return DropMarker(**{"id": "m1", "bucket": "b", "key": "uploads/projects/1/a.mp4", "etag": "e",
                         "claimed_at": NOW, "project_id": 1, **fields})


def test_one_claim_per_marker_and_takeovers_are_version_checked(markers):
    claimed = markers.add(marker())
    with pytest.raises(ConflictError):
        markers.add(marker())
    first, second = markers.get("m1"), markers.get("m1")
    first.task_id = 7
    saved = markers.save(first)
    assert saved.version == claimed.version + 1
    second.task_id = 8
    with pytest.raises(ConflictError):
        markers.save(second)
    saved.state, saved.request_id = DropState.DONE, "create:task-7-a"
    markers.save(saved)
    got = markers.get("m1")
    assert (got.state, got.task_id, got.request_id, got.claimed_at) == (DropState.DONE, 7, "create:task-7-a", NOW)
    with pytest.raises(NotFoundError):
        markers.get("other")


def test_dynamodb_expires_markers_after_their_retention(table):
    DynamoDropMarkerRepository(table).add(marker())
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "DROP#m1"}, "sk": {"S": "DROP"}})
    assert int(item["Item"]["expires_at"]["N"]) == int((NOW + MARKER_RETENTION).timestamp())
