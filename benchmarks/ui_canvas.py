"""The annotation canvas under pan and zoom (issue 14): our Konva engine against CVAT's SVG approach.

Run: .venv/bin/python benchmarks/ui_canvas.py [--sizes 1000,5000,20000] [--seconds 5] [--quick] [--dist DIR]

Needs frontend/dist built (`cd frontend && npm run build`, or `make frontend`): its second entry,
dist/bench/canvas.html, is the benchmark page. Serves frontend/dist with Python's http.server on
127.0.0.1 (an ephemeral port) and drives Debian's Chromium (/usr/bin/chromium, through Playwright;
never a downloaded browser) in a 1600x900 viewport. For each N and each mode the page builds a
1920x1080 generated frame with N seeded random 20-point polygons, drawn either by the engine
(mode=konva: frontend/src/annotation/canvas/engine.ts) or as N SVG <polygon> nodes under one <g>
whose transform the gestures change (mode=svg: CVAT's canvas, the baseline). Then, for --seconds,
Playwright alternates bursts of wheel zooms (in, then out) at the pointer with mouse drags, while the
page records requestAnimationFrame deltas. Prints p50/p95 frame times per N and mode.

Targets at N = 1,000: konva p95 <= 16.7 ms (plus 0.3 ms of rAF timestamp jitter: see JITTER_MS),
and konva p95 / svg p95 <= 0.5 (both measured in the same run, so the ratio holds on a
software-rasterising machine: Chromium runs with --disable-gpu). The p95 hides the few long frames
of the crisp re-render ~100 ms after a gesture (its cost grows with the shapes on screen): the
per-page line prints the frames over 25 ms and the longest.
N = 5,000 and 20,000 are printed without a target. Exits 1 on a missed target. Timings on a shared,
loaded machine are noisy: rerun before trusting a miss.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import figure, verdict

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "frontend" / "dist"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as tests/e2e/ui/conftest.py launches it
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1600, "height": 900}
TARGET_P95_MS = 16.7
# rAF timestamps in headless Chromium scatter 16.6..16.8 ms around the 60 Hz interval even when no
# frame is missed (a missed frame shows as ~33 ms), so the p95 target allows this much jitter.
JITTER_MS = 0.3
TARGET_RATIO = 0.5


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def gestures(page: Any, seconds: float) -> int:
    """Alternating bursts of wheel zooms (in, then out, about moving points) and drags; returns gestures done."""
    done = 0
    direction = -1
    spots = [(800, 450), (500, 300), (1100, 600), (700, 650), (950, 250)]
    ended = time.monotonic() + seconds
    while time.monotonic() < ended:
        x, y = spots[done % len(spots)]
        page.mouse.move(x, y)
        for _ in range(6):
            page.mouse.wheel(0, 100 * direction)
            page.wait_for_timeout(16)
        direction = -direction
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 180, y + 90, steps=12)
        page.mouse.move(x - 60, y - 40, steps=12)
        page.mouse.up()
        done += 1
    return done


def measure(browser: Any, base: str, n: int, mode: str, seconds: float) -> dict[str, float]:
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.perf_counter()
    page.goto(f"{base}/bench/canvas.html?n={n}&mode={mode}&seed=1")
    page.wait_for_function("() => window.__bench !== undefined", timeout=120_000)
    page.evaluate("() => window.__bench.ready")
    load_s = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{mode} N={n}: page error: {errors[0]}")
    page.wait_for_timeout(300)
    page.evaluate("() => window.__bench.start()")
    count = gestures(page, seconds)
    deltas: list[float] = page.evaluate("() => window.__bench.stop()")
    page.close()
    deltas = deltas[2:]  # the first frames after start() are not the gesture's
    dropped = sum(1 for d in deltas if d > 1.5 * TARGET_P95_MS)
    return {"p50": percentile(deltas, 0.5), "p95": percentile(deltas, 0.95), "frames": len(deltas), "dropped": dropped,
            "max": max(deltas, default=float("nan")), "gestures": count, "load_s": load_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,20000", help="comma-separated polygon counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="gesture time per page")
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only, 3 s per page")
    parser.add_argument("--dist", type=Path, default=DIST, help="the built UI to serve (default frontend/dist)")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    seconds = 3.0 if args.quick else args.seconds

    if not (args.dist / "bench" / "canvas.html").is_file():
        print(f"{args.dist}/bench/canvas.html is missing: build the UI first (`cd frontend && npm run build`)",
              file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: run `make setup-browser`", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    server, base = serve(args.dist)
    results: dict[tuple[int, str], dict[str, float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            try:
                for n in sizes:
                    for mode in ("konva", "svg"):
                        r = measure(browser, base, n, mode, seconds)
                        results[(n, mode)] = r
                        print(f"# N={n} {mode}: {r['frames']:.0f} frames ({r['dropped']:.0f} over 25 ms, "
                              f"longest {r['max']:.1f} ms), {r['gestures']:.0f} gesture rounds, "
                              f"page ready in {r['load_s']:.1f} s", flush=True)
            finally:
                browser.close()
    finally:
        server.shutdown()

    for n in sizes:
        konva, svg = results[(n, "konva")], results[(n, "svg")]
        figure(f"N={n} konva frame p50", konva["p50"], unit=" ms")
        figure(f"N={n} svg frame p50", svg["p50"], unit=" ms")
        if n == 1000:
            figure(f"N={n} konva frame p95 (16.7 ms + {JITTER_MS} ms rAF jitter)", konva["p95"], "<=",
                   TARGET_P95_MS + JITTER_MS, " ms")
            figure(f"N={n} svg frame p95", svg["p95"], unit=" ms")
            figure(f"N={n} konva p95 / svg p95", konva["p95"] / svg["p95"], "<=", TARGET_RATIO)
        else:
            figure(f"N={n} konva frame p95", konva["p95"], unit=" ms")
            figure(f"N={n} svg frame p95", svg["p95"], unit=" ms")
            figure(f"N={n} konva p95 / svg p95", konva["p95"] / svg["p95"])
    if 1000 in sizes:
        konva, svg = results[(1000, "konva")], results[(1000, "svg")]
        ok = konva["p95"] <= TARGET_P95_MS + JITTER_MS and konva["p95"] / svg["p95"] <= TARGET_RATIO
        print(f"N=1000: {'PASS' if ok else 'MISS'}")
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
