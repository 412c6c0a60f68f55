"""Task and project backups in CVAT's own archive layout (``POST /api/tasks/backup``).

A backup made by CVAT 2.x restores here, and one written here restores in CVAT: the layout,
member names and JSON keys are those of CVAT's ``cvat/apps/engine/backup.py`` (``Version.V1``,
``"1.0"``). Pure transforms over file objects; the services store what the reader returns.

Task backup (a ZIP)::

    task.json            {name, bug_tracker, status, subset, labels, [consensus_replicas],
                          version: "1.0", data: {...}, jobs: [...]}
    annotations.json     [{version, tags, shapes, tracks}, ...]   one entry per job, same order
    data/<media...>      the uploaded media files, by their relative paths
    data/manifest.jsonl  CVAT's media manifest (JSON lines, see below)
    data/index.json      only in older backups (CVAT >= 2.4 leaves it out); ignored on read
    task/...             CVAT's task folder (logs, previews); ignored on read
    annotation_guide.md, assets/...   the annotation guide; ignored on read, never written

* ``labels``: ``{name, color, attributes, type, svg, sublabels}`` (skeleton points are
  ``sublabels`` with the same keys; ``svg`` refers to them by ``data-label-name``);
  attributes are ``{name, mutable, input_type, default_value, values}``. No ids anywhere.
* ``data``: ``{chunk_size, image_quality, start_frame, stop_frame, [frame_filter], chunk_type,
  storage_method, storage, sorting_method, deleted_frames, [custom_segments],
  [validation_layout: {mode, frames, frames_per_job_count}]}``; ``frame_filter`` only when set,
  ``custom_segments: true`` only for tasks created with a job file mapping (the writer leaves
  ``chunk_size`` out rather than null when it is not known).
* ``jobs``: one entry per job, ordered by segment: ``{status, type, start_frame, stop_frame,
  frames, [files]}`` (``frames`` lists a ground-truth job's frames, ``files`` the segment's media
  names when ``custom_segments`` is set).
* ``annotations.json``: CVAT's ``LabeledData`` per job with ``label`` (a name; a skeleton
  element's label is its sublabel's name) instead of ``label_id`` and attributes as
  ``{name, value}`` instead of ``{spec_id, value}``. Shapes keep ``type, occluded, outside,
  z_order, rotation, points, frame, group, source, attributes, elements, label``; tracks
  ``frame, group, source, attributes, shapes, elements, label``; keyframes ``type, occluded,
  outside, z_order, rotation, points, frame, attributes``; tags ``frame, group, source,
  attributes, label``.
* ``data/manifest.jsonl`` (CVAT ``utils/dataset_manifest``): ``{"version":"1.1"}``,
  ``{"type":"images"}``, then one ``{"name","extension","width","height",["checksum"]}`` per
  frame (``name`` without the extension, relative to ``data/``); for a video
  ``{"type":"video"}``, ``{"properties":{"name","resolution":[w,h],"length"}}`` and one
  ``{"number","pts","checksum"}`` per key frame. A video manifest is written only when its key
  frames are known: without one CVAT builds it again on restore.

Project backup (a ZIP): ``project.json`` (``{name, bug_tracker, status, labels, version}``) and
one folder per task, ``task_0/``, ``task_1/``..., each holding a task backup's layout (CVAT
restores them in the folders' numeric order, with the project's labels).

Older backups (CVAT 2.0-2.3) lack labels' ``type``/``svg``/``sublabels``, jobs' ``type``,
``frames`` and data's ``sorting_method``/``deleted_frames``; the reader fills CVAT's defaults.

What a backup keeps and loses (CVAT's own choices, so both directions behave the same):
kept are the task's name, bug tracker, status, subset, labels and attributes, skeletons,
data parameters, the media, the segmentation (job ranges, ground-truth frames) and every
shape, track and tag. Lost are ids, owners and assignees, issues and comments, the jobs'
stage and state (only the legacy ``status`` is kept: on read ``completed`` becomes
acceptance/completed, ``validation`` validation/new, ``annotation`` annotation/new),
annotations' ``score`` and ``id``, audio intervals, the annotation guide, cloud storage links.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any, BinaryIO

from cvat_serverless.domain.annotations import (
    AnnotationValidationError,
    AttributeVal,
    LabeledData,
    LabeledImage,
    LabeledShape,
    LabeledTrack,
    LabelSpec,
    LabelType,
    TrackedShape,
    validate_annotations,
)
from cvat_serverless.domain.archives import DEFAULT_LIMITS, ArchiveLimits, safe_member_name
from cvat_serverless.domain.errors import FormatError, UnsafeArchiveError
from cvat_serverless.domain.jobs import JobStage, JobState, JobStatus, JobType, job_status
from cvat_serverless.domain.labels import AttributeInput, AttributeSpec, InputType, LabelInput
from cvat_serverless.formats.archive import ExportArchive, ImportFiles, open_import

__all__ = [
    "ANNOTATIONS_FILENAME",
    "BACKUP_VERSION",
    "DATA_DIRNAME",
    "MEDIA_INDEX_FILENAME",
    "MEDIA_MANIFEST_FILENAME",
    "PROJECT_MANIFEST_FILENAME",
    "TASK_MANIFEST_FILENAME",
    "BackupData",
    "BackupFrame",
    "BackupJob",
    "BackupVideo",
    "ProjectBackup",
    "ProjectBackupContents",
    "TaskBackup",
    "TaskBackupContents",
    "bind_annotations",
    "read_project_backup",
    "read_task_backup",
    "to_label_inputs",
    "write_project_backup",
    "write_task_backup",
]

BACKUP_VERSION = "1.0"
TASK_MANIFEST_FILENAME = "task.json"
ANNOTATIONS_FILENAME = "annotations.json"
PROJECT_MANIFEST_FILENAME = "project.json"
DATA_DIRNAME = "data"
MEDIA_MANIFEST_FILENAME = "manifest.jsonl"
MEDIA_INDEX_FILENAME = "index.json"
MEDIA_MANIFEST_VERSION = "1.1"
_TASK_DIR_RE = re.compile(r"^task_(\d+)/")

# --------------------------------------------------------------------------- model


@dataclass(slots=True)
class BackupJob:
    """One job of the backup (CVAT writes one entry per job, in segment order: the annotation
    jobs first, a ground-truth job after them). ``frames``: a ground-truth job's frames;
    ``files``: the segment's media names for tasks with ``custom_segments`` (filled from the
    task's frames by the writer when empty)."""

    start_frame: int
    stop_frame: int
    type: JobType = JobType.ANNOTATION
    stage: JobStage = JobStage.ANNOTATION
    state: JobState = JobState.NEW
    frames: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def status(self) -> JobStatus:
        return job_status(self.stage, self.state)


