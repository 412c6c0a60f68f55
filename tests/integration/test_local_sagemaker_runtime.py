"""The embedded runtime's SageMaker runtime: boto3's ``sagemaker-runtime`` client against the
runtime's AWS side (moto behind AwsMiddleware, served as `cvat-serverless up` serves it), with local
models registered on the middleware. The answers are what the client parses from SageMaker: the
detections, a ModelError for bad input, a ValidationError for an unknown endpoint, and
InvokeEndpointAsync's output object in S3."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cvat_serverless_tools.local import runtime
from cvat_serverless_tools.local.middleware import AwsMiddleware
from cvat_serverless_tools.models import offline
from tests._detector_scenes import EXPECTED_LABELS, scene_jpeg
from tests._requirements import require_offline_detector
from tests.integration.test_embedded_s3_store import EmbeddedAws, embedded  # noqa: F401 - the fixture

BUCKET = "media"
OUTPUT = f"s3://{BUCKET}/auto-annotation/async-results"
FAILURE = f"s3://{BUCKET}/auto-annotation/async-failures"
needs_weights = pytest.mark.usefixtures("offline_detector")


@pytest.fixture
def offline_detector() -> None:
    require_offline_detector()


def fake_detector(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The wire protocol without a model: one box per image, its size the image's byte count."""
    request = json.loads(body)
    if "images" not in request:
        raise ValueError("no images: the request needs \"images\"")
    if request["images"] == ["crash"]:
        raise RuntimeError("out of memory")
    results = [[{"label": "person", "points": [0, 0, len(image), 1], "type": "rectangle", "confidence": 1.0}]
               for image in request["images"]]
    return json.dumps({"results": results}).encode(), "application/json"


@pytest.fixture
def aws(embedded: Callable[[], EmbeddedAws], monkeypatch: pytest.MonkeyPatch) -> EmbeddedAws:  # noqa: F811
    started = embedded()
    # what the runtime sets for every client of this process; the async runs read and write S3 there
    monkeypatch.setenv("AWS_ENDPOINT_URL", started.endpoint)
    started.s3.create_bucket(Bucket=BUCKET)
    started.middleware.register_model("fake", fake_detector, async_output=OUTPUT, async_failure=FAILURE)
    started.middleware.register_model("realtime-only", fake_detector)
    if offline.weights_installed():
        started.middleware.register_model("yolox-nano", offline.LocalEndpoint(), async_output=OUTPUT,
                                          async_failure=FAILURE)
    return started


def runtime_client(aws: EmbeddedAws) -> Any:
    return boto3.client("sagemaker-runtime", endpoint_url=aws.endpoint, region_name="us-east-1")


def request(*images: bytes, threshold: float = 0.5) -> bytes:
    return json.dumps({"images": [base64.b64encode(image).decode() for image in images],
                       "threshold": threshold}).encode()


