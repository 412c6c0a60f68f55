"""The app factory every API function uses: one resolver, one error mapping, one request id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..domain.errors import CvatServerlessError, ValidationError
from . import errors

REQUEST_ID_HEADER = "X-Request-Id"
API_VERSION = "2.80.0"


class CvatApi:
    """An APIGatewayRestResolver with CVAT's error bodies and an X-Request-Id on every answer.

    With ``openapi=True`` it also serves its OpenAPI document at ``/api/schema/`` and Swagger UI
    at ``/api/swagger`` (both generated from the routes; the UI's assets ship with powertools).
    """

    def __init__(self, *routers: Router, title: str = "CVAT REST API", openapi: bool = False) -> None:
        self.resolver = APIGatewayRestResolver(enable_validation=True)
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
            return Response(
                status_code=200,
                content_type="application/vnd.oai.openapi+json",
                body=openapi.render(resolver, self.version),
            )

        # Not powertools' enable_swagger: it imports the OpenAPI models at start-up; this builds
        # the page (with powertools' bundled assets, so it works offline) on request only.
        @resolver.get(openapi.SWAGGER_PATH, include_in_schema=False)
        def swagger() -> Response[Any]:
            return Response(
                status_code=200, content_type="text/html", body=openapi.swagger_html(resolver, self.version)
            )

    def handle(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = self.resolver.resolve(dict(event), context)
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
