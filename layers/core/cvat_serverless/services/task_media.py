"""Reading a task's data: chunks, frames, previews and ``data/meta`` of tasks and jobs (CVAT's
``GET /api/{tasks,jobs}/{id}/data``, ``.../data/meta``, ``.../preview``), for whoever may view
the task or job; ``PATCH .../data/meta`` (deleted frames) for whoever may edit it.

Where the bytes come from (``domain.task_data.DataKeys``; ``services.pipeline`` wrote them):

- chunk: the stored chunk, answered with a presigned GET on the storage's own origin (chunks are
  megabytes: S3 serves them, not a Lambda; the key follows from the task record alone, so the
  answer costs no storage request). A job's share of a task chunk it shares with another job
  (CVAT's deprecated ``number`` for job chunks) is cut out of the chunk.
- a video task's original chunk: stored as an MP4 (a tenth of the bytes of PNGs) but read as an
  image set, since cvat-sdk's ``TaskDataset`` and ``cvat-cli task auto-annotate`` read nothing
  else: its frames are decoded (``ports.FrameDecoder``) into a zip of PNGs on the first read
  (1-2 s for 36 frames of 1080p), kept under ``chunks/images/`` and redirected to like any chunk.
  Two first reads at once both make it, byte for byte the same. Tasks made before this report
  ``video`` original chunks and still get the MP4.
- frame: one member of an image-set chunk, read with ranged GETs (``services.blob_range``), inline
  when it fits an API answer, else kept under ``frames/`` and redirected to; a frame of an MP4
  original chunk is decoded once (``ports.FrameDecoder``) and kept under ``frames/``.
- preview: the stored JPEG, inline.
- meta: the ``TaskData`` record and ``frames.json`` (kept in this process: written once per data).
"""

from __future__ import annotations

import io
import json
import mimetypes
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..domain import permissions as perm
from ..domain.context import RequestContext
from ..domain.data_reads import (
    ChunkLayout,
    ChunkRef,
    DataMeta,
    DataQuery,
    DataType,
    FrameInfo,
    FrameQuality,
    JobFrames,
    job_deleted_frames,
    job_meta,
)
from ..domain.errors import ConflictError, NotFoundError, ValidationError
from ..domain.jobs import Job
from ..domain.task_data import DataKeys, TaskData
from ..domain.tasks import ChunkType, Task, TaskMode
from ..ports import BlobStore, Clock, FrameDecoder, Repositories
from .blob_range import StoredZips
from .common import job_ref, project_ref, task_ref

INLINE_MAX_BYTES = 4 * 1024 * 1024
"""The largest body answered inline: a Lambda answers at most 6 MB, base64 makes bytes 4/3 bigger."""
PRESIGNED_SECONDS = 900
"""How long a redirect stays valid: clients follow it at once."""
SAVE_ATTEMPTS = 5
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FRAMES_KEPT = 64