def read_when_there(aws: EmbeddedAws, key: str, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return bytes(aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey" or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def test_invoke_endpoint_answers_the_models_body(aws: EmbeddedAws) -> None:
    answer = runtime_client(aws).invoke_endpoint(EndpointName="fake", ContentType="application/json",
                                                 Body=json.dumps({"images": ["abcd", "ef"]}))

    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    results = json.loads(answer["Body"].read())["results"]
    assert [r[0]["points"][2] for r in results] == [4, 2]


@needs_weights
def test_invoke_endpoint_runs_the_offline_detector(aws: EmbeddedAws) -> None:
    answer = runtime_client(aws).invoke_endpoint(EndpointName="yolox-nano", ContentType="application/json",
                                                 Accept="application/json", Body=request(scene_jpeg(0), scene_jpeg(1)))

    results = json.loads(answer["Body"].read())["results"]
    assert len(results) == 2 and all(results)
    assert {det["label"] for found in results for det in found} <= EXPECTED_LABELS


@needs_weights
def test_a_bad_body_is_a_model_error_with_the_models_message(aws: EmbeddedAws) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(aws).invoke_endpoint(EndpointName="yolox-nano", ContentType="application/json", Body=b"{")

    error: dict[str, Any] = dict(raised.value.response)
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "not JSON" in json.loads(error["OriginalMessage"])["error"]
    assert error["Error"]["Message"].startswith("Received client error (400) from primary with message")
    assert error["LogStreamArn"].endswith("/aws/sagemaker/Endpoints/yolox-nano")


def test_a_handler_crash_is_a_model_error_from_a_500(aws: EmbeddedAws) -> None:
    client = runtime_client(aws)
    with pytest.raises(client.exceptions.ModelError) as raised:
        client.invoke_endpoint(EndpointName="fake", ContentType="application/json",
                               Body=json.dumps({"images": ["crash"]}))

    assert raised.value.response["OriginalStatusCode"] == 500
    assert "out of memory" in raised.value.response["OriginalMessage"]


def test_an_unknown_endpoint_is_a_validation_error(aws: EmbeddedAws) -> None:
    client = runtime_client(aws)
    with pytest.raises(ClientError) as raised:
        client.invoke_endpoint(EndpointName="no-such-model", ContentType="application/json", Body=b"{}")
    with pytest.raises(ClientError) as raised_async:
        client.invoke_endpoint_async(EndpointName="no-such-model", InputLocation=f"s3://{BUCKET}/in.json")

    for error in (raised.value.response, raised_async.value.response):
        assert error["Error"]["Code"] == "ValidationError"
        assert error["Error"]["Message"] == "Endpoint no-such-model of account 123456789012 not found."
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invoke_endpoint_async_writes_the_output_object(aws: EmbeddedAws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="auto-annotation/async-input/1.json", Body=json.dumps({"images": ["abc"]}))

    answer = runtime_client(aws).invoke_endpoint_async(
        EndpointName="fake", ContentType="application/json",
        InputLocation=f"s3://{BUCKET}/auto-annotation/async-input/1.json")

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    inference_id = answer["InferenceId"]
    assert answer["OutputLocation"] == f"{OUTPUT}/{inference_id}.out"
    assert answer["FailureLocation"] == f"{FAILURE}/{inference_id}-error.out"
    output = read_when_there(aws, f"auto-annotation/async-results/{inference_id}.out")
    assert json.loads(output)["results"][0][0]["points"] == [0, 0, 3, 1]


@needs_weights
def test_invoke_endpoint_async_of_the_offline_detector_honours_the_inference_id(aws: EmbeddedAws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="auto-annotation/async-input/2.json", Body=request(scene_jpeg(2)))

    answer = runtime_client(aws).invoke_endpoint_async(
        EndpointName="yolox-nano", InferenceId="job-7-chunk-0", ContentType="application/json",
        InputLocation=f"s3://{BUCKET}/auto-annotation/async-input/2.json")

    assert answer["InferenceId"] == "job-7-chunk-0"
    output = json.loads(read_when_there(aws, "auto-annotation/async-results/job-7-chunk-0.out"))
    assert {det["label"] for det in output["results"][0]} <= EXPECTED_LABELS and output["results"][0]


def test_invoke_endpoint_async_writes_the_error_to_the_failure_path(aws: EmbeddedAws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="auto-annotation/async-input/3.json", Body=b'{"image": "x"}')
    client = runtime_client(aws)

    bad = client.invoke_endpoint_async(EndpointName="fake", InferenceId="bad",
                                       InputLocation=f"s3://{BUCKET}/auto-annotation/async-input/3.json")
    missing = client.invoke_endpoint_async(EndpointName="fake",
                                           InputLocation=f"s3://{BUCKET}/auto-annotation/async-input/nothing.json")

    assert bad["FailureLocation"].endswith("/auto-annotation/async-failures/bad-error.out")
    assert b"no images" in read_when_there(aws, "auto-annotation/async-failures/bad-error.out")
    failed = f"auto-annotation/async-failures/{missing['InferenceId']}-error.out"
    assert b"cannot read the input" in read_when_there(aws, failed)
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="auto-annotation/async-results/")


def test_an_endpoint_without_async_paths_refuses_async_invocations(aws: EmbeddedAws) -> None:
    with pytest.raises(ClientError, match="not configured for asynchronous inference"):
        runtime_client(aws).invoke_endpoint_async(EndpointName="realtime-only", InputLocation=f"s3://{BUCKET}/x")


def test_register_model_needs_both_async_paths_as_s3_locations() -> None:
    middleware = AwsMiddleware(lambda environ, start_response: [], None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both"):
        middleware.register_model("m", fake_detector, async_output=OUTPUT)
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        middleware.register_model("m", fake_detector, async_output="/tmp/out", async_failure=FAILURE)


def test_the_runtime_registers_the_offline_detector_in_the_media_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVAT_MEDIA_BUCKET", "cvat-local-mediabucket-1")
    middleware = AwsMiddleware(lambda environ, start_response: [], None)  # type: ignore[arg-type]

    runtime._register_offline_models(middleware)

    if not offline.weights_installed():
        assert middleware.models == {}
        return
    assert isinstance(middleware.models["yolox-nano"], offline.LocalEndpoint)
    assert middleware.models["yolox-nano"]._model is None  # nothing loaded at start
    paths = middleware.async_paths["yolox-nano"]
    assert paths.output == "s3://cvat-local-mediabucket-1/auto-annotation/async-results"
    assert paths.failure == "s3://cvat-local-mediabucket-1/auto-annotation/async-failures"
