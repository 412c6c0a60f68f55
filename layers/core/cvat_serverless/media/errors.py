"""Errors of the media engine.

All subclass :class:`~cvat_serverless.domain.errors.MediaError`, so the API maps them to a 400 and
the task-data state machine can Catch them by class name. Every message names the file.

An unsafe archive (zip slip, links, a zip bomb) is not a media error but the domain's
:class:`~cvat_serverless.domain.errors.UnsafeArchiveError` (also a 400), raised by the one set of
archive checks that the formats engine uses too (:mod:`cvat_serverless.domain.archives`).
"""

from __future__ import annotations

from cvat_serverless.domain.errors import MediaError


class _FileMediaError(MediaError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}" if name else reason)
        self.name = name
        self.reason = reason


class CorruptMediaError(_FileMediaError):
    """The file claims a supported format but cannot be read (corrupt or truncated)."""


class EmptyMediaError(CorruptMediaError):
    """The file is empty (0 bytes)."""


class UnsupportedMediaError(_FileMediaError):
    """The file is not an image, a video or an archive of images that the engine reads."""


class NoVideoStreamError(UnsupportedMediaError):
    """The container holds no video stream (for example an audio-only file)."""


class DecompressionBombError(_FileMediaError):
    """The image or video frame has more pixels than the configured limit."""


class MixedMediaError(MediaError):
    """The task mixes kinds of media that CVAT does not allow together."""
