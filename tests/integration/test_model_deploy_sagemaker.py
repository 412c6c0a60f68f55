"""`cvat-serverless model deploy` through the real SageMaker SDK against moto: what it creates in S3,
SageMaker, Application Auto Scaling and CloudWatch.

The SDK lives in its own virtualenv (`make setup-sagemaker`: .venv-sagemaker), so the deploy runs
there in a subprocess, against a moto server on a loopback port (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cvat_serverless_tools.admin.cli import main
from cvat_serverless_tools.models import package
from tests._requirements import require_sagemaker_python

ROOT = Path(__file__).resolve().parents[2]
SAGEMAKER_PYTHON = Path(os.environ.get("CVAT_SERVERLESS_SAGEMAKER_PYTHON") or ROOT / ".venv-sagemaker/bin/python")
ROLE = "arn:aws:iam::123456789012:role/cvat-sagemaker"
BUCKET = "cvat-media"
GPU_INSTANCE = "ml.g4dn.xlarge"  # moto's endpoint configs know no ml.g5 (the default)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _sagemaker_sdk() -> None:
    require_sagemaker_python(SAGEMAKER_PYTHON)  # fails, saying what to set up, where a skip would test nothing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, str]]:
    """A moto server and the environment that sends every boto3 client to it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=BUCKET)
    yield env
    server.stop()


