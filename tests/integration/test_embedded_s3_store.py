"""The s3-object-files moto patch (local/s3_objects.py): S3 objects' bytes are files in the data
directory, moto keeps a reference, and the answers stay moto's.

The equivalence test runs one scenario of the S3 operations the product uses, through boto3 and
plain HTTP (presigned URLs, aws-chunked bodies), against stock moto (``moto_server`` in a
subprocess: no patches) and against the embedded runtime's AWS (moto with the patches behind the
runtime's middleware, served from this process as `cvat-serverless up` serves it), and compares
the answers. The other tests check what the patch is for: a snapshot without the bytes, objects
that survive a restart (and an old snapshot with the bytes inside that converts), files that go
when nothing refers to them, and uploads and downloads that do not pass through memory."""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import os
import pickle
import random
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import Config
from botocore.exceptions import ClientError, FlexibleChecksumError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3.models import s3_backends
from werkzeug.serving import make_server

from cvat_serverless_tools.local import moto_patches, s3_objects
from cvat_serverless_tools.local.lambdas import FunctionRegistry
from cvat_serverless_tools.local.middleware import AwsMiddleware
from cvat_serverless_tools.local.persistence import SnapshotStore

MiB = 1 << 20
BIG = random.Random(1).randbytes(6 * MiB + 123)  # above moto's 5 MiB in-memory buffer
PART = random.Random(2).randbytes(5 * MiB)  # the smallest part but the last


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout} s, {what} did not happen")
        time.sleep(0.05)


def client(endpoint: str, **config: Any) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(**config))