@dataclass(slots=True)
class BackupData:
    """The task's data parameters (CVAT's ``data`` object of ``task.json``)."""

    chunk_size: int | None = None
    image_quality: int = 70
    start_frame: int = 0
    stop_frame: int = 0
    frame_filter: str = ""
    chunk_type: str = "imageset"
    storage_method: str = "cache"
    storage: str = "local"
    sorting_method: str = "lexicographical"
    deleted_frames: list[int] = field(default_factory=list)
    custom_segments: bool = False
    validation_layout: dict[str, Any] | None = None  # {mode, frames (file names), frames_per_job_count}


@dataclass(slots=True)
class BackupFrame:
    """An image of the task, for the media manifest: ``name`` is its path under ``data/``."""

    name: str
    width: int
    height: int
    checksum: str | None = None


@dataclass(slots=True)
class BackupVideo:
    """The video of a video task: its name under ``data/``, resolution, frame count and, when
    known, its key frames as ``(number, pts, checksum)`` (only then is a manifest written)."""

    name: str
    width: int
    height: int
    length: int
    keyframes: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(slots=True)
class TaskBackup:
    """What :func:`write_task_backup` writes. ``annotations[i]`` belongs to ``jobs[i]`` (missing
    entries are empty); label and attribute ids in them are those of ``labels``. ``frames``
    (image tasks) or ``video`` (video tasks) describe the media for the manifest."""

    name: str
    labels: list[LabelSpec]
    jobs: list[BackupJob]
    data: BackupData = field(default_factory=BackupData)
    annotations: list[LabeledData] = field(default_factory=list)
    frames: list[BackupFrame] = field(default_factory=list)
    video: BackupVideo | None = None
    bug_tracker: str = ""
    status: JobStatus = JobStatus.ANNOTATION
    subset: str = ""
    consensus_replicas: int = 0


@dataclass(slots=True)
class ProjectBackup:
    """What :func:`write_project_backup` writes to ``project.json``."""

    name: str
    labels: list[LabelSpec]
    bug_tracker: str = ""
    status: JobStatus = JobStatus.ANNOTATION


@dataclass(slots=True)
class TaskBackupContents:
    """A task backup as read: the task's fields, its labels (ids 0: not assigned yet; skeleton
    ``svg`` by ``data-label-name``), jobs, data parameters, the media and the annotations per
    job with labels still by name (:func:`bind_annotations` resolves them).

    ``media`` are member names relative to ``data/`` in frame order (the manifest's order, else
    ``data.sorting_method``'s), without the manifest and its index; open one with
    :meth:`open_media`. The contents read from the archive they came from: keep the source file
    open until done, then :meth:`close` (or use ``with``)."""

    name: str
    labels: list[LabelSpec]
    jobs: list[BackupJob]
    data: BackupData
    media: list[str]
    annotations: list[dict[str, Any]]
    frames: list[BackupFrame] = field(default_factory=list)
    video: BackupVideo | None = None
    bug_tracker: str = ""
    status: JobStatus = JobStatus.ANNOTATION
    subset: str = ""
    consensus_replicas: int = 0
    version: str = BACKUP_VERSION
    source: str = ""  # "<archive>" or "<archive>: task_0/" for error messages
    _files: ImportFiles | None = field(default=None, repr=False)
    _members: dict[str, str] = field(default_factory=dict, repr=False)  # media name -> raw member

    def open_media(self, name: str) -> IO[bytes]:
        """A read stream of the media file ``name`` (one of :attr:`media`)."""
        raw = self._members.get(name)
        if raw is None or self._files is None:
            raise FormatError(f"{self.source}: '{DATA_DIRNAME}/{name}' is not a media file of the backup")
        return self._files.open(raw)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()

    def __enter__(self) -> TaskBackupContents:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(slots=True)
class ProjectBackupContents:
    """A project backup as read: the project's fields and labels, and its tasks in CVAT's
    restore order (``task_<n>/`` by ``n``). Close it (or use ``with``) when done."""

    name: str
    labels: list[LabelSpec]
    tasks: list[TaskBackupContents]
    bug_tracker: str = ""
    status: JobStatus = JobStatus.ANNOTATION
    version: str = BACKUP_VERSION
    _files: ImportFiles | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()

    def __enter__(self) -> ProjectBackupContents:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- writing

MediaItem = tuple[str, BinaryIO | IO[bytes] | bytes]


_SVG_TAG_RE = re.compile(r"<[^>]*>")
_SVG_LABEL_ID_RE = re.compile(r'\s*data-label-id="([^"]*)"')


