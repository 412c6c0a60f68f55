import json

import boto3

from tests.events import load


def s3_event(bucket: str, key: str = "uploads/my+video%28take+2%29.mp4") -> dict:
    event = load("sqs_s3_object_created.json")
    for record in event["Records"]:
        record["body"] = record["body"].replace("BUCKET", bucket).replace(
            "uploads/my+video%28take+2%29.mp4", key)
    return event


def test_ingest_starts_one_execution_per_upload_and_skips_test_events(invoke, stack):
    bucket = stack.outputs["MediaBucketName"]
    answer = invoke("ingest", s3_event(bucket))
    assert answer == {"batchItemFailures": []}
    sfn = boto3.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.outputs["TaskDataStateMachineArn"])["executions"]
    assert len(executions) == 1
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    # moto and AWS URL-encode keys in notifications; the workflow gets the real key
    assert json.loads(described["input"])["key"] == "uploads/my video(take 2).mp4"
    # redelivery of the same notification does not start the work twice
    invoke("ingest", s3_event(bucket))
    assert len(sfn.list_executions(stateMachineArn=stack.outputs["TaskDataStateMachineArn"])["executions"]) == 1


def test_ingest_reports_only_the_broken_record(invoke, stack):
    event = s3_event(stack.outputs["MediaBucketName"])
    event["Records"][1]["body"] = "{not json"
    answer = invoke("ingest", event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}


def test_task_data_steps_probe_segment_finalize(invoke, stack):
    bucket = stack.outputs["MediaBucketName"]
    s3 = boto3.client("s3")
    payload = bytes(range(256)) * 40_000  # ~10 MB: two segments
    s3.put_object(Bucket=bucket, Key="uploads/big.bin", Body=payload)
    probe = invoke("task_data_probe", {"execution_name": "exec1", "key": "uploads/big.bin"})
    assert probe["size"] == len(payload)
    assert [(s["start"], s["end"]) for s in probe["segments"]] == [(0, 8 * 2**20 - 1), (8 * 2**20, len(payload) - 1)]
    results = [invoke("task_data_segment", {"execution_name": "exec1", "key": "uploads/big.bin", **s})
               for s in probe["segments"]]
    assert all(r["result_key"].startswith("processing/exec1/") for r in results)
    final = invoke("task_data_finalize", {"execution_name": "exec1", "key": "uploads/big.bin", "results": results})
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=final["manifest_key"])["Body"].read())
    assert manifest["size"] == len(payload)
    import hashlib

    assert manifest["segments"][1]["sha256"] == hashlib.sha256(payload[8 * 2**20:]).hexdigest()


def test_step_input_is_validated(invoke, stack):
    import pytest
    from aws_lambda_powertools.utilities.parser import ValidationError

    with pytest.raises(ValidationError):
        invoke("task_data_segment", {"execution_name": "j", "key": "k", "index": "first"})
