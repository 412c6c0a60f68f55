"""The AWS adapters on moto with the resources template.yaml declares (``stack``): the media bucket
(S3BlobStore, beside InMemoryBlobStore where both must behave alike; presigned URLs fetched
through a moto server on a loopback port), the workflow engine (StepFunctionsWorkflowStarter, and
InMemoryWorkflowStarter), the event bus and the schema record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.server import ThreadedMotoServer

from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws import s3 as s3_module
from cvat_serverless.adapters.aws.clients import client
from cvat_serverless.adapters.aws.dynamo import SCHEMA_VERSION, DynamoSchema
from cvat_serverless.adapters.aws.events import EventBridgePublisher
from cvat_serverless.adapters.aws.s3 import S3BlobStore
from cvat_serverless.adapters.aws.stepfunctions import StepFunctionsWorkflowStarter, execution_name
from cvat_serverless.adapters.content_disposition import attachment_disposition
from cvat_serverless.domain.errors import (
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    ValidationError,
)
from cvat_serverless.ports import BlobStore

MIB = 1024 * 1024


def test_blob_store_round_trip_range_and_missing(stack):
    blobs = S3BlobStore(stack.outputs["MediaBucketName"])
    blobs.put("a/b.bin", bytes(range(256)), content_type="application/octet-stream")
    assert blobs.get("a/b.bin") == bytes(range(256))
    assert blobs.get_range("a/b.bin", 10, 19) == bytes(range(10, 20))
    head = blobs.head("a/b.bin")
    assert head["size"] == 256 and head["content_type"] == "application/octet-stream" and head["etag"]
    with pytest.raises(NotFoundError):
        blobs.get("nope")
    with pytest.raises(NotFoundError):
        blobs.head("nope")


def test_schema_version_is_recorded_once_and_a_newer_table_is_refused(stack):
    schema = DynamoSchema(stack.outputs["DataTableName"])
    assert schema.version() is None
    assert schema.ensure() == SCHEMA_VERSION
    assert schema.ensure() == SCHEMA_VERSION
    table = boto3.resource("dynamodb").Table(stack.outputs["DataTableName"])
    table.update_item(Key={"pk": "META", "sk": "SCHEMA"}, UpdateExpression="SET #d.#v = :v",
                      ExpressionAttributeNames={"#d": "data", "#v": "version"},
                      ExpressionAttributeValues={":v": SCHEMA_VERSION + 1})
    with pytest.raises(ConflictError, match="newer"):
        schema.ensure()


def test_events_reach_the_consumers_queue_through_the_rule(stack):
    EventBridgePublisher(stack.outputs["EventBusName"]).publish("create:task", {"id": 1, "request_id": "r-1"})
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.outputs["DomainEventsQueueUrl"].rsplit("/", 1)[1])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "create:task"
    assert event["source"] == "cvat-serverless"
    assert event["detail"] == {"id": 1, "request_id": "r-1"}


def test_workflow_start_is_idempotent_by_name(stack):
    arn = stack.outputs["TaskDataStateMachineArn"]
    starter = StepFunctionsWorkflowStarter({"task-data": arn})
    first = starter.start("task-data", "uploads/a b.mp4-seq1", {"key": "uploads/a b.mp4"})
    again = starter.start("task-data", "uploads/a b.mp4-seq1", {"key": "uploads/a b.mp4"})
    assert first == again
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1


def test_execution_names_are_valid_and_stable():
    assert execution_name("uploads/a b.mp4") == "uploads-a-b-mp4"
    long = execution_name("x" * 200)
    assert len(long) <= 80 and long == execution_name("x" * 200)
    assert execution_name("x" * 200) != execution_name("x" * 199 + "y")


def test_blob_store_lists_one_folder_level_like_the_in_memory_fake(stack):
    from cvat_serverless.adapters.memory import InMemoryBlobStore

    s3_store, fake = S3BlobStore(stack.outputs["MediaBucketName"]), InMemoryBlobStore()
    for store in (s3_store, fake):
        for key in ("share/a.jpg", "share/sub/b.jpg", "share/sub/deeper/c.jpg", "share/z.mp4", "other/x"):
            store.put(key, b"1")
    for prefix in ("share/", "share/sub/", "share/missing/"):
        assert s3_store.list_dir(prefix) == fake.list_dir(prefix), prefix
    assert s3_store.list_dir("share/") == (["sub"], ["a.jpg", "z.mp4"])


# --------------------------------------------------------------------------- the media bucket

CONTENT_DISPOSITIONS = [
    ("a.zip", 'attachment; filename="a.zip"'),
    ("résumé.pdf", "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
    ("视频 1.mp4", "attachment; filename=\"__ 1.mp4\"; filename*=UTF-8''%E8%A7%86%E9%A2%91%201.mp4"),
    ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
    ("x\r\nSet-Cookie: y.txt", 'attachment; filename="xSet-Cookie: y.txt"'),
    ("", 'attachment; filename="download"'),
]


@pytest.mark.parametrize(("name", "header"), CONTENT_DISPOSITIONS)
def test_content_disposition_is_one_ascii_line_that_keeps_the_name(name: str, header: str) -> None:
    assert attachment_disposition(name) == header
    assert header.isascii()


@pytest.fixture(params=["memory", "s3"])
def blobs(request: pytest.FixtureRequest) -> BlobStore:
    """The media bucket of one backend: the fake, or S3BlobStore on the stack's bucket (moto)."""
    if request.param == "memory":
        return mem.InMemoryBlobStore()
    return S3BlobStore(request.getfixturevalue("stack").outputs["MediaBucketName"])


