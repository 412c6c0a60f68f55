"""Linters and validators as tests, so `make test` (and CI) cannot skip them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*cmd: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


def sam_cli() -> str:
    candidates = (os.environ.get("SAM_CLI", ""), str(ROOT / ".venv-sam" / "bin" / "sam"), shutil.which("sam") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("SAM CLI not found: `make setup-sam` installs it in .venv-sam (or set SAM_CLI)")


def test_cfn_lint_has_no_errors():
    result = run(str(BIN / "cfn-lint"), "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes_offline():
    env = {"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = run(sam_cli(), "validate", "--lint", "--region", "us-east-1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_import_direction_rules_hold():
    result = run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", "layers", "functions", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout[-5000:]


def test_mypy_is_clean():
    # explicit package bases: every function's file is app.py, mypy names them functions.<name>.app
    result = run(str(BIN / "mypy"), "layers/core/cvat_serverless", "functions", timeout=600)
    assert result.returncode == 0, result.stdout[-5000:]
