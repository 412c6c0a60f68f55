"""The embedded runtime's snapshots (local/persistence.py) of DynamoDB: what a snapshot file holds
is what a restart gets back, and nothing of a write that had not happened yet.

moto keeps a table with a sort key as ``{partition key: {sort key: item}}`` in a defaultdict, and
its GetItem indexes it: a read of a missing item leaves an empty partition for the key it asked
for. Saved as it is, a snapshot would name keys that no item has (``USERNAME#second`` while
createsuperuser was still hashing the password), so a byte of the file could not tell whether a
write is in it; the restored table kept every such miss too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cvat_serverless_tools.local import s3_objects
from cvat_serverless_tools.local.deployer import Deployment
from cvat_serverless_tools.local.middleware import RequestLocks
from cvat_serverless_tools.local.persistence import SnapshotStore


@pytest.fixture
def snapshots(stack: Deployment, tmp_path: Path) -> Iterator[SnapshotStore]:
    previous = s3_objects.store()
    yield SnapshotStore(tmp_path / "data")
    s3_objects.configure(previous.root, durable=previous.durable)


def _save_dynamodb(store: SnapshotStore) -> bytes:
    # as the runtime's writer does, with no request in flight
    assert store.save({"dynamodb"}, RequestLocks()) == ["dynamodb"]
    return (store.dir / "dynamodb.pickle").read_bytes()


class _SnapshottingHasher:
    """A password hasher that lets the snapshot writer's round come while createsuperuser hashes:
    after the user's id is allocated (a write), before the user is (one transaction)."""

    def __init__(self, store: SnapshotStore) -> None:
        self.store = store
        self.taken: bytes | None = None

    def hash(self, password: str) -> str:
        self.taken = _save_dynamodb(self.store)
        return f"plain${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain${password}"

    def needs_rehash(self, password_hash: str) -> bool:
        return False


def test_a_snapshot_taken_while_createsuperuser_runs_names_the_user_only_once_it_is_created(
        snapshots: SnapshotStore):
    from cvat_serverless.bootstrap import container
    from cvat_serverless.services.superuser import SuperuserService

    services = container()
    hasher = _SnapshottingHasher(snapshots)
    SuperuserService(services.users, services.ids, hasher, services.clock).create_superuser(
        "second", "", "another pass")

    # what tests/e2e/test_embedded_runtime.py waits for before it kills the runtime with -9
    assert hasher.taken is not None
    assert hasher.taken.count(b"second") == 0
    after = _save_dynamodb(snapshots)
    assert b"second" in after

    assert snapshots.restore() == ["dynamodb"]
    assert [u.username for u in container().users.list_all()] == ["second"]


def test_a_read_of_a_missing_item_leaves_no_key_in_the_snapshot(stack: Deployment, snapshots: SnapshotStore):
    table = stack.outputs["DataTableName"]
    ddb: Any = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=table, Item={"pk": {"S": "KEPT#1"}, "sk": {"S": "A"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "EMPTIED#1"}, "sk": {"S": "A"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "EMPTIED#1"}, "sk": {"S": "A"}})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "MISSED#1"}, "sk": {"S": "UNIQUE"}})

    saved = _save_dynamodb(snapshots)
    assert b"KEPT#1" in saved
    assert (saved.count(b"MISSED#1"), saved.count(b"EMPTIED#1")) == (0, 0)

    assert snapshots.restore() == ["dynamodb"]
    assert [i["pk"]["S"] for i in ddb.scan(TableName=table)["Items"] if i["pk"]["S"].endswith("#1")] == ["KEPT#1"]
    # the restored table takes writes as moto's own does, into a missed partition too
    ddb.put_item(TableName=table, Item={"pk": {"S": "MISSED#1"}, "sk": {"S": "UNIQUE"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "MISSED#1"}, "sk": {"S": "UNIQUE"}})["Item"]


def test_dynamodb_is_written_last_so_no_record_is_ahead_of_what_it_refers_to(
        stack: Deployment, snapshots: SnapshotStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's record names its request.json in S3: if a kill came between two files, a
    DynamoDB file newer than the S3 file would name an object the restart has not got."""
    from cvat_serverless_tools.local import persistence

    written: list[str] = []
    real = persistence._fsync_write
    monkeypatch.setattr(persistence, "_fsync_write", lambda path, blob: (written.append(path.name), real(path, blob)))
    services = {"dynamodb", "s3", "sqs", "states", "events"} & set(persistence.SERVICES)
    for _ in range(5):  # a set's order differs from run to run: every save must end with dynamodb
        written.clear()
        assert sorted(snapshots.save(set(services), RequestLocks())) == sorted(services)
        pickles = [name for name in written if name.endswith(".pickle")]  # then the metadata file
        assert pickles[-1] == "dynamodb.pickle" and len(pickles) == len(services), written
