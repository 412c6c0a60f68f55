"""The OpenAPI document of the core API, generated from the routes and schemas.

``GET /api/schema/`` serves it (as CVAT does) and ``/api/swagger`` shows it in Swagger UI with the
assets powertools bundles (works offline). The committed copy, ``docs/openapi.json``, is
regenerated with ``python -m cvat_serverless.api.openapi > docs/openapi.json``; a test keeps it
current.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from .cvat_api import CvatApi
    from .services import ApiServices

TITLE = "CVAT REST API"
DESCRIPTION = "CVAT's REST API (cvat-sdk / cvat-cli 2.80 compatible), served by cvat-serverless."
SCHEMA_PATH = "/api/schema"
SWAGGER_PATH = "/api/swagger"


def security_schemes() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import (
        APIKey,
        HTTPBase,
        HTTPBearer,
    )

    def api_key(name: str, where: str, description: str | None = None) -> APIKey:
        data = {"type": "apiKey", "name": name, "in": where, "description": description}
        return APIKey.model_validate({k: v for k, v in data.items() if v is not None})

    return {
        "sessionAuth": api_key("sessionid", "cookie"),
        "csrfAuth": api_key("csrftoken", "cookie"),
        "csrfHeaderAuth": api_key("X-CSRFToken", "header"),
        "tokenAuth": api_key("Authorization", "header", "The key of POST /api/auth/login, as 'Token <key>'"),
        "basicAuth": HTTPBase(scheme="basic"),
        "accessTokenAuth": HTTPBearer(description="A personal access token (/api/auth/access_tokens)"),
    }


SECURITY: list[dict[str, list[str]]] = [
    {"accessTokenAuth": []},
    {"basicAuth": []},
    {"tokenAuth": []},
    {"sessionAuth": [], "csrfAuth": [], "csrfHeaderAuth": []},
]


def schema_dict(resolver: APIGatewayRestResolver, version: str) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import Server

    schema = resolver.get_openapi_schema(
        title=TITLE,
        version=version,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes=security_schemes(),
        security=SECURITY,
    )
    data: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    return data


REGISTER_PATH = "/api/auth/register"


def render(resolver: APIGatewayRestResolver, version: str, *, hidden: frozenset[str] = frozenset()) -> str:
    """The document as JSON, without the paths in ``hidden`` (what this deployment does not serve:
    CVAT's UI reads the schema's paths to know, for one, whether to offer registration)."""
    data = schema_dict(resolver, version)
    for path in hidden:
        data["paths"].pop(path, None)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def swagger_html(resolver: APIGatewayRestResolver, version: str) -> str:
    """Swagger UI for the document, with powertools' bundled JS/CSS inlined (no CDN)."""
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    spec = render(resolver, version).replace("</", "<\\/")
    return generate_swagger_html(
        spec,
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )


class _NoServices:
    """The document is generated from the routes alone: nothing may call a service."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no services here ({name}): this app only renders its OpenAPI document")


def document_app() -> CvatApi:
    """The core API with every router included and no services: what the document describes."""
    from .function_apps import core_api

    app = core_api(cast("ApiServices", _NoServices()))
    app.include_all()
    return app


def main() -> None:
    app = document_app()
    sys.stdout.write(render(app.resolver, app.version))


if __name__ == "__main__":
    main()
