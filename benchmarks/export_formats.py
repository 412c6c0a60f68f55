"""Export of a synthetic task (5,000 frames, 100,000 shapes) to COCO 1.0 and CVAT for images 1.1,
timed against Datumaro exporting the same dataset in the same run.

    .venv/bin/python benchmarks/export_formats.py [--frames 5000 --shapes 100000]

Each export runs in a fresh process, so peak memory (ru_maxrss) is that export's alone: the
figure is the growth of the peak over the process's state just before the export (the task
already built in memory), plus the absolute peak. Datumaro (1.13, in ``.venv-datumaro`` because
it pins Pillow < 13) gets the same annotations, tracks already split into per-frame shapes
(Datumaro has no tracks), and its time includes zipping its output directory, because the
deliverable of an export is a ZIP (CVAT zips Datumaro's output the same way). Ours streams
straight into the ZIP. Targets: ours >= 5x faster; ours peaks lower.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATUMARO_PYTHON = ROOT / ".venv-datumaro" / "bin" / "python"
SPEEDUP_TARGET = 5.0


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build_spec(frames: int, shapes: int, seed: int = 7) -> dict[str, Any]:
    """A JSON-ready task: labels, frames, LabeledData (boxes, polygons, 20 tracks)."""
    rng = random.Random(seed)
    labels = [{"id": i + 1, "name": name} for i, name in enumerate(["car", "person", "bike", "truck"])]
    n_tracks, track_len = 20, 250
    tracked = n_tracks * track_len
    plain = shapes - tracked
    out_shapes = []
    for i in range(plain):
        frame = i % frames
        label = rng.randint(1, 4)
        x, y = rng.uniform(0, 1700), rng.uniform(0, 900)
        w, h = rng.uniform(10, 200), rng.uniform(10, 150)
        if i % 5 < 3:
            out_shapes.append(
                {
                    "type": "rectangle",
                    "frame": frame,
                    "label_id": label,
                    "points": [round(v, 2) for v in (x, y, x + w, y + h)],
                    "attributes": [],
                }
            )
        else:
            k = rng.randint(4, 12)
            pts = []
            for j in range(k):
                pts += [round(x + w * rng.random(), 2), round(y + h * (j / k), 2)]
            out_shapes.append({"type": "polygon", "frame": frame, "label_id": label, "points": pts, "attributes": []})
    tracks = []
    for t in range(n_tracks):
        start = rng.randint(0, frames - track_len - 1)
        keys = []
        for f in range(start, start + track_len, 10):
            x, y = rng.uniform(0, 1700), rng.uniform(0, 900)
            keys.append({"type": "rectangle", "frame": f, "points": [x, y, x + 80, y + 60], "attributes": []})
        last = keys[-1]
        keys.append({**last, "frame": start + track_len, "outside": True})
        tracks.append({"frame": start, "label_id": 1 + t % 4, "shapes": keys, "attributes": []})
    return {
        "labels": labels,
        "frames": [
            {"frame": i, "name": f"images/frame_{i:06d}.jpg", "width": 1920, "height": 1080} for i in range(frames)
        ],
        "annotations": {"shapes": out_shapes, "tracks": tracks, "tags": []},
    }


def flatten_for_datumaro(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-frame shapes of the task (tracks interpolated by our domain code)."""
    from cvat_serverless.domain.annotations import LabeledData
    from cvat_serverless.domain.interpolation import tracks_to_shapes

    data = LabeledData.from_dict(spec["annotations"])
    flat = [{"type": str(s.type), "frame": s.frame, "label_id": s.label_id, "points": s.points} for s in data.shapes]
    stop = len(spec["frames"]) - 1
    for item in tracks_to_shapes(data.tracks, stop_frame=stop):
        s = item.shape
        flat.append(
            {
                "type": str(s.type),
                "frame": s.frame,
                "label_id": s.label_id,
                "points": s.points,
                "track_id": item.track_id,
            }
        )
    return flat


# --------------------------------------------------------------------------- the measured runs


def run_ours(fmt: str, spec_path: str, out_dir: str) -> dict[str, float]:
    from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabeledData, LabelSpec
    from cvat_serverless.formats.registry import get_exporter

    spec = json.loads(Path(spec_path).read_text())
    view = DatasetView(
        labels=[LabelSpec(id=label["id"], name=label["name"]) for label in spec["labels"]],
        frames=[FrameInfo(**f) for f in spec["frames"]],
        annotations=LabeledData.from_dict(spec["annotations"]),
    )
    del spec
    export = get_exporter({"coco": "COCO 1.0", "cvat": "CVAT for images 1.1"}[fmt])
    before = _maxrss_mib()
    start = time.perf_counter()
    with open(Path(out_dir) / "ours.zip", "wb") as out:
        export(view, out, None)
    seconds = time.perf_counter() - start
    peak = _maxrss_mib()
    return {
        "seconds": seconds,
        "peak_growth_mib": peak - before,
        "peak_mib": peak,
        "bytes": os.path.getsize(Path(out_dir) / "ours.zip"),
    }


