import threading
import time

import pytest

from cvat_serverless_tools.local.middleware import ReadWriteLock, changes_state, service_of

SCOPE = "AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=x"


@pytest.mark.parametrize(
    ("method", "target", "query", "changes"),
    [
        ("GET", "", "", False),
        ("HEAD", "", "", False),
        ("PUT", "", "", True),
        ("DELETE", "", "", True),
        ("POST", "DynamoDB_20120810.PutItem", "", True),
        ("POST", "DynamoDB_20120810.GetItem", "", False),
        ("POST", "DynamoDB_20120810.Query", "", False),
        ("POST", "DynamoDB_20120810.TransactWriteItems", "", True),
        ("POST", "AmazonSQS.ReceiveMessage", "", False),
        ("POST", "AmazonSQS.DeleteMessageBatch", "", True),
        ("POST", "AWSStepFunctions.DescribeExecution", "", False),
        ("POST", "AWSStepFunctions.StartExecution", "", True),
        ("POST", "", "Action=GetCallerIdentity", False),
        ("POST", "", "uploads", True),
    ],
)
def test_which_requests_change_state(method, target, query, changes):
    environ = {"REQUEST_METHOD": method, "HTTP_X_AMZ_TARGET": target, "QUERY_STRING": query}
    assert changes_state(environ) is changes


def test_service_from_header_or_presigned_query():
    assert service_of({"HTTP_AUTHORIZATION": SCOPE.format("dynamodb")}) == "dynamodb"
    presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20261126%2Fus-east-1%2Fs3%2Faws4_request"
    assert service_of({"QUERY_STRING": presigned}) == "s3"
    # SigV2, which only S3 takes: a header, or a URL boto3 presigns without a signature_version
    assert service_of({"HTTP_AUTHORIZATION": "AWS testing:c2lnbmF0dXJl"}) == "s3"
    assert service_of({"QUERY_STRING": "uploadId=u&AWSAccessKeyId=testing&Signature=x%3D&Expires=1"}) == "s3"
    assert service_of({"QUERY_STRING": "AWSAccessKeyId=testing"}) == ""
    assert service_of({}) == ""


def wait_until(condition, what: str, timeout: float = 5) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout} s, {what} did not happen")
        time.sleep(0.001)  # the poll interval; the deadline bounds the wait


class ObservedCondition(threading.Condition):
    """A Condition that knows which threads are waiting on it: "blocked" without guessing a delay."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: set[str] = set()

    def wait(self, timeout: float | None = None) -> bool:
        name = threading.current_thread().name
        self.waiting.add(name)
        try:
            return super().wait(timeout)
        finally:
            self.waiting.discard(name)


def test_writer_waits_for_readers_and_blocks_new_ones():
    lock = ReadWriteLock()
    lock._cond = cond = ObservedCondition()
    lock.acquire_read()
    events = []
    writing, done_writing = threading.Event(), threading.Event()

    def writer():
        lock.acquire_write()
        events.append("write")
        writing.set()
        done_writing.wait(5)  # hold the write lock until the test has looked at the late reader
        lock.release_write()

    def late_reader():
        lock.acquire_read()
        events.append("late-read")
        lock.release_read()

    w = threading.Thread(target=writer, name="writer", daemon=True)
    w.start()
    wait_until(lambda: "writer" in cond.waiting, "the writer waiting for the first reader")
    r = threading.Thread(target=late_reader, name="late-reader", daemon=True)
    r.start()
    wait_until(lambda: "late-reader" in cond.waiting or events, "the late reader reaching the lock")
    assert events == []  # the writer waits for the first reader; the late reader waits for the writer
    lock.release_read()
    assert writing.wait(5), "the writer did not get the lock once the last reader left"
    with cond:  # the late reader only changes ``waiting`` while it holds this lock
        assert "late-reader" in cond.waiting and events == ["write"]  # no reader while a writer holds it
    done_writing.set()
    w.join(5)
    r.join(5)
    assert not w.is_alive() and not r.is_alive()
    assert events == ["write", "late-read"]


class ObservedLock:
    """A Lock that counts the requests that have reached it (entered or queued)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self.arrived = 0

    def __enter__(self) -> None:
        with self._count:
            self.arrived += 1
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_requests_to_a_serialized_service_never_overlap():
    from cvat_serverless_tools.local.lambdas import FunctionRegistry
    from cvat_serverless_tools.local.middleware import AwsMiddleware

    active = {"now": 0, "max": 0, "done": 0}
    guard = threading.Lock()
    release = threading.Event()

    def moto_app(environ, start_response):
        with guard:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        release.wait(5)  # the first request stays inside until every other one has queued
        with guard:
            active["now"] -= 1
            active["done"] += 1
        start_response("200 OK", [])
        return [b"{}"]

    middleware = AwsMiddleware(moto_app, FunctionRegistry())
    middleware.serial["dynamodb"] = serial = ObservedLock()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query",
               "HTTP_AUTHORIZATION": SCOPE.format("dynamodb")}
    threads = [threading.Thread(target=middleware, args=(dict(environ), lambda *a: None), daemon=True)
               for _ in range(8)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: serial.arrived == 8 or active["max"] > 1, "all 8 requests reaching the DynamoDB lock")
        assert active == {"now": 1, "max": 1, "done": 0}  # one inside, seven queued behind it
    finally:
        release.set()
    for t in threads:
        t.join(5)
    assert active == {"now": 0, "max": 1, "done": 8}


