"""The apps of the API functions, as template.yaml routes them (paths under /api). The
composition root (bootstrap) calls these with the services, once per cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cvat_api import CvatApi

if TYPE_CHECKING:
    from .services import ApiServices

_ROUTERS = "cvat_serverless.api.routers."


def core_api(services: ApiServices) -> CvatApi:
    """Core resources: auth, users, organizations, projects, tasks, jobs, labels, server. Each
    router is imported on the first request under its prefix: a cold start pays only for what it
    serves."""
    return CvatApi(
        services,
        openapi=True,
        lazy_routers={
            "/api/server": _ROUTERS + "server",
            "/api/auth": _ROUTERS + "auth",
            "/api/users": _ROUTERS + "users",
            "/api/organizations": _ROUTERS + "organizations",
            "/api/memberships": _ROUTERS + "organizations",
            "/api/invitations": _ROUTERS + "organizations",
            "/api/projects": _ROUTERS + "projects",
            "/api/tasks": _ROUTERS + "tasks",
            "/api/jobs": _ROUTERS + "jobs",
            "/api/labels": _ROUTERS + "labels",
        },
    )


def annotations_api(services: ApiServices) -> CvatApi:
    """/api/tasks/{id}/annotations and /api/jobs/{id}/annotations: their own function, so heavy
    annotation payloads scale and time out apart from the core API. Its routes land with the
    annotations issue; until then it answers CVAT's 404 body."""
    return CvatApi(services, title="CVAT annotations API")


def webhooks_api(services: ApiServices) -> CvatApi:
    """/api/webhooks*: their own function; routes land with the webhooks issue."""
    return CvatApi(services, title="CVAT webhooks API")
