"""Schema version 2 -> 3 on moto: every invitation gains a stored ``sent_date``, in Scan pages
whose progress is recorded so a run cut short resumes where it stopped (dynamo_migrations)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo import SCHEMA_VERSION, DynamoSchema
from cvat_serverless.adapters.aws.dynamo_codec import encode
from cvat_serverless.adapters.aws.dynamo_migrations import UpgradeProgress, read_progress, upgrade_2_to_3
from cvat_serverless.adapters.aws.dynamo_orgs import invitation_views
from cvat_serverless.adapters.aws.dynamo_store import plain_items_model
from cvat_serverless.domain.organizations import INVITATION_EXPIRY, Invitation, OrgRole
from cvat_serverless_tools.admin.cli import main
from cvat_serverless_tools.admin.health import schema_status
from cvat_serverless_tools.admin.targets import OUTPUT_TO_ENV

dynamo_moto, table = backends.dynamo_moto, backends.table

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _invitation(i: int, sent: datetime | None = None) -> Invitation:
    return Invitation(key=f"key{i:03d}", organization_id=1 + i % 2, membership_id=i, user_id=100 + i,
                      role=OrgRole.WORKER, owner_id=1, created_date=T0 + timedelta(minutes=i), sent_date=sent)


def _write_v2(table_name: str, old: list[Invitation], new: list[Invitation] | None = None) -> None:
    """A table at schema version 2: ``old`` invitations as version-2 code wrote them (no
    ``sent_date`` in the main item nor in its copies), ``new`` ones with it, all at version 4, and
    a few items of other kinds."""
    items = boto3.resource("dynamodb").Table(table_name)
    with items.batch_writer() as batch:
        batch.put_item(Item={"pk": "META", "sk": "SCHEMA", "data": {"version": 2}, "version": 1})
        for inv in [*old, *(new or [])]:
            data = encode(inv)
            if inv in old:
                del data["sent_date"]
            for view in invitation_views(inv):
                batch.put_item(Item={"pk": view.pk, "sk": view.sk, "data": data, "version": 4})
        for i in range(5):
            batch.put_item(Item={"pk": f"PROJECT#{i}", "sk": "PROJECT", "data": {"id": i, "name": "p"}, "version": 1})


def _invitation_items(table_name: str) -> list[dict[str, Any]]:
    """Every item of every invitation (main items and copies), as stored."""
    client = boto3.client("dynamodb")
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        found += [i for i in page["Items"] if "INVITATION" in i["pk"]["S"] and i["pk"]["S"] != "META"]
    return found


def _sent_dates(table_name: str) -> dict[tuple[str, str], str | None]:
    return {(i["pk"]["S"], i["sk"]["S"]): i["data"]["M"].get("sent_date", {}).get("S")
            for i in _invitation_items(table_name)}


def _expected(invitations: list[Invitation]) -> dict[tuple[str, str], str | None]:
    return {view.key: (inv.sent_date or inv.created_date).isoformat()
            for inv in invitations for view in invitation_views(inv)}


class Requests:
    """The DynamoDB requests of the adapters' generic client, by operation."""

    def __init__(self) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        self.hooks: list[Callable[[str], None]] = []

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.made.append((model.name, dict(params)))
        for hook in self.hooks:
            hook(model.name)

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.made if name == operation]

    def writes(self) -> list[str]:
        return [name for name, _ in self.made if name in {"PutItem", "UpdateItem", "TransactWriteItems",
                                                          "BatchWriteItem", "DeleteItem"}]


@pytest.fixture
def requests(table: str) -> Iterator[Requests]:
    recorded = Requests()
    client = plain_items_model(table)._get_connection().connection.client
    client.meta.events.register("before-parameter-build.dynamodb", recorded.record)
    yield recorded
    client.meta.events.unregister("before-parameter-build.dynamodb", recorded.record)


class Stop(Exception):
    pass


