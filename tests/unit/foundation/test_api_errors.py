import json

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from cvat_serverless.api.cvat_api import CvatApi
from cvat_serverless.api.errors import body_for, status_for
from cvat_serverless.domain import errors as e
from tests.events import rest_event

router = Router()


class Payload(BaseModel):
    name: str = Field(min_length=1)
    size: int


@router.post("/api/things")
def create(payload: Payload) -> dict[str, str]:
    return {"name": payload.name}


@router.get("/api/raise/<kind>")
def boom(kind: str) -> dict[str, str]:
    errors = {
        "validation": e.ValidationError(fields={"name": ["This field is required."]}),
        "plain": e.ValidationError("Bad frame range."),
        "auth": e.AuthenticationError("Authentication credentials were not provided."),
        "forbidden": e.PermissionDeniedError("no"),
        "missing": e.NotFoundError("Task 3 not found."),
        "conflict": e.ConflictError("changed"),
        "big": e.PayloadTooLargeError("too big"),
        "busy": e.DependencyUnavailableError("later", retry_after=7),
        "bug": KeyError("secret internals"),
        "base": e.CvatServerlessError("odd"),
    }
    raise errors[kind]


class _NoServices:
    """These routes use no service; the app itself reads only where its edge is (none here)."""

    edge_secret = ""


api = CvatApi(_NoServices(), router)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (e.ValidationError(fields={"a": ["x"]}), 400, {"a": ["x"]}),
        (e.ValidationError("whole"), 400, ["whole"]),
        (e.MediaError("bad video"), 400, ["bad video"]),
        (e.AuthenticationError("who"), 401, {"detail": "who"}),
        (e.PermissionDeniedError("no"), 403, {"detail": "no"}),
        (e.NotFoundError("gone"), 404, {"detail": "gone"}),
        (e.ConflictError("race"), 409, {"detail": "race"}),
        (e.PayloadTooLargeError("big"), 413, {"detail": "big"}),
        (e.ThrottledError("slow"), 429, {"detail": "slow"}),
        (e.DependencyUnavailableError("down"), 503, {"detail": "down"}),
        (e.CvatServerlessError("odd"), 500, {"detail": "Internal server error."}),
    ],
)
def test_each_error_class_maps_to_cvat_status_and_body(error, status, body):
    assert status_for(error) == status
    assert body_for(error) == body


def _call(method: str, path: str, body: object = None) -> tuple[int, object, dict]:
    answer = api.handle(rest_event(method, path, body=body, request_id="req-123"), None)
    return answer["statusCode"], json.loads(answer["body"]), answer["multiValueHeaders"]


@pytest.mark.parametrize(
    ("kind", "status"),
    [("validation", 400), ("plain", 400), ("auth", 401), ("forbidden", 403), ("missing", 404),
     ("conflict", 409), ("big", 413), ("busy", 503), ("bug", 500), ("base", 500)],
)
def test_routes_raising_errors_answer_cvat_shape_with_request_id(kind, status):
    code, body, headers = _call("GET", f"/api/raise/{kind}")
    assert code == status
    assert headers["X-Request-Id"] == ["req-123"]
    if status == 500:
        assert body == {"detail": "Internal server error."}
        assert "secret" not in json.dumps(body)


def test_retry_after_on_unavailable_and_www_authenticate_on_401():
    _, _, headers = _call("GET", "/api/raise/busy")
    assert headers["Retry-After"] == ["7"]
    _, _, headers = _call("GET", "/api/raise/auth")
    assert headers["WWW-Authenticate"]


def test_pydantic_validation_is_400_in_field_error_shape():
    code, body, _ = _call("POST", "/api/things", body={"name": "", "size": "many"})
    assert code == 400
    assert set(body) == {"name", "size"}
    assert all(isinstance(v, list) and v for v in body.values())


def test_missing_required_field_says_so():
    code, body, _ = _call("POST", "/api/things", body={"name": "a"})
    assert code == 400
    assert body == {"size": ["This field is required."]}


def test_unknown_route_is_404_detail_with_request_id():
    code, body, headers = _call("GET", "/api/nowhere")
    assert (code, body) == (404, {"detail": "Not found."})
    assert headers["X-Request-Id"] == ["req-123"]
