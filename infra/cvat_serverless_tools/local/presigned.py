"""Presigned S3 URLs on the API's own origin, for the embedded runtime over HTTPS.

The API answers media (chunks, big frames, exports) and direct-upload parts with presigned URLs
of the embedded S3 (``http://127.0.0.1:<aws-port>/<bucket>/<key>?X-Amz-...``). A page served over
https may not follow them (mixed content), and another machine of the LAN cannot reach the
loopback address. So over TLS the gateway rewrites each presigned URL it hands out to the origin
the client used (``https://<host>:<port>``, same path and query), and answers such requests by
passing them to the embedded S3 in-process.

moto checks no signature, and this port is open to the LAN: a request is passed on only when its
SigV4 query signature is the one the API made for the embedded endpoint, and it has not expired.
Anything else is S3's 403 AccessDenied. The embedded AWS endpoint itself stays on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                 "X-Amz-Signature")
_URL_CHARS = r"[^\s\"'<>\\]"


def is_presigned(environ: dict[str, Any]) -> bool:
    """A SigV4 presigned request (what the gateway passes to S3 rather than to the frontend)."""
    query = environ.get("QUERY_STRING", "")
    return "X-Amz-Signature=" in query and "X-Amz-Credential=" in query


def signature_problem(method: str, raw_target: str, headers: dict[str, str], *, host: str, secret_key: str,
                      now: datetime) -> str | None:
    """Why the presigned request ``method raw_target`` (path and query as sent) is not one signed
    with ``secret_key`` for ``host``; None when it is, and is still valid at ``now``."""
    path, _, query = raw_target.partition("?")
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if any(name not in params for name in SIGNED_PARAMS) or params["X-Amz-Algorithm"] != ALGORITHM:
        return "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " \
               "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
    scope_parts = params["X-Amz-Credential"].split("/")
    if len(scope_parts) != 5 or scope_parts[4] != "aws4_request":
        return "Error parsing the X-Amz-Credential parameter."
    _, day, region, service, _ = scope_parts
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        return "X-Amz-Date or X-Amz-Expires is not valid."
    if now > signed_at + timedelta(seconds=expires):
        return "Request has expired"
    signed_headers = params["X-Amz-SignedHeaders"].lower().split(";")
    lowered = {k.lower(): v for k, v in headers.items()}
    lowered["host"] = host
    # as botocore builds it for a presigned URL: the path as sent, the raw query pairs sorted
    pairs = sorted(tuple(pair.partition("=")[::2]) for pair in query.split("&")
                   if pair and unquote(pair.partition("=")[0]) != "X-Amz-Signature")
    canonical = "\n".join([
        method.upper(),
        path or "/",
        "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{name}:{' '.join(lowered.get(name, '').split())}\n" for name in signed_headers),
        ";".join(signed_headers),
        "UNSIGNED-PAYLOAD",
    ])
    scope = "/".join(scope_parts[1:])
    to_sign = "\n".join([ALGORITHM, params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return "The request signature we calculated does not match the signature you provided."
    return None


class PresignedProxy:
    """The embedded S3's presigned URLs, served on the API port (see the module's doc)."""

    def __init__(self, aws_app: WsgiApp, endpoint: str, secret_key: str) -> None:
        parts = urlsplit(endpoint)
        self.aws_app = aws_app
        self.internal_origin = f"{parts.scheme}://{parts.netloc}"
        self.internal_host = parts.netloc
        self.secret_key = secret_key
        self._url = re.compile(re.escape(self.internal_origin) + f"(/{_URL_CHARS}*)")

    def public(self, text: str, origin: str) -> str:
        """``text`` with each presigned URL of the embedded endpoint moved to ``origin``."""
        def move(match: re.Match[str]) -> str:
            rest = match.group(1)
            return origin + rest if "X-Amz-Signature=" in rest else match.group(0)

        return self._url.sub(move, text) if self.internal_origin in text else text

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # the path as the client sent it (werkzeug keeps it): PATH_INFO is decoded
        raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or (
            quote(environ.get("PATH_INFO", "/"), safe="/~") + "?" + environ.get("QUERY_STRING", ""))
        headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        problem = signature_problem(environ.get("REQUEST_METHOD", "GET"), raw_target, headers,
                                    host=self.internal_host, secret_key=self.secret_key, now=datetime.now(UTC))
        if problem is not None:
            code = "AccessDenied" if "expired" in problem else "SignatureDoesNotMatch"
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{problem}</Message></Error>").encode()
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [body]
        inner = dict(environ)
        host, _, port = self.internal_host.rpartition(":")
        inner.update({"HTTP_HOST": self.internal_host, "SERVER_NAME": host, "SERVER_PORT": port,
                      "wsgi.url_scheme": "http"})
        # the API's credentials (the SDK keeps its Authorization header on a same-host redirect)
        # are not S3's: S3 refuses two kinds of authentication at once
        for name in ("HTTP_AUTHORIZATION", "HTTP_COOKIE"):
            inner.pop(name, None)
        return self.aws_app(inner, start_response)
