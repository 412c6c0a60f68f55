"""A WSGI middleware in front of moto's server.

- ``POST /2015-03-31/functions/{name}/invocations`` (Lambda Invoke, used by the Step Functions
  interpreter and by boto3 clients) runs the template's handler in-process.
- ``POST /endpoints/{name}/invocations`` and ``.../async-invocations`` (SageMaker runtime) go to a
  registered local model (register_model), answered as SageMaker answers: the model's ValueError is
  a ModelError, an endpoint not registered a ValidationError (never moto's canned answers).
- Every other request goes to moto; requests that change state mark their service dirty for the
  snapshot writer, and hold a shared lock so a snapshot never sees a half-applied request (SQS
  long polls hold one of their own, which only a snapshot of SQS waits for: RequestLocks).
- S3 object bodies go to and come from files (s3_objects.py): an upload is stored before the
  request takes a lock, and an object's bytes stream to the client after it released them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from . import s3_objects
from .lambdas import FunctionRegistry
from .template import REGION

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ModelHandler = Callable[[bytes, str], tuple[bytes, str]]  # (body, content type) -> (body, content type)

_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
_SAGEMAKER_INVOKE = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")
_S3_URI = re.compile(r"^s3://([^/]+)/(.+)$")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_READ_TARGETS = re.compile(
    r"\.(Get|Describe|List|Query|Scan|BatchGet|ReceiveMessage|TestEventPattern)[A-Za-z]*$"
)


log = logging.getLogger("cvat_serverless_tools.local")

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


@dataclass(frozen=True)
class AsyncPaths:
    """Where an asynchronous endpoint writes (its AsyncInferenceConfig's S3OutputPath and
    S3FailurePath): ``s3://bucket/prefix``."""

    output: str
    failure: str


class AwsMiddleware:
    def __init__(self, moto_app: WsgiApp, functions: FunctionRegistry) -> None:
        self.moto_app = moto_app
        self.functions = functions
        self.models: dict[str, ModelHandler] = {}
        self.async_paths: dict[str, AsyncPaths] = {}
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
            if match:
                name = unquote(match.group(1))
                if match.group(2) == "invocations":
                    return self._invoke_model(name, environ, start_response)
                return self._invoke_model_async(name, environ, start_response)
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

    # ------------------------------------------------------------------ SageMaker runtime
    def register_model(self, name: str, handler: ModelHandler, *, async_output: str | None = None,
                       async_failure: str | None = None) -> None:
        """Answer SageMaker endpoint ``name`` with ``handler`` ``(body, content type) -> (body,
        content type)``; a ValueError it raises is the caller's ModelError (as a 400 from the
        container), any other exception one from a 500. With ``async_output`` and ``async_failure``
        (``s3://bucket/prefix``) the endpoint takes InvokeEndpointAsync too, and writes
        ``<async_output>/<inference id>.out`` or ``<async_failure>/<inference id>-error.out``."""
        if (async_output is None) != (async_failure is None):
            raise ValueError("an asynchronous endpoint needs both async_output and async_failure")
        for location in (async_output, async_failure):
            if location is not None and not _S3_URI.match(location.rstrip("/") + "/x"):
                raise ValueError(f"{location!r} is not an s3://bucket/prefix location")
        self.models[name] = handler
        if async_output is not None and async_failure is not None:
            self.async_paths[name] = AsyncPaths(async_output.rstrip("/"), async_failure.rstrip("/"))
        else:
            self.async_paths.pop(name, None)

    def unregister_model(self, name: str) -> None:
        self.models.pop(name, None)
        self.async_paths.pop(name, None)

    def _invoke_model(self, name: str, environ: dict[str, Any],
                      start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.models.get(name)
        body = self._body(environ)
        if handler is None:
            return _sagemaker_error(start_response, "400 Bad Request", "ValidationError",
                                    {"message": _endpoint_not_found(name)})
        try:
            answer, content_type = handler(body, environ.get("CONTENT_TYPE", ""))
        except Exception as error:
            return _sagemaker_error(start_response, "424 Failed Dependency", "ModelError", _model_error(name, error))
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(answer))),
                                  ("x-Amzn-Invoked-Production-Variant", "AllTraffic"),
                                  ("x-amzn-RequestId", str(uuid.uuid4()))])
        return [answer]

    def _invoke_model_async(self, name: str, environ: dict[str, Any],
                            start_response: Callable[..., Any]) -> Iterable[bytes]:
        """InvokeEndpointAsync: answered at once; the model runs on a thread of its own and writes
        its answer (or the error) to S3 as SageMaker's asynchronous inference does."""
        self._body(environ)
        handler = self.models.get(name)
        if handler is None:
            return _sagemaker_error(start_response, "400 Bad Request", "ValidationError",
                                    {"message": _endpoint_not_found(name)})
        paths = self.async_paths.get(name)
        if paths is None:
            return _sagemaker_error(start_response, "400 Bad Request", "ValidationError", {
                "message": f"Endpoint {name} of account {_account()} is not configured for asynchronous inference."})
        input_location = environ.get("HTTP_X_AMZN_SAGEMAKER_INPUTLOCATION", "")
        if not _S3_URI.match(input_location):
            return _sagemaker_error(start_response, "400 Bad Request", "ValidationError", {
                "message": f"InputLocation {input_location!r} is not an s3://bucket/key location."})
        inference_id = environ.get("HTTP_X_AMZN_SAGEMAKER_INFERENCE_ID") or str(uuid.uuid4())
        extension = environ.get("HTTP_X_AMZN_SAGEMAKER_S3OUTPUTPATHEXTENSION", "").strip("/")
        output = "/".join(filter(None, (paths.output, extension,
                                        environ.get("HTTP_X_AMZN_SAGEMAKER_FILENAME") or f"{inference_id}.out")))
        failure = "/".join(filter(None, (paths.failure, extension, f"{inference_id}-error.out")))
        content_type = environ.get("HTTP_X_AMZN_SAGEMAKER_CONTENT_TYPE", "")
        threading.Thread(target=_run_async, args=(handler, input_location, content_type, output, failure),
                         daemon=True, name=f"sagemaker-async-{name}").start()
        body = json.dumps({"InferenceId": inference_id}).encode()
        start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                        ("X-Amzn-SageMaker-OutputLocation", output),
                                        ("X-Amzn-SageMaker-FailureLocation", failure),
                                        ("x-amzn-RequestId", str(uuid.uuid4()))])
        return [body]


