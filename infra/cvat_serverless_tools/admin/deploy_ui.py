"""``cvat-serverless deploy-ui --stack NAME``: publish the built web UI (frontend/dist, `make
frontend`) to a deployed stack's UI bucket and make CloudFront serve it.

The order keeps every visitor on a whole build: the content-hashed files under assets/ first
(cached for a year: a name never changes content), index.html last, then the invalidation of what
is revalidated (index.html, whose Cache-Control is no-cache). Assets of earlier builds stay unless
``--prune``: a tab opened on the previous build still lazy-loads its route chunks.
"""

from __future__ import annotations

import argparse
import mimetypes
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMMUTABLE = "public, max-age=31536000, immutable"  # local/apigw.py serves the same
REVALIDATE = "no-cache"
ASSETS = "assets/"


def cache_control(key: str) -> str:
    """Vite names what it writes under assets/ by content hash; everything else is revalidated."""
    return IMMUTABLE if key.startswith(ASSETS) else REVALIDATE


def content_type(key: str) -> str:
    guessed = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("javascript") else guessed


@dataclass
class Published:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # assets already in the bucket
    deleted: list[str] = field(default_factory=list)
    invalidation_id: str | None = None


def _files(dist: Path) -> dict[str, Path]:
    return {p.relative_to(dist).as_posix(): p for p in sorted(dist.rglob("*")) if p.is_file()}


def _existing(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def publish(dist: Path, bucket: str, s3: Any, *, prune: bool = False) -> Published:
    """Upload ``dist`` to ``bucket``: assets, then the other files, index.html last; then delete
    the files the build no longer has (earlier builds' assets only with ``prune``)."""
    files = _files(dist)
    if "index.html" not in files:
        raise FileNotFoundError(f"{dist}/index.html not found: build the UI first (make frontend)")
    before = _existing(s3, bucket)
    result = Published()
    order = sorted(files, key=lambda k: (not k.startswith(ASSETS), k == "index.html", k))
    for key in order:
        if key.startswith(ASSETS) and key in before:
            result.unchanged.append(key)  # a hashed name: the same content
            continue
        s3.upload_file(str(files[key]), bucket, key, ExtraArgs={
            "CacheControl": cache_control(key), "ContentType": content_type(key)})
        result.uploaded.append(key)
    stale = sorted(k for k in before - set(files) if prune or not k.startswith(ASSETS))
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]],
                                                 "Quiet": True})
    result.deleted = stale
    return result


def invalidate(cloudfront: Any, distribution_id: str, keys: Iterable[str]) -> str | None:
    """Invalidate the revalidated files that changed (SPA routes are /index.html at the edge)."""
    paths = sorted({f"/{k}" for k in keys if not k.startswith(ASSETS)})
    if not paths:
        return None
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": f"deploy-ui-{time.time_ns()}"})
    return str(answer["Invalidation"]["Id"])


def deploy(stack: str, dist: Path, *, region: str | None = None, prune: bool = False
           ) -> tuple[Published, dict[str, str]]:
    """Publish ``dist`` to the UI bucket of ``stack`` (its outputs name it) and invalidate what changed."""
    import boto3

    from .targets import stack_target

    outputs = stack_target(stack, region).outputs
    missing = [k for k in ("UiBucketName", "UiDistributionId") if k not in outputs]
    if missing:
        raise SystemExit(f"Stack {stack} has no {' and '.join(missing)} output: deploy it with UiHosting=true.")
    session = boto3.Session(region_name=region) if region else boto3.Session()
    result = publish(dist, outputs["UiBucketName"], session.client("s3"), prune=prune)
    result.invalidation_id = invalidate(session.client("cloudfront"), outputs["UiDistributionId"],
                                        result.uploaded + result.deleted)
    return result, outputs


def cmd_deploy_ui(args: argparse.Namespace) -> int:
    from ..local.template import find_project_root

    dist = Path(args.dist) if args.dist else find_project_root() / "frontend" / "dist"
    result, outputs = deploy(args.stack, dist, region=args.region, prune=args.prune)
    print(f"Uploaded {len(result.uploaded)} file(s) to s3://{outputs['UiBucketName']}/ "
          f"({len(result.unchanged)} asset(s) already there), deleted {len(result.deleted)}.")
    if result.invalidation_id:
        print(f"CloudFront invalidation {result.invalidation_id} on {outputs['UiDistributionId']}.")
    print(f"Web UI: {outputs.get('UiUrl', '(no UiUrl output)')}/")
    return 0


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("deploy-ui", help="publish frontend/dist to a deployed stack's UI bucket (CloudFront)")
    parser.add_argument("--stack", required=True, help="the deployed CloudFormation stack")
    parser.add_argument("--region", help="the stack's region")
    parser.add_argument("--dist", help="the built UI (default: frontend/dist of this checkout)")
    parser.add_argument("--prune", action="store_true", help="also delete earlier builds' assets/")
    parser.set_defaults(func=cmd_deploy_ui)
