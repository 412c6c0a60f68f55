"""template.yaml <-> code: handlers import, environment names match Settings, ASL substitutions
and error names exist, the embedded runtime can deploy every resource type the template uses."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from cvat_serverless.config import SETTINGS_ENV
from cvat_serverless.domain import errors as domain_errors
from cvat_serverless_tools.local.deployer import HANDLED_TYPES, SKIPPED_TYPES, merged_environment
from cvat_serverless_tools.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SAM = yaml_parse((ROOT / "template.yaml").read_text())
FUNCTIONS = {k: v for k, v in SAM["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
STATE_MACHINES = {k: v for k, v in SAM["Resources"].items() if v["Type"] == "AWS::Serverless::StateMachine"}
BUILTIN_ERRORS = re.compile(r"^(States\.|Lambda\.|Sandbox\.)")


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_in_the_template_imports_without_io(logical_id, monkeypatch):
    # No AWS endpoint at all: importing must not need one (no I/O at import time).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    props = FUNCTIONS[logical_id]["Properties"]
    module_name, attr = props["Handler"].rsplit(".", 1)
    path = ROOT / props["CodeUri"] / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"_contract_{logical_id}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, attr))
    assert len(path.read_text().splitlines()) <= 45, "handlers stay thin (STYLE.md)"


def _function_env(logical_id: str) -> set[str]:
    globals_env = SAM["Globals"]["Function"]["Environment"]["Variables"]
    own = FUNCTIONS[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return set(globals_env) | set(own)


def test_every_cvat_variable_in_the_template_is_read_by_settings():
    declared = {v for f in FUNCTIONS for v in _function_env(f) if v.startswith("CVAT_")}
    read = {var for var, _ in SETTINGS_ENV.values()}
    assert declared - read == set(), "template sets variables Settings never reads"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_required_setting_is_set_for_every_function(logical_id):
    required = {var for var, default in SETTINGS_ENV.values() if default is None}
    assert required - _function_env(logical_id) == set()


def test_settings_read_no_variable_the_template_does_not_know():
    declared = {v for f in FUNCTIONS for v in _function_env(f)}
    read = {var for var, _ in SETTINGS_ENV.values()}
    assert read - declared == set()


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_asl_substitutions_are_all_defined_and_all_used(logical_id):
    props = STATE_MACHINES[logical_id]["Properties"]
    text = (ROOT / props["DefinitionUri"]).read_text()
    used = set(re.findall(r"\$\{(\w+)\}", text))
    defined = set(props.get("DefinitionSubstitutions", {}))
    assert used == defined


def _error_names(node: object) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("Retry", "Catch"):
                for rule in value:
                    names.update(rule["ErrorEquals"])
            names |= _error_names(value)
    elif isinstance(node, list):
        for item in node:
            names |= _error_names(item)
    return names


@pytest.mark.parametrize("logical_id", sorted(STATE_MACHINES))
def test_asl_retry_and_catch_name_real_error_classes(logical_id):
    definition = json.loads((ROOT / STATE_MACHINES[logical_id]["Properties"]["DefinitionUri"]).read_text())
    for name in _error_names(definition):
        if BUILTIN_ERRORS.match(name):
            continue
        assert isinstance(getattr(domain_errors, name, None), type), f"{name} is not in domain/errors.py"


def test_the_embedded_runtime_knows_every_resource_type_and_functions_agree_on_env():
    template = load_template(ROOT)
    types = {r["Type"] for r in template.resources.values()}
    assert types - set(HANDLED_TYPES) - SKIPPED_TYPES == set()
    # one process, one environment: no two functions may set a variable differently
    from cvat_serverless_tools.local.deployer import Deployer

    deployment_functions = Deployer(template, "http://x", lambda _: None)
    registry = __import__("cvat_serverless_tools.local.lambdas", fromlist=["FunctionRegistry"]).FunctionRegistry()
    for logical in template.of_type("AWS::Lambda::Function"):
        registry.add(deployment_functions._function(logical))
    merged_environment(registry)  # raises DeployError on a conflict


def test_template_follows_the_platform_decisions():
    res = SAM["Resources"]
    assert SAM["Globals"]["Function"]["Runtime"] == "python3.12"
    assert SAM["Globals"]["Function"]["Architectures"] == ["arm64"]
    assert res["DataTable"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    bucket = res["MediaBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    queue_target = bucket["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"]
    assert queue_target == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
    assert "RedrivePolicy" in res["UploadQueue"]["Properties"]
    ingest = res["IngestFunction"]["Properties"]["Events"]["Uploads"]["Properties"]
    assert ingest["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert SAM["Globals"]["Api"]["BinaryMediaTypes"] == ["*~1*"]
    for machine in STATE_MACHINES.values():
        assert machine["Properties"]["Type"] == "STANDARD"  # the embedded runtime has no Express
