"""Uploads landing under the upload prefix start the task-data workflow (at most once each)."""

from __future__ import annotations

from dataclasses import dataclass

from ..ports import WorkflowStarter


@dataclass(frozen=True, slots=True)
class UploadedObject:
    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str


class IngestService:
    def __init__(self, workflows: WorkflowStarter, upload_prefix: str) -> None:
        self._workflows = workflows
        self._prefix = upload_prefix

    def accept(self, obj: UploadedObject) -> str | None:
        """Start task-data processing for one uploaded object; returns the execution id, or None
        when the object is not an upload (outside the prefix, or a folder marker).

        The execution name is derived from the key and the S3 sequencer, so a redelivered
        notification (S3 and SQS deliver at least once) does not start the work twice. The
        workflow's steps receive it as ``execution_name`` and keep their work files under it.
        """
        if not obj.key.startswith(self._prefix) or obj.key.endswith("/"):
            return None
        execution_name = f"{obj.key[len(self._prefix) :]}-{obj.sequencer or obj.etag}"
        return self._workflows.start(
            "task-data", execution_name, {"bucket": obj.bucket, "key": obj.key, "size": obj.size, "etag": obj.etag}
        )