def _svg_by_name(svg: str, sublabels: Sequence[LabelSpec]) -> str:
    """CVAT stores a skeleton's svg with ``data-label-id``; a backup refers to the points by
    ``data-label-name`` (an element that names its point already just loses the id)."""
    names = {str(sub.id): sub.name for sub in sublabels}

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        if "data-label-name=" in text:
            return _SVG_LABEL_ID_RE.sub("", text)

        def by_name(m: re.Match[str]) -> str:
            name = names.get(m.group(1))
            return m.group(0) if name is None else f' data-label-name="{name}"'

        return _SVG_LABEL_ID_RE.sub(by_name, text)

    return _SVG_TAG_RE.sub(tag, svg)


def _label_json(label: LabelSpec) -> dict[str, Any]:
    svg = _svg_by_name(label.svg, label.sublabels)
    return {
        "name": label.name,
        "color": label.color,
        "attributes": [
            {
                "name": a.name,
                "mutable": a.mutable,
                "input_type": str(a.input_type),
                "default_value": a.default_value,
                "values": list(a.values),
            }
            for a in label.attributes
        ],
        "type": str(label.type),
        "svg": svg,
        "sublabels": [_label_json(sub) for sub in label.sublabels],
    }


class _Names:
    """Label and attribute ids -> names, for one task's labels."""

    def __init__(self, labels: Sequence[LabelSpec]) -> None:
        self.labels: dict[int, LabelSpec] = {}
        for label in labels:
            self.labels[label.id] = label
            for sub in label.sublabels:
                self.labels[sub.id] = sub

    def label(self, label_id: int, where: str) -> LabelSpec:
        label = self.labels.get(label_id)
        if label is None:
            raise FormatError(f"{where}: label {label_id} is not a label of the task")
        return label

    @staticmethod
    def attributes(attrs: Iterable[AttributeVal], label: LabelSpec, where: str) -> list[dict[str, str]]:
        out = []
        for attr in attrs:
            spec = label.attribute(attr.spec_id)
            if spec is None:
                raise FormatError(f"{where}: attribute {attr.spec_id} does not belong to label '{label.name}'")
            out.append({"name": spec.name, "value": attr.value})
        return out


def _shape_json(names: _Names, shape: LabeledShape, where: str, *, element: bool = False) -> dict[str, Any]:
    label = names.label(shape.label_id, where)
    out: dict[str, Any] = {
        "type": str(shape.type),
        "occluded": shape.occluded,
        "outside": shape.outside,
        "z_order": shape.z_order,
        "rotation": shape.rotation,
        "points": list(shape.points),
        "frame": shape.frame,
        "group": shape.group or 0,
        "source": shape.source,
        "attributes": names.attributes(shape.attributes, label, where),
        "label": label.name,
    }
    if not element:
        out["elements"] = [
            _shape_json(names, e, f"{where}.elements[{i}]", element=True) for i, e in enumerate(shape.elements)
        ]
    return out


def _keyframe_json(names: _Names, shape: TrackedShape, label: LabelSpec, where: str) -> dict[str, Any]:
    return {
        "type": str(shape.type),
        "occluded": shape.occluded,
        "outside": shape.outside,
        "z_order": shape.z_order,
        "rotation": shape.rotation,
        "points": list(shape.points),
        "frame": shape.frame,
        "attributes": names.attributes(shape.attributes, label, where),
    }


def _track_json(names: _Names, track: LabeledTrack, where: str, *, element: bool = False) -> dict[str, Any]:
    label = names.label(track.label_id, where)
    out: dict[str, Any] = {
        "frame": track.frame,
        "group": track.group or 0,
        "source": track.source,
        "attributes": names.attributes(track.attributes, label, where),
        "shapes": [_keyframe_json(names, s, label, f"{where}.shapes[{i}]") for i, s in enumerate(track.shapes)],
        "label": label.name,
    }
    if not element:
        out["elements"] = [
            _track_json(names, e, f"{where}.elements[{i}]", element=True) for i, e in enumerate(track.elements)
        ]
    return out


def _tag_json(names: _Names, tag: LabeledImage, where: str) -> dict[str, Any]:
    label = names.label(tag.label_id, where)
    return {
        "frame": tag.frame,
        "group": tag.group or 0,
        "source": tag.source,
        "attributes": names.attributes(tag.attributes, label, where),
        "label": label.name,
    }


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_annotations(out: IO[str], backup: TaskBackup, labels: Sequence[LabelSpec], member: str) -> None:
    """``annotations.json`` one object at a time, so a large task never becomes one string."""
    names = _Names(labels)
    out.write("[")
    for j in range(len(backup.jobs)):
        data = backup.annotations[j] if j < len(backup.annotations) else LabeledData()
        where = f"{member}[{j}]"
        out.write("," if j else "")
        out.write(f'{{"version":{int(data.version)},"tags":[')
        for i, tag in enumerate(data.tags):
            out.write(("," if i else "") + _dump(_tag_json(names, tag, f"{where}.tags[{i}]")))
        out.write('],"shapes":[')
        for i, shape in enumerate(data.shapes):
            out.write(("," if i else "") + _dump(_shape_json(names, shape, f"{where}.shapes[{i}]")))
        out.write('],"tracks":[')
        for i, track in enumerate(data.tracks):
            out.write(("," if i else "") + _dump(_track_json(names, track, f"{where}.tracks[{i}]")))
        out.write("]}")
    out.write("]")


