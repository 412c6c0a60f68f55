"""In-memory fakes for auto-annotation: a model endpoint (ports.InferenceClient) that answers
canned detections or raises, the workflow's ledger (ports.AutoAnnotationLedger) and Step
Functions' callbacks (ports.TaskCallbacks). For tests and the functional suite."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..ports import AsyncInvocation, BlobStore

# (endpoint, the request JSON) -> the detections of each image, in order
Detector = Callable[[str, Mapping[str, Any]], list[list[dict[str, Any]]]]


def one_box(label: str = "person", confidence: float = 0.9) -> Detector:
    """A detector that finds one box (10, 10) - (20, 30) of ``label`` in every image."""
    def detect(endpoint: str, request: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
        return [[{"label": label, "points": [10.0, 10.0, 20.0, 30.0], "type": "rectangle",
                  "confidence": confidence}] for _ in request.get("images", [])]
    return detect


class FakeInferenceClient:
    """Answers ``{"results": detector(endpoint, request)}``; or raises ``error`` (set it, or
    queue errors in ``errors`` to raise on the next calls, then answer again). ``calls`` holds
    every request JSON. ``invoke_async`` stores the answer (or the error's text) in ``blobs``
    under the locations it returns, as an async endpoint does, unless ``hold_async`` is set (a
    test then calls :meth:`complete` itself)."""

    def __init__(self, detector: Detector | None = None, *, blobs: BlobStore | None = None,
                 bucket: str = "media") -> None:
        self.detector = detector or one_box()
        self.blobs = blobs
        self.bucket = bucket
        self.error: Exception | None = None
        self.errors: list[Exception] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.async_calls: list[tuple[str, str, str]] = []
        self.hold_async = False
        self.before_answer: Callable[[], None] | None = None  # runs inside a call (a cancel meanwhile)
        self._lock = threading.Lock()

    def _answer(self, endpoint: str, request: dict[str, Any]) -> bytes:
        with self._lock:
            self.calls.append((endpoint, request))
            error = self.errors.pop(0) if self.errors else self.error
        if self.before_answer is not None:
            self.before_answer()
        if error is not None:
            raise error
        if "image" in request and "images" not in request:
            return json.dumps(self.detector(endpoint, {**request, "images": [request["image"]]})[0]).encode()
        return json.dumps({"results": self.detector(endpoint, request)}).encode()

    def invoke(self, endpoint: str, body: bytes, *, content_type: str = "application/json",
               timeout_s: float = 60.0) -> bytes:
        return self._answer(endpoint, json.loads(body))

    def invoke_async(self, endpoint: str, input_location: str, *, inference_id: str,
                     content_type: str = "application/json") -> AsyncInvocation:
        with self._lock:
            self.async_calls.append((endpoint, input_location, inference_id))
        invocation = AsyncInvocation(
            inference_id=inference_id,
            output_location=f"s3://{self.bucket}/auto-annotation/async-results/{inference_id}.out",
            failure_location=f"s3://{self.bucket}/auto-annotation/async-failures/{inference_id}-error.out")
        if not self.hold_async:
            self.complete(invocation, input_location)
        return invocation

    def complete(self, invocation: AsyncInvocation, input_location: str) -> str:
        """Write the endpoint's result (or its failure text) where ``invocation`` says; answers
        the key written."""
        assert self.blobs is not None, "give the fake a BlobStore to answer async calls"
        request = json.loads(self.blobs.get(_key(input_location)))
        try:
            body = self._answer("async", request)
        except Exception as exc:  # the endpoint's failure object holds its message
            key = _key(invocation.failure_location)
            self.blobs.put(key, str(exc).encode(), content_type="text/plain")
            return key
        key = _key(invocation.output_location)
        self.blobs.put(key, body, content_type="application/json")
        return key


def _key(location: str) -> str:
    return location.split("/", 3)[3] if location.startswith("s3://") else location


class MemoryAutoAnnotationLedger:
    def __init__(self) -> None:
        self.saved: dict[str, set[int]] = {}
        self.callbacks: dict[str, str] = {}
        self._lock = threading.Lock()

    def mark_saved(self, request_id: str, chunk: int) -> bool:
        with self._lock:
            chunks = self.saved.setdefault(request_id, set())
            if chunk in chunks:
                return False
            chunks.add(chunk)
            return True

    def is_saved(self, request_id: str, chunk: int) -> bool:
        with self._lock:
            return chunk in self.saved.get(request_id, set())

    def saved_count(self, request_id: str) -> int:
        with self._lock:
            return len(self.saved.get(request_id, set()))

    def put_callback(self, keys: Sequence[str], token: str) -> None:
        with self._lock:
            for key in keys:
                self.callbacks[key] = token

    def get_callback(self, key: str) -> str | None:
        with self._lock:
            return self.callbacks.get(key)

    def delete_callback(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self.callbacks.pop(key, None)


class MemoryTaskCallbacks:
    """Records SendTaskSuccess: ``succeeded`` holds (token, output)."""

    def __init__(self) -> None:
        self.succeeded: list[tuple[str, dict[str, Any]]] = []

    def task_succeeded(self, token: str, output: Mapping[str, Any]) -> None:
        self.succeeded.append((token, dict(output)))
