"""Labels, attribute specs and skeleton sublabels (CVAT's Label, PatchedLabelRequest...)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field

from .common import CvatModel, Paginated, RequestModel

if TYPE_CHECKING:
    from ...domain.labels import AttributeInput, LabelInput


class InputTypeEnum(StrEnum):
    CHECKBOX = "checkbox"
    RADIO = "radio"
    NUMBER = "number"
    TEXT = "text"
    SELECT = "select"


class Attribute(CvatModel):
    id: int
    name: str = Field(max_length=64)
    mutable: bool
    input_type: InputTypeEnum
    default_value: str = Field(max_length=128)
    values: list[str]


class Sublabel(CvatModel):
    id: int
    name: str = Field(max_length=64)
    color: str
    attributes: list[Attribute]
    type: str
    has_parent: bool = True


class Label(CvatModel):
    id: int
    name: str = Field(max_length=64)
    color: str
    attributes: list[Attribute]
    type: str
    svg: str
    sublabels: list[Sublabel]
    project_id: int | None = None
    task_id: int | None = None
    parent_id: int | None = None
    has_parent: bool


class PaginatedLabelList(Paginated[Label]):
    pass


class AttributeRequest(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    mutable: bool
    input_type: InputTypeEnum
    values: list[str]
    id: int | None = None
    default_value: str | None = Field(default=None, max_length=128)
    deleted: bool = False

    def to_input(self) -> AttributeInput:
        from ...domain.labels import AttributeInput

        return AttributeInput(
            name=self.name,
            input_type=str(self.input_type),
            mutable=self.mutable,
            values=list(self.values),
            default_value=self.default_value,
            id=self.id,
            deleted=self.deleted,
        )


class SublabelRequest(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    id: int | None = None
    color: str | None = None
    attributes: list[AttributeRequest] = Field(default_factory=list)
    type: str | None = None
    has_parent: bool | None = None
    deleted: bool = False

    def to_input(self) -> LabelInput:
        from ...domain.labels import LabelInput

        return LabelInput(
            name=self.name,
            color=self.color or None,
            type=self.type,
            attributes=[a.to_input() for a in self.attributes],
            id=self.id,
            deleted=self.deleted,
        )


class PatchedLabelRequest(RequestModel):
    id: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=64)
    color: str | None = None
    attributes: list[AttributeRequest] = Field(default_factory=list)
    deleted: bool = False
    type: str | None = None
    svg: str | None = None
    sublabels: list[SublabelRequest] = Field(default_factory=list)

    def to_input(self) -> LabelInput:
        from ...domain.labels import LabelInput

        return LabelInput(
            name=self.name,
            color=self.color or None,
            type=self.type,
            svg=self.svg,
            attributes=[a.to_input() for a in self.attributes],
            sublabels=[s.to_input() for s in self.sublabels],
            id=self.id,
            deleted=self.deleted,
        )
