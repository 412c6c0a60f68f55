"""What each Lambda function asks of AWS, recorded as IAM (action, resource) pairs.

moto enforces no IAM, so a grant missing from template.yaml would only show on AWS. With
``CVAT_LOCAL_IAM_AUDIT=<file>`` set, every botocore API call (and every presigned URL or POST,
which works only if the signer holds the permission) made while a function's handler runs in the
embedded runtime is appended to that file as one JSON line::

    {"function": "CoreApiFunction", "action": "s3:GetObject",
     "resource": "arn:aws:s3:::bucket/tasks/7/chunks/0.zip", "operation": "s3.GetObject"}

(plus ``"s3_prefix"`` for the list operations and ``"presigned": true`` for signed URLs). Tests
check each line against the function's role in the transformed template (tests/_iam.py).

Calls are attributed to a function by thread: the handler's thread carries the function's logical
id, and so do threads it starts and work it submits to thread pools (s3transfer's, our own).
Nothing is patched unless the variable is set.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from .template import ACCOUNT_ID, REGION

ENV_VAR = "CVAT_LOCAL_IAM_AUDIT"

_state = threading.local()
_install_lock = threading.Lock()
_write_lock = threading.Lock()
_installed: list[bool] = []  # [True] once patched
_written: set[str] = set()  # lines already in the file (the same call repeated is written once)


def enabled() -> bool:
    return bool(os.environ.get(ENV_VAR))


def current_function() -> str | None:
    return getattr(_state, "function", None)


@contextmanager
def running(logical_id: str) -> Iterator[None]:
    """Attribute the calls made in this thread (and the threads it starts) to ``logical_id``."""
    previous = current_function()
    _state.function = logical_id
    try:
        yield
    finally:
        _state.function = previous


# ---------------------------------------------------------------------------------- installation
def install() -> bool:
    """Apply patches(), once, if the variable is set."""
    if not enabled():
        return False
    with _install_lock:
        if not _installed:
            for owner, name, replacement in patches():
                setattr(owner, name, replacement)
            _installed.append(True)
    return True


def patches() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) for each patch the recorder needs: every client (made before
    or after, the core layer's cached ones and pynamodb's) builds each call's and each presigned
    URL's parameters in BaseClient._emit_api_params; threads a handler starts, and work it hands
    to thread pools, carry its function."""
    import botocore.client
    import botocore.signers

    client_class: Any = botocore.client.BaseClient
    return [
        (client_class, "_emit_api_params", recording_emit(client_class._emit_api_params)),
        # bound to the S3 client classes made from now on (botocore makes one per client)
        (botocore.signers, "generate_presigned_post",
         recording_presigned_post(botocore.signers.generate_presigned_post)),
        *_thread_patches(),
    ]