def _client(aws: dict[str, str], service: str) -> Any:
    return boto3.client(service, endpoint_url=aws["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("artifacts")
    onnx = root / "yolox_s.onnx"
    onnx.write_bytes(b"fake-onnx" * 50)  # SageMaker never runs it here
    return {"cpu": package.build(onnx, root / "cpu.tar.gz", labels=["helmet", "vest"]).path,
            "gpu": package.build(onnx, root / "gpu.tar.gz", labels=["helmet", "vest"], gpu=True).path}


def _deploy(aws: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m cvat_serverless_tools.models.deploy` in the SDK's virtualenv (HOME apart: no
    user's SageMaker config applies)."""
    env = {**os.environ, **aws, "HOME": str(tmp_path)}
    env.pop("AWS_PROFILE", None)
    return subprocess.run([str(SAGEMAKER_PYTHON), "-m", "cvat_serverless_tools.models.deploy", "--role", ROLE,
                           "--bucket", BUCKET, *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _models(aws: dict[str, str], prefix: str) -> list[str]:
    names = [m["ModelName"] for m in _client(aws, "sagemaker").list_models()["Models"]]
    return [name for name in names if name.startswith(prefix)]


def _endpoint_config(aws: dict[str, str], endpoint: str) -> dict[str, Any]:
    sagemaker = _client(aws, "sagemaker")
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    return dict(sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"]))


def test_serverless_gets_a_cpu_image_and_the_serverless_config(aws: dict[str, str], artifacts: dict[str, Path],
                                                               tmp_path: Path) -> None:
    done = _deploy(aws, tmp_path, "--artifact", str(artifacts["cpu"]), "--mode", "serverless", "--name", "yolox-s-cpu",
                   "--memory", "4096", "--max-concurrency", "7")
    assert done.returncode == 0, done.stderr

    entry = json.loads(done.stdout)  # stdout is the registry entry alone
    assert (entry["id"], entry["endpoint"], entry["mode"], entry["max_payload_bytes"]) == (
        "yolox-s-cpu", "yolox-s-cpu", "serverless", 4_000_000)
    assert [label["name"] for label in entry["labels_v2"]] == ["helmet", "vest"]

    config = _endpoint_config(aws, "yolox-s-cpu")
    [variant] = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 7}
    assert "InstanceType" not in variant and not config.get("AsyncInferenceConfig")
    container = _client(aws, "sagemaker").describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]
    assert container["Image"].endswith("/pytorch-inference:2.6.0-cpu-py312")
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    sha = package.inspect(artifacts["cpu"]).sha256
    key = f"auto-annotation/models/yolox-s-cpu/{sha[:16]}/model.tar.gz"
    assert container["ModelDataUrl"] == f"s3://{BUCKET}/{key}"
    uploaded = _client(aws, "s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert uploaded == artifacts["cpu"].read_bytes()


def test_async_writes_to_the_media_bucket_and_scales_to_zero(aws: dict[str, str], artifacts: dict[str, Path],
                                                              tmp_path: Path) -> None:
    done = _deploy(aws, tmp_path, "--artifact", str(artifacts["gpu"]), "--mode", "async", "--name", "yolox-s-gpu",
                   "--instance-type", GPU_INSTANCE, "--max-concurrency", "2", "--max-instances", "3")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["max_payload_bytes"] == 100_000_000

    config = _endpoint_config(aws, "yolox-s-gpu")
    [variant] = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == (GPU_INSTANCE, 1)
    assert config["AsyncInferenceConfig"] == {
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/auto-annotation/async-results/",
                         "S3FailurePath": f"s3://{BUCKET}/auto-annotation/async-failures/"},
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2}}
    image = _client(aws, "sagemaker").describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]["Image"]
    assert image.endswith("/pytorch-inference:2.6.0-gpu-py312")

    autoscaling = _client(aws, "application-autoscaling")
    resource = "endpoint/yolox-s-gpu/variant/AllTraffic"
    [target] = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])[
        "ScalableTargets"]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        "sagemaker:variant:DesiredInstanceCount", 0, 3)
    policies = {p["PolicyType"]: p for p in autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource)["ScalingPolicies"]}
    tracking = policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["CustomizedMetricSpecification"]["Dimensions"] == [{"Name": "EndpointName",
                                                                        "Value": "yolox-s-gpu"}]
    step = policies["StepScaling"]
    assert step["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]
    [alarm] = _client(aws, "cloudwatch").describe_alarms(AlarmNamePrefix="yolox-s-gpu")["MetricAlarms"]
    assert (alarm["MetricName"], alarm["Namespace"]) == ("HasBacklogWithoutCapacity", "AWS/SageMaker")
    assert alarm["AlarmActions"] == [step["PolicyARN"]]


def test_realtime_warns_of_the_hourly_cost(aws: dict[str, str], artifacts: dict[str, Path], tmp_path: Path) -> None:
    done = _deploy(aws, tmp_path, "--artifact", str(artifacts["gpu"]), "--mode", "realtime", "--name", "yolox-s-rt",
                   "--instance-type", GPU_INSTANCE)
    assert done.returncode == 0, done.stderr

    assert "EVERY HOUR WHILE IT IS UP" in done.stderr and "$0.74/hour" in done.stderr
    config = _endpoint_config(aws, "yolox-s-rt")
    assert config["ProductionVariants"][0]["InstanceType"] == GPU_INSTANCE
    assert not config.get("AsyncInferenceConfig")
    assert not _client(aws, "application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["endpoint/yolox-s-rt/variant/AllTraffic"])["ScalableTargets"]


def test_a_gpu_artifact_is_refused_serverless_before_anything_is_created(
        aws: dict[str, str], artifacts: dict[str, Path], tmp_path: Path) -> None:
    done = _deploy(aws, tmp_path, "--artifact", str(artifacts["gpu"]), "--mode", "serverless", "--name", "wrong")

    assert done.returncode == 2
    assert "serverless endpoints are CPU only: package it again without --gpu" in done.stderr
    assert not _models(aws, "wrong-")


def test_redeploying_the_same_artifact_reuses_what_exists(aws: dict[str, str], artifacts: dict[str, Path],
                                                          tmp_path: Path) -> None:
    args = ("--artifact", str(artifacts["cpu"]), "--mode", "serverless", "--name", "yolox-again")
    assert _deploy(aws, tmp_path, *args).returncode == 0
    again = _deploy(aws, tmp_path, *args)

    assert again.returncode == 0, again.stderr
    assert "exists: reusing it" in again.stderr and "already runs" in again.stderr
    assert len(_models(aws, "yolox-again-")) == 1


def test_the_cli_deploys_through_the_sdk_virtualenv(aws: dict[str, str], artifacts: dict[str, Path],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cvat-serverless model deploy` from the main environment, which has no SDK: the command runs
    the deploy in the SDK's virtualenv with the same arguments."""
    for key, value in {**aws, "HOME": str(tmp_path), "CVAT_SERVERLESS_SAGEMAKER_PYTHON": str(SAGEMAKER_PYTHON)}.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "function.json"

    code = main(["model", "deploy", "--artifact", str(artifacts["cpu"]), "--mode", "serverless",
                 "--name", "yolox-cli", "--role", ROLE, "--bucket", BUCKET, "--out", str(out)])

    assert code == 0
    assert json.loads(out.read_text())["endpoint"] == "yolox-cli"
    assert _endpoint_config(aws, "yolox-cli")["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"] == 3072
