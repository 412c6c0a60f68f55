"""The embedded runtime holding real media: S3 objects' bytes are files in the data directory.

Run: .venv/bin/python benchmarks/embedded_s3.py [--gb 10] [--object-mib 512] [--part-mib 16] [--dir DIR]

`cvat-serverless up` on free ports with a fresh data directory (a temporary one under --dir, removed
afterwards). --gb GiB of incompressible media go in through boto3 as multipart uploads (objects of
--object-mib MiB in parts of --part-mib MiB, --threads parts in flight; each part a random block
turned by a counter, so no two parts are alike). Then one line per figure,
``<figure>: <value> (target <op> <target>)``:

- runtime_peak_rss_mb: the runtime's peak resident memory over the ingest (target <= 1024 MB);
- snapshot_write_s: the first S3 snapshot written after the ingest, as snapshot.json's last_save
  says (target <= 1 s);
- restart_s: the runtime stopped with Ctrl-C (it saves) and started again on that data directory,
  until its API answers (target <= 10 s);
- read_back_mismatches: after the restart, objects read whole and byte ranges of every object
  (within a part, across parts, the end) compared with what was written (target <= 0).

Lines starting with ``#`` are context. Exit status 1 on a miss, 2 when --dir has too little space.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import operator
import os
import random
import shutil
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess, peak_rss_mb

MiB, GiB = 1 << 20, 1 << 30
BUCKET = "bench-media"




class Media:
    """``objects`` objects of ``parts`` parts (the last object may have fewer) of ``part_size``
    bytes, any byte of which can be made again for the read-back: part (o, p) is one random block
    turned by an offset of its own, its first 16 bytes replaced by (o, p)."""

    def __init__(self, total: int, object_size: int, part_size: int) -> None:
        self.part_size = part_size
        self.parts_per_object = max(1, object_size // part_size)
        total_parts = max(1, total // part_size)
        self.parts = [min(self.parts_per_object, total_parts - start)
                      for start in range(0, total_parts, self.parts_per_object)]
        self._block = os.urandom(part_size)

    def key(self, obj: int) -> str:
        return f"media/{obj:05d}.bin"

    def size(self, obj: int) -> int:
        return self.parts[obj] * self.part_size

    @property
    def total(self) -> int:
        return sum(self.parts) * self.part_size

    def part(self, obj: int, number: int) -> bytes:
        offset = (obj * 7919 + number * 104_729) % self.part_size
        turned = self._block[offset:] + self._block[:offset]
        return struct.pack(">QQ", obj, number) + turned[16:]

    def range(self, obj: int, start: int, stop: int) -> Iterator[bytes]:
        """Bytes [start, stop) of object ``obj``."""
        while start < stop:
            number, within = divmod(start, self.part_size)
            end = min(stop, (number + 1) * self.part_size)
            yield self.part(obj, number + 1)[within:within + end - start]
            start = end


def s3_client(runtime: EmbeddedRuntimeProcess, threads: int) -> Any:
    env = runtime.aws_env()
    return boto3.client("s3", endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env["AWS_ENDPOINT_URL"],
                        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
                        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
                        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"),
                        config=Config(max_pool_connections=threads + 2, retries={"mode": "standard"},
                                      read_timeout=300))


def ingest(s3: Any, media: Media, threads: int) -> float:
    """Every object through multipart uploads; the seconds it took."""
    s3.create_bucket(Bucket=BUCKET)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for obj, parts in enumerate(media.parts):
            key = media.key(obj)
            upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="video/mp4")["UploadId"]

            def send(number: int, key: str = key, upload: str = upload, obj: int = obj) -> dict[str, Any]:
                answer = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number,
                                        Body=media.part(obj, number))
                return {"PartNumber": number, "ETag": answer["ETag"]}

            done = list(pool.map(send, range(1, parts + 1)))
            s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
    return time.perf_counter() - started


class SnapshotWatcher(threading.Thread):
    """Reads snapshot.json while the ingest runs: the S3 saves it sees."""

    def __init__(self, manifest: Path) -> None:
        super().__init__(daemon=True)
        self.manifest = manifest
        self.saves: dict[str, dict[str, Any]] = {}  # saved_at -> last_save, S3 saves only
        self.stopping = threading.Event()

    def read(self) -> dict[str, Any] | None:
        try:
            manifest = json.loads(self.manifest.read_text())
        except (OSError, ValueError):
            return None
        last = manifest.get("last_save") or {}
        if "s3" in last.get("services", []):
            self.saves[manifest["saved_at"]] = last
        return dict(manifest)

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            self.read()

    def first_after(self, moment: float, timeout: float = 60) -> dict[str, Any]:
        """The first S3 save that began after ``moment`` (time.time())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read()
            later = {at: save for at, save in self.saves.items()
                     if datetime.fromisoformat(at).timestamp() - save["seconds"] > moment}
            if later:
                return later[min(later)]
            time.sleep(0.1)
        raise TimeoutError(f"no S3 snapshot was written within {timeout} s after the ingest")


