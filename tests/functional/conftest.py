"""Functional tests: real-shaped events through each function's lambda_handler."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import stack, template  # noqa: F401 - shared fixtures

ROOT = Path(__file__).resolve().parents[2]


class Context:
    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(function_dir: str) -> Any:
    return load_module(function_dir).lambda_handler


def load_module(function_dir: str) -> Any:
    path = ROOT / "functions" / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"_test_fn_{function_dir}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def invoke():
    def call(function_dir: str, event: Any) -> Any:
        return load_handler(function_dir)(event, Context(function_dir))

    return call


@pytest.fixture
def settings_env(monkeypatch):
    """Settings for handlers that touch no AWS resource."""
    from cvat_serverless import bootstrap

    for key, value in {"CVAT_TABLE_NAME": "t", "CVAT_MEDIA_BUCKET": "b", "CVAT_EVENT_BUS_NAME": "e"}.items():
        monkeypatch.setenv(key, value)
    bootstrap.reset()
    yield
    bootstrap.reset()
