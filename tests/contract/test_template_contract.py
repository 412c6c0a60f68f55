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


def test_the_core_api_knows_every_workflow_its_requests_list_names():
    # /api/requests lists the requests of every workflow and repairs those whose execution ended
    # (services/requests.py): without a workflow's ARN the whole list fails. The embedded runtime
    # merges every function's environment, so only this reading of the template catches it.
    workflows = {var for var, _ in SETTINGS_ENV.values() if var.endswith("_STATE_MACHINE_ARN")}
    assert workflows - _function_env("CoreApiFunction") == set()


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


# --- the web UI behind CloudFront (issue 13) ---------------------------------------------------
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution() -> dict:
    return SAM["Resources"]["UiDistribution"]["Properties"]["DistributionConfig"]


def test_ui_hosting_resources_hang_on_one_condition():
    ui = {"UiBucket", "UiBucketPolicy", "UiOriginAccessControl", "UiSpaRouteFunction",
          "ApiForwardedHostFunction", "UiSecurityHeadersPolicy", "ApiSecurityHeadersPolicy", "UiDistribution",
          "EdgeSecret"}
    assert {k for k, v in SAM["Resources"].items() if v.get("Condition") == "HostUi"} == ui
    assert {k for k, v in SAM["Outputs"].items() if v.get("Condition") == "HostUi"} == {
        "UiUrl", "UiDistributionId", "UiBucketName"}


def test_ui_bucket_is_private_encrypted_and_read_only_by_the_distribution_over_oac():
    bucket = SAM["Resources"]["UiBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert "WebsiteConfiguration" not in bucket
    statements = SAM["Resources"]["UiBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    allow = allows[0]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${UiDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    oac = SAM["Resources"]["UiOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    origin = next(o for o in _distribution()["Origins"] if o["Id"] == "UiBucket")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["UiOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""


def test_ui_is_cached_and_client_routes_are_rewritten_at_the_edge_not_by_error_pages():
    config = _distribution()
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "UiBucket"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["ResponseHeadersPolicyId"] == {"Ref": "UiSecurityHeadersPolicy"}
    spa = default["FunctionAssociations"][0]
    assert spa["EventType"] == "viewer-request"
    assert spa["FunctionARN"]["Fn::GetAtt"][0] == "UiSpaRouteFunction"
    # error pages would answer the API's 403/404 with index.html
    assert "CustomErrorResponses" not in config
    assert config["HttpVersion"] == "http2and3"


def test_api_behaviour_is_uncached_forwards_cookies_and_headers_and_names_the_viewer_host():
    config = _distribution()
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["TargetOriginId"] == "CvatApi"
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # cookies, X-CSRFToken, Origin, query
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "redirect-to-https"
    (function,) = api["FunctionAssociations"]
    assert function["FunctionARN"]["Fn::GetAtt"][0] == "ApiForwardedHostFunction"  # never the SPA rewrite
    code = SAM["Resources"]["ApiForwardedHostFunction"]["Properties"]["FunctionCode"]
    assert "x-forwarded-host" in code and "request.uri" not in code
    origin = next(o for o in config["Origins"] if o["Id"] == "CvatApi")
    assert origin["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert "${CvatApi}.execute-api." in origin["DomainName"]["Fn::Sub"]


def test_ui_security_headers_match_the_embedded_runtime():
    from cvat_serverless_tools.local.apigw import UI_SECURITY_HEADERS

    config = SAM["Resources"]["UiSecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == UI_SECURITY_HEADERS["X-Frame-Options"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == UI_SECURITY_HEADERS["Referrer-Policy"]
    assert UI_SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://${MediaBucket}.s3." in csp  # presigned media URLs


def test_the_embedded_runtime_deploys_without_the_ui_hosting():
    from cvat_serverless_tools.local.deployer import Deployer
    from cvat_serverless_tools.local.runtime import RuntimeConfig

    template = load_template(ROOT)
    overrides = RuntimeConfig().parameter_overrides
    assert overrides["UiHosting"] == "false"
    off = Deployer(template, "http://x", lambda _: None, overrides)
    assert set(off.template.of_type("AWS::CloudFront::Distribution", "AWS::S3::Bucket")) == {"MediaBucket"}
    assert "UiUrl" not in off.template.outputs
    on = Deployer(template, "http://x", lambda _: None)
    assert "UiBucket" in on.template.resources and "UiUrl" in on.template.outputs