DATUMARO_SIDE = r"""
import json, resource, shutil, sys, time
import datumaro as dm
fmt, flat_path, out_dir = sys.argv[1:4]
spec = json.load(open(flat_path))
labels = spec["labels"]
index = {label["id"]: i for i, label in enumerate(labels)}
per_frame = {}
for n, s in enumerate(spec["flat"]):
    p = s["points"]
    attrs = {"occluded": False}
    if "track_id" in s:
        attrs["track_id"] = s["track_id"]
    if s["type"] == "rectangle":
        ann = dm.Bbox(p[0], p[1], p[2] - p[0], p[3] - p[1], label=index[s["label_id"]], id=n, attributes=attrs)
    else:
        ann = dm.Polygon(p, label=index[s["label_id"]], id=n, attributes=attrs)
    per_frame.setdefault(s["frame"], []).append(ann)
items = [dm.DatasetItem(id=f["name"].rsplit(".", 1)[0], subset="default",
                        media=dm.Image.from_file(path=f["name"], size=(f["height"], f["width"])),
                        annotations=per_frame.get(f["frame"], []), attributes={"frame": f["frame"]})
         for f in spec["frames"]]
ds = dm.Dataset.from_iterable(items, categories=[label["name"] for label in labels])
del spec, per_frame, items
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
ds.export(out_dir + "/dm", {"coco": "coco_instances", "cvat": "cvat"}[fmt], save_media=False)
shutil.make_archive(out_dir + "/dm", "zip", out_dir + "/dm")
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_growth_mib": peak - before, "peak_mib": peak}))
"""


def _sub(args: list[str]) -> dict[str, Any]:
    result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args[:4])}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--shapes", type=int, default=100_000)
    parser.add_argument("--_ours", nargs=3, metavar=("FMT", "SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._ours:
        print(json.dumps(run_ours(*args._ours)))
        return 0
    if not DATUMARO_PYTHON.exists():
        print(
            f"datumaro venv missing at {DATUMARO_PYTHON}: python3.11 -m venv .venv-datumaro && "
            ".venv-datumaro/bin/pip install 'datumaro==1.13.*'",
            file=sys.stderr,
        )
        return 2

    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        spec = build_spec(args.frames, args.shapes)
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        flat_path = Path(tmp) / "flat.json"
        flat = flatten_for_datumaro(spec)
        flat_path.write_text(json.dumps({"labels": spec["labels"], "frames": spec["frames"], "flat": flat}))
        print(
            f"task: {args.frames} frames, {len(flat)} per-frame shapes "
            f"({len(spec['annotations']['shapes'])} shapes + {len(spec['annotations']['tracks'])} tracks)"
        )
        del spec, flat
        for fmt in ("coco", "cvat"):
            out = Path(tmp) / fmt
            out.mkdir()
            ours = _sub([sys.executable, __file__, "--_ours", fmt, str(spec_path), str(out)])
            theirs = _sub([str(DATUMARO_PYTHON), "-c", DATUMARO_SIDE, fmt, str(flat_path), str(out)])
            shutil.rmtree(out)
            speedup = theirs["seconds"] / ours["seconds"]
            key = {"coco": "coco_1.0", "cvat": "cvat_for_images_1.1"}[fmt]
            print(f"{key} ours seconds: {ours['seconds']:.2f} (info: datumaro {theirs['seconds']:.2f})")
            print(f"{key} speedup vs datumaro: {speedup:.1f}x (target >= {SPEEDUP_TARGET:.0f}x)")
            print(
                f"{key} ours peak memory growth MiB: {ours['peak_growth_mib']:.0f} "
                f"(target <= {theirs['peak_growth_mib']:.0f}, datumaro's)"
            )
            print(
                f"{key} peak process memory MiB: ours {ours['peak_mib']:.0f}, datumaro "
                f"{theirs['peak_mib']:.0f} (target <= datumaro)"
            )
            failed |= speedup < SPEEDUP_TARGET
            failed |= ours["peak_growth_mib"] > theirs["peak_growth_mib"]
            failed |= ours["peak_mib"] > theirs["peak_mib"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
