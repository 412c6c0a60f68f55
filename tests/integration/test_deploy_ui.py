"""`cvat-serverless deploy-ui --stack NAME` against moto's CloudFormation, S3 and CloudFront."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cvat_serverless_tools.admin.cli import main
from cvat_serverless_tools.admin.deploy_ui import IMMUTABLE, REVALIDATE

BUCKET = "cvat-ui-test"


def _dist(root: Path, app: str) -> Path:
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(f'<script type="module" src="/assets/{app}"></script>')
    (root / "assets" / app).write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg/>")
    return root


@pytest.fixture
def deployed_stack():
    """A stack with the outputs template.yaml's UI hosting gives (the distribution made beside it:
    moto's CloudFormation does not create distributions)."""
    with mock_aws():
        cloudfront = boto3.client("cloudfront")
        distribution = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "ui", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "UiBucket", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "UiBucket", "ViewerProtocolPolicy": "redirect-to-https"},
        })["Distribution"]
        template = {
            "Resources": {"UiBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}},
            "Outputs": {
                "UiBucketName": {"Value": {"Ref": "UiBucket"}},
                "UiDistributionId": {"Value": distribution["Id"]},
                "UiUrl": {"Value": f"https://{distribution['DomainName']}"},
            },
        }
        boto3.client("cloudformation").create_stack(StackName="cvat", TemplateBody=json.dumps(template))
        yield distribution["Id"]


def _objects(s3) -> dict[str, dict]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.head_object(Bucket=BUCKET, Key=k) for k in keys}


def test_deploy_ui_uploads_with_cache_headers_and_invalidates_index(deployed_stack, tmp_path, capsys):
    dist = _dist(tmp_path / "dist", "index-aaaa.js")
    assert main(["deploy-ui", "--stack", "cvat", "--dist", str(dist)]) == 0
    s3 = boto3.client("s3")
    objects = _objects(s3)
    assert set(objects) == {"index.html", "favicon.svg", "assets/index-aaaa.js"}
    assert objects["assets/index-aaaa.js"]["CacheControl"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert objects["index.html"]["CacheControl"] == REVALIDATE == "no-cache"
    assert objects["favicon.svg"]["CacheControl"] == "no-cache"
    assert objects["index.html"]["ContentType"].startswith("text/html")
    assert "javascript" in objects["assets/index-aaaa.js"]["ContentType"]
    invalidations = boto3.client("cloudfront").list_invalidations(DistributionId=deployed_stack)
    (invalidation,) = invalidations["InvalidationList"]["Items"]
    paths = boto3.client("cloudfront").get_invalidation(DistributionId=deployed_stack, Id=invalidation["Id"])
    assert sorted(paths["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]) == ["/favicon.svg", "/index.html"]
    assert "Uploaded 3 file(s)" in capsys.readouterr().out


def test_a_new_build_keeps_earlier_assets_unless_pruned_and_removes_stale_files(deployed_stack, tmp_path):
    main(["deploy-ui", "--stack", "cvat", "--dist", str(_dist(tmp_path / "one", "index-aaaa.js"))])
    two = _dist(tmp_path / "two", "index-bbbb.js")
    (two / "favicon.svg").unlink()
    assert main(["deploy-ui", "--stack", "cvat", "--dist", str(two)]) == 0
    s3 = boto3.client("s3")
    # a tab still on build one lazy-loads its chunks; the file build two dropped is gone
    assert set(_objects(s3)) == {"index.html", "assets/index-aaaa.js", "assets/index-bbbb.js"}
    assert b"index-bbbb.js" in s3.get_object(Bucket=BUCKET, Key="index.html")["Body"].read()
    assert main(["deploy-ui", "--stack", "cvat", "--dist", str(two), "--prune"]) == 0
    assert set(_objects(s3)) == {"index.html", "assets/index-bbbb.js"}


def test_deploy_ui_refuses_a_missing_build_and_a_stack_without_ui_hosting(deployed_stack, tmp_path):
    with pytest.raises(FileNotFoundError, match="make frontend"):
        main(["deploy-ui", "--stack", "cvat", "--dist", str(tmp_path / "empty")])
    boto3.client("cloudformation").create_stack(StackName="api-only", TemplateBody=json.dumps({
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    with pytest.raises(SystemExit, match="UiHosting=true"):
        main(["deploy-ui", "--stack", "api-only", "--dist", str(_dist(tmp_path / "dist", "a.js"))])
