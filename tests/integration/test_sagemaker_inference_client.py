"""SageMakerInferenceClient (ports.InferenceClient) against the embedded runtime's SageMaker
runtime (the same boto3 calls as on AWS): the model's answer, and SageMaker's errors as the
auto-annotate workflow needs them (an unknown endpoint is DependencyUnavailableError, retried; the
model refusing the input is a ValidationError with the model's words, which fails the request)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from cvat_serverless.adapters.aws import sagemaker
from cvat_serverless.adapters.aws.sagemaker import SageMakerInferenceClient, translate
from cvat_serverless.domain.errors import DependencyUnavailableError, UpstreamTimeoutError, ValidationError
from tests.integration.test_embedded_s3_store import EmbeddedAws, embedded  # noqa: F401 - the fixture
from tests.integration.test_local_sagemaker_runtime import BUCKET, aws, read_when_there  # noqa: F401 - fixture


@pytest.fixture
def client(aws: EmbeddedAws) -> Iterator[SageMakerInferenceClient]:  # noqa: F811
    sagemaker._runtime.cache_clear()  # clients are cached per process: this test's endpoint
    yield SageMakerInferenceClient()
    sagemaker._runtime.cache_clear()


def test_invoke_answers_the_models_body(client: SageMakerInferenceClient) -> None:
    answer = client.invoke("fake", json.dumps({"images": ["abcd", "ef"]}).encode(), timeout_s=30)
    assert [r[0]["points"][2] for r in json.loads(answer)["results"]] == [4, 2]


def test_an_unknown_endpoint_is_unavailable_with_sagemakers_message(client: SageMakerInferenceClient) -> None:
    with pytest.raises(DependencyUnavailableError, match=r"Endpoint no-such-model of account .* not found"):
        client.invoke("no-such-model", b"{}")
    with pytest.raises(DependencyUnavailableError, match="not found"):
        client.invoke_async("no-such-model", f"s3://{BUCKET}/x.json", inference_id="i")


def test_a_model_error_is_a_validation_error_with_the_models_words(client: SageMakerInferenceClient) -> None:
    with pytest.raises(ValidationError, match=r"refused the input: .*out of memory"):
        client.invoke("fake", json.dumps({"images": ["crash"]}).encode())


def test_invoke_async_answers_where_the_output_will_be(client: SageMakerInferenceClient, aws: EmbeddedAws) -> None:  # noqa: F811
    aws.s3.put_object(Bucket=BUCKET, Key="auto-annotation/async-input/r/0.json", Body=json.dumps({"images": ["ab"]}))
    invocation = client.invoke_async("fake", f"s3://{BUCKET}/auto-annotation/async-input/r/0.json",
                                     inference_id="r-0-abc")
    assert invocation.inference_id == "r-0-abc"
    assert invocation.output_location == f"s3://{BUCKET}/auto-annotation/async-results/r-0-abc.out"
    assert invocation.failure_location == f"s3://{BUCKET}/auto-annotation/async-failures/r-0-abc-error.out"
    output = read_when_there(aws, "auto-annotation/async-results/r-0-abc.out")
    assert json.loads(output)["results"][0][0]["points"] == [0, 0, 2, 1]


@pytest.mark.parametrize(("code", "message", "expected"), [
    ("ModelNotReadyException", "Model is loading", DependencyUnavailableError),
    ("ServiceUnavailable", "busy", DependencyUnavailableError),
    ("InternalDependencyException", "x", DependencyUnavailableError),
    ("ThrottlingException", "slow down", DependencyUnavailableError),
    ("ValidationError", "Endpoint e of account 1 not found.", DependencyUnavailableError),
    ("ValidationError", "1 validation error detected: Body too large", ValidationError),
    ("ModelError", "Received client error (400)", ValidationError),
])
def test_sagemaker_error_codes(code: str, message: str, expected: type[Exception]) -> None:
    error = ClientError({"Error": {"Code": code, "Message": message}}, "InvokeEndpoint")
    assert isinstance(translate("e", error), expected)
    assert isinstance(translate("e", ReadTimeoutError(endpoint_url="http://x")), UpstreamTimeoutError)