@pytest.mark.parametrize(
    ("path", "query", "stored"),
    [
        ("/bucket/key", "", True),  # PutObject: the body goes to the S3 object store (s3_objects.py)
        ("/bucket/key", "uploadId=u&partNumber=1", True),  # UploadPart, the same
        ("/bucket/key", "tagging", False),  # any other request: spooled, moto reads it
    ],
)
def test_request_bodies_are_received_before_any_lock_is_taken(path, query, stored):
    import io

    from cvat_serverless_tools.local import s3_objects
    from cvat_serverless_tools.local.lambdas import FunctionRegistry
    from cvat_serverless_tools.local.middleware import AwsMiddleware

    seen = {}

    def moto_app(environ, start_response):
        uploaded = environ.get(s3_objects.UPLOADED)
        seen["stored"] = None if uploaded is None else s3_objects.store().read(uploaded)
        seen["body"] = environ["wsgi.input"].read()
        seen["seekable"] = environ["wsgi.input"].seekable()
        start_response("200 OK", [])
        return [b""]

    middleware = AwsMiddleware(moto_app, FunctionRegistry())
    reads_while_locked = []

    class SlowClient(io.BytesIO):
        def read(self, size=-1):
            reads_while_locked.append(middleware.serial["s3"].locked() or middleware.lock.requests._readers > 0)
            return super().read(size)

    body = bytes(range(256)) * 20_000  # 5 MB, read in 1 MiB blocks
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": path, "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": SlowClient(body), "HTTP_AUTHORIZATION": SCOPE.format("s3")}
    middleware(environ, lambda *a: None)
    if stored:  # moto gets the stored object (s3_objects patches its S3Response to take it), no bytes
        assert seen == {"stored": body, "body": b"", "seekable": True}
    else:
        assert seen == {"stored": None, "body": body, "seekable": True}
    assert reads_while_locked and not any(reads_while_locked)


def test_only_a_snapshot_of_sqs_waits_for_a_long_poll():
    from cvat_serverless_tools.local.lambdas import FunctionRegistry
    from cvat_serverless_tools.local.middleware import AwsMiddleware

    polling, answer = threading.Event(), threading.Event()

    def moto_app(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage":
            polling.set()
            answer.wait(5)  # a long poll, waiting inside moto for a message
        start_response("200 OK", [])
        return [b"{}"]

    middleware = AwsMiddleware(moto_app, FunctionRegistry())
    receive = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage",
               "HTTP_AUTHORIZATION": SCOPE.format("sqs")}
    poll = threading.Thread(target=middleware, args=(receive, lambda *a: None), daemon=True)
    poll.start()
    try:
        wait_until(polling.is_set, "the long poll reaching moto")
        saved = []
        snapshot = threading.Thread(target=lambda: (middleware.lock.acquire_write({"s3", "dynamodb"}),
                                                    saved.append("s3"),
                                                    middleware.lock.release_write({"s3", "dynamodb"})))
        snapshot.start()
        snapshot.join(5)
        assert saved == ["s3"]  # while the poll still waits
        sqs_snapshot = threading.Thread(target=lambda: (middleware.lock.acquire_write({"sqs"}), saved.append("sqs"),
                                                        middleware.lock.release_write({"sqs"})), daemon=True)
        sqs_snapshot.start()
        wait_until(lambda: middleware.lock.receives._writers_waiting == 1, "the SQS snapshot waiting")
        assert saved == ["s3"]
    finally:
        answer.set()
    sqs_snapshot.join(5)
    poll.join(5)
    assert saved == ["s3", "sqs"]
