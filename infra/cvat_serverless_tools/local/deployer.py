"""Creates what the translated template declares, on the embedded AWS (moto), idempotently.

moto's CloudFormation cannot deploy a SAM-translated template as is (see DESIGN.md), so this
walks the ~10 resource types the template uses and calls the service APIs directly. Resource
types that only matter on AWS (IAM, permissions, API Gateway deployments, layers) are skipped:
the embedded runtime enforces no IAM, serves the API itself and loads layers from the source tree.
Running it again on restored state updates what changed in template.yaml.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .intrinsics import Resolver
from .lambdas import FunctionRegistry, LocalFunction
from .template import ACCOUNT_ID, REGION, Template

log = logging.getLogger("cvat_serverless_tools.local")

SKIPPED_TYPES = frozenset({
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Permission", "AWS::Lambda::LayerVersion",
    "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage",
    "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy",
    # the UI's CDN: the embedded runtime serves frontend/dist itself (apigw.py), on the API's origin
    "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::Function",
    "AWS::CloudFront::ResponseHeadersPolicy", "AWS::Route53::RecordSetGroup",
    # the edge and its logs: no WAF, IAM or CloudWatch Logs here (functions log to the console)
    "AWS::IAM::ManagedPolicy", "AWS::Logs::LogGroup", "AWS::ApiGateway::Account",
    "AWS::CloudFormation::WaitConditionHandle", "AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation",
    "AWS::SecretsManager::Secret",  # the CloudFront edge's secret (UiHosting only)
})


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class Route:
    path: str  # API Gateway resource path, e.g. /api/{proxy+}
    method: str  # GET, POST, ... or ANY
    function_logical_id: str


@dataclass(frozen=True)
class EventSourceMapping:
    function_logical_id: str
    queue_name: str
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool
    enabled: bool
    # ScalingConfig.MaximumConcurrency: how many batches run at once (AWS: 2..1000, unset means
    # "as many as the function's concurrency allows"; here unset is 1, see SqsPoller)
    max_concurrency: int | None = None


@dataclass
class Deployment:
    stack_name: str
    endpoint: str
    physical: dict[str, dict[str, Any]]  # logical id -> {"Ref": ..., attributes...}
    functions: FunctionRegistry
    routes: list[Route] = field(default_factory=list)
    binary_media_types: list[str] = field(default_factory=list)
    stage: str = "v1"
    mappings: list[EventSourceMapping] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def names_of_type(self, template: Template, rtype: str) -> list[str]:
        return [self.physical[k]["Name"] for k in template.of_type(rtype)]


NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName", "AWS::SQS::Queue": "QueueName",
    "AWS::Events::EventBus": "Name", "AWS::Events::Rule": "Name", "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::Logs::LogGroup": "LogGroupName",
}


def _physical(template: Template, endpoint: str, names: Resolver) -> dict[str, dict[str, Any]]:
    """Deterministic physical names and attributes; explicit names may use parameters only."""
    stack, region, acct = template.stack_name, REGION, ACCOUNT_ID
    physical: dict[str, dict[str, Any]] = {}
    for logical, res in template.resources.items():
        name_key = NAME_PROPERTY.get(res["Type"])
        raw = res.get("Properties", {})
        props = {name_key: names.resolve(raw[name_key])} if name_key in raw else {}
        rtype = res["Type"]
        default = f"{stack}-{logical}"
        if rtype == "AWS::DynamoDB::Table":
            name = props.get("TableName") or default
            info = {"Ref": name, "Name": name, "Arn": f"arn:aws:dynamodb:{region}:{acct}:table/{name}"}
        elif rtype == "AWS::S3::Bucket":
            name = (props.get("BucketName") or default).lower()
            info = {"Ref": name, "Name": name, "Arn": f"arn:aws:s3:::{name}",
                    "DomainName": f"{name}.s3.amazonaws.com"}
        elif rtype == "AWS::SQS::Queue":
            name = props.get("QueueName") or default
            url = f"{endpoint}/{acct}/{name}"
            info = {"Ref": url, "Name": name, "QueueName": name, "QueueUrl": url,
                    "Arn": f"arn:aws:sqs:{region}:{acct}:{name}"}
        elif rtype == "AWS::Events::EventBus":
            name = props.get("Name") or default
            info = {"Ref": name, "Name": name, "Arn": f"arn:aws:events:{region}:{acct}:event-bus/{name}"}
        elif rtype == "AWS::Events::Rule":
            name = props.get("Name") or default
            info = {"Ref": name, "Name": name, "Arn": ""}  # Arn needs the bus name: filled below
        elif rtype == "AWS::Lambda::Function":
            name = props.get("FunctionName") or default
            info = {"Ref": name, "Name": name, "Arn": f"arn:aws:lambda:{region}:{acct}:function:{name}"}
        elif rtype == "AWS::StepFunctions::StateMachine":
            name = props.get("StateMachineName") or default
            arn = f"arn:aws:states:{region}:{acct}:stateMachine:{name}"
            info = {"Ref": arn, "Name": name, "Arn": arn}
        elif rtype == "AWS::IAM::Role":
            info = {"Ref": default, "Name": default, "Arn": f"arn:aws:iam::{acct}:role/{default}"}
        elif rtype == "AWS::ApiGateway::RestApi":
            info = {"Ref": "local", "RootResourceId": "root"}
        elif rtype == "AWS::Lambda::LayerVersion":
            info = {"Ref": f"arn:aws:lambda:{region}:{acct}:layer:{logical}:1"}
        elif rtype == "AWS::Logs::LogGroup":  # not created (functions log to the console): ARNs still resolve
            name = props.get("LogGroupName") or default
            info = {"Ref": name, "Arn": f"arn:aws:logs:{region}:{acct}:log-group:{name}:*"}
        elif rtype == "AWS::IAM::ManagedPolicy":
            info = {"Ref": f"arn:aws:iam::{acct}:policy/{default}"}
        elif rtype == "AWS::CloudFront::Distribution":  # not created: its outputs still resolve
            info = {"Ref": default, "Id": default, "DomainName": "localhost"}
        else:
            info = {"Ref": default}
        physical[logical] = info
    return physical


def _active(template: Template, conditions: Resolver) -> Template:
    """The resources and outputs whose Condition holds: as on AWS, the others do not exist."""

    def holds(entry: dict[str, Any]) -> bool:
        name = entry.get("Condition")
        return name is None or conditions.condition(name)

    return replace(template, resources={k: v for k, v in template.resources.items() if holds(v)},
                   outputs={k: v for k, v in template.outputs.items() if holds(v)})


class Deployer:
    def __init__(self, template: Template, endpoint: str, client: Callable[[str], Any],
                 parameter_overrides: dict[str, str] | None = None) -> None:
        self.template = template
        self.endpoint = endpoint
        self.client = client
        self.parameters = template.parameter_values(parameter_overrides)
        pseudo = {
            "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": template.stack_name,
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{template.stack_name}/local",
        }

        def no_resource(*ref: str) -> Any:
            raise DeployError(f"A physical name may not depend on another resource ({'.'.join(ref)})")

        names = Resolver(self.parameters, pseudo, no_resource, no_resource, template.conditions)
        self.template = template = _active(template, names)
        self.physical = _physical(template, endpoint, names)
        self.resolver = Resolver(self.parameters, pseudo, self._ref, self._get_att, template.conditions)
        # Rule ARNs depend on their bus's name.
        for logical, res in template.of_type("AWS::Events::Rule").items():
            bus = self.resolver.resolve(res["Properties"].get("EventBusName", "default"))
            name = self.physical[logical]["Name"]
            self.physical[logical]["Arn"] = (
                f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}" if bus == "default"
                else f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{bus}/{name}"
            )

    def _ref(self, logical: str) -> Any:
        if logical not in self.physical:
            raise DeployError(f"Ref to unknown resource or parameter {logical}")
        return self.physical[logical]["Ref"]

    def _get_att(self, logical: str, attr: str) -> Any:
        try:
            return self.physical[logical][attr]
        except KeyError:
            raise DeployError(f"GetAtt {logical}.{attr} is not supported by the embedded deployer") from None

    def props(self, logical: str) -> dict[str, Any]:
        return dict(self.resolver.resolve(self.template.resources[logical].get("Properties", {})))

    # ------------------------------------------------------------------ deploy
    def deploy(self) -> Deployment:
        deployment = Deployment(self.template.stack_name, self.endpoint, self.physical, FunctionRegistry())
        unknown = {r["Type"] for r in self.template.resources.values()} - SKIPPED_TYPES - set(HANDLED_TYPES)
        if unknown:
            raise DeployError(f"The embedded runtime cannot create {sorted(unknown)}; add them to deployer.py")
        for logical in self.template.of_type("AWS::DynamoDB::Table"):
            self._table(logical)
        queues = self.template.of_type("AWS::SQS::Queue")
        for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
            self._queue(logical)
        for logical in self.template.of_type("AWS::Events::EventBus"):
            self._event_bus(logical)
        for logical in self.template.of_type("AWS::Events::Rule"):
            self._rule(logical)
        for logical in self.template.of_type("AWS::S3::Bucket"):
            self._bucket(logical)
        for logical in self.template.of_type("AWS::Lambda::Function"):
            deployment.functions.add(self._function(logical))
        for logical in self.template.of_type("AWS::StepFunctions::StateMachine"):
            self._state_machine(logical)
        for logical in self.template.of_type("AWS::Lambda::EventSourceMapping"):
            deployment.mappings.append(self._event_source_mapping(logical, deployment.functions))
        for logical in self.template.of_type("AWS::ApiGateway::RestApi"):
            self._api(logical, deployment)
        deployment.environment = merged_environment(deployment.functions)
        deployment.outputs = {k: self.resolver.resolve(v.get("Value")) for k, v in self.template.outputs.items()}
        return deployment

    def _table(self, logical: str) -> None:
        p = self.props(logical)
        ddb = self.client("dynamodb")
        name = self.physical[logical]["Name"]
        if name not in ddb.list_tables()["TableNames"]:
            args: dict[str, Any] = {
                "TableName": name, "AttributeDefinitions": p["AttributeDefinitions"],
                "KeySchema": p["KeySchema"], "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if p.get("GlobalSecondaryIndexes"):
                args["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
            if p.get("SSESpecification"):
                args["SSESpecification"] = {"Enabled": bool(p["SSESpecification"].get("SSEEnabled"))}
            ddb.create_table(**args)
            log.info("created table %s", name)
        if p.get("TimeToLiveSpecification", {}).get("Enabled"):
            ttl = p["TimeToLiveSpecification"]
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": ttl["AttributeName"]})
        if p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True})

    def _queue(self, logical: str) -> None:
        p = self.props(logical)
        name = self.physical[logical]["Name"]
        keys = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize")
        attributes: dict[str, str] = {k: str(p[k]) for k in keys if k in p}
        if "RedrivePolicy" in p:
            attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)

    def _event_bus(self, logical: str) -> None:
        name = self.physical[logical]["Name"]
        events = self.client("events")
        if not any(b["Name"] == name for b in events.list_event_buses()["EventBuses"]):
            events.create_event_bus(Name=name)

    def _rule(self, logical: str) -> None:
        p = self.props(logical)
        events = self.client("events")
        name = self.physical[logical]["Name"]
        bus = p.get("EventBusName", "default")
        args: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": p.get("State", "ENABLED")}
        if "EventPattern" in p:
            args["EventPattern"] = json.dumps(p["EventPattern"])
        if "ScheduleExpression" in p:
            args["ScheduleExpression"] = p["ScheduleExpression"]
        events.put_rule(**args)
        targets = [{"Id": t["Id"], "Arn": t["Arn"], **({"Input": t["Input"]} if "Input" in t else {})}
                   for t in p.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)

    def _bucket(self, logical: str) -> None:
        p = self.props(logical)
        s3 = self.client("s3")
        name = self.physical[logical]["Name"]
        try:
            s3.head_bucket(Bucket=name)
        except ClientError:
            s3.create_bucket(Bucket=name)
            log.info("created bucket %s", name)
        if "VersioningConfiguration" in p:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                "Status": p["VersioningConfiguration"]["Status"]})
        if "PublicAccessBlockConfiguration" in p:
            s3.put_public_access_block(Bucket=name,
                                       PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"])
        if "BucketEncryption" in p:
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                | ({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {})
                for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
        if "CorsConfiguration" in p:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={
                "CORSRules": [_cors_rule(r) for r in p["CorsConfiguration"]["CorsRules"]]})
        if "LifecycleConfiguration" in p:
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
                "Rules": [_lifecycle_rule(r) for r in p["LifecycleConfiguration"]["Rules"]]})
        if "NotificationConfiguration" in p:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_notification(p["NotificationConfiguration"]))

    def _function(self, logical: str) -> LocalFunction:
        p = self.props(logical)
        key = p.get("Code", {}).get("S3Key", "")
        code_dir = self.template.code_paths.get(key)
        if code_dir is None:
            raise DeployError(f"{logical}: its code is not a local CodeUri of template.yaml")
        env = {k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()}
        return LocalFunction(
            logical_id=logical, name=self.physical[logical]["Name"], arn=self.physical[logical]["Arn"],
            code_dir=Path(code_dir), handler=p["Handler"], timeout_s=float(p.get("Timeout", 3)),
            memory_mb=int(p.get("MemorySize", 128)), environment=env,
        )

    def _state_machine(self, logical: str) -> None:
        p = self.props(logical)
        definition = p.get("DefinitionString")
        if definition is None and "Definition" in p:
            definition = json.dumps(p["Definition"])
        if not isinstance(definition, str):
            raise DeployError(f"{logical}: no definition")
        for key, value in (p.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        leftover = re.findall(r"\$\{(\w+)\}", definition)
        if leftover:
            raise DeployError(f"{logical}: undefined DefinitionSubstitutions {sorted(set(leftover))}")
        sfn = self.client("stepfunctions")
        arn = self.physical[logical]["Arn"]
        role = p.get("RoleArn") or f"arn:aws:iam::{ACCOUNT_ID}:role/{self.template.stack_name}-{logical}Role"
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError:
            sfn.create_state_machine(name=self.physical[logical]["Name"], definition=definition,
                                     roleArn=role, type=p.get("StateMachineType", "STANDARD"))
        else:
            sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)

    def _event_source_mapping(self, logical: str, functions: FunctionRegistry) -> EventSourceMapping:
        p = self.props(logical)
        source = str(p["EventSourceArn"])
        if ":sqs:" not in source:
            raise DeployError(f"{logical}: only SQS event sources run in the embedded runtime")
        function = functions.find(str(p["FunctionName"]))
        if function is None:
            raise DeployError(f"{logical}: unknown function {p['FunctionName']}")
        return EventSourceMapping(
            function_logical_id=function.logical_id,
            queue_name=source.rsplit(":", 1)[1],
            batch_size=int(p.get("BatchSize", 10)),
            batching_window_s=int(p.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
            enabled=bool(p.get("Enabled", True)),
            max_concurrency=int(c) if (c := (p.get("ScalingConfig") or {}).get("MaximumConcurrency")) else None,
        )

    def _api(self, logical: str, deployment: Deployment) -> None:
        body = self.template.resources[logical]["Properties"].get("Body", {})
        deployment.binary_media_types = [t.replace("~1", "/") for t in
                                         body.get("x-amazon-apigateway-binary-media-types", [])]
        for stage in self.template.of_type("AWS::ApiGateway::Stage").values():
            deployment.stage = str(self.resolver.resolve(stage["Properties"].get("StageName", "v1")))
        for path, methods in body.get("paths", {}).items():
            for method, spec in methods.items():
                uri = spec.get("x-amazon-apigateway-integration", {}).get("uri", {})
                text = uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri)
                match = re.search(r"\$\{(\w+)\.Arn\}", text if isinstance(text, str) else text[0])
                if not match:
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                deployment.routes.append(Route(path, verb, match.group(1)))


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: rule[k] for k in ("AllowedMethods", "AllowedOrigins", "AllowedHeaders") if k in rule}
    if "ExposedHeaders" in rule:  # CloudFormation and the S3 API spell it differently
        out["ExposeHeaders"] = rule["ExposedHeaders"]
    if "MaxAge" in rule:
        out["MaxAgeSeconds"] = int(rule["MaxAge"])
    return out


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"],
                           "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return out


def _notification(config: dict[str, Any]) -> dict[str, Any]:
    def filter_of(item: dict[str, Any]) -> dict[str, Any]:
        rules = item.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        return {"Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}} \
            if rules else {}

    out: dict[str, Any] = {}
    if config.get("QueueConfigurations"):
        out["QueueConfigurations"] = [
            {"QueueArn": q["Queue"], "Events": [q["Event"]], **filter_of(q)} for q in config["QueueConfigurations"]
        ]
    if config.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        out["EventBridgeConfiguration"] = {}
    if config.get("LambdaConfigurations"):
        raise DeployError("S3 -> Lambda notifications cannot run without Docker; use S3 -> SQS -> Lambda")
    return out


def merged_environment(functions: FunctionRegistry) -> dict[str, str]:
    """Handlers share one process, so they share one environment: a variable two functions set
    differently would be wrong for one of them. Refuse such a template with a clear message."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function in functions:
        for key, value in function.environment.items():
            if key in merged and merged[key] != value:
                raise DeployError(
                    f"{function.logical_id} and {owner[key]} set {key} differently; the embedded runtime "
                    "runs all handlers in one process. Give it one value or use a distinct name."
                )
            merged[key] = value
            owner[key] = function.logical_id
    return merged


HANDLED_TYPES = (
    "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Events::EventBus", "AWS::Events::Rule",
    "AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::StepFunctions::StateMachine",
    "AWS::Lambda::EventSourceMapping",
)
