"""tests/_iam.py's policy evaluation, and the IAM needs the embedded runtime's recorder derives
from API calls (infra/cvat_serverless_tools/local/iam_audit.py), on hand-written inputs."""

from __future__ import annotations

import pytest

from cvat_serverless_tools.local.iam_audit import permissions
from tests._iam import Policy, UnknownManagedPolicy, policy_of_role

BUCKET = "arn:aws:s3:::media"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/data"


def policy(*statements: dict) -> Policy:
    return Policy([{"Effect": "Allow", **s} for s in statements])


def test_an_action_on_a_listed_resource_is_allowed_and_anything_else_is_not():
    p = policy({"Action": ["s3:GetObject"], "Resource": [f"{BUCKET}/tasks/*"]})
    assert p.allowed("s3:GetObject", f"{BUCKET}/tasks/7/chunks/0.zip")
    assert not p.allowed("s3:PutObject", f"{BUCKET}/tasks/7/chunks/0.zip")  # another action
    assert not p.allowed("s3:GetObject", f"{BUCKET}/exports/1.zip")  # another prefix
    assert not p.allowed("s3:GetObject", "arn:aws:s3:::other/tasks/1")  # another bucket
    assert not Policy([]).allowed("s3:GetObject", f"{BUCKET}/tasks/1")


def test_wildcards_and_case():
    p = policy({"Action": "dynamodb:*Item", "Resource": f"{TABLE}/index/GSI?"},
               {"Action": "S3:getobject", "Resource": f"{BUCKET}/*"})
    assert p.allowed("dynamodb:GetItem", f"{TABLE}/index/GSI1")
    assert p.allowed("DynamoDB:PutItem", f"{TABLE}/index/GSI2")  # actions ignore case
    assert not p.allowed("dynamodb:GetItem", f"{TABLE}/index/GSI10")  # ? is one character
    assert not p.allowed("dynamodb:GetItem", TABLE)
    assert not p.allowed("dynamodb:Query", f"{TABLE}/index/GSI1")
    assert p.allowed("s3:GetObject", f"{BUCKET}/a/b")
    assert not p.allowed("s3:GetObject", "arn:aws:s3:::MEDIA/a")  # resources do not
    assert policy({"Action": "*", "Resource": "*"}).allowed("sqs:SendMessage", "arn:aws:sqs:x")


