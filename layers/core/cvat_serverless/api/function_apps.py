"""The apps of the API functions, as template.yaml routes them (paths under /api). The
composition root (bootstrap) calls these with the services, once per cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cvat_api import CvatApi

if TYPE_CHECKING:
    from .services import ApiServices

_ROUTERS = "cvat_serverless.api.routers."
MEDIA_READS = _ROUTERS + "media_reads"
"""Task data reads. The media API function serves them (template.yaml routes them there); the core
API includes them too, so that its OpenAPI document describes the whole API. Routers are included
in name order: media_reads comes before task_data, whose ``PATCH /api/tasks/{id}/data/{upload}``
would otherwise take ``PATCH .../data/meta``."""
EXPORTS = _ROUTERS + "exports"
"""Dataset exports and their downloads (the core API: starting a workflow and a redirect are light)."""
ANNOTATIONS = _ROUTERS + "annotations"
"""Annotations of tasks and jobs: the annotations API function serves them; the core API includes
them for its OpenAPI document."""
IMPORTS = _ROUTERS + "imports"
"""Imports with CVAT's upload protocol: the annotations API function serves a task's or a job's
(``/api/tasks|jobs/{id}/annotations``), the core API a project's dataset (``/api/projects/{id}/dataset``,
beside the dataset exports under that path) and includes the rest for its OpenAPI document."""
DIRECT_IMPORTS = _ROUTERS + "direct_imports"
WEBHOOKS = _ROUTERS + "webhooks"
"""/api/webhooks*: the webhooks API function serves them; the core API includes them for its OpenAPI document."""
"""Direct (presigned S3) uploads of the file of an import or a restore: served beside IMPORTS, under
the same paths."""
LAMBDA_FUNCTIONS = _ROUTERS + "lambda_functions"
"""/api/lambda/*: the functions API function serves them; the core API includes them for its OpenAPI document."""
AGENT_FUNCTIONS = _ROUTERS + "agent_functions"
"""/api/functions*: cvat-cli's agent protocol, served by the functions API function; the core API
includes it for its OpenAPI document."""


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
            "/api/projects": (_ROUTERS + "backups", _ROUTERS + "projects", MEDIA_READS, EXPORTS, IMPORTS,
                              DIRECT_IMPORTS),
            "/api/tasks": (ANNOTATIONS, _ROUTERS + "backups", _ROUTERS + "tasks", _ROUTERS + "task_data",
                           _ROUTERS + "direct_uploads", MEDIA_READS, EXPORTS, IMPORTS, DIRECT_IMPORTS),
            "/api/jobs": (ANNOTATIONS, _ROUTERS + "jobs", MEDIA_READS, EXPORTS, IMPORTS, DIRECT_IMPORTS),
            "/api/labels": _ROUTERS + "labels",
            "/api/issues": _ROUTERS + "issues",
            "/api/comments": _ROUTERS + "issues",
            "/api/requests": _ROUTERS + "requests",
            "/api/webhooks": WEBHOOKS,  # served by the webhooks function; here for the OpenAPI document
            "/api/lambda": LAMBDA_FUNCTIONS,  # served by the functions function; here for the OpenAPI document
            "/api/functions": AGENT_FUNCTIONS,  # likewise
            "/api/events": _ROUTERS + "events",
        },
    )


def annotations_api(services: ApiServices) -> CvatApi:
    """/api/tasks/{id}/annotations and /api/jobs/{id}/annotations[/history...]: their own
    function, so heavy annotation payloads scale and time out apart from the core API."""
    return CvatApi(services, title="CVAT annotations API", lazy_routers={
        prefix: (ANNOTATIONS, IMPORTS, DIRECT_IMPORTS) for prefix in ("/api/tasks", "/api/jobs")})


def webhooks_api(services: ApiServices) -> CvatApi:
    """/api/webhooks*: their own function (it delivers pings, so it reaches the internet)."""
    return CvatApi(services, title="CVAT webhooks API", lazy_routers={"/api/webhooks": WEBHOOKS})


def functions_api(services: ApiServices) -> CvatApi:
    """/api/lambda/* (CVAT's lambda API: the model registry, auto-annotation, interactive calls)
    and /api/functions* (the agent protocol): their own function, with the rights to call model
    endpoints and to start and stop auto-annotation."""
    return CvatApi(services, title="CVAT functions API", lazy_routers={
        "/api/lambda": LAMBDA_FUNCTIONS, "/api/functions": AGENT_FUNCTIONS})


def media_api(services: ApiServices) -> CvatApi:
    """Reading task data (chunks, frames, previews, data/meta of tasks and jobs): its own function
    with the media layer (a video's original frames are decoded here), so big reads scale and
    time out apart from the core API."""
    return CvatApi(services, title="CVAT media API", lazy_routers={
        prefix: MEDIA_READS for prefix in ("/api/tasks", "/api/jobs", "/api/projects")})