def _thread_patches() -> list[tuple[Any, str, Any]]:
    thread_init = threading.Thread.__init__
    bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]  # runs every thread's run()
    submit: Any = concurrent.futures.ThreadPoolExecutor.submit

    @functools.wraps(thread_init)
    def init(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
        thread_init(self, *args, **kwargs)
        self._iam_audit_function = current_function()  # type: ignore[attr-defined]

    @functools.wraps(bootstrap)
    def bootstrap_inner(self: threading.Thread) -> None:
        _state.function = getattr(self, "_iam_audit_function", None)
        bootstrap(self)

    @functools.wraps(submit)
    def submit_with_function(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        owner = current_function()

        def attributed() -> Any:
            previous = current_function()
            _state.function = owner
            try:
                return fn(*args, **kwargs)
            finally:
                _state.function = previous

        return submit(self, attributed)

    return [(threading.Thread, "__init__", init), (threading.Thread, "_bootstrap_inner", bootstrap_inner),
            (concurrent.futures.ThreadPoolExecutor, "submit", submit_with_function)]


def recording_emit(emit: Callable[..., Any]) -> Callable[..., Any]:
    """BaseClient._emit_api_params, writing what the call (or the presigned request) needs."""

    @functools.wraps(emit)
    def emit_api_params(self: Any, api_params: Any, operation_model: Any, context: Any) -> Any:
        params = emit(self, api_params, operation_model, context)
        function = current_function()
        if function is not None and not getattr(_state, "in_presigned_post", False):
            service = self.meta.service_model.service_name
            presigned = bool((context or {}).get("is_presign_request"))
            if presigned and service == "s3" and operation_model.name == "CreateBucket":
                # a presigned POST by a client made before install(): its key is not known here
                needs: list[Need] = [("s3:PutObject", _object_arn(str(params.get("Bucket", "")), "*"), None)]
            else:
                needs = permissions(service, operation_model.name, params)
            _write(function, f"{service}.{operation_model.name}", needs, presigned)
        return params

    return emit_api_params


def recording_presigned_post(presign_post: Callable[..., Any]) -> Callable[..., Any]:
    """botocore.signers.generate_presigned_post (an S3 client's method), writing s3:PutObject on
    the key; the CreateBucket model it signs with is not written."""

    @functools.wraps(presign_post)
    def generate_presigned_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
        function = current_function()
        if function is not None:
            _write(function, "s3.PresignedPost", [("s3:PutObject", _object_arn(Bucket, Key), None)], True)
        _state.in_presigned_post = True
        try:
            return presign_post(self, Bucket, Key, *args, **kwargs)
        finally:
            _state.in_presigned_post = False

    return generate_presigned_post


def _write(function: str, operation: str, needs: list[Need], presigned: bool) -> None:
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    lines = []
    for action, resource, prefix in needs:
        entry: dict[str, Any] = {"function": function, "action": action, "resource": resource,
                                 "operation": operation}
        if prefix is not None:
            entry["s3_prefix"] = prefix
        if presigned:
            entry["presigned"] = True
        line = json.dumps(entry) + "\n"
        if line not in _written:
            lines.append(line)
    if not lines:
        return
    with _write_lock, open(path, "a", encoding="utf-8") as out:
        out.writelines(lines)
        _written.update(lines)


# ---------------------------------------------------------------------------------- the mapping
Need = tuple[str, str, "str | None"]  # (IAM action, resource ARN, s3:prefix of a list call)

_ARN = f"{REGION}:{ACCOUNT_ID}"

# S3 operations whose IAM action is not s3:<operation name>
_S3_OBJECT_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "GetObjectAttributes": "s3:GetObjectAttributes",
    "PutObjectAcl": "s3:PutObjectAcl",
    "GetObjectAcl": "s3:GetObjectAcl",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "DeleteObjectTagging": "s3:DeleteObjectTagging",
    "RestoreObject": "s3:RestoreObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}
# ... and their action when a VersionId is given
_S3_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}
_S3_LIST_ACTIONS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
_S3_BUCKET_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketTagging": "s3:GetBucketTagging",
    "GetBucketAcl": "s3:GetBucketAcl",
    "CreateBucket": "s3:CreateBucket",
    "DeleteBucket": "s3:DeleteBucket",
}
_SQS_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_DYNAMO_TRANSACT = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
                    "ConditionCheck": "dynamodb:ConditionCheckItem", "Get": "dynamodb:GetItem"}
# IAM prefixes that differ from botocore's service name
_PREFIX = {"stepfunctions": "states", "sagemaker-runtime": "sagemaker", "sagemaker-a2i-runtime": "sagemaker",
           "logs": "logs", "monitoring": "cloudwatch"}
_NO_PERMISSION = {("sts", "GetCallerIdentity")}  # needs no grant