@dataclass(frozen=True, slots=True)
class Download:
    """What a read answers: the bytes (``body``), or where the client reads them (``url``, a
    presigned GET on the storage's origin)."""

    content_type: str
    body: bytes | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class TaskMediaService:
    def __init__(self, repos: Repositories, blobs: BlobStore, clock: Clock, frames: FrameDecoder, *,
                 inline_max_bytes: int = INLINE_MAX_BYTES, presigned_seconds: int = PRESIGNED_SECONDS) -> None:
        self.repos = repos
        self.blobs = blobs
        self.clock = clock
        self.frames = frames
        self.inline_max_bytes = inline_max_bytes
        self.presigned_seconds = presigned_seconds
        self.zips = StoredZips(blobs)
        self._frame_lists: OrderedDict[str, tuple[FrameInfo, ...]] = OrderedDict()  # frames.json by key
        self._original_exts: OrderedDict[str, str] = OrderedDict()  # TaskData.original_ext by data root
        self._lock = threading.Lock()

    # --- who may read what -------------------------------------------------------------------------

    def _task(self, ctx: RequestContext, task_id: int, scope: str) -> Task:
        if not scope.startswith("view"):
            ctx.require_write()
        task = self.repos.tasks.get(task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id is not None else None
        perm.check(ctx.actor, scope, task_ref(task, project))
        return task

    def _job(self, ctx: RequestContext, job_id: int, scope: str) -> tuple[Job, Task]:
        if not scope.startswith("view"):
            ctx.require_write()
        job = self.repos.jobs.get(job_id)
        task = self.repos.tasks.get(job.task_id)
        project = self.repos.projects.get(task.project_id) if task.project_id is not None else None
        perm.check(ctx.actor, scope, job_ref(job, task, project))
        return job, task

    @staticmethod
    def _layout(task: Task) -> ChunkLayout:
        if not task.has_data or not task.size or not task.data_chunk_size:
            raise NotFoundError("The task has no data.")
        return ChunkLayout(task.size, task.data_chunk_size)

    def _data(self, task: Task) -> TaskData:
        data = self.repos.task_data.find_by_task(task.id) if task.has_data else None
        if data is None:
            raise NotFoundError("The task has no data.")
        return data

    def _segment_index(self, job: Job) -> int:
        """The job's segment among its task's, in frame order (the pipeline's numbering)."""
        segments = sorted(self.repos.segments.list_by_task(job.task_id), key=lambda s: (s.start_frame, s.id))
        for index, segment in enumerate(segments):
            if segment.id == job.segment_id:
                return index
        raise NotFoundError(f"The segment of job {job.id} is missing.")

    # --- data ------------------------------------------------------------------------------------

    def readable_task(self, ctx: RequestContext, task_id: int) -> Task:
        """The task, when the caller may read its data (``view:data``)."""
        return self._task(ctx, task_id, "view:data")

    def readable_job(self, ctx: RequestContext, job_id: int) -> tuple[Job, Task]:
        """The job and its task, when the caller may read the job's data."""
        return self._job(ctx, job_id, "view:data")

    def task_data(self, ctx: RequestContext, task_id: int, query: DataQuery) -> Download:
        """A chunk or a frame of a task, as ``GET /api/tasks/{id}/data/`` answers it."""
        return self.task_data_of(self.readable_task(ctx, task_id), query)

    def task_data_of(self, task: Task, query: DataQuery) -> Download:
        """``task_data`` of a task the caller was found to be allowed to read (``readable_task``)."""
        layout = self._layout(task)
        assert query.number is not None  # parse_data_query makes sure of it
        if query.type is DataType.CHUNK:
            return self._chunk(task, layout.task_chunk(query.number), query.quality)
        layout.check_frame(query.number)
        if query.type is DataType.FRAME:
            return self._frame(task, query.number, query.quality)
        raise NotFoundError("The frame has no context images.")

    def job_data(self, ctx: RequestContext, job_id: int, query: DataQuery) -> Download:
        """A chunk (``index``: the job's own numbering; ``number``: a task chunk) or a frame of
        a job, as ``GET /api/jobs/{id}/data`` answers it."""
        return self.job_data_of(*self.readable_job(ctx, job_id), query)

    def job_data_of(self, job: Job, task: Task, query: DataQuery) -> Download:
        """``job_data`` of a job the caller was found to be allowed to read (``readable_job``)."""
        frames = JobFrames(self._layout(task), job.start_frame, job.stop_frame)
        if query.type is DataType.CHUNK:
            if query.index is not None:
                segment = None if frames.aligned else self._segment_index(job)
                return self._chunk(task, frames.chunk_by_index(query.index, segment), query.quality)
            assert query.number is not None
            return self._chunk(task, frames.chunk_by_number(query.number), query.quality)
        assert query.number is not None
        frames.check_frame(query.number)
        if query.type is DataType.FRAME:
            return self._frame(task, query.number, query.quality)
        raise NotFoundError("The frame has no context images.")

    def original_images(self, task: Task, number: int) -> list[tuple[str, bytes]]:
        """The frames of task chunk ``number`` at original quality, in order, as (file name,
        bytes): an image task's files as they were uploaded, a video's frames as PNGs (decoded
        from the MP4 chunk). For exports: no presigning, no caching."""
        keys = DataKeys(task.id, task.data_id or 0)
        quality = FrameQuality.ORIGINAL.value
        if self._mp4_originals(task):
            first = self._frame_list(task)[0]
            chunk = self.blobs.get(keys.chunk(quality, number, "mp4"))
            frames = self.frames.video_frames_png(chunk, width=first.width, height=first.height,
                                                  name=f"{first.name} (chunk {number})")
            return [(f"{position:06d}.png", png) for position, png in enumerate(frames)]
        with zipfile.ZipFile(io.BytesIO(self.blobs.get(keys.chunk(quality, number, "zip")))) as z:
            return [(info.filename, z.read(info)) for info in z.infolist()]

    def original_frame(self, task: Task, frame: int) -> bytes:
        """Frame ``frame`` of a task at original quality, as bytes (for a model: never a
        redirect); a video's frame as a PNG. ValidationError for a frame outside the task."""
        layout = self._layout(task)
        number, position = layout.frame_position(frame)
        if self._mp4_originals(task):
            keys = DataKeys(task.id, task.data_id or 0)
            shown = self._video_frame(task, keys, frame, number, position)
            if shown.body is not None:
                return shown.body
            return self.blobs.get(keys.frame(FrameQuality.ORIGINAL.value, frame, "png"))
        keys = DataKeys(task.id, task.data_id or 0)
        return self.zips.member(keys.chunk(FrameQuality.ORIGINAL.value, number, "zip"), position)[1]

    def frame_names(self, task: Task) -> tuple[FrameInfo, ...]:
        """The task's frames meta (for a video: one entry, the video)."""
        return self._frame_list(task)

    def _chunk(self, task: Task, ref: ChunkRef, quality: FrameQuality) -> Download:
        keys = DataKeys(task.id, task.data_id or 0)
        if quality is FrameQuality.ORIGINAL and _one_video_entry(task):
            if ref.positions is not None:
                raise ValidationError("This job shares the task chunk with another job: ask for the job's chunks "
                                      "by index.")
            key, mime = keys.chunk(quality.value, ref.number, "mp4", ref.segment), "video/mp4"
        elif quality is FrameQuality.ORIGINAL and self._mp4_originals(task):
            key, mime = self._mp4_as_images(task, keys, ref.number, ref.segment), "application/zip"
        else:
            key, mime = keys.chunk(quality.value, ref.number, "zip", ref.segment), "application/zip"
        if ref.positions is None:
            return Download(mime, url=self._presign(key))
        first, last = ref.positions[0], ref.positions[-1]
        part = keys.chunk_part(quality.value, ref.number, first, last)
        return self._made_once(part, mime, lambda: _zip(self.zips.members(key, ref.positions or ())))

    def _frame(self, task: Task, frame: int, quality: FrameQuality) -> Download:
        keys = DataKeys(task.id, task.data_id or 0)
        number, position = self._layout(task).frame_position(frame)
        if quality is FrameQuality.ORIGINAL and self._mp4_originals(task):
            return self._video_frame(task, keys, frame, number, position)
        name, data = self.zips.member(keys.chunk(quality.value, number, "zip"), position)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
        mime = _image_mime(name)
        if len(data) <= self.inline_max_bytes:
            return Download(mime, body=data)
        return self._made_once(keys.frame(quality.value, frame, ext), mime, lambda: data)

    def _video_frame(self, task: Task, keys: DataKeys, frame: int, number: int, position: int) -> Download:
        """A frame of an MP4 original chunk: decoded once, then kept."""
        cached = keys.frame(FrameQuality.ORIGINAL.value, frame, "png")
        try:
            data = self.blobs.get(cached)
        except NotFoundError:
            first = self._frame_list(task)[0]
            chunk = self.blobs.get(keys.chunk(FrameQuality.ORIGINAL.value, number, "mp4"))
            data = self.frames.video_frame_png(chunk, position, width=first.width, height=first.height,
                                               name=f"{first.name} (chunk {number})")
            self.blobs.put(cached, data, content_type="image/png")
        if len(data) <= self.inline_max_bytes:
            return Download("image/png", body=data)
        return Download("image/png", url=self._presign(cached))

    def _mp4_originals(self, task: Task) -> bool:
        """Whether the task's original chunks are stored as MP4s (a video task's, unless it asked
        for ``use_zip_chunks``)."""
        if _one_video_entry(task):
            return True
        if task.mode is not TaskMode.INTERPOLATION:  # not a video
            return False
        root = DataKeys(task.id, task.data_id or 0).root
        with self._lock:
            ext = self._original_exts.get(root)
        if ext is None:  # fixed for the data's life: one read per warm function
            ext = self._data(task).original_ext
            with self._lock:
                self._original_exts[root] = ext
                while len(self._original_exts) > _FRAMES_KEPT:
                    self._original_exts.popitem(last=False)
        return ext == "mp4"

    def _mp4_as_images(self, task: Task, keys: DataKeys, number: int, segment: int | None) -> str:
        """The key of an MP4 original chunk's frames as an image-set chunk: PNGs ``000000.png..``
        in order (as media.chunks names a video's PNG originals), made on the first read."""
        quality = FrameQuality.ORIGINAL.value
        key = keys.chunk_images(quality, number, segment)
        try:
            self.blobs.head(key)
        except NotFoundError:
            first = self._frame_list(task)[0]
            where = f"chunk {number}" if segment is None else f"chunk {number} of segment {segment}"
            chunk = self.blobs.get(keys.chunk(quality, number, "mp4", segment))
            frames = self.frames.video_frames_png(chunk, width=first.width, height=first.height,
                                                  name=f"{first.name} ({where})")
            data = _zip((f"{position:06d}.png", png) for position, png in enumerate(frames))
            self.blobs.put(key, data, content_type="application/zip")
        return key

    def _made_once(self, key: str, mime: str, make: Callable[[], bytes]) -> Download:
        """Bytes made from stored data: inline when small, else stored once under ``key`` and
        redirected to (the next read finds them there)."""
        try:
            self.blobs.head(key)
        except NotFoundError:
            data = make()
            if len(data) <= self.inline_max_bytes:
                return Download(mime, body=data)
            self.blobs.put(key, data, content_type=mime)
        return Download(mime, url=self._presign(key))

    def _presign(self, key: str) -> str:
        return self.blobs.presigned_get(key, expires=self.presigned_seconds)

    # --- previews ---------------------------------------------------------------------------------

    def task_preview(self, ctx: RequestContext, task_id: int) -> Download | None:
        """The task's preview (its first frame, 256 px); None before the task has data."""
        task = self._task(ctx, task_id, "view")
        return self._preview(task, None)

    def job_preview(self, ctx: RequestContext, job_id: int) -> Download | None:
        """The job's preview (its first frame)."""
        job, task = self._job(ctx, job_id, "view")
        return self._preview(task, self._segment_index(job)) if task.has_data else None

    def project_preview(self, ctx: RequestContext, project_id: int) -> Download | None:
        """The preview of the project's newest task that has data, as CVAT shows a project."""
        project = self.repos.projects.get(project_id)
        perm.check(ctx.actor, "view", project_ref(project))
        tasks = [t for t in self.repos.tasks.list_by_project(project_id) if t.has_data]
        return self._preview(max(tasks, key=lambda t: t.id), None) if tasks else None

    def _preview(self, task: Task, segment: int | None) -> Download | None:
        if not task.has_data:
            return None
        try:
            data = self.blobs.get(DataKeys(task.id, task.data_id or 0).preview(segment))
        except NotFoundError:
            return None
        return Download("image/jpeg", body=data)

    # --- meta -------------------------------------------------------------------------------------

    def task_meta(self, ctx: RequestContext, task_id: int) -> DataMeta:
        """CVAT's ``DataMetaRead`` of a task."""
        task = self._task(ctx, task_id, "view:metadata")
        return self._meta(task, self._data(task))

    def job_meta(self, ctx: RequestContext, job_id: int) -> DataMeta:
        """CVAT's ``DataMetaRead`` of a job: its frames only."""
        job, task = self._job(ctx, job_id, "view:metadata")
        return job_meta(self._meta(task, self._data(task)), start=job.start_frame, stop=job.stop_frame,
                        video=_one_video_entry(task))

    def update_task_meta(self, ctx: RequestContext, task_id: int, deleted_frames: Iterable[int]) -> DataMeta:
        """``PATCH data/meta``: the task's deleted frames become ``deleted_frames``."""
        task = self._task(ctx, task_id, "update:metadata")
        wanted = list(deleted_frames)
        data = self._save_data(task, lambda d: d.set_deleted_frames(wanted))
        return self._meta(self._touch(task), data)

    def update_job_meta(self, ctx: RequestContext, job_id: int, deleted_frames: Iterable[int]) -> DataMeta:
        """``PATCH`` of a job's ``data/meta``: its own frames' deletions become ``deleted_frames``
        (the other jobs' stay)."""
        job, task = self._job(ctx, job_id, "update:metadata")
        wanted = list(deleted_frames)

        def apply(data: TaskData) -> None:
            data.set_deleted_frames(job_deleted_frames(data.deleted_frames, wanted, start=job.start_frame,
                                                       stop=job.stop_frame))

        data = self._save_data(task, apply)
        return job_meta(self._meta(self._touch(task), data), start=job.start_frame, stop=job.stop_frame,
                        video=_one_video_entry(task))

    def _save_data(self, task: Task, change: Callable[[TaskData], None]) -> TaskData:
        for _ in range(SAVE_ATTEMPTS):  # another client's PATCH may land first: reload and reapply
            data = self._data(task)
            change(data)
            try:
                return self.repos.task_data.save(data)
            except ConflictError:
                continue
        raise ConflictError("The task's data is being edited too often; try again.")

    def _touch(self, task: Task) -> Task:
        """The task changed (clients such as cvat-sdk's dataset cache compare ``updated_date``)."""
        for _ in range(SAVE_ATTEMPTS):
            task.updated_date = self.clock.now()
            try:
                return self.repos.tasks.save(task)
            except ConflictError:
                task = self.repos.tasks.get(task.id)
        raise ConflictError("The task is being edited too often; try again.")

    def _meta(self, task: Task, data: TaskData) -> DataMeta:
        frames = self._frame_list(task)
        if data.media_type == "video" and not _one_video_entry(task):
            # cvat-sdk's TaskDataset names sample k frames[k] when the original chunks are image
            # sets: a video cut into image-set chunks lists itself once per frame (CVAT lists it
            # once, which breaks the SDK's datasets and auto-annotation on such tasks)
            frames = frames[:1] * data.size
        return DataMeta(
            chunk_size=data.chunk_size, size=data.size, image_quality=data.image_quality,
            start_frame=data.start_frame, stop_frame=data.stop_frame, frame_filter=data.frame_filter,
            frames=frames, deleted_frames=tuple(data.deleted_frames),
            chunks_updated_date=data.chunks_updated_date or task.updated_date or self.clock.now(),
            storage=task.storage.value if task.storage is not None else "local", frame_rate=data.frame_rate,
        )

    def _frame_list(self, task: Task) -> tuple[FrameInfo, ...]:
        key = DataKeys(task.id, task.data_id or 0).frames_meta
        with self._lock:
            known = self._frame_lists.get(key)
            if known is not None:
                self._frame_lists.move_to_end(key)
                return known
        frames = tuple(FrameInfo.from_dict(f) for f in json.loads(self.blobs.get(key)))
        with self._lock:
            self._frame_lists[key] = frames
            while len(self._frame_lists) > _FRAMES_KEPT:
                self._frame_lists.popitem(last=False)
        return frames


def _one_video_entry(task: Task) -> bool:
    """A video whose original chunks are read as videos (tasks made before video tasks were read
    as image sets): its frames meta is the video alone, as CVAT's, and its original chunks are
    the MP4s."""
    return task.data_original_chunk_type == ChunkType.VIDEO


def _image_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _zip(members: Iterable[tuple[str, bytes]]) -> bytes:
    """Members as an image-set chunk is stored: uncompressed, fixed timestamps, in order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return out.getvalue()

