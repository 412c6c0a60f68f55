"""The web UI's lists against the API alone (issue 13): page 1 of /tasks with 1,000 tasks, first
render in a browser versus the same page's API request.

Run: .venv/bin/python benchmarks/ui_lists.py [--items 1000] [--reps 5] [--api-requests 20] [--resource tasks]

Starts `cvat-serverless up --no-persist` on free ports (serving frontend/dist, `make frontend`),
creates an admin and --items tasks (no data: POST /api/tasks from 16 threads), signs in through
the API (the session cookie the UI's login sets) and hands the cookies to Debian's Chromium
(/usr/bin/chromium, driven by Playwright; never a downloaded browser). Then, --reps times:

  ui   a fresh tab opens /tasks; from navigation start to the moment the newest task's link (its
       row of page 1) is in the page (a MutationObserver's performance.now()), waited for as
       visible. One unmeasured visit first (the browser's cache, as a returning user has it; its
       time is printed as context).
  api  GET /api/tasks?page=1&page_size=10&sort=-id, the request that page makes, from Python
       with the same session cookie on one keep-alive connection: the median of --api-requests.

  nav  in an app already open on /requests, a click on the "Tasks" link of the menu, to the same
       row: what the UI adds to the list's request once its code is loaded.

Prints the p50 of each and of the per-repetition ratios ui / api and nav / api (target <= 2: the
UI adds at most one API request's worth of time to the data; the cold figure also pays for
loading and starting the app's code, about 100 ms of this machine's CPU), and the UI bundle's
app-shell gzip size (frontend/scripts/size.mjs, budget 250 KiB). Exits non-zero on a missed target. The embedded
runtime is moto on this machine, not AWS: on AWS the API request costs more and the ratio is
smaller.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import figure, verdict
from _runtime import ROOT, EmbeddedRuntimeProcess, log_on_error

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as tests/e2e/ui/conftest.py launches it
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PAGE_SIZE = 10  # useListQuery's default in frontend/src/components/ListControls.tsx
SHELL_BUDGET_KIB = 250
# Records when the first link named NAME is in the document, in ms since navigation start.
FIRST_ROW_SCRIPT = """
(() => {
  const name = %s;
  const seen = () => [...document.querySelectorAll("a")].some((a) => a.textContent.trim() === name);
  const observer = new MutationObserver(() => {
    if (window.__firstRow === undefined && seen()) { window.__firstRow = performance.now(); observer.disconnect(); }
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
  // main-thread tasks over 50 ms before the row: parse, run and render, not waiting
  window.__longTasks = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (window.__firstRow === undefined) window.__longTasks += e.duration;
  }).observe({ type: "longtask", buffered: true });
})();
"""


class Api:
    """One keep-alive connection to the runtime's API, JSON in and out."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
        self.headers = {"Accept": "application/vnd.cvat+json", **(headers or {})}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any, http.client.HTTPMessage]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        self.connection.request(method, path, body=data, headers=headers)
        answer = self.connection.getresponse()
        payload = answer.read()
        return answer.status, json.loads(payload) if payload else None, answer.headers

    def close(self) -> None:
        self.connection.close()


def create_items(base: str, token: str, resource: str, count: int) -> float:
    def create(numbers: range) -> None:
        api = Api(base, {"Authorization": f"Token {token}"})
        for i in numbers:
            status, body, _ = api.call("POST", f"/api/{resource}",
                                       {"name": f"bench {resource[:-1]} {i:04d}", "labels": [{"name": "car"}]})
            assert status == 201, body
        api.close()

    started = time.perf_counter()
    threads = 16
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, [range(t, count, threads) for t in range(threads)]))
    return time.perf_counter() - started


def sign_in(base: str, user: str, password: str) -> tuple[str, dict[str, str]]:
    """The login's token and the cookies it sets (sessionid, csrftoken), as the UI's sign-in gets them."""
    api = Api(base)
    status, body, headers = api.call("POST", "/api/auth/login", {"username": user, "password": password})
    api.close()
    assert status == 200, body
    jar: SimpleCookie = SimpleCookie()
    for raw in headers.get_all("Set-Cookie") or []:
        jar.load(raw)
    cookies = {name: morsel.value for name, morsel in jar.items()}
    assert "sessionid" in cookies, cookies
    return str(body["key"]), cookies


