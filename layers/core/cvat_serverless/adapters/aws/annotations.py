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

A snapshot is the API's answer for its save: CVAT's ``LabeledData`` JSON with the save's own
``version`` (marked in the object's metadata ``annotations-version``), so a read can serve the
stored gzip bytes as they are (``read_encoded``). Snapshots written before that mark carry the
previous version; they are decoded and encoded again when served.

Each store keeps the newest snapshots it read or wrote (``CACHED_JOBS`` jobs), decoded and
encoded, keyed by the S3 version id the head names: the head is still read on every call (a
consistent read), so the cache never answers a stale save; it spares the S3 read, the parse of
the whole snapshot, and on a save that only appends objects (PATCH ``action=create``) the encoding
of the objects already stored. Objects read from or written to a store are shared with that cache:
callers do not change them afterwards (the services build new objects for every change).
"""

from __future__ import annotations

import gzip
import operator
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, replace
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
        return json.dumps(value, separators=(",", ":"), default=lambda o: o.to_dict()).encode()

    def _loads(raw: bytes) -> Any:
        return json.loads(raw)


GZIP_LEVEL = 1  # level 6 makes a 20,000-shape snapshot 20 % smaller and 3 times slower to write
HEAD = "HEAD"
VERSION_METADATA = "annotations-version"  # S3 user metadata: the version the snapshot's JSON carries
CACHED_JOBS = 16
BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit
BATCH_ATTEMPTS = 5  # unprocessed items (throttling) are sent again this often, then it is an error


def snapshot_key(job_id: int) -> str:
    return f"annotations/jobs/{job_id}/snapshot.json.gz"


def encode_snapshot(data: LabeledData) -> bytes:
    return gzip_bytes(_dumps(data.to_dict()))


def decode_snapshot(raw: bytes) -> LabeledData:
    return LabeledData.from_dict(_loads(gzip.decompress(raw)))


def gzip_bytes(raw: bytes) -> bytes:
    """gzip at GZIP_LEVEL (zlib directly: no header timestamp, no extra copy)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(raw) + compressor.flush()


_KINDS = ("tags", "shapes", "tracks", "intervals")
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, unknown OS


def _items(objects: list[Any]) -> bytes:
    """The JSON of a list's items without its brackets (orjson writes the domain dataclasses
    directly: the same fields as ``to_dict``, several times faster)."""
    return _dumps(objects)[1:-1] if objects else b""


def _deflate(raw: bytes, *, final: bool) -> bytes:
    """Raw deflate blocks of ``raw``; not ``final``: flushed to a byte boundary with no reference
    left to earlier bytes, so other blocks may follow (what pigz does to compress in parallel)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(raw) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


@dataclass(frozen=True, slots=True)
class _Front:
    """The snapshot's JSON up to its last shape (``{"tags":[...],"shapes":[...``), deflated
    (``deflated``, not final), with its CRC-32 and length for the gzip trailer. A save that appends
    shapes deflates only those and adds their blocks here; the rest of the JSON (tracks,
    intervals, version: small) is deflated anew on every save."""

    deflated: bytes
    crc: int
    size: int

    @classmethod
    def of(cls, raw: bytes) -> _Front:
        return cls(_deflate(raw, final=False), zlib.crc32(raw), len(raw))

    def appended(self, raw: bytes) -> _Front:
        return _Front(self.deflated + _deflate(raw, final=False), zlib.crc32(raw, self.crc), self.size + len(raw))

    def gzip(self, rest: bytes) -> bytes:
        """One gzip member: this front, then ``rest``."""
        trailer = struct.pack("<II", zlib.crc32(rest, self.crc), (self.size + len(rest)) & 0xFFFFFFFF)
        return _GZIP_HEADER + self.deflated + _deflate(rest, final=True) + trailer


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A snapshot decoded (``data``) and encoded: each list's items as JSON (``parts``), the
    deflated front (``front``) and the whole answer gzip-compressed (``gzipped``)."""

    snapshot_id: str
    version: int
    data: LabeledData
    parts: dict[str, bytes]
    front: _Front
    gzipped: bytes


def _encode(data: LabeledData, version: int, snapshot_id: str = "", previous: _Encoded | None = None) -> _Encoded:
    """``data`` as snapshot ``version``: CVAT's LabeledData JSON, ``version`` last so that the
    front stays the same from save to save. A list that only appends to ``previous``'s (the very
    same objects first) encodes only its new objects; new shapes after unchanged tags are
    deflated alone and follow the previous front."""
    parts: dict[str, bytes] = {}
    tails: dict[str, bytes | None] = {}
    for kind in _KINDS:
        new = getattr(data, kind)
        tails[kind] = None
        if previous is not None:
            old = getattr(previous.data, kind)
            if len(new) >= len(old) and all(map(operator.is_, old, new)):
                head, tail = previous.parts[kind], _items(new[len(old):])
                tail = b"," + tail if head and tail else tail
                tails[kind], parts[kind] = tail, head + tail
                continue
        parts[kind] = _items(new)
    if previous is not None and tails["tags"] == b"" and tails["shapes"] is not None:
        front = previous.front.appended(tails["shapes"]) if tails["shapes"] else previous.front
    else:
        front = _Front.of(b'{"tags":[%b],"shapes":[%b' % (parts["tags"], parts["shapes"]))
    rest = b'],"tracks":[%b],"intervals":[%b],"version":%d}' % (parts["tracks"], parts["intervals"], version)
    kept = LabeledData(version=version, tags=list(data.tags), shapes=list(data.shapes), tracks=list(data.tracks),
                       intervals=list(data.intervals))  # the caller's lists stay the caller's
    return _Encoded(snapshot_id, version, kept, parts, front, front.gzip(rest))


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
        self._cache: OrderedDict[int, _Encoded] = OrderedDict()  # job id -> its newest snapshot seen
        self._cache_lock = threading.Lock()

    def _cached(self, head: AnnotationHead) -> _Encoded | None:
        with self._cache_lock:
            entry = self._cache.get(head.job_id)
            if entry is None or entry.snapshot_id != head.snapshot_id or entry.version != head.version:
                return None
            self._cache.move_to_end(head.job_id)
            return entry

    def _remember(self, job_id: int, entry: _Encoded) -> None:
        with self._cache_lock:
            self._cache[job_id] = entry
            self._cache.move_to_end(job_id)
            while len(self._cache) > CACHED_JOBS:
                self._cache.popitem(last=False)

    def _forget(self, job_id: int) -> None:
        with self._cache_lock:
            self._cache.pop(job_id, None)

    def _head(self, job_id: int) -> AnnotationHead:
        with aws_errors(f"reading the annotations head of job {job_id}"):
            item = client("dynamodb").get_item(
                TableName=self.table_name, Key={"pk": _partition(job_id), "sk": {"S": HEAD}}, ConsistentRead=True,
            ).get("Item")
        return _head_from_item(job_id, item) if item else AnnotationHead(job_id)

    def _get_snapshot(self, head: AnnotationHead) -> tuple[bytes, bool]:
        """The snapshot's stored bytes, and whether its JSON carries the head's version."""
        key = snapshot_key(head.job_id)
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            answer = client("s3").get_object(Bucket=self.bucket, Key=key, VersionId=head.snapshot_id)
            raw = answer["Body"].read()
        return raw, answer.get("Metadata", {}).get(VERSION_METADATA) == str(head.version)

    def _snapshot(self, head: AnnotationHead) -> _Encoded:
        entry = self._cached(head)
        if entry is not None:
            return entry
        raw, _ = self._get_snapshot(head)
        data = decode_snapshot(raw)
        data.version = head.version
        # re-encoded once per cold read: a later append then encodes only what it adds
        entry = _encode(data, head.version, head.snapshot_id)
        self._remember(head.job_id, entry)
        return entry

    @staticmethod
    def _shared(entry: _Encoded) -> LabeledData:
        data = entry.data  # new lists: a caller may add to or drop from them; objects are shared
        return LabeledData(version=entry.version, tags=list(data.tags), shapes=list(data.shapes),
                           tracks=list(data.tracks), intervals=list(data.intervals))

    def read(self, job_id: int) -> tuple[LabeledData, AnnotationHead]:
        head = self._head(job_id)
        if head.version == 0:
            return LabeledData(), head
        return self._shared(self._snapshot(head)), head

    def read_encoded(self, job_id: int) -> tuple[bytes, AnnotationHead]:
        """The job's annotations as the API answers them: CVAT's ``LabeledData`` JSON,
        gzip-compressed (the stored snapshot's bytes when they carry the head's version)."""
        head = self._head(job_id)
        if head.version == 0:
            return gzip_bytes(_dumps(LabeledData().to_dict())), head
        entry = self._cached(head)
        if entry is not None:
            return entry.gzipped, head
        raw, current = self._get_snapshot(head)
        if current:
            return raw, head
        return self._snapshot(head).gzipped, head

    def write(self, job_id: int, data: LabeledData, *, expected_version: int, actor_id: int | None,
              when: datetime) -> AnnotationHead:
        key = snapshot_key(job_id)
        version = expected_version + 1
        with self._cache_lock:
            previous = self._cache.get(job_id)
        if previous is not None and previous.version != expected_version:
            previous = None
        encoded = _encode(data, version, previous=previous)
        with aws_errors(f"writing s3://{self.bucket}/{key}"):
            answer = client("s3").put_object(Bucket=self.bucket, Key=key, Body=encoded.gzipped,
                                             ContentType="application/json", ContentEncoding="gzip",
                                             Metadata={VERSION_METADATA: str(version)})
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
        self._remember(job_id, replace(encoded, snapshot_id=head.snapshot_id))
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
        raw, _ = self._get_snapshot(head)
        data = decode_snapshot(raw)  # not cached: the cache holds each job's newest save
        data.version = head.version
        return data, head

    def delete(self, job_id: int) -> None:
        self._forget(job_id)
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
