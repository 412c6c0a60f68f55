"""SageMakerInferenceClient (ports.InferenceClient): the SageMaker runtime API through boto3
(``sagemaker-runtime``). The embedded runtime answers the same calls locally (its SageMaker
intercept), so one adapter serves AWS and the laptop.

Errors, as the workflow needs them:

- the endpoint missing (``ValidationError`` "Endpoint ... not found"), cold or busy
  (``ModelNotReadyException``, ``ServiceUnavailable``, ``InternalDependencyException``,
  ``InternalFailure``, throttling), or unreachable: DependencyUnavailableError, with
  SageMaker's message. The state machine retries these with a long backoff (a serverless
  endpoint's cold start).
- no answer in time (the read timeout): UpstreamTimeoutError (retried the same way).
- the model refusing the input (``ModelError``: the container answered 4xx/5xx): a
  ValidationError with the model's own message, which fails the request.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ...domain.errors import DependencyUnavailableError, UpstreamTimeoutError, ValidationError
from ...ports import AsyncInvocation
from .errors import THROTTLING_CODES, error_code

_UNAVAILABLE = frozenset({"ModelNotReadyException", "ServiceUnavailable", "InternalDependencyException",
                          "InternalFailure", "InternalServerError", "ServiceUnavailableException"}) | THROTTLING_CODES


@cache
def _runtime(read_timeout: int) -> Any:
    import boto3  # deferred: boto3 is loaded by the first call, never on import
    from botocore.config import Config

    from .tracing import instrument_aws_sdks

    instrument_aws_sdks()
    # Few SDK retries: a cold endpoint is retried by the state machine, with its own backoff.
    config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=10,
                    read_timeout=read_timeout)
    return boto3.session.Session().client("sagemaker-runtime", config=config)


def model_error_message(exc: ClientError) -> str:
    """The model's own words from a ModelError: its ``{"error": ...}`` body when it sent one."""
    response = exc.response
    text = str(response.get("OriginalMessage") or "")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return text or str(response.get("Error", {}).get("Message", "")) or "The model refused the input."


def translate(endpoint: str, exc: Exception) -> Exception:
    """A botocore failure of a call to ``endpoint`` as the product's error (see the module doc)."""
    if isinstance(exc, ReadTimeoutError):
        return UpstreamTimeoutError(f"Endpoint {endpoint} did not answer in time.")
    if isinstance(exc, (ConnectTimeoutError, BotoConnectionError)):
        return DependencyUnavailableError(f"Endpoint {endpoint} cannot be reached ({exc}).")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", "")) or code
        if code == "ModelError":
            return ValidationError(f"The model behind endpoint {endpoint} refused the input: "
                                   f"{model_error_message(exc)}")
        if code in ("ValidationError", "ValidationException") and "not found" in message.lower():
            return DependencyUnavailableError(message)
        if code in _UNAVAILABLE or code.startswith("Throttl"):
            return DependencyUnavailableError(f"Endpoint {endpoint} is not ready ({code}): {message}")
        if code in ("ValidationError", "ValidationException"):
            return ValidationError(f"Endpoint {endpoint} refused the call: {message}")
    return exc


class SageMakerInferenceClient:
    def invoke(self, endpoint: str, body: bytes, *, content_type: str = "application/json",
               timeout_s: float = 60.0) -> bytes:
        runtime = _runtime(max(1, round(timeout_s)))
        try:
            answer = runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType=content_type,
                                             Accept="application/json")
            return bytes(answer["Body"].read())
        except (ClientError, ReadTimeoutError, ConnectTimeoutError, BotoConnectionError) as exc:
            raise translate(endpoint, exc) from exc

    def invoke_async(self, endpoint: str, input_location: str, *, inference_id: str,
                     content_type: str = "application/json") -> AsyncInvocation:
        runtime = _runtime(60)
        try:
            answer = runtime.invoke_endpoint_async(EndpointName=endpoint, InputLocation=input_location,
                                                   ContentType=content_type, Accept="application/json",
                                                   InferenceId=inference_id[:64])
        except (ClientError, ReadTimeoutError, ConnectTimeoutError, BotoConnectionError) as exc:
            raise translate(endpoint, exc) from exc
        return AsyncInvocation(inference_id=str(answer.get("InferenceId") or inference_id),
                               output_location=str(answer.get("OutputLocation", "")),
                               failure_location=str(answer.get("FailureLocation", "")))