def _task_json(backup: TaskBackup, labels: Sequence[LabelSpec]) -> dict[str, Any]:
    d = backup.data
    data: dict[str, Any] = {} if d.chunk_size is None else {"chunk_size": d.chunk_size}  # CVAT: optional, not null
    data |= {
        "image_quality": d.image_quality,
        "start_frame": d.start_frame,
        "stop_frame": d.stop_frame,
        "chunk_type": d.chunk_type,
        "storage_method": d.storage_method,
        "storage": d.storage,
        "sorting_method": d.sorting_method,
        "deleted_frames": list(d.deleted_frames),
    }
    if d.frame_filter:
        data["frame_filter"] = d.frame_filter
    if d.custom_segments:
        data["custom_segments"] = True
    if d.validation_layout is not None:
        data["validation_layout"] = {
            k: v for k, v in d.validation_layout.items() if k in ("mode", "frames", "frames_per_job_count")
        }
    jobs = []
    for i, job in enumerate(backup.jobs):
        entry: dict[str, Any] = {
            "status": str(job.status),
            "type": str(job.type),
            "start_frame": job.start_frame,
            "stop_frame": job.stop_frame,
            "frames": list(job.frames),
        }
        files = list(job.files)
        if d.custom_segments and job.type == JobType.ANNOTATION:
            if not files and backup.frames:
                files = [f.name for f in backup.frames[job.start_frame : job.stop_frame + 1]]
            if len(files) != job.stop_frame - job.start_frame + 1:
                raise FormatError(
                    f"{TASK_MANIFEST_FILENAME}: jobs[{i}]: custom segments need one file per frame"
                    f" ({job.stop_frame - job.start_frame + 1}), got {len(files)}"
                )
        if files:
            entry["files"] = files
        jobs.append(entry)
    task: dict[str, Any] = {
        "name": backup.name,
        "bug_tracker": backup.bug_tracker,
        "status": str(backup.status),
        "subset": backup.subset,
        "labels": [_label_json(label) for label in labels],
    }
    if backup.consensus_replicas:
        task["consensus_replicas"] = backup.consensus_replicas
    task["version"] = BACKUP_VERSION
    task["data"] = data
    task["jobs"] = jobs
    return task


def _split_ext(name: str) -> tuple[str, str]:
    stem, ext = posixpath.splitext(name)
    return stem, ext


def _write_manifest(archive: ExportArchive, backup: TaskBackup, member: str) -> None:
    lines: list[dict[str, Any]]
    if backup.video is not None:
        video = backup.video
        if not video.keyframes:
            return  # CVAT builds a video manifest itself when the backup has none
        lines = [
            {"version": MEDIA_MANIFEST_VERSION},
            {"type": "video"},
            {"properties": {"name": video.name, "resolution": [video.width, video.height], "length": video.length}},
        ]
        lines += [{"number": n, "pts": pts, "checksum": checksum} for n, pts, checksum in video.keyframes]
    elif backup.frames:
        lines = [{"version": MEDIA_MANIFEST_VERSION}, {"type": "images"}]
        for frame in backup.frames:
            stem, ext = _split_ext(frame.name)
            item: dict[str, Any] = {"name": stem, "extension": ext, "width": frame.width, "height": frame.height}
            if frame.checksum:
                item["checksum"] = frame.checksum
            lines.append(item)
    else:
        return
    with archive.open_text(member) as out:
        for line in lines:
            out.write(_dump(line) + "\n")


def _write_task(archive: ExportArchive, backup: TaskBackup, media: Iterable[MediaItem], prefix: str,
                labels: Sequence[LabelSpec]) -> None:
    task = _task_json(backup, labels)  # checks the jobs before any media is copied
    expected = {f.name for f in backup.frames} if backup.video is None else {backup.video.name}
    reserved = {MEDIA_MANIFEST_FILENAME, MEDIA_INDEX_FILENAME}
    written: set[str] = set()
    for raw_name, content in media:
        try:
            name = safe_member_name(raw_name, "media")
        except UnsafeArchiveError as exc:
            raise FormatError(f"{prefix}{DATA_DIRNAME}: {exc}") from exc
        if not name or name in reserved:
            raise FormatError(f"{prefix}{DATA_DIRNAME}: '{raw_name}' is not a valid media file name")
        archive.write_image(f"{prefix}{DATA_DIRNAME}/{name}", content)
        written.add(name)
    if not expected <= written:
        missing = sorted(expected - written)
        raise FormatError(f"{prefix}{DATA_DIRNAME}: media for {missing[:5]} was not given")
    _write_manifest(archive, backup, f"{prefix}{DATA_DIRNAME}/{MEDIA_MANIFEST_FILENAME}")
    archive.write_bytes(f"{prefix}{TASK_MANIFEST_FILENAME}", _dump(task).encode("utf-8"))
    with archive.open_text(f"{prefix}{ANNOTATIONS_FILENAME}") as out:
        _write_annotations(out, backup, labels, f"{prefix}{ANNOTATIONS_FILENAME}")


def write_task_backup(out: BinaryIO | IO[bytes], backup: TaskBackup, media: Iterable[MediaItem]) -> None:
    """Write ``backup`` to ``out`` (seekable or not) as a CVAT task backup ZIP, streaming.

    ``media`` yields ``(name, bytes or file object)`` per media file, ``name`` being its path
    under ``data/`` (file objects are closed after use); for an image task the names are those
    of ``backup.frames``, for a video task the video's. Nothing is held in memory beyond one
    annotation object at a time. Raises :class:`FormatError` for a label or attribute id that
    is not the task's, an unsafe media name or missing media."""
    with ExportArchive(out) as archive:
        _write_task(archive, backup, media, "", backup.labels)


