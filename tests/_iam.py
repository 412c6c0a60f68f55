"""IAM policy evaluation for tests: is an (action, resource) allowed by a function's role?

Reads the roles of the SAM-transformed template (SAM policy templates such as S3CrudPolicy are
inline statements there), resolves their intrinsics with the embedded deployer's resolver (the
same physical names and ARNs the embedded runtime uses) and evaluates identity-based policies as
IAM does: an explicit Deny wins, else some Allow must match (Action/NotAction, Resource/NotResource
with ``*`` and ``?`` wildcards, actions case-insensitively, and the condition operators these
policies use); no matching Allow is an implicit deny.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# What a managed policy grants that matters to the calls recorded here (logs and X-Ray are not
# recorded: they go through the Lambda runtime and the X-Ray daemon, not boto3).
KNOWN_MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                       "xray:GetSamplingRules", "xray:GetSamplingTargets",
                                       "xray:GetSamplingStatisticSummaries"], "Resource": "*"}],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                       "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}],
}


class UnknownManagedPolicy(ValueError):
    pass


def _pattern(glob: str, *, case: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character; nothing else special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", 0 if case else re.IGNORECASE | re.DOTALL)


def _matches(globs: Iterable[str], value: str, *, case: bool) -> bool:
    return any(_pattern(g, case=case).match(value) for g in globs)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    s3_prefix: str | None = None

    def context(self) -> dict[str, list[str]]:
        keys: dict[str, list[str]] = {}
        if self.s3_prefix is not None:
            keys["s3:prefix"] = [self.s3_prefix]
        return keys


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool:
    """All operators, all keys must hold; a key with several values holds if any matches. A key
    absent from the request fails every operator but the ...IfExists and Null ones."""
    for operator, tests in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            wanted = [str(v) for v in _as_list(expected)]
            present = context.get(key.lower()) if key.lower() in context else context.get(key)
            if base == "Null":
                if (present is None) != (wanted[0].lower() == "true"):
                    return False
                continue
            if present is None:
                if if_exists:
                    continue
                return False
            if base.startswith("ForAllValues:") or base.startswith("ForAnyValue:"):
                qualifier, base_op = base.split(":", 1)
                results = [_compare(base_op, v, wanted) for v in present]
                if not (all(results) if qualifier == "ForAllValues" else any(results)):
                    return False
                continue
            if not any(_compare(base, v, wanted) for v in present):
                return False
    return True


def _compare(operator: str, value: str, wanted: list[str]) -> bool:
    if operator == "StringEquals":
        return value in wanted
    if operator == "StringNotEquals":
        return value not in wanted
    if operator == "StringEqualsIgnoreCase":
        return value.lower() in {w.lower() for w in wanted}
    if operator == "StringLike":
        return _matches(wanted, value, case=True)
    if operator == "StringNotLike":
        return not _matches(wanted, value, case=True)
    raise NotImplementedError(f"condition operator {operator} is not evaluated here; add it to tests/_iam.py")


@dataclass
class Policy:
    """A role's statements (inline policies and known managed policies), intrinsics resolved."""

    statements: list[dict[str, Any]] = field(default_factory=list)

    def _applies(self, statement: Mapping[str, Any], request: Request) -> bool:
        if "Action" in statement:
            if not _matches(_as_list(statement["Action"]), request.action, case=False):
                return False
        elif "NotAction" in statement:
            if _matches(_as_list(statement["NotAction"]), request.action, case=False):
                return False
        else:
            return False
        if "Resource" in statement:
            if not _matches(_as_list(statement["Resource"]), request.resource, case=True):
                return False
        elif "NotResource" in statement:
            if _matches(_as_list(statement["NotResource"]), request.resource, case=True):
                return False
        else:
            return False
        return _condition_holds(statement.get("Condition", {}), request.context())

    def allowed(self, action: str, resource: str, s3_prefix: str | None = None) -> bool:
        request = Request(action, resource, s3_prefix)
        applying = [s for s in self.statements if self._applies(s, request)]
        if any(s.get("Effect") == "Deny" for s in applying):
            return False
        return any(s.get("Effect") == "Allow" for s in applying)


