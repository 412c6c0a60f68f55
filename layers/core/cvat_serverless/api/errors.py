"""The ONE mapping from the product's errors to HTTP, in CVAT's (Django REST framework's) bodies.

- field validation errors: 400 ``{"field": ["message", ...]}``
- other validation errors: 400 ``["message"]``
- everything else: ``{"detail": "message"}`` with the status below
Unexpected exceptions are logged with their stack and answer 500 without internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..domain import errors as e

logger = Logger(child=True)

# Most specific first: the first matching class wins.
STATUS_BY_ERROR: tuple[tuple[type[e.CvatServerlessError], int], ...] = (
    (e.ValidationError, 400),
    (e.AuthenticationError, 401),
    (e.PermissionDeniedError, 403),
    (e.NotFoundError, 404),
    (e.ConflictError, 409),
    (e.PayloadTooLargeError, 413),
    (e.ThrottledError, 429),
    (e.DependencyUnavailableError, 503),
    (e.UpstreamTimeoutError, 504),
)


def status_for(error: e.CvatServerlessError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def body_for(error: e.CvatServerlessError) -> Any:
    if isinstance(error, e.ValidationError):
        return error.fields if error.fields else [error.message]
    if status_for(error) == 500:
        return {"detail": "Internal server error."}
    return {"detail": error.message}


def error_response(error: e.CvatServerlessError) -> Response[Any]:
    status = status_for(error)
    if status == 500:
        logger.exception("Unmapped product error", extra={"error_type": type(error).__name__})
    headers: dict[str, str | list[str]] = {}
    if isinstance(error, e.ThrottledError | e.DependencyUnavailableError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, e.AuthenticationError):
        headers["WWW-Authenticate"] = 'Token realm="api"'
    offset = getattr(error, "offset", None)  # TusOffsetConflictError: where a TUS client resumes
    if isinstance(error, e.ConflictError) and isinstance(offset, int):
        headers["Upload-Offset"] = str(offset)
        headers["Tus-Resumable"] = "1.0.0"
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body_for(error), headers=headers)


def _pydantic_fields(exc: RequestValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        name = ".".join(loc) or "non_field_errors"
        message = str(err.get("msg", "Invalid value."))
        if err.get("type") == "missing":
            message = "This field is required."
        fields.setdefault(name, []).append(message)
    return fields


def _request_validation_error(exc: RequestValidationError) -> Response[Any]:
    # CVAT's URLs only match numeric ids (``\d+``): /api/tasks/abc is no route there, so a 404.
    if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
        return error_response(e.NotFoundError("Not found."))
    return error_response(e.ValidationError(fields=_pydantic_fields(exc)))


def register(app: APIGatewayRestResolver) -> None:
    """Install the mapping on an app; every API function calls this through create_app()."""

    handlers: dict[type[Exception], Callable[[Any], Response[Any]]] = {
        e.CvatServerlessError: error_response,
        RequestValidationError: _request_validation_error,
    }
    for exc_type, handler in handlers.items():
        app.exception_handler(exc_type)(handler)

    @app.not_found
    def _not_found(_: RouteNotFoundError) -> Response[Any]:
        return error_response(e.NotFoundError("Not found."))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("Unhandled error", extra={"error_type": type(exc).__name__})
        return Response(status_code=500, content_type=content_types.APPLICATION_JSON,
                        body={"detail": "Internal server error."})
