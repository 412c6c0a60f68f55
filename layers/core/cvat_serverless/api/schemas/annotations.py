"""CVAT's ``LabeledData`` (annotations of a job or task) and the save history of a job's annotations.

Objects inside the lists are described loosely here: the domain parser
(``domain.annotations.LabeledData.from_dict``) checks every field with CVAT's messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .common import CvatModel, RequestModel


class LabeledDataRequest(RequestModel):
    version: int = 0
    tags: list[dict[str, Any]] = Field(default_factory=list, description="LabeledImage objects")
    shapes: list[dict[str, Any]] = Field(default_factory=list, description="LabeledShape objects")
    tracks: list[dict[str, Any]] = Field(default_factory=list, description="LabeledTrack objects")
    intervals: list[dict[str, Any]] = Field(default_factory=list, description="LabeledInterval objects")


class LabeledData(CvatModel):
    version: int
    tags: list[dict[str, Any]]
    shapes: list[dict[str, Any]]
    tracks: list[dict[str, Any]]
    intervals: list[dict[str, Any]] = Field(default_factory=list)


class SavedBy(CvatModel):
    id: int
    username: str | None = None


class AnnotationsSave(CvatModel):
    """One save of a job's annotations (``version`` counts the saves)."""

    version: int
    updated_date: datetime | None = None
    updated_by: SavedBy | None = None
    shapes: int
    tracks: int
    tags: int


class AnnotationsHistory(CvatModel):
    count: int
    results: list[AnnotationsSave]
