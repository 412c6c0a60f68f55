"""Dataset exports (CVAT's ``POST /api/{projects,tasks,jobs}/{id}/dataset/export``): the request,
the workflow's steps, and the download of the result.

The workflow (statemachines/export_dataset.asl.json; domain.exports says why it is shaped so):

1. ``annotations``: build the dataset view (labels, frames, annotations) of the target, and its
   fingerprint. A stored result with that fingerprint answers the request at once. Otherwise the
   formats engine writes the archive once, to local disk: without images that is the result;
   with images each image's member is only named (formats.archive.ImageSlot), and the names are
   planned into parts, a few task chunks each.
2. ``images`` (a Map over the parts, in parallel): the part's frames, read from the task's
   original chunks, written as one piece of ZIP records.
3. ``finalize``: the pieces, the annotations' records and a new central directory joined into
   one object by a multipart upload whose big parts S3 copies itself (formats.zipjoin).

No step holds the dataset in memory or needs the whole time budget of one Lambda: an export
with more images has more parts.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..domain import permissions as perm
from ..domain.annotations import DatasetView, FrameInfo, LabeledData, LabelSpec
from ..domain.context import RequestContext
from ..domain.errors import NotFoundError, ValidationError
from ..domain.events import DomainEvent
from ..domain.exports import (
    CACHE_FRESH,
    ExportKeys,
    ExportKind,
    ExportSpec,
    ExportTarget,
    export_request_id,
    fingerprint,
)
from ..domain.jobs import Job
from ..domain.projects import Project
from ..domain.requests import BackgroundRequest, RequestAction, RequestStatus, failure_message
from ..domain.segments import parse_frame_filter
from ..domain.task_data import TaskData
from ..domain.tasks import Task
from ..ports import AnnotationStore, BlobStore, Clock, EventPublisher, Repositories, WorkflowStarter
from .common import job_ref, project_ref, scratch_file, task_ref
from .requests import RequestService
from .task_media import PRESIGNED_SECONDS, TaskMediaService

log = logging.getLogger(__name__)

WORKFLOW = "dataset-export"
PART_FRAMES = 300
"""Frames a part of an export's images covers at most (whole task chunks; a chunk bigger than
this is a part of its own): ~1 GB of 1080p JPEGs, a few seconds of copying."""
PART_CONCURRENCY = 40
MIN_PART_BYTES = 5 * 1024 * 1024  # S3: every part of a multipart upload but the last
FLUSH_BYTES = 16 * 1024 * 1024
MAX_COPY_BYTES = 1024 * 1024 * 1024  # one UploadPartCopy (S3 allows 5 GiB)
MAX_PARTS = 10_000
PART_BYTES = 512 * 1024 * 1024  # a backup's media files per part (copying them is I/O only)
INLINE_OBJECT_BYTES = 64 * 1024 * 1024  # a media file read into its piece; a bigger one is copied by S3
READ_BLOCK_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Source:
    """One task of the export: where its frames start in the view and which it has."""

    task: Task
    data: TaskData | None
    offset: int
    frames: list[int]  # task frames in the view, in order


class ExportService:
    def __init__(self, repos: Repositories, blobs: BlobStore, workflows: WorkflowStarter, clock: Clock, *,
                 store: AnnotationStore, media: TaskMediaService, requests: RequestService,
                 events: EventPublisher | None = None,
                 min_part_bytes: int = MIN_PART_BYTES, flush_bytes: int = FLUSH_BYTES,
                 part_frames: int = PART_FRAMES) -> None:
        self.repos = repos
        self.blobs = blobs
        self.workflows = workflows
        self.clock = clock
        self.store = store
        self.media = media
        self.requests = requests
        self.events = events
        self.min_part_bytes = min_part_bytes
        self.flush_bytes = max(flush_bytes, min_part_bytes)
        self.part_frames = part_frames

    # --- the API ---------------------------------------------------------------------------------

    def _check(self, ctx: RequestContext, target: ExportTarget, target_id: int, scope: str
               ) -> tuple[Project | None, Task | None, Job | None]:
        if target is ExportTarget.PROJECT:
            the_project = self.repos.projects.get(target_id)
            perm.check(ctx.actor, scope, project_ref(the_project))
            return the_project, None, None
        job = self.repos.jobs.get(target_id) if target is ExportTarget.JOB else None
        task = self.repos.tasks.get(job.task_id if job is not None else target_id)
        project = self.repos.projects.get(task.project_id) if task.project_id is not None else None
        ref = job_ref(job, task, project) if job is not None else task_ref(task, project)
        perm.check(ctx.actor, scope, ref)
        return project, task, job

    def export_dataset(self, ctx: RequestContext, spec: ExportSpec) -> BackgroundRequest:
        """Start exporting; the request as ``GET /api/requests/{id}`` shows it. An unknown or
        disabled format is refused here, before anything runs."""
        from ..formats.registry import get_exporter_spec

        get_exporter_spec(spec.format)  # UnknownFormatError (400) names the supported ones
        scope = "export:dataset" if spec.save_images else "export:annotations"
        project, task, job = self._check(ctx, spec.target, spec.target_id, scope)
        if task is not None and not task.has_data:
            raise ValidationError("The task has no data: there is nothing to export.")
        return self._start(ctx, spec, project, task, job)

    def export_backup(self, ctx: RequestContext, spec: ExportSpec) -> BackgroundRequest:
        """Start a backup of a task or project in CVAT's backup layout (formats.backup)."""
        project, task, job = self._check(ctx, spec.target, spec.target_id, "export:backup")
        if job is not None:
            raise ValidationError("Jobs have no backups; back up the task.")
        return self._start(ctx, spec, project, task, None)

    def _start(self, ctx: RequestContext, spec: ExportSpec, project: Project | None, task: Task | None,
               job: Job | None) -> BackgroundRequest:
        attempt = uuid.uuid4().hex[:12]
        now = self.clock.now()
        owner = task or project
        assert owner is not None
        rq = BackgroundRequest(
            id=export_request_id(spec, attempt), action=RequestAction.EXPORT, target=spec.target.value,
            subresource=spec.subresource, owner_id=ctx.user_id, organization_id=owner.organization_id,
            project_id=project.id if project is not None else None, task_id=task.id if task is not None else None,
            job_id=job.id if job is not None else None, format=spec.format or None, created_date=now,
            workflow=WORKFLOW, result_filename=spec.result_filename(now),
        )
        rq.execution_name = f"export-{spec.target.value}-{spec.target_id}-{attempt}"
        rq.workflow_input = {"request_id": rq.id, "kind": spec.kind.value, "target": spec.target.value,
                             "target_id": spec.target_id, "format": spec.format, "save_images": spec.save_images}
        rq = self.repos.requests.add(rq)
        try:
            self.workflows.start(WORKFLOW, rq.execution_name, rq.workflow_input)
        except Exception:
            rq.status = RequestStatus.FAILED  # never a request nobody will end
            rq.message = "The export could not be started; try again."
            rq.finished_date = self.clock.now()
            self.repos.requests.save(rq)
            raise
        return rq

    def download_url(self, ctx: RequestContext, target: ExportTarget, target_id: int, request_id: str,
                     kind: ExportKind = ExportKind.DATASET) -> str:
        """Where the finished request's result is read (a presigned GET that names the file)."""
        if not request_id:
            raise ValidationError(fields={"rq_id": ["This query parameter is required."]})
        try:
            rq = self.repos.requests.get(request_id)
        except NotFoundError:
            raise NotFoundError("No such export request.") from None
        if rq.action is not RequestAction.EXPORT or rq.target != target.value or \
                _target_id(rq, target) != target_id or (rq.owner_id != ctx.user_id and not ctx.actor.is_admin) or \
                (rq.subresource == "backup") != (kind is ExportKind.BACKUP):
            raise NotFoundError("No such export request.")
        self._check(ctx, target, target_id, "view")
        if rq.status is not RequestStatus.FINISHED or not rq.result_key:
            raise ValidationError(f"The export is {rq.status.value}: its result is not ready.")
        if rq.expiry_date is not None and rq.expiry_date <= self.clock.now():
            raise NotFoundError("The export has expired; export again.")
        try:
            self.blobs.head(rq.result_key)
        except NotFoundError:
            raise NotFoundError("The export's result is gone (expired); export again.") from None
        return self.blobs.presigned_get(rq.result_key, expires=PRESIGNED_SECONDS, filename=rq.result_filename,
                                        content_type="application/zip")

    # --- the workflow: 1. annotations ---------------------------------------------------------------

    def _spec(self, rq: BackgroundRequest) -> ExportSpec:
        w = rq.workflow_input
        return ExportSpec(ExportKind(w.get("kind", "dataset")), ExportTarget(w["target"]), int(w["target_id"]),
                          str(w.get("format") or ""), bool(w.get("save_images")))

    def annotations(self, request_id: str, execution_name: str = "") -> dict[str, Any]:
        """Step 1 (see the module doc). ``done``: the request is answered already (a stored
        result, or an export without images); else ``parts`` to copy images for."""
        from ..formats.archive import ImageSlot
        from ..formats.registry import get_exporter

        rq = self.requests.started(request_id, "Exporting annotations", execution_name=execution_name or None)
        if rq.status.ended:
            return {"done": True, "parts": [], "concurrency": 1}
        spec = self._spec(rq)
        if spec.kind is ExportKind.BACKUP:
            return self._backup(rq, spec)
        sources, view, prints = self._view(spec)
        result_key = ExportKeys.result(spec, fingerprint([spec.format, str(spec.save_images), *prints]))
        if self._fresh(result_key):
            self._finish(rq, spec, result_key)
            return {"done": True, "parts": [], "concurrency": 1}
        placed: list[tuple[str, int]] = []
        images = (lambda frame: ImageSlot(frame, placed)) if spec.save_images else None
        keys = ExportKeys(rq.id)
        with scratch_file("export-") as path:
            with open(path, "wb") as out:
                get_exporter(spec.format)(view, out, cast(Any, images))
            self.requests.advance(rq.id, 0.1, "Annotations written")
            if not spec.save_images:
                self.blobs.upload(path, result_key, content_type="application/zip")
                self._finish(rq, spec, result_key)
                return {"done": True, "parts": [], "concurrency": 1}
            self.blobs.upload(path, keys.annotations, content_type="application/zip")
        parts = self._plan(keys, sources, placed)
        self.blobs.put(f"{keys.work}result.json", json.dumps({"key": result_key, "parts": len(parts)}).encode(),
                       content_type="application/json")
        return {"done": False, "parts": parts, "concurrency": min(PART_CONCURRENCY, max(1, len(parts)))}

    def _backup(self, rq: BackgroundRequest, spec: ExportSpec) -> dict[str, Any]:
        """Step 1 of a backup: task.json, annotations.json and the manifest written once; each
        media file only named (its bytes are copied by step 2)."""
        from ..formats.archive import ImageSlot
        from ..formats.backup import write_project_backup, write_task_backup
        from .backup_archives import MediaRef, project_backup, task_backup

        placed: list[tuple[str, int]] = []
        objects: list[tuple[str, int]] = []  # (key, size): a video, by the handle -1 - index
        sources: list[_Source] = []  # image tasks, whose frames are read from the original chunks

        def slots(task_id: int, media: Sequence[MediaRef]) -> list[tuple[str, Any]]:
            offset = sum(source.task.size for source in sources)
            items: list[tuple[str, Any]] = []
            frames = []
            for ref in media:
                if ref.frame is None:
                    items.append((ref.name, ImageSlot(-1 - len(objects), placed)))
                    objects.append((ref.key, ref.size))
                else:
                    items.append((ref.name, ImageSlot(offset + ref.frame, placed)))
                    frames.append(ref.frame)
            if frames:
                task = self.repos.tasks.get(task_id)
                sources.append(_Source(task, None, offset, frames))
            return items

        if spec.target is ExportTarget.PROJECT:
            project, tasks, prints = project_backup(self.repos, self.blobs, self.store, spec.target_id)
            result_key = ExportKeys.result(spec, fingerprint(["backup", *prints]))
            if self._fresh(result_key):
                self._finish(rq, spec, result_key)
                return {"done": True, "parts": [], "concurrency": 1}
            write = lambda out: write_project_backup(  # noqa: E731 - one call, named for the scratch below
                out, project, [(backup, slots(task_id, media)) for task_id, backup, media in tasks])
        else:
            backup, media, prints = task_backup(self.repos, self.blobs, self.store, spec.target_id)
            result_key = ExportKeys.result(spec, fingerprint(["backup", *prints]))
            if self._fresh(result_key):
                self._finish(rq, spec, result_key)
                return {"done": True, "parts": [], "concurrency": 1}
            write = lambda out: write_task_backup(out, backup, slots(spec.target_id, media))  # noqa: E731
        keys = ExportKeys(rq.id)
        with scratch_file("export-") as path:
            with open(path, "wb") as out:
                write(out)
            self.blobs.upload(path, keys.annotations, content_type="application/zip")
        self.requests.advance(rq.id, 0.1, "Task descriptions and annotations written")
        parts = self._plan(keys, sources, [p for p in placed if p[1] >= 0])
        parts += self._plan_objects(keys, objects, [(name, -1 - h) for name, h in placed if h < 0], first=len(parts))
        self.blobs.put(f"{keys.work}result.json", json.dumps({"key": result_key, "parts": len(parts)}).encode(),
                       content_type="application/json")
        return {"done": False, "parts": parts, "concurrency": min(PART_CONCURRENCY, max(1, len(parts)))}

    def _plan_objects(self, keys: ExportKeys, objects: Sequence[tuple[str, int]],
                      placed: Sequence[tuple[str, int]], *, first: int = 0) -> list[int]:
        """A backup's media files in parts of about ``PART_BYTES`` each."""
        members: dict[int, list[str]] = {}
        for member, handle in placed:
            members.setdefault(handle, []).append(member)
        parts: list[list[list[Any]]] = []
        size = PART_BYTES
        for handle, (key, length) in enumerate(objects):
            if handle not in members:
                continue
            if size + length > PART_BYTES and (not parts or parts[-1]):
                parts.append([])
                size = 0
            parts[-1].append([key, length, members[handle]])
            size += length
        for number, part in enumerate(parts, start=first):
            self.blobs.put(keys.part_plan(number), json.dumps({"objects": part}).encode(),
                           content_type="application/json")
        return list(range(first, first + len(parts)))

    def _fresh(self, key: str) -> bool:
        try:
            head = self.blobs.head(key)
        except NotFoundError:
            return False
        when = head.get("last_modified")
        return when is None or self.clock.now() - when < CACHE_FRESH

    def _view(self, spec: ExportSpec) -> tuple[list[_Source], DatasetView, list[str]]:
        """The target as the formats engine reads it, the tasks it is made of, and the strings
        its fingerprint is made of."""
        from .annotations import label_specs

        job: Job | None = None
        if spec.target is ExportTarget.PROJECT:
            project = self.repos.projects.get(spec.target_id)
            tasks = sorted(self.repos.tasks.list_by_project(project.id), key=lambda t: t.id)
            labels = label_specs(self.repos.labels.list_by_project(project.id))
            name = project.name
        else:
            if spec.target is ExportTarget.JOB:
                job = self.repos.jobs.get(spec.target_id)
                task = self.repos.tasks.get(job.task_id)
            else:
                task = self.repos.tasks.get(spec.target_id)
            tasks = [task]
            labels = label_specs(self.repos.labels.list_by_project(task.project_id) if task.project_id
                                 else self.repos.labels.list_by_task(task.id))
            name = task.name
        prints = [spec.target.value, str(spec.target_id), _labels_print(labels)]
        sources: list[_Source] = []
        frames: list[FrameInfo] = []
        data = LabeledData()
        offset = 0
        names_seen: set[tuple[str, str]] = set()
        for task in tasks:
            if not task.has_data or not task.size:
                continue
            task_data = self.repos.task_data.find_by_task(task.id)
            deleted = set(task_data.deleted_frames) if task_data is not None else set()
            first, last = (job.start_frame, job.stop_frame) if job is not None else (0, task.size - 1)
            kept = [f for f in range(first, last + 1) if f not in deleted]
            infos = self.media.frame_names(task)
            video = len(infos) == 1 and task.size > 1
            subset = task.subset or "default"
            first_source = task_data.start_frame if task_data is not None else 0
            step = parse_frame_filter(task_data.frame_filter) if task_data is not None else 1
            for f in kept:
                info = infos[0] if video else infos[f]
                # a video's frames are named by their number in the video, as CVAT names them
                frame_name = f"frame_{first_source + f * step:06d}.PNG" if video else info.name
                if (subset, frame_name) in names_seen:  # two tasks of a project with one file name
                    frame_name = f"task_{task.id}/{frame_name}"
                names_seen.add((subset, frame_name))
                frames.append(FrameInfo(offset + f, frame_name, info.width, info.height, subset))
            jobs = [job] if job is not None else sorted(self.repos.jobs.list_by_task(task.id),
                                                          key=lambda j: (j.start_frame, j.id))
            task_annotations = LabeledData()
            seen: set[tuple[str, int | None]] = set()
            job_prints = []
            for j in jobs:
                part, head = self.store.read(j.id)
                job_prints.append(f"{j.id}:{head.version}:{head.snapshot_id}")
                for kind in ("tags", "shapes", "tracks"):
                    for obj in getattr(part, kind):
                        if (kind, obj.id) not in seen:
                            seen.add((kind, obj.id))
                            getattr(task_annotations, kind).append(obj)
            if offset:
                task_annotations = _shifted(task_annotations, offset)
            data.tags += task_annotations.tags
            data.shapes += task_annotations.shapes
            data.tracks += task_annotations.tracks
            prints += [f"task {task.id} data {task.data_id} {task.updated_date} {task.subset} {task.name} "
                       f"{task.mode.value} deleted {sorted(deleted)} jobs {','.join(job_prints)}"]
            sources.append(_Source(task, task_data, offset, kept))
            offset += task.size
        mode = tasks[0].mode.value if len(tasks) == 1 and tasks[0].mode.value else "annotation"
        view = DatasetView(labels=labels, frames=frames, annotations=data,
                           task_id=tasks[0].id if len(tasks) == 1 else None, name=name, mode=mode,
                           stop_frame=max(offset - 1, 0) if job is None else job.stop_frame)
        return sources, view, prints

    def _plan(self, keys: ExportKeys, sources: Sequence[_Source], placed: Sequence[tuple[str, int]]) -> list[int]:
        """Split the placed images into parts of whole task chunks (``part_frames`` frames at
        most, unless one chunk has more); each part's plan is stored for its worker."""
        by_frame: dict[int, list[str]] = {}
        for member, frame in placed:
            by_frame.setdefault(frame, []).append(member)
        parts: list[dict[str, Any]] = []
        for source in sources:
            task = source.task
            chunk_size = task.data_chunk_size or 1
            current: dict[str, Any] | None = None
            for f in source.frames:
                members = by_frame.get(source.offset + f)
                if not members:
                    continue
                chunk = f // chunk_size
                if current is None or (chunk not in current["chunks"] and current["count"] >= self.part_frames):
                    current = {"task_id": task.id, "chunks": {}, "count": 0}
                    parts.append(current)
                current["chunks"].setdefault(chunk, []).append([f % chunk_size, members])
                current["count"] += 1
        for number, part in enumerate(parts):
            plan = {"task_id": part["task_id"],
                    "chunks": [[chunk, rows] for chunk, rows in sorted(part["chunks"].items())]}
            self.blobs.put(keys.part_plan(number), json.dumps(plan).encode(), content_type="application/json")
        return list(range(len(parts)))

    # --- 2. images ----------------------------------------------------------------------------------

    def images(self, request_id: str, part: int) -> dict[str, Any]:
        """Step 2 for one part: its images as one piece of ZIP records, and the piece's index."""
        from ..formats.zipjoin import stored_record

        keys = ExportKeys(request_id)
        rq = self.repos.requests.get(request_id)
        if rq.status.ended:
            return {"part": part}
        plan = json.loads(self.blobs.get(keys.part_plan(part)))
        piece = _Piece()
        with scratch_file("export-") as path:
            with open(path, "wb") as out:
                if "objects" in plan:
                    self._copy_objects(plan["objects"], piece, out)
                else:
                    task = self.repos.tasks.get(int(plan["task_id"]))
                    for chunk, rows in plan["chunks"]:
                        images = self.media.original_images(task, int(chunk))
                        for position, members in rows:
                            if position >= len(images):
                                raise ValidationError(f"Chunk {chunk} of task {task.id} has no frame at {position}.")
                            for member in members:
                                piece.add(out, *stored_record(member, images[position][1], piece.size),
                                          images[position][1])
            piece.close_run()
            self.blobs.upload(path, keys.part_piece(part), content_type="application/octet-stream")
        index = {"size": piece.size, "records": piece.records, "segments": piece.segments}
        self.blobs.put(keys.part_index(part), json.dumps(index).encode(), content_type="application/json")
        self.requests.advance(request_id, 0.5, "Copying the images")
        return {"part": part}

    def _copy_objects(self, objects: Sequence[Sequence[Any]], piece: _Piece, out: Any) -> None:
        """A backup's media files: small ones into the piece; a big one (a video) referenced as
        it is, after its CRC is computed from ranged reads (its bytes are copied by the store)."""
        import zlib

        from ..formats.zipjoin import stored_header, stored_record

        for key, length, members in objects:
            if length <= INLINE_OBJECT_BYTES:
                data = self.blobs.get(key)
                for member in members:
                    piece.add(out, *stored_record(member, data, piece.size), data)
                continue
            crc = 0
            for start in range(0, length, READ_BLOCK_BYTES):
                crc = zlib.crc32(self.blobs.get_range(key, start, min(length, start + READ_BLOCK_BYTES) - 1), crc)
            for member in members:
                header, record = stored_header(member, crc, length, piece.size)
                out.write(header)
                piece.size += len(header)
                piece.file_size += len(header)
                piece.records.append(record.to_list())
                piece.close_run()  # the bytes up to this header; the object follows as it is
                piece.segments.append(["object", key, length])
                piece.size += length

    # --- 3. finalize ---------------------------------------------------------------------------------

    def finalize(self, request_id: str) -> dict[str, Any]:
        """Step 3: join the pieces and the annotations into the result; the request finished."""
        from ..formats.zipjoin import ZipRecord, central_directory, records_of, shifted

        rq = self.repos.requests.get(request_id)
        if rq.status.ended:
            return {"request_id": request_id}
        keys = ExportKeys(request_id)
        spec = self._spec(rq)
        plan = json.loads(self.blobs.get(f"{keys.work}result.json"))
        result_key = str(plan["key"])
        self.requests.advance(rq.id, 0.9, "Joining the archive")
        pieces: list[tuple[str, int, int]] = []  # (object, first byte, bytes)
        records: list[ZipRecord] = []
        offset = 0
        for part in range(int(plan["parts"])):
            index = json.loads(self.blobs.get(keys.part_index(part)))
            records += shifted((ZipRecord.from_list(r) for r in index["records"]), offset)
            for segment in index["segments"]:
                if segment[0] == "piece":
                    pieces.append((keys.part_piece(part), int(segment[1]), int(segment[2]) - int(segment[1])))
                else:
                    pieces.append((str(segment[1]), 0, int(segment[2])))
            offset += int(index["size"])
        with scratch_file("export-") as path:
            self.blobs.download(keys.annotations, path)
            with open(path, "rb") as f:
                own, end = records_of(f)
        records += shifted(own, offset)
        pieces.append((keys.annotations, 0, end))
        offset += end
        records.sort(key=lambda r: r.offset)
        writer = _MultipartWriter(self.blobs, result_key, self.min_part_bytes,
                                  max(self.flush_bytes, -(-offset // (MAX_PARTS - 100))))
        try:
            for key, first, size in pieces:
                writer.add_object(key, size, first)
            writer.add_bytes(central_directory(records, offset))
            writer.complete()
        except BaseException:
            writer.abort()
            raise
        self._finish(rq, spec, result_key)
        self.blobs.delete_prefix(keys.work)
        return {"request_id": request_id}

    def _finish(self, rq: BackgroundRequest, spec: ExportSpec, result_key: str) -> None:
        def change(r: BackgroundRequest) -> None:
            r.finish(self.clock.now(), result_url=spec.result_path(r.id))
            r.result_key = result_key

        done = self.requests.update(rq.id, change)
        if self.events is not None and done.status is RequestStatus.FINISHED:
            # CVAT's server events of exports (events/handlers.py), with the request that made it
            scope = "export:backup" if spec.kind is ExportKind.BACKUP else "export:dataset"
            event = DomainEvent(
                scope=scope, resource=spec.target.value, resource_id=spec.target_id, actor_id=done.owner_id,
                request_id=done.id, timestamp=self.clock.now(), organization_id=done.organization_id,
                project_id=done.project_id, task_id=done.task_id, job_id=done.job_id,
                obj={"format": spec.format or None, "save_images": spec.save_images, "target": spec.target.value,
                     "request_id": done.id, "cloud_storage_id": None})
            self.events.publish(scope, event.detail())

    def fail(self, request_id: str, error: str, cause: str) -> dict[str, Any]:
        """A step failed for good: the request fails with the reason; the pieces are removed."""
        self.requests.fail(request_id, failure_message(error, cause, "export"))
        with contextlib.suppress(Exception):  # the lifecycle rule removes what this misses
            self.blobs.delete_prefix(ExportKeys(request_id).work)
        return {"request_id": request_id}


class _Piece:
    """A part's piece as it is written: the records, and the segments the archive takes it in
    (``["piece", start, end]``: bytes of the uploaded piece; ``["object", key, size]``: a stored
    object as it is, between them)."""

    def __init__(self) -> None:
        self.size = 0  # bytes of the archive this part makes
        self.file_size = 0  # bytes written to the piece's file
        self.run_start = 0  # where the piece's current run of bytes began
        self.records: list[list[object]] = []
        self.segments: list[list[Any]] = []

    def add(self, out: Any, header: bytes, record: Any, data: bytes) -> None:
        out.write(header)
        out.write(data)
        self.size += len(header) + len(data)
        self.file_size += len(header) + len(data)
        self.records.append(record.to_list())

    def close_run(self) -> None:
        """End the current run of piece bytes (an object follows, or the part ends)."""
        if self.file_size > self.run_start:
            self.segments.append(["piece", self.run_start, self.file_size])
        self.run_start = self.file_size


def _target_id(rq: BackgroundRequest, target: ExportTarget) -> int | None:
    return {ExportTarget.PROJECT: rq.project_id, ExportTarget.TASK: rq.task_id, ExportTarget.JOB: rq.job_id}[target]


def _labels_print(labels: Sequence[LabelSpec]) -> str:
    return json.dumps([repr(label) for label in labels], sort_keys=True)


def _shifted(data: LabeledData, offset: int) -> LabeledData:
    """A copy of ``data`` with every frame number moved by ``offset`` (a project's tasks follow
    each other in its view). A copy: the store may hand out objects it keeps."""
    out = copy.deepcopy(data)
    for tag in out.tags:
        tag.frame += offset
    for shape in out.shapes:
        shape.frame += offset
        for element in shape.elements:
            element.frame += offset
    for track in out.tracks:
        track.frame += offset
        for key in track.shapes:
            key.frame += offset
        for element_track in track.elements:
            element_track.frame += offset
            for key in element_track.shapes:
                key.frame += offset
    return out


class _MultipartWriter:
    """One object written as a multipart upload from bytes and from ranges of other objects:
    ranges of ``min_part`` bytes or more are copied by the store; smaller runs are gathered in
    memory up to ``flush`` bytes (S3 wants every part but the last to be at least 5 MiB)."""

    def __init__(self, blobs: BlobStore, key: str, min_part: int, flush: int) -> None:
        self.blobs = blobs
        self.key = key
        self.min_part = min_part
        self.flush = flush
        self.upload_id = blobs.start_multipart(key, content_type="application/zip")
        self.parts: list[tuple[int, str]] = []
        self.buffer = bytearray()

    def _next(self) -> int:
        if len(self.parts) >= MAX_PARTS:
            raise ValidationError("The export is too big for one object.")
        return len(self.parts) + 1

    def _flush(self) -> None:
        if self.buffer:
            number = self._next()
            self.parts.append((number, self.blobs.upload_part(self.key, self.upload_id, number, bytes(self.buffer))))
            self.buffer.clear()

    def add_bytes(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= self.flush:
            self._flush()

    def add_object(self, source: str, size: int, first: int = 0) -> None:
        """``size`` bytes of object ``source`` from byte ``first``."""
        pos, size = first, first + size
        while pos < size:
            if self.buffer:  # top the gathered bytes up to a whole part first
                take = min(size - pos, self.flush - len(self.buffer))
                self.add_bytes(self.blobs.get_range(source, pos, pos + take - 1))
                pos += take
                continue
            left = size - pos
            if left < self.min_part:
                self.add_bytes(self.blobs.get_range(source, pos, size - 1))
                return
            take = min(left, MAX_COPY_BYTES)
            if 0 < left - take < self.min_part:  # never leave a tail too small to copy
                take = left - self.min_part
            number = self._next()
            etag = self.blobs.copy_part(self.key, self.upload_id, number, source, start=pos, end=pos + take - 1)
            self.parts.append((number, etag))
            pos += take

    def complete(self) -> None:
        self._flush()
        self.blobs.complete_multipart(self.key, self.upload_id, self.parts)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.blobs.abort_multipart(self.key, self.upload_id)

