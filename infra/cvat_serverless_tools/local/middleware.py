"""A WSGI middleware in front of moto's server.

- ``POST /2015-03-31/functions/{name}/invocations`` (Lambda Invoke, used by the Step Functions
  interpreter and by boto3 clients) runs the template's handler in-process.
- ``POST /endpoints/{name}/invocations`` (SageMaker runtime) goes to a registered local model.
- Every other request goes to moto; requests that change state mark their service dirty for the
  snapshot writer, and hold a shared lock so a snapshot never sees a half-applied request (SQS
  long polls hold one of their own, which only a snapshot of SQS waits for: RequestLocks).
- S3 object bodies go to and come from files (s3_objects.py): an upload is stored before the
  request takes a lock, and an object's bytes stream to the client after it released them.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from . import s3_objects
from .lambdas import FunctionRegistry

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ModelHandler = Callable[[bytes, str], tuple[bytes, str]]  # (body, content type) -> (body, content type)

_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
_SAGEMAKER_INVOKE = re.compile(r"^/endpoints/([^/]+)/invocations$")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_READ_TARGETS = re.compile(
    r"\.(Get|Describe|List|Query|Scan|BatchGet|ReceiveMessage|TestEventPattern)[A-Za-z]*$"
)


SERIALIZED_SERVICES = ("dynamodb", "s3", "events", "states")
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # request bodies above this wait on disk until moto reads them


class ReadWriteLock:
    """Many readers (requests) or one writer (the snapshot); a waiting writer blocks new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class RequestLocks:
    """What a snapshot waits for: the requests in flight. Every request reads ``requests``, but an
    SQS ReceiveMessage reads ``receives``: it may wait inside moto for messages (the runtime's own
    pollers wait 1 s at a time, clients up to 20 s) and it changes SQS state only. So only a
    snapshot that saves SQS waits for it, and no snapshot holds every other request back (a
    waiting writer blocks new readers) for as long as a long poll lasts."""

    def __init__(self) -> None:
        self.requests = ReadWriteLock()
        self.receives = ReadWriteLock()

    def acquire_write(self, services: Collection[str]) -> None:
        if "sqs" in services:
            self.receives.acquire_write()  # first: the other requests go on while the polls end
        self.requests.acquire_write()

    def release_write(self, services: Collection[str]) -> None:
        self.requests.release_write()
        if "sqs" in services:
            self.receives.release_write()

    def for_request(self, environ: dict[str, Any], service: str) -> ReadWriteLock:
        return self.receives if is_sqs_receive(environ, service) else self.requests


def is_sqs_receive(environ: dict[str, Any], service: str) -> bool:
    """An SQS ReceiveMessage in the JSON protocol, or the query protocol's with its Action in the
    URL (one with the Action in a form body counts as any other request: a snapshot waits)."""
    if service != "sqs":
        return False
    if environ.get("HTTP_X_AMZ_TARGET", "") == "AmazonSQS.ReceiveMessage":
        return True
    return parse_qs(environ.get("QUERY_STRING", "")).get("Action") == ["ReceiveMessage"]


class DirtyTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dirty: set[str] = set()

    def mark(self, service: str) -> None:
        with self._lock:
            self._dirty.add(service)

    def take(self) -> set[str]:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            return dirty