class EmbeddedAws:
    """The runtime's AWS side as runtime.py assembles it: moto behind AwsMiddleware, with the
    data directory's SnapshotStore; restart() saves, forgets moto's state and loads it back."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.snapshots = SnapshotStore(data_dir)
        self.middleware = AwsMiddleware(DomainDispatcherApplication(create_backend_app), FunctionRegistry())
        self.server = make_server("127.0.0.1", 0, self.middleware, threaded=True, request_handler=MotoRequestHandler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.s3 = client(self.endpoint)

    def save(self) -> dict[str, Any]:
        self.snapshots.save({"s3"}, self.middleware.lock)
        return self.snapshots.last_save

    def restart(self) -> EmbeddedAws:
        self.save()
        self.stop()
        forget_s3()
        fresh = EmbeddedAws(self.data_dir)
        assert fresh.snapshots.restore() == ["s3"]
        return fresh

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def forget_s3() -> None:
    s3_backends.bucket_accounts.clear()
    s3_backends.clear()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Callable[[], EmbeddedAws]]:
    moto_patches.apply()
    previous = s3_objects.store()
    started: list[EmbeddedAws] = []

    def start() -> EmbeddedAws:
        started.append(EmbeddedAws(tmp_path / "data"))
        return started[-1]

    yield start
    for aws in started:
        aws.stop()
    forget_s3()
    s3_objects.configure(previous.root, durable=previous.durable)


@pytest.fixture(scope="module")
def stock_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto as shipped: its own server, in a process that never applies our patches."""
    port = free_port()
    log = tmp_path_factory.mktemp("stock-moto") / "moto_server.log"
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log.open("w"), stderr=subprocess.STDOUT)

    def answers() -> bool:
        assert server.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_for(answers, "stock moto_server to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


# ------------------------------------------------------------------------------------ equivalence
class Recorder:
    """The answers of one scenario, with what differs between two runs by design (request ids,
    dates, random version and upload ids) left out or named by order of appearance."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.s3 = client(endpoint)
        self.answers: list[tuple[str, Any]] = []
        self._ids: dict[str, str] = {}

    def call(self, step: str, operation: str, **params: Any) -> Any:
        try:
            answer = getattr(self.s3, operation)(**params)
        except ClientError as error:
            self.answers.append((step, {"Error": error.response["Error"].get("Code"),
                                        "Status": error.response["ResponseMetadata"]["HTTPStatusCode"]}))
            return None
        try:
            plain = self._plain(answer)
        except FlexibleChecksumError as error:
            # moto 5.2.5 answers some GETs with a checksum the body does not have (a CopyObject of
            # a COMPOSITE multipart object keeps the value, drops its "-N" and type): its answer too
            plain = {"ChecksumMismatch": str(error)}
        self.answers.append((step, plain))
        return answer

    def http(self, step: str, method: str, url: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> None:
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # localhost
                status, got, data = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, got, data = error.code, error.headers, error.read()
        shown = {name: got[name] for name in ("ETag", "Content-Length", "Content-Type", "Content-Range")
                 if got[name] is not None}
        self.answers.append((step, {"Status": status, **shown, "Body": self._digest(data)}))

    def _id(self, value: str) -> str:
        return self._ids.setdefault(value, f"id-{len(self._ids)}")

    @staticmethod
    def _digest(data: bytes) -> str:
        return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"

    def _plain(self, value: Any) -> Any:
        if isinstance(value, dict):
            plain = {}
            for key, item in value.items():
                if key in ("ResponseMetadata", "LastModified", "Initiated", "Date", "Expires"):
                    continue
                if key in ("VersionId", "UploadId", "NextVersionIdMarker", "VersionIdMarker", "CopySourceVersionId"):
                    plain[key] = self._id(item) if item and item != "null" else item
                elif key == "Body":
                    plain[key] = self._digest(item.read())
                else:
                    plain[key] = self._plain(item)
            return plain
        if isinstance(value, list):
            return [self._plain(item) for item in value]
        return value


def aws_chunked(payload: bytes, *, signed: bool) -> tuple[bytes, dict[str, str]]:
    """A body as the SDKs stream it over HTTPS: chunks, and a trailing CRC32 (unsigned) or
    chunk signatures (signed)."""
    pieces = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
    crc = base64.b64encode(binascii.crc32(payload).to_bytes(4, "big")).decode()
    extension = ";chunk-signature=" + "0" * 64 if signed else ""
    body = b"".join(f"{len(p):x}{extension}\r\n".encode() + p + b"\r\n" for p in pieces)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(payload)),
               "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
                                "SignedHeaders=host, Signature=" + "0" * 64}
    if signed:
        body += f"0{extension}\r\n\r\n".encode()
        headers["x-amz-content-sha256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    else:
        body += f"0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
        headers.update({"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                        "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"})
    return body, headers


def scenario(endpoint: str) -> list[tuple[str, Any]]:  # one story, told in order
    r = Recorder(endpoint)
    bucket, versions = "media-bucket", "versions-bucket"
    r.call("create bucket", "create_bucket", Bucket=bucket)

    r.call("put small", "put_object", Bucket=bucket, Key="a/small.txt", Body=b"hello world",
           ContentType="text/plain", Metadata={"who": "me"})
    r.call("put big, SHA256", "put_object", Bucket=bucket, Key="a/big.bin", Body=BIG, ChecksumAlgorithm="SHA256")
    r.call("put empty", "put_object", Bucket=bucket, Key="a/empty", Body=b"")
    r.call("put folder marker", "put_object", Bucket=bucket, Key="a/folder/", Body=b"")
    for key in ("a/small.txt", "a/big.bin", "a/empty"):
        r.call(f"get {key}", "get_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        r.call(f"head {key}", "head_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    for byte_range in ("bytes=0-0", "bytes=1000-2000000", "bytes=-10", "bytes=6000000-", "bytes=5-2",
                       "bytes=0-99999999", "bytes=99999999-"):
        r.call(f"get {byte_range}", "get_object", Bucket=bucket, Key="a/big.bin", Range=byte_range)
    r.call("get small, range", "get_object", Bucket=bucket, Key="a/small.txt", Range="bytes=6-")
    r.call("get part 1 of a simple object", "get_object", Bucket=bucket, Key="a/big.bin", PartNumber=1)
    r.call("get missing", "get_object", Bucket=bucket, Key="a/nothing")
    r.call("head missing", "head_object", Bucket=bucket, Key="a/nothing")
    r.call("get if-none-match", "get_object", Bucket=bucket, Key="a/small.txt",
           IfNoneMatch=hashlib.md5(b"hello world").hexdigest())

    r.call("copy", "copy_object", Bucket=bucket, Key="b/copy.bin", CopySource={"Bucket": bucket, "Key": "a/big.bin"})
    r.call("get copy", "get_object", Bucket=bucket, Key="b/copy.bin", ChecksumMode="ENABLED")
    r.call("copy, new metadata", "copy_object", Bucket=bucket, Key="b/small.txt", MetadataDirective="REPLACE",
           ContentType="application/octet-stream", CopySource={"Bucket": bucket, "Key": "a/small.txt"})
    r.call("head copy, new metadata", "head_object", Bucket=bucket, Key="b/small.txt")

    # a multipart upload with CRC32 checksums, as s3transfer sends it
    upload = r.call("create multipart", "create_multipart_upload", Bucket=bucket, Key="m/video.mp4",
                    ContentType="video/mp4", ChecksumAlgorithm="CRC32")
    parts = []
    for number, body in ((1, PART), (2, PART[::-1]), (3, b"tail" * 200)):
        done = r.call(f"upload part {number}", "upload_part", Bucket=bucket, Key="m/video.mp4",
                      UploadId=upload["UploadId"], PartNumber=number, Body=body, ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": number, "ETag": done["ETag"], "ChecksumCRC32": done["ChecksumCRC32"]})
    r.call("list parts", "list_parts", Bucket=bucket, Key="m/video.mp4", UploadId=upload["UploadId"])
    r.call("list uploads", "list_multipart_uploads", Bucket=bucket)
    r.call("complete, a wrong ETag", "complete_multipart_upload", Bucket=bucket, Key="m/video.mp4",
           UploadId=upload["UploadId"], MultipartUpload={"Parts": [{**parts[0], "ETag": '"0"'}]})
    r.call("complete", "complete_multipart_upload", Bucket=bucket, Key="m/video.mp4", UploadId=upload["UploadId"],
           MultipartUpload={"Parts": parts})
    r.call("get multipart", "get_object", Bucket=bucket, Key="m/video.mp4", ChecksumMode="ENABLED")
    r.call("head multipart", "head_object", Bucket=bucket, Key="m/video.mp4", ChecksumMode="ENABLED")
    r.call("get across parts", "get_object", Bucket=bucket, Key="m/video.mp4", Range="bytes=5242000-5243000")
    r.call("get the last part's bytes", "get_object", Bucket=bucket, Key="m/video.mp4", Range="bytes=-900")
    r.call("copy multipart", "copy_object", Bucket=bucket, Key="m/copy.mp4",
           CopySource={"Bucket": bucket, "Key": "m/video.mp4"})
    r.call("get copy of multipart", "get_object", Bucket=bucket, Key="m/copy.mp4")

    # a multipart upload without checksums, one part copied from another object
    upload = r.call("create multipart 2", "create_multipart_upload", Bucket=bucket, Key="m/joined.bin")
    copied = r.call("upload part copy", "upload_part_copy", Bucket=bucket, Key="m/joined.bin",
                    UploadId=upload["UploadId"], PartNumber=1, CopySource={"Bucket": bucket, "Key": "a/big.bin"},
                    CopySourceRange=f"bytes=0-{5 * MiB}")
    done = r.call("upload part 2 (presigned)", "upload_part", Bucket=bucket, Key="m/joined.bin",
                  UploadId=upload["UploadId"], PartNumber=2, Body=b"end")
    r.call("complete 2", "complete_multipart_upload", Bucket=bucket, Key="m/joined.bin", UploadId=upload["UploadId"],
           MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]},
                                      {"PartNumber": 2, "ETag": done["ETag"]}]})
    r.call("get joined", "get_object", Bucket=bucket, Key="m/joined.bin", ChecksumMode="ENABLED")

    upload = r.call("create multipart 3", "create_multipart_upload", Bucket=bucket, Key="m/aborted.bin")
    r.call("upload part, aborted", "upload_part", Bucket=bucket, Key="m/aborted.bin", UploadId=upload["UploadId"],
           PartNumber=1, Body=PART)
    r.call("abort", "abort_multipart_upload", Bucket=bucket, Key="m/aborted.bin", UploadId=upload["UploadId"])
    r.call("list uploads after abort", "list_multipart_uploads", Bucket=bucket)
    r.call("get aborted", "get_object", Bucket=bucket, Key="m/aborted.bin")

    # presigned URLs, as the browser and the SDK's clients use them
    s3 = r.s3
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p/upload.mp4",
                                                          "ContentType": "video/mp4"})
    r.http("presigned put", "PUT", put, BIG[:3 * MiB], {"Content-Type": "video/mp4"})
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p/upload.mp4"})
    r.http("presigned get", "GET", get)
    r.http("presigned get, range", "GET", get, headers={"Range": "bytes=100-199"})
    r.http("presigned head", "HEAD", s3.generate_presigned_url("head_object", Params={"Bucket": bucket,
                                                                                       "Key": "p/upload.mp4"}))
    upload = r.call("create multipart 4", "create_multipart_upload", Bucket=bucket, Key="p/parts.bin")
    for number, body in ((1, PART), (2, b"last")):
        url = s3.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": "p/parts.bin",
                                                               "UploadId": upload["UploadId"], "PartNumber": number})
        # a type, as a browser or an SDK sends: urllib's default (a form) hangs stock moto_server
        r.http(f"presigned part {number}", "PUT", url, body, {"Content-Type": "application/octet-stream"})
    listed = s3.list_parts(Bucket=bucket, Key="p/parts.bin", UploadId=upload["UploadId"])["Parts"]
    r.call("complete presigned parts", "complete_multipart_upload", Bucket=bucket, Key="p/parts.bin",
           UploadId=upload["UploadId"],
           MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]})
    r.http("presigned get of parts", "GET", s3.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                                                           "Key": "p/parts.bin"}))

    # aws-chunked bodies (the SDKs' streaming uploads over HTTPS), sent as they are
    for signed in (False, True):
        body, headers = aws_chunked(BIG[:300_000], signed=signed)
        connection = http.client.HTTPConnection(endpoint.removeprefix("http://"), timeout=60)
        connection.request("PUT", f"/{bucket}/c/chunked-{signed}.bin", body=body, headers=headers)
        answer = connection.getresponse()
        r.answers.append((f"aws-chunked put, signed={signed}",
                          {"Status": answer.status, "ETag": answer.getheader("ETag"),
                           "CRC32": answer.getheader("x-amz-checksum-crc32")}))
        answer.read()
        connection.close()
        r.call(f"get aws-chunked, signed={signed}", "get_object", Bucket=bucket, Key=f"c/chunked-{signed}.bin",
               ChecksumMode="ENABLED")

    r.call("list", "list_objects_v2", Bucket=bucket)
    r.call("list a/, delimiter", "list_objects_v2", Bucket=bucket, Prefix="a/", Delimiter="/")
    r.call("delete small", "delete_object", Bucket=bucket, Key="a/small.txt")
    r.call("get deleted", "get_object", Bucket=bucket, Key="a/small.txt")
    r.call("delete objects", "delete_objects", Bucket=bucket,
           Delete={"Objects": [{"Key": "a/empty"}, {"Key": "a/never-was"}, {"Key": "a/big.bin"}]})
    r.call("get copy after its source went", "get_object", Bucket=bucket, Key="b/copy.bin")
    r.call("list after deletes", "list_objects_v2", Bucket=bucket, Prefix="a/")

    r.call("create versioned bucket", "create_bucket", Bucket=versions)
    r.call("enable versioning", "put_bucket_versioning", Bucket=versions,
           VersioningConfiguration={"Status": "Enabled"})
    first = r.call("put v1", "put_object", Bucket=versions, Key="v", Body=b"first version")
    second = r.call("put v2", "put_object", Bucket=versions, Key="v", Body=BIG)
    r.call("get latest", "get_object", Bucket=versions, Key="v")
    r.call("get v1", "get_object", Bucket=versions, Key="v", VersionId=first["VersionId"])
    r.call("get v1, range", "get_object", Bucket=versions, Key="v", VersionId=first["VersionId"], Range="bytes=6-")
    r.call("list versions", "list_object_versions", Bucket=versions)
    r.call("delete (marker)", "delete_object", Bucket=versions, Key="v")
    r.call("get after marker", "get_object", Bucket=versions, Key="v")
    r.call("get v2 after marker", "get_object", Bucket=versions, Key="v", VersionId=second["VersionId"])
    r.call("delete v2", "delete_object", Bucket=versions, Key="v", VersionId=second["VersionId"])
    r.call("list versions after", "list_object_versions", Bucket=versions)
    r.call("copy an old version", "copy_object", Bucket=versions, Key="restored",
           CopySource={"Bucket": versions, "Key": "v", "VersionId": first["VersionId"]})
    r.call("get restored", "get_object", Bucket=versions, Key="restored")
    return r.answers


def test_the_answers_are_stock_motos(embedded, stock_moto):
    stock = scenario(stock_moto)
    patched = scenario(embedded().endpoint)
    assert [step for step, _ in patched] == [step for step, _ in stock]
    for (step, ours), (_, theirs) in zip(patched, stock, strict=True):
        assert ours == theirs, step
    # the scenario reached what it is about
    answers = dict(patched)
    assert answers["get bytes=1000-2000000"]["ContentRange"] == f"bytes 1000-2000000/{len(BIG)}"
    assert answers["get bytes=99999999-"]["Error"] == "InvalidRange"
    assert answers["get multipart"]["ETag"].endswith('-3"')
    assert answers["complete, a wrong ETag"]["Error"] == "InvalidPart"
    assert answers["get aws-chunked, signed=False"]["ChecksumCRC32"]
    assert answers["presigned get, range"]["Status"] == 206
    assert "did not match" in answers["get copy of multipart"]["ChecksumMismatch"]  # moto's, kept


# --------------------------------------------------------------------------------- what it is for
def put_multipart(s3: Any, bucket: str, key: str, parts: list[bytes]) -> str:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in enumerate(parts, 1)]
    return str(s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})["ETag"])


def object_bytes(s3: Any, bucket: str, key: str, **params: Any) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key, **params)["Body"].read())


def test_objects_are_files_and_the_snapshot_holds_none_of_their_bytes(embedded):
    aws = embedded()
    aws.s3.create_bucket(Bucket="media")
    aws.s3.put_object(Bucket="media", Key="big.bin", Body=BIG)
    aws.s3.copy_object(Bucket="media", Key="copy.bin", CopySource={"Bucket": "media", "Key": "big.bin"})
    aws.s3.put_object(Bucket="media", Key="same.bin", Body=BIG)
    put_multipart(aws.s3, "media", "joined.bin", [PART, b"end"])

    saved = aws.save()
    assert saved["services"] == ["s3"] and saved["bytes"]["s3"] < 64_000
    files = {p.name: p.read_bytes() for p in (aws.data_dir / "s3-objects").glob("??/*")}
    # one file per distinct content: the copy and the identical upload share big.bin's
    assert sorted(files.values(), key=len) == [b"end", PART, BIG]
    assert all(hashlib.sha256(data).hexdigest() == name for name, data in files.items())
    pickled = (aws.data_dir / "aws" / "s3.pickle").read_bytes()
    assert BIG[:4096] not in pickled and PART[:4096] not in pickled


def test_objects_survive_a_restart(embedded):
    aws = embedded()
    aws.s3.create_bucket(Bucket="media")
    aws.s3.put_bucket_versioning(Bucket="media", VersioningConfiguration={"Status": "Enabled"})
    old = aws.s3.put_object(Bucket="media", Key="v", Body=b"old")["VersionId"]
    aws.s3.put_object(Bucket="media", Key="v", Body=BIG, ContentType="video/mp4")
    etag = put_multipart(aws.s3, "media", "joined.bin", [PART, b"end"])
    upload = aws.s3.create_multipart_upload(Bucket="media", Key="unfinished")["UploadId"]
    part = aws.s3.upload_part(Bucket="media", Key="unfinished", UploadId=upload, PartNumber=1, Body=PART)["ETag"]

    aws = aws.restart()
    s3 = aws.s3
    assert object_bytes(s3, "media", "v") == BIG
    assert s3.head_object(Bucket="media", Key="v")["ContentType"] == "video/mp4"
    assert object_bytes(s3, "media", "v", VersionId=old) == b"old"
    assert object_bytes(s3, "media", "joined.bin") == PART + b"end"
    assert object_bytes(s3, "media", "joined.bin", Range="bytes=5242870-") == PART[-10:] + b"end"
    assert s3.head_object(Bucket="media", Key="joined.bin")["ETag"] == etag
    # an upload in progress goes on after the restart
    last = s3.upload_part(Bucket="media", Key="unfinished", UploadId=upload, PartNumber=2, Body=b"!")["ETag"]
    s3.complete_multipart_upload(Bucket="media", Key="unfinished", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part}, {"PartNumber": 2, "ETag": last}]})
    assert object_bytes(s3, "media", "unfinished") == PART + b"!"


def test_a_deleted_objects_file_goes_once_nothing_refers_to_it(embedded):
    aws = embedded()
    s3 = aws.s3
    s3.create_bucket(Bucket="media")
    s3.put_object(Bucket="media", Key="a.bin", Body=BIG)
    s3.put_object(Bucket="media", Key="b.bin", Body=PART)
    s3.copy_object(Bucket="media", Key="a-copy.bin", CopySource={"Bucket": "media", "Key": "a.bin"})
    s3.put_object(Bucket="media", Key="replaced.bin", Body=b"before")
    s3.put_object(Bucket="media", Key="replaced.bin", Body=b"after")
    upload = s3.create_multipart_upload(Bucket="media", Key="aborted")["UploadId"]
    s3.upload_part(Bucket="media", Key="aborted", UploadId=upload, PartNumber=1, Body=b"part of an abort")
    aws.save()
    store = aws.snapshots.objects

    def stored() -> set[bytes]:
        return {p.read_bytes()[:16] for p in store.files()}

    assert stored() == {BIG[:16], PART[:16], b"after", b"part of an abort"}  # "before" went at the save
    s3.delete_object(Bucket="media", Key="a.bin")
    s3.delete_object(Bucket="media", Key="b.bin")
    s3.abort_multipart_upload(Bucket="media", Key="aborted", UploadId=upload)
    assert aws.save()["freed_object_files"] == 2
    assert stored() == {BIG[:16], b"after"}  # the copy still refers to a.bin's file
    s3.delete_object(Bucket="media", Key="a-copy.bin")
    aws.save()
    assert stored() == {b"after"}


def test_a_sweep_keeps_what_is_written_or_read_while_it_runs(tmp_path):
    store = s3_objects.ObjectStore(tmp_path, durable=False)
    gone, again, read = (store.put_bytes(data) for data in (b"gone", b"stored again", b"being read"))
    sweep = store.begin_sweep(referenced=set())  # nothing refers to any of them when it begins
    _, pin = store.write([b"stored again"])  # an upload of the same bytes, its object not made yet
    body = store.body(read)  # a download that started before its object was deleted
    assert sweep.run() == (1, 4)
    assert not store.path(gone.segments[0][0]).exists()
    assert store.read(again) == b"stored again" and b"".join(body) == b"being read"
    pin.release()
    body.close()
    assert store.collect(referenced=set()) == (2, 22)


def test_a_joined_objects_crc32_comes_from_its_parts_without_reading_them(tmp_path):
    store = s3_objects.ObjectStore(tmp_path, durable=False)
    rng = random.Random(4)
    pieces = [rng.randbytes(rng.randrange(0, 70_000)) for _ in range(40)] + [b"", b"x"]
    joined = s3_objects.Blob(tuple(segment for piece in pieces for segment in store.put_bytes(piece).segments))
    for path in store.files():
        path.write_bytes(b"\0" * path.stat().st_size)  # the answer must not come from the files
    expected = binascii.crc32(b"".join(pieces)).to_bytes(4, "big")
    for algorithm in ("CRC32", "CRC64NVME"):  # CRC64NVME is moto's CRC32 without awscrt
        if s3_objects.Checksum(algorithm).is_crc32:
            assert s3_objects.checksum_of(joined, algorithm) == expected


def write_stock_snapshot(data_dir: Path, objects: dict[str, bytes]) -> None:
    """A data directory as the runtime wrote it before this patch (snapshot format 1, the bytes
    inside s3.pickle): stock moto's FakeKeys pickled, in a process without our patches."""
    script = textwrap.dedent(f"""
        import json, pickle, sys
        from pathlib import Path
        import boto3, moto
        from moto import mock_aws
        from moto.s3.models import s3_backends
        from cvat_serverless_tools.local import persistence
        persistence._install_pickle_shims()
        objects = pickle.loads(bytes.fromhex(sys.stdin.read()))
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="media")
            for key, body in objects.items():
                s3.put_object(Bucket="media", Key=key, Body=body)
            aws = Path({str(data_dir)!r}) / "aws"
            aws.mkdir(parents=True)
            (aws / "s3.pickle").write_bytes(pickle.dumps([dict(s3_backends)]))
            (aws / "snapshot.json").write_text(json.dumps({{"format": 1, "moto": moto.__version__,
                                                           "services": ["s3"]}}))
    """)
    subprocess.run([sys.executable, "-c", script], input=pickle.dumps(objects).hex(), text=True, check=True,
                   env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})


