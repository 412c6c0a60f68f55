"""Recent "this caller may read that object" decisions, kept a few seconds by a warm function.

Reading a task's data comes in bursts: cvat-sdk's TaskDataset fetches every chunk (four at a
time), the web UI one chunk or frame after the other. Checking each read costs four DynamoDB
reads (the session, the user, their memberships, the task) before the answer, which is often
only a redirect: more than the read itself. A decision is therefore kept for ``ttl`` seconds,
keyed by the credential exactly as sent (hashed), the organization selectors and the object.

What that allows: after a logout, a revoked token or a lost permission, a warm function may
still answer the same caller's reads of the same object for up to ``ttl`` seconds. A redirect
it answered already stays readable for far longer (its presigned URL lives
``services.task_media.PRESIGNED_SECONDS``), so this adds nothing that matters. Only successes
are kept; only data reads (chunks and frames) use it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from . import http

T = TypeVar("T")
TTL_SECONDS = 10.0
KEPT = 4096


class ReadGrants(Generic[T]):
    def __init__(self, *, ttl: float = TTL_SECONDS, kept: int = KEPT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.kept = kept
        self.clock = clock
        self._grants: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> T | None:
        if key is None:
            return None
        with self._lock:
            found = self._grants.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._grants[key]
                return None
            return found[1]

    def put(self, key: str | None, value: T) -> None:
        if key is None:
            return
        with self._lock:
            self._grants[key] = (self.clock() + self.ttl, value)
            self._grants.move_to_end(key)
            while len(self._grants) > self.kept:
                self._grants.popitem(last=False)


def grant_key(event: http.Event, *scope: Hashable) -> str | None:
    """The key of a decision for this request's credential (None without one: nothing is kept
    for anonymous requests) and ``scope`` (what is read, and whose services decide it)."""
    credential = http.header(event, "Authorization") or http.cookies(event).get("sessionid")
    if not credential:
        return None
    query = http.query(event)
    selectors = (http.header(event, "X-Organization"), query.get("org"), query.get("org_id"))
    return hashlib.sha256(repr((credential, selectors, scope)).encode()).hexdigest()
