"""`cvat-serverless upload`: send local files to a task through presigned S3 multipart uploads
(``/api/tasks/{id}/data/uploads``), then start processing with CVAT's Upload-Finish and wait for
the background request. The media never passes through the API, so it works for files of any size
on AWS (where a request holds at most 6 MB) as on the embedded runtime (whose presigned URLs point
at the embedded S3 port). Standard library only: urllib and a thread pool.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

MIB = 1024 * 1024
BATCH_FILES = 100
BATCH_BYTES = 2 * 1024 * MIB
"""Files started together: at most this many, or this many bytes (one file bigger goes alone), so
an answer's part URLs stay under the server's 2000."""
PART_TRIES = 4
POLL_S = 1.0


class UploadError(Exception):
    """What went wrong, in words for the user."""


# --- HTTP ------------------------------------------------------------------------------------------


def _check_scheme(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise UploadError(f"{url[:100]}: not an http(s) URL.")


@dataclass
class Server:
    """The API at ``url`` as one user: ``Authorization`` on every request."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 60

    def __post_init__(self) -> None:
        _check_scheme(self.url)

    def call(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             ok: Sequence[int] = (200, 201, 202, 204)) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method,  # noqa: S310
                                         headers={**self.headers, "Content-Type": "application/json",
                                                  "Accept": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - the user's server
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except urllib.error.URLError as error:
            raise UploadError(f"{method} {self.url}{path}: {error.reason}") from None
        if status not in ok:
            raise UploadError(f"{method} {path}: {status} {_detail(raw)}")
        return json.loads(raw) if raw.strip() else None

    def login(self, username: str, password: str) -> None:
        key = self.call("POST", "/api/auth/login", {"username": username, "password": password})["key"]
        self.headers["Authorization"] = f"Token {key}"

    def logout(self) -> None:
        """End the session ``login`` began (best effort: the upload's outcome is what counts)."""
        if self.headers.get("Authorization", "").startswith("Token "):
            with contextlib.suppress(UploadError):
                self.call("POST", "/api/auth/logout", {}, ok=(200, 204, 401))


def _detail(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500]
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    if isinstance(body, list):
        return " ".join(map(str, body))
    return json.dumps(body)


# --- progress --------------------------------------------------------------------------------------


class Progress:
    """One status line on stderr: rewritten in place on a terminal, a line per tenth elsewhere."""

    def __init__(self, total: int, files: int, out: TextIO, *, every: float = 0.2) -> None:
        self.total, self.files, self.out, self.every = total, files, out, every
        self.done = self.files_done = 0
        self.started = self._shown = time.monotonic()
        self._tenth = -1
        self._tty = out.isatty()
        self._lock = threading.Lock()

    def add(self, n: int, *, files: int = 0) -> None:
        with self._lock:
            self.done += n
            self.files_done += files
            now = time.monotonic()
            tenth = self.done * 10 // max(self.total, 1)
            if (self._tty and now - self._shown >= self.every) or (not self._tty and tenth != self._tenth):
                self._shown, self._tenth = now, tenth
                self._print()

    def _print(self, end: str = "") -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        line = (f"Uploading: {self.done / MIB:.1f}/{self.total / MIB:.1f} MiB "
                f"({self.done * 100 // max(self.total, 1)}%), {self.files_done}/{self.files} files, "
                f"{self.done / MIB / elapsed:.1f} MiB/s")
        self.out.write(("\r" + line + end) if self._tty else line + "\n")
        self.out.flush()

    def finish(self) -> None:
        with self._lock:
            self._print("\n")


# --- the upload ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalFile:
    path: Path
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def local_files(paths: Sequence[str]) -> list[LocalFile]:
    """The files to send: each path, or the files of a directory (sorted; hidden ones left out).
    Files are staged by their names, so two with one name are refused here."""
    found: list[LocalFile] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            found.extend(LocalFile(p, p.stat().st_size) for p in inside)
        elif path.is_file():
            found.append(LocalFile(path, path.stat().st_size))
        else:
            raise UploadError(f"{given}: no such file or directory.")
    if not found:
        raise UploadError("No files to upload.")
    names: dict[str, Path] = {}
    for f in found:
        if f.name in names:
            raise UploadError(f"{names[f.name]} and {f.path} have the same name; a task's files need different names.")
        if f.size == 0:
            raise UploadError(f"{f.path} is empty.")
        names[f.name] = f.path
    return found


def batches(files: Sequence[LocalFile]) -> Iterator[list[LocalFile]]:
    batch: list[LocalFile] = []
    size = 0
    for f in files:
        if batch and (len(batch) >= BATCH_FILES or size + f.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch


class _Slice:
    """``length`` bytes of a file from ``offset``, read as urllib sends a body (in blocks)."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._file: BinaryIO = path.open("rb")
        self._file.seek(offset)
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._file.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def put_part(url: str, path: Path, offset: int, length: int, *, timeout: float = 600) -> str:
    """PUT one part to its presigned URL; the ETag S3 answers. Retried a few times."""
    _check_scheme(url)
    for attempt in range(1, PART_TRIES + 1):
        body = _Slice(path, offset, length)
        # an explicit type: urllib would send form-urlencoded, a body some S3 front ends eat
        request = urllib.request.Request(url, data=body, method="PUT",  # noqa: S310 - http(s), checked
                                         headers={"Content-Type": "application/octet-stream",
                                                  "Content-Length": str(length)})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - a presigned URL
                return str(answer.headers["ETag"]).strip('"')
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == PART_TRIES:
                raise UploadError(f"{path.name}: S3 refused a part: {error.code} {error.read()[:300]!r}") from None
        except (urllib.error.URLError, OSError) as error:
            if attempt == PART_TRIES:
                raise UploadError(f"{path.name}: a part could not be sent: {error}") from None
        finally:
            body.close()
        time.sleep(attempt)  # back off before the next try of this part
    raise AssertionError("unreachable")


def upload_files(server: Server, task_id: int, files: Sequence[LocalFile], *, jobs: int, progress: Progress,
                 put: Callable[..., str] = put_part) -> list[str]:
    """Stage ``files`` in the task through presigned multipart uploads; the staged names."""
    staged: list[str] = []
    base = f"/api/tasks/{task_id}/data/uploads"
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for batch in batches(files):
            started = server.call("POST", base, {"files": [{"name": f.name, "size": f.size} for f in batch]})["files"]
            results: list[tuple[dict[str, Any], int, Future[str]]] = []
            try:
                completed = []
                for f, planned in zip(batch, started, strict=True):
                    size = int(planned["part_size"])
                    for part in planned["parts"]:
                        number, length = int(part["part_number"]), int(part["size"])

                        def send(url: str = part["url"], f: LocalFile = f, offset: int = (number - 1) * size,
                                 length: int = length) -> str:
                            etag = put(url, f.path, offset, length)
                            progress.add(length)
                            return etag

                        results.append((planned, number, pool.submit(send)))
                by_upload: dict[str, list[dict[str, Any]]] = {}
                for planned, number, future in results:
                    by_upload.setdefault(planned["upload_id"], []).append(
                        {"part_number": number, "etag": future.result()})
                for planned in started:
                    completed.append({"name": planned["name"], "upload_id": planned["upload_id"],
                                      "parts": sorted(by_upload[planned["upload_id"]], key=lambda p: p["part_number"])})
                staged.extend(server.call("POST", f"{base}/complete", {"files": completed})["files"])
                progress.add(0, files=len(batch))
            except BaseException:
                for future in (r[2] for r in results):
                    future.cancel()
                server.call("POST", f"{base}/abort", {"files": [
                    {"name": p["name"], "upload_id": p["upload_id"]} for p in started]}, ok=(200, 204, 400, 404))
                raise
    return staged


def wait_for_request(server: Server, rq_id: str, *, timeout: float, out: TextIO) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    shown = ""
    while True:
        request = server.call("GET", f"/api/requests/{rq_id}")
        status = request.get("status")
        if status in ("finished", "failed"):
            return dict(request)
        line = f"Processing: {request.get('message') or status}"
        if line != shown:
            out.write(line + "\n")
            out.flush()
            shown = line
        if time.monotonic() >= deadline:
            raise UploadError(f"The processing ({rq_id}) did not end in {timeout:.0f} s; "
                              f"see GET /api/requests/{rq_id}.")
        time.sleep(POLL_S)  # the poll interval of a deadline-bounded wait


# --- the command -----------------------------------------------------------------------------------

DATA_ARGS = ("image_quality", "chunk_size", "start_frame", "stop_frame", "sorting_method")


def data_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {k: getattr(args, k) for k in DATA_ARGS if getattr(args, k) is not None}
    if args.frame_step and args.frame_step > 1:
        params["frame_filter"] = f"step={args.frame_step}"
    if args.use_zip_chunks:
        params["use_zip_chunks"] = True
    return params


def _server_url(args: argparse.Namespace) -> str:
    if args.server:
        return str(args.server)
    if os.environ.get("CVAT_API_URL"):
        return os.environ["CVAT_API_URL"]
    from .targets import resolve_target

    target = resolve_target(args)
    if target is None:
        raise UploadError("No server: pass --server URL, set CVAT_API_URL, or start `cvat-serverless up`.")
    return target.api_url


def _sign_in(server: Server, args: argparse.Namespace) -> None:
    token = args.token or os.environ.get("CVAT_ACCESS_TOKEN")
    if token:
        server.headers["Authorization"] = f"Bearer {token}"
        return
    user = args.user or os.environ.get("CVAT_USER")
    if not user:
        raise UploadError("Who uploads? Pass --user (the password from CVAT_PASSWORD or a prompt) or --token.")
    password = os.environ.get("CVAT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise UploadError("No password: set CVAT_PASSWORD, run in a terminal, or pass --token.")
        password = getpass.getpass(f"Password for {user}: ")
    server.login(user, password)


def _task_id(server: Server, args: argparse.Namespace, paths: list[str]) -> tuple[int, list[str]]:
    if args.name is None:
        if not paths or not paths[0].isdigit():
            raise UploadError("Give a TASK_ID before the files, or --name to create a task.")
        return int(paths[0]), paths[1:]
    body: dict[str, Any] = {"name": args.name}
    if args.project is not None:
        body["project_id"] = args.project
    elif args.labels:
        body["labels"] = [{"name": n.strip()} for n in args.labels.split(",") if n.strip()]
    if args.segment_size:
        body["segment_size"] = args.segment_size
    created = server.call("POST", "/api/tasks", body)
    return int(created["id"]), paths


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    server = Server(_server_url(args))
    if args.org:
        server.headers["X-Organization"] = args.org
    _sign_in(server, args)
    try:
        task_id, paths = _task_id(server, args, list(args.paths))
        files = local_files(paths)
        if args.name is not None:
            err.write(f"Task {task_id} created.\n")
        server.call("POST", f"/api/tasks/{task_id}/data/", headers={"Upload-Start": ""})
        progress = Progress(sum(f.size for f in files), len(files), err)
        upload_files(server, task_id, files, jobs=args.jobs, progress=progress)
        progress.finish()
        rq_id = server.call("POST", f"/api/tasks/{task_id}/data/", data_params(args),
                            headers={"Upload-Finish": ""})["rq_id"]
        if args.no_wait:
            out.write(f"Task {task_id}: processing started (request {rq_id}).\n")
            return 0
        request = wait_for_request(server, rq_id, timeout=args.timeout, out=err)
        if request["status"] == "failed":
            err.write(f"Task {task_id}: the processing failed: {request.get('message')}\n")
            return 1
        task = server.call("GET", f"/api/tasks/{task_id}")
        out.write(f"Task {task_id} ({task['name']}): {task['size']} frames, {task['jobs']['count']} jobs, "
                  f"{len(files)} files uploaded.\n")
        return 0
    finally:
        server.logout()


def add_parser(sub: Any, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = sub.add_parser(
        "upload", help="send local files to a task through presigned S3 multipart uploads and process them",
        usage="cvat-serverless upload [options] TASK_ID FILES...\n"
              "       cvat-serverless upload [options] --name NAME [--project ID | --labels A,B] FILES...",
        description="Upload files (or the files of directories) to task TASK_ID, or to a new task with --name, "
                    "straight to S3 in parallel parts, then process them and wait for the result.")
    parser.add_argument("paths", nargs="+", metavar="TASK_ID FILES",
                        help="the task's id (unless --name), then files or directories")
    parser.add_argument("--server", help="the API's URL (default: CVAT_API_URL, else the running runtime's)")
    parser.add_argument("--user", help="log in as this user; the password comes from CVAT_PASSWORD or a prompt")
    parser.add_argument("--token", help="a personal access token instead (or CVAT_ACCESS_TOKEN)")
    parser.add_argument("--org", help="the organization (slug) to act in")
    parser.add_argument("--name", help="create a task with this name first")
    parser.add_argument("--project", type=int, help="with --name: the project (its labels)")
    parser.add_argument("--labels", help="with --name and no --project: comma-separated label names")
    parser.add_argument("--segment-size", type=int, help="with --name: frames per job")
    parser.add_argument("--image-quality", type=int, default=70, help="(default: %(default)s)")
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--start-frame", type=int)
    parser.add_argument("--stop-frame", type=int)
    parser.add_argument("--frame-step", type=int)
    parser.add_argument("--sorting-method", choices=["lexicographical", "natural", "predefined", "random"])
    parser.add_argument("--use-zip-chunks", action="store_true")
    parser.add_argument("--jobs", type=int, default=4, help="parts sent at once (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the processing")
    parser.add_argument("--no-wait", action="store_true", help="start the processing and return")
    add_target_args(parser)
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    try:
        return run(args)
    except UploadError as exc:
        print(f"\ncvat-serverless upload: {exc}", file=sys.stderr)
        return 1
