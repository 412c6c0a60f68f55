"""One app per API function, as template.yaml routes them (paths under /api)."""

from __future__ import annotations

from .app import CvatApi

_ROUTERS = "cvat_serverless.api.routers."

# Core resources: auth, users, organizations, projects, tasks, jobs, labels, server. Each router
# is imported on the first request under its prefix: a cold start pays only for what it serves.
core_api = CvatApi(
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

# /api/tasks/{id}/annotations and /api/jobs/{id}/annotations: routed to their own function so
# heavy annotation payloads scale and time out apart from the core API. Its routes land with the
# annotations issue; until then it answers CVAT's 404 body.
annotations_api = CvatApi(title="CVAT annotations API")

# /api/webhooks*: routed to their own function; routes land with the webhooks issue.
webhooks_api = CvatApi(title="CVAT webhooks API")