def _account() -> str:
    return os.environ.get("MOTO_ACCOUNT_ID", "123456789012")


def _endpoint_not_found(name: str) -> str:
    return f"Endpoint {name} of account {_account()} not found."


def _model_error(name: str, error: Exception) -> dict[str, Any]:
    """What SageMaker answers when the container does not answer 200: the container's status and
    body (this handler's ``{"error": ...}``, as the packaged handler's server answers it)."""
    status = 400 if isinstance(error, ValueError) else 500
    original = json.dumps({"error": str(error)})
    kind = "client" if status < 500 else "server"
    log_group = f"/aws/sagemaker/Endpoints/{name}"
    return {
        "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{REGION}:{_account()}:log-group:{log_group}",
        "Message": f'Received {kind} error ({status}) from primary with message "{original}". See '
                   f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#logEventViewer:"
                   f"group={log_group} in account {_account()} for more information.",
        "OriginalMessage": original,
        "OriginalStatusCode": status,
    }


def _sagemaker_error(start_response: Callable[..., Any], status: str, code: str,
                     fields: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(fields).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("x-amzn-ErrorType", code), ("x-amzn-RequestId", str(uuid.uuid4()))])
    return [body]


def _split_s3(location: str) -> tuple[str, str]:
    match = _S3_URI.match(location)
    assert match is not None
    return match.group(1), match.group(2)


def _run_async(handler: ModelHandler, input_location: str, content_type: str, output: str, failure: str) -> None:
    """One asynchronous inference, through the embedded S3 (this runtime's own endpoint, as any
    client: its locks, snapshots and object files apply)."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"), region_name=REGION)
    try:
        bucket, key = _split_s3(input_location)
        try:
            stored = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as error:
            raise LookupError(f"cannot read the input {input_location}: {error}") from None
        answer, answer_type = handler(stored["Body"].read(), content_type or stored.get("ContentType", ""))
    except Exception as error:
        log.warning("asynchronous inference failed (%s): %s", failure, error)
        bucket, key = _split_s3(failure)
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=str(error).encode(), ContentType="text/plain")
        except Exception:
            log.exception("asynchronous inference: cannot write its failure %s", failure)
        return
    bucket, key = _split_s3(output)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=answer, ContentType=answer_type)
    except Exception:
        log.exception("asynchronous inference: cannot write its output %s", output)
