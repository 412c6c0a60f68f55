"""`cvat-serverless model deploy` before any AWS call: its checks, the registry entry it answers and the
hand-over to the SageMaker SDK's virtualenv (the AWS calls: tests/integration/test_model_deploy_sagemaker.py)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from cvat_serverless_tools.admin import models as model_commands
from cvat_serverless_tools.admin.cli import main
from cvat_serverless_tools.models import deploy, package
from cvat_serverless_tools.models.deploy import DeployError, DeployRequest

ROLE = "arn:aws:iam::123456789012:role/cvat-sagemaker"


def _request(tmp_path: Path, **changes: object) -> DeployRequest:
    values: dict[str, object] = {"artifact": tmp_path / "model.tar.gz", "mode": "serverless", "endpoint": "yolox-s",
                                 "role_arn": ROLE, "bucket": "cvat-media"}
    values.update(changes)
    return DeployRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "message"), [
    ({"mode": "batch"}, "mode must be one of serverless, async, realtime"),
    ({"endpoint": "yolox_s"}, "is not a SageMaker endpoint name"),
    ({"endpoint": "x" * 64}, "is not a SageMaker endpoint name"),
    ({"role_arn": "cvat-sagemaker"}, "must be an IAM role ARN"),
    ({"bucket": "s3://cvat-media/x"}, "must be a bucket name"),
    ({"memory_mb": 3000}, "serverless memory must be one of"),
    ({"instance_type": "ml.g5.xlarge"}, "serverless endpoints have no instance type"),
    ({"max_concurrency": 201}, "serverless max concurrency is 1 to 200"),
    ({"mode": "async", "max_instances": 0}, "max instances must be at least 1"),
    ({"batch_size": 0}, "batch size must be at least 1"),
])
def test_inconsistent_requests_are_refused(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    with pytest.raises(DeployError, match=message):
        deploy.validate(_request(tmp_path, **changes))


def test_instance_endpoints_default_to_a_gpu(tmp_path: Path) -> None:
    assert deploy.instance_type(_request(tmp_path)) is None
    assert deploy.instance_type(_request(tmp_path, mode="async")) == "ml.g5.xlarge"
    assert deploy.instance_type(_request(tmp_path, mode="realtime", instance_type="ml.m5.xlarge")) == "ml.m5.xlarge"
    deploy.validate(_request(tmp_path, mode="async"))  # complete as given


def test_a_gpu_artifact_cannot_go_serverless_and_a_cpu_one_on_a_gpu_is_warned(tmp_path: Path) -> None:
    gpu = package.ArtifactInfo("0" * 64, gpu=True, labels=("a",))
    cpu = package.ArtifactInfo("0" * 64, gpu=False, labels=("a",))
    warnings: list[str] = []

    with pytest.raises(DeployError, match="serverless endpoints are CPU only: package it again without --gpu"):
        deploy.check_variant(_request(tmp_path), gpu, warnings.append)
    with pytest.raises(DeployError, match=r"ml\.m5\.xlarge has no GPU"):
        deploy.check_variant(_request(tmp_path, mode="realtime", instance_type="ml.m5.xlarge"), gpu, warnings.append)
    deploy.check_variant(_request(tmp_path, mode="async"), cpu, warnings.append)
    deploy.check_variant(_request(tmp_path, mode="async"), gpu, warnings.append)

    assert len(warnings) == 1 and "package it with --gpu" in warnings[0]


@pytest.mark.parametrize(("mode", "payload"), [("serverless", 4_000_000), ("async", 100_000_000),
                                               ("realtime", 6_000_000)])
def test_the_registry_entry_follows_the_wire(tmp_path: Path, mode: str, payload: int) -> None:
    entry = deploy.function_entry(_request(tmp_path, mode=mode, batch_size=4), ("helmet", "vest"))

    assert set(entry) == {"id", "name", "kind", "description", "version", "framework", "labels_v2", "mode",
                          "endpoint", "batch_size", "max_payload_bytes"}
    assert re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", entry["id"])
    assert (entry["id"], entry["endpoint"], entry["mode"], entry["kind"]) == ("yolox-s", "yolox-s", mode, "detector")
    assert entry["labels_v2"] == [{"name": "helmet", "type": "rectangle", "attributes": []},
                                  {"name": "vest", "type": "rectangle", "attributes": []}]
    assert (entry["batch_size"], entry["max_payload_bytes"]) == (4, payload)


def test_names_given_for_the_registry_win(tmp_path: Path) -> None:
    entry = deploy.function_entry(_request(tmp_path, function_id="ppe", display_name="PPE (YOLOX-s)",
                                           description="helmets"), ("helmet",))
    assert (entry["id"], entry["name"], entry["description"], entry["endpoint"]) == (
        "ppe", "PPE (YOLOX-s)", "helmets", "yolox-s")


def test_realtime_prints_the_hourly_cost(tmp_path: Path) -> None:
    said: list[str] = []
    deploy.warn_hourly_cost(_request(tmp_path, mode="realtime"), said.append)

    assert "EVERY HOUR WHILE IT IS UP" in said[0] and "$1.41/hour" in said[0]
    assert "delete-endpoint --endpoint-name yolox-s" in said[0]


def test_the_arguments_survive_the_hand_over_to_the_sdk_virtualenv() -> None:
    parser = argparse.ArgumentParser()
    deploy.add_arguments(parser)
    given = parser.parse_args(["--artifact", "m.tar.gz", "--mode", "async", "--name", "e", "--role", ROLE,
                               "--bucket", "b", "--instance-type", "ml.g4dn.xlarge", "--max-concurrency", "2",
                               "--max-instances", "3", "--region", "eu-west-1", "--display-name", "E (GPU)",
                               "--batch-size", "16", "--no-wait", "--out", "e.json"])

    assert parser.parse_args(deploy.argv_from_args(given)) == given


def test_without_the_sdk_the_command_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(model_commands.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(model_commands, "sagemaker_python", lambda: None)

    code = main(["model", "deploy", "--artifact", str(tmp_path / "m.tar.gz"), "--mode", "serverless",
                 "--name", "e", "--role", ROLE, "--bucket", "b"])

    assert code == 2
    assert "make setup-sagemaker" in capsys.readouterr().err
