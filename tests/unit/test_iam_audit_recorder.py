"""The embedded runtime's IAM recorder (local/iam_audit.py) on a real botocore client (stubbed:
no endpoint is called): calls and presigned requests made for a function are written as IAM
actions and resources; others, and everything while the variable is unset, are not."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from cvat_serverless_tools.local import iam_audit


@pytest.fixture
def s3(monkeypatch):
    """An S3 client, with the recorder's patches applied for the test only (install() keeps them)."""
    for owner, name, replacement in iam_audit.patches():
        monkeypatch.setattr(owner, name, replacement)
    return boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1").client(
        "s3", endpoint_url="http://127.0.0.1:1")


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_calls_and_presigned_requests_made_for_a_function_are_recorded(s3, tmp_path, monkeypatch):
    out = tmp_path / "calls.jsonl"
    monkeypatch.setenv(iam_audit.ENV_VAR, str(out))
    with Stubber(s3) as stub:
        stub.add_response("head_object", {}, {"Bucket": "media", "Key": "tasks/1/a.jpg"})
        stub.add_response("list_objects_v2", {}, {"Bucket": "media", "Prefix": "tasks/1/"})
        with iam_audit.running("MediaApiFunction"):
            s3.head_object(Bucket="media", Key="tasks/1/a.jpg")
            s3.list_objects_v2(Bucket="media", Prefix="tasks/1/")
            s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "tasks/1/c.zip"})
            s3.generate_presigned_url("upload_part", Params={"Bucket": "media", "Key": "staging/x",
                                                             "UploadId": "u", "PartNumber": 1})
            s3.generate_presigned_post("media", "uploads/y")
    got = [(x["function"], x["action"], x["resource"], x.get("s3_prefix"), x.get("presigned", False))
           for x in lines(out)]
    assert got == [
        ("MediaApiFunction", "s3:GetObject", "arn:aws:s3:::media/tasks/1/a.jpg", None, False),
        ("MediaApiFunction", "s3:ListBucket", "arn:aws:s3:::media", "tasks/1/", False),
        ("MediaApiFunction", "s3:GetObject", "arn:aws:s3:::media/tasks/1/c.zip", None, True),
        ("MediaApiFunction", "s3:PutObject", "arn:aws:s3:::media/staging/x", None, True),
        ("MediaApiFunction", "s3:PutObject", "arn:aws:s3:::media/uploads/y", None, True),
    ]


def test_calls_outside_a_function_or_without_the_variable_are_not(s3, tmp_path, monkeypatch):
    out = tmp_path / "calls.jsonl"
    monkeypatch.setenv(iam_audit.ENV_VAR, str(out))
    s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "k"})  # the runtime's own
    monkeypatch.delenv(iam_audit.ENV_VAR)
    with iam_audit.running("CoreApiFunction"):
        s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "k"})
    assert lines(out) == []


def test_install_patches_nothing_while_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv(iam_audit.ENV_VAR, raising=False)
    before = (threading.Thread.__init__, threading.Thread._bootstrap_inner)  # type: ignore[attr-defined]
    assert iam_audit.install() is False
    assert (threading.Thread.__init__, threading.Thread._bootstrap_inner) == before  # type: ignore[attr-defined]
    assert not iam_audit.enabled()


def test_threads_and_pool_work_started_by_a_function_are_its(s3, tmp_path, monkeypatch):
    out = tmp_path / "calls.jsonl"
    monkeypatch.setenv(iam_audit.ENV_VAR, str(out))

    def sign(key: str) -> None:
        s3.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": key})

    with ThreadPoolExecutor(max_workers=1) as shared:  # its worker is started outside any function
        shared.submit(sign, "outside").result()
        with iam_audit.running("TaskDataUnitFunction"):
            thread = threading.Thread(target=sign, args=("thread",))
            thread.start()
            thread.join()
            shared.submit(sign, "pool").result()
        shared.submit(sign, "outside again").result()
    assert [(x["function"], x["resource"]) for x in lines(out)] == [
        ("TaskDataUnitFunction", "arn:aws:s3:::media/thread"), ("TaskDataUnitFunction", "arn:aws:s3:::media/pool")]
