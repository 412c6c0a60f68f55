"""`cvat-serverless import-annotations` and `cvat-serverless restore`: send an annotation file or a
backup of any size straight to S3 through a presigned multipart upload (``.../annotations/uploads``,
``/api/{tasks,projects}/backup/uploads``), finish with CVAT's Upload-Finish (``filename`` = the
upload id) and wait for the background request. On AWS a request holds at most 6 MB, so cvat-sdk's
TUS upload (10 MiB parts) cannot bring such a file; this works there as on the embedded runtime.
Authentication, part PUTs, progress and the wait are `cvat-serverless upload`'s (admin.upload).
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from .upload import (
    LocalFile,
    Progress,
    Server,
    UploadError,
    _server_url,
    _sign_in,
    local_files,
    put_part,
    wait_for_request,
)


def upload_file(server: Server, base: str, f: LocalFile, *, jobs: int, progress: Progress,
                put: Callable[..., str] = put_part) -> str:
    """Send ``f`` through a direct upload started at ``base`` (``.../uploads``); its upload id,
    for Upload-Finish. An upload that fails is aborted."""
    started = server.call("POST", base, {"filename": f.name, "size": f.size})
    upload_id, size = str(started["upload_id"]), int(started["part_size"])
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            def send(part: dict[str, Any]) -> dict[str, Any]:
                number, length = int(part["part_number"]), int(part["size"])
                etag = put(part["url"], f.path, (number - 1) * size, length)
                progress.add(length)
                return {"part_number": number, "etag": etag}

            parts = list(pool.map(send, started["parts"]))
        server.call("POST", f"{base}/complete", {"upload_id": upload_id, "parts": parts})
        progress.add(0, files=1)
    except BaseException:
        server.call("POST", f"{base}/abort", {"upload_id": upload_id}, ok=(200, 204, 400, 404))
        raise
    return upload_id


def _one_file(path: str) -> LocalFile:
    if Path(path).is_dir():
        raise UploadError(f"{path} is a directory; give one file.")
    [f] = local_files([path])  # it exists and is not empty
    return f


def _send_and_finish(server: Server, args: argparse.Namespace, url: str, query: dict[str, str],
                     err: TextIO) -> dict[str, Any]:
    """Upload-Start, the direct upload, Upload-Finish, the wait: the ended request."""
    f = _one_file(args.file)
    server.call("POST", f"{url}/?{urllib.parse.urlencode({**query, 'filename': f.name})}",
                headers={"Upload-Start": ""})
    progress = Progress(f.size, 1, err)
    upload_id = upload_file(server, f"{url}/uploads", f, jobs=args.jobs, progress=progress)
    progress.finish()
    rq_id = server.call("POST", f"{url}/?{urllib.parse.urlencode({**query, 'filename': upload_id})}",
                        headers={"Upload-Finish": ""})["rq_id"]
    return wait_for_request(server, str(rq_id), timeout=args.timeout, out=err)


def _session(args: argparse.Namespace, work: Callable[[Server], int]) -> int:
    server = Server(_server_url(args))
    if args.org:
        server.headers["X-Organization"] = args.org
    _sign_in(server, args)
    try:
        return work(server)
    finally:
        server.logout()


def run_import(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    target = "job" if args.job else "task"

    def work(server: Server) -> int:
        url = f"/api/{target}s/{args.id}/annotations"
        query = {"format": args.format, "import_mode": args.mode}
        request = _send_and_finish(server, args, url, query, err)
        if request["status"] == "failed":
            err.write(f"{target.capitalize()} {args.id}: the import failed: {request.get('message')}\n")
            return 1
        out.write(f"{target.capitalize()} {args.id}: {Path(args.file).name} imported ({args.format}, {args.mode}).\n")
        return 0

    return _session(args, work)


def run_restore(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    target = "project" if args.project else "task"

    def work(server: Server) -> int:
        request = _send_and_finish(server, args, f"/api/{target}s/backup", {}, err)
        if request["status"] == "failed":
            err.write(f"{Path(args.file).name}: the restore failed: {request.get('message')}\n")
            return 1
        restored = server.call("GET", f"/api/{target}s/{request['result_id']}")
        out.write(f"{target.capitalize()} {restored['id']} ({restored['name']}) restored from "
                  f"{Path(args.file).name}.\n")
        return 0

    return _session(args, work)


def _add_common(parser: argparse.ArgumentParser, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    parser.add_argument("--server", help="the API's URL (default: CVAT_API_URL, else the running runtime's)")
    parser.add_argument("--user", help="log in as this user; the password comes from CVAT_PASSWORD or a prompt")
    parser.add_argument("--token", help="a personal access token instead (or CVAT_ACCESS_TOKEN)")
    parser.add_argument("--org", help="the organization (slug) to act in")
    parser.add_argument("--jobs", type=int, default=4, help="parts sent at once (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the request")
    add_target_args(parser)


def add_parsers(sub: Any, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    imp = sub.add_parser(
        "import-annotations", help="import an annotation file of any size into a task or a job (direct S3 upload)",
        description="Upload FILE straight to S3 in parallel parts, import it into task TASK_ID (or job, with "
                    "--job) and wait for the result.")
    imp.add_argument("id", type=int, metavar="TASK_ID", help="the task's id (the job's, with --job)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--format", required=True, help='an import format, e.g. "COCO 1.0" or "CVAT 1.1"')
    imp.add_argument("--job", action="store_true", help="TASK_ID is a job's id")
    imp.add_argument("--mode", choices=["append", "replace"], default="replace",
                     help="replace what the task has (the default) or add to it")
    _add_common(imp, add_target_args)
    imp.set_defaults(func=lambda args: command(run_import, "import-annotations", args))

    restore = sub.add_parser(
        "restore", help="restore a task (or project) backup of any size (direct S3 upload)",
        description="Upload the backup FILE straight to S3 in parallel parts, restore it as a new task (or "
                    "project, with --project) and print its id.")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--project", action="store_true", help="FILE is a project backup")
    _add_common(restore, add_target_args)
    restore.set_defaults(func=lambda args: command(run_restore, "restore", args))


def command(run: Callable[[argparse.Namespace], int], name: str, args: argparse.Namespace) -> int:
    try:
        return run(args)
    except UploadError as exc:
        print(f"\ncvat-serverless {name}: {exc}", file=sys.stderr)
        return 1
