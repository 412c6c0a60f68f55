"""CVAT's ``DataMetaRead`` (``GET /api/{tasks,jobs}/{id}/data/meta``) and the PATCH of deleted
frames."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from .common import INT32_MAX, CvatModel, RequestModel

FrameNumber = Annotated[int, Field(ge=0, le=INT32_MAX)]


class FrameMeta(CvatModel):
    width: int
    height: int
    name: str = Field(max_length=1024)
    related_files: int
    has_related_context: bool


class DataMetaRead(CvatModel):
    chunks_updated_date: datetime
    chunk_size: int | None
    size: int
    image_quality: int = Field(ge=0, le=100)
    start_frame: int
    stop_frame: int
    frame_filter: str
    frames: list[FrameMeta] | None
    deleted_frames: list[int]
    included_frames: list[int] | None
    chapters: list[Any] | None = None
    storage: str
    cloud_storage_id: int | None = None
    frame_rate: float | None = Field(
        default=None, description="Extension: a video task's frames per second (the annotation player's speed)")


class DataMetaWriteRequest(RequestModel):
    """CVAT's ``DataMetaWrite`` (tasks) and ``JobDataMetaWrite`` (jobs): the deleted frames, all
    of them (a task's) or the job's own."""

    deleted_frames: list[FrameNumber]
