"""Lambda functions of the template, run in-process.

Each function's ``app.py`` is loaded from its CodeUri folder under a module name of its own (every
function's file is called app.py), with a real-shaped LambdaContext, the template's timeout and
AWS's error payload, so Step Functions' Retry/Catch see the same ``errorType`` as on AWS.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from . import iam_audit, powertools_patches

log = logging.getLogger("cvat_serverless_tools.local")

Handler = Callable[[Any, Any], Any]

# One lock for every function's first import: handlers share one interpreter, and two threads
# importing the same packages for the first time (a poller's function and an API request) can
# meet a partly initialised module. The runtime also loads every handler once before serving.
_LOAD_LOCK = threading.Lock()


class LambdaContext:
    """The attributes and method the Python runtime's context object has."""

    def __init__(self, function: LocalFunction, request_id: str) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = str(function.memory_mb)
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/[$LATEST]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    ok: bool
    payload: Any  # the handler's return value, or AWS's error payload
    request_id: str
    duration_ms: float


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # "module.attribute", e.g. "app.lambda_handler"
    timeout_s: float
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)
    _callable: Handler | None = field(default=None, repr=False)

    def load(self) -> Handler:
        if self._callable is not None:
            return self._callable
        with _LOAD_LOCK:
            if self._callable is None:
                # invocations run at once, in threads of this process: each needs its own request
                # state in the event handler, as each execution environment has on AWS
                powertools_patches.apply()
                iam_audit.install()  # only with CVAT_LOCAL_IAM_AUDIT set: records each call's IAM needs
                module_name, attr = self.handler.rsplit(".", 1)
                path = self.code_dir / (module_name.replace(".", "/") + ".py")
                unique = f"_cvat_fn_{self.logical_id}_{module_name.replace('.', '_')}"
                spec = importlib.util.spec_from_file_location(unique, path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"{self.logical_id}: cannot load {path}")
                module: ModuleType = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._callable = getattr(module, attr)
            return self._callable

    def invoke(self, event: Any) -> Invocation:
        """Run the handler with the template's timeout. A timed-out handler's thread cannot be
        killed in-process; it is abandoned and the caller gets Lambda's timeout error."""
        request_id = str(uuid.uuid4())
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                handler = self.load()
                if iam_audit.enabled():
                    with iam_audit.running(self.logical_id):
                        result["value"] = handler(event, LambdaContext(self, request_id))
                else:
                    result["value"] = handler(event, LambdaContext(self, request_id))
            except BaseException as exc:
                result["error"] = exc

        started = time.perf_counter()
        worker = threading.Thread(target=run, name=f"lambda-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        duration = (time.perf_counter() - started) * 1000
        if worker.is_alive():
            return Invocation(False, {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {self.timeout_s:.2f} seconds",
            }, request_id, duration)
        if "error" in result:
            exc = result["error"]
            log.info("%s failed: %s: %s", self.name, type(exc).__name__, exc)
            return Invocation(False, {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": request_id,
                "stackTrace": traceback.format_exception(exc)[-6:],
            }, request_id, duration)
        return Invocation(True, result.get("value"), request_id, duration)


class FunctionRegistry:
    def __init__(self) -> None:
        self._by_name: dict[str, LocalFunction] = {}
        self._by_logical_id: dict[str, LocalFunction] = {}

    def add(self, function: LocalFunction) -> None:
        self._by_name[function.name] = function
        self._by_logical_id[function.logical_id] = function

    def by_logical_id(self, logical_id: str) -> LocalFunction:
        return self._by_logical_id[logical_id]

    def find(self, name_or_arn: str) -> LocalFunction | None:
        """By name, full ARN or partial ARN, with or without a version/alias qualifier."""
        ref = name_or_arn.split("function:", 1)[-1]
        return self._by_name.get(ref.split(":")[0])

    def __iter__(self) -> Any:
        return iter(self._by_logical_id.values())

    def __len__(self) -> int:
        return len(self._by_logical_id)
