"""The public edge of a deployed stack, read off template.yaml: who may reach what, how fast, over
what, and what is logged (issue 16). The embedded runtime ignores these resources (deployer.py's
SKIPPED_TYPES); what the app itself enforces is tested through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from cvat_serverless_tools.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SAM = yaml_parse((ROOT / "template.yaml").read_text())
RESOURCES: dict[str, dict[str, Any]] = SAM["Resources"]
TRANSFORMED = load_template(ROOT, "cvat-edge").resources
PARAMETERS = SAM["Parameters"]


def _of_type(kind: str, resources: dict[str, dict[str, Any]] = RESOURCES) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_media_bucket_cors_is_never_star_by_default():
    assert PARAMETERS["AllowedOrigins"]["Default"] == ""
    cors = RESOURCES["MediaBucket"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "HasCors" and cors[2] == {"Ref": "AWS::NoValue"}
    origins = cors[1]["CorsRules"][0]["AllowedOrigins"]["Fn::If"]
    assert origins[0] == "HasAllowedOrigins" and origins[1] == {"Ref": "AllowedOrigins"}
    derived = origins[2]["Fn::If"]
    assert derived[1] == [{"Fn::Sub": "https://${DomainName}"}]
    assert derived[2] == ["https://*.cloudfront.net"]
    assert "*" not in str(derived).replace("*.cloudfront.net", "")


def test_self_registration_is_a_parameter_every_function_reads():
    assert PARAMETERS["SelfRegistration"]["AllowedValues"] == ["true", "false"]
    env = SAM["Globals"]["Function"]["Environment"]["Variables"]
    assert env["CVAT_SELF_REGISTRATION"] == {"Ref": "SelfRegistration"}


def test_auth_routes_are_throttled_apart_and_optionally_rate_limited_per_address_by_waf():
    api = RESOURCES["CvatApi"]["Properties"]
    auth = [m for m in api["MethodSettings"] if m["ResourcePath"] == "/~1api~1auth~1{proxy+}"]
    assert auth and auth[0]["ThrottlingRateLimit"] == {"Ref": "AuthThrottleRate"}
    assert auth[0]["HttpMethod"] == "*"
    # its own API Gateway resource, so that the setting has a method to apply to
    events = RESOURCES["CoreApiFunction"]["Properties"]["Events"]
    assert any(e["Properties"]["Path"] == "/api/auth/{proxy+}" for e in events.values())
    acl = RESOURCES["ApiWebAcl"]
    assert acl["Condition"] == "UseWaf"
    rule = acl["Properties"]["Rules"][0]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == {"Ref": "WafAuthRateLimit"}
    assert rate["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "/api/auth/"
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    association = RESOURCES["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert "/restapis/${CvatApi}/stages/" in association["ResourceArn"]["Fn::Sub"]


def test_api_access_logs_carry_the_request_id_and_are_kept_for_the_retention():
    api = RESOURCES["CvatApi"]["Properties"]
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert '"requestId":"$context.requestId"' in api["AccessLogSetting"]["Format"]
    assert RESOURCES["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "ApiGatewayAccountReady" in RESOURCES["CvatApi"]["DependsOn"]


def test_every_function_and_state_machine_logs_to_a_group_with_retention():
    for logical, function in _of_type("AWS::Serverless::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]
        assert group == {"Ref": f"{logical}LogGroup"}, logical
        assert RESOURCES[group["Ref"]]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for logical, machine in _of_type("AWS::StepFunctions::StateMachine", TRANSFORMED).items():
        condition, logging, _ = machine["Properties"]["LoggingConfiguration"]["Fn::If"]
        assert condition == "LogStateMachines", logical
        assert logging["IncludeExecutionData"] is False
        destination = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
        assert destination == {"Fn::GetAtt": ["StateMachinesLogGroup", "Arn"]}
    assert RESOURCES["StateMachinesLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def _denies_plain_http(statements: list[dict[str, Any]], resources: set[str]) -> set[str]:
    covered: set[str] = set()
    for statement in statements:
        if statement.get("Effect") == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}} and statement.get("Principal") == "*":
            for resource in _listed(statement["Resource"]):
                text = str(resource)
                covered |= {r for r in resources if f"'{r}'" in text or f"{{{r}.Arn}}" in text}
    return covered


def test_every_queue_and_bucket_refuses_plain_http():
    queues = set(_of_type("AWS::SQS::Queue"))
    covered: set[str] = set()
    for policy in _of_type("AWS::SQS::QueuePolicy").values():
        covered |= _denies_plain_http(_listed(policy["Properties"]["PolicyDocument"]["Statement"]), queues)
    assert covered == queues
    buckets = set(_of_type("AWS::S3::Bucket"))
    covered = set()
    for policy in _of_type("AWS::S3::BucketPolicy").values():
        covered |= _denies_plain_http(_listed(policy["Properties"]["PolicyDocument"]["Statement"]), buckets)
    assert covered == buckets


def test_a_custom_domain_gets_its_certificate_tls12_and_hsts_on_the_ui_and_the_api():
    config = RESOURCES["UiDistribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"]["Fn::If"][0] == "HasDomain"
    condition, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasDomain"
    assert custom == {"AcmCertificateArn": {"Ref": "CertificateArn"}, "SslSupportMethod": "sni-only",
                      "MinimumProtocolVersion": "TLSv1.2_2021"}
    assert default == {"CloudFrontDefaultCertificate": True}
    assert "us-east-1" in PARAMETERS["CertificateArn"]["AllowedPattern"]
    api = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*")
    for policy in (config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"], api["ResponseHeadersPolicyId"]):
        headers = RESOURCES[policy["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    # the domain needs its certificate and the UI's distribution: CloudFormation refuses otherwise
    assertions = SAM["Rules"]["DomainNeedsCertificateAndUi"]["Assertions"]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]} in [a["Assert"] for a in assertions]
    env = SAM["Globals"]["Function"]["Environment"]["Variables"]["CVAT_PUBLIC_URL"]["Fn::If"]
    assert env[2]["Fn::If"][1] == {"Fn::Sub": "https://${DomainName}"}
