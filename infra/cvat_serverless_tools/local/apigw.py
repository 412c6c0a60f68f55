"""API Gateway (REST API, Lambda proxy integration) for the embedded runtime, as WSGI.

Turns each HTTP request into the v1 proxy event API Gateway sends (resource, path parameters,
multi-value headers and query strings, base64 bodies per BinaryMediaTypes, requestContext with a
request id), routed by the template's API events with API Gateway's precedence (static segment >
{param} > {proxy+}), and turns the handler's answer back into HTTP (several Set-Cookie headers,
base64 bodies). Unknown routes answer 403 "Missing Authentication Token", a crashed handler 502,
as on AWS. Paths outside /api/ serve the frontend build when one exists.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import mimetypes
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import WSGIRequestHandler

from .deployer import Route
from .lambdas import FunctionRegistry
from .presigned import PresignedProxy, is_presigned

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
# What deploy-ui writes on the UI bucket's objects: Vite's assets/ carry a content hash in their
# names; index.html (and any other file) is revalidated so a new build shows at once.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# UiSecurityHeadersPolicy's headers that make sense over http on one machine. Not the CSP:
# presigned media URLs here point at the embedded AWS's own port. HSTS only over TLS (HSTS).
UI_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
HSTS = "max-age=31536000"
"""Strict-Transport-Security on every answer over TLS (`up --tls-cert`), as CloudFront's
UiSecurityHeadersPolicy sends one year. No includeSubDomains (a LAN name's siblings are other
machines), and not for ``localhost``: HSTS ignores the port, so it would turn every later plain
http://localhost:<port> of that browser (another `cvat-serverless up`) to https for a year.
Browsers ignore it for IP addresses."""


def _is_https(environ: dict[str, Any]) -> bool:
    return environ.get("wsgi.url_scheme") == "https"


def _with_hsts(environ: dict[str, Any], start_response: Callable[..., Any]) -> Callable[..., Any]:
    host = str(environ.get("HTTP_HOST") or "").rsplit(":", 1)[0].rstrip(".").lower()
    if not _is_https(environ) or host == "localhost" or host.endswith(".localhost"):
        return start_response

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not any(name.lower() == "strict-transport-security" for name, _ in headers):
            headers = [*headers, ("Strict-Transport-Security", HSTS)]
        return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

    return start


class RawHeadersRequestHandler(WSGIRequestHandler):
    """WSGI folds repeated request headers into one; keep the raw list for multiValueHeaders."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["cvat.raw_headers"] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the handlers log each request as JSON; the access log would repeat it


