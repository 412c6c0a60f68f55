"""Tasks in CVAT's words, with the fields CVAT reports before and after data is attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import ValidationError
from .jobs import JobsSummary, JobStatus
from .storage import Storage

SUBSET_MAX = 64


class TaskMode(StrEnum):
    """CVAT's task ``mode``: ``annotation`` for images, ``interpolation`` for video; ``""`` until
    data is attached."""

    NONE = ""
    ANNOTATION = "annotation"
    INTERPOLATION = "interpolation"


class DimensionType(StrEnum):
    DIM_2D = "2d"
    DIM_3D = "3d"


class MediaType(StrEnum):
    IMAGE = "image"  # video tasks too: their frames are images
    POINT_CLOUD = "point_cloud"
    AUDIO = "audio"


class ChunkType(StrEnum):
    VIDEO = "video"
    IMAGESET = "imageset"
    AUDIO_MP3 = "audio_mp3"


class StorageMethod(StrEnum):
    CACHE = "cache"
    FILE_SYSTEM = "file_system"


class StorageType(StrEnum):
    LOCAL = "local"
    SHARE = "share"
    CLOUD_STORAGE = "cloud_storage"


class SortingMethod(StrEnum):
    """CVAT's ``sorting_method``: how a task's files are ordered (``media.sorting`` applies it)."""

    LEXICOGRAPHICAL = "lexicographical"
    NATURAL = "natural"
    PREDEFINED = "predefined"
    RANDOM = "random"


@dataclass(slots=True)
class Task:
    id: int
    name: str
    owner_id: int | None
    organization_id: int | None = None
    project_id: int | None = None
    assignee_id: int | None = None
    assignee_updated_date: datetime | None = None
    bug_tracker: str = ""
    subset: str = ""
    # What the client asked for; after data is attached CVAT stores the effective values here.
    segment_size: int = 0
    overlap: int | None = None
    status: JobStatus = JobStatus.ANNOTATION
    mode: TaskMode = TaskMode.NONE
    dimension: DimensionType = DimensionType.DIM_2D
    source_storage: Storage | None = None
    target_storage: Storage | None = None
    guide_id: int | None = None
    consensus_replicas: int = 0
    # Data: all None/0 until the media pipeline attaches data (CVAT's TaskRead before data:
    # size 0, data null, data_chunk_size null, chunk types null; image_quality absent).
    data_id: int | None = None
    size: int = 0
    image_quality: int | None = None
    data_chunk_size: int | None = None
    data_compressed_chunk_type: ChunkType | None = None
    data_original_chunk_type: ChunkType | None = None
    data_cloud_storage_id: int | None = None
    media_type: MediaType | None = None
    start_frame: int = 0
    stop_frame: int = 0
    frame_filter: str = ""
    storage_method: StorageMethod | None = None
    storage: StorageType | None = None
    sorting_method: SortingMethod | None = None
    validation_mode: str | None = None
    # Derived from the task's jobs and kept here by the services whenever a job changes, so a
    # page of tasks is read without one job query per task (DynamoDB: no N+1 on lists).
    jobs_count: int = 0
    jobs_completed: int = 0
    jobs_validation: int = 0
    created_date: datetime | None = None
    updated_date: datetime | None = None
    version: int = 0

    @property
    def has_data(self) -> bool:
        return self.data_id is not None

    @property
    def jobs_summary(self) -> JobsSummary:
        return JobsSummary(self.jobs_count, self.jobs_completed, self.jobs_validation)

    def set_jobs_summary(self, summary: JobsSummary) -> None:
        self.jobs_count, self.jobs_completed, self.jobs_validation = (
            summary.count, summary.completed, summary.validation)


def validate_subset(subset: str) -> str:
    if len(subset) > SUBSET_MAX:
        raise ValidationError(
            fields={"subset": [f"Ensure this field has no more than {SUBSET_MAX} characters."]}
        )
    return subset


def validate_segmentation(segment_size: int | None, overlap: int | None) -> None:
    """TaskWriteRequest bounds: both are non-negative ints (overlap may be null)."""
    if segment_size is not None and segment_size < 0:
        raise ValidationError(fields={"segment_size": ["Ensure this value is greater than or equal to 0."]})
    if overlap is not None and overlap < 0:
        raise ValidationError(fields={"overlap": ["Ensure this value is greater than or equal to 0."]})
