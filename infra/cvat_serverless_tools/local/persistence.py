"""Keeping the embedded AWS's state on disk, across restarts and kill -9.

moto keeps everything in memory. We snapshot its backends (pickle) per service, at most about
once a second and only for services that changed, written atomically (temporary file, fsync,
rename), so a kill -9 loses at most the last second or two. The format is moto's own objects, so
it is tied to the moto version: the snapshot records it, and a mismatch stops the runtime with
instructions instead of dropping anyone's data.
"""

from __future__ import annotations

import copyreg
import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("cvat_serverless_tools.local")

FORMAT_VERSION = 1
MANIFEST = "snapshot.json"

# SigV4 service name -> the moto BackendDicts that hold its state.
SERVICES: dict[str, tuple[str, ...]] = {
    "s3": ("moto.s3.models:s3_backends",),
    "dynamodb": ("moto.dynamodb.models:dynamodb_backends",),
    "sqs": ("moto.sqs.models:sqs_backends",),
    "events": ("moto.events.models:events_backends",),
    "states": ("moto.stepfunctions.parser.models:stepfunctions_parser_backends",),
}


class SnapshotVersionError(RuntimeError):
    """The data directory was written by another moto version or snapshot format."""


def _install_pickle_shims() -> None:
    # Locks and events inside moto's backends are pickled as new, released ones.
    copyreg.pickle(type(threading.RLock()), lambda _: (threading.RLock, ()))
    copyreg.pickle(type(threading.Lock()), lambda _: (threading.Lock, ()))
    copyreg.pickle(threading.Event, lambda _: (threading.Event, ()))
    copyreg.pickle(threading.Condition, lambda _: (threading.Condition, ()))


def _backend(ref: str) -> Any:
    module_name, attr = ref.split(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def moto_version() -> str:
    import moto

    return str(moto.__version__)


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _executions() -> list[Any]:
    backends = _backend(SERVICES["states"][0])
    found = []
    for regions in list(backends.values()):
        for backend in list(regions.values()):
            for machine in list(backend.state_machines):
                found.extend(list(machine.executions))
    return found


def running_executions() -> int:
    """Executions change state in the interpreter's threads, not in requests: while any runs,
    the Step Functions state is saved every round."""
    return sum(1 for e in _executions() if getattr(e, "exec_status", None) is not None
               and e.status == "RUNNING")


def abort_interrupted_executions() -> int:
    """An execution that was running when the runtime stopped cannot resume (its interpreter
    thread is gone): mark it ABORTED with a cause, as AWS would show a stopped execution."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    aborted = 0
    for execution in _executions():
        if getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING:
            execution.exec_status = ExecutionStatus.ABORTED
            execution.exec_worker = None
            execution.stop_date = datetime.now(UTC)
            execution.error = "States.Runtime"
            execution.cause = "The embedded runtime stopped while this execution was running."
            aborted += 1
    return aborted


class SnapshotStore:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "aws"
        self.dir.mkdir(parents=True, exist_ok=True)
        _install_pickle_shims()

    def manifest(self) -> dict[str, Any] | None:
        path = self.dir / MANIFEST
        return json.loads(path.read_text()) if path.is_file() else None

    def check_compatible(self) -> None:
        manifest = self.manifest()
        if manifest is None:
            return
        saved_format, saved_moto = manifest.get("format"), manifest.get("moto")
        if saved_format != FORMAT_VERSION or saved_moto != moto_version():
            raise SnapshotVersionError(
                f"The data in {self.dir} was saved by moto {saved_moto} (snapshot format {saved_format}); "
                f"this installation has moto {moto_version()} (format {FORMAT_VERSION}). Nothing was "
                f"loaded or changed. To use this data, install the version that wrote it: "
                f"pip install 'moto[server]=={saved_moto}'. To start empty instead, move {self.dir.parent} "
                "aside or pass another --data-dir."
            )

    def restore(self) -> list[str]:
        """Load every saved service into moto's backends; call before anything is created."""
        self.check_compatible()
        restored = []
        for service, refs in SERVICES.items():
            path = self.dir / f"{service}.pickle"
            if not path.is_file():
                continue
            saved = pickle.loads(path.read_bytes())  # noqa: S301 - our own file in the user's data dir
            for ref, state in zip(refs, saved, strict=True):
                backend = _backend(ref)
                backend.clear()
                backend.update(state)
            restored.append(service)
        if "states" in restored:
            abort_interrupted_executions()
        return restored

    def save(self, services: set[str], lock: Any) -> list[str]:
        """Pickle the given services under the write lock, then write them outside it."""
        services = services & set(SERVICES)
        if not services:
            return []
        blobs: dict[str, bytes] = {}
        lock.acquire_write()
        try:
            for service in services:
                blobs[service] = pickle.dumps([dict(_backend(r)) for r in SERVICES[service]],
                                              protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            lock.release_write()
        for service, blob in blobs.items():
            _fsync_write(self.dir / f"{service}.pickle", blob)
        manifest = {"format": FORMAT_VERSION, "moto": moto_version(),
                    "saved_at": datetime.now(UTC).isoformat(),
                    "services": sorted(p.stem for p in self.dir.glob("*.pickle"))}
        _fsync_write(self.dir / MANIFEST, json.dumps(manifest, indent=1).encode())
        return sorted(blobs)


class SnapshotWriter(threading.Thread):
    """Saves dirty services every ``interval`` seconds until stopped, then once more."""

    def __init__(self, store: SnapshotStore, take_dirty: Callable[[], set[str]], mark_dirty: Callable[[str], None],
                 lock: Any, interval: float = 1.0) -> None:
        super().__init__(name="snapshot-writer", daemon=True)
        self.store = store
        self.take_dirty = take_dirty
        self.mark_dirty = mark_dirty
        self.lock = lock
        self.interval = interval
        self.stopping = threading.Event()
        self.last_error: str = ""
        self._were_running = False

    def flush(self, extra: set[str] | None = None) -> None:
        dirty = self.take_dirty() | (extra or set())
        running = running_executions()
        if running or self._were_running:
            dirty.add("states")
        self._were_running = bool(running)
        try:
            self.store.save(dirty, self.lock)
            self.last_error = ""
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("snapshot failed, will retry: %s", self.last_error)
            for service in dirty:
                self.mark_dirty(service)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            started = time.monotonic()
            self.flush()
            if time.monotonic() - started > self.interval:
                log.info("snapshot took %.1fs", time.monotonic() - started)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        self.flush()
