"""A job's annotations through the API (issue 11): a big job read and replaced, small creates, and
concurrent creates that must all be kept.

Run: .venv/bin/python benchmarks/annotations_api.py [--shapes 20000] [--tracks 200] [--repeat 15]

`cvat-serverless up` on free ports with a fresh data directory; a task of a few small PNGs (one
job) made with cvat-sdk 2.80, with an ``any`` label and a two-point skeleton label. The job gets
--shapes shapes of every type in turn (rectangle, polygon, polyline, points, ellipse, mask with a
small RLE, skeleton) and --tracks rectangle tracks of four keyframes. Plain HTTP (urllib3, the
``Token`` of ``POST /api/auth/login``, ``Accept-Encoding: gzip`` as the SDK sends):
- GET p50 (--repeat reads; the answer read and un-gzipped, not parsed) / the floor;
- PUT of all of them (best of 3; the body encoded beforehand) / the floor;
  the floor is ``orjson.dumps`` of the GET's answer (parsed), timed in this run (best of 5);
- PATCH ``action=create`` of 10 shapes on that job, p50 of 30, milliseconds;
- 20 threads each PATCH-creating 50 shapes at once (one request each, released together), then a
  GET: the job must hold exactly 1,000 shapes more, and every request must have succeeded.

Prints ``<figure>: <value> (target <op> <target>)`` per figure (``#`` lines are context) and exits
non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import urllib3
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess

WIDTH, HEIGHT, FRAMES = 640, 480, 8
SKELETON = {
    "name": "person", "type": "skeleton",
    "svg": '<line x1="1" y1="1" x2="2" y2="2" data-node-from="1" data-node-to="2"></line>'
           '<circle r="1" cx="1" cy="1" data-label-name="head"></circle>'
           '<circle r="1" cx="2" cy="2" data-label-name="hand"></circle>',
    "sublabels": [{"name": "head", "type": "points"}, {"name": "hand", "type": "points"}],
}
CLIENTS, PER_CLIENT = 20, 50




def images(folder: Path) -> list[str]:
    paths = []
    for i in range(FRAMES):
        path = folder / f"frame_{i:02d}.png"
        Image.new("RGB", (WIDTH, HEIGHT), (i * 30 % 256, 90, 160)).save(path)
        paths.append(str(path))
    return paths


class Labels:
    def __init__(self, any_id: int, skeleton_id: int, head_id: int, hand_id: int) -> None:
        self.any_id, self.skeleton_id, self.head_id, self.hand_id = any_id, skeleton_id, head_id, hand_id


def shape(i: int, labels: Labels) -> dict[str, Any]:
    """The i-th shape: every type in turn, inside the frame."""
    frame = i % FRAMES
    x, y = float(10 + i * 7 % (WIDTH - 120)), float(10 + i * 13 % (HEIGHT - 120))
    common: dict[str, Any] = {"frame": frame, "label_id": labels.any_id, "group": 0, "source": "manual",
                              "occluded": False, "z_order": 0, "rotation": 0.0, "attributes": []}
    kind = i % 7
    if kind == 0:
        return {**common, "type": "rectangle", "points": [x, y, x + 50.5, y + 40.25]}
    if kind == 1:
        return {**common, "type": "polygon",
                "points": [x, y, x + 40, y + 5, x + 60, y + 30, x + 35, y + 70, x + 5, y + 50, x - 3, y + 20]}
    if kind == 2:
        return {**common, "type": "polyline", "points": [x, y, x + 30, y + 10, x + 60, y + 45, x + 90, y + 40]}
    if kind == 3:
        return {**common, "type": "points", "points": [x, y, x + 12, y + 8, x + 20, y + 30]}
    if kind == 4:
        return {**common, "type": "ellipse", "points": [x + 30, y + 30, x + 55, y + 10]}
    if kind == 5:  # a 10 x 10 box: 20 background, 60 foreground, 20 background
        left, top = int(x), int(y)
        return {**common, "type": "mask", "points": [20, 60, 20, left, top, left + 9, top + 9]}
    element = {"frame": frame, "group": 0, "source": "manual", "occluded": False, "z_order": 0,
               "rotation": 0.0, "attributes": [], "type": "points", "outside": False}
    return {**common, "type": "skeleton", "label_id": labels.skeleton_id, "points": [], "elements": [
        {**element, "label_id": labels.head_id, "points": [x, y]},
        {**element, "label_id": labels.hand_id, "points": [x + 25, y + 40]},
    ]}


def track(i: int, labels: Labels) -> dict[str, Any]:
    x, y = float(20 + i * 3 % 400), float(20 + i * 5 % 300)
    keyframes = [{"frame": f, "type": "rectangle", "occluded": False, "outside": f == FRAMES - 1, "z_order": 0,
                  "rotation": 0.0, "attributes": [], "points": [x + f * 4, y + f * 2, x + f * 4 + 60, y + f * 2 + 45]}
                 for f in (0, 2, 4, FRAMES - 1)]
    return {"frame": 0, "label_id": labels.any_id, "group": 0, "source": "manual", "attributes": [],
            "shapes": keyframes, "elements": []}


class Api:
    """urllib3 with the headers cvat-sdk sends (a Token, gzip accepted)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url
        self.http = urllib3.PoolManager(maxsize=CLIENTS + 2, timeout=urllib3.Timeout(total=300))
        answer = self.http.request("POST", f"{url}/api/auth/login", body=orjson.dumps(
            {"username": user, "password": password}), headers={"Content-Type": "application/json"})
        assert answer.status == 200, answer.data[:500]
        self.headers = {"Authorization": f"Token {orjson.loads(answer.data)['key']}",
                        "Accept": "application/vnd.cvat+json", "Accept-Encoding": "gzip, deflate"}

    def call(self, method: str, path: str, body: bytes | None = None, ok: int = 200) -> bytes:
        headers = self.headers if body is None else {**self.headers, "Content-Type": "application/json"}
        answer = self.http.request(method, f"{self.url}{path}", body=body, headers=headers)
        if answer.status != ok:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.data[:500]!r}")
        return bytes(answer.data)


