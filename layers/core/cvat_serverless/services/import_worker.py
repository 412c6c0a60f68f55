"""The import workflow's step (statemachines/import_annotations.asl.json): read the uploaded file,
run the format's importer against the task's labels and frames, and save the result through
AnnotationService; and, when the step failed for good, fail the request with the message.

All or nothing per import: the whole file is parsed and checked (labels, frames, bounds) before
anything is saved, so a damaged file leaves the stored annotations exactly as they were and the
request fails with the format engine's message (file and line). A task's save is atomic per job
(AnnotationService); a project's import checks every task's part before it saves the first.

Frames are matched by name as the task stores them (images: their relative paths; a video's
frames: ``frame_<source frame, 6 digits>``, as CVAT names them). A project dataset is imported
into the project's existing tasks: each item goes to the task holding a frame of that name (the
first such task by id); an item that matches no task's frame is the importer's error, as for a
task. New tasks are not created from a dataset's images; ``replace`` replaces the annotations of
the tasks the dataset has items for, and leaves the others as they are.

Runs in a Lambda with the media layer: the importers use numpy and Pillow.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..domain.annotations import (
    DatasetView,
    FrameInfo,
    LabeledData,
    LabeledTrack,
    ShapeType,
    iter_all_shapes,
    validate_annotations,
)
from ..domain.context import RequestContext
from ..domain.errors import ValidationError
from ..domain.permissions import Actor
from ..domain.requests import failure_message
from ..domain.segments import parse_frame_filter
from ..domain.task_data import DataKeys
from ..domain.tasks import Task
from ..domain.users import User
from ..formats.registry import get_importer
from ..ports import BlobStore, Clock, EventPublisher, IdGenerator, Repositories
from .annotations import AnnotationService, label_specs
from .common import ServiceBase
from .imports import ImportJob, ImportMode
from .requests import RequestService
from .uploads import UploadService

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class _TaskPart:
    """One task of an import: its frames in the combined view start at ``base``."""

    task: Task
    base: int
    frames: list[FrameInfo]


class AnnotationImportWorker(ServiceBase):
    def __init__(self, repos: Repositories, ids: IdGenerator, clock: Clock, events: EventPublisher, *,
                 blobs: BlobStore, uploads: UploadService, annotations: AnnotationService,
                 requests: RequestService, actor_for: Callable[[User], Actor]) -> None:
        super().__init__(repos, ids, clock, events)
        self.blobs = blobs
        self.uploads = uploads
        self.annotations = annotations
        self.requests = requests
        self.actor_for = actor_for

    # --- the step ------------------------------------------------------------------------------

    def run(self, job: ImportJob) -> dict[str, Any]:
        """Import the uploaded file; the request finished. Idempotent for a retried step only
        until the upload is removed, which is its last act (a replay then fails cleanly)."""
        request = self.requests.requests.get(job.request_id)
        if request.status.ended:
            return {"request_id": job.request_id, "status": request.status.value}
        self.requests.started(job.request_id, "Reading the file")
        user = self.repos.users.get(request.owner_id)
        ctx = RequestContext(user=user, actor=self.actor_for(user), request_id=job.request_id)
        upload = self.uploads.finished(job.scope, request.owner_id, job.upload_id)
        importer = get_importer(job.format)
        parts = self._parts(job)
        view = self._view(job, parts)
        with tempfile.TemporaryDirectory(prefix="import-") as work:
            path = os.path.join(work, "upload")
            self.uploads.download(upload, path)
            with open(path, "rb") as local:
                data = importer(local, view, upload.filename)
        self.requests.advance(job.request_id, 0.5, "Checking the annotations")
        sizes = {f.frame: (f.width, f.height) for f in view.frames}
        if job.conv_mask_to_poly and any(s.type == ShapeType.MASK for s in iter_all_shapes(data)):
            from ..formats._polygons import masks_to_polygons

            data = masks_to_polygons(data, sizes)
        by_task = self._split(data, parts)
        for part, task_data in by_task:  # every part checked before the first save
            validate_annotations(task_data, view.labels, frame_count=part.task.size,
                                 frame_sizes=self._sizes(part))
        self.requests.advance(job.request_id, 0.7, "Saving the annotations")
        replace_all = job.import_mode == ImportMode.REPLACE.value
        for part, task_data in by_task:
            body = task_data.to_dict()
            if job.target == "job":
                if replace_all:
                    self.annotations.put_job(ctx, job.resource_id, body)
                else:
                    self.annotations.patch_job(ctx, job.resource_id, "create", body)
            elif replace_all:
                self.annotations.put_task(ctx, part.task.id, body)
            else:
                self.annotations.patch_task(ctx, part.task.id, "create", body)
        self._publish_import(ctx, job, parts)
        self.requests.finish(job.request_id)
        self.uploads.discard(upload)
        return {"request_id": job.request_id, "status": "finished", "objects": len(data)}

    def fail(self, job: ImportJob, error: str, cause: str) -> dict[str, Any]:
        """The step failed for good: the request fails with a message the user can act on; the
        stored annotations are untouched (nothing is saved before everything parsed)."""
        message = failure_message(error, cause, "import")
        self.requests.fail(job.request_id, message)
        return {"request_id": job.request_id, "message": message}

    # --- what the file is matched against --------------------------------------------------------

    def _parts(self, job: ImportJob) -> list[_TaskPart]:
        if job.target == "project":
            tasks = sorted((t for t in self.repos.tasks.list_by_project(job.resource_id) if t.size),
                           key=lambda t: t.id)
        elif job.target == "job":
            tasks = [self.repos.tasks.get(self.repos.jobs.get(job.resource_id).task_id)]
        else:
            tasks = [self.repos.tasks.get(job.resource_id)]
        parts, base = [], 0
        for task in tasks:
            frames = self._frames(task)  # a job's import matches the task's frames; objects on another
            # job's frames are refused when the job is saved (AnnotationService), before anything is stored
            if not frames and job.target != "project":
                raise ValidationError("The task has no data yet: annotations can be imported once its data is "
                                      "processed.")
            parts.append(_TaskPart(task, base, frames))
            base += task.size
        return parts

    def _frames(self, task: Task) -> list[FrameInfo]:
        """The task's frames with their names and sizes (frames.json; a video lists one entry)."""
        if not task.data_id or not task.size:
            return []
        entries = json.loads(self.blobs.get(DataKeys(task.id, task.data_id).frames_meta))
        subset = task.subset or "default"
        if len(entries) == 1 and task.size > 1:  # a video: frames named by their source frame
            data = self.repos.task_data.find_by_task(task.id)
            start = data.start_frame if data else 0
            step = parse_frame_filter(data.frame_filter) if data else 1
            width, height = int(entries[0]["width"]), int(entries[0]["height"])
            return [FrameInfo(n, f"frame_{start + n * step:06d}", width, height, subset) for n in range(task.size)]
        return [FrameInfo(n, str(e["name"]), int(e["width"]), int(e["height"]), subset)
                for n, e in enumerate(entries[:task.size])]

    def _view(self, job: ImportJob, parts: Sequence[_TaskPart]) -> DatasetView:
        first = parts[0].task
        labels = (self.repos.labels.list_by_project(first.project_id) if first.project_id
                  else self.repos.labels.list_by_task(first.id))
        frames = [replace(f, frame=part.base + f.frame) for part in parts for f in part.frames]
        return DatasetView(labels=label_specs(labels), frames=frames, task_id=first.id if job.target != "project"
                           else None, name=first.name, mode=first.mode.value or "annotation",
                           stop_frame=max((f.frame for f in frames), default=0))

    @staticmethod
    def _sizes(part: _TaskPart) -> dict[int, tuple[int, int]]:
        return {f.frame: (f.width, f.height) for f in part.frames}

    def _split(self, data: LabeledData, parts: Sequence[_TaskPart]) -> list[tuple[_TaskPart, LabeledData]]:
        """The imported objects of each task, with the task's own frame numbers (a track that
        leaves its first keyframe's task keeps the shapes inside it)."""
        if len(parts) == 1 and parts[0].base == 0:
            return [(parts[0], data)]
        out = {id(p): LabeledData() for p in parts}

        def owner(frame: int) -> _TaskPart:
            for p in parts:
                if p.base <= frame < p.base + p.task.size:
                    return p
            raise ValidationError(f"Frame {frame} belongs to no task of the project.")

        for tag in data.tags:
            p = owner(tag.frame)
            out[id(p)].tags.append(replace(tag, frame=tag.frame - p.base))
        for shape in data.shapes:
            p = owner(shape.frame)
            out[id(p)].shapes.append(_rebase_shape(shape, p))
        for track in data.tracks:
            p = owner(track.frame)
            out[id(p)].tracks.append(_rebase_track(track, p))
        # a project's task that the dataset does not touch keeps its annotations, whatever the mode
        return [(p, out[id(p)]) for p in parts if len(out[id(p)])]

    def _publish_import(self, ctx: RequestContext, job: ImportJob, parts: Sequence[_TaskPart]) -> None:
        """CVAT's ``import:dataset`` server event (events/handlers.py: handle_dataset_import)."""
        task = parts[0].task
        project_id = job.resource_id if job.target == "project" else task.project_id
        self._publish(ctx, "import:dataset", {"format": job.format, "target": job.target,
                                              "import_mode": job.import_mode, "cloud_storage_id": None},
                      resource_id=job.resource_id, organization_id=task.organization_id, project_id=project_id,
                      task_id=task.id if job.target != "project" else None,
                      job_id=job.resource_id if job.target == "job" else None)


def _rebase_shape(shape: Any, part: _TaskPart) -> Any:
    return replace(shape, frame=shape.frame - part.base,
                   elements=[_rebase_shape(e, part) for e in shape.elements])


def _rebase_track(track: LabeledTrack, part: _TaskPart) -> LabeledTrack:
    end = part.base + part.task.size
    shapes = [replace(s, frame=s.frame - part.base) for s in track.shapes if part.base <= s.frame < end]
    return replace(track, frame=track.frame - part.base, shapes=shapes,
                   elements=[_rebase_track(e, part) for e in track.elements])
