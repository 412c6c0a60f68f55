"""The offline YOLOX-nano detector as a cvat-sdk auto-annotation function: the same handler code the
embedded runtime's SageMaker endpoint runs, on the client's machine.

    cvat-cli ... task auto-annotate TASK_ID --function-module cvat_serverless_tools.models.sdk_function \\
        --allow-unmatched-labels [--conf-threshold 0.5]
    cvat-cli ... function create-native "YOLOX-nano" --function-module cvat_serverless_tools.models.sdk_function
    cvat-cli ... function run-agent FUNCTION_ID --function-module cvat_serverless_tools.models.sdk_function

Labels are COCO's 80; the SDK matches them to the task's labels by name (``--allow-unmatched-labels``
drops the rest). The model loads on the first frame, with ``CVAT_MODEL_THREADS`` onnxruntime threads.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import cvat_sdk.auto_annotation as cvataa
import PIL.Image

from .offline import COCO_LABELS, yolox_nano_path

DEFAULT_THRESHOLD = 0.5

spec = cvataa.DetectionFunctionSpec(
    labels=[cvataa.label_spec(name, index, type="rectangle") for index, name in enumerate(COCO_LABELS)],
)

_ids = {name: index for index, name in enumerate(COCO_LABELS)}
_model: dict[str, Any] = {}  # loaded on the first frame, once per process
_lock = threading.Lock()


def _loaded() -> Any:
    with _lock:
        if "yolox" not in _model:
            from . import yolox_inference

            _model["yolox"] = yolox_inference.load_model(yolox_nano_path())
        return _model["yolox"]


def detect(context: cvataa.DetectionFunctionContext, image: PIL.Image.Image) -> list[Any]:
    from . import yolox_inference

    encoded = io.BytesIO()
    image.convert("RGB").save(encoded, format="BMP")  # lossless and quick both ways: the frame as given
    threshold = context.conf_threshold if context.conf_threshold is not None else DEFAULT_THRESHOLD
    (found,) = yolox_inference.detect(_loaded(), [encoded.getvalue()], threshold)
    return [cvataa.rectangle(_ids[det["label"]], [float(v) for v in det["points"]]) for det in found]
