"""The OpenAPI document: served at /api/schema/, shown by Swagger UI offline, committed and current."""

from __future__ import annotations

from pathlib import Path

from cvat_serverless.api import openapi
from tests.functional._api_world import api_fixture  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"


def test_committed_schema_is_current():
    app = openapi.document_app()
    current = openapi.render(app.resolver, app.version)
    assert COMMITTED.read_text() == current, (
        "docs/openapi.json is stale: run `.venv/bin/python -m cvat_serverless.api.openapi > docs/openapi.json`"
    )


def test_schema_is_served_with_every_sdk_path(api):
    answer = api.get("/api/schema/")
    assert answer.status == 200
    assert answer.header("Content-Type") == "application/vnd.oai.openapi+json"
    doc = answer.body
    assert doc["openapi"].startswith("3.")
    for path in ("/api/auth/login", "/api/projects", "/api/projects/{id}", "/api/tasks", "/api/tasks/{id}",
                 "/api/jobs", "/api/jobs/{id}", "/api/labels", "/api/users/self", "/api/organizations",
                 "/api/memberships", "/api/invitations/{key}/accept", "/api/auth/access_tokens/self",
                 "/api/server/about", "/api/server/annotation/formats"):
        assert path in doc["paths"], path
    params = {p["name"] for p in doc["paths"]["/api/tasks"]["get"]["parameters"]}
    assert {"page", "page_size", "sort", "search", "filter", "org", "org_id", "project_id", "name"} <= params
    assert {"accessTokenAuth", "sessionAuth", "basicAuth", "tokenAuth"} <= set(doc["components"]["securitySchemes"])
    task = doc["components"]["schemas"]["TaskRead"]
    assert {"jobs", "labels", "id", "name", "size"} <= set(task["required"])


def test_swagger_ui_is_self_contained(api):
    answer = api.get("/api/swagger")
    assert answer.status == 200
    html = answer.body
    assert "<html" in html.lower() and "SwaggerUIBundle" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()  # offline: assets inlined
