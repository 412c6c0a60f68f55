"""Event fixtures: real-shaped AWS events (API Gateway REST proxy, SQS, S3 notifications)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text())


def rest_event(method: str, path: str, *, body: object = None, headers: dict[str, str] | None = None,
               query: dict[str, list[str]] | None = None, request_id: str = "test-request",
               resource: str = "/api/{proxy+}", binary: bool = False) -> dict[str, Any]:
    """An API Gateway REST proxy event, built from the captured one in apigw_rest_proxy.json."""
    event = copy.deepcopy(load("apigw_rest_proxy.json"))
    all_headers = {**event["headers"], **(headers or {})}
    event.update({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
    })
    if body is None:
        event["body"], event["isBase64Encoded"] = None, False
    else:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        event["body"] = base64.b64encode(raw).decode() if binary else raw.decode()
        event["isBase64Encoded"] = binary
    event["requestContext"].update({"requestId": request_id, "httpMethod": method, "resourcePath": resource,
                                    "path": f"/v1{path}"})
    return event