@contextlib.contextmanager
def _log_on_error(folder: Path) -> Iterator[None]:
    """The runtime's log goes with the temporary folder: show its end when something fails."""
    try:
        yield
    except Exception:
        for log in folder.glob("up-*.log"):
            print(f"# the end of {log.name}:", *log.read_text(errors="replace").splitlines()[-40:], sep="\n")
        raise


def settled_get(api: Api, path: str, deadline_s: float = 180) -> bytes:
    """The job's annotations once the runtime answers again: a request that ran past the
    function's timeout is abandoned, not stopped, so reads may time out until it ends."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return api.call("GET", path)
        except RuntimeError as exc:
            if time.monotonic() > deadline:
                raise
            print(f"# the count's GET failed, again in 5 s: {str(exc)[:120]}", flush=True)
            time.sleep(5)


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", type=int, default=20_000)
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType

    with tempfile.TemporaryDirectory(prefix="cvat-annotations-") as tmp, \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime, _log_on_error(Path(tmp)):
        client = Client(runtime.api_url, config=Config(status_check_period=0.2))
        client.login((runtime.user, runtime.password))
        with client:
            task = client.tasks.create_from_data(
                {"name": "bench-annotations", "labels": [{"name": "object"}, SKELETON]},
                resources=images(Path(tmp)), resource_type=ResourceType.LOCAL)
            jobs = task.get_jobs()
            assert len(jobs) == 1, f"{len(jobs)} jobs"
            job_id = jobs[0].id
        api = Api(runtime.api_url, runtime.user, runtime.password)
        listed = orjson.loads(api.call("GET", f"/api/labels?task_id={task.id}&page_size=100"))["results"]
        by_name = {lb["name"]: lb for lb in listed}
        subs = {s["name"]: s["id"] for s in by_name["person"]["sublabels"]}
        labels = Labels(by_name["object"]["id"], by_name["person"]["id"], subs["head"], subs["hand"])
        path = f"/api/jobs/{job_id}/annotations"

        body = orjson.dumps({"version": 0, "tags": [], "shapes": [shape(i, labels) for i in range(args.shapes)],
                             "tracks": [track(i, labels) for i in range(args.tracks)]})
        put_times = [timed(lambda: api.call("PUT", path, body)) for _ in range(3)]

        raw = b""

        def get() -> None:
            nonlocal raw
            raw = api.call("GET", path)

        get()  # warm-up
        get_times = [timed(get) for _ in range(args.repeat)]
        answer = orjson.loads(raw)
        assert len(answer["shapes"]) == args.shapes and len(answer["tracks"]) == args.tracks, \
            (len(answer["shapes"]), len(answer["tracks"]))
        floor = min(timed(lambda: orjson.dumps(answer)) for _ in range(5))
        print(f"# job {job_id}: {args.shapes} shapes, {args.tracks} tracks; answer {len(raw) / 2**20:.1f} MiB JSON, "
              f"PUT body {len(body) / 2**20:.1f} MiB; floor (orjson.dumps) {floor * 1000:.1f} ms", flush=True)
        print(f"# GET p50 {statistics.median(get_times) * 1000:.0f} ms; "
              f"PUT {', '.join(f'{t * 1000:.0f}' for t in put_times)} ms", flush=True)
        figure("get_vs_orjson_floor_p50", statistics.median(get_times) / floor, "<=", 3, "x")
        figure("put_vs_orjson_floor_best", min(put_times) / floor, "<=", 6, "x")

        small = [orjson.dumps({"shapes": [shape(args.shapes + n * 10 + k, labels) for k in range(10)]})
                 for n in range(30)]
        patch_times = [timed(functools.partial(api.call, "PATCH", f"{path}?action=create", b)) for b in small]
        figure("patch_create_10_p50", statistics.median(patch_times) * 1000, "<=", 100, " ms")
        before = len(orjson.loads(settled_get(api, path))["shapes"])

        bodies = [orjson.dumps({"shapes": [shape(k * PER_CLIENT + j, labels) for j in range(PER_CLIENT)]})
                  for k in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS)
        failures: list[str] = []
        elapsed: list[float] = []

        def create(b: bytes) -> None:
            barrier.wait()
            started = time.perf_counter()
            try:
                api.call("PATCH", f"{path}?action=create", b)
            except Exception as exc:  # counted: a failed request is lost work
                failures.append(str(exc)[:200])
            elapsed.append(time.perf_counter() - started)

        threads = [threading.Thread(target=create, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = len(orjson.loads(settled_get(api, path))["shapes"])
        print(f"# concurrent: {CLIENTS} x {PER_CLIENT} shapes, slowest request {max(elapsed) * 1000:.0f} ms, "
              f"{len(failures)} failed{': ' + failures[0] if failures else ''}", flush=True)
    figure("concurrent_creates_stored", after - before, "==", CLIENTS * PER_CLIENT)
    figure("concurrent_creates_failed", len(failures), "==", 0)

    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())
