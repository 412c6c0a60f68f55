"""The task-data workflow's steps (statemachines/task_data.asl.json runs them in Lambdas with the
media layer): prepare -> Map over work units -> finalize, and fail when any step fails.

- prepare: gather the request's media into a working folder (staged uploads and TUS parts, drop-folder
  files, share files, remote URLs through the SSRF guard), extract archives, build the frame manifest with the
  media engine (sorting, start/stop/step, job_file_mapping), plan the jobs and the chunks, copy the
  media to ``source/`` and write ``manifest.jsonl``, ``frames.json`` and ``plan.json``. Returns the
  unit numbers for the Map (small: the plan itself stays in S3).
- unit: build one work unit's chunks (compressed and original; task chunks and the chunks of jobs
  whose frames do not line up with them) and store them.
- finalize: previews, the TaskData record, the task's data fields with its segments and jobs
  (TaskService.attach_data: jobs appear only now, which is how FiftyOne knows the task is ready),
  the staging area removed, the request finished.
- fail: the request failed with a message that names the file; the partial data is removed and the
  task takes a new upload.

Every step is idempotent: a retried or duplicated step writes the same objects (the media engine's
output is deterministic) and attach_data creates the jobs once. State between steps lives in S3
under ``tasks/<task>/data/<data>/`` (domain.task_data.DataKeys), never in the state payloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from ..domain.errors import CvatServerlessError, NotFoundError, ValidationError
from ..domain.requests import failure_message
from ..domain.segments import FrameRange
from ..domain.task_data import DataKeys, DataRequest, ResourceType, TaskData, ordered_by_upload
from ..domain.tasks import ChunkType, SortingMethod, StorageMethod, StorageType, TaskMode
from ..ports import BlobStore, Clock, RemoteFetcher, Repositories
from .requests import RequestService
from .tasks import DataInfo, TaskService

log = logging.getLogger(__name__)

REMOTE_MAX_BYTES = 20 * 1024**3
# A video up to this size is downloaded once per worker (kept for its next units); a larger one is
# read in ranges by each unit: a unit then reads its own span (and the index), not the whole file
# (an hour of 1080p is ~4 GB; 300 parallel units would each download all of it).
RANGED_VIDEO_BYTES = 512 * 1024**2
RANGED_VIDEO_READ_AHEAD = 8 * 1024**2
REMOTE_TIMEOUT_S = 600.0
PREVIEW_SIZE = (256, 256)
_SOURCE_CACHE_LOCK = threading.Lock()
SOURCE_IDLE_S = 900.0
"""A task's cached media is removed only once no unit of this process used it for this long (a
unit runs 15 minutes at most): units of several tasks may run at once in one process."""
_SOURCES_USED: dict[Path, float] = {}  # cache folder -> when a unit of this process last used it


@dataclass(frozen=True, slots=True)
class Plan:
    """What prepare decided: written to ``plan.json`` for the units and finalize."""

    media_type: str  # "images" | "video"
    chunk_size: int
    image_quality: int
    use_zip_chunks: bool
    frames: tuple[int, int, int]  # start, stop, step (source frames)
    sorting_method: str
    storage: str
    segments: tuple[tuple[int, int], ...]  # (start, stop) task frames per job
    segment_size: int
    overlap: int
    job_sizes: tuple[int, ...] | None
    segment_chunks: tuple[int, ...]  # segments that get chunks of their own
    units: tuple[dict[str, Any], ...]
    video_name: str = ""  # the video's name among the sources
    # where the units read the media: a frame named N is the object <source_prefix>N (the staged
    # upload or the share itself when the files are used as they are; else the copies in source/)
    source_prefix: str = ""
    frame_rate: float | None = None  # a video's frames per second (the player's speed)

    def to_json(self) -> bytes:
        return json.dumps({f: getattr(self, f) for f in self.__dataclass_fields__}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Plan:
        raw = json.loads(data)
        raw["frames"] = tuple(raw["frames"])
        raw["segments"] = tuple(tuple(s) for s in raw["segments"])
        raw["job_sizes"] = tuple(raw["job_sizes"]) if raw["job_sizes"] is not None else None
        raw["segment_chunks"] = tuple(raw["segment_chunks"])
        raw["units"] = tuple(raw["units"])
        return cls(**raw)

    @property
    def original_chunk_type(self) -> ChunkType:
        """How the original chunks are stored: a video's as MP4s (a tenth of the bytes of PNGs)
        unless ``use_zip_chunks`` asked for zips of PNGs. Clients read them as image sets either
        way (``_data_info``; services.task_media makes an MP4's zip on its first read)."""
        video_mp4 = self.media_type == "video" and not self.use_zip_chunks
        return ChunkType.VIDEO if video_mp4 else ChunkType.IMAGESET

    @property
    def original_ext(self) -> str:
        return "mp4" if self.original_chunk_type is ChunkType.VIDEO else "zip"

    @property
    def frame_range(self) -> FrameRange:
        return FrameRange(*self.frames)


class TaskDataPipeline:
    def __init__(self, repos: Repositories, blobs: BlobStore, tasks: TaskService, requests: RequestService, *,
                 remote: RemoteFetcher, clock: Clock, share_prefix: str, unit_concurrency: int = 40,
                 work_root: str | None = None) -> None:
        self.repos = repos
        self.blobs = blobs
        self.tasks = tasks
        self.requests = requests
        self.remote = remote
        self.clock = clock
        self.share_prefix = share_prefix
        self.unit_concurrency = unit_concurrency
        self.work_root = Path(work_root or os.environ.get("CVAT_WORK_DIR") or tempfile.gettempdir()) / "cvat-task-data"

    # ================================================================== prepare

    def prepare(self, request_id: str, task_id: int, data_id: int, execution_name: str = "") -> dict[str, Any]:
        """Gather, probe and plan; the Map's items (unit numbers)."""
        self.requests.started(request_id, "Preparing the media", execution_name=execution_name or None)
        keys = DataKeys(task_id, data_id)
        document = json.loads(self.blobs.get(keys.request))
        request = DataRequest.from_dict(document["data"])
        task = self.repos.tasks.get(task_id)
        with self._work(f"prepare-{data_id}") as work:
            inbox = work / "in"
            inbox.mkdir()
            names = self._gather(keys, request, document, inbox)
            media, root, names = self._media(inbox, names, work)
            manifest, job_sizes = self._manifest(media, root, names, request)
            in_place = root == inbox and not (document.get("tus") or {})
            where = self._in_place_prefix(keys, request, document) if in_place else ""
            plan = self._plan(task, manifest, request, job_sizes, media, source_prefix=where or keys.source())
            if not where:
                self._publish_source(keys, manifest, root, plan)
            self.blobs.put(keys.manifest, manifest.to_jsonl().encode(), content_type="application/x-ndjson")
            self.blobs.put(keys.frames_meta, json.dumps(_frames_meta(manifest, plan)).encode(),
                           content_type="application/json")
            self.blobs.put(keys.plan, plan.to_json(), content_type="application/json")
        self.requests.advance(request_id, 0.1, f"Making the chunks of {manifest.size} frames")
        return {"units": list(range(len(plan.units))), "concurrency": self.unit_concurrency}

    @contextlib.contextmanager
    def _work(self, name: str) -> Iterator[Path]:
        self.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.work_root))
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _gather(self, keys: DataKeys, request: DataRequest, document: dict[str, Any], inbox: Path) -> list[str]:
        """The request's files in ``inbox``; their names (relative paths) in the client's order."""
        kind = request.resource_type
        if kind is ResourceType.LOCAL:
            tus = document.get("tus") or {}
            where = self._uploaded_prefix(keys, document)
            names = list(request.client_files)
            for name in names:
                dest = inbox / name
                if name in tus:
                    self._join_tus(keys, tus[name]["id"], tus[name]["parts"], dest)
                else:
                    self.blobs.download(where + name, str(dest))
            return names
        if kind is ResourceType.SHARE:
            return self._gather_share(request, inbox)
        return self._gather_remote(request, inbox)

    def _join_tus(self, keys: DataKeys, upload_id: str, parts: Sequence[int], dest: Path) -> None:
        with dest.open("wb") as out:
            for offset in parts:
                out.write(self.blobs.get(keys.tus_part(upload_id, offset)))

    def _gather_share(self, request: DataRequest, inbox: Path) -> list[str]:
        names: list[str] = []
        excluded = [e.strip("/") for e in request.server_files_exclude]
        for wanted in request.server_files:
            path = wanted.strip("/")
            if ".." in path.split("/"):
                raise ValidationError(f"server_files: {wanted} leaves the share.")
            found = list(self.blobs.list_keys(f"{self.share_prefix}{path}/")) if path else []
            if not found:
                try:
                    size = int(self.blobs.head(f"{self.share_prefix}{path}")["size"])
                except NotFoundError:
                    raise ValidationError(f"server_files: {wanted} is not in the share.") from None
                found = [(f"{self.share_prefix}{path}", size)]
            for key, _size in found:
                rel = key[len(self.share_prefix):]
                if key.endswith("/") or any(rel == e or rel.startswith(e + "/") for e in excluded):
                    continue
                if request.filename_pattern and not fnmatch(rel.rsplit("/", 1)[-1], request.filename_pattern):
                    continue
                if rel in names:
                    continue
                (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
                self.blobs.download(key, str(inbox / rel))
                names.append(rel)
        if not names:
            raise ValidationError("No media data found: server_files selected no file of the share.")
        return names

    def _gather_remote(self, request: DataRequest, inbox: Path) -> list[str]:
        names: list[str] = []
        for index, url in enumerate(request.remote_files):
            part = inbox / f".remote-{index}"
            with part.open("wb") as out:
                got = self.remote.fetch(url, out, max_bytes=REMOTE_MAX_BYTES, timeout=REMOTE_TIMEOUT_S)
            name = got.name or f"file-{index}"
            stem, dot, ext = name.rpartition(".")
            unique, n = name, 1
            while unique in names:
                n += 1
                unique = f"{stem}-{n}{dot}{ext}" if dot else f"{name}-{n}"
            part.rename(inbox / unique)
            names.append(unique)
        return names

    def _media(self, inbox: Path, names: list[str], work: Path) -> tuple[str, Path, list[str]]:
        """``("images" | "video", root, names)``: archives extracted, ignored files dropped."""
        from ..media.archive import extract_images
        from ..media.probe import MediaKind, classify_task_media, is_ignored

        kind = classify_task_media(names)
        kept = [n for n in names if not is_ignored(n)]
        if kind is MediaKind.VIDEO:
            return "video", inbox, kept
        if kind is MediaKind.ARCHIVE:
            root = work / "extracted"
            return "images", root, extract_images(inbox / kept[0], root, name=kept[0])
        return "images", inbox, kept

    def _manifest(self, media: str, root: Path, names: list[str], request: DataRequest
                  ) -> tuple[Any, tuple[int, ...] | None]:
        from ..media.manifest import build_image_manifest, build_video_manifest

        if media == "video":
            manifest = build_video_manifest(root / names[0], name=names[0], start_frame=request.start_frame,
                                            stop_frame=request.stop_frame, step=request.frame_step)
            return manifest, None
        job_sizes: tuple[int, ...] | None = None
        sorting: SortingMethod | str = request.sorting_method
        ordered = names
        if request.job_file_mapping:
            listed = [n for job in request.job_file_mapping for n in job]
            missing = sorted(set(listed) - set(names))
            if missing:
                raise ValidationError(f"job_file_mapping names files that were not uploaded: {missing[:5]}")
            if len(set(listed)) != len(listed):
                raise ValidationError("job_file_mapping names a file twice.")
            ordered, sorting = listed, SortingMethod.PREDEFINED
            job_sizes = tuple(len(job) for job in request.job_file_mapping)
        elif request.sorting_method is SortingMethod.PREDEFINED:
            ordered = ordered_by_upload(names, request.upload_file_order)
        manifest = build_image_manifest(root, ordered, sorting_method=sorting, seed=request.seed,
                                        start_frame=request.start_frame, stop_frame=request.stop_frame,
                                        step=request.frame_step)
        return manifest, job_sizes

    @staticmethod
    def _uploaded_prefix(keys: DataKeys, document: dict[str, Any]) -> str:
        """Where uploaded files are: the staging area, or the request's ``source_prefix`` (files
        that were in the bucket already, as the drop folder's)."""
        return str(document.get("source_prefix") or keys.staged_file(""))

    def _in_place_prefix(self, keys: DataKeys, request: DataRequest, document: dict[str, Any]) -> str:
        """Where the gathered files already are in the bucket, named as the manifest names them
        (uploaded files in the staging area or the drop folder, share files in the share); ""
        for remote files."""
        if request.resource_type is ResourceType.LOCAL:
            return self._uploaded_prefix(keys, document)
        if request.resource_type is ResourceType.SHARE:
            return self.share_prefix
        return ""

    def _plan(self, task: Any, manifest: Any, request: DataRequest, job_sizes: tuple[int, ...] | None,
              media: str, *, source_prefix: str) -> Plan:
        from ..media.frames import ChunkSpec, default_chunk_size, plan_chunks
        from ..media.units import plan_work_units

        if manifest.size <= 0:
            raise ValidationError("No media data found: the selected frames are empty.")
        first = manifest.frame(0)
        chunk_size = request.chunk_size or default_chunk_size(media, first.width, first.height)
        selection = manifest.selection
        info = self._data_info(request, media, FrameRange(selection.start_frame, selection.stop_frame,
                                                            selection.step), chunk_size, job_sizes)
        split = self.tasks.plan_segments(task, info)
        segments = tuple((s.start_frame, s.stop_frame) for s in split.segments)
        size = manifest.size

        def aligned(start: int, stop: int) -> bool:
            return start % chunk_size == 0 and ((stop + 1) % chunk_size == 0 or stop == size - 1)

        own = tuple(i for i, (start, stop) in enumerate(segments) if not aligned(start, stop))
        chunks: list[ChunkSpec] = plan_chunks(size, chunk_size)
        if own:
            for spec in plan_chunks(size, chunk_size, [_Seg(*segments[i]) for i in range(len(segments))]):
                if spec.segment in own:
                    chunks.append(spec)
        chunks.sort(key=lambda c: (c.start, c.segment is not None, c.segment or 0, c.number))
        units = plan_work_units(manifest, chunks)
        storage = StorageType.SHARE if request.resource_type is ResourceType.SHARE else StorageType.LOCAL
        return Plan(
            media_type=manifest.media_type, chunk_size=chunk_size, image_quality=request.image_quality,
            use_zip_chunks=request.use_zip_chunks,
            frames=(selection.start_frame, selection.stop_frame, selection.step),
            sorting_method=request.sorting_method.value, storage=storage.value, segments=segments,
            segment_size=split.segment_size, overlap=split.overlap, job_sizes=job_sizes, segment_chunks=own,
            units=tuple(u.to_dict() for u in units),
            video_name=manifest.video.name if manifest.video is not None else "",
            source_prefix=source_prefix,
            frame_rate=float(manifest.video.fps) if manifest.video is not None and manifest.video.fps else None,
        )

    @staticmethod
    def _data_info(request: DataRequest | None, media: str, frames: FrameRange, chunk_size: int,
                   job_sizes: tuple[int, ...] | None, *, plan: Plan | None = None, data_id: int | None = None
                   ) -> DataInfo:
        video = media == "video"
        quality = plan.image_quality if plan is not None else (request.image_quality if request else 70)
        storage = StorageType(plan.storage) if plan is not None else StorageType.LOCAL
        sorting = SortingMethod(plan.sorting_method) if plan is not None else (
            request.sorting_method if request else SortingMethod.LEXICOGRAPHICAL)
        return DataInfo(
            frames=frames,
            mode=TaskMode.INTERPOLATION if video else TaskMode.ANNOTATION,
            chunk_size=chunk_size,
            image_quality=quality,
            compressed_chunk_type=ChunkType.IMAGESET,
            # cvat-sdk's TaskDataset and `cvat-cli task auto-annotate` read image-set originals only
            original_chunk_type=ChunkType.IMAGESET,
            storage_method=StorageMethod.CACHE,
            storage=storage,
            sorting_method=sorting,
            job_sizes=list(job_sizes) if job_sizes is not None else None,
            data_id=data_id,
        )

    def _publish_source(self, keys: DataKeys, manifest: Any, root: Path, plan: Plan) -> None:
        """The media the units read, when it is not in the bucket as it is: the video, or every
        selected image, under ``source/``."""
        if plan.media_type == "video":
            self.blobs.upload(str(root / plan.video_name), plan.source_prefix + plan.video_name)
            return
        for frame in manifest.frames:
            self.blobs.upload(str(root / frame.name), plan.source_prefix + frame.name)

    # ================================================================== units

    def run_unit(self, request_id: str, task_id: int, data_id: int, unit: int) -> dict[str, Any]:
        """Build and store one work unit's chunks. A unit that fails records why (its error type
        and message) before it raises: the Map state fails with States.ExceedToleratedFailureThreshold
        only, and ``fail`` tells the user what the unit said."""
        try:
            done = self._run_unit(request_id, task_id, data_id, unit)
        except Exception as exc:
            record = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            with contextlib.suppress(Exception):  # the error itself must reach the state machine
                self.blobs.put(DataKeys(task_id, data_id).unit_failure(unit), json.dumps(record).encode(),
                               content_type="application/json")
            raise
        self.blobs.delete(DataKeys(task_id, data_id).unit_failure(unit))  # an earlier try's record
        return done

    def _run_unit(self, request_id: str, task_id: int, data_id: int, unit: int) -> dict[str, Any]:
        from ..media.chunks import ChunkKind, ChunkSettings
        from ..media.manifest import Manifest
        from ..media.units import WorkUnit, run_work_unit

        keys = DataKeys(task_id, data_id)
        plan = Plan.from_json(self.blobs.get(keys.plan))
        manifest = Manifest.from_jsonl(self.blobs.get(keys.manifest).decode())
        work_unit = WorkUnit.from_dict(plan.units[unit])
        settings = ChunkSettings(image_quality=plan.image_quality,
                                 video_original="imageset" if plan.use_zip_chunks else "video")
        source = self._source(keys, manifest, plan, work_unit, request_id)
        with self._work(f"unit-{data_id}-{unit}") as out:
            results = run_work_unit(manifest, work_unit, source, out, kinds=(ChunkKind.COMPRESSED, ChunkKind.ORIGINAL),
                                    settings=settings)
            from ..media.units import chunk_path

            for r in results:
                ext = plan.original_ext if r.kind is ChunkKind.ORIGINAL else "zip"
                local = chunk_path(out, r.kind, r.chunk, ext)
                self.blobs.upload(str(local), keys.chunk(r.kind.value, r.chunk.number, ext, r.chunk.segment),
                                  content_type=r.mime)
        return {"unit": unit, "chunks": len(results)}

    def _source(self, keys: DataKeys, manifest: Any, plan: Plan, unit: Any, request_id: str) -> Any:
        """The unit's media: the video on local disk (kept for the next units in a warm worker) or,
        above RANGED_VIDEO_BYTES, as a file over ranged reads of the stored object; or the unit's
        images on local disk."""
        if plan.media_type == "video":
            key = plan.source_prefix + plan.video_name
            size = int(self.blobs.head(key)["size"])
            if size > RANGED_VIDEO_BYTES:
                from .blob_range import BlobRangeFile

                return BlobRangeFile(self.blobs, key, size=size, read_ahead=RANGED_VIDEO_READ_AHEAD, spans=4)
        # Named by the request too: task and data ids start again at 1 in a new store (a fresh
        # embedded runtime, a test), whose media must not be taken for an older one's.
        attempt = hashlib.sha256(request_id.encode()).hexdigest()[:12]
        # per process: another process on the machine (a second embedded runtime) keeps its own
        cache = self.work_root / "sources" / f"pid-{os.getpid()}" / f"{keys.task_id}-{keys.data_id}-{attempt}"
        with _SOURCE_CACHE_LOCK:
            cache.mkdir(parents=True, exist_ok=True)
            self._trim_sources(keep=cache)
        if plan.media_type == "video":
            path = cache / plan.video_name
            with _SOURCE_CACHE_LOCK:
                if not path.exists():
                    partial = path.with_name(path.name + ".part")
                    self.blobs.download(plan.source_prefix + plan.video_name, str(partial))
                    partial.rename(path)
            return path
        frames = sorted({f for c in unit.chunks for f in c.frames})
        for f in frames:
            name = manifest.frame(f).name
            path = cache / name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f"{path.name}.{threading.get_ident()}.part")
                self.blobs.download(plan.source_prefix + name, str(partial))
                os.replace(partial, path)
        return cache

    def _trim_sources(self, keep: Path, most: int = 2) -> None:
        """Keep the media of the latest tasks only (a warm worker's /tmp is limited), never those a
        unit of this process used in the last SOURCE_IDLE_S (call it under _SOURCE_CACHE_LOCK)."""
        now = time.monotonic()
        _SOURCES_USED[keep] = now
        idle = [p for p in keep.parent.iterdir()
                if p.is_dir() and p != keep and now - _SOURCES_USED.get(p, -SOURCE_IDLE_S) >= SOURCE_IDLE_S]
        idle.sort(key=lambda p: _SOURCES_USED.get(p, float("-inf")), reverse=True)  # latest used first
        for old in idle[max(0, most - 1):]:
            shutil.rmtree(old, ignore_errors=True)
            _SOURCES_USED.pop(old, None)

    # ================================================================== finalize

    def finalize(self, request_id: str, task_id: int, data_id: int) -> dict[str, Any]:
        """Previews, the task's data and jobs, the request finished."""
        keys = DataKeys(task_id, data_id)
        plan = Plan.from_json(self.blobs.get(keys.plan))
        self._previews(keys, plan)
        now = self.clock.now()
        existing = self.repos.task_data.find_by_task(task_id)
        if existing is None:
            self.repos.task_data.add(TaskData(
                id=data_id, task_id=task_id, media_type=plan.media_type, size=plan.frame_range.size,
                chunk_size=plan.chunk_size, image_quality=plan.image_quality,
                compressed_chunk_type=ChunkType.IMAGESET, original_chunk_type=plan.original_chunk_type,
                original_ext=plan.original_ext, start_frame=plan.frames[0], stop_frame=plan.frame_range.last_frame,
                frame_filter="" if plan.frames[2] == 1 else f"step={plan.frames[2]}",
                segment_chunks=plan.segment_chunks, chunks_updated_date=now, frame_rate=plan.frame_rate,
            ))
        elif existing.id != data_id:
            raise ValidationError("The task has other data already.")
        info = self._data_info(None, plan.media_type, plan.frame_range, plan.chunk_size, plan.job_sizes, plan=plan,
                               data_id=data_id)
        if plan.media_type == "video" and plan.source_prefix.startswith("staging/"):
            # the uploaded video is the task's original (backups carry it): kept out of staging/,
            # whose lifecycle rule removes what is left there
            self.blobs.copy(plan.source_prefix + plan.video_name, keys.source(plan.video_name))
            self.blobs.put(keys.plan, replace(plan, source_prefix=keys.source()).to_json(),
                           content_type="application/json")
        self.tasks.attach_data(task_id, info)
        self.requests.finish(request_id, result_id=task_id)
        # Last: a retried or resumed step before this point still finds the uploaded media.
        self.blobs.delete_prefix(keys.staging)
        for upload in self.repos.tus_uploads.list_by_task(task_id):
            self.repos.tus_uploads.delete(upload.id)
        return {"task_id": task_id, "data_id": data_id, "size": plan.frame_range.size}

    def _previews(self, keys: DataKeys, plan: Plan) -> None:
        """The task's preview (its first frame) and each job's (its segment's first frame), made
        from the compressed chunks, fitted into 256x256."""
        from .blob_range import StoredZips

        # One ranged read of the frame's member per preview (an hour of video has hundreds of
        # jobs: their chunks, tens of MB each, are never downloaded or held whole).
        zips = StoredZips(self.blobs)
        wanted = {None: 0} | {i: start for i, (start, _stop) in enumerate(plan.segments)}
        for segment, frame in wanted.items():
            number, position = frame // plan.chunk_size, frame % plan.chunk_size
            _name, picture = zips.member(keys.chunk("compressed", number, "zip"), position)
            self.blobs.put(keys.preview(segment), _thumbnail(picture), content_type="image/jpeg")

    # ================================================================== failure

    def fail(self, request_id: str, task_id: int, data_id: int, error: str, cause: str) -> dict[str, Any]:
        """A step failed for good: the request fails with a message the user can act on, and
        what the processing wrote is removed (the task takes a new upload)."""
        keys = DataKeys(task_id, data_id)
        if error == "States.ExceedToleratedFailureThreshold":
            error, cause = self._unit_failure(keys) or (error, cause)
        message = failure_message(error, cause)
        self.requests.fail(request_id, message)
        if self.repos.task_data.find_by_task(task_id) is None:  # never remove attached data
            with contextlib.suppress(CvatServerlessError):
                self.blobs.delete_prefix(keys.root)
        return {"request_id": request_id, "message": message}


    def _unit_failure(self, keys: DataKeys) -> tuple[str, str] | None:
        """The first failed unit's error and cause (as a Lambda's error payload), if one recorded it."""
        with contextlib.suppress(CvatServerlessError):
            for key, _ in self.blobs.list_keys(keys.unit_failure(0).rsplit("/", 1)[0] + "/"):
                record = json.loads(self.blobs.get(key))
                return str(record.get("errorType", "")), json.dumps(record)
        return None


@dataclass(frozen=True, slots=True)
class _Seg:
    start_frame: int
    stop_frame: int


def _frames_meta(manifest: Any, plan: Plan) -> list[dict[str, Any]]:
    """DataMetaRead's ``frames``: one per image; for a video, one entry (CVAT's shape)."""
    if plan.media_type == "video":
        first = manifest.frame(0)
        return [{"width": first.width, "height": first.height, "name": plan.video_name, "related_files": 0,
                 "has_related_context": False}]
    return [{"width": f.width, "height": f.height, "name": f.name, "related_files": 0, "has_related_context": False}
            for f in manifest.frames]


def _thumbnail(picture: bytes) -> bytes:
    import io

    from PIL import Image

    opened = Image.open(io.BytesIO(picture))
    opened.draft("RGB", PREVIEW_SIZE)
    image = opened.convert("RGB")
    image.thumbnail(PREVIEW_SIZE)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


