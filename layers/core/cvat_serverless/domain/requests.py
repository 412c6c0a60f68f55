"""Background requests: CVAT's ``rq_id`` work (task data processing, imports, exports, backups),
as ``GET /api/requests/{id}`` shows it.

A request is created when the work is accepted (202 ``{"rq_id"}``), runs as a Step Functions
execution (``execution_name``) and ends ``finished`` or ``failed`` with a message: the SDK polls
until one of the two and never gives up, so every path that starts a request must end it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import ConflictError

RESULT_TTL = timedelta(days=1)  # how long a finished request's result stays available
MESSAGE_MAX = 4096


class RequestStatus(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FAILED = "failed"
    FINISHED = "finished"

    @property
    def ended(self) -> bool:
        return self in (RequestStatus.FAILED, RequestStatus.FINISHED)


class RequestAction(StrEnum):
    CREATE = "create"
    IMPORT = "import"
    EXPORT = "export"
    AUTOANNOTATE = "autoannotate"


@dataclass(slots=True)
class BackgroundRequest:
    """One accepted piece of background work, with CVAT's ``Request`` fields."""

    id: str
    action: RequestAction
    target: str  # "task" | "project" | "job"
    owner_id: int
    subresource: str | None = None  # "annotations" | "dataset" | "backup" | None
    organization_id: int | None = None
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    format: str | None = None
    function_id: str | None = None
    status: RequestStatus = RequestStatus.QUEUED
    progress: float = 0.0
    message: str = ""
    created_date: datetime | None = None
    started_date: datetime | None = None
    finished_date: datetime | None = None
    expiry_date: datetime | None = None
    result_url: str | None = None
    result_id: int | None = None
    # An export's result: the stored object and the name it is downloaded as.
    result_key: str = ""
    result_filename: str = ""
    # The workflow doing the work: its name (WorkflowStarter), its input, the execution running it
    # ("" before it starts) and, after the embedded runtime resumed it, the first execution's name.
    workflow: str = ""
    workflow_input: dict[str, Any] = field(default_factory=dict)
    execution_name: str = ""
    execution_base: str = ""
    resumes: int = 0
    version: int = 0

    @property
    def operation_type(self) -> str:
        """CVAT's ``operation.type``: ``<action>:<subresource or target>`` (``create:task``)."""
        return f"{self.action.value}:{self.subresource or self.target}"

    def start(self, now: datetime, message: str = "") -> None:
        if self.status.ended:
            raise ConflictError(f"Request {self.id} has already ended ({self.status.value}).")
        if self.status is RequestStatus.QUEUED:
            self.started_date = now
        self.status = RequestStatus.STARTED
        self.message = _clip(message)

    def advance(self, progress: float, message: str = "") -> None:
        """Progress in [0, 1] never goes back; the message says what is being done."""
        if self.status.ended:
            return
        self.progress = max(self.progress, min(1.0, max(0.0, progress)))
        self.message = _clip(message)

    def finish(self, now: datetime, *, result_id: int | None = None, result_url: str | None = None) -> None:
        if self.status is RequestStatus.FAILED:
            raise ConflictError(f"Request {self.id} has already failed.")
        self.status = RequestStatus.FINISHED
        self.progress = 1.0
        self.message = ""
        self.started_date = self.started_date or now
        self.finished_date = now
        self.expiry_date = now + RESULT_TTL
        self.result_id = result_id if result_id is not None else self.result_id
        self.result_url = result_url if result_url is not None else self.result_url

    def fail(self, now: datetime, message: str) -> None:
        if self.status is RequestStatus.FINISHED:
            raise ConflictError(f"Request {self.id} has already finished.")
        self.status = RequestStatus.FAILED
        self.message = _clip(message) or "The request failed."
        self.started_date = self.started_date or now
        self.finished_date = now
        self.expiry_date = now + RESULT_TTL


def _clip(message: str) -> str:
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"


def task_creation_request_id(task_id: int, attempt: str) -> str:
    """``create:task-<task id>-<attempt>``: CVAT-like (``create:task-7``), unique per upload
    attempt so that a task whose processing failed can take a new upload."""
    return f"create:task-{task_id}-{attempt}"


def failure_message(error: str, cause: str, what: str = "processing") -> str:
    """The message of a failed request, from the state machine's error and cause: a Lambda's
    ``{"errorMessage", "errorType"}`` JSON, or Step Functions' own text. ``what`` names the work
    (``processing``, ``import``, ``export``, ``restore``)."""
    try:
        detail = json.loads(cause)
    except (TypeError, ValueError):
        detail = None
    if isinstance(detail, dict) and detail.get("errorMessage"):
        kind = str(detail.get("errorType") or error)
        text = str(detail["errorMessage"])
        if kind in _USER_ERRORS:
            return text
        return f"The {what} failed ({kind}): {text}"
    if error.startswith("States.Timeout"):
        return f"The {what} took too long and was stopped."
    return f"The {what} failed ({error or 'unknown error'}){': ' + cause if cause else ''}"


# errors whose message is written for the user (they name the file and what is wrong with it)
_USER_ERRORS = frozenset({
    "ValidationError", "MediaError", "FormatError", "CorruptMediaError", "EmptyMediaError", "UnsupportedMediaError",
    "NoVideoStreamError", "DecompressionBombError", "MixedMediaError", "UnsafeArchiveError", "ArchiveBombError",
    "NotFoundError", "PayloadTooLargeError", "ArchiveError", "AnnotationValidationError", "UnknownFormatError",
    "PermissionDeniedError",
})