def test_a_version_2_table_is_moved_to_3_and_every_invitation_has_its_sent_date(table: str) -> None:
    old = [_invitation(i) for i in range(12)]
    new = [_invitation(i, sent=T0 + timedelta(days=3)) for i in range(12, 14)]
    _write_v2(table, old, new)
    assert set(_sent_dates(table).values()) - {None} == {new[0].sent_date.isoformat()}  # type: ignore[union-attr]
    told: list[UpgradeProgress] = []

    assert DynamoSchema(table).ensure(on_page=told.append) == SCHEMA_VERSION == 3
    assert DynamoSchema(table).version() == 3
    assert _sent_dates(table) == _expected(old + new)  # main items and copies; the new ones unchanged
    assert {int(i["version"]["N"]) for i in _invitation_items(table)} == {4}  # no version bump
    assert told[-1].complete and (told[-1].scanned, told[-1].updated) == (14, 12)
    assert [p.scanned for p in told] == sorted(p.scanned for p in told)
    assert "14 invitations checked, 12 updated (done)" in told[-1].line()
    r = backends.dynamo_repos(table)
    assert [i.sent_date for i in r.invitations.list_by_organization(1)] == [
        i.sent_date for i in sorted(old + new, key=lambda i: i.key) if i.organization_id == 1]
    assert schema_status(table) == (True, "version 3")


def test_an_interrupted_upgrade_resumes_after_the_last_recorded_page(table: str, requests: Requests) -> None:
    old = [_invitation(i) for i in range(60)]
    _write_v2(table, old)

    def stop_after(pages: int) -> Callable[[UpgradeProgress], None]:
        def on_page(progress: UpgradeProgress) -> None:
            if progress.pages == pages:
                raise Stop
        return on_page

    with pytest.raises(Stop):
        upgrade_2_to_3(table, page_size=10, on_page=stop_after(3))
    assert len(requests.of("Scan")) == 3
    recorded = read_progress(table, 3)
    assert recorded is not None and not recorded["complete"] and recorded["last_key"]
    assert 0 < recorded["scanned"] < 60  # moto applies Limit after the filter, DynamoDB before
    assert DynamoSchema(table).version() == 2  # recorded only when the backfill is finished
    ok, line = schema_status(table)
    assert not ok and f"stopped after {recorded['scanned']} items checked" in line
    assert "run `cvat-serverless migrate`" in line
    half_done = _sent_dates(table)
    assert None in half_done.values() and set(half_done.values()) != {None}

    requests.made.clear()
    told: list[UpgradeProgress] = []
    assert DynamoSchema(table).ensure(on_page=told.append) == 3
    scans = requests.of("Scan")
    assert scans and len(scans) == told[-1].pages
    assert scans[0]["ExclusiveStartKey"] == json.loads(recorded["last_key"])
    assert all(scan.get("ExclusiveStartKey") for scan in scans)  # never again from the start
    assert all(p.resumed for p in told)
    # every invitation counted once over the two runs: the first run's pages were not read again
    assert (told[-1].scanned, told[-1].updated) == (60, 60)
    assert _sent_dates(table) == _expected(old)
    assert DynamoSchema(table).version() == 3


def test_new_code_reads_and_saves_invitations_the_upgrade_has_not_reached(table: str) -> None:
    old = [_invitation(i) for i in range(3)]
    _write_v2(table, old)  # deployed, not migrated yet
    r = backends.dynamo_repos(table)

    read = r.invitations.get("key001")
    assert read.sent_date == read.created_date == old[1].created_date
    assert not read.is_expired(read.created_date + INVITATION_EXPIRY)
    assert read.is_expired(read.created_date + INVITATION_EXPIRY + timedelta(seconds=1))
    assert [i.sent_date for i in r.invitations.list_by_user(1)] == [i.created_date for i in old]
    assert r.invitations.list_by_organization(2) == [replace(old[1], version=4)]
    saved = r.invitations.save(replace(read, accepted=True))  # writes sent_date with the rest
    assert _sent_dates(table)[("INVITATION#key001", "INVITATION")] == old[1].created_date.isoformat()

    told: list[UpgradeProgress] = []
    assert DynamoSchema(table).ensure(on_page=told.append) == 3
    assert told[-1].updated == 2  # the saved one already had it
    assert r.invitations.get("key001") == saved
    assert _sent_dates(table) == _expected(old)


