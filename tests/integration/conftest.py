"""Integration tests: the AWS adapters against moto, with the resources template.yaml declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cvat_serverless_tools.local.deployer import Deployer, Deployment
from cvat_serverless_tools.local.template import Template, load_template


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture
def stack(template: Template, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The template deployed on in-process moto, and Settings pointing at it."""
    with mock_aws():
        deployment = Deployer(template, "https://sqs.us-east-1.amazonaws.com", boto3.client).deploy()
        for key, value in deployment.environment.items():
            monkeypatch.setenv(key, value)
        from cvat_serverless import bootstrap
        from cvat_serverless.adapters.aws.clients import client

        client.cache_clear()
        bootstrap.reset()
        yield deployment
        client.cache_clear()
        bootstrap.reset()


def output(deployment: Deployment, name: str) -> Any:
    return deployment.outputs[name]
