"""Auto-annotation end to end (issue 15) against the detector alone, same frames, same run.

Run: .venv/bin/python benchmarks/auto_annotation.py [--frames 500 --threads 1 --repeats 2]

- Frames: --frames 1920x1080 JPEG scenes (tests/_detector_scenes.py: stop signs and clocks drawn
  with Pillow, which YOLOX-nano finds, placed differently on each frame), one task made with
  cvat-sdk 2.80 on `cvat-serverless up`.
- End to end: ``POST /api/lambda/requests`` with the built-in ``yolox-nano`` function (cleanup on,
  so each repeat replaces the last), polled every 200 ms until ``finished`` (each poll is API work
  in the same process as the workflow), then ``GET /api/tasks/{id}/annotations``: the request's
  whole life (the auto-annotate state machine: chunks read from the embedded S3, batched
  invocations of the embedded SageMaker runtime, results saved through the annotations service).
- Baseline: the same handler code (``yolox_inference.load_model`` + ``detect``) in this process on
  the same JPEG bytes, one frame at a time: decode, letterbox, onnxruntime, decode and NMS.
- Same thread count on both sides: onnxruntime with --threads intra-op threads, and the embedded
  endpoint runs one prediction at a time (CVAT_LOCAL_MODEL_CONCURRENCY=1).

Prints frames/s of each side (best of --repeats), the detections stored and found, and ``end to end / detector alone``
(target <= 1.5); exits non-zero on a miss, or when the two sides disagree on the detections count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests._detector_scenes
from _api import Api
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess, log_on_error

TARGET = 1.5
THRESHOLD = 0.5


def frames(count: int) -> list[bytes]:
    from tests._detector_scenes import scene_jpeg

    return [scene_jpeg(i) for i in range(count)]


def frames_zip(folder: Path, jpegs: list[bytes]) -> Path:
    path = folder / "frames.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i, data in enumerate(jpegs):
            z.writestr(f"frame_{i:06d}.jpg", data)
    return path


def detector_alone(jpegs: list[bytes], threads: int) -> tuple[float, list[str]]:
    """Seconds and the detections' labels: the handler in this process, one frame at a time."""
    os.environ["CVAT_MODEL_THREADS"] = str(threads)
    from cvat_serverless_tools.models import yolox_inference
    from cvat_serverless_tools.models.offline import yolox_nano_path

    model = yolox_inference.load_model(yolox_nano_path())
    yolox_inference.detect(model, [jpegs[0]], THRESHOLD)  # the session's first run allocates
    found: list[str] = []
    started = time.perf_counter()
    for data in jpegs:
        found.extend(det["label"] for det in yolox_inference.detect(model, [data], THRESHOLD)[0])
    return time.perf_counter() - started, found


def end_to_end(api: Api, task_id: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    request = api.json("POST", "/api/lambda/requests", {"function": "yolox-nano", "task": task_id,
                                                        "threshold": THRESHOLD, "cleanup": True})
    while True:
        request = api.json("GET", f"/api/lambda/requests/{quote(request['id'], safe='')}")
        if request["status"] == "finished":
            break
        if request["status"] == "failed":
            raise RuntimeError(f"the request failed: {request.get('exc_info')}")
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    return seconds, api.json("GET", f"/api/tasks/{task_id}/annotations")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType

    jpegs = frames(args.frames)
    print(f"# {args.frames} frames of 1920x1080, {sum(map(len, jpegs)) / len(jpegs) / 1024:.0f} KiB each on average")
    os.environ["CVAT_MODEL_THREADS"] = str(args.threads)  # the runtime's local endpoint (inherited)
    os.environ["CVAT_LOCAL_MODEL_CONCURRENCY"] = "1"
    with tempfile.TemporaryDirectory(prefix="cvat-autoannotate-") as tmp, \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime, log_on_error(Path(tmp)):
        labels = [{"name": name} for name in ("stop sign", "clock", "person", "car")]
        client = Client(runtime.api_url, config=Config(status_check_period=0.5))
        client.login((runtime.user, runtime.password))
        with client:
            started = time.perf_counter()
            task = client.tasks.create_from_data(
                {"name": "bench-autoannotate", "labels": labels},
                resources=[str(frames_zip(Path(tmp), jpegs))], resource_type=ResourceType.LOCAL,
                data_params={"image_quality": 70})
            print(f"# task {task.id} made in {time.perf_counter() - started:.1f} s")
        api = Api(runtime.api_url, runtime.user, runtime.password)
        runs = [end_to_end(api, task.id) for _ in range(args.repeats)]  # each replaces the last (cleanup)
        end_s, annotations = min(runs, key=lambda run: run[0])
    alone = [detector_alone(jpegs, args.threads) for _ in range(args.repeats)]
    alone_s, found = min(alone, key=lambda run: run[0])
    print(f"# end-to-end runs {[round(r[0], 2) for r in runs]} s, "
          f"detector-alone runs {[round(r[0], 2) for r in alone]} s")
    shapes = annotations["shapes"]
    sources = {s["source"] for s in shapes}
    print(f"# end to end: {end_s:.2f} s, {len(shapes)} shapes stored (sources {sorted(sources)}); "
          f"detector alone: {alone_s:.2f} s, {len(found)} detections")
    figure("end-to-end frames/s", args.frames / end_s)
    figure("detector-alone frames/s", args.frames / alone_s)
    figure("detections stored", len(shapes))
    # the model's labels outside the task's are dropped by the mapping: count what both keep
    names = {lb["name"] for lb in labels}
    kept = sum(1 for label in found if label in names)
    figure("stored == detector's (task labels only)", float(len(shapes) == kept), "==", 1.0)
    figure("end to end / detector alone", end_s / alone_s, "<=", TARGET)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