def policy_of_role(role: Mapping[str, Any], resolve: Any = lambda v: v,
                   managed: Mapping[str, list[dict[str, Any]]] | None = None) -> Policy:
    """A role's inline policies plus its managed ones: ``managed`` (the template's own
    AWS::IAM::ManagedPolicy resources and AWS::IAM::Policy resources naming the role, by ARN)
    or AWS's that KNOWN_MANAGED_POLICIES describes."""
    props = role.get("Properties", {})
    statements: list[dict[str, Any]] = []
    for inline in resolve(props.get("Policies", [])):
        statements.extend(_as_list(inline["PolicyDocument"]["Statement"]))
    for arn in resolve(props.get("ManagedPolicyArns", [])):
        own = _own_policy(arn, managed or {})
        if own is not None:
            statements.extend(own)
        elif arn in KNOWN_MANAGED_POLICIES:
            statements.extend(KNOWN_MANAGED_POLICIES[arn])
        else:
            raise UnknownManagedPolicy(f"{arn}: add what it grants to tests/_iam.py's KNOWN_MANAGED_POLICIES")
    return Policy(statements)


def _own_policy(arn: str, managed: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    """The template's managed policy ``arn`` names (by ARN, or by name whatever its path)."""
    if arn in managed:
        return managed[arn]
    name = arn.rsplit("/", 1)[-1]
    for key, statements in managed.items():
        if key.rsplit("/", 1)[-1] == name:
            return statements
    return None


@dataclass
class TemplatePolicies:
    """Each Lambda function's (logical id) role policy, from the transformed template."""

    by_function: dict[str, Policy]

    def allowed(self, function: str, action: str, resource: str, s3_prefix: str | None = None) -> bool:
        return self.by_function[function].allowed(action, resource, s3_prefix)


@cache
def template_policies() -> TemplatePolicies:
    """The roles of template.yaml as the embedded runtime deploys it (its parameter values)."""
    from cvat_serverless_tools.local.deployer import Deployer
    from cvat_serverless_tools.local.runtime import RuntimeConfig
    from cvat_serverless_tools.local.template import ACCOUNT_ID, load_template

    template = load_template()
    deployer = Deployer(template, "http://127.0.0.1:4566", lambda _service: None,
                        RuntimeConfig().parameter_overrides)
    active = deployer.template
    resolve = deployer.resolver.resolve
    roles = active.of_type("AWS::IAM::Role")
    # the template's own managed policies, by every name a role may give them
    managed: dict[str, list[dict[str, Any]]] = {}
    attached: dict[str, list[dict[str, Any]]] = {}  # role logical id -> statements of policies naming it
    for logical, resource in active.of_type("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy").items():
        props = resource.get("Properties", {})
        statements = _as_list(resolve(props["PolicyDocument"])["Statement"])
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            name = resolve(props.get("ManagedPolicyName", f"{template.stack_name}-{logical}"))
            path = resolve(props.get("Path", "/"))
            for arn in (f"arn:aws:iam::{ACCOUNT_ID}:policy{path}{name}", str(resolve({"Ref": logical}))):
                managed[arn] = statements
        for role in props.get("Roles", []):
            if isinstance(role, dict) and "Ref" in role:
                attached.setdefault(role["Ref"], []).extend(statements)
    by_function: dict[str, Policy] = {}
    for logical, function in active.of_type("AWS::Lambda::Function").items():
        role_ref = function["Properties"]["Role"]
        if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref:
            role_id = _as_list(role_ref["Fn::GetAtt"])[0].split(".")[0]
            policy = policy_of_role(roles[role_id], resolve, managed)
            by_function[logical] = Policy(policy.statements + attached.get(role_id, []))
        else:  # a role from outside the stack: nothing here to check against
            by_function[logical] = Policy([])
    return TemplatePolicies(by_function)
