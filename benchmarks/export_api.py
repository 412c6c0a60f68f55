"""Dataset export through the API (issue 11) against the formats engine as a library, same run.

Run: .venv/bin/python benchmarks/export_api.py [--frames 5000 --shapes 100000 --repeats 3]

`cvat-serverless up` on free ports with a fresh data directory; a task of --frames tiny PNGs
(one zip, uploaded with cvat-sdk 2.80) whose job gets --shapes shapes (rectangles and polygons,
PATCH-created in batches of 10,000). For COCO 1.0 and CVAT for images 1.1, annotations only:

- API: ``POST /api/tasks/{id}/dataset/export`` -> poll ``GET /api/requests/{id}`` every 50 ms until
  ``finished`` -> ``GET result_url`` (the redirect followed) -> the archive on disk. Each repeat
  first PATCH-creates one more shape, so no repeat is answered from the stored result (that one
  is timed apart, as "cached", for information).
- Library: the same annotations (``GET /api/tasks/{id}/annotations``), labels and frames as a
  ``DatasetView``, exported by ``formats.registry.get_exporter`` to a file in this process.

Prints ``<figure>: <value> (target <op> <target>)`` (best of --repeats each side) and exits non-zero
when a target is missed: API / library <= 1.5.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _api import Api
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess, log_on_error

WIDTH, HEIGHT = 320, 240
FORMATS = ("COCO 1.0", "CVAT for images 1.1")
BATCH = 10_000
TARGET = 1.5


def frames_zip(folder: Path, count: int) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), (90, 120, 160)).save(buffer, format="PNG")
    png = buffer.getvalue()
    path = folder / "frames.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(count):
            z.writestr(f"frame_{i:06d}.png", png)
    return path


def shape(i: int, frames: int, label: int) -> dict[str, Any]:
    x, y = float(5 + i * 7 % (WIDTH - 60)), float(5 + i * 13 % (HEIGHT - 60))
    common = {"frame": i % frames, "label_id": label, "group": 0, "source": "manual", "occluded": False,
              "z_order": 0, "rotation": 0.0, "attributes": []}
    if i % 5 == 4:
        return {**common, "type": "polygon", "points": [x, y, x + 30, y + 4, x + 45, y + 25, x + 20, y + 50, x, y + 30]}
    return {**common, "type": "rectangle", "points": [x, y, x + 40.5, y + 30.25]}


def api_export(api: Api, task_id: int, fmt: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    query = urlencode({"format": fmt, "save_images": "False"})
    rq = orjson.loads(api.call("POST", f"/api/tasks/{task_id}/dataset/export?{query}", ok=202))["rq_id"]
    while True:
        request = orjson.loads(api.call("GET", f"/api/requests/{quote(rq, safe='')}"))
        if request["status"] == "finished":
            break
        if request["status"] == "failed":
            raise RuntimeError(request["message"])
        time.sleep(0.05)
    data = api.call("GET", request["result_url"])
    return time.perf_counter() - started, data


def library_export(api: Api, task_id: int, fmt: str, folder: Path) -> float:
    from cvat_serverless.domain.annotations import DatasetView, FrameInfo, LabeledData, LabelSpec
    from cvat_serverless.formats.registry import get_exporter

    answer = orjson.loads(api.call("GET", f"/api/tasks/{task_id}/annotations"))
    meta = orjson.loads(api.call("GET", f"/api/tasks/{task_id}/data/meta"))
    labels = orjson.loads(api.call("GET", f"/api/labels?task_id={task_id}&page_size=100"))["results"]
    specs = [LabelSpec(lb["id"], lb["name"], color=lb.get("color") or "") for lb in labels]
    view = DatasetView(labels=specs, frames=[FrameInfo(i, f["name"], f["width"], f["height"])
                                             for i, f in enumerate(meta["frames"])],
                       annotations=LabeledData.from_dict(answer), task_id=task_id, name="bench")
    exporter = get_exporter(fmt)
    out = folder / "library.zip"
    started = time.perf_counter()
    with out.open("wb") as f:
        exporter(view, f, None)
    return time.perf_counter() - started


def counted(data: bytes, fmt: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if fmt.startswith("COCO"):
            return len(orjson.loads(z.read("annotations/instances_default.json"))["annotations"])
        xml = z.read("annotations.xml")
        return xml.count(b"<box ") + xml.count(b"<polygon ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--shapes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType

    with tempfile.TemporaryDirectory(prefix="cvat-export-") as tmp, \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime, log_on_error(Path(tmp)):
        client = Client(runtime.api_url, config=Config(status_check_period=0.5))
        client.login((runtime.user, runtime.password))
        with client:
            task = client.tasks.create_from_data(
                {"name": "bench-export", "labels": [{"name": "car"}, {"name": "person"}]},
                resources=[str(frames_zip(Path(tmp), args.frames))], resource_type=ResourceType.LOCAL,
                data_params={"image_quality": 50, "chunk_size": 500})
            (job,) = task.get_jobs()
        api = Api(runtime.api_url, runtime.user, runtime.password)
        labels = orjson.loads(api.call("GET", f"/api/labels?task_id={task.id}"))["results"]
        label = labels[0]["id"]
        started = time.perf_counter()
        for first in range(0, args.shapes, BATCH):
            batch = [shape(i, args.frames, label) for i in range(first, min(args.shapes, first + BATCH))]
            api.call("PATCH", f"/api/jobs/{job.id}/annotations?action=create", {"shapes": batch})
        print(f"# {args.shapes} shapes on {args.frames} frames stored in {time.perf_counter() - started:.1f} s")
        extra = args.shapes
        for fmt in FORMATS:
            api_times, lib_times = [], []
            for _ in range(args.repeats):
                api.call("PATCH", f"/api/jobs/{job.id}/annotations?action=create",
                         {"shapes": [shape(extra, args.frames, label)]})
                extra += 1
                seconds, data = api_export(api, task.id, fmt)
                api_times.append(seconds)
                lib_times.append(library_export(api, task.id, fmt, Path(tmp)))
            assert counted(data, fmt) == extra, (counted(data, fmt), extra)
            cached, _ = api_export(api, task.id, fmt)
            best_api, best_lib = min(api_times), min(lib_times)
            print(f"# {fmt}: API runs {[round(t, 2) for t in api_times]} s, library runs "
                  f"{[round(t, 2) for t in lib_times]} s, the stored result again {cached:.2f} s")
            figure(f"{fmt} API export / library export", best_api / best_lib, "<=", TARGET)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
