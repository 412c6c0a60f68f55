"""The one error tree of the product.

Names end in ``Error`` and carry no HTTP codes: ``cvat_serverless.api.errors`` maps them to
CVAT's error bodies, and the state machines Retry/Catch on these class names (Lambda reports the
exception class name as ``errorType``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CvatServerlessError(Exception):
    """Base of every error the product raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ValidationError(CvatServerlessError):
    """The input is not valid."""

    def __init__(
        self,
        message: str = "",
        *,
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        # CVAT's field-error shape: {"field": ["message", ...]}
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}
        # without a message, the fields' messages say it (a background request shows only this text)
        details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.fields.items())
        super().__init__(message or details or "Invalid input.")


class AuthenticationError(CvatServerlessError):
    """Authentication credentials were not provided or are not valid."""


class PermissionDeniedError(CvatServerlessError):
    """You do not have permission to perform this action."""


class NotFoundError(CvatServerlessError):
    """Not found."""


class ConflictError(CvatServerlessError):
    """The object was changed by someone else, or already exists."""


class PayloadTooLargeError(CvatServerlessError):
    """The request body is larger than this deployment accepts."""


class ThrottledError(CvatServerlessError):
    """Too many requests."""

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyUnavailableError(CvatServerlessError):
    """A service this request depends on is unavailable; try again later."""

    def __init__(self, message: str = "", *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamTimeoutError(CvatServerlessError):
    """A service this request waited on did not answer in time (a model endpoint, an agent)."""


class MediaError(ValidationError):
    """The media cannot be processed."""


class FormatError(ValidationError):
    """The dataset archive or annotation file is not valid for the format."""


class UnsafeArchiveError(ValidationError):
    """The archive is unsafe to open: a member would land outside its folder (zip slip), is a
    link or a device, or the archive expands past the limits (a zip bomb).

    One class for both engines (task media and dataset imports): the check is the same, and so
    is the answer (400); see ``cvat_serverless.domain.archives``."""


class ArchiveBombError(UnsafeArchiveError):
    """The archive expands to more bytes, more members or a higher ratio than allowed."""
