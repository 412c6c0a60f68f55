"""Keeping the embedded AWS's state on disk, across restarts and kill -9.

moto keeps everything in memory. We snapshot its backends (pickle) per service, at most about
once a second and only for services that changed, written atomically (temporary file, fsync,
rename), so a kill -9 loses at most the last second or two. The format is moto's own objects, so
it is tied to the moto version: the snapshot records it, and a mismatch stops the runtime with
instructions instead of dropping anyone's data.

S3 objects' bytes are not in the S3 snapshot (format 2): they are files in ``<data dir>/s3-objects``
(s3_objects.py), named by their sha256, which any moto version can read, and the snapshot holds
each object's list of files. A format 1 data directory (bytes inside s3.pickle) is converted on
its first start. Each S3 snapshot, once on disk, is followed by a sweep of the files it no longer
refers to; the start after loading sweeps too. ``snapshot.json`` says how long the last save took.

A snapshot holds DynamoDB's items and nothing of the keys that were only read: moto keeps a table
with a sort key as ``{partition key: {sort key: item}}`` in a defaultdict that its GetItem indexes,
so every read of a missing item adds an empty partition under the key it asked for. Saved, those
would name keys no item has (createsuperuser's check that ``USERNAME#<name>`` is free, while the
user is not written yet) and come back on every restart; the snapshot leaves them out.
"""

from __future__ import annotations

import copyreg
import json
import logging
import os
import pickle
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import s3_objects

log = logging.getLogger("cvat_serverless_tools.local")

FORMAT_VERSION = 2
# Formats this code loads: 1 kept S3 objects' bytes inside s3.pickle (moved to files on load).
READABLE_FORMATS = (1, 2)
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
    # An S3 bucket's keys: a dict whose items() yields only each key's latest version, which is
    # what pickle saves of a dict; keep every version (and delete marker).
    from moto.s3.utils import _VersionedKeyStore

    copyreg.pickle(_VersionedKeyStore, _reduce_versioned_keys)
    # A DynamoDB table without the empty partitions its reads of missing items left.
    from moto.dynamodb.models.table import RestoredPITTable, RestoredTable, Table

    for table_type in (Table, RestoredTable, RestoredPITTable):
        copyreg.pickle(table_type, _reduce_table)


def _reduce_table(table: Any) -> tuple[Any, ...]:
    # what pickle saves of any object (its class, then its __dict__), with ``items`` filtered:
    # a partition is a dict of items by sort key; a table without a sort key maps keys to items
    state = dict(vars(table))
    items = state.get("items")
    if isinstance(items, defaultdict):
        state["items"] = defaultdict(items.default_factory,
                                     {key: part for key, part in items.items() if part or not isinstance(part, dict)})
    return copyreg.__newobj__, (type(table),), state  # type: ignore[attr-defined]  # not in typeshed


def _reduce_versioned_keys(keys: Any) -> tuple[Any, ...]:
    # rebuilt by dict's own __init__, which fills a subclass without calling its __setitem__:
    # only moto's class is named in the snapshot
    return type(keys), (dict(dict.items(keys)),)


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
        # Before any snapshot is loaded: the S3 objects in it refer to (or move to) these files.
        self.objects = s3_objects.configure(data_dir / s3_objects.DIRECTORY)
        self.last_save: dict[str, Any] = {}
        _install_pickle_shims()

    def manifest(self) -> dict[str, Any] | None:
        path = self.dir / MANIFEST
        return json.loads(path.read_text()) if path.is_file() else None

    def check_compatible(self) -> None:
        manifest = self.manifest()
        if manifest is None:
            return
        saved_format, saved_moto = manifest.get("format"), manifest.get("moto")
        if saved_format not in READABLE_FORMATS or saved_moto != moto_version():
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
        saved_format = (self.manifest() or {}).get("format")
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
        self._check_objects(converted=saved_format == 1 and "s3" in restored)
        return restored

    def _check_objects(self, *, converted: bool) -> None:
        """After loading: the objects' files are there; the files no object refers to are not."""
        referenced = s3_objects.referenced_digests()
        missing = self.objects.missing(referenced)
        if missing:
            log.warning("%d S3 object files are missing from %s (their objects cannot be read): %s",
                        len(missing), self.objects.root, ", ".join(missing[:5]))
        files, freed = self.objects.collect(referenced)
        if converted:
            log.info("moved the bytes of the S3 objects out of the snapshot into %s", self.objects.root)
        if files:
            log.info("freed %d unreferenced S3 object files (%d bytes)", files, freed)

    def save(self, services: set[str], lock: Any) -> list[str]:
        """Pickle the given services under the write lock (the middleware's RequestLocks, for
        these services), then write them outside it."""
        services = services & set(SERVICES)
        if not services:
            return []
        started = time.perf_counter()
        blobs: dict[str, bytes] = {}
        sweep = None
        lock.acquire_write(services)
        acquired = time.perf_counter()
        try:
            for service in services:
                blobs[service] = pickle.dumps([dict(_backend(r)) for r in SERVICES[service]],
                                              protocol=pickle.HIGHEST_PROTOCOL)
            if "s3" in services:
                sweep = self.objects.begin_sweep(s3_objects.referenced_digests())
        finally:
            lock.release_write(services)
        locked = time.perf_counter() - started
        # DynamoDB last: its records point at objects, queues and executions (a request at its
        # request.json), so a kill between two files leaves no record ahead of what it refers to
        for service in sorted(blobs, key=lambda name: (name == "dynamodb", name)):
            _fsync_write(self.dir / f"{service}.pickle", blobs[service])
        # Only now does no snapshot on disk refer to the files the sweep deletes.
        files, freed = sweep.run() if sweep is not None else (0, 0)
        self.last_save = {"services": sorted(blobs), "seconds": round(time.perf_counter() - started, 4),
                          "locked_seconds": round(locked, 4),  # with the wait for the write lock
                          "lock_wait_seconds": round(acquired - started, 4),  # for requests in flight
                          "bytes": {service: len(blob) for service, blob in blobs.items()},
                          "freed_object_files": files, "freed_object_bytes": freed}
        manifest = {"format": FORMAT_VERSION, "moto": moto_version(),
                    "saved_at": datetime.now(UTC).isoformat(),
                    "services": sorted(p.stem for p in self.dir.glob("*.pickle")),
                    "last_save": self.last_save}
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