def test_a_save_between_the_scan_and_the_write_is_kept(table: str, requests: Requests) -> None:
    old = [_invitation(i) for i in range(4)]
    _write_v2(table, old)
    r = backends.dynamo_repos(table)
    resent = T0 + timedelta(days=5)

    done: list[bool] = []

    def resend_once(operation: str) -> None:  # another process resends key002 before the write
        if operation == "TransactWriteItems" and not done:
            done.append(True)
            r.invitations.save(replace(r.invitations.get("key002"), sent_date=resent))

    requests.hooks.append(resend_once)
    assert DynamoSchema(table).ensure() == 3
    assert r.invitations.get("key002").sent_date == resent
    assert r.invitations.get("key002").version == 5
    assert _sent_dates(table) == _expected([replace(i, sent_date=resent) if i.key == "key002" else i for i in old])


def test_migrating_twice_changes_nothing(table: str, requests: Requests) -> None:
    _write_v2(table, [_invitation(i) for i in range(3)])
    assert schema_status(table)[0] is False
    assert DynamoSchema(table).ensure() == 3
    after = _sent_dates(table)

    requests.made.clear()
    assert DynamoSchema(table).ensure() == 3
    assert requests.of("Scan") == [] and requests.writes() == []
    # the step itself run again (a crash before the version was recorded) reads its progress only
    assert upgrade_2_to_3(table) == 3
    assert requests.of("Scan") == [] and requests.writes() == []
    assert _sent_dates(table) == after


def test_schema_status_says_when_the_table_is_behind_or_ahead(table: str) -> None:
    assert schema_status(table)[0] is False and "not initialised" in schema_status(table)[1]
    _write_v2(table, [])
    ok, line = schema_status(table)
    assert not ok and line.startswith("version 2, behind this code's 3") and "cvat-serverless migrate" in line
    boto3.client("dynamodb").update_item(
        TableName=table, Key={"pk": {"S": "META"}, "sk": {"S": "SCHEMA"}}, UpdateExpression="SET #d.#v = :v",
        ExpressionAttributeNames={"#d": "data", "#v": "version"}, ExpressionAttributeValues={":v": {"N": "4"}})
    ok, line = schema_status(table)
    assert not ok and "newer than this code's 3" in line


@pytest.fixture
def stack(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stack whose DataTableName output is ``table`` (what `--stack` reads); the environment
    and the container the CLI points at it are put back afterwards."""
    from cvat_serverless import bootstrap

    for env in OUTPUT_TO_ENV.values():
        monkeypatch.setenv(env, "unset")
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "cvat-migrate"}}},
                "Outputs": {"DataTableName": {"Value": table}}}
    boto3.client("cloudformation").create_stack(StackName="cvat-migrate", TemplateBody=json.dumps(template))
    yield "cvat-migrate"
    boto3.client("cloudformation").delete_stack(StackName="cvat-migrate")
    bootstrap.reset()


def test_the_migrate_command_prints_its_progress_and_status(
    table: str, stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_v2(table, [_invitation(i) for i in range(3)])
    assert main(["migrate", "--stack", stack, "--status"]) == 1
    assert "version 2, behind this code's 3" in capsys.readouterr().out
    assert DynamoSchema(table).version() == 2  # --status writes nothing

    assert main(["migrate", "--stack", stack]) == 0
    out = capsys.readouterr().out
    assert "schema 2 -> 3: 3 invitations checked, 3 updated (done)" in out
    assert f"Database schema is at version 3 in stack {stack}." in out
    assert main(["migrate", "--stack", stack, "--status"]) == 0
    assert "version 3" in capsys.readouterr().out
