"""The import contracts (pyproject.toml, run by `make lint`) can fail: a copy of the code with one
forbidden import added breaks them, naming the import; the copy as it is keeps them."""

from __future__ import annotations

import pkgutil
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"layers/core/cvat_serverless", "infra/cvat_serverless_tools", "functions"}


def lint_imports_on_a_copy(tmp_path: Path, probes: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path, source in probes.items():
        (tmp_path / path).write_text(source)
    # -S: no site-packages .pth files, so the editable install cannot point Python at the real
    # tree; the copy comes first on the path and the venv's packages after it.
    path = [str(tmp_path / "layers" / "core"), str(tmp_path / "infra"), str(tmp_path), *site.getsitepackages()]
    return subprocess.run(
        [sys.executable, "-S", "-c", "import sys; from importlinter.cli import lint_imports_command; "
                                     "sys.exit(lint_imports_command())"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": ":".join(path), "PATH": "/usr/bin:/bin"},
    )


def test_every_module_of_the_package_is_in_a_layer():
    """A new top-level module outside every layer would escape the layers contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    package = ROOT / "layers" / "core" / "cvat_serverless"
    children = {f"cvat_serverless.{m.name}" for m in pkgutil.iter_modules([str(package)])}
    assert children - named == set(), "add these modules to a layer in pyproject.toml"


def test_the_code_as_it_is_keeps_every_contract(tmp_path):
    result = lint_imports_on_a_copy(tmp_path, {})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        # the edge reaching for the composition root or an adapter, even lazily inside a function
        ("layers/core/cvat_serverless/api/_probe.py", "def f():\n    from cvat_serverless import bootstrap\n",
         "cvat_serverless.api is not allowed to import cvat_serverless.bootstrap"),
        ("layers/core/cvat_serverless/api/_probe.py", "from cvat_serverless.adapters.aws import dynamo\n",
         "cvat_serverless.api is not allowed to import cvat_serverless.adapters"),
        # an upward import two layers away, and an adapter reaching into the services
        ("layers/core/cvat_serverless/domain/_probe.py", "from cvat_serverless.services import common\n",
         "cvat_serverless.domain is not allowed to import cvat_serverless.services"),
        ("layers/core/cvat_serverless/adapters/_probe.py", "from cvat_serverless.services import tasks\n",
         "cvat_serverless.adapters is not allowed to import cvat_serverless.services"),
        # product code importing the dev tools (the embedded runtime)
        ("layers/core/cvat_serverless/services/_probe.py", "import cvat_serverless_tools.local.runtime\n",
         "cvat_serverless.services is not allowed to import cvat_serverless_tools"),
        # AWS outside the adapters
        ("layers/core/cvat_serverless/services/_probe.py", "import boto3\n",
         "cvat_serverless.services is not allowed to import boto3"),
    ],
    ids=["api->bootstrap", "api->adapters", "domain->services", "adapters->services", "product->tools",
         "services->boto3"],
)
def test_a_forbidden_import_breaks_the_contracts(tmp_path, path, source, broken):
    result = lint_imports_on_a_copy(tmp_path, {path: source})
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout[-3000:]
