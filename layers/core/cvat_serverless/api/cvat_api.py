"""The app factory every API function uses: one resolver, one error mapping, one request id."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import orjson
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..domain.errors import CvatServerlessError, ValidationError
from . import errors, http

if TYPE_CHECKING:
    from .services import ApiServices

REQUEST_ID_HEADER = "X-Request-Id"
API_VERSION = "2.80.0"
SERVICES_KEY = "services"
"""Where the routes find the app's services (``router.context``, powertools' per-request context)."""
_SERVING: ContextVar[tuple[APIGatewayRestResolver, ApiServices]] = ContextVar("cvat_api_serving")


def serving() -> tuple[APIGatewayRestResolver, ApiServices] | None:
    """The resolver and services of the request this thread is handling (None outside one).

    Routes read their event and services here rather than through their Router: a powertools
    Router answers through the last resolver that included it, and one process may hold two apps
    that include the same router (the embedded runtime serves every function in one interpreter;
    the core API includes the annotations and media routers for its OpenAPI document)."""
    return _SERVING.get(None)


class CvatApi:
    """An APIGatewayRestResolver with CVAT's error bodies and an X-Request-Id on every answer.

    ``services`` is what the routes use (the composition root builds it once per cold start);
    each request gets it in powertools' request context (``router.context``).
    With ``openapi=True`` it also serves its OpenAPI document at ``/api/schema/`` and Swagger UI
    at ``/api/swagger`` (both generated from the routes; the UI's assets ship with powertools).
    """

    def __init__(self, services: ApiServices, *routers: Router, title: str = "CVAT REST API", openapi: bool = False,
                 lazy_routers: Mapping[str, str | Sequence[str]] | None = None) -> None:
        self.services = services
        # orjson reads request bodies: a 20,000-shape PUT parses in 25 ms instead of 120 ms
        self.resolver = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=orjson.loads)
        # Path prefix -> module(s) with a ``router``: imported and included on the first request
        # under that prefix, so a cold start loads only the routes it serves (see include_for).
        self._lazy = {prefix: (m,) if isinstance(m, str) else tuple(m) for prefix, m in (lazy_routers or {}).items()}
        self._included: set[str] = set()
        self._include_lock = threading.Lock()
        errors.register(self.resolver)
        # A body that is not UTF-8 cannot be JSON: a client error, through the one mapping.
        self.resolver.exception_handler(UnicodeDecodeError)(
            lambda _exc: errors.error_response(ValidationError("The request body is not valid UTF-8 JSON."))
        )
        self.resolver.exception_handler(RequestUnsupportedContentType)(self._unsupported_media_type)
        self.resolver.exception_handler(ValueError)(self._value_error)
        for router in routers:
            self.resolver.include_router(router)
        self.title = title
        self.version = API_VERSION
        if openapi:
            self._enable_openapi()

    def include_for(self, path: str) -> None:
        """Include the lazily loaded routers whose prefix covers ``path``."""
        wanted = {m for prefix, ms in self._lazy.items() if path == prefix or path.startswith(prefix + "/") for m in ms}
        self._include(wanted - self._included)

    def include_all(self) -> None:
        """Include every router (the OpenAPI document describes them all)."""
        self._include({m for ms in self._lazy.values() for m in ms} - self._included)

    def _include(self, modules: set[str]) -> None:
        if not modules:
            return
        with self._include_lock:
            for name in sorted(modules - self._included):
                self.resolver.include_router(importlib.import_module(name).router)
                self._included.add(name)

    def _unsupported_media_type(self, _exc: Exception) -> Response[Any]:
        # REST framework's 415 for a body it has no parser for (an HTTP concern, not a domain error)
        content_type = self.resolver.current_event.headers.get("content-type", "")
        return Response(
            status_code=415,
            content_type="application/json",
            body={"detail": f'Unsupported media type "{content_type}" in request.'},
        )

    @staticmethod
    def _value_error(exc: ValueError) -> Response[Any]:
        # powertools raises a bare ValueError for a multipart Content-Type without a boundary
        if "boundary" in str(exc):
            return errors.error_response(
                ValidationError("Multipart form parse error - Invalid boundary in multipart: None")
            )
        return errors.error_response(CvatServerlessError(str(exc)))  # logged with its stack, 500

    def _enable_openapi(self) -> None:
        from . import openapi

        resolver = self.resolver

        @resolver.get(openapi.SCHEMA_PATH, include_in_schema=False)
        def schema() -> Response[Any]:
            self.include_all()
            # closed registration is no path at all, as on CVAT (its UI hides "Create an account")
            hidden = frozenset() if self.services.accounts.self_registration else frozenset({openapi.REGISTER_PATH})
            return Response(
                status_code=200,
                content_type="application/vnd.oai.openapi+json",
                body=openapi.render(resolver, self.version, hidden=hidden),
            )

        # Not powertools' enable_swagger: it imports the OpenAPI models at start-up; this builds
        # the page (with powertools' bundled assets, so it works offline) on request only.
        @resolver.get(openapi.SWAGGER_PATH, include_in_schema=False)
        def swagger() -> Response[Any]:
            self.include_all()
            return Response(
                status_code=200, content_type="text/html", body=openapi.swagger_html(resolver, self.version)
            )

    def handle(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if self._lazy:
            self.include_for(str(event.get("path") or ""))
        # Cleared by the resolver after each request; routers included in this app share it.
        self.resolver.append_context(**{SERVICES_KEY: self.services})
        token = _SERVING.set((self.resolver, self.services))
        try:
            response = self.resolver.resolve(http.from_edge(event, self.services.edge_secret), context)
        finally:
            _SERVING.reset(token)
        request_id = request_id_of(event)
        if request_id:
            # Set here rather than in a middleware so error and not-found answers carry it too.
            headers = response.setdefault("multiValueHeaders", {})
            headers[REQUEST_ID_HEADER] = [request_id]
        return response


def request_id_of(event: Mapping[str, Any]) -> str:
    """API Gateway's request id: the id a user quotes, and the correlation id in logs and events."""
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or "")