def test_not_action_not_resource_and_explicit_deny():
    p = policy({"NotAction": "s3:Delete*", "Resource": f"{BUCKET}/*"},
               {"Action": "sqs:*", "NotResource": "arn:aws:sqs:us-east-1:123456789012:secret"})
    assert p.allowed("s3:PutObject", f"{BUCKET}/k")
    assert not p.allowed("s3:DeleteObject", f"{BUCKET}/k")
    assert p.allowed("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:open")
    assert not p.allowed("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:secret")
    denied = Policy([*p.statements, {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/locked/*"}])
    assert not denied.allowed("s3:PutObject", f"{BUCKET}/locked/k")
    assert denied.allowed("s3:PutObject", f"{BUCKET}/open/k")


def test_s3_prefix_conditions_on_list_bucket():
    p = policy({"Action": "s3:ListBucket", "Resource": BUCKET,
                "Condition": {"StringLike": {"s3:prefix": ["tasks/*", "uploads/"]}}})
    assert p.allowed("s3:ListBucket", BUCKET, "tasks/7/")
    assert p.allowed("s3:ListBucket", BUCKET, "uploads/")
    assert not p.allowed("s3:ListBucket", BUCKET, "uploads/x")
    assert not p.allowed("s3:ListBucket", BUCKET, "exports/")
    assert not p.allowed("s3:ListBucket", BUCKET, None)  # no prefix: the condition fails
    exact = policy({"Action": "s3:ListBucket", "Resource": BUCKET,
                    "Condition": {"StringEquals": {"s3:prefix": "tasks/*"}}})
    assert exact.allowed("s3:ListBucket", BUCKET, "tasks/*")
    assert not exact.allowed("s3:ListBucket", BUCKET, "tasks/1")
    if_exists = policy({"Action": "s3:ListBucket", "Resource": BUCKET,
                        "Condition": {"StringLikeIfExists": {"s3:prefix": "tasks/*"}}})
    assert if_exists.allowed("s3:ListBucket", BUCKET, None)
    assert not if_exists.allowed("s3:ListBucket", BUCKET, "other/")


def test_a_role_s_inline_and_managed_policies():
    role = {"Properties": {
        "Policies": [{"PolicyName": "p0", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q"}]}}],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]}}
    p = policy_of_role(role)
    assert p.allowed("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")
    assert p.allowed("logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:x")
    assert not p.allowed("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:1:q")
    with pytest.raises(UnknownManagedPolicy):
        policy_of_role({"Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}})


@pytest.mark.parametrize(("operation", "params", "needs"), [
    ("HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k", None)]),
    ("GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v"}, [("s3:GetObjectVersion", "arn:aws:s3:::b/k", None)]),
    ("DeleteObject", {"Bucket": "b", "Key": "k", "VersionId": "v"},
     [("s3:DeleteObjectVersion", "arn:aws:s3:::b/k", None)]),
    ("ListObjectsV2", {"Bucket": "b", "Prefix": "tasks/1/"}, [("s3:ListBucket", "arn:aws:s3:::b", "tasks/1/")]),
    ("ListObjectVersions", {"Bucket": "b", "Prefix": "a/"}, [("s3:ListBucketVersions", "arn:aws:s3:::b", "a/")]),
    ("ListMultipartUploads", {"Bucket": "b"}, [("s3:ListBucketMultipartUploads", "arn:aws:s3:::b", "")]),
    ("CopyObject", {"Bucket": "b", "Key": "to", "CopySource": "src/from%20x?versionId=3"},
     [("s3:GetObjectVersion", "arn:aws:s3:::src/from x", None), ("s3:PutObject", "arn:aws:s3:::b/to", None)]),
    ("CopyObject", {"Bucket": "b", "Key": "to", "CopySource": {"Bucket": "src", "Key": "from"}},
     [("s3:GetObject", "arn:aws:s3:::src/from", None), ("s3:PutObject", "arn:aws:s3:::b/to", None)]),
    ("UploadPart", {"Bucket": "b", "Key": "k", "UploadId": "u", "PartNumber": 1},
     [("s3:PutObject", "arn:aws:s3:::b/k", None)]),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k", None)]),
    ("ListParts", {"Bucket": "b", "Key": "k"}, [("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k", None)]),
    ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "1"}]}},
     [("s3:DeleteObject", "arn:aws:s3:::b/x", None), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/y", None)]),
])
def test_s3_calls_need_the_actions_iam_checks(operation, params, needs):
    assert permissions("s3", operation, params) == needs


def test_other_services_calls_name_their_resources():
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    assert permissions("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}, {"Update": {"TableName": "t"}},
        {"Delete": {"TableName": "t"}}]}) == [
        ("dynamodb:PutItem", table, None), ("dynamodb:ConditionCheckItem", table, None),
        ("dynamodb:UpdateItem", table, None), ("dynamodb:DeleteItem", table, None)]
    assert permissions("dynamodb", "Query", {"TableName": "t", "IndexName": "GSI1"}) == [
        ("dynamodb:Query", f"{table}/index/GSI1", None)]
    assert permissions("dynamodb", "BatchWriteItem", {"RequestItems": {"t": []}}) == [
        ("dynamodb:BatchWriteItem", table, None)]
    assert permissions("sqs", "SendMessageBatch", {"QueueUrl": "http://127.0.0.1:4566/123456789012/q"}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q", None)]
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    assert permissions("stepfunctions", "StartExecution", {"stateMachineArn": machine}) == [
        ("states:StartExecution", machine, None)]
    assert permissions("events", "PutEvents", {"Entries": [{"EventBusName": "bus"}, {}]}) == [
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/bus", None),
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default", None)]
    assert permissions("sagemaker-runtime", "InvokeEndpointAsync", {"EndpointName": "YoloX"}) == [
        ("sagemaker:InvokeEndpointAsync", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/yolox", None)]
    assert permissions("lambda", "Invoke", {"FunctionName": "f"}) == [
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f", None)]


def test_the_template_s_own_managed_policies_are_a_role_s():
    tracing = [{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]
    role = {"Properties": {"ManagedPolicyArns": ["arn:aws:iam::123456789012:policy/stack-Tracing"]}}
    p = policy_of_role(role, managed={"arn:aws:iam::123456789012:policy/stack-Tracing": tracing})
    assert p.allowed("xray:PutTraceSegments", "*")
    by_name = policy_of_role(role, managed={"arn:aws:iam::123456789012:policy/path/stack-Tracing": tracing})
    assert by_name.allowed("xray:PutTraceSegments", "*")


def test_every_function_of_template_yaml_has_its_role_s_policy():
    from cvat_serverless_tools.local.template import load_template
    from tests._iam import template_policies

    functions = set(load_template().of_type("AWS::Lambda::Function"))
    policies = template_policies()
    assert set(policies.by_function) == functions
    assert all(policy.statements for policy in policies.by_function.values())
