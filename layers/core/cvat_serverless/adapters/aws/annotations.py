"""DynamoS3AnnotationStore: each job's annotations as one gzip-compressed JSON snapshot in the
(versioned) media bucket, and a head item in the data table that versions it.

Keys:
  s3  annotations/jobs/<job id>/snapshot.json.gz       every save is a new S3 object version
  ddb JOB#<job id>#ANNOTATIONS / HEAD                  the current save (version, counts, S3 version id)
  ddb JOB#<job id>#ANNOTATIONS / <version, 12 digits>  one item per save (the history)
  ddb COUNTER#annotation / COUNTER                     annotation object ids (the id generator's item)

A save first puts the snapshot (S3 answers its version id), then writes the head and the save's
history item in one transaction on condition ``version = <expected>`` (or no head for version 0).
Reads go through the head's S3 version id, never "the latest object": a save that lost the race
leaves an S3 version nobody points at (noncurrent; a lifecycle rule may expire such versions),
and never a snapshot that readers would see without its head.

Deleting a job's annotations deletes its items and the snapshot's current object (a delete
marker): its versions are then all noncurrent, and the bucket's lifecycle rule ExpireOldVersions
(template.yaml: noncurrent versions after 30 days, then the lone delete marker) removes them. So
the functions need no ``s3:DeleteObjectVersion``, and a deleted task's history stays restorable
from S3 by an operator for those 30 days.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ...domain.annotations import LabeledData
from ...domain.errors import ConflictError, NotFoundError
from ...ports import AnnotationHead
from .clients import client
from .errors import aws_errors, error_code

try:  # orjson is several times faster on big snapshots; json is the fallback
    import orjson

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    def _loads(raw: bytes) -> Any:
        return orjson.loads(raw)
except ImportError:  # pragma: no cover - orjson is a runtime dependency
    import json

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def _loads(raw: bytes) -> Any:
        return json.loads(raw)


GZIP_LEVEL = 6
HEAD = "HEAD"
BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
BATCH_ATTEMPTS = 5  # unprocessed items (throttling) are sent again this often, then it is an error


def snapshot_key(job_id: int) -> str:
    return f"annotations/jobs/{job_id}/snapshot.json.gz"


def encode_snapshot(data: LabeledData) -> bytes:
    return gzip.compress(_dumps(data.to_dict()), compresslevel=GZIP_LEVEL)


def decode_snapshot(raw: bytes) -> LabeledData:
    return LabeledData.from_dict(_loads(gzip.decompress(raw)))


def _partition(job_id: int) -> dict[str, str]:
    return {"S": f"JOB#{job_id}#ANNOTATIONS"}


def _head_from_item(job_id: int, item: dict[str, Any]) -> AnnotationHead:
    def num(name: str) -> int:
        return int(item[name]["N"]) if name in item else 0

    by = item.get("updated_by", {})
    return AnnotationHead(
        job_id,
        version=num("version"),
        shapes=num("shapes"),
        tracks=num("tracks"),
        tags=num("tags"),
        snapshot_id=item.get("snapshot_id", {}).get("S", ""),
        updated_by=int(by["N"]) if "N" in by else None,
        updated_date=datetime.fromisoformat(when) if (when := item.get("updated_date", {}).get("S")) else None,
    )


def _item_of(head: AnnotationHead, sk: str) -> dict[str, Any]:
    return {
        "pk": _partition(head.job_id),
        "sk": {"S": sk},
        "version": {"N": str(head.version)},
        "shapes": {"N": str(head.shapes)},
        "tracks": {"N": str(head.tracks)},
        "tags": {"N": str(head.tags)},
        "snapshot_id": {"S": head.snapshot_id},
        "updated_by": {"N": str(head.updated_by)} if head.updated_by is not None else {"NULL": True},
        "updated_date": {"S": head.updated_date.isoformat() if head.updated_date else ""},
    }


class DynamoS3AnnotationStore:
    def __init__(self, table_name: str, bucket: str) -> None:
        self.table_name = table_name
        self.bucket = bucket

    def _head(self, job_id: int) -> AnnotationHead:
        with aws_errors(f"reading the annotations head of job {job_id}"):
            item = client("dynamodb").get_item(
                TableName=self.table_name, Key={"pk": _partition(job_id), "sk": {"S": HEAD}}, ConsistentRead=True,
            ).get("Item")
        return _head_from_item(job_id, item) if item else AnnotationHead(job_id)

    def _snapshot(self, head: AnnotationHead) -> LabeledData:
        key = snapshot_key(head.job_id)
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            answer = client("s3").get_object(Bucket=self.bucket, Key=key, VersionId=head.snapshot_id)
            raw = answer["Body"].read()
        data = decode_snapshot(raw)
        data.version = head.version
        return data

    def read(self, job_id: int) -> tuple[LabeledData, AnnotationHead]:
        head = self._head(job_id)
        if head.version == 0:
            return LabeledData(), head
        return self._snapshot(head), head

    def write(self, job_id: int, data: LabeledData, *, expected_version: int, actor_id: int | None,
              when: datetime) -> AnnotationHead:
        key = snapshot_key(job_id)
        with aws_errors(f"writing s3://{self.bucket}/{key}"):
            answer = client("s3").put_object(Bucket=self.bucket, Key=key, Body=encode_snapshot(data),
                                             ContentType="application/json", ContentEncoding="gzip")
        head = AnnotationHead(job_id, version=expected_version + 1, shapes=len(data.shapes),
                              tracks=len(data.tracks), tags=len(data.tags),
                              snapshot_id=str(answer.get("VersionId") or "null"), updated_by=actor_id,
                              updated_date=when)
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"} if expected_version == 0 else {
                "ConditionExpression": "#v = :expected",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            })
        try:
            with aws_errors(f"saving the annotations head of job {job_id}"):
                client("dynamodb").transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.table_name, "Item": _item_of(head, HEAD), **condition}},
                    {"Put": {"TableName": self.table_name, "Item": _item_of(head, f"{head.version:012d}"),
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                ])
        except ClientError as exc:
            # a failed condition cancels the transaction (not an error code aws_errors knows)
            if error_code(exc) == "TransactionCanceledException":
                raise ConflictError("The annotations were saved by someone else meanwhile.") from exc
            raise
        return head

    def history(self, job_id: int) -> list[AnnotationHead]:
        heads: list[AnnotationHead] = []
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :pk AND sk < :head",
            ExpressionAttributeValues={":pk": _partition(job_id), ":head": {"S": HEAD}},
            ScanIndexForward=False, ConsistentRead=True)
        with aws_errors(f"reading the annotations history of job {job_id}"):
            for page in pages:
                heads += [_head_from_item(job_id, item) for item in page.get("Items", [])]
        return heads

    def read_version(self, job_id: int, version: int) -> tuple[LabeledData, AnnotationHead]:
        with aws_errors(f"reading the annotations history of job {job_id}"):
            item = client("dynamodb").get_item(
                TableName=self.table_name, Key={"pk": _partition(job_id), "sk": {"S": f"{version:012d}"}},
                ConsistentRead=True,
            ).get("Item")
        if not item:
            raise NotFoundError(f"Annotations version {version} of job {job_id} not found.")
        head = _head_from_item(job_id, item)
        return self._snapshot(head), head

    def delete(self, job_id: int) -> None:
        key = snapshot_key(job_id)
        with aws_errors(f"deleting s3://{self.bucket}/{key}"):
            client("s3").delete_object(Bucket=self.bucket, Key=key)
        pages = client("dynamodb").get_paginator("query").paginate(
            TableName=self.table_name, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _partition(job_id)}, ProjectionExpression="pk, sk",
            ConsistentRead=True)
        with aws_errors(f"deleting the annotations of job {job_id}"):
            keys = [item for page in pages for item in page.get("Items", [])]
            # HEAD sorts after the history items, so it goes last: a failure halfway leaves a
            # head, and deleting again finishes the job
            for start in range(0, len(keys), BATCH_WRITE):
                self._delete_items(keys[start:start + BATCH_WRITE])

    def _delete_items(self, keys: list[dict[str, Any]]) -> None:
        requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": k}} for k in keys]
        for _ in range(BATCH_ATTEMPTS):
            answer = client("dynamodb").batch_write_item(RequestItems={self.table_name: requests})
            requests = answer.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests:
                return
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": (
            f"{len(requests)} annotation items not deleted after {BATCH_ATTEMPTS} attempts")}}, "BatchWriteItem")

    def allocate_ids(self, count: int) -> int:
        with aws_errors("allocating annotation ids"):
            answer = client("dynamodb").update_item(
                TableName=self.table_name, Key={"pk": {"S": "COUNTER#annotation"}, "sk": {"S": "COUNTER"}},
                UpdateExpression="ADD #v :n", ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":n": {"N": str(max(count, 0))}}, ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["value"]["N"]) - count + 1
