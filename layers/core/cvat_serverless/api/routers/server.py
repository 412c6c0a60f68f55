"""/api/server/*: what the SDK asks first."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from ...config import get_settings

router = Router()

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


@router.get("/api/server/about", tags=["server"], summary="Basic information about the server")
def about() -> About:
    # Readable anonymously: cvat-sdk calls it before it logs in.
    host = router.current_event.headers.get("Host") or router.current_event.headers.get("host") or ""
    proto = router.current_event.headers.get("X-Forwarded-Proto") or "https"
    logo = f"{proto}://{host}/assets/logo.svg" if host else "/assets/logo.svg"
    return About(
        name=NAME,
        description=DESCRIPTION,
        version=get_settings().server_version,
        logo_url=logo,
        subtitle="Serverless annotation for computer vision",
    )
