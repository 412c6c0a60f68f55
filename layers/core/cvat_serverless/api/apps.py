"""One app per API function, as template.yaml routes them (paths under /api)."""

from __future__ import annotations

from .app import CvatApi
from .routers import auth, jobs, labels, organizations, projects, server, tasks, users

# Core resources: auth, users, organizations, projects, tasks, jobs, labels, server.
core_api = CvatApi(
    server.router,
    auth.router,
    users.router,
    organizations.router,
    projects.router,
    tasks.router,
    jobs.router,
    labels.router,
    openapi=True,
)

# /api/tasks/{id}/annotations and /api/jobs/{id}/annotations: routed to their own function so
# heavy annotation payloads scale and time out apart from the core API. Its routes land with the
# annotations issue; until then it answers CVAT's 404 body.
annotations_api = CvatApi(title="CVAT annotations API")

# /api/webhooks*: routed to their own function; routes land with the webhooks issue.
webhooks_api = CvatApi(title="CVAT webhooks API")
