"""Reading a compressed chunk through the API, against reading the same object from the storage.

Run: .venv/bin/python benchmarks/task_data_read.py [--images 72] [--repeat 40]

`cvat-serverless up` on free ports with a fresh data directory; a task of --images 1080p JPEG
photos (~0.5 MB each: CVAT's chunk size for them is 36, so a compressed chunk at quality 70 is a
few MB) made with cvat-sdk 2.80. Then, alternating so that both see the same machine state:
- API: cvat-sdk's `Task.download_chunk(0, quality="compressed")`, logged in with a password as
  the CLI is: `GET /api/tasks/{id}/data/?type=chunk...`, the 302 it answers followed to the
  presigned URL of the embedded S3 (another origin), and the body read;
- storage: boto3's GetObject of the same object, body read.

Figure: p50(API) / p50(storage), target <= 1.5. Also printed: the p50 of the API's answer alone
(the redirect, not followed) and of an inline frame, for context. Exit status 1 on a miss.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _media_fixtures as fixtures
from _report import figure, verdict
from _runtime import EmbeddedRuntimeProcess

TARGET = 1.5




def p50s(cases: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median seconds of each case, the cases taking turns (after one warm-up call each)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    for _ in range(repeat):
        for name, fn in cases.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=72)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()

    import boto3
    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType

    folder, names = fixtures.images(args.images)
    with tempfile.TemporaryDirectory(prefix="cvat-read-") as tmp, \
            EmbeddedRuntimeProcess(Path(tmp) / "data", persist=False) as runtime:
        client = Client(runtime.api_url, config=Config(status_check_period=0.2))
        client.login((runtime.user, runtime.password))
        with client:
            task = client.tasks.create_from_data(
                {"name": "bench-read", "labels": [{"name": "object"}]}, resources=[str(folder / n) for n in names],
                resource_type=ResourceType.LOCAL, data_params={"image_quality": 70})
            env = runtime.aws_env()
            s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"],
                              region_name=env.get("AWS_REGION", "us-east-1"),
                              aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
                              aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"))
            bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "media" in b["Name"].lower())
            key = f"tasks/{task.id}/data/{task.data}/chunks/compressed/0.zip"
            size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
            print(f"# task {task.id}: {task.size} frames of 1080p JPEG, chunk size {task.data_chunk_size}; "
                  f"compressed chunk 0: {size / 2**20:.1f} MiB", flush=True)

            def through_api() -> None:
                out = io.BytesIO()
                task.download_chunk(0, out, quality="compressed")
                assert out.tell() == size

            def from_storage() -> None:
                assert len(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == size

            def redirect_only() -> None:
                answer = client.api_client.rest_client.pool_manager.request(
                    "GET", f"{runtime.api_url}/api/tasks/{task.id}/data/?number=0&quality=compressed&type=chunk",
                    headers=client.api_client.default_headers | {"Cookie": _cookies(client)}, redirect=False)
                assert answer.status == 302

            def frame() -> None:
                assert task.get_frame(1, quality="compressed").getbuffer().nbytes > 0

            times = p50s({"api": through_api, "storage": from_storage, "redirect": redirect_only, "frame": frame},
                         args.repeat)
    print(f"# p50: API {times['api'] * 1000:.1f} ms, storage {times['storage'] * 1000:.1f} ms "
          f"(the redirect alone {times['redirect'] * 1000:.1f} ms; an inline frame {times['frame'] * 1000:.1f} ms)",
          flush=True)
    figure("chunk_read_api_vs_storage_p50", times["api"] / times["storage"], "<=", TARGET, "x")
    return verdict()


def _cookies(client: Any) -> str:
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.api_client.cookies.items())


if __name__ == "__main__":
    raise SystemExit(main())
