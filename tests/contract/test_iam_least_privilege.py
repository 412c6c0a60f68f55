"""Least privilege, read off the transformed template (what CloudFormation gets from `sam deploy`).

Every role of the stack grants exactly the rows of tests/contract/iam_grants.py, the table of
what each function and state machine does with AWS and why: a grant the table does not list fails
(no code path needs it, or the table lacks its reason), and so does a row the template lost. On
top of the table, whatever it says: no ``*`` resource but for actions IAM cannot scope, no wildcard
or bucket-administration action, no AWS-managed policy. That each grant is enough for what the
code really calls is tests/e2e/test_iam_audit_runtime.py's job (the embedded runtime records the calls).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cvat_serverless_tools.local.template import load_template
from tests.contract import iam_grants

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT, "cvat-contract")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE.resources

# Actions IAM has no resource type for: a statement with them can only name "*"
# (the Service Authorization Reference lists no resource for each).
UNSCOPABLE = frozenset(iam_grants.UNSCOPABLE)
# Bucket and account administration, ACLs, and wildcards: never granted to a function.
FORBIDDEN = re.compile(r"^(s3:PutBucket.*|s3:DeleteBucket.*|s3:PutObject(Version)?Acl|s3:PutLifecycleConfiguration|"
                       r"s3:PutEncryptionConfiguration|s3:PutReplicationConfiguration|iam:.*|sts:.*|kms:.*|.*\*.*)$",
                       re.IGNORECASE)


def render(value: Any) -> str:
    """An intrinsic as the text it stands for: ``{"Fn::GetAtt": ["B", "Arn"]}`` -> ``${B.Arn}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return "${" + arg + "}"
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else arg.split(".", 1)
            return "${" + parts[0] + "." + parts[1] + "}"
        if key == "Fn::Sub":
            if isinstance(arg, list):
                text, mapping = arg
                for name, sub in mapping.items():
                    text = text.replace("${" + name + "}", render(sub))
                return text
            return arg
    raise AssertionError(f"a policy resource the table cannot name: {json.dumps(value)}")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in _listed(document["Statement"]):
        if isinstance(statement, dict) and set(statement) == {"Fn::If"}:
            condition, then, _ = statement["Fn::If"]
            # a grant kept only under a condition (e.g. state machine logging on): the table marks it
            if isinstance(then, dict) and then:
                yield {**then, "_condition": condition}
            continue
        yield statement


def roles() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::IAM::Role"}


def grants_of(role_id: str) -> set[tuple[str, str, str]]:
    """(Sid, action, resource) of every Allow the role holds, its in-stack managed policies included."""
    props = roles()[role_id]["Properties"]
    documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
    for arn in props.get("ManagedPolicyArns", []):
        assert isinstance(arn, dict) and "Ref" in arn, f"{role_id}: AWS-managed policy {arn} (grants are inline)"
        managed = RESOURCES[arn["Ref"]]
        assert managed["Type"] == "AWS::IAM::ManagedPolicy"
        documents.append(managed["Properties"]["PolicyDocument"])
    out: set[tuple[str, str, str]] = set()
    for document in documents:
        for statement in _statements(document):
            assert statement.get("Effect") == "Allow", f"{role_id}: {statement}"
            assert "NotAction" not in statement and "NotResource" not in statement, f"{role_id}: {statement}"
            assert statement.get("Sid"), f"{role_id}: every statement names its purpose (Sid): {statement}"
            sid = statement["Sid"] + (f" [if {statement['_condition']}]" if "_condition" in statement else "")
            when = _when(statement.get("Condition"))
            for action in _listed(statement["Action"]):
                for resource in _listed(statement["Resource"]):
                    out.add((sid, action, render(resource) + when))
    return out


def _when(condition: dict[str, Any] | None) -> str:
    return f" when {json.dumps(condition, sort_keys=True)}" if condition else ""


def table_of(role_id: str) -> set[tuple[str, str, str]]:
    return {(grant.sid, action, resource + _when(grant.condition))
            for grant in iam_grants.ROLES[role_id].grants
            for action in grant.actions for resource in grant.resources}


def test_every_role_of_the_stack_is_in_the_table():
    assert set(roles()) == set(iam_grants.ROLES)


def test_every_function_and_state_machine_runs_under_its_own_role_from_the_table():
    for logical, resource in RESOURCES.items():
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine"):
            role = resource["Properties"]["Role" if resource["Type"] == "AWS::Lambda::Function" else "RoleArn"]
            assert role == {"Fn::GetAtt": [f"{logical}Role", "Arn"]}, f"{logical} runs as {role}"


@pytest.mark.parametrize("role_id", sorted(iam_grants.ROLES))
def test_the_role_grants_exactly_what_the_table_says(role_id):
    granted, table = grants_of(role_id), table_of(role_id)
    assert granted - table == set(), (
        f"{role_id} grants what no row of iam_grants.py gives a reason for (remove it, or add the row "
        f"naming the code path): {sorted(granted - table)}")
    assert table - granted == set(), f"{role_id} lacks rows of iam_grants.py: {sorted(table - granted)}"


@pytest.mark.parametrize("role_id", sorted(iam_grants.ROLES))
def test_no_star_resource_but_for_actions_iam_cannot_scope(role_id):
    wide = {(sid, action) for sid, action, resource in grants_of(role_id)
            if resource == "*" and action not in UNSCOPABLE}
    assert wide == set(), f"{role_id}: '*' resources for {sorted(wide)}"


@pytest.mark.parametrize("role_id", sorted(iam_grants.ROLES))
def test_no_wildcard_or_administrative_action(role_id):
    bad = sorted({action for _, action, _ in grants_of(role_id) if FORBIDDEN.match(action)})
    assert bad == [], f"{role_id} may {bad}"


@pytest.mark.parametrize("role_id", sorted(iam_grants.ROLES))
def test_each_role_is_assumed_by_its_own_service_only(role_id):
    trust = roles()[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    principals = {service for statement in _listed(trust)
                  for service in _listed(statement["Principal"]["Service"])}
    assert principals == {iam_grants.ROLES[role_id].principal}


def test_the_table_of_bucket_grants_names_prefixes_not_the_whole_bucket():
    # Objects are granted by key prefix; "${MediaBucket.Arn}/*" would be any object of the bucket.
    whole = sorted((role, action) for role, spec in iam_grants.ROLES.items() for grant in spec.grants
                   for action in grant.actions for resource in grant.resources
                   if resource.endswith("${MediaBucket.Arn}/*") or resource.endswith("${MediaBucket}/*"))
    assert whole == []


def test_the_checks_fail_on_what_they_forbid():
    # The checks above, on statements made to break them.
    assert FORBIDDEN.match("s3:PutBucketPolicy") and FORBIDDEN.match("s3:PutObjectAcl")
    assert FORBIDDEN.match("s3:*") and FORBIDDEN.match("dynamodb:Put*")
    assert not FORBIDDEN.match("s3:PutObject") and not FORBIDDEN.match("dynamodb:PutItem")
    assert render({"Fn::Sub": ["arn:${P}:x/${Fn}", {"Fn": {"Ref": "F"}}]}) == "arn:${P}:x/${F}"
    assert render({"Fn::GetAtt": ["B", "Arn"]}) == "${B.Arn}"
    with pytest.raises(AssertionError):
        render({"Fn::Join": ["", ["a", "b"]]})
