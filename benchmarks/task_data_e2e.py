"""Task creation end to end on the embedded runtime, against the media engine alone.

Run: .venv/bin/python benchmarks/task_data_e2e.py [--seconds 60] [--photos 300] [--workers N]

For (a) a 1080p H.264 video (--seconds at 30 fps) and (b) --photos JPEG photos of 12 MP, in the
same run:
- end to end: `cvat-serverless up` on free ports with a fresh data directory; cvat-sdk 2.80
  `create_from_data` (Upload-Start, Upload-Multiple or TUS, Upload-Finish, then polling the request
  every 0.2 s); the time from the first byte sent to the request finished: upload, the task-data
  state machine (prepare: probe and plan; Map: chunks; finalize: previews, jobs), S3 transfers;
- engine alone: the same media work with cvat_serverless.media in --workers processes on local
  files: the manifest (index/probe), every work unit's compressed and original chunks, previews.

Figure: end to end / engine alone, target <= 1.3 (the orchestration's overhead), for each input.
Also prints frames/s end to end and the runtime's peak RSS. The runtime runs its units as threads
of one process, one per core (template parameter UnitConcurrency), so --workers defaults to the
core count too. Exit status 1 on a miss.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _media_fixtures as fixtures
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess, peak_rss_mb

from cvat_serverless.media.chunks import ChunkKind, ChunkSettings, make_preview
from cvat_serverless.media.frames import default_chunk_size, plan_chunks
from cvat_serverless.media.manifest import Manifest, build_image_manifest, build_video_manifest
from cvat_serverless.media.units import WorkUnit, plan_work_units, run_work_unit

TARGET = 1.3




# --- media -------------------------------------------------------------------------------------


def photos(count: int) -> Path:
    """12 MP JPEG photos (4000x3000, a camera's ~3-5 MB each), cached between runs."""
    folder = fixtures.CACHE / f"photos_12mp_{count}"
    if folder.is_dir() and len(list(folder.glob("*.jpg"))) == count:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    base = Image.fromarray(fixtures._base(7)).resize((4000, 3000), Image.Resampling.BICUBIC)
    pixels = np.asarray(base, dtype=np.int16)
    rng = np.random.default_rng(7)
    for i in range(count):
        noisy = (pixels + rng.integers(-12, 13, pixels.shape, dtype=np.int16)).clip(0, 255).astype(np.uint8)
        Image.fromarray(np.roll(noisy, i * 37, axis=1)).save(folder / f"IMG_{i:04d}.jpg", quality=92)
    return folder


# --- the engine alone --------------------------------------------------------------------------


def _unit(args: tuple[str, str, dict[str, Any], str, str]) -> int:
    text, source, unit, out, original = args
    manifest = Manifest.from_jsonl(text)
    settings = ChunkSettings(video_original=original)
    results = run_work_unit(manifest, WorkUnit.from_dict(unit), source, out,
                            kinds=(ChunkKind.COMPRESSED, ChunkKind.ORIGINAL), settings=settings)
    return sum(r.frames for r in results if r.kind is ChunkKind.COMPRESSED)


def engine_alone(kind: str, source: Path, names: list[str], workers: int, work: Path) -> tuple[float, int]:
    """Wall seconds of the media work the workflow does, on local files, and the frames."""
    started = time.perf_counter()
    if kind == "video":
        manifest = build_video_manifest(source / names[0], name=names[0])
        src = source / names[0]
    else:
        manifest = build_image_manifest(source, names)
        src = source
    first = manifest.frame(0)
    chunk_size = default_chunk_size(manifest.media_type, first.width, first.height)
    units = plan_work_units(manifest, plan_chunks(manifest.size, chunk_size))
    text = manifest.to_jsonl()
    jobs = [(text, str(src), u.to_dict(), str(work / "out"), "video") for u in units]
    with mp.get_context("spawn").Pool(workers) as pool:
        frames = sum(pool.map(_unit, jobs, chunksize=1))
    make_preview(manifest, 0, src)
    elapsed = time.perf_counter() - started
    shutil.rmtree(work / "out", ignore_errors=True)
    return elapsed, frames


# --- end to end --------------------------------------------------------------------------------


def end_to_end(runtime: EmbeddedRuntimeProcess, files: list[Path], name: str) -> tuple[float, int]:
    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType

    client = Client(runtime.api_url, config=Config(status_check_period=0.2))
    client.login((runtime.user, runtime.password))
    with client:
        started = time.perf_counter()
        task = client.tasks.create_from_data({"name": name, "labels": [{"name": "object"}]},
                                             resources=[str(f) for f in files], resource_type=ResourceType.LOCAL,
                                             data_params={"image_quality": 70})
        elapsed = time.perf_counter() - started
        task.fetch()
        return elapsed, int(task.size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="video length at 30 fps")
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    clip = fixtures.video(frames=args.seconds * 30)
    photo_dir = photos(args.photos)
    photo_names = sorted(p.name for p in photo_dir.glob("*.jpg"))
    print(f"# inputs: {clip.stat().st_size / 2**20:.0f} MiB video ({args.seconds * 30} frames 1080p), "
          f"{args.photos} photos of 12 MP ({sum(p.stat().st_size for p in photo_dir.glob('*.jpg')) / 2**20:.0f} MiB); "
          f"{args.workers} workers", flush=True)

    with tempfile.TemporaryDirectory(prefix="cvat-e2e-") as tmp:
        work = Path(tmp)
        with EmbeddedRuntimeProcess(work / "data") as runtime:
            for label, files, kind, source, names in (
                ("video", [clip], "video", clip.parent, [clip.name]),
                ("photos", [photo_dir / n for n in photo_names], "images", photo_dir, photo_names),
            ):
                e2e, size = end_to_end(runtime, files, f"bench-{label}")
                alone, frames = engine_alone(kind, source, names, args.workers, work)
                assert size == frames, (size, frames)
                print(f"# {label}: end to end {e2e:.1f} s, engine alone {alone:.1f} s, {size} frames", flush=True)
                figure(f"{label}_e2e_vs_engine", e2e / alone, "<=", TARGET, "x")
                figure(f"{label}_e2e_frames_per_s", size / e2e)
            figure("runtime_peak_rss_mb", peak_rss_mb(runtime.pid), unit=" MB")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())