def service_of(environ: dict[str, Any]) -> str:
    """The AWS service a request is for, from its SigV4 credential scope (header or presigned);
    "s3" for a SigV2 signature."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _SCOPE.search(auth)
    if match:
        return match.group(1)
    query = unquote(environ.get("QUERY_STRING", ""))
    match = re.search(r"X-Amz-Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request", query)
    if match:
        return match.group(1)
    # SigV2 (``Authorization: AWS key:signature``, or a URL that boto3 presigns without a
    # signature_version): only S3 still takes it
    if auth.startswith("AWS ") or {"AWSAccessKeyId", "Signature"} <= parse_qs(environ.get("QUERY_STRING", "")).keys():
        return "s3"
    return ""


def changes_state(environ: dict[str, Any]) -> bool:
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return not _READ_TARGETS.search(target)
    if method == "POST":
        # Query-protocol services (SQS JSON protocol uses X-Amz-Target; older SQS/STS use Action=)
        query = environ.get("QUERY_STRING", "")
        return not re.search(r"Action=(Get|Describe|List|Receive)", query)
    return True


class AwsMiddleware:
    def __init__(self, moto_app: WsgiApp, functions: FunctionRegistry) -> None:
        self.moto_app = moto_app
        self.functions = functions
        self.models: dict[str, ModelHandler] = {}
        self.lock = RequestLocks()
        self.dirty = DirtyTracker()
        # moto's DynamoDB, S3, EventBridge and Step Functions backends are not thread-safe (a query
        # iterating a table while another request writes it fails), while the real services make
        # each request atomic. One request at a time per such service gives the same guarantee.
        # SQS is left concurrent: its long polls wait inside moto, and moto locks its queues.
        self.serial = {name: threading.Lock() for name in SERIALIZED_SERVICES}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST":
            match = _LAMBDA_INVOKE.match(path)
            if match:
                function = self.functions.find(unquote(match.group(1)))
                if function is not None:
                    return self._invoke_lambda(function, environ, start_response)
            match = _SAGEMAKER_INVOKE.match(path)
            if match and match.group(1) in self.models:
                return self._invoke_model(match.group(1), environ, start_response)
        service = service_of(environ)
        # Receive the whole body first: a large upload must not hold the service's lock (or keep
        # a snapshot, and with it every other request, waiting) for as long as the client sends.
        # An S3 object's body goes straight to its file in the object store.
        uploaded = s3_objects.receive_upload(environ, service)
        if uploaded is None:
            self._spool_body(environ)
        lock = self.lock.for_request(environ, service)
        lock.acquire_read()
        try:
            serial = self.serial.get(service)
            with serial if serial is not None else contextlib.nullcontext():
                return self._answer(environ, start_response)
        finally:
            # Marked only once the change is applied, still under the read lock: a snapshot that
            # takes this mark waits for the write lock, so it always sees the change.
            if service and changes_state(environ):
                self.dirty.mark(service)
            lock.release_read()
            if uploaded is not None:
                uploaded.release()

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self.moto_app(environ, start_response)
        if environ.get(s3_objects.STREAMING):
            # An object's bytes, read from its (pinned, immutable) files while the client takes
            # them, after the locks are released.
            return answer
        # Anything else is materialised inside the lock: moto builds it from live state.
        return list(answer)

    @staticmethod
    def _spool_body(environ: dict[str, Any]) -> None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length <= 0:
            return
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - moto reads it
        source = environ["wsgi.input"]
        remaining = length
        while remaining > 0:
            block = source.read(min(remaining, 1 << 20))
            if not block:
                break
            spooled.write(block)
            remaining -= len(block)
        spooled.seek(0)
        environ["wsgi.input"] = spooled

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return environ["wsgi.input"].read(length) if length else b""

    def _invoke_lambda(self, function: Any, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = self._body(environ)
        event = json.loads(raw) if raw.strip() else {}
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if invocation_type == "DryRun":
            start_response("204 No Content", [])
            return [b""]
        if invocation_type == "Event":
            threading.Thread(target=function.invoke, args=(event,), daemon=True,
                             name=f"lambda-event-{function.name}").start()
            start_response("202 Accepted", [("Content-Length", "0")])
            return [b""]
        result = function.invoke(event)
        body = json.dumps(result.payload, default=str).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("X-Amz-Executed-Version", "$LATEST"), ("x-amzn-RequestId", result.request_id)]
        if not result.ok:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        start_response("200 OK", headers)
        return [body]

    def _invoke_model(self, name: str, environ: dict[str, Any],
                      start_response: Callable[..., Any]) -> Iterable[bytes]:
        body, content_type = self.models[name](self._body(environ), environ.get("CONTENT_TYPE", ""))
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
