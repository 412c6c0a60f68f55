"""What a backup of a task or project is made of, read from storage for formats.backup: the task's
fields, labels, jobs, data parameters and annotations, and where its media files are (the
objects the task-data pipeline read them from: ``plan.source_prefix`` + name).

Also the strings a backup's fingerprint is made of (services.exports reuses a stored backup of
data that has not changed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..domain.errors import NotFoundError, ValidationError
from ..domain.task_data import DataKeys
from ..domain.tasks import Task
from ..formats.backup import BackupData, BackupFrame, BackupJob, BackupVideo, ProjectBackup, TaskBackup
from ..ports import AnnotationStore, BlobStore, Repositories
from .annotations import label_specs


@dataclass(frozen=True, slots=True)
class MediaRef:
    """One media file of a backup, named ``name`` under ``data/``: an image task's file is its
    frame in the original chunks (the uploaded bytes); a video is the object ``key``."""

    name: str
    frame: int | None = None
    key: str = ""
    size: int = 0


Media = list[MediaRef]


def task_backup(repos: Repositories, blobs: BlobStore, store: AnnotationStore, task_id: int, *,
                with_labels: bool = True) -> tuple[TaskBackup, Media, list[str]]:
    """The task as formats.backup writes it, its media objects, and its fingerprint strings.
    ``with_labels=False``: a project's task (project.json has the labels)."""
    task = repos.tasks.get(task_id)
    if not task.has_data or not task.data_id:
        raise ValidationError(f"Task {task.id} has no data: there is nothing to back up.")
    data = repos.task_data.find_by_task(task.id)
    if data is None:
        raise ValidationError(f"Task {task.id} has no data: there is nothing to back up.")
    keys = DataKeys(task.id, task.data_id)
    plan = json.loads(blobs.get(keys.plan))
    frames_meta = json.loads(blobs.get(keys.frames_meta))
    labels = label_specs(repos.labels.list_by_project(task.project_id) if task.project_id
                         else repos.labels.list_by_task(task.id))
    jobs = sorted(repos.jobs.list_by_task(task.id), key=lambda j: (j.type.value != "annotation", j.start_frame, j.id))
    annotations = []
    prints = [f"task {task.id} {task.name} {task.updated_date} {task.subset} {task.bug_tracker} {task.status}",
              json.dumps([repr(label) for label in labels])]
    for job in jobs:
        part, head = store.read(job.id)
        annotations.append(part)
        prints.append(f"job {job.id} {job.stage} {job.state} {head.version} {head.snapshot_id}")
    start, stop, step = plan["frames"]
    if plan["media_type"] != "video":  # the backup carries the task's frames only: all of them, in order
        start, stop, step = 0, max(0, task.size - 1), 1
    backup = TaskBackup(
        name=task.name, labels=labels if with_labels else [],
        jobs=[BackupJob(j.start_frame, j.stop_frame, j.type, j.stage, j.state) for j in jobs],
        data=BackupData(chunk_size=data.chunk_size, image_quality=data.image_quality, start_frame=start,
                        stop_frame=stop, frame_filter=f"step={step}" if step and step > 1 else "",
                        chunk_type=data.compressed_chunk_type.value, storage_method="cache",
                        storage="share" if plan.get("storage") == "share" else "local",
                        sorting_method="predefined" if plan["media_type"] != "video"
                        else str(plan.get("sorting_method") or "lexicographical"),
                        deleted_frames=list(data.deleted_frames)),
        annotations=annotations, bug_tracker=task.bug_tracker, status=task.status, subset=task.subset,
    )
    if plan["media_type"] == "video":  # kept where the pipeline read it (its finalize keeps an upload's)
        name = str(plan["video_name"])
        key = str(plan.get("source_prefix") or keys.source()) + name
        info = frames_meta[0]
        backup.video = BackupVideo(name, int(info["width"]), int(info["height"]), int(task.size))
        media = [MediaRef(name, key=key, size=_size(blobs, key))]
    else:  # an image task's original chunks hold the uploaded files as they were
        backup.frames = [BackupFrame(str(f["name"]), int(f["width"]), int(f["height"])) for f in frames_meta]
        media = [MediaRef(frame.name, frame=number) for number, frame in enumerate(backup.frames)]
    prints.append(f"data {data.id} {data.deleted_frames} {len(media)}")
    return backup, media, prints


def project_backup(repos: Repositories, blobs: BlobStore, store: AnnotationStore, project_id: int
                   ) -> tuple[ProjectBackup, list[tuple[int, TaskBackup, Media]], list[str]]:
    """The project, each of its tasks that has data (by id, as CVAT writes them), the prints."""
    project = repos.projects.get(project_id)
    labels = label_specs(repos.labels.list_by_project(project.id))
    tasks: Sequence[Task] = sorted(repos.tasks.list_by_project(project.id), key=lambda t: t.id)
    out = []
    prints = [f"project {project.id} {project.name} {project.updated_date} {project.bug_tracker}",
              json.dumps([repr(label) for label in labels])]
    for task in tasks:
        if not task.has_data:
            continue
        backup, media, task_prints = task_backup(repos, blobs, store, task.id, with_labels=False)
        out.append((task.id, backup, media))
        prints += task_prints
    return ProjectBackup(project.name, labels, project.bug_tracker, project.status), out, prints


def _size(blobs: BlobStore, key: str) -> int:
    try:
        return int(blobs.head(key)["size"])
    except NotFoundError:
        raise ValidationError(f"A media file of the task is missing from storage ({key}).") from None
