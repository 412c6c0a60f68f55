"""The task-data pipeline's steps, as the state machine runs them: probe -> Map(segments) -> finalize.

This is the pipeline's skeleton: it plans byte-range segments of an uploaded object, digests each
segment in parallel and writes a manifest. The media issue replaces the segment work with probing,
frame manifests and chunks; the orchestration (statemachines/task_data.asl.json) stays.

Every step is keyed by ``execution_name``: the name of the Step Functions execution running it
(``$$.Execution.Name``, which IngestService derives from the upload), not a CVAT job. Its work
files live under ``processing/<execution_name>/``. A "segment" here is a byte range of the
upload (:class:`ByteRange`), not CVAT's segment of task frames (``domain.segments``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from ..domain.errors import ValidationError
from ..ports import BlobStore, Clock, EventPublisher

SEGMENT_BYTES = 8 * 1024 * 1024
PROCESSING_PREFIX = "processing/"


@dataclass(frozen=True, slots=True)
class ByteRange:
    """One item of the pipeline's Map: the ``index``-th range of the upload's bytes."""

    index: int
    start: int
    end: int  # inclusive; -1 for an empty object


def plan_byte_ranges(size: int, segment_bytes: int = SEGMENT_BYTES) -> list[ByteRange]:
    """Split ``size`` bytes into consecutive inclusive ranges of at most ``segment_bytes``."""
    if size < 0 or segment_bytes <= 0:
        raise ValidationError("size must be >= 0 and segment_bytes > 0")
    if size == 0:
        return [ByteRange(0, 0, -1)]
    return [
        ByteRange(i, start, min(start + segment_bytes, size) - 1)
        for i, start in enumerate(range(0, size, segment_bytes))
    ]


class TaskDataService:
    def __init__(self, blobs: BlobStore, events: EventPublisher, clock: Clock) -> None:
        self._blobs = blobs
        self._events = events
        self._clock = clock

    @staticmethod
    def _work_prefix(execution_name: str) -> str:
        return f"{PROCESSING_PREFIX}{execution_name}/"

    def probe(self, execution_name: str, key: str) -> dict[str, Any]:
        """Read the uploaded object's metadata and plan its segments."""
        head = self._blobs.head(key)
        segments = plan_byte_ranges(int(head["size"]))
        return {
            "execution_name": execution_name,
            "key": key,
            "size": int(head["size"]),
            "content_type": head.get("content_type", ""),
            "etag": head.get("etag", ""),
            "segments": [asdict(s) for s in segments],
        }

    def process_segment(self, execution_name: str, key: str, index: int, start: int, end: int) -> dict[str, Any]:
        """Digest one byte range; the result is stored in S3 and only its key is returned."""
        data = self._blobs.get_range(key, start, end) if end >= start else b""
        expected = end - start + 1 if end >= start else 0
        if len(data) != expected:
            raise ValidationError(f"{key}: segment {index} has {len(data)} bytes, expected {expected}")
        result = {"index": index, "start": start, "end": end, "sha256": hashlib.sha256(data).hexdigest()}
        result_key = f"{self._work_prefix(execution_name)}segments/{index:06d}.json"
        self._blobs.put(result_key, json.dumps(result).encode(), content_type="application/json")
        return {"index": index, "result_key": result_key}

    def finalize(
        self, execution_name: str, key: str, segment_results: list[dict[str, Any]], request_id: str = ""
    ) -> dict[str, Any]:
        """Collect the segments' results into a manifest and announce it on the event bus."""
        parts = [
            json.loads(self._blobs.get(r["result_key"])) for r in sorted(segment_results, key=lambda r: r["index"])
        ]
        if [p["index"] for p in parts] != list(range(len(parts))):
            raise ValidationError(f"{key}: segment results are incomplete")
        manifest = {
            "execution_name": execution_name,
            "key": key,
            "size": sum(max(0, p["end"] - p["start"] + 1) for p in parts),
            "segments": parts,
            "finished": self._clock.now().isoformat(),
        }
        manifest_key = f"{self._work_prefix(execution_name)}manifest.json"
        self._blobs.put(manifest_key, json.dumps(manifest).encode(), content_type="application/json")
        self._events.publish(
            "task_data:processed",
            {"execution_name": execution_name, "key": key, "manifest_key": manifest_key, "request_id": request_id},
        )
        return {"manifest_key": manifest_key, "segments": len(parts)}