def permissions(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The IAM (action, resource, s3 prefix) pairs an API call needs."""
    if (service, operation) in _NO_PERMISSION:
        return []
    if service == "s3":
        return _s3(operation, params)
    if service == "dynamodb":
        return _dynamodb(operation, params)
    if service == "sqs":
        return [(_SQS_ACTIONS.get(operation, f"sqs:{operation}"), _queue_arn(params), None)]
    if service == "stepfunctions":
        return [(f"states:{operation}", _states_arn(operation, params), None)]
    if service == "events":
        return _events(operation, params)
    if service == "sagemaker-runtime":
        name = str(params.get("EndpointName", "*")).lower()
        return [(f"sagemaker:{operation}", f"arn:aws:sagemaker:{_ARN}:endpoint/{name}", None)]
    if service == "lambda":
        action = {"Invoke": "lambda:InvokeFunction", "InvokeAsync": "lambda:InvokeFunction",
                  "InvokeWithResponseStream": "lambda:InvokeFunction"}.get(operation, f"lambda:{operation}")
        return [(action, _function_arn(params), None)]
    return [(f"{_PREFIX.get(service, service)}:{operation}", "*", None)]


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3(operation: str, params: dict[str, Any]) -> list[Need]:
    bucket = str(params.get("Bucket", ""))
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if operation in _S3_LIST_ACTIONS:
        return [(_S3_LIST_ACTIONS[operation], bucket_arn, str(params.get("Prefix", "")))]
    if operation in _S3_BUCKET_ACTIONS:
        return [(_S3_BUCKET_ACTIONS[operation], bucket_arn, None)]
    if operation == "DeleteObjects":
        return [(_S3_VERSIONED["s3:DeleteObject"] if item.get("VersionId") else "s3:DeleteObject",
                 _object_arn(bucket, item["Key"]), None)
                for item in params.get("Delete", {}).get("Objects", [])]
    if operation in ("CopyObject", "UploadPartCopy"):
        source_bucket, source_key, source_version = _copy_source(params.get("CopySource"))
        read = "s3:GetObjectVersion" if source_version else "s3:GetObject"
        return [(read, _object_arn(source_bucket, source_key), None),
                ("s3:PutObject", _object_arn(bucket, str(params.get("Key", ""))), None)]
    action = _S3_OBJECT_ACTIONS.get(operation, f"s3:{operation}")
    if params.get("VersionId") and action in _S3_VERSIONED:
        action = _S3_VERSIONED[action]
    if "Key" in params:
        return [(action, _object_arn(bucket, str(params["Key"])), None)]
    return [(action, bucket_arn, None)]


def _copy_source(source: Any) -> tuple[str, str, str | None]:
    if isinstance(source, dict):
        return str(source.get("Bucket", "")), str(source.get("Key", "")), source.get("VersionId")
    text = str(source or "").lstrip("/")
    version = None
    if "?versionId=" in text:
        text, version = text.split("?versionId=", 1)
    bucket, _, key = text.partition("/")
    return bucket, unquote(key), version


def _table_arn(table: str, index: str | None = None) -> str:
    base = table if table.startswith("arn:") else f"arn:aws:dynamodb:{_ARN}:table/{table}"
    return f"{base}/index/{index}" if index else base


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Need]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        needs: list[Need] = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                needs.append((_DYNAMO_TRANSACT.get(kind, f"dynamodb:{kind}"), _table_arn(body["TableName"]), None))
        return needs
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", _table_arn(table), None) for table in params.get("RequestItems", {})]
    if "TableName" in params:
        return [(f"dynamodb:{operation}", _table_arn(str(params["TableName"]), params.get("IndexName")), None)]
    return [(f"dynamodb:{operation}", "*", None)]


def _queue_arn(params: dict[str, Any]) -> str:
    if "QueueUrl" in params:
        account, name = str(params["QueueUrl"]).rstrip("/").split("/")[-2:]
        return f"arn:aws:sqs:{REGION}:{account}:{name}"
    if "QueueName" in params:
        return f"arn:aws:sqs:{_ARN}:{params['QueueName']}"
    return "*"


def _states_arn(operation: str, params: dict[str, Any]) -> str:
    for key in ("stateMachineArn", "executionArn", "mapRunArn", "activityArn"):
        if key in params:
            return str(params[key])
    return "*"  # SendTaskSuccess/Failure/Heartbeat: a task token, no resource


def _events(operation: str, params: dict[str, Any]) -> list[Need]:
    if operation == "PutEvents":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries", [])} or {"default"}
        return [("events:PutEvents", b if b.startswith("arn:") else f"arn:aws:events:{_ARN}:event-bus/{b}", None)
                for b in sorted(buses)]
    return [(f"events:{operation}", "*", None)]


def _function_arn(params: dict[str, Any]) -> str:
    name = str(params.get("FunctionName", "*"))
    if name.startswith("arn:"):
        return name
    if ":" in name:  # name:qualifier
        return f"arn:aws:lambda:{_ARN}:function:{name}"
    qualifier = params.get("Qualifier")
    return f"arn:aws:lambda:{_ARN}:function:{name}" + (f":{qualifier}" if qualifier else "")
