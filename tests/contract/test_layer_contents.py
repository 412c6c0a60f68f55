"""What the Lambda layers ship: product code and its declared dependencies, never the dev tools.

The embedded runtime and the `cvat-serverless` command (infra/cvat_serverless_tools) need moto,
werkzeug and aws-sam-translator, which no layer installs: a copy of them inside a layer is dead
weight at best and an ImportError at worst. ``sam build`` copies a layer's ContentUri folder
whole (less caches and *.egg-info), so what lies under layers/core/ is what every function carries.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
SAM = yaml_parse((ROOT / "template.yaml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Packages of the dev tools and of the embedded AWS: none may be inside a layer.
DEV_ONLY = ("cvat_serverless_tools", "moto", "werkzeug", "flask", "samtranslator", "cfnlint", "pytest",
            "hypothesis", "cvat_sdk", "cvat_cli")
# The tools' old home inside the product package.
DEV_SUBPACKAGES = (("cvat_serverless", "local"), ("cvat_serverless", "admin"))
# Where the media functions find these: the media layer beside the core layer.
MEDIA_IMPORTS = {"av": "av", "pillow": "PIL", "numpy": "numpy"}


def _layer(logical_id: str) -> dict:
    resource = SAM["Resources"][logical_id]
    assert resource["Type"] == "AWS::Serverless::LayerVersion"
    return resource


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [str(Requirement(line)) for line in lines if line]


def _normalised(specs: list[str]) -> list[str]:
    return sorted(str(Requirement(spec)) for spec in specs)


def test_core_layer_requirements_are_the_project_dependencies():
    content = ROOT / _layer("CoreLayer")["Properties"]["ContentUri"]
    assert sorted(_requirements(content / "requirements.txt")) == _normalised(PYPROJECT["project"]["dependencies"])


def test_media_layer_requirements_are_the_media_extra():
    content = ROOT / _layer("MediaLayer")["Properties"]["ContentUri"]
    expected = _normalised(PYPROJECT["project"]["optional-dependencies"]["media"])
    assert sorted(_requirements(content / "requirements.txt")) == expected


def _python_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _top_level_imports(path: Path) -> set[str]:
    """Every absolute import of a module, lazy ones inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _dev_items(folder: Path) -> list[str]:
    found = []
    for entry in folder.rglob("*"):
        rel = entry.relative_to(folder)
        top = rel.parts[0].split("-")[0].lower().removesuffix(".py")
        if top in DEV_ONLY or rel.parts[:2] in DEV_SUBPACKAGES:
            found.append(str(rel))
    return sorted(found)[:20]


def _undeclared_imports(package: Path, installed: set[str]) -> dict[str, set[str]]:
    """Modules of ``package`` that import something neither the standard library nor ``installed``
    provides (``installed``: the top-level names a function's layers put on its path)."""
    allowed = set(sys.stdlib_module_names) | installed | {package.name}
    problems: dict[str, set[str]] = {}
    for path in _python_files(package):
        missing = _top_level_imports(path) - allowed
        if missing:
            problems[str(path.relative_to(package.parent))] = missing
    return problems


def test_the_core_layer_source_holds_product_code_only():
    content = ROOT / _layer("CoreLayer")["Properties"]["ContentUri"]
    shipped = (p.name for p in content.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info"))
    assert sorted(shipped) == [
        "cvat_serverless", "requirements.txt"], "sam build copies this whole folder into every function"
    assert _dev_items(content) == []


def _runs(command: str) -> bool:
    try:
        return subprocess.run([command, "-c", "pass"], capture_output=True, timeout=30, check=False).returncode == 0
    except OSError:
        return False


def _build_core_layer(tmp_path: Path) -> Path:
    """``sam build`` of the template's CoreLayer, as `make build` runs it. Without python3.12 on
    PATH (sam's python3.12 builder needs it) the same layer is built for this interpreter: the
    copy step and the requirements are the same, only the wheels' ABI differs."""
    sam = os.environ.get("SAM_CLI") or str(ROOT / ".venv-sam" / "bin" / "sam")
    if not Path(sam).is_file():
        pytest.fail("SAM CLI not found: `make setup-sam` installs it in .venv-sam (or set SAM_CLI)")
    layer = _layer("CoreLayer")
    build_method = layer["Metadata"]["BuildMethod"]
    metadata = f"      BuildMethod: {build_method}\n      BuildArchitecture: {layer['Metadata']['BuildArchitecture']}\n"
    if not _runs(build_method):
        metadata = f"      BuildMethod: python{sys.version_info.major}.{sys.version_info.minor}\n"
    template = tmp_path / "template.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nResources:\n'
        "  CoreLayer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n"
        f"      ContentUri: {ROOT / layer['Properties']['ContentUri']}\n    Metadata:\n{metadata}"
    )
    result = subprocess.run(
        [sam, "build", "--template-file", str(template), "--build-dir", str(tmp_path / "build")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path / "build" / "CoreLayer" / "python"


@pytest.mark.slow
def test_sam_build_of_the_core_layer_ships_no_dev_tools_and_imports_only_what_it_installs(tmp_path):
    built = _build_core_layer(tmp_path)
    assert (built / "cvat_serverless" / "api" / "cvat_api.py").is_file()
    assert _dev_items(built) == []
    installed = {p.name.split(".")[0] for p in built.iterdir() if not p.name.endswith((".dist-info", ".data"))}
    installed |= set(MEDIA_IMPORTS.values())  # the media functions also get the media layer
    assert _undeclared_imports(built / "cvat_serverless", installed) == {}


def test_the_import_check_catches_a_dev_module_put_back(tmp_path):
    """The check above fails on the mistake it exists for: the embedded runtime back in the layer."""
    package = tmp_path / "cvat_serverless"
    shutil.copytree(ROOT / "layers" / "core" / "cvat_serverless", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "infra" / "cvat_serverless_tools" / "local", package / "local",
                    ignore=shutil.ignore_patterns("__pycache__"))
    installed = {"boto3", "botocore", "aws_lambda_powertools", "pynamodb", "pydantic", "argon2", "orjson",
                 *MEDIA_IMPORTS.values()}
    problems = _undeclared_imports(package, installed)
    assert any(p.startswith("cvat_serverless/local/") for p in problems), problems
    assert {"moto", "werkzeug"} & set().union(*problems.values())
    assert "cvat_serverless/local" in _dev_items(tmp_path)
