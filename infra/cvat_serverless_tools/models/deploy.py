"""Deploy a packaged detector (``package.py``'s model.tar.gz) to a SageMaker endpoint with the
SageMaker Python SDK (v3, ``sagemaker.core``), and return its registry entry ("function") for
``cvat-serverless function add``.

Modes (``../shared/reference/ui-models-webhooks-research.md`` §3.3):
- ``serverless``: CPU only, $0 idle, 4 MB request/response, 60 s per invocation;
- ``async``: an instance endpoint (GPU by default) behind an S3 queue, scaled to zero with
  application-autoscaling (MinCapacity 0, target tracking on ``ApproximateBacklogSizePerInstance``,
  and the step policy plus CloudWatch alarm on ``HasBacklogWithoutCapacity`` that brings it back
  from 0, as AWS documents for asynchronous endpoints); results and failures go to the media
  bucket's ``auto-annotation/async-results/`` and ``auto-annotation/async-failures/``;
- ``realtime``: an instance endpoint that bills by the hour while it exists, used or not.

The image is an AWS Deep Learning Container (PyTorch inference, CPU or GPU by instance type) whose
SageMaker inference toolkit runs ``code/inference.py`` from the artifact and pip-installs
``code/requirements.txt`` (onnxruntime) when it starts.

The SDK lives in its own virtualenv (``make setup-sagemaker``: ``.venv-sagemaker``); this module
imports it only inside the functions that need it, so the main environment can import the module
and build the command line. ``python -m cvat_serverless_tools.models.deploy`` runs it there.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .package import ArtifactInfo, PackageError, inspect, labels_v2

MODES = ("serverless", "async", "realtime")
# The PyTorch inference DLC: its toolkit serves model_fn/input_fn/predict_fn/output_fn scripts;
# torch itself is unused (the handler runs onnxruntime), but no ONNX Runtime DLC exists.
FRAMEWORK = "pytorch"
FRAMEWORK_VERSION = "2.6.0"
PY_VERSION = "py312"
DEFAULT_MEMORY_MB = 3072
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
DEFAULT_SERVERLESS_CONCURRENCY = 5
DEFAULT_GPU_INSTANCE = "ml.g5.xlarge"
DEFAULT_ASYNC_CONCURRENCY = 4  # requests each instance's container takes at once
DEFAULT_MAX_INSTANCES = 1
ASYNC_BACKLOG_TARGET = 5.0  # queued requests per instance that target tracking aims at
ASYNC_SCALE_IN_COOLDOWN_S = 600
ASYNC_SCALE_OUT_COOLDOWN_S = 300
VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ARTIFACT_PREFIX = "auto-annotation/models/"
ASYNC_RESULTS_PREFIX = "auto-annotation/async-results/"  # wire.md: the worker reads these
ASYNC_FAILURES_PREFIX = "auto-annotation/async-failures/"
MAX_PAYLOAD_BYTES = {"serverless": 4_000_000, "realtime": 6_000_000, "async": 100_000_000}
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
GPU_FAMILIES = ("ml.g", "ml.p")
# Rough us-east-1 on-demand prices of SageMaker real-time hosting, only for the warning; the
# pricing page is the authority.
HOURLY_USD = {"ml.g4dn.xlarge": 0.74, "ml.g5.xlarge": 1.41, "ml.g6.xlarge": 1.17, "ml.m5.xlarge": 0.23,
              "ml.c5.xlarge": 0.20}


class DeployError(ValueError):
    """The deploy request is inconsistent (mode, instance, artifact variant, names)."""


@dataclass(frozen=True)
class DeployRequest:
    artifact: Path
    mode: str
    endpoint: str
    role_arn: str
    bucket: str
    instance_type: str | None = None  # async/realtime; default ml.g5.xlarge
    memory_mb: int = DEFAULT_MEMORY_MB  # serverless
    max_concurrency: int | None = None  # serverless MaxConcurrency / async per-instance invocations
    max_instances: int = DEFAULT_MAX_INSTANCES  # async autoscaling MaxCapacity
    region: str | None = None
    function_id: str | None = None  # default: the endpoint name
    display_name: str | None = None
    description: str | None = None
    batch_size: int = 8
    wait: bool = True  # until InService; async always waits (autoscaling needs the variant)


@dataclass
class Deployment:
    """What was created, and the registry entry."""

    function: dict[str, Any]
    image_uri: str
    model_data_url: str
    model_name: str
    endpoint_config_name: str
    updated: bool = False  # an existing endpoint was moved to the new config
    scaling: dict[str, Any] = field(default_factory=dict)


def validate(request: DeployRequest) -> None:
    if request.mode not in MODES:
        raise DeployError(f"mode must be one of {', '.join(MODES)}, not {request.mode!r}")
    if not ENDPOINT_NAME.match(request.endpoint):
        raise DeployError(f"{request.endpoint!r} is not a SageMaker endpoint name "
                          "(letters, digits and hyphens, at most 63, starting with a letter or digit)")
    if not ROLE_ARN.match(request.role_arn):
        raise DeployError(f"--role must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
                          f"not {request.role_arn!r}")
    if not request.bucket or "/" in request.bucket or request.bucket.startswith("s3:"):
        raise DeployError(f"--bucket must be a bucket name (the stack's media bucket), not {request.bucket!r}")
    if request.mode == "serverless":
        if request.memory_mb not in SERVERLESS_MEMORY_MB:
            raise DeployError(f"serverless memory must be one of {SERVERLESS_MEMORY_MB} MB, not {request.memory_mb}")
        if request.instance_type:
            raise DeployError("serverless endpoints have no instance type (they are CPU only); "
                              "use --mode async or realtime for an instance")
        if request.max_concurrency is not None and not 1 <= request.max_concurrency <= 200:
            raise DeployError("serverless max concurrency is 1 to 200")
    else:
        if request.max_concurrency is not None and request.max_concurrency < 1:
            raise DeployError("max concurrency must be at least 1")
        if request.max_instances < 1:
            raise DeployError("max instances must be at least 1")
    if request.batch_size < 1:
        raise DeployError("batch size must be at least 1")


def instance_type(request: DeployRequest) -> str | None:
    return None if request.mode == "serverless" else (request.instance_type or DEFAULT_GPU_INSTANCE)


def is_gpu(instance: str | None) -> bool:
    return bool(instance) and str(instance).startswith(GPU_FAMILIES)


def check_variant(request: DeployRequest, info: ArtifactInfo, warn: Callable[[str], None]) -> None:
    instance = instance_type(request)
    if info.gpu and not is_gpu(instance):
        where = "serverless endpoints are CPU only" if instance is None else f"{instance} has no GPU"
        raise DeployError(f"{request.artifact} was packaged for GPUs (onnxruntime-gpu) but {where}: "
                          "package it again without --gpu")
    if is_gpu(instance) and not info.gpu:
        warn(f"warning: {request.artifact} runs onnxruntime on the CPU, so the GPU of {instance} stays idle: "
             "package it with --gpu")


def function_entry(request: DeployRequest, labels: tuple[str, ...]) -> dict[str, Any]:
    """The registry entry (wire.md) for the deployed endpoint."""
    mode_words = {"serverless": "SageMaker serverless (CPU)", "async": f"SageMaker async ({instance_type(request)},"
                  " scales to zero)", "realtime": f"SageMaker real-time ({instance_type(request)})"}
    return {
        "id": request.function_id or request.endpoint,
        "name": request.display_name or request.endpoint,
        "kind": "detector",
        "description": request.description or (
            f"YOLOX ONNX detector ({len(labels)} classes) on {mode_words[request.mode]}"),
        "version": 1,
        "framework": "onnx",
        "labels_v2": labels_v2(labels),
        "mode": request.mode,
        "endpoint": request.endpoint,
        "batch_size": request.batch_size,
        "max_payload_bytes": MAX_PAYLOAD_BYTES[request.mode],
    }


def retrieve_image(request: DeployRequest, region: str) -> str:
    """The DLC image URI, through the SDK's image catalogue: the CPU image for serverless, and the
    one matching the instance type (GPU for ml.g*/ml.p*) otherwise."""
    from sagemaker.core import image_uris
    from sagemaker.core.inference_config import ServerlessInferenceConfig

    if request.mode == "serverless":
        return str(image_uris.retrieve(
            FRAMEWORK, region, version=FRAMEWORK_VERSION, py_version=PY_VERSION, image_scope="inference",
            serverless_inference_config=ServerlessInferenceConfig(
                memory_size_in_mb=request.memory_mb, max_concurrency=_serverless_concurrency(request))))
    return str(image_uris.retrieve(FRAMEWORK, region, version=FRAMEWORK_VERSION, py_version=PY_VERSION,
                                   image_scope="inference", instance_type=instance_type(request)))


def container_environment(request: DeployRequest, region: str) -> dict[str, str]:
    """What the DLC's inference toolkit reads: the script to run, from where, and how many model
    server workers (one on serverless: each loads the model and the memory is small)."""
    env = {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": region,
    }
    if request.mode == "serverless":
        env["SAGEMAKER_MODEL_SERVER_WORKERS"] = "1"
    return env


def deploy(request: DeployRequest, session: Any = None, *,
           log: Callable[[str], None] | None = None) -> Deployment:
    """Upload the artifact, create the Model, EndpointConfig and Endpoint (or move an existing
    endpoint to the new config) and, for async, the scaling to zero. ``session``: a boto3 Session
    (default: the environment's credentials and region)."""
    import boto3
    from sagemaker.core.helper.session_helper import Session, container_def, production_variant
    from sagemaker.core.inference_config import AsyncInferenceConfig, ServerlessInferenceConfig

    say = log or (lambda message: print(message, file=sys.stderr))
    validate(request)
    try:
        info = inspect(request.artifact)
    except FileNotFoundError:
        raise DeployError(
            f"no artifact at {request.artifact}: build one with `cvat-serverless model package`") from None
    check_variant(request, info, say)
    if request.mode == "realtime":
        warn_hourly_cost(request, say)

    session = session or boto3.Session(region_name=request.region)
    region = session.region_name
    if not region:
        raise DeployError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    sdk = Session(boto_session=session, default_bucket=request.bucket)
    image = retrieve_image(request, region)
    environment = container_environment(request, region)
    instance = instance_type(request)
    # names keyed on what they hold: deploying the same artifact and settings again reuses them
    digest = hashlib.sha256(json.dumps([info.sha256, image, environment, request.mode, request.memory_mb,
                                        request.max_concurrency, instance]).encode()).hexdigest()[:10]
    # keyed on the content: a rebuilt identical artifact lands on the same key
    key = f"{ARTIFACT_PREFIX}{request.endpoint}/{info.sha256[:16]}/model.tar.gz"
    model_data_url = f"s3://{request.bucket}/{key}"
    say(f"uploading {request.artifact} to {model_data_url}")
    session.client("s3").upload_file(str(request.artifact), request.bucket, key)

    model_name = f"{request.endpoint[:52]}-{digest}"
    say(f"creating model {model_name} ({image})")
    sdk.create_model(model_name, role=request.role_arn,
                     container_defs=container_def(image, model_data_url=model_data_url, env=environment))

    config_name = model_name
    if request.mode == "serverless":
        serverless = ServerlessInferenceConfig(memory_size_in_mb=request.memory_mb,
                                               max_concurrency=_serverless_concurrency(request))
        variant = production_variant(model_name=model_name, variant_name=VARIANT,
                                     serverless_inference_config=serverless._to_request_dict())
    else:
        variant = production_variant(model_name=model_name, variant_name=VARIANT, instance_type=instance,
                                     initial_instance_count=1)
    async_config = None
    if request.mode == "async":
        async_config = AsyncInferenceConfig(
            output_path=f"s3://{request.bucket}/{ASYNC_RESULTS_PREFIX}",
            failure_path=f"s3://{request.bucket}/{ASYNC_FAILURES_PREFIX}",
            max_concurrent_invocations_per_instance=request.max_concurrency or DEFAULT_ASYNC_CONCURRENCY,
        )._to_request_dict()
    if _exists(lambda: sdk.sagemaker_client.describe_endpoint_config(EndpointConfigName=config_name)):
        say(f"endpoint config {config_name} exists: reusing it")
    else:
        say(f"creating endpoint config {config_name} ({request.mode})")
        sdk.create_endpoint_config(config_name, [variant], async_inference_config_dict=async_config)

    wait = request.wait or request.mode == "async"  # autoscaling needs the variant in service
    existing = _get_or_none(lambda: sdk.sagemaker_client.describe_endpoint(EndpointName=request.endpoint))
    updated = existing is not None and existing["EndpointConfigName"] != config_name
    if existing is None:
        say(f"creating endpoint {request.endpoint}")
        sdk.create_endpoint(request.endpoint, config_name, wait=False)
    elif updated:
        say(f"endpoint {request.endpoint} exists: updating it to {config_name}")
        sdk.update_endpoint(request.endpoint, config_name, wait=False)
    else:
        say(f"endpoint {request.endpoint} already runs {config_name}")
    if wait:
        say(f"waiting until {request.endpoint} is InService (minutes for an instance endpoint)")
        wait_in_service(sdk.sagemaker_client, request.endpoint)

    scaling: dict[str, Any] = {}
    if request.mode == "async":
        scaling = scale_to_zero(session, request.endpoint, request.max_instances)
    return Deployment(function_entry(request, info.labels), image, model_data_url, model_name, config_name,
                      updated, scaling)


def scale_to_zero(session: Any, endpoint: str, max_instances: int) -> dict[str, Any]:
    """Application Auto Scaling for an async endpoint's variant: MinCapacity 0; target tracking on
    the backlog per instance (scales out, and in to zero once the queue is empty); a step policy
    that adds one instance when requests wait with no instance, fired by a CloudWatch alarm on
    ``HasBacklogWithoutCapacity`` (target tracking cannot scale out from 0 instances)."""
    autoscaling = session.client("application-autoscaling")
    cloudwatch = session.client("cloudwatch")
    resource_id = f"endpoint/{endpoint}/variant/{VARIANT}"
    common = {"ServiceNamespace": "sagemaker", "ResourceId": resource_id, "ScalableDimension": SCALABLE_DIMENSION}
    autoscaling.register_scalable_target(MinCapacity=0, MaxCapacity=max_instances, **common)
    backlog_policy = f"{endpoint}-backlog-per-instance"
    autoscaling.put_scaling_policy(
        PolicyName=backlog_policy, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": ASYNC_BACKLOG_TARGET,
            "CustomizedMetricSpecification": {
                "MetricName": "ApproximateBacklogSizePerInstance", "Namespace": "AWS/SageMaker",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}], "Statistic": "Average"},
            "ScaleInCooldown": ASYNC_SCALE_IN_COOLDOWN_S, "ScaleOutCooldown": ASYNC_SCALE_OUT_COOLDOWN_S},
        **common)
    from_zero_policy = f"{endpoint}-has-backlog-without-capacity"
    step = autoscaling.put_scaling_policy(
        PolicyName=from_zero_policy, PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Average",
            "Cooldown": ASYNC_SCALE_OUT_COOLDOWN_S,
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]},
        **common)
    alarm = f"{endpoint}-has-backlog-without-capacity"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, MetricName="HasBacklogWithoutCapacity", Namespace="AWS/SageMaker",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}], Statistic="Average", Period=60,
        EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="missing", AlarmActions=[step["PolicyARN"]])
    return {"resource_id": resource_id, "min_capacity": 0, "max_capacity": max_instances,
            "policies": [backlog_policy, from_zero_policy], "alarm": alarm}


