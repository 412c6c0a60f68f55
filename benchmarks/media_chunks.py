"""Media engine benchmark: chunks, manifest and parallel spans against their floors and CVAT.

Run: .venv/bin/python benchmarks/media_chunks.py [--quick]

Prints one line per figure, ``<figure>: <value> (target <op> <target>)``, and exits non-zero
when a target is missed. Every ratio compares numbers measured in this run on this machine.
Lines starting with ``#`` are context (media, what each baseline does).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import multiprocessing as mp
import operator
import os
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _media_cvat as base
import _media_fixtures as fixtures

from cvat_serverless.media.chunks import ChunkSettings
from cvat_serverless.media.frames import default_chunk_size, plan_chunks
from cvat_serverless.media.manifest import Manifest, build_image_manifest, build_video_manifest
from cvat_serverless.media.units import WorkUnit, plan_work_units, run_work_unit

OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt}
missed: list[str] = []


def figure(name: str, value: float, op: str, target: float, unit: str = "") -> None:
    ok = OPS[op](value, target)
    if not ok:
        missed.append(name)
    print(f"{name}: {value:.3g}{unit} (target {op} {target:.3g}{unit}){'' if ok else '  MISSED'}", flush=True)


def timed(fn: Callable[..., Any], *args: Any, repeat: int = 1) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return result, best


def best_of(fn: Callable[[Path], Any], out: Path, repeat: int = 2) -> tuple[Any, float]:
    """Best time of ``repeat`` calls of ``fn(out / i)``: each call writes into a fresh folder
    (CVAT's writer refuses to overwrite a chunk). Outputs are kept for the size figures."""
    best, result = float("inf"), None
    for i in range(repeat):
        t0 = time.perf_counter()
        result = fn(out / str(i))
        best = min(best, time.perf_counter() - t0)
    return result, best


def frames_in_zips(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*.zip"):
        with zipfile.ZipFile(path) as z:
            total += len(z.namelist())
    return total


def interleaved(floor: Callable[[int], Any], engine: Callable[[int], Any], repeat: int = 3) -> tuple[float, float]:
    """Best times of a floor and the engine, run turn about (floor, engine, floor, ...), so that
    a slow spell of this shared machine hits both sides alike."""
    best = [float("inf"), float("inf")]
    for i in range(repeat):
        for side, fn in enumerate((floor, engine)):
            t0 = time.perf_counter()
            fn(i)
            best[side] = min(best[side], time.perf_counter() - t0)
    return best[0], best[1]


# --- workers (spawned processes: their peak RSS is theirs alone) --------------------------------

_worker: dict[str, Any] = {}


def _init(barrier: Any) -> None:
    _worker["barrier"] = barrier
    import cvat_serverless.media.units  # noqa: F401  (import time is not unit work)


def _wait_ready(_: int) -> int:
    _worker["barrier"].wait()
    return 0


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _unit_job(args: tuple[str, str, dict[str, Any], str, list[str], dict[str, Any]]) -> tuple[int, int, float]:
    manifest_text, source, unit, out_dir, kinds, settings = args
    cpu0 = _cpu_seconds()
    m = Manifest.from_jsonl(manifest_text)
    results = run_work_unit(
        m, WorkUnit.from_dict(unit), source, out_dir, kinds=kinds, settings=ChunkSettings(**settings)
    )
    frames = sum(r.frames for r in results if r.kind.value == kinds[0])
    return frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _cpu_seconds() - cpu0


def _machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all processes, kernel included), or None
    where /proc/stat is missing."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class PoolRun:
    """One timed pass of a pool over all units (the best of several: see :func:`run_pool`)."""

    seconds: float  # wall
    frames: int
    peak_rss_kb: int  # the highest of any worker, over every pass
    worker_cpu: float  # CPU seconds the workers spent in the units
    other_cpu: float | None  # CPU seconds everything else on the machine used meanwhile


def run_pool(
    processes: int,
    manifest: Manifest,
    source: Path,
    units: list[WorkUnit],
    out: Path,
    kinds: list[str],
    repeat: int = 1,
) -> PoolRun:
    """All units on ``processes`` warm workers, ``repeat`` times (a fresh output folder each,
    removed outside the timing): the pass with the best wall time."""
    ctx = mp.get_context("spawn")
    text = manifest.to_jsonl()
    runs = []
    for i in range(repeat):
        barrier = ctx.Barrier(processes)
        settings: dict[str, Any] = {}  # ChunkSettings() defaults
        jobs = [(text, str(source), u.to_dict(), str(out / str(i)), kinds, settings) for u in units]
        with ctx.Pool(processes, initializer=_init, initargs=(barrier,)) as pool:
            pool.map(_wait_ready, range(processes), chunksize=1)
            busy0 = _machine_busy_seconds()
            t0 = time.perf_counter()
            done = pool.map(_unit_job, jobs, chunksize=1)
            elapsed = time.perf_counter() - t0
            busy1 = _machine_busy_seconds()
        cpu = sum(c for _, _, c in done)
        other = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - cpu)
        runs.append(PoolRun(elapsed, sum(f for f, _, _ in done), max(r for _, r, _ in done), cpu, other))
        shutil.rmtree(out / str(i), ignore_errors=True)
    best = min(runs, key=lambda r: r.seconds)
    return dataclasses.replace(best, peak_rss_kb=max(r.peak_rss_kb for r in runs))