def write_project_backup(
    out: BinaryIO | IO[bytes],
    project: ProjectBackup,
    tasks: Iterable[tuple[TaskBackup, Iterable[MediaItem]]],
) -> None:
    """Write a CVAT project backup: ``project.json`` and each task under ``task_<n>/`` (``n``
    counts from 0 in the given order; pass the tasks that have data, by id, as CVAT does). A
    task's ``task.json`` lists the project's labels when the task's own list is empty."""
    with ExportArchive(out) as archive:
        manifest = {
            "name": project.name,
            "bug_tracker": project.bug_tracker,
            "status": str(project.status),
            "labels": [_label_json(label) for label in project.labels],
            "version": BACKUP_VERSION,
        }
        archive.write_bytes(PROJECT_MANIFEST_FILENAME, _dump(manifest).encode("utf-8"))
        for n, (task, media) in enumerate(tasks):
            _write_task(archive, task, media, f"task_{n}/", task.labels or project.labels)


# --------------------------------------------------------------------------- reading


class _Json:
    """Typed access to a parsed JSON object with errors naming the file and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> FormatError:
        return FormatError(f"{self.where}: {path}: {message}")

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "expected an object")
        return value

    def lst(self, obj: Mapping[str, Any], key: str, path: str, default: list[Any] | None = None) -> list[Any]:
        value = obj.get(key)
        if value is None:
            if default is None:
                raise self.fail(f"{path}{key}", "is missing")
            return default
        if not isinstance(value, list):
            raise self.fail(f"{path}{key}", "expected a list")
        return value

    def text(self, obj: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = obj.get(key)
        if value is None:
            if default is None:
                raise self.fail(f"{path}{key}", "is missing")
            return default
        if not isinstance(value, str):
            raise self.fail(f"{path}{key}", "expected a string")
        return value

    def integer(self, obj: Mapping[str, Any], key: str, path: str, default: int | None = None) -> int:
        value = obj.get(key)
        if value is None:
            if default is None:
                raise self.fail(f"{path}{key}", "is missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{path}{key}", "expected an integer")
        return value

    def flag(self, obj: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"{path}{key}", "expected true or false")
        return value

    def ints(self, obj: Mapping[str, Any], key: str, path: str) -> list[int]:
        values = self.lst(obj, key, path, [])
        if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
            raise self.fail(f"{path}{key}", "expected a list of integers")
        return list(values)

    def strs(self, obj: Mapping[str, Any], key: str, path: str) -> list[str]:
        values = self.lst(obj, key, path, [])
        if any(not isinstance(v, str) for v in values):
            raise self.fail(f"{path}{key}", "expected a list of strings")
        return list(values)

    def choice(self, obj: Mapping[str, Any], key: str, path: str, kind: type[Any], default: str) -> Any:
        raw = self.text(obj, key, path, default)
        try:
            return kind(raw)
        except ValueError:
            raise self.fail(f"{path}{key}", f"'{raw}' is not one of {[str(v) for v in kind]}") from None


def _load_json(files: ImportFiles, raw: str, where: str) -> Any:
    text = files.read_text(raw)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc


def _parse_label(j: _Json, raw: Any, path: str) -> LabelSpec:
    obj = j.obj(raw, path)
    p = f"{path}."
    attributes = []
    for i, a in enumerate(j.lst(obj, "attributes", p, [])):
        ap = f"{p}attributes[{i}]"
        attr = j.obj(a, ap)
        values = attr.get("values")
        if isinstance(values, str):  # CVAT 1.x wrote the values joined by newlines
            values = values.split("\n")
        if values is not None and (not isinstance(values, list) or not all(isinstance(v, str) for v in values)):
            raise j.fail(f"{ap}.values", "expected a list of strings")
        attributes.append(
            AttributeSpec(
                id=0,
                name=j.text(attr, "name", f"{ap}."),
                input_type=j.choice(attr, "input_type", f"{ap}.", InputType, "text"),
                mutable=j.flag(attr, "mutable", f"{ap}."),
                values=list(values or []),
                default_value=j.text(attr, "default_value", f"{ap}.", ""),
            )
        )
    sublabels = [_parse_label(j, s, f"{p}sublabels[{i}]") for i, s in enumerate(j.lst(obj, "sublabels", p, []))]
    default_type = "skeleton" if sublabels else "any"
    return LabelSpec(
        id=0,
        name=j.text(obj, "name", p),
        type=j.choice(obj, "type", p, LabelType, default_type),
        color=j.text(obj, "color", p, ""),
        attributes=attributes,
        sublabels=sublabels,
        svg=j.text(obj, "svg", p, ""),
    )


_STATUS_TO_STAGE_STATE = {
    JobStatus.ANNOTATION: (JobStage.ANNOTATION, JobState.NEW),
    JobStatus.VALIDATION: (JobStage.VALIDATION, JobState.NEW),
    JobStatus.COMPLETED: (JobStage.ACCEPTANCE, JobState.COMPLETED),
}


def _parse_job(j: _Json, raw: Any, path: str) -> BackupJob:
    obj = j.obj(raw, path)
    p = f"{path}."
    raw_type = j.text(obj, "type", p, "annotation")
    if raw_type == "consensus_replica":  # CVAT 2.2x's name of a replica job
        raw_type = JobType.REPLICA.value
    try:
        type_ = JobType(raw_type)
    except ValueError:
        raise j.fail(f"{p}type", f"'{raw_type}' is not a job type") from None
    status = j.choice(obj, "status", p, JobStatus, "annotation")
    stage, state = _STATUS_TO_STAGE_STATE[status]
    job = BackupJob(
        start_frame=j.integer(obj, "start_frame", p),
        stop_frame=j.integer(obj, "stop_frame", p),
        type=type_,
        stage=stage,
        state=state,
        frames=j.ints(obj, "frames", p),
        files=j.strs(obj, "files", p),
    )
    if job.stop_frame < job.start_frame:
        raise j.fail(f"{p}stop_frame", f"{job.stop_frame} is before start_frame {job.start_frame}")
    return job


def _parse_data(j: _Json, raw: Any) -> BackupData:
    obj = j.obj(raw, "data")
    p = "data."
    chunk_size = obj.get("chunk_size")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)):
        raise j.fail(f"{p}chunk_size", "expected an integer")
    layout = obj.get("validation_layout")
    if layout is not None:
        layout = dict(j.obj(layout, f"{p}validation_layout"))
    return BackupData(
        chunk_size=chunk_size,
        image_quality=j.integer(obj, "image_quality", p, 70),
        start_frame=j.integer(obj, "start_frame", p, 0),
        stop_frame=j.integer(obj, "stop_frame", p, 0),
        frame_filter=j.text(obj, "frame_filter", p, ""),
        chunk_type=j.text(obj, "chunk_type", p, "imageset"),
        storage_method=j.text(obj, "storage_method", p, "file_system"),
        storage=j.text(obj, "storage", p, "local"),
        sorting_method=j.text(obj, "sorting_method", p, "lexicographical"),
        deleted_frames=j.ints(obj, "deleted_frames", p),
        custom_segments=j.flag(obj, "custom_segments", p),
        validation_layout=layout,
    )


def _check_version(j: _Json, manifest: Mapping[str, Any], file: str) -> str:
    version = manifest.get("version")
    if version is None:
        raise FormatError(f"{j.where}: version is missing - not a CVAT {file} backup")
    if version != BACKUP_VERSION:
        raise FormatError(f"{j.where}: version '{version}' is not supported (only '{BACKUP_VERSION}')")
    return str(version)


def _parse_manifest(text: str, where: str) -> tuple[str, list[BackupFrame], BackupVideo | None]:
    """CVAT's ``manifest.jsonl``: its type and the images, or the video (and its key frames)."""
    items: list[tuple[int, Mapping[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{where}, line {number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(value, Mapping):
            raise FormatError(f"{where}, line {number}: expected an object")
        items.append((number, value))
    header = {k: v for _, item in items[:3] for k, v in item.items() if k in ("version", "type", "properties")}
    kind = header.get("type")
    if kind == "images":
        frames = []
        for number, item in items[2:]:
            name, ext = item.get("name"), item.get("extension")
            if not isinstance(name, str) or not isinstance(ext, str):
                raise FormatError(f"{where}, line {number}: an image needs 'name' and 'extension'")
            width, height = item.get("width", 0), item.get("height", 0)
            if not isinstance(width, int) or not isinstance(height, int):
                raise FormatError(f"{where}, line {number}: 'width' and 'height' must be integers")
            checksum = item.get("checksum")
            frames.append(BackupFrame(name + ext, width, height, checksum if isinstance(checksum, str) else None))
        return kind, frames, None
    if kind == "video":
        props = header.get("properties")
        if not isinstance(props, Mapping) or not isinstance(props.get("name"), str):
            raise FormatError(f"{where}: a video manifest needs 'properties' with the video's name")
        resolution = props.get("resolution") or [0, 0]
        length = props.get("length", 0)
        if (
            not isinstance(resolution, list) or len(resolution) != 2
            or not all(isinstance(v, int) for v in resolution) or not isinstance(length, int)
        ):
            raise FormatError(f"{where}: the video's 'resolution' or 'length' is invalid")
        keyframes = []
        for number, item in items[3:]:
            n, pts = item.get("number"), item.get("pts")
            if not isinstance(n, int) or not isinstance(pts, int):
                raise FormatError(f"{where}, line {number}: a key frame needs integer 'number' and 'pts'")
            keyframes.append((n, pts, str(item.get("checksum", ""))))
        video = BackupVideo(props["name"], resolution[0], resolution[1], length, keyframes)
        return kind, [], video
    raise FormatError(f"{where}: unknown manifest type {kind!r} (expected 'images' or 'video')")


def _natural_key(name: str) -> list[Any]:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def _read_task(files: ImportFiles, members: Mapping[str, str], prefix: str, filename: str) -> TaskBackupContents:
    source = f"{filename}: {prefix}" if prefix else filename
    place = f"{filename}: {prefix}" if prefix else f"{filename}: "
    task_raw = members.get(f"{prefix}{TASK_MANIFEST_FILENAME}")
    if task_raw is None:
        raise FormatError(f"{place}{TASK_MANIFEST_FILENAME} is missing - not a CVAT task backup")
    j = _Json(f"{place}{TASK_MANIFEST_FILENAME}")
    manifest = j.obj(_load_json(files, task_raw, j.where), "task")
    version = _check_version(j, manifest, "task")
    labels = [_parse_label(j, raw, f"labels[{i}]") for i, raw in enumerate(j.lst(manifest, "labels", ""))]
    jobs = [_parse_job(j, raw, f"jobs[{i}]") for i, raw in enumerate(j.lst(manifest, "jobs", ""))]
    if "data" not in manifest:
        raise j.fail("data", "is missing")
    data = _parse_data(j, manifest["data"])

    ann_raw = members.get(f"{prefix}{ANNOTATIONS_FILENAME}")
    ann_where = f"{place}{ANNOTATIONS_FILENAME}"
    if ann_raw is None:
        raise FormatError(f"{ann_where} is missing - not a CVAT task backup")
    annotations = _load_json(files, ann_raw, ann_where)
    if not isinstance(annotations, list):
        raise FormatError(f"{ann_where}: expected a list with one object per job")
    if len(annotations) > len(jobs):
        raise FormatError(f"{ann_where}: {len(annotations)} entries for {len(jobs)} jobs")
    for i, entry in enumerate(annotations):
        if not isinstance(entry, Mapping):
            raise FormatError(f"{ann_where}: [{i}]: expected an object")
        for key in ("tags", "shapes", "tracks"):
            if not isinstance(entry.get(key, []), list):
                raise FormatError(f"{ann_where}: [{i}].{key}: expected a list")
    annotations = [dict(e) for e in annotations]
    annotations += [{"version": 0, "tags": [], "shapes": [], "tracks": []} for _ in range(len(jobs) - len(annotations))]

    data_prefix = f"{prefix}{DATA_DIRNAME}/"
    media_members = {
        name[len(data_prefix):]: raw for name, raw in members.items() if name.startswith(data_prefix)
    }
    manifest_raw = media_members.pop(MEDIA_MANIFEST_FILENAME, None)
    media_members.pop(MEDIA_INDEX_FILENAME, None)
    frames: list[BackupFrame] = []
    video: BackupVideo | None = None
    ordered: list[str] = []
    if manifest_raw is not None:
        where = f"{place}{DATA_DIRNAME}/{MEDIA_MANIFEST_FILENAME}"
        kind, frames, video = _parse_manifest(files.read_text(manifest_raw), where)
        ordered = [f.name for f in frames] if kind == "images" else [video.name] if video else []
        missing = [name for name in ordered if name not in media_members]
        if missing:
            raise FormatError(f"{where}: lists {missing[:5]}, not in the archive's {DATA_DIRNAME}/ folder")
    rest = [name for name in media_members if name not in set(ordered)]
    if manifest_raw is None and data.sorting_method == "lexicographical":
        rest.sort()
    elif manifest_raw is None and data.sorting_method == "natural":
        rest.sort(key=_natural_key)
    elif manifest_raw is not None:
        rest.sort()  # files beside the manifest's (related images): a stable order
    return TaskBackupContents(
        name=j.text(manifest, "name", ""),
        labels=labels,
        jobs=jobs,
        data=data,
        media=ordered + rest,
        annotations=annotations,
        frames=frames,
        video=video,
        bug_tracker=j.text(manifest, "bug_tracker", "", ""),
        status=j.choice(manifest, "status", "", JobStatus, "annotation"),
        subset=j.text(manifest, "subset", "", ""),
        consensus_replicas=j.integer(manifest, "consensus_replicas", "", 0),
        version=version,
        source=source,
        _files=files,
        _members=media_members,
    )


def _open(src: BinaryIO | IO[bytes], filename: str, limits: ArchiveLimits) -> tuple[ImportFiles, dict[str, str]]:
    """The archive, and its files by normalised name -> the name the archive gives them."""
    files = open_import(src, filename, limits=limits)
    if not files.is_archive:
        files.close()
        raise FormatError(f"{filename}: a backup is a ZIP archive")
    members = {safe_member_name(raw, filename): raw for raw in files.names()}
    return files, members


def read_task_backup(
    src: BinaryIO | IO[bytes], filename: str, *, limits: ArchiveLimits = DEFAULT_LIMITS
) -> TaskBackupContents:
    """Read a CVAT task backup (refusing zip slip, links and bombs as every upload). Raises
    :class:`FormatError` naming the file and field for anything that is not a task backup, or
    :class:`UnsafeArchiveError` for a hostile archive. Close the result when done."""
    files, members = _open(src, filename, limits)
    try:
        return _read_task(files, members, "", filename)
    except BaseException:
        files.close()
        raise


def read_project_backup(
    src: BinaryIO | IO[bytes], filename: str, *, limits: ArchiveLimits = DEFAULT_LIMITS
) -> ProjectBackupContents:
    """Read a CVAT project backup: ``project.json`` and every ``task_<n>/`` folder, in ``n``
    order. Errors as :func:`read_task_backup`."""
    files, members = _open(src, filename, limits)
    try:
        raw = members.get(PROJECT_MANIFEST_FILENAME)
        if raw is None:
            raise FormatError(f"{filename}: {PROJECT_MANIFEST_FILENAME} is missing - not a CVAT project backup")
        j = _Json(f"{filename}: {PROJECT_MANIFEST_FILENAME}")
        manifest = j.obj(_load_json(files, raw, j.where), "project")
        version = _check_version(j, manifest, "project")
        labels = [_parse_label(j, lb, f"labels[{i}]") for i, lb in enumerate(j.lst(manifest, "labels", ""))]
        dirs: dict[int, str] = {}
        for name in members:
            m = _TASK_DIR_RE.match(name)
            if m:
                dirs[int(m.group(1))] = m.group(0)
        tasks = [_read_task(files, members, dirs[n], filename) for n in sorted(dirs)]
        return ProjectBackupContents(
            name=j.text(manifest, "name", ""),
            labels=labels,
            tasks=tasks,
            bug_tracker=j.text(manifest, "bug_tracker", "", ""),
            status=j.choice(manifest, "status", "", JobStatus, "annotation"),
            version=version,
            _files=files,
        )
    except BaseException:
        files.close()
        raise


# --------------------------------------------------------------------------- binding


class _Binder:
    """Names of one job's annotations -> the new task's ids, in the wire format of
    :meth:`LabeledData.from_dict`."""

    def __init__(self, labels: Sequence[LabelSpec], where: str) -> None:
        self.by_name = {label.name: label for label in labels}
        self.where = where

    def fail(self, path: str, message: str) -> FormatError:
        return FormatError(f"{self.where}: {path}: {message}")

    def label(self, obj: Mapping[str, Any], path: str, parent: LabelSpec | None) -> LabelSpec:
        name = obj.get("label")
        if not isinstance(name, str):
            raise self.fail(f"{path}.label", "is missing")
        if parent is not None:
            sub = parent.sublabel_by_name(name)
            if sub is None:
                raise self.fail(f"{path}.label", f"'{name}' is not a point of skeleton '{parent.name}'")
            return sub
        label = self.by_name.get(name)
        if label is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise self.fail(f"{path}.label", f"label '{name}' is not in the task (task labels: {known})")
        return label

    def attributes(self, obj: Mapping[str, Any], label: LabelSpec, path: str) -> list[dict[str, Any]]:
        raw = obj.get("attributes") or []
        if not isinstance(raw, list):
            raise self.fail(f"{path}.attributes", "expected a list")
        out = []
        for i, item in enumerate(raw):
            p = f"{path}.attributes[{i}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise self.fail(p, "an attribute needs a 'name'")
            spec = label.attribute_by_name(item["name"])
            if spec is None:
                raise self.fail(p, f"attribute '{item['name']}' is not an attribute of label '{label.name}'")
            value = item.get("value", "")
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            out.append({"spec_id": spec.id, "value": value})
        return out

    def common(self, obj: Mapping[str, Any], label: LabelSpec, path: str) -> dict[str, Any]:
        out = {k: v for k, v in obj.items() if k not in ("label", "label_id", "attributes", "elements", "id")}
        out["label_id"] = label.id
        out["attributes"] = self.attributes(obj, label, path)
        return out

    def shape(self, raw: Any, path: str, parent: LabelSpec | None = None) -> dict[str, Any]:
        obj = self.obj(raw, path)
        label = self.label(obj, path, parent)
        out = self.common(obj, label, path)
        if parent is None:
            elements = self.items(obj, "elements", path)
            out["elements"] = [self.shape(e, f"{path}.elements[{i}]", label) for i, e in enumerate(elements)]
        return out

    def track(self, raw: Any, path: str, parent: LabelSpec | None = None) -> dict[str, Any]:
        obj = self.obj(raw, path)
        label = self.label(obj, path, parent)
        out = self.common(obj, label, path)
        shapes = []
        for i, s in enumerate(self.items(obj, "shapes", path)):
            p = f"{path}.shapes[{i}]"
            shape = {k: v for k, v in self.obj(s, p).items() if k not in ("attributes", "id")}
            shape["attributes"] = self.attributes(s, label, p)
            shapes.append(shape)
        out["shapes"] = shapes
        if parent is None:
            elements = self.items(obj, "elements", path)
            out["elements"] = [self.track(e, f"{path}.elements[{i}]", label) for i, e in enumerate(elements)]
        return out

    def tag(self, raw: Any, path: str) -> dict[str, Any]:
        obj = self.obj(raw, path)
        return self.common(obj, self.label(obj, path, None), path)

    def obj(self, raw: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(path, "expected an object")
        return raw

    def items(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = obj.get(key) or []
        if not isinstance(value, list):
            raise self.fail(f"{path}.{key}", "expected a list")
        return value


def bind_annotations(
    contents: TaskBackupContents, labels: Sequence[LabelSpec], *, validate: bool = True
) -> list[LabeledData]:
    """The backup's annotations, one :class:`LabeledData` per job (``contents.jobs`` order), with
    the label and attribute ids of ``labels`` (the restored task's, with ids assigned): labels
    are matched by name, skeleton points by sublabel name, attributes by name.

    Raises :class:`FormatError` naming the file, job and field for a label or attribute the task
    does not have or a malformed item; with ``validate`` (the default) the result is also checked
    against ``labels`` (:func:`validate_annotations`: shape types, attribute values, skeletons)."""
    out = []
    for j, entry in enumerate(contents.annotations):
        where = f"{contents.source}{'' if contents.source.endswith('/') else ': '}{ANNOTATIONS_FILENAME}: [{j}]"
        binder = _Binder(labels, where)
        wire = {
            "version": entry.get("version", 0) if isinstance(entry.get("version", 0), int) else 0,
            "tags": [binder.tag(t, f"tags[{i}]") for i, t in enumerate(binder.items(entry, "tags", ""))],
            "shapes": [binder.shape(s, f"shapes[{i}]") for i, s in enumerate(binder.items(entry, "shapes", ""))],
            "tracks": [binder.track(t, f"tracks[{i}]") for i, t in enumerate(binder.items(entry, "tracks", ""))],
        }
        try:
            data = LabeledData.from_dict(wire)
            if validate:
                validate_annotations(data, labels)
        except AnnotationValidationError as exc:
            raise FormatError(f"{where}: {exc}", fields=exc.fields) from exc
        out.append(data)
    return out


def to_label_inputs(labels: Sequence[LabelSpec]) -> list[LabelInput]:
    """The labels of a backup as the label service's create input (names, not ids; a
    skeleton's ``svg`` by ``data-label-name``, as the service expects from a client)."""
    return [
        LabelInput(
            name=label.name,
            color=label.color or None,
            type=str(label.type),
            svg=label.svg or None,
            attributes=[
                AttributeInput(
                    name=a.name,
                    input_type=str(a.input_type),
                    mutable=a.mutable,
                    values=list(a.values),
                    default_value=a.default_value,
                )
                for a in label.attributes
            ],
            sublabels=to_label_inputs(label.sublabels),
        )
        for label in labels
    ]
