"""The task-data units' local media cache: trimming keeps what units of the process are using."""

from __future__ import annotations

import time
from pathlib import Path

from cvat_serverless.services import pipeline
from cvat_serverless.services.pipeline import SOURCE_IDLE_S, TaskDataPipeline


def test_trimming_never_removes_media_a_unit_is_using(tmp_path: Path) -> None:
    root = tmp_path / "sources" / "pid-1"
    busy = [root / f"task-{i}" for i in range(3)]
    for folder in busy:
        (folder / "images").mkdir(parents=True)
        (folder / "images" / "a.png").write_bytes(b"png")
        pipeline._SOURCES_USED[folder] = time.monotonic()  # a unit of each task runs now
    stale = root / "old-task"
    stale.mkdir()
    pipeline._SOURCES_USED[stale] = time.monotonic() - SOURCE_IDLE_S - 1
    leftover = root / "unknown"  # no unit of this process ever used it
    leftover.mkdir()
    keep = root / "new-task"
    keep.mkdir()
    TaskDataPipeline._trim_sources(object(), keep)  # type: ignore[arg-type]  # uses no state of the pipeline
    for folder in busy:
        assert (folder / "images" / "a.png").exists(), folder
    assert keep.exists()
    assert not leftover.exists()  # the idle ones beyond `most`: the never-used first
    assert stale.exists()  # the latest used idle one is kept (most=2: the new task and one more)
    TaskDataPipeline._trim_sources(object(), keep, most=1)  # type: ignore[arg-type]
    assert not stale.exists() and all(f.exists() for f in busy)