def api_median_ms(base: str, cookies: dict[str, str], path: str, requests: int) -> float:
    api = Api(base, {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    api.call("GET", path)  # the connection is open, as the browser's is
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        status, body, _ = api.call("GET", path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200 and len(body["results"]) == PAGE_SIZE, body
    api.close()
    return statistics.median(times)


def ui_first_row_ms(context: Any, url: str, name: str, *, trace: bool = False
                    ) -> tuple[float, tuple[float, float] | None]:
    """ms from navigation start to the row's link in the page; and when the page's own list
    request started and ended (ms since navigation start)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(FIRST_ROW_SCRIPT % json.dumps(name))
    page.goto(url, wait_until="commit")
    page.get_by_role("link", name=name, exact=True).first.wait_for(state="visible", timeout=60_000)
    measured = page.evaluate("""() => {
      const list = performance.getEntriesByType("resource").find((e) => /\\/api\\/(tasks|projects)\\?/.test(e.name));
      const timeline = performance.getEntriesByType("resource").map(
        (e) => `${e.name.replace(location.origin, "")} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)}`);
      timeline.push(`main-thread long tasks before the row: ${window.__longTasks.toFixed(0)} ms`);
      return [window.__firstRow ?? performance.now(), list ? [list.startTime, list.responseEnd] : null, timeline];
    }""")
    page.close()
    if errors:
        raise RuntimeError(f"uncaught errors in the page: {errors}")
    if trace:  # every request of the visit: path, start (ms since navigation start) + duration
        print("#   " + "\n#   ".join(measured[2]), flush=True)
    return float(measured[0]), (tuple(measured[1]) if measured[1] is not None else None)


def ui_navigation_ms(context: Any, resource: str, name: str, *, trace: bool = False) -> float:
    """ms from a click on the menu's link to the list (the app open on /requests) to the row."""
    page = context.new_page()
    page.goto("/requests")
    page.get_by_role("heading", name="Requests").wait_for()
    page.evaluate(FIRST_ROW_SCRIPT % json.dumps(name))
    page.evaluate("""(resource) => {
      window.__firstRow = undefined;
      window.__clickAt = performance.now();
      document.querySelector(`header nav a[href="/${resource}"]`).click();
    }""", resource)
    page.get_by_role("link", name=name, exact=True).first.wait_for(state="visible", timeout=60_000)
    took, request = page.evaluate("""() => {
      const list = performance.getEntriesByType("resource").filter((e) => e.startTime >= window.__clickAt)
        .find((e) => /\\/api\\/(tasks|projects)\\?/.test(e.name));
      return [window.__firstRow - window.__clickAt,
              list ? [list.startTime - window.__clickAt, list.responseEnd - window.__clickAt] : null];
    }""")
    page.close()
    if trace and request is not None:
        print(f"#   after the click: the list request from {request[0]:.0f} to {request[1]:.0f} ms, "
              f"the row at {took:.0f} ms", flush=True)
    return float(took)


def shell_size_kib() -> float | None:
    if not (ROOT / "frontend" / "dist" / "index.html").is_file() or shutil.which("node") is None:
        return None
    out = subprocess.run(["node", "frontend/scripts/size.mjs"], cwd=ROOT, capture_output=True, text=True, check=False)
    found = re.search(r"app shell: ([\d.]+) KiB gzip", out.stdout)
    return float(found.group(1)) if found else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000, help="tasks (or projects) to create")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--api-requests", type=int, default=20, help="API requests per repetition (median)")
    parser.add_argument("--resource", choices=["tasks", "projects"], default="tasks",
                        help="the list page: /tasks (issue 13's target) or /projects")
    parser.add_argument("--trace", action="store_true", help="print each visit's requests")
    args = parser.parse_args()
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        raise SystemExit("frontend/dist is not built: run `make frontend`")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: run `make setup-browser`")
    from playwright.sync_api import sync_playwright

    resource = args.resource
    list_path = f"/api/{resource}?page=1&page_size={PAGE_SIZE}&sort=-id"
    with tempfile.TemporaryDirectory(prefix="cvat-ui-bench-") as tmp, log_on_error(Path(tmp)), \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime:
        base = runtime.api_url
        token, cookies = sign_in(base, runtime.user, runtime.password)
        seconds = create_items(base, token, resource, args.items)
        print(f"# created {args.items} {resource} in {seconds:.1f} s (16 clients)", flush=True)
        status, newest, _ = Api(base, {"Authorization": f"Token {token}"}).call("GET", list_path)
        assert status == 200 and newest["count"] == args.items, newest
        name = newest["results"][0]["name"]

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 720})
            context.add_cookies([{"name": k, "value": v, "url": base} for k, v in cookies.items()])
            cold, _ = ui_first_row_ms(context, f"/{resource}", name)
            print(f"# first visit (empty browser cache): {cold:.0f} ms to the first {resource[:-1]} row", flush=True)
            ui, nav, api, ratios, nav_ratios = [], [], [], [], []
            for rep in range(1, args.reps + 1):
                ui_ms, in_page_ms = ui_first_row_ms(context, f"/{resource}", name, trace=args.trace)
                nav_ms = ui_navigation_ms(context, resource, name, trace=args.trace)
                api_ms = api_median_ms(base, cookies, list_path, args.api_requests)
                ui.append(ui_ms)
                nav.append(nav_ms)
                api.append(api_ms)
                ratios.append(ui_ms / api_ms)
                nav_ratios.append(nav_ms / api_ms)
                seen = (f", the page's list request from {in_page_ms[0]:.0f} to {in_page_ms[1]:.0f} ms"
                        if in_page_ms is not None else "")
                print(f"# rep {rep}: ui {ui_ms:.1f} ms, nav {nav_ms:.1f} ms, api {api_ms:.1f} ms (median of "
                      f"{args.api_requests}), ratios {ui_ms / api_ms:.2f} / {nav_ms / api_ms:.2f}{seen}", flush=True)
            browser.close()

    print(f"# /{resource} page 1 of {args.items}; api: GET {list_path}; p50 of {args.reps} repetitions")
    figure(f"ui /{resource} first row p50", statistics.median(ui), unit=" ms")
    figure(f"ui menu -> /{resource} first row p50", statistics.median(nav), unit=" ms")
    figure(f"api GET /api/{resource} page 1 p50", statistics.median(api), unit=" ms")
    figure("ui (in-app navigation) / api ratio p50", statistics.median(nav_ratios), "<=", 2)
    figure("ui (cold page load) / api ratio p50", statistics.median(ratios), "<=", 2)
    shell = shell_size_kib()
    if shell is None:
        print("# app shell size: skipped (no frontend/dist or no node)")
    else:
        figure("ui app shell gzip", shell, "<=", SHELL_BUDGET_KIB, " KiB")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())
