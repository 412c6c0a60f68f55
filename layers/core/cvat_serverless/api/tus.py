"""The TUS parts of CVAT's upload protocol (contract.md §6) that every upload route shares: the
``Upload-Metadata`` header and the headers of the answers."""

from __future__ import annotations

import base64
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from ..domain.errors import ValidationError
from . import http

TUS_VERSION = "1.0.0"
TUS_HEADERS = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
UploadId = Annotated[str, Path(min_length=1, max_length=128)]


def metadata(value: str) -> dict[str, str]:
    """TUS ``Upload-Metadata``: comma-separated ``key base64(value)`` pairs."""
    out: dict[str, str] = {}
    for pair in value.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key:
            continue
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded else ""
        except (ValueError, UnicodeDecodeError):
            raise ValidationError(f"Upload-Metadata: the value of {key} is not base64 UTF-8.") from None
    return out


def int_header(event: http.Event, name: str) -> int:
    """A TUS length or offset header; a missing or bad one is a 400."""
    try:
        return int(http.header(event, name) or "")
    except ValueError:
        raise ValidationError(f"{name} must be an integer.") from None


def created_headers(location: str, upload_filename: str, offset: int) -> dict[str, str]:
    """The headers of a TUS create answer (201): the SDK PATCHes ``Location`` verbatim and needs
    ``Upload-Filename``."""
    return {**TUS_HEADERS, "Location": location, "Upload-Filename": upload_filename, "Upload-Offset": str(offset),
            "Tus-Version": TUS_VERSION, "Tus-Extension": "creation"}
