"""Putting data into a task: CVAT's upload protocol for ``POST /api/tasks/{id}/data/`` and the
background request that processes the data.

The protocol (reference/cvat-api/contract.md §6): ``Upload-Start`` clears the task's staging area;
``Upload-Multiple`` adds files; TUS creates a file and appends its parts (``PATCH``, ``HEAD``);
``Upload-Finish`` (or one legacy request with files and parameters together, or JSON naming
``server_files``/``remote_files``) validates CVAT's data parameters and starts the task-data
workflow, answering the request id. Files wait under ``staging/tasks/<task>/`` (domain.task_data);
the workflow (services.pipeline) turns them into chunks, frames and jobs.

A task takes data once: a second upload while the task has data, or while its data is being
processed, is a 400 as in CVAT; after a failed processing the task takes a new upload.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.errors import ConflictError, NotFoundError, PayloadTooLargeError, ValidationError
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus, task_creation_request_id
from ..domain.task_data import (
    DataKeys,
    DataRequest,
    TusOffsetConflictError,
    TusUpload,
    parse_data_request,
    safe_upload_name,
)
from ..domain.tasks import Task
from ..ports import BlobStore, Clock, IdGenerator, Repositories, WorkflowStarter
from .common import task_ref

WORKFLOW = "task-data"
UPLOAD_PATHS = (
    "upload the files with `cvat-serverless upload`, put them in the server share "
    "(`server_files`) or in the drop folder (`uploads/projects/<project id>/`), or give `remote_files` URLs"
)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    name: str  # as the client named it (the SDK sends absolute paths; only the basename is kept)
    body: bytes | BinaryIO
    content_type: str = ""


class TaskDataService:
    def __init__(self, repos: Repositories, blobs: BlobStore, workflows: WorkflowStarter, ids: IdGenerator,
                 clock: Clock, *, max_request_bytes: int = 0) -> None:
        self.repos = repos
        self.blobs = blobs
        self.workflows = workflows
        self.ids = ids
        self.clock = clock
        # The largest request body the deployment can receive (0: no limit). On AWS a Lambda
        # receives at most 6 MB: a TUS upload whose 10 MiB chunks could never arrive is refused
        # when it is created, naming the paths that work.
        self.max_request_bytes = max_request_bytes

    # --- checks --------------------------------------------------------------------------------

    def _task(self, ctx: RequestContext, task_id: int) -> Task:
        ctx.require_write()
        task = self.repos.tasks.get(task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id is not None else None
        perm.check(ctx.actor, "upload:data", task_ref(task, project))
        return task

    def _check_takes_data(self, task: Task) -> None:
        if task.has_data:
            raise ValidationError("Adding more data is not supported")
        running = [r for r in self.repos.requests.list_by_task(task.id)
                   if r.action is RequestAction.CREATE and not r.status.ended]
        if running:
            raise ValidationError(f"The task's data is being processed (request {running[0].id}).")

    def check_upload(self, ctx: RequestContext, task_id: int) -> Task:
        """The task, when the caller may upload its data and it takes data (services.direct_uploads)."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        return task

    def taken_names(self, task_id: int) -> set[str]:
        """The names of the files the task's upload holds already (staged or TUS)."""
        return set(self._staged(task_id)) | {u.filename for u in self.repos.tus_uploads.list_by_task(task_id)}

    def _staged(self, task_id: int) -> list[str]:
        prefix = DataKeys(task_id).staged_file("")
        return [key[len(prefix):] for key, _ in self.blobs.list_keys(prefix)]

    # --- the protocol ----------------------------------------------------------------------------

    def start_upload(self, ctx: RequestContext, task_id: int) -> None:
        """``Upload-Start``: a new upload replaces whatever an unfinished one left."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        self._clear_staging(task_id)

    def _clear_staging(self, task_id: int) -> None:
        for upload in self.repos.tus_uploads.list_by_task(task_id):
            self.repos.tus_uploads.delete(upload.id)
        self.blobs.delete_prefix(DataKeys(task_id).staging)

    def add_files(self, ctx: RequestContext, task_id: int, files: Iterable[UploadedFile]) -> list[str]:
        """``Upload-Multiple``: store files; a name uploaded twice is a 409 (the SDK resolves paths,
        so two different files with one basename would overwrite each other)."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        return self._store(task_id, files)

    def _store(self, task_id: int, files: Iterable[UploadedFile]) -> list[str]:
        taken = set(self._staged(task_id)) | {u.filename for u in self.repos.tus_uploads.list_by_task(task_id)}
        names = []
        for f in files:
            name = safe_upload_name(f.name)
            if name in taken:
                raise ConflictError(f"A file named {name} was uploaded already.")
            self.blobs.put(DataKeys(task_id).staged_file(name), f.body, content_type=f.content_type)
            taken.add(name)
            names.append(name)
        return names

    def create_tus(self, ctx: RequestContext, task_id: int, filename: str, length: int) -> TusUpload:
        """TUS create: a file of ``length`` bytes whose parts follow as PATCHes."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        if length < 0:
            raise ValidationError("Upload-Length must be a non-negative integer.")
        if self.max_request_bytes and length > self.max_request_bytes:
            raise PayloadTooLargeError(
                f"{filename} ({length} bytes) cannot be uploaded through this API: a request body may hold "
                f"at most {self.max_request_bytes} bytes here. Instead, {UPLOAD_PATHS}."
            )
        name = safe_upload_name(filename)
        if name in set(self._staged(task_id)) | {u.filename for u in self.repos.tus_uploads.list_by_task(task_id)}:
            raise ConflictError(f"A file named {name} was uploaded already.")
        upload = TusUpload(id=f"{ctx.user_id}_{uuid.uuid4()}", task_id=task_id, owner_id=ctx.user_id,
                           filename=name, length=length, created_date=self.clock.now())
        return self.repos.tus_uploads.add(upload)

    def _tus(self, ctx: RequestContext, task_id: int, upload_id: str) -> TusUpload:
        try:
            upload = self.repos.tus_uploads.get(upload_id)
        except NotFoundError:
            raise NotFoundError("No such upload.") from None
        if upload.task_id != task_id or upload.owner_id != ctx.user_id:
            raise NotFoundError("No such upload.")  # another user's upload does not exist for you
        return upload

    def tus_offset(self, ctx: RequestContext, task_id: int, upload_id: str) -> TusUpload:
        """TUS HEAD: how much of the file arrived."""
        return self._tus(ctx, task_id, upload_id)

    def append_tus(self, ctx: RequestContext, task_id: int, upload_id: str, offset: int, data: bytes) -> TusUpload:
        """TUS PATCH: the part at ``offset`` (a ConflictError carrying the current offset when the
        client is not where the server is, so it can resume)."""
        ctx.require_write()
        upload = self._tus(ctx, task_id, upload_id)
        if offset != upload.offset:
            raise TusOffsetConflictError(upload.offset)
        if offset + len(data) > upload.length:
            raise ValidationError("The part goes past Upload-Length.")
        if data:
            self.blobs.put(DataKeys(task_id).tus_part(upload.id, offset), data)
            upload.parts.append(offset)
            upload.offset = offset + len(data)
            try:
                upload = self.repos.tus_uploads.save(upload)
            except ConflictError:  # another PATCH of the same offset landed first
                raise TusOffsetConflictError(self.repos.tus_uploads.get(upload.id).offset) from None
        return upload

    def finish(self, ctx: RequestContext, task_id: int, params: Mapping[str, Any], *,
               files: Iterable[UploadedFile] = (), fresh: bool = False) -> BackgroundRequest:
        """``Upload-Finish`` (with the parameters as JSON), the one-request multipart form (files
        and parameters together) or JSON naming share or remote files: validate CVAT's data
        parameters and start processing; the request as ``GET /api/requests/{id}`` shows it.
        ``fresh``: a request that brings everything (no Upload-Start before it) ignores what an
        earlier, unfinished upload left."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        if fresh:
            self._clear_staging(task_id)
        added = self._store(task_id, files)
        uploads = self.repos.tus_uploads.list_by_task(task_id)
        unfinished = [u.filename for u in uploads if not u.complete]
        if unfinished:
            raise ValidationError(f"The upload of {unfinished[0]} is not complete.")
        staged = self._staged(task_id)
        in_order = added + [n for n in staged if n not in set(added)] + [u.filename for u in uploads]
        request = parse_data_request(params, client_files=in_order if (staged or uploads) else ())
        if request.resource_type.value == "local" and not request.client_files:
            raise ValidationError("No media data found")
        data_id = self.ids.next_id("data")
        return self._start(ctx, task, data_id, request, {u.filename: (u.id, list(u.parts)) for u in uploads})

    def start_in_place(self, ctx: RequestContext, task_id: int, params: Mapping[str, Any], *, prefix: str,
                       names: Sequence[str]) -> BackgroundRequest:
        """Process files that are in the media bucket already, the objects ``<prefix><name>``
        (the drop folder, services.ingest): read where they are, never copied to the staging area
        nor removed. CVAT's data parameters as ``finish`` takes them."""
        task = self._task(ctx, task_id)
        self._check_takes_data(task)
        request = parse_data_request(params, client_files=[safe_upload_name(n) for n in names])
        if not request.client_files:
            raise ValidationError("No media data found")
        return self._start(ctx, task, self.ids.next_id("data"), request, {}, source_prefix=prefix)

    def _start(self, ctx: RequestContext, task: Task, data_id: int, request: DataRequest,
               tus: Mapping[str, tuple[str, list[int]]], *, source_prefix: str = "") -> BackgroundRequest:
        keys = DataKeys(task.id, data_id)
        attempt = uuid.uuid4().hex[:8]
        now = self.clock.now()
        rq = BackgroundRequest(
            id=task_creation_request_id(task.id, attempt), action=RequestAction.CREATE, target="task",
            owner_id=ctx.user_id, organization_id=task.organization_id, project_id=task.project_id,
            task_id=task.id, created_date=now, workflow=WORKFLOW,
        )
        # Step Functions names: letters, digits, - and _ only, at most 80
        rq.execution_name = f"task-{task.id}-data-{data_id}-{attempt}"
        rq.workflow_input = {"request_id": rq.id, "task_id": task.id, "data_id": data_id}
        document = {"data": request.to_dict(), "tus": {name: {"id": i, "parts": p} for name, (i, p) in tus.items()},
                    "request_id": rq.id, "owner_id": ctx.user_id}
        if source_prefix:  # services.pipeline reads client_files there instead of the staging area
            document["source_prefix"] = source_prefix
        self.blobs.put(keys.request, json.dumps(document).encode(), content_type="application/json")
        rq = self.repos.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The processing could not be started; try again."
            rq.finished_date = self.clock.now()
            self.repos.requests.save(rq)
            raise
        return rq