def test_a_data_dir_with_the_bytes_in_the_snapshot_is_converted_on_start(embedded, tmp_path):
    write_stock_snapshot(tmp_path / "data", {"big.bin": BIG, "small.txt": b"hello"})
    assert BIG[:4096] in (tmp_path / "data" / "aws" / "s3.pickle").read_bytes()

    aws = embedded()
    assert aws.snapshots.restore() == ["s3"]
    assert object_bytes(aws.s3, "media", "big.bin") == BIG
    assert object_bytes(aws.s3, "media", "small.txt", Range="bytes=1-") == b"ello"
    aws.save()
    assert BIG[:4096] not in (tmp_path / "data" / "aws" / "s3.pickle").read_bytes()
    assert json.loads((tmp_path / "data" / "aws" / "snapshot.json").read_text())["format"] == 2
    aws = aws.restart()
    assert object_bytes(aws.s3, "media", "big.bin") == BIG


@pytest.mark.slow  # 400 MB through the server and back: a few seconds
def test_a_large_upload_and_download_do_not_pass_through_memory(embedded):
    size = 200 * MiB
    aws = embedded()
    aws.s3.create_bucket(Bucket="media")
    block = random.Random(3).randbytes(MiB)
    url = aws.s3.generate_presigned_url("put_object", Params={"Bucket": "media", "Key": "large.bin"})
    sha256 = hashlib.sha256()
    tracemalloc.start()
    try:
        connection = http.client.HTTPConnection(aws.endpoint.removeprefix("http://"), timeout=120)
        connection.putrequest("PUT", url.removeprefix(aws.endpoint))
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        for i in range(size // MiB):
            chunk = block[i % 7:] + block[:i % 7]  # each MiB differs from the one before
            sha256.update(chunk)
            connection.send(chunk)
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        answer.read()
        connection.close()
        uploaded_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        got = hashlib.sha256()
        body = aws.s3.get_object(Bucket="media", Key="large.bin")["Body"]
        for chunk in body.iter_chunks(MiB):
            got.update(chunk)
        downloaded_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.hexdigest() == sha256.hexdigest()
    # moto alone would hold the object once (and bytes copies of it) on each way
    assert uploaded_peak < 32 * MiB, uploaded_peak
    assert downloaded_peak < 32 * MiB, downloaded_peak
