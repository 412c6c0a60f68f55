"""Importing annotations (``POST /api/tasks|jobs/{id}/annotations``) and datasets
(``POST /api/projects/{id}/dataset``): CVAT's upload protocol in front of the import workflow.

``Upload-Start`` checks that the caller may import into the resource and that the format exists
(an unknown format is a 400 before any byte is accepted); TUS create/PATCH/HEAD store the file
(services.uploads); ``Upload-Finish`` (or one multipart request with ``annotation_file`` /
``dataset_file``) accepts the import as a background request (``import:annotations`` or
``import:dataset``) and starts the import workflow, whose step (services.import_worker) parses
the whole file, then saves. This module stays on the API's import path: it loads no format
module's dependencies (numpy, Pillow); the registry only names the formats.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, BinaryIO

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, ValidationError
from ..domain.projects import Project
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus
from ..domain.tasks import Task
from ..domain.uploads import Upload, UploadScope
from ..formats.registry import get_importer_spec
from ..ports import Clock, Repositories, WorkflowStarter
from .common import job_ref, project_ref, task_ref
from .uploads import StartedDirectUpload, UploadService

WORKFLOW = "import-annotations"
TARGETS = ("task", "job", "project")
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False, "": False}


class ImportMode(StrEnum):
    """CVAT's ``import_mode``: ``replace`` (the default) removes what the task or job has first."""

    APPEND = "append"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class ImportParams:
    """The query of an import request (contract.md §6.1)."""

    format: str
    filename: str = ""  # Upload-Start: the client's file name; Upload-Finish: the upload id
    conv_mask_to_poly: bool = False
    import_mode: ImportMode = ImportMode.REPLACE


def parse_import_params(query: Mapping[str, str]) -> ImportParams:
    """CVAT's import query: ``format`` (required, an importer's display name), ``filename``,
    ``conv_mask_to_poly`` (true/false) and ``import_mode`` (append/replace)."""
    name = (query.get("format") or "").strip()
    if not name:
        raise ValidationError(fields={"format": ["This field is required: an import format, e.g. CVAT 1.1."]})
    get_importer_spec(name)  # UnknownFormatError (400) naming the supported formats
    conv = str(query.get("conv_mask_to_poly") or "").strip().lower()
    if conv not in _BOOL_TEXT:
        raise ValidationError(fields={"conv_mask_to_poly": ["Must be a valid boolean."]})
    mode = query.get("import_mode") or ImportMode.REPLACE.value
    try:
        import_mode = ImportMode(mode)
    except ValueError:
        raise ValidationError(fields={"import_mode": [f'"{mode}" is not a valid choice; use append or replace.']}) \
            from None
    return ImportParams(format=name, filename=str(query.get("filename") or ""), conv_mask_to_poly=_BOOL_TEXT[conv],
                        import_mode=import_mode)


