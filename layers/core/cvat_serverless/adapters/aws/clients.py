"""boto3 clients, built on first use and cached per process (never at import time).

Endpoints come from the SDK's standard AWS_ENDPOINT_URL[_<SERVICE>] variables, so the same code
talks to AWS, LocalStack or the embedded runtime.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Any, Literal


@cache
def client(service: str) -> Any:
    import boto3  # deferred: keeps boto3 off the API's import path until the first AWS call
    from botocore.config import Config

    from .tracing import instrument_aws_sdks

    instrument_aws_sdks()

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


def s3_endpoint() -> str | None:
    """The S3 endpoint the SDK is pointed at (the embedded runtime, LocalStack), None on AWS."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


_HOST_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def presigner(region: str, bucket: str) -> Any:
    """An S3 client that signs URLs for ``bucket`` in ``region``: SigV4 (the only signature every
    region takes), on the storage's own origin. On AWS that is the bucket's regional endpoint
    (``https://<bucket>.s3.<region>.amazonaws.com``; never the global one, which answers new
    buckets of other regions with a redirect; path-style for a name that cannot be a host name,
    such as one with dots, which https would refuse); on a custom endpoint, path-style
    (``http://127.0.0.1:4566/<bucket>``)."""
    endpoint = s3_endpoint()
    return _presigner(region, endpoint, "path" if endpoint or not _HOST_LABEL.match(bucket) else "virtual")


@cache
def _presigner(region: str, endpoint: str | None, addressing_style: Literal["path", "virtual"]) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(signature_version="s3v4", region_name=region, s3={
        "addressing_style": addressing_style, "us_east_1_regional_endpoint": "regional"})
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint, config=config)