def test_list_keys_is_recursive_and_in_key_order(blobs: BlobStore) -> None:
    keys = ["p/b", "p/a/z", "p/a/y/x", "p/é", "p/Z", "p/a-", "p/", "q/a", "pp/a"]
    for i, key in enumerate(keys):
        blobs.put(key, b"x" * i)
    assert list(blobs.list_keys("p/")) == [
        ("p/", 6), ("p/Z", 4), ("p/a-", 5), ("p/a/y/x", 2), ("p/a/z", 1), ("p/b", 0), ("p/é", 3)]
    assert list(blobs.list_keys("nothing/")) == []


def test_create_writes_only_an_object_that_does_not_exist(blobs: BlobStore) -> None:
    blobs.create("index/1.json", b"first", content_type="application/json")
    with pytest.raises(ConflictError):
        blobs.create("index/1.json", b"second")
    assert blobs.get("index/1.json") == b"first"
    blobs.delete("index/1.json")
    blobs.create("index/1.json", b"third")
    assert blobs.get("index/1.json") == b"third"


def test_delete_is_quiet_and_delete_prefix_deletes_more_than_one_batch(blobs: BlobStore) -> None:
    blobs.put("keep/a", b"1")
    blobs.put("tasks/1/x", b"1")
    blobs.delete("tasks/1/x")
    blobs.delete("tasks/1/x")  # gone already: no error
    for i in range(1003):
        blobs.put(f"many/{i:04d}", b"1")
    blobs.delete_many([*(f"many/{i:04d}" for i in range(1002)), "many/none"])  # two requests, one missing
    assert list(blobs.list_keys("many/")) == [("many/1002", 1)]
    with pytest.raises(NotFoundError):
        blobs.get("tasks/1/x")
    for i in range(1234):  # two DeleteObjects batches
        blobs.put(f"tasks/1/data/{i:05d}.jpg", b"")
    blobs.put("tasks/10/a", b"1")  # shares the characters of the prefix, not the folder
    assert blobs.delete_prefix("tasks/1/") == 1234
    assert list(blobs.list_keys("tasks/")) == [("tasks/10/a", 1)]
    assert blobs.delete_prefix("tasks/1/") == 0
    assert blobs.get("keep/a") == b"1"


