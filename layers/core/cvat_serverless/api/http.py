"""What every route reads from the API Gateway event: headers, query parameters, cookies, the
client's address and the absolute URLs CVAT puts in its answers (``url``, ``next``...)."""

from __future__ import annotations

import base64
import hmac
import ipaddress
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any, cast
from urllib.parse import urlencode

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from ..domain.errors import ValidationError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
Event = BaseProxyEvent  # what a router's ``current_event`` is; always a REST (v1) proxy event here


def rest(event: Event) -> APIGatewayProxyEvent:
    return cast(APIGatewayProxyEvent, event)


def header(event: Event, name: str) -> str | None:
    """One request header, case-insensitively (repeated headers joined as HTTP says)."""
    multi = rest(event).multi_value_headers or {}
    lowered = name.lower()
    for key, values in multi.items():
        if key.lower() == lowered and values:
            return ", ".join(values) if lowered != "cookie" else "; ".join(values)
    value = event.headers.get(name)
    return value if value is None else str(value)


def query(event: Event) -> dict[str, str]:
    """The query parameters (the last value of a repeated one, as Django's ``QueryDict.get``)."""
    return {k: v for k, v in (event.query_string_parameters or {}).items() if v is not None}


def cookies(event: Event) -> dict[str, str]:
    raw = header(event, "Cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    out: dict[str, str] = {}
    for part in raw.split(";"):
        try:
            jar.load(part.strip())
        except CookieError:
            continue  # one malformed cookie must not hide the others
    for key, morsel in jar.items():
        out[key] = morsel.value
    return out


def body_bytes(event: Event) -> bytes:
    """The request body as sent (API Gateway base64-encodes binary bodies)."""
    raw = event.get("body")
    if raw is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(raw)
    return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)


def client_ip(event: Event) -> str:
    """The client's address: API Gateway's source IP, which ``from_edge`` has made the viewer's
    for a request that came through the stack's own CloudFront."""
    return str(rest(event).request_context.identity.source_ip or "")


EDGE_SECRET_HEADER = "x-cvat-edge-secret"  # noqa: S105 - a header name
"""Set by the stack's CloudFront on every /api/* origin request (an origin custom header, which
replaces a viewer's header of the same name), with a value only the stack knows."""
VIEWER_IP_HEADER = "x-cvat-viewer-ip"
"""The viewer's address, set by the CloudFront viewer-request function from ``event.viewer.ip``
(replacing whatever the viewer sent)."""


def from_edge(event: Mapping[str, Any], secret: str) -> dict[str, Any]:
    """``event`` as the app should see it. Behind our own CloudFront, API Gateway's source IP is a
    CloudFront edge's, so per-address limits would count everyone behind one edge together: a
    request carrying the edge's secret gets the viewer's address instead. Without the secret (the
    execute-api URL called directly, or no CloudFront) the headers are dropped unread, so a
    client cannot choose its own address."""
    out = dict(event)
    found: dict[str, str] = {}
    for key in ("headers", "multiValueHeaders"):
        headers = out.get(key)
        if not headers:
            continue
        kept = {}
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in (EDGE_SECRET_HEADER, VIEWER_IP_HEADER):
                found.setdefault(lowered, value[0] if isinstance(value, list) and value else str(value or ""))
            else:
                kept[name] = value
        out[key] = kept
    if not (secret and found):
        return out
    sent = found.get(EDGE_SECRET_HEADER, "")
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        return out
    try:
        viewer = str(ipaddress.ip_address(found.get(VIEWER_IP_HEADER, "").strip()))
    except ValueError:
        return out
    context = dict(out.get("requestContext") or {})
    context["identity"] = {**(context.get("identity") or {}), "sourceIp": viewer}
    out["requestContext"] = context
    return out


def host(event: Event) -> str:
    """The host the client addressed: X-Forwarded-Host (set by a proxy in front), else Host."""
    forwarded = header(event, "X-Forwarded-Host")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return header(event, "Host") or str(rest(event).request_context.domain_name or "localhost")


def base_url(event: Event) -> str:
    """``scheme://host[/stage]`` as the client sees this API.

    The stage prefix is only part of the public URL when the client talks to the execute-api
    domain itself; behind a custom domain, CloudFront or the embedded runtime it is not.
    """
    # API Gateway always sets X-Forwarded-Proto; without it (embedded runtime) the client spoke plain HTTP
    proto = (header(event, "X-Forwarded-Proto") or "http").split(",")[0].strip() or "http"
    the_host = host(event)
    prefix = ""
    stage = rest(event).request_context.stage
    if (
        not header(event, "X-Forwarded-Host")
        and ".execute-api." in the_host
        and stage
        and stage != "$default"
        and str(rest(event).request_context.path or "").startswith(f"/{stage}/")
    ):
        prefix = f"/{stage}"
    return f"{proto}://{the_host}{prefix}"


def is_https(event: Event) -> bool:
    return base_url(event).startswith("https://")


def absolute(event: Event | None, path: str, params: Mapping[str, Any] | None = None, *, base: str | None = None
             ) -> str:
    """An absolute URL of ``path`` (``base``: the request's base_url, when the caller has it)."""
    if base is None:
        if event is None:
            raise ValueError("An absolute URL needs the request or its base URL")
        base = base_url(event)
    url = base + path
    if params:
        url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
    return url


def int_param(params: Mapping[str, str], name: str) -> int | None:
    """An optional integer query parameter; a bad one is CVAT's 400 field error."""
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError(fields={name: ["A valid integer is required."]}) from None
    if number < 0 or number > 2**31 - 1:
        raise ValidationError(fields={name: ["A valid integer is required."]})
    return number