def read_back(s3: Any, media: Media, whole: int, seed: int = 7) -> tuple[int, int, int]:
    """(mismatches, checks, bytes read): ``whole`` objects read whole, and in every object three
    ranges (within a part, across two parts, the last bytes)."""
    rng = random.Random(seed)
    mismatches = checks = read = 0

    def check(obj: int, start: int, stop: int, **params: Any) -> None:
        nonlocal mismatches, checks, read
        got, expected = hashlib.sha256(), hashlib.sha256()
        body = s3.get_object(Bucket=BUCKET, Key=media.key(obj), **params)["Body"]
        for chunk in body.iter_chunks(MiB):
            got.update(chunk)
            read += len(chunk)
        for block in media.range(obj, start, stop):
            expected.update(block)
        checks += 1
        if got.digest() != expected.digest():
            mismatches += 1
            print(f"# mismatch: {media.key(obj)} bytes {start}-{stop - 1}", flush=True)

    listed = sum(page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET))
    checks += 1
    if listed != len(media.parts):
        mismatches += 1
        print(f"# mismatch: {listed} objects listed, {len(media.parts)} written", flush=True)
    for obj in rng.sample(range(len(media.parts)), min(whole, len(media.parts))):
        check(obj, 0, media.size(obj))
    for obj in range(len(media.parts)):
        size = media.size(obj)
        start = rng.randrange(0, size - MiB)
        ranges = [(start, start + rng.randrange(1, MiB))]
        if media.parts[obj] > 1:
            border = media.part_size * rng.randrange(1, media.parts[obj])
            ranges.append((border - 1000, border + 1000))
        ranges.append((size - 4096, size))
        for first, stop in ranges:
            check(obj, first, stop, Range=f"bytes={first}-{stop - 1}")
    return mismatches, checks, read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=10, help="GiB of media to ingest (default 10)")
    parser.add_argument("--object-mib", type=int, default=512, help="the size of one object (default 512 MiB)")
    parser.add_argument("--part-mib", type=int, default=16, help="the size of one part (default 16 MiB)")
    parser.add_argument("--threads", type=int, default=4, help="parts in flight (default 4)")
    parser.add_argument("--whole", type=int, default=2, help="objects read back whole (default 2)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the temporary data directory goes")
    args = parser.parse_args()

    media = Media(int(args.gb * GiB), args.object_mib * MiB, args.part_mib * MiB)
    free = shutil.disk_usage(args.dir).free
    needed = media.total + 2 * GiB
    print(f"# {media.total / GiB:.2f} GiB in {len(media.parts)} objects of up to {media.parts_per_object} parts "
          f"of {args.part_mib} MiB; {free / GiB:.0f} GiB free in {args.dir}; {os.cpu_count()} CPUs", flush=True)
    if free < needed:
        print(f"# not enough space in {args.dir}: {needed / GiB:.1f} GiB needed; pass a smaller --gb or another --dir")
        return 2

    with tempfile.TemporaryDirectory(prefix="cvat-embedded-s3-", dir=args.dir) as tmp:
        data_dir = Path(tmp) / "data"
        runtime = EmbeddedRuntimeProcess(data_dir)
        try:
            print(f"# first start: {runtime.start():.1f} s", flush=True)
            watcher = SnapshotWatcher(data_dir / "aws" / "snapshot.json")
            watcher.start()
            seconds = ingest(s3_client(runtime, args.threads), media, args.threads)
            ingested = time.time()
            print(f"# ingest: {seconds:.1f} s, {media.total / MiB / seconds:.0f} MiB/s", flush=True)
            save = watcher.first_after(ingested)
            watcher.stopping.set()
            figure("runtime_peak_rss_mb", peak_rss_mb(runtime.pid), "<=", 1024, " MB")
            print(f"# S3 snapshot after the ingest: {save['bytes']['s3'] / 1000:.0f} kB s3.pickle, "
                  f"{save['lock_wait_seconds']:.3f} s waiting for requests in flight, "
                  f"{save['locked_seconds'] - save['lock_wait_seconds']:.3f} s pickling, services "
                  f"{', '.join(save['services'])}", flush=True)
            saves = sorted(watcher.saves.values(), key=operator.itemgetter("seconds"))
            longest = saves[-1]
            print(f"# {len(saves)} S3 saves seen during and after the ingest: "
                  f"median {saves[len(saves) // 2]['seconds']:.3f} s, longest {longest['seconds']:.3f} s "
                  f"({longest['lock_wait_seconds']:.3f} s of it waiting for requests in flight)", flush=True)
            figure("snapshot_write_s", save["seconds"], "<=", 1, " s")
            stored = sum(p.stat().st_size for p in (data_dir / "s3-objects").glob("??/*"))
            print(f"# data directory: {stored / GiB:.2f} GiB of object files", flush=True)
        finally:
            runtime.stop()

        runtime = EmbeddedRuntimeProcess(data_dir)
        try:
            figure("restart_s", runtime.start(), "<=", 10, " s")
            started = time.perf_counter()
            mismatches, checks, read = read_back(s3_client(runtime, args.threads), media, args.whole)
            print(f"# read back: {checks} checks, {read / MiB:.0f} MiB in {time.perf_counter() - started:.1f} s; "
                  f"restarted runtime's peak RSS {peak_rss_mb(runtime.pid):.0f} MB", flush=True)
            figure("read_back_mismatches", mismatches, "<=", 0)
        finally:
            runtime.stop()
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())
