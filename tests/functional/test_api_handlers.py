import json

import pytest
from packaging.version import Version

from tests.events import load, rest_event


def test_about_answers_cvat_shape_for_the_sdk(invoke, settings_env):
    event = load("apigw_rest_proxy.json")
    answer = invoke("core_api", event)
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert set(body) == {"name", "description", "version", "logo_url", "subtitle"}
    assert all(isinstance(v, str) for v in body.values())
    version = Version(body["version"])
    assert (version.major, version.minor) == (2, 80)  # cvat-sdk 2.80 accepts ~=2.80.0
    assert body["logo_url"].startswith("https://abcdef1234.execute-api.us-east-1.amazonaws.com/")
    assert answer["multiValueHeaders"]["X-Request-Id"] == [event["requestContext"]["requestId"]]


@pytest.mark.parametrize(
    ("function", "path", "resource"),
    [
        ("core_api", "/api/does-not-exist", "/api/{proxy+}"),
        ("annotations_api", "/api/jobs/1/annotations/nothing", "/api/jobs/{id}/annotations/{proxy+}"),
        ("webhooks_api", "/api/webhooks/1/nothing", "/api/webhooks/{proxy+}"),
    ],
)
def test_each_api_function_answers_cvat_404_with_request_id(invoke, settings_env, function, path, resource):
    answer = invoke(function, rest_event("GET", path, resource=resource, request_id="rid-42"))
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"detail": "Not found."}
    assert answer["multiValueHeaders"]["X-Request-Id"] == ["rid-42"]


def test_logs_carry_the_request_id_as_correlation_id(settings_env):
    from tests.functional.conftest import Context, load_module

    module = load_module("core_api")
    module.lambda_handler(rest_event("GET", "/api/server/about", request_id="rid-log"), Context("core_api"))
    assert module.logger.get_correlation_id() == "rid-log"