@dataclass(frozen=True, slots=True)
class ImportJob:
    """What the import workflow runs (its execution input; small: the file stays in S3)."""

    request_id: str
    target: str  # task | job | project
    resource_id: int
    format: str
    upload_id: str
    conv_mask_to_poly: bool = False
    import_mode: str = ImportMode.REPLACE.value

    @property
    def scope(self) -> UploadScope:
        return upload_scope(self.target, self.resource_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def upload_scope(target: str, resource_id: int) -> UploadScope:
    return UploadScope("dataset" if target == "project" else "annotations", target, resource_id)


class ImportService:
    def __init__(self, repos: Repositories, uploads: UploadService, workflows: WorkflowStarter, clock: Clock) -> None:
        self.repos = repos
        self.uploads = uploads
        self.workflows = workflows
        self.clock = clock

    # --- who may import where ----------------------------------------------------------------

    def check_access(self, ctx: RequestContext, target: str, resource_id: int) -> Task | None:
        """The caller may import into the resource (``import:annotations`` of a task or job,
        ``import:dataset`` of a project); the task, for a task or a job (None for a project)."""
        ctx.require_write()
        if target == "project":
            project = self.repos.projects.get(resource_id)
            perm.check(ctx.actor, "import:dataset", project_ref(project))
            return None
        if target == "job":
            job = self.repos.jobs.get(resource_id)
            task = self.repos.tasks.get(job.task_id)
            perm.check(ctx.actor, "import:annotations", job_ref(job, task, self._project_of(task)))
            return task
        if target != "task":
            raise ValueError(f"unknown import target {target!r}")
        task = self.repos.tasks.get(resource_id)
        perm.check(ctx.actor, "import:annotations", task_ref(task, self._project_of(task)))
        return task

    def _project_of(self, task: Task) -> Project | None:
        return self.repos.projects.get(task.project_id) if task.project_id else None

    def _check_importable(self, target: str, resource_id: int, task: Task | None) -> None:
        if task is not None and not task.size:
            raise ValidationError("The task has no data yet: annotations can be imported once its data is processed.")
        if target == "project":
            tasks = [t for t in self.repos.tasks.list_by_project(resource_id) if t.size]
            if not tasks:
                raise ValidationError("The project has no task with data: a dataset is imported into the project's "
                                      "existing tasks, matched by frame names.")
        running = self._running(target, resource_id, task)
        if running:
            raise ConflictError(f"An import into this {target} is in progress (request {running[0].id}).")

    def _running(self, target: str, resource_id: int, task: Task | None) -> list[BackgroundRequest]:
        if task is None:
            return []
        return [r for r in self.repos.requests.list_by_task(task.id)
                if r.action is RequestAction.IMPORT and not r.status.ended and r.target == target
                and (target == "task" or r.job_id == resource_id)]

    # --- the protocol ----------------------------------------------------------------------------

    def start(self, ctx: RequestContext, target: str, resource_id: int, query: Mapping[str, str]) -> ImportParams:
        """``Upload-Start``: the import would be accepted (access, format, data); nothing stored."""
        params = parse_import_params(query)
        task = self.check_access(ctx, target, resource_id)
        self._check_importable(target, resource_id, task)
        return params

    def create_upload(self, ctx: RequestContext, target: str, resource_id: int, filename: str, length: int) -> Upload:
        """TUS create: an upload of the file to import, the caller's, in this resource's scope."""
        self.check_access(ctx, target, resource_id)
        return self.uploads.create(upload_scope(target, resource_id), ctx.user_id, filename, length)

    def append(self, ctx: RequestContext, target: str, resource_id: int, upload_id: str, *, offset: int,
               data: bytes) -> Upload:
        """TUS PATCH of one of the caller's uploads."""
        ctx.require_write()
        return self.uploads.append(upload_scope(target, resource_id), ctx.user_id, upload_id, offset, data)

    def offset(self, ctx: RequestContext, target: str, resource_id: int, upload_id: str) -> Upload:
        """TUS HEAD of one of the caller's uploads."""
        return self.uploads.get(upload_scope(target, resource_id), ctx.user_id, upload_id)

    def start_direct_upload(self, ctx: RequestContext, target: str, resource_id: int, filename: str,
                            length: int) -> StartedDirectUpload:
        """A direct upload of the file to import (presigned S3 parts, services.uploads): who may
        create the TUS upload may start it. ``Upload-Finish`` with its id imports it."""
        self.check_access(ctx, target, resource_id)
        return self.uploads.start_direct(upload_scope(target, resource_id), ctx.user_id, filename, length)

    def complete_direct_upload(self, ctx: RequestContext, target: str, resource_id: int, upload_id: str,
                               parts: Sequence[tuple[int, str]]) -> Upload:
        """Join the parts (number, ETag) of one of the caller's direct uploads."""
        self.check_access(ctx, target, resource_id)
        return self.uploads.complete_direct(upload_scope(target, resource_id), ctx.user_id, upload_id, parts)

    def abort_direct_upload(self, ctx: RequestContext, target: str, resource_id: int, upload_id: str) -> None:
        """Drop one of the caller's direct uploads."""
        ctx.require_write()
        self.uploads.abort_direct(upload_scope(target, resource_id), ctx.user_id, upload_id)

    def finish(self, ctx: RequestContext, target: str, resource_id: int, query: Mapping[str, str]
               ) -> BackgroundRequest:
        """``Upload-Finish``: the upload named by ``filename`` is imported in the background; the
        request as ``GET /api/requests/{id}`` shows it."""
        params = parse_import_params(query)
        task = self.check_access(ctx, target, resource_id)
        self._check_importable(target, resource_id, task)
        upload = self.uploads.finished(upload_scope(target, resource_id), ctx.user_id, params.filename)
        return self._start(ctx, target, resource_id, task=task, params=params, upload=upload)

    def import_file(self, ctx: RequestContext, target: str, resource_id: int, query: Mapping[str, str], *,
                    filename: str, body: bytes | BinaryIO) -> BackgroundRequest:
        """CVAT's one-request form (multipart ``annotation_file`` / ``dataset_file``)."""
        params = parse_import_params(query)
        task = self.check_access(ctx, target, resource_id)
        self._check_importable(target, resource_id, task)
        upload = self.uploads.store(upload_scope(target, resource_id), ctx.user_id, filename, body)
        return self._start(ctx, target, resource_id, task=task, params=params, upload=upload)

    def _start(self, ctx: RequestContext, target: str, resource_id: int, *, task: Task | None,
               params: ImportParams, upload: Upload) -> BackgroundRequest:
        subresource = "dataset" if target == "project" else "annotations"
        attempt = uuid.uuid4().hex[:8]
        project_id = resource_id if target == "project" else (task.project_id if task else None)
        organization_id = task.organization_id if task else self.repos.projects.get(resource_id).organization_id
        rq = BackgroundRequest(
            id=f"import:{target}-{resource_id}-{subresource}-{attempt}", action=RequestAction.IMPORT,
            target=target, subresource=subresource, owner_id=ctx.user_id, organization_id=organization_id,
            project_id=project_id, task_id=task.id if task else None,
            job_id=resource_id if target == "job" else None, format=params.format, created_date=self.clock.now(),
            workflow=WORKFLOW,
        )
        rq.execution_name = f"import-{target}-{resource_id}-{subresource}-{attempt}"
        rq.workflow_input = ImportJob(
            request_id=rq.id, target=target, resource_id=resource_id, format=params.format, upload_id=upload.id,
            conv_mask_to_poly=params.conv_mask_to_poly, import_mode=params.import_mode.value).to_dict()
        rq = self.repos.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The import could not be started; try again."
            rq.finished_date = self.clock.now()
            self.repos.requests.save(rq)
            raise
        return rq

