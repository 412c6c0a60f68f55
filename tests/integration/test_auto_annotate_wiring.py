"""The template's auto-annotate resources on moto (the ``stack`` fixture deploys template.yaml):
the state machine exists with its definition, an async endpoint's result or failure object in the
media bucket reaches the results queue (S3 -> SQS, the prefixes' notifications, keys URL-encoded),
and the results function consumes that queue."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import boto3


def test_the_state_machine_and_the_results_path_are_deployed(stack):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    described = sfn.describe_state_machine(stateMachineArn=stack.outputs["AutoAnnotateStateMachineArn"])
    definition = json.loads(described["definition"])
    assert definition["StartAt"] == "Start" and described["name"].endswith("-auto-annotate")
    assert "${" not in described["definition"]  # every substitution resolved

    bucket = stack.outputs["MediaBucketName"]
    s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    queue = stack.physical["AutoAnnotateResultsQueue"]["Ref"]
    for key in ("auto-annotation/async-results/autoannotate-task-7-ab-0-1.out",
                "auto-annotation/async-failures/x y-error.out", "auto-annotation/async-input/r/0.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    keys = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            keys += [unquote_plus(r["s3"]["object"]["key"]) for r in json.loads(message["Body"]).get("Records", [])]
    assert sorted(keys) == ["auto-annotation/async-failures/x y-error.out",
                            "auto-annotation/async-results/autoannotate-task-7-ab-0-1.out"]

    [mapping] = [m for m in stack.mappings if m.function_logical_id == "AutoAnnotateResultsFunction"]
    assert queue.endswith("/" + mapping.queue_name) and mapping.report_batch_item_failures
