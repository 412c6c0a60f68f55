"""Shared test settings: no test ever reaches real AWS."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Dummy credentials and a region for every boto3 client a test builds (moto or the embedded runtime).
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_METRICS_NAMESPACE": "CvatServerlessTests",
}.items():
    os.environ[key] = value
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def pytest_report_header() -> str:
    from cvat_serverless_tools.local import moto_patches

    return (f"tests that use moto run on {moto_patches.describe(patched=True)}, as the embedded runtime "
            "(tests/conftest.py applies them)")


@pytest.fixture(scope="session", autouse=True)
def embedded_runtime_moto() -> None:
    """Every test that uses moto (the adapters, the services on DynamoDB, the functional tests on
    a deployed stack) runs on the moto the embedded runtime runs: with its patches, whatever order
    the tests run in (the report's header names them; test_moto_patches.py compares them with
    moto's originals)."""
    from cvat_serverless_tools.local import moto_patches

    moto_patches.apply()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expire(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def deadline() -> Callable[[int], AbstractContextManager[None]]:
    """``with deadline(20): ...`` raises TimeoutError in the block after 20 s (SIGALRM, main
    thread): a hang becomes a failure that names the case instead of a stuck test run."""
    return _deadline