def wait_in_service(sagemaker: Any, endpoint: str, *, timeout_s: float = 3600, poll_s: float = 20) -> None:
    """Poll until ``endpoint`` is InService; looks first (the SDK's waiter sleeps first)."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        status = described["EndpointStatus"]
        if status == "InService":
            return
        if status in ("Failed", "OutOfService", "UpdateRollbackFailed"):
            raise DeployError(f"endpoint {endpoint} is {status}: {described.get('FailureReason', 'no reason given')} "
                              "(its CloudWatch logs: /aws/sagemaker/Endpoints/" + endpoint + ")")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"endpoint {endpoint} is still {status} after {timeout_s:.0f} s")
        time.sleep(poll_s)  # a remote service's progress, not a race between our threads


def warn_hourly_cost(request: DeployRequest, say: Callable[[str], None]) -> None:
    instance = instance_type(request) or ""
    price = HOURLY_USD.get(instance)
    rate = f"about ${price:.2f}/hour in us-east-1" if price else "its hourly instance price"
    bar = "!" * 78
    say(f"{bar}\n"
        f"!! A REAL-TIME endpoint on {instance} costs money EVERY HOUR WHILE IT IS UP, used or not:\n"
        f"!! {rate} (~${(price or 0) * 24 * 30:.0f}/month); see the SageMaker pricing page.\n"
        f"!! Delete it when done: aws sagemaker delete-endpoint --endpoint-name {request.endpoint}\n"
        f"!! For $0 idle use --mode serverless (CPU) or --mode async (GPU, scales to zero).\n"
        f"{bar}")


def _serverless_concurrency(request: DeployRequest) -> int:
    return request.max_concurrency or DEFAULT_SERVERLESS_CONCURRENCY


def _get_or_none(get: Callable[[], Any]) -> Any:
    from botocore.exceptions import ClientError

    try:
        return get()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code in ("ValidationException", "ValidationError", "ResourceNotFound") and "ould not find" in message:
            return None
        raise


def _exists(get: Callable[[], Any]) -> bool:
    return _get_or_none(get) is not None


# ------------------------------------------------------------------------------------ command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifact", required=True, type=Path, help="model.tar.gz from `model package`")
    parser.add_argument("--mode", required=True, choices=MODES,
                        help="serverless: CPU, $0 idle; async: GPU instance, scales to zero; "
                             "realtime: GPU instance billed hourly while up")
    parser.add_argument("--name", required=True, help="the SageMaker endpoint name (also the function id)")
    parser.add_argument("--role", required=True, help="the SageMaker execution role ARN (README.md: its IAM)")
    parser.add_argument("--bucket", required=True,
                        help="the stack's media bucket: the artifact goes under auto-annotation/models/, "
                             "async results under auto-annotation/async-results/")
    parser.add_argument("--instance-type", help=f"async/realtime instance (default {DEFAULT_GPU_INSTANCE})")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB,
                        help="serverless memory in MB: 1024..6144 in 1024 steps (default %(default)s)")
    parser.add_argument("--max-concurrency", type=int,
                        help=f"serverless MaxConcurrency (default {DEFAULT_SERVERLESS_CONCURRENCY}) or async "
                             f"invocations per instance (default {DEFAULT_ASYNC_CONCURRENCY})")
    parser.add_argument("--max-instances", type=int, default=DEFAULT_MAX_INSTANCES,
                        help="async: the most instances autoscaling starts (default %(default)s)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    parser.add_argument("--function-id", help="the registry id (default: the endpoint name)")
    parser.add_argument("--display-name", help="the name the UI shows (default: the endpoint name)")
    parser.add_argument("--description")
    parser.add_argument("--batch-size", type=int, default=8, help="images per request (default %(default)s)")
    parser.add_argument("--no-wait", action="store_true",
                        help="serverless/realtime: return before the endpoint is InService")
    parser.add_argument("--out", type=Path, help="write the registry entry here (default: stdout)")


def request_from_args(args: argparse.Namespace) -> DeployRequest:
    return DeployRequest(
        artifact=args.artifact, mode=args.mode, endpoint=args.name, role_arn=args.role, bucket=args.bucket,
        instance_type=args.instance_type, memory_mb=args.memory, max_concurrency=args.max_concurrency,
        max_instances=args.max_instances, region=args.region, function_id=args.function_id,
        display_name=args.display_name, description=args.description, batch_size=args.batch_size,
        wait=not args.no_wait)


def argv_from_args(args: argparse.Namespace) -> list[str]:
    """The command line that ``add_arguments`` parses back into ``args`` (to run the deploy in the
    SageMaker virtualenv)."""
    argv: list[str] = []
    for option, value in (("--artifact", args.artifact), ("--mode", args.mode), ("--name", args.name),
                          ("--role", args.role), ("--bucket", args.bucket), ("--instance-type", args.instance_type),
                          ("--memory", args.memory), ("--max-concurrency", args.max_concurrency),
                          ("--max-instances", args.max_instances), ("--region", args.region),
                          ("--function-id", args.function_id), ("--display-name", args.display_name),
                          ("--description", args.description), ("--batch-size", args.batch_size),
                          ("--out", args.out)):
        if value is not None:
            argv += [option, str(value)]
    return [*argv, "--no-wait"] if args.no_wait else argv


def run(args: argparse.Namespace) -> int:
    try:
        # the SDK prints its waiting dots to stdout, which carries the registry entry
        with contextlib.redirect_stdout(sys.stderr):
            deployment = deploy(request_from_args(args))
    except (DeployError, PackageError) as error:
        print(f"cvat-serverless model deploy: {error}", file=sys.stderr)
        return 2
    text = json.dumps(deployment.function, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
        print(f"registry entry written to {args.out}: register it with `cvat-serverless function add {args.out}`",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cvat_serverless_tools.models.deploy",
                                     description="Deploy a packaged detector to a SageMaker endpoint.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