def run_serial(manifest: Manifest, source: Path, units: list[WorkUnit], out: Path, kinds: list[str]) -> int:
    return sum(
        r.frames
        for u in units
        for r in run_work_unit(manifest, u, source, out, kinds=kinds)
        if r.kind.value == kinds[0]
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / mse) if mse else float("inf")


def jpeg_quality(images: list[Image.Image], quality: int, optimize: bool) -> tuple[float, float]:
    ps, sizes = [], []
    for img in images:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality, optimize=optimize)
        sizes.append(buf.tell())
        ps.append(psnr(np.asarray(img), np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))))
    return float(np.mean(ps)), float(np.mean(sizes))


# --- the benchmark ------------------------------------------------------------------------------


def bench_video(work: Path, frames: int) -> None:
    t0 = time.perf_counter()
    video = fixtures.video(frames)
    mbps = video.stat().st_size * 8 / (frames / 30) / 1e6
    print(
        f"# video: {video.name}, 1920x1080 H.264 High, keyframe every 250, {mbps:.1f} Mbps"
        f" (ready in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    manifest, t_manifest = timed(build_video_manifest, video, repeat=3)
    n = manifest.size
    _, t_decode = timed(base.floor_video_decode, video)
    figure("video_manifest_speedup_vs_full_decode", t_decode / t_manifest, ">=", 100, "x")
    print(
        f"# manifest {t_manifest * 1000:.1f} ms for {n} frames; full decode {t_decode:.2f} s ({n / t_decode:.0f} fps)"
    )

    chunk_size = default_chunk_size("video", 1920, 1080)
    chunks = plan_chunks(n, chunk_size)
    units = plan_work_units(manifest, chunks, target_frames=250)
    print(
        f"# {len(chunks)} chunks of {chunk_size}; {len(units)} spans starting at frames "
        f"{[u.first_frame for u in units]} (seek from {[u.seek_frame for u in units]})"
    )

    t_floor, t_engine = interleaved(
        lambda _: base.floor_video_decode_encode(video),
        lambda i: run_serial(manifest, video, units, work / "v_engine" / str(i), ["compressed"]),
    )
    fps_floor = n / t_floor
    assert frames_in_zips(work / "v_engine" / "0") == n
    fps_engine = n / t_engine
    figure("video_compressed_fps_1proc", fps_engine, ">", 0, " fps")
    figure("video_compressed_vs_decode_encode_floor", fps_engine / fps_floor, ">=", 0.8, "x")
    print(f"# floor (decode 1 thread + to_image + JPEG q70, nothing else): {fps_floor:.1f} fps")

    _, t_cvat = best_of(lambda out: base.cvat_video_compressed(video, out), work / "v_cvat")
    fps_cvat = n / t_cvat
    figure("video_cvat_baseline_fps", fps_cvat, ">", 0, " fps")

    pool2 = run_pool(2, manifest, video, units, work / "v_pool2", ["compressed"], repeat=2)
    assert pool2.frames == n
    fps2 = n / pool2.seconds
    figure("video_compressed_fps_2proc", fps2, ">", 0, " fps")
    figure("video_compressed_2proc_vs_cvat", fps2 / fps_cvat, ">=", 1.5, "x")
    figure("video_compressed_1proc_vs_cvat", fps_engine / fps_cvat, ">", 0, "x")
    figure("video_span_worker_peak_rss", pool2.peak_rss_kb / 1024, "<=", 1024, " MB")

    # Both kinds at once (compressed zip + original MP4): one decode feeds both.
    _, t_both = timed(run_serial, manifest, video, units, work / "v_both", ["compressed", "original"])
    figure("video_both_kinds_fps_1proc", n / t_both, ">", 0, " fps")
    both2 = run_pool(2, manifest, video, units, work / "v_both2", ["compressed", "original"])
    figure("video_both_kinds_fps_2proc", n / both2.seconds, ">", 0, " fps")
    figure("video_both_kinds_worker_peak_rss", both2.peak_rss_kb / 1024, "<=", 1024, " MB")

    chunk_bytes = sum(p.stat().st_size for p in (work / "v_engine" / "0").rglob("*.zip"))
    cvat_bytes = sum(p.stat().st_size for p in (work / "v_cvat" / "0").rglob("*.zip"))
    figure("video_compressed_kb_per_frame", chunk_bytes / n / 1000, ">", 0, " kB")
    figure("video_compressed_bytes_vs_cvat_optimize", chunk_bytes / cvat_bytes, "<=", 1.15, "x")

    sample = []
    with av.open(str(video)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % max(1, n // 10) == 0:
                sample.append(f.to_image())
    p_ours, b_ours = jpeg_quality(sample, 70, False)
    p_cvat, b_cvat = jpeg_quality(sample, 70, True)
    figure("video_q70_psnr_db_ours", p_ours, ">=", p_cvat - 0.05, " dB")
    print(
        f"# q70 vs decoded frame: ours (optimize=False) {p_ours:.2f} dB, {b_ours / 1000:.0f} kB/frame; "
        f"CVAT (optimize=True) {p_cvat:.2f} dB, {b_cvat / 1000:.0f} kB/frame"
    )


def bench_spans(work: Path, frames: int, repeat: int = 2) -> None:
    """N keyframe-aligned spans (~250 frames each) on 1 process, then on 2: the scaling a Map
    state's parallel workers see. Several spans per process, so one span that a noisy neighbour
    slows down does not decide the figure (with only 2 spans on 2 processes, it does). The two
    sides take turns (1, 2, 1, 2...) so that a slow spell of this shared machine hits both, and
    the best pass of each is compared."""
    video = fixtures.video(frames)
    manifest = build_video_manifest(video)
    n = manifest.size
    units = plan_work_units(manifest, plan_chunks(n, default_chunk_size("video", 1920, 1080)), target_frames=250)
    print(f"# spans: {n}-frame clip, {len(units)} spans of ~250 frames, compressed chunks, best of {repeat} per side")
    best: dict[int, PoolRun] = {}
    for i in range(repeat):
        for processes in (1, 2):
            run = run_pool(processes, manifest, video, units, work / f"s_pool{processes}_{i}", ["compressed"])
            assert run.frames == n
            if processes not in best or run.seconds < best[processes].seconds:
                best[processes] = run
    one, two = best[1], best[2]
    figure("video_spans_2proc_scaling", one.seconds / two.seconds, ">=", 1.8, "x")
    figure("video_spans_worker_peak_rss", max(one.peak_rss_kb, two.peak_rss_kb) / 1024, "<=", 1024, " MB")
    print(f"# spans: 1 process {n / one.seconds:.1f} fps, 2 processes {n / two.seconds:.1f} fps")
    # What the wall-clock ratio cannot show: the work per frame (the same on 1 and 2 processes
    # when nothing is shared between them) and what other processes took of the 2 CPUs meanwhile
    # (each CPU-second they take from a 2-process pass adds to its wall time).
    for label, run in (("1 process", one), ("2 processes", two)):
        other = "n/a"
        if run.other_cpu is not None:
            other = f"{run.other_cpu:.1f} CPU-s ({run.other_cpu / run.seconds:.2f} CPUs)"
        print(
            f"# spans, {label}: workers {run.worker_cpu / n * 1000:.2f} CPU-ms/frame, "
            f"{run.worker_cpu / run.seconds:.2f} CPUs busy; other processes {other} over {run.seconds:.1f} s"
        )
    print(f"# spans: work per frame, 2 processes vs 1: {two.worker_cpu / one.worker_cpu:.3f}x")


def bench_images(work: Path, count: int) -> None:
    t0 = time.perf_counter()
    root, names = fixtures.images(count)
    size = sum((root / n).stat().st_size for n in names) / count
    print(f"# images: {count} x 1920x1080 JPEG, {size / 1000:.0f} kB each (ready in {time.perf_counter() - t0:.1f} s)")
    manifest = build_image_manifest(root, names)
    chunk_size = default_chunk_size("images", manifest.frame(0).width, manifest.frame(0).height)
    chunks = plan_chunks(manifest.size, chunk_size)
    units = plan_work_units(manifest, chunks, target_frames=chunk_size)  # no seek cost: one chunk per unit

    t_floor, t_engine = interleaved(
        lambda _: base.floor_images_decode_encode(root, names),
        lambda i: run_serial(manifest, root, units, work / "i_engine" / str(i), ["compressed"]),
    )
    figure("images_compressed_per_s_1proc", count / t_engine, ">", 0, " img/s")
    figure("images_compressed_vs_decode_encode_floor", t_floor / t_engine, ">=", 0.8, "x")
    print(f"# floor (Image.open + load + JPEG q70): {count / t_floor:.1f} img/s")

    _, t_cvat = best_of(lambda out: base.cvat_images_compressed(root, names, out), work / "i_cvat")
    figure("images_cvat_baseline_per_s", count / t_cvat, ">", 0, " img/s")
    pool2 = run_pool(2, manifest, root, units, work / "i_pool2", ["compressed"], repeat=2)
    assert pool2.frames == count
    figure("images_compressed_per_s_2proc", count / pool2.seconds, ">", 0, " img/s")
    figure("images_compressed_2proc_vs_cvat", t_cvat / pool2.seconds, ">=", 2.0, "x")
    figure("images_compressed_1proc_vs_cvat", t_cvat / t_engine, ">", 0, "x")
    figure("images_worker_peak_rss", pool2.peak_rss_kb / 1024, "<=", 1024, " MB")

    # Each repeat writes into a fresh folder; deleting the last one's files is not timed.
    t_zip = t_orig = float("inf")
    for i in range(5):
        t0 = time.perf_counter()
        base.floor_images_zip(root, names, work / f"i_zip{i}")
        t_zip = min(t_zip, time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_serial(manifest, root, units, work / f"i_orig{i}", ["original"])
        t_orig = min(t_orig, time.perf_counter() - t0)
        shutil.rmtree(work / f"i_zip{i}")
        shutil.rmtree(work / f"i_orig{i}")
    figure("images_original_per_s_1proc", count / t_orig, ">", 0, " img/s")
    figure("images_original_vs_plain_zip_floor", t_zip / t_orig, ">=", 0.8, "x")

    sample = [Image.open(root / names[i]).convert("RGB") for i in range(0, count, max(1, count // 10))]
    p_ours, b_ours = jpeg_quality(sample, 70, False)
    p_cvat, b_cvat = jpeg_quality(sample, 70, True)
    figure("images_q70_psnr_db_ours", p_ours, ">=", p_cvat - 0.05, " dB")
    figure("images_q70_bytes_vs_cvat_optimize", b_ours / b_cvat, "<=", 1.15, "x")
    print(
        f"# q70 vs decoded original: ours {p_ours:.2f} dB, {b_ours / 1000:.0f} kB/image; "
        f"CVAT (optimize=True) {p_cvat:.2f} dB, {b_cvat / 1000:.0f} kB/image"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller media (a smoke run; ratios are noisier)")
    args = parser.parse_args()
    frames, span_frames, count = (250, 500, 72) if args.quick else (500, 2000, 200)
    print(f"# PyAV {av.__version__}, Pillow {Image.__version__}, numpy {np.__version__}, {mp.cpu_count()} CPUs")
    work = Path(tempfile.mkdtemp(prefix="media_bench_"))
    try:
        bench_video(work, frames)
        bench_spans(work, span_frames)
        bench_images(work, count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if missed:
        print(f"# missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
