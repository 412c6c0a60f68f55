"""/api/server/*: what the SDK asks first, the format list, plugins and the share."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from .. import http
from ..params import LastValue
from ..schemas.common import CvatModel
from ._common import Call

router = Router()
TAGS = ["server"]

NAME = "Computer Vision Annotation Tool"
DESCRIPTION = (
    "CVAT-compatible annotation of images and video for computer vision, "
    "made of AWS serverless parts (cvat-serverless)."
)


class About(BaseModel):
    name: str = Field(max_length=128)
    description: str = Field(max_length=2048)
    version: str = Field(max_length=64)
    logo_url: str
    subtitle: str = Field(max_length=1024)


class DatasetFormat(CvatModel):
    name: str = Field(max_length=64)
    ext: str = Field(max_length=64)
    version: str = Field(max_length=64)
    enabled: bool
    dimension: str = Field(max_length=2)


class DatasetFormats(CvatModel):
    importers: list[DatasetFormat]
    exporters: list[DatasetFormat]


class Plugins(CvatModel):
    ANALYTICS: bool
    MODELS: bool


class FileInfo(CvatModel):
    name: str = Field(max_length=1024)
    type: str
    mime_type: str = Field(max_length=255)


@router.get("/api/server/about", tags=TAGS, summary="Basic information about the server")
def about() -> About:
    # Readable anonymously: cvat-sdk calls it before it logs in.
    call = Call(router)
    return About(
        name=NAME,
        description=DESCRIPTION,
        version=call.services.server_version,
        logo_url=http.absolute(call.event, "/assets/logo.svg"),
        subtitle="Serverless annotation for computer vision",
    )


@router.get("/api/server/annotation/formats", tags=TAGS, summary="Implemented import and export formats")
def annotation_formats() -> DatasetFormats:
    Call(router).signed_in()
    # The registry imports the format modules on first use: keep it off the cold-start path.
    from ...formats import registry

    def convert(spec: registry.FormatSpec) -> DatasetFormat:
        return DatasetFormat.model_validate(spec.to_dict())

    return DatasetFormats(
        importers=[convert(s) for s in registry.list_importers()],
        exporters=[convert(s) for s in registry.list_exporters()],
    )


@router.get("/api/server/plugins", tags=TAGS, summary="Which optional parts this server has")
def plugins() -> Plugins:
    # The analytics store and auto-annotation models land with their own issues.
    return Plugins(ANALYTICS=False, MODELS=False)


@router.get("/api/server/share", tags=TAGS, summary="Files of the server share (the bucket's share prefix)")
def share(directory: Annotated[str, LastValue] = "/", search: Annotated[str, LastValue] = "") -> list[FileInfo]:
    call = Call(router).signed_in()
    entries = call.services.share.list(directory, search)
    return [FileInfo(name=e.name, type=e.type, mime_type=e.mime_type) for e in entries]
