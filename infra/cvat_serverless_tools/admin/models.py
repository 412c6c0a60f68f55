"""``cvat-serverless model package|deploy``: build a YOLOX ONNX detector's SageMaker artifact and
deploy it (infra/cvat_serverless_tools/models/README.md).

The deploy needs the SageMaker SDK, which lives in its own virtualenv (``make setup-sagemaker``):
when this environment lacks it, the command runs ``python -m cvat_serverless_tools.models.deploy``
with the same arguments in ``.venv-sagemaker`` (or CVAT_SERVERLESS_SAGEMAKER_PYTHON).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SAGEMAKER_PYTHON_ENV = "CVAT_SERVERLESS_SAGEMAKER_PYTHON"
SAGEMAKER_VENV = ".venv-sagemaker"


def cmd_package(args: argparse.Namespace) -> int:
    from ..models.package import PackageError, build, read_labels

    try:
        if args.onnx is None:
            from ..models.offline import WeightsMissingError, yolox_nano_path

            try:
                onnx = yolox_nano_path()
            except WeightsMissingError as error:
                raise PackageError(f"no --onnx given and {error}") from None
        else:
            onnx = args.onnx
        labels = read_labels(args.labels) if args.labels else None
        artifact = build(onnx, args.out, labels=labels, gpu=args.gpu)
    except PackageError as error:
        print(f"cvat-serverless model package: {error}", file=sys.stderr)
        return 2
    variant = "GPU (onnxruntime-gpu)" if artifact.gpu else "CPU (onnxruntime)"
    print(f"{artifact.path}: {onnx.name}, {len(artifact.labels)} labels, {variant}, sha256 {artifact.sha256}")
    return 0


def sagemaker_python() -> Path | None:
    """The interpreter of the SageMaker virtualenv, if there is one."""
    configured = os.environ.get(SAGEMAKER_PYTHON_ENV)
    if configured:
        return Path(configured)
    from ..local.template import find_project_root

    try:
        candidate = find_project_root() / SAGEMAKER_VENV / "bin" / "python"
    except FileNotFoundError:
        return None
    return candidate if candidate.exists() else None


def cmd_deploy(args: argparse.Namespace) -> int:
    from ..models import deploy

    if importlib.util.find_spec("sagemaker") is not None and importlib.util.find_spec("sagemaker.core") is not None:
        return deploy.run(args)
    python = sagemaker_python()
    if python is None:
        print("cvat-serverless model deploy: the SageMaker SDK is not installed here; run `make setup-sagemaker` "
              f"(it makes {SAGEMAKER_VENV}/) or set {SAGEMAKER_PYTHON_ENV} to a Python that has sagemaker-core",
              file=sys.stderr)
        return 2
    command = [str(python), "-m", "cvat_serverless_tools.models.deploy", *deploy.argv_from_args(args)]
    # our own module in our own virtualenv, with the arguments argparse already checked
    return subprocess.run(command, check=False).returncode  # noqa: S603


def add_parser(sub: Any) -> None:
    from ..models.deploy import add_arguments

    model = sub.add_parser("model", help="package and deploy SageMaker detector models")
    model_sub = model.add_subparsers(dest="model_command", required=True)

    package = model_sub.add_parser("package", help="build model.tar.gz for a YOLOX-family ONNX detector")
    package.add_argument("--onnx", type=Path,
                         help="the ONNX model (raw-grid YOLOX export; default: the installed YOLOX-nano)")
    package.add_argument("--labels", type=Path,
                         help="class names in output order: JSON list (names or {name}) or one a line "
                              "(default: the 80 COCO classes)")
    package.add_argument("--gpu", action="store_true", help="onnxruntime-gpu, for GPU instances (async/realtime)")
    package.add_argument("-o", "--out", type=Path, required=True, help="where to write model.tar.gz")
    package.set_defaults(func=cmd_package)

    deploy = model_sub.add_parser("deploy", help="deploy model.tar.gz to a SageMaker endpoint and print its "
                                                 "registry entry (for `cvat-serverless function add`)")
    add_arguments(deploy)
    deploy.set_defaults(func=cmd_deploy)