def _match(route_path: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    route_parts = [p for p in route_path.split("/") if p]
    parts = [p for p in path.split("/") if p]
    params: dict[str, str] = {}
    score: list[int] = []
    for i, segment in enumerate(route_parts):
        if segment.startswith("{") and segment.endswith("+}"):
            if i >= len(parts):
                return None
            params[segment[1:-2]] = "/".join(parts[i:])
            score.append(0)
            return tuple(score), params
        if i >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = parts[i]
            score.append(1)
        elif segment == parts[i]:
            score.append(2)
        else:
            return None
    if len(parts) != len(route_parts):
        return None
    return tuple(score), params


class ApiGateway:
    def __init__(self, routes: list[Route], functions: FunctionRegistry, *, stage: str,
                 binary_media_types: list[str], frontend_dir: Path | None = None,
                 presigned: PresignedProxy | None = None) -> None:
        self.routes = routes
        # over TLS: the embedded S3's presigned URLs on this origin (presigned.py)
        self.presigned = presigned
        self.functions = functions
        self.stage = stage
        self.binary_media_types = binary_media_types
        self.frontend_dir = frontend_dir

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        best: tuple[tuple[Any, ...], Route, dict[str, str]] | None = None
        for route in self.routes:
            if route.method not in ("ANY", method):
                continue
            matched = _match(route.path, path)
            if matched is None:
                continue
            score = (*matched[0], 1 if route.method == method else 0)
            if best is None or score > best[0]:
                best = (score, route, matched[1])
        return (best[1], best[2]) if best else None

    def _is_binary(self, content_type: str) -> bool:
        content_type = content_type.split(";", maxsplit=1)[0].strip() or "application/octet-stream"
        return any(fnmatch.fnmatch(content_type, pattern) for pattern in self.binary_media_types)

    def build_event(self, environ: dict[str, Any], route: Route, params: dict[str, str]) -> dict[str, Any]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        raw_headers: list[tuple[str, str]] = environ.get("cvat.raw_headers") or [
            (k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")
        ]
        multi_headers: dict[str, list[str]] = {}
        if _is_https(environ):
            # as API Gateway does: the scheme the client used, whatever the client claimed (without
            # TLS the header passes through: a TLS proxy in front of the runtime may set it)
            raw_headers = [(k, v) for k, v in raw_headers if k.lower() != "x-forwarded-proto"]
            raw_headers.append(("X-Forwarded-Proto", "https"))
        for name, value in raw_headers:
            multi_headers.setdefault(name, []).append(value)
        if environ.get("CONTENT_TYPE") and not any(k.lower() == "content-type" for k in multi_headers):
            multi_headers["Content-Type"] = [environ["CONTENT_TYPE"]]
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for key, value in query:
            multi_query.setdefault(key, []).append(value)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw_body = environ["wsgi.input"].read(length) if length else b""
        content_type = next((v[-1] for k, v in multi_headers.items() if k.lower() == "content-type"), "")
        is_binary = bool(raw_body) and self._is_binary(content_type)
        body: str | None
        if not raw_body:
            body = None
        elif is_binary:
            body = base64.b64encode(raw_body).decode()
        else:
            body = raw_body.decode("utf-8", errors="replace")
        request_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        source_ip = environ.get("REMOTE_ADDR", "127.0.0.1")
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": "123456789012",
                "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": self.stage,
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": source_ip, "userAgent": environ.get("HTTP_USER_AGENT", "")},
                "domainName": environ.get("HTTP_HOST", "localhost"),
                "apiId": "local",
            },
            "body": body,
            "isBase64Encoded": is_binary,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        start_response = _with_hsts(environ, start_response)
        if not (path == "/api" or path.startswith("/api/")):
            if self.presigned is not None and is_presigned(environ):
                return self.presigned(environ, start_response)
            return self._static(environ, path, start_response)
        matched = self.route(environ["REQUEST_METHOD"], path)
        if matched is None:
            return _json(start_response, 403, {"message": "Missing Authentication Token"})
        route, params = matched
        event = self.build_event(environ, route, params)
        function = self.functions.by_logical_id(route.function_logical_id)
        result = function.invoke(event)
        if not result.ok or not isinstance(result.payload, dict) or "statusCode" not in result.payload:
            return _json(start_response, 502, {"message": "Internal server error"},
                         [("x-amzn-RequestId", event["requestContext"]["requestId"])])
        return self._respond(result.payload, start_response, self._public_urls(environ))

    def _public_urls(self, environ: dict[str, Any]) -> Callable[[str], str]:
        """How an answer's presigned URLs reach this client: unchanged, or over TLS on this origin."""
        presigned = self.presigned
        if presigned is None or not _is_https(environ):
            return lambda text: text
        origin = f"https://{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', 'localhost')}"
        return lambda text: presigned.public(text, origin)

    @staticmethod
    def _respond(answer: dict[str, Any], start_response: Callable[..., Any],
                 public: Callable[[str], str] = str) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        multi = answer.get("multiValueHeaders") or {}
        for name, values in multi.items():
            headers.extend((name, str(v)) for v in values)
        for name, value in (answer.get("headers") or {}).items():
            if name not in multi:
                headers.append((name, str(value)))
        body = answer.get("body") or ""
        data = base64.b64decode(body) if answer.get("isBase64Encoded") else public(str(body)).encode()
        headers = [(k, public(v) if k.lower() == "location" else v) for k, v in headers
                   if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(data))))
        status = int(answer["statusCode"])
        start_response(f"{status} {_reason(status)}", headers)
        return [data]

    def _static(self, environ: dict[str, Any], path: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """frontend/dist as CloudFront serves it from the UI bucket (template.yaml, UiDistribution)."""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in ("GET", "HEAD"):
            return _text(start_response, 405, b"Method Not Allowed\n", [("Allow", "GET, HEAD")])
        root = self.frontend_dir
        if root is None or not (root / "index.html").is_file():
            return _text(start_response, 404, b"cvat-serverless is running. The web UI is not built yet; the API is "
                         b"at /api/ (try /api/server/about).\n")
        base = root.resolve()
        candidate = (base / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(base):
            return _text(start_response, 404, b"Not Found\n")
        if not candidate.is_file():
            if "." in path.rsplit("/", 1)[-1]:  # a file that is not there (UiSpaRouteFunction's rule)
                return _text(start_response, 404, b"Not Found\n")
            candidate = base / "index.html"  # single-page app: the client routes
        stat = candidate.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        hashed = candidate.relative_to(base).parts[:1] == ("assets",)
        headers = [
            ("Content-Type", mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"),
            ("Cache-Control", IMMUTABLE if hashed else REVALIDATE),
            ("ETag", etag),
            *UI_SECURITY_HEADERS.items(),
        ]
        if etag in (environ.get("HTTP_IF_NONE_MATCH") or ""):
            start_response("304 Not Modified", headers)
            return [b""]
        data = candidate.read_bytes()
        start_response("200 OK", [*headers, ("Content-Length", str(len(data)))])
        return [b""] if method == "HEAD" else [data]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _text(start_response: Callable[..., Any], status: int, text: bytes,
          extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    start_response(f"{status} {_reason(status)}", [("Content-Type", "text/plain"),
                                                   ("Content-Length", str(len(text))), *(extra or [])])
    return [text]


def _json(start_response: Callable[..., Any], status: int, body: Any,
          extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(f"{status} {_reason(status)}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(data))), *(extra or [])])
    return [data]