def test_a_big_file_goes_up_and_down_in_parts(blobs: BlobStore, tmp_path: Any) -> None:
    data = os.urandom(70 * MIB)
    source, target = tmp_path / "in.bin", tmp_path / "out.bin"
    source.write_bytes(data)
    blobs.upload(str(source), "big/video.mp4", content_type="video/mp4")
    head = blobs.head("big/video.mp4")
    assert (head["size"], head["content_type"]) == (len(data), "video/mp4")
    if isinstance(blobs, S3BlobStore):  # a multipart object's ETag counts its parts: 70 MiB / 16 MiB
        assert head["etag"].endswith("-5")
    blobs.download("big/video.mp4", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
    with pytest.raises(NotFoundError):
        blobs.download("big/missing.mp4", str(tmp_path / "missing"))


def test_copy_is_a_full_copy(blobs: BlobStore) -> None:
    blobs.put("a/src.jpg", b"\xff\xd8 image", content_type="image/jpeg")
    blobs.copy("a/src.jpg", "b/dst.jpg")
    blobs.put("a/src.jpg", b"changed")
    assert blobs.get("b/dst.jpg") == b"\xff\xd8 image"
    assert blobs.head("b/dst.jpg")["content_type"] == "image/jpeg"
    with pytest.raises(NotFoundError):
        blobs.copy("a/missing.jpg", "b/x.jpg")


def test_an_object_over_the_copy_limit_is_copied_in_parts(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "MAX_COPY_OBJECT", 6 * MIB)
    monkeypatch.setattr(s3_module, "MULTIPART_THRESHOLD", 6 * MIB)
    monkeypatch.setattr(s3_module, "MULTIPART_CHUNK", 5 * MIB)
    blobs = S3BlobStore(stack.outputs["MediaBucketName"])
    data = os.urandom(11 * MIB)
    blobs.put("a/big.mp4", data, content_type="video/mp4")
    blobs.copy("a/big.mp4", "b/big.mp4")
    head = blobs.head("b/big.mp4")
    assert (head["content_type"], head["etag"][-2:]) == ("video/mp4", "-3")
    assert blobs.get("b/big.mp4") == data


def test_a_multipart_upload_can_be_aborted_twice(blobs: BlobStore) -> None:
    upload_id = blobs.start_multipart("up/a.bin")
    blobs.abort_multipart("up/a.bin", upload_id)
    blobs.abort_multipart("up/a.bin", upload_id)  # S3 answers NoSuchUpload: nothing left to do
    with pytest.raises(ValidationError):
        blobs.presigned_part("up/a.bin", upload_id, 0)
    if isinstance(blobs, mem.InMemoryBlobStore):  # moto 5.2.5 fails with a KeyError where S3
        with pytest.raises(NotFoundError):        # answers NoSuchUpload (the test below maps it)
            blobs.complete_multipart("up/a.bin", upload_id, [(1, "etag")])


@pytest.mark.parametrize(("operation", "code", "error"), [
    ("complete_multipart_upload", "NoSuchUpload", NotFoundError),
    ("complete_multipart_upload", "InvalidPart", ValidationError),
    ("complete_multipart_upload", "InvalidPartOrder", ValidationError),
    ("complete_multipart_upload", "EntityTooSmall", ValidationError),
    ("complete_multipart_upload", "SlowDown", DependencyUnavailableError),
    ("abort_multipart_upload", "NoSuchUpload", None),
    ("abort_multipart_upload", "NoSuchBucket", NotFoundError),
    ("delete_objects", "", DependencyUnavailableError),  # a 200 that lists keys it could not delete
])
def test_s3_answers_map_to_the_error_tree(stack: Any, operation: str, code: str, error: type[Exception] | None) -> None:
    blobs = S3BlobStore(stack.outputs["MediaBucketName"])
    blobs.put("k/a", b"1")
    calls: dict[str, Callable[[], Any]] = {
        "complete_multipart_upload": lambda: blobs.complete_multipart("k/a", "id", [(1, "e")]),
        "abort_multipart_upload": lambda: blobs.abort_multipart("k/a", "id"),
        "delete_objects": lambda: blobs.delete_prefix("k/"),
    }
    with Stubber(client("s3")) as stub:
        if operation == "delete_objects":
            stub.add_response("list_objects_v2", {"Contents": [{"Key": "k/a", "Size": 1}], "IsTruncated": False})
            stub.add_response("delete_objects", {"Errors": [{"Key": "k/a", "Code": "SlowDown", "Message": "busy"}]})
        else:
            stub.add_client_error(operation, code)
        if error is None:
            calls[operation]()
        else:
            with pytest.raises(error):
                calls[operation]()


# --------------------------------------------------------------------------- presigned URLs, fetched


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server on a loopback port, as the embedded runtime serves S3: its endpoint."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


Fetch = Callable[[str], tuple[bytes, dict[str, str]]]
Put = Callable[[str, bytes, str], str]


@dataclasses.dataclass
class Bucket:
    """A blob store and a credential-less HTTP client of its URLs (header names in lower case)."""

    store: BlobStore
    get: Fetch
    put: Put


def _http(url: str, method: str = "GET", body: bytes | None = None, content_type: str = "") -> Any:
    # urllib would label a body as a form, which moto's server then parses as one
    headers = {"Content-Type": content_type or "application/octet-stream"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    return urllib.request.urlopen(request, timeout=30)


def _http_get(url: str) -> tuple[bytes, dict[str, str]]:
    with _http(url) as answer:
        return answer.read(), {k.lower(): v for k, v in answer.headers.items()}


def _http_put(url: str, body: bytes, content_type: str) -> str:
    with _http(url, "PUT", body, content_type) as answer:
        return str(answer.headers["ETag"])


@pytest.fixture(params=["memory", "s3"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    if request.param == "memory":
        store = mem.InMemoryBlobStore()
        def get(url: str) -> tuple[bytes, dict[str, str]]:
            body, headers = store.http_get(url)
            return body, {k.lower(): v for k, v in headers.items()}

        yield Bucket(store, get, lambda url, body, content_type: store.http_put(
            url, body, content_type=content_type))
        return
    endpoint = request.getfixturevalue("moto_server")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    client.cache_clear()
    name = f"media-{os.urandom(4).hex()}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    yield Bucket(S3BlobStore(name), _http_get, _http_put)
    client.cache_clear()


def test_a_presigned_get_is_on_the_storage_origin_and_names_the_download(bucket: Bucket) -> None:
    bucket.store.put("tasks/1/export.zip", b"PK zip", content_type="application/zip")
    url = bucket.store.presigned_get("tasks/1/export.zip", expires=600, filename="Задача 1.zip",
                                     content_type="application/x-zip")
    body, headers = bucket.get(url)
    assert body == b"PK zip"
    assert headers["content-disposition"] == (
        "attachment; filename=\"______ 1.zip\"; filename*=UTF-8''%D0%97%D0%B0%D0%B4%D0%B0%D1%87%D0%B0%201.zip")
    assert headers["content-type"] == "application/x-zip"
    plain_body, plain_headers = bucket.get(bucket.store.presigned_get("tasks/1/export.zip"))
    assert plain_body == b"PK zip" and "content-disposition" not in plain_headers
    assert plain_headers["content-type"] == "application/zip"
    if isinstance(bucket.store, S3BlobStore):
        parts, endpoint = urlsplit(url), urlsplit(os.environ["AWS_ENDPOINT_URL"])
        assert (parts.scheme, parts.netloc) == (endpoint.scheme, endpoint.netloc)  # the storage's port
        assert parts.path == f"/{bucket.store.bucket}/tasks/1/export.zip"
        query = parse_qs(parts.query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["600"]
        assert query["X-Amz-Credential"][0].split("/")[2] == "us-east-1"


def test_a_presigned_put_writes_the_object(bucket: Bucket) -> None:
    url = bucket.store.presigned_put("staging/tasks/1/files/a.png", content_type="image/png")
    etag = bucket.put(url, b"\x89PNG data", "image/png")
    assert bucket.store.get("staging/tasks/1/files/a.png") == b"\x89PNG data"
    head = bucket.store.head("staging/tasks/1/files/a.png")
    assert head["content_type"] == "image/png" and head["etag"] == etag.strip('"')


def test_a_multipart_upload_through_presigned_part_urls(bucket: Bucket) -> None:
    key = "staging/tasks/1/files/video.mp4"
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    upload_id = bucket.store.start_multipart(key, content_type="video/mp4")
    etags = [bucket.put(bucket.store.presigned_part(key, upload_id, n), data, "")
             for n, data in enumerate(parts, start=1)]
    with pytest.raises(ValidationError):  # parts out of order
        bucket.store.complete_multipart(key, upload_id, [(2, etags[1]), (1, etags[0])])
    bucket.store.complete_multipart(key, upload_id, [(n, e.strip('"')) for n, e in enumerate(etags, start=1)])
    assert bucket.store.get(key) == b"".join(parts)
    assert bucket.store.head(key)["content_type"] == "video/mp4"


def test_a_small_part_before_the_last_is_refused(bucket: Bucket) -> None:
    key = "staging/tasks/1/files/small.bin"
    upload_id = bucket.store.start_multipart(key)
    etags = [bucket.put(bucket.store.presigned_part(key, upload_id, n), b"x" * 10, "") for n in (1, 2)]
    with pytest.raises(ValidationError):
        bucket.store.complete_multipart(key, upload_id, list(enumerate(etags, start=1)))
    bucket.store.abort_multipart(key, upload_id)


@pytest.mark.parametrize(("bucket_name", "region", "origin", "path"), [
    ("cvat-media-1a2b", "us-east-1", "cvat-media-1a2b.s3.us-east-1.amazonaws.com", "/k/a%20b.jpg"),
    ("cvat-media-1a2b", "eu-west-3", "cvat-media-1a2b.s3.eu-west-3.amazonaws.com", "/k/a%20b.jpg"),
    ("media.example.com", "eu-west-3", "s3.eu-west-3.amazonaws.com", "/media.example.com/k/a%20b.jpg"),
])
def test_presigned_urls_on_aws_are_sigv4_on_the_buckets_regional_endpoint(
        monkeypatch: pytest.MonkeyPatch, bucket_name: str, region: str, origin: str, path: str) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    url = S3BlobStore(bucket_name, region=region).presigned_put("k/a b.jpg", content_type="image/jpeg")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", origin, path)
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].split("/")[2:4] == [region, "s3"]
    assert query["X-Amz-SignedHeaders"] == ["content-type;host"]  # the client must send that type


def test_the_fake_refuses_urls_it_did_not_sign_and_other_content_types() -> None:
    store = mem.InMemoryBlobStore()
    url = store.presigned_put("a.png", content_type="image/png")
    with pytest.raises(Exception, match="Content-Type"):
        store.http_put(url, b"x", content_type="text/plain")
    with pytest.raises(Exception, match="not a URL this store signed"):
        store.http_get(url)  # a PUT URL
    with pytest.raises(Exception, match="not a URL this store signed"):
        store.http_put(url.replace("a.png", "b.png"), b"x", content_type="image/png")


# --------------------------------------------------------------------------- workflows


def test_describe_of_a_started_and_an_unknown_execution(stack: Any) -> None:
    starter = StepFunctionsWorkflowStarter({"task-data": stack.outputs["TaskDataStateMachineArn"]})
    starter.start("task-data", "create:task-1-ab", {"task": 1})
    run = starter.describe("task-data", "create:task-1-ab")  # the name is cleaned alike
    assert run is not None and (run.status, run.error, run.cause) == ("RUNNING", "", "")
    assert starter.describe("task-data", "create:task-1-never") is None
    with pytest.raises(ValidationError):
        starter.describe("nope", "x")


@pytest.fixture
def running_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Step Functions that runs state machines, as the embedded runtime configures it."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client.cache_clear()
        yield boto3.client("stepfunctions")
        client.cache_clear()


def _state_machine(sfn: Any, name: str, state: dict[str, Any]) -> str:
    definition = {"StartAt": "Only", "States": {"Only": state}}
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                        roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"])


def _ended(starter: StepFunctionsWorkflowStarter, workflow: str, name: str) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = starter.describe(workflow, name)
        if run is not None and run.status != "RUNNING":
            return run
        time.sleep(0.05)  # polling the engine, with a deadline
    raise AssertionError(f"{name} still running")


def test_describe_of_finished_executions(running_engine: Any) -> None:
    starter = StepFunctionsWorkflowStarter({
        "ok": _state_machine(running_engine, "ok", {"Type": "Pass", "End": True}),
        "bad": _state_machine(running_engine, "bad", {"Type": "Fail", "Error": "MediaError",
                                                      "Cause": "The video has no frames."}),
    })
    starter.start("ok", "run-1", {})
    starter.start("bad", "run-1", {})
    ok, bad = _ended(starter, "ok", "run-1"), _ended(starter, "bad", "run-1")
    assert (ok.status, ok.error, ok.cause) == ("SUCCEEDED", "", "")
    assert (bad.status, bad.error, bad.cause) == ("FAILED", "MediaError", "The video has no frames.")
    assert starter.start("ok", "run-1", {}) == starter.execution_arn("ok", "run-1")  # ended: still idempotent


def test_the_in_memory_workflow_starter() -> None:
    workflows = mem.InMemoryWorkflowStarter()
    first = workflows.start("task-data", "create:task-1-a", {"task": 1})
    assert workflows.start("task-data", "create:task-1-a", {"task": 1}) == first
    assert workflows.started == [("task-data", "create:task-1-a", {"task": 1})]
    run = workflows.describe("task-data", "create:task-1-a")
    assert run is not None and run.status == "RUNNING"
    workflows.end("task-data", "create:task-1-a", "FAILED", error="MediaError", cause="no frames")
    run = workflows.describe("task-data", "create:task-1-a")
    assert run is not None and (run.status, run.error, run.cause) == ("FAILED", "MediaError", "no frames")
    assert workflows.describe("task-data", "other") is None
    workflows.runs.clear()  # the engine lost it (the embedded runtime restarted)
    assert workflows.describe("task-data", "create:task-1-a") is None
