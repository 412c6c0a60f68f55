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
    assert service_of({}) == ""


def test_writer_waits_for_readers_and_blocks_new_ones():
    lock = ReadWriteLock()
    lock.acquire_read()
    events = []

    def writer():
        lock.acquire_write()
        events.append("write")
        time.sleep(0.05)
        lock.release_write()

    def late_reader():
        lock.acquire_read()
        events.append("late-read")
        lock.release_read()

    w = threading.Thread(target=writer)
    w.start()
    deadline = time.monotonic() + 2
    while not lock._writers_waiting and time.monotonic() < deadline:
        time.sleep(0.001)
    r = threading.Thread(target=late_reader)
    r.start()
    time.sleep(0.05)
    assert events == []  # the writer waits for the first reader; the late reader waits for the writer
    lock.release_read()
    w.join(2)
    r.join(2)
    assert events == ["write", "late-read"]


def test_requests_to_a_serialized_service_never_overlap():
    from cvat_serverless_tools.local.lambdas import FunctionRegistry
    from cvat_serverless_tools.local.middleware import AwsMiddleware

    active = {"now": 0, "max": 0}
    guard = threading.Lock()

    def moto_app(environ, start_response):
        with guard:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.01)
        with guard:
            active["now"] -= 1
        start_response("200 OK", [])
        return [b"{}"]

    middleware = AwsMiddleware(moto_app, FunctionRegistry())
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query",
               "HTTP_AUTHORIZATION": SCOPE.format("dynamodb")}
    threads = [threading.Thread(target=middleware, args=(dict(environ), lambda *a: None)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert active["max"] == 1


def test_request_bodies_are_received_before_any_lock_is_taken():
    import io

    from cvat_serverless_tools.local.lambdas import FunctionRegistry
    from cvat_serverless_tools.local.middleware import AwsMiddleware

    seen = {}

    def moto_app(environ, start_response):
        seen["body"] = environ["wsgi.input"].read()
        seen["seekable"] = environ["wsgi.input"].seekable()
        start_response("200 OK", [])
        return [b""]

    middleware = AwsMiddleware(moto_app, FunctionRegistry())
    reads_while_locked = []

    class SlowClient(io.BytesIO):
        def read(self, size=-1):
            reads_while_locked.append(middleware.serial["s3"].locked() or middleware.lock._readers > 0)
            return super().read(size)

    body = bytes(range(256)) * 20_000  # 5 MB, read in 1 MiB blocks
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/key", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": SlowClient(body), "HTTP_AUTHORIZATION": SCOPE.format("s3")}
    middleware(environ, lambda *a: None)
    assert seen == {"body": body, "seekable": True}
    assert reads_while_locked and not any(reads_while_locked)
