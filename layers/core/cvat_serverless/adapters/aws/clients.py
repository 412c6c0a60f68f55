"""boto3 clients, built on first use and cached per process (never at import time).

Endpoints come from the SDK's standard AWS_ENDPOINT_URL[_<SERVICE>] variables, so the same code
talks to AWS, LocalStack or the embedded runtime.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # deferred: keeps boto3 off the API's import path until the first AWS call
    from botocore.config import Config

    from .tracing import instrument_aws_sdks

    instrument_aws_sdks()

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]
