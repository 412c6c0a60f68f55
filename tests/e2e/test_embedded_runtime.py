"""The foundation's "done means", checked as a new user would."""

from __future__ import annotations

import http.client
import json
import re
import signal

import pytest

from tests.e2e.conftest import Runtime, cli, wait_for

# Every test here starts `cvat-serverless up` or the CLI in a subprocess (seconds each).
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_about_answers_in_cvat_shape_with_a_request_id(runtime: Runtime):
    status, headers, body = runtime.get("/api/server/about")
    assert status == 200, runtime.output()[-3000:]
    about = json.loads(body)
    assert set(about) == {"name", "description", "version", "logo_url", "subtitle"}
    assert re.fullmatch(r"2\.80\.\d+", about["version"])
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["X-Request-Id"])
    # every answer carries one, errors included
    status, headers, body = runtime.get("/api/no-such-thing")
    assert status == 404 and json.loads(body) == {"detail": "Not found."}
    assert headers["X-Request-Id"]


def test_unrouted_paths_answer_like_api_gateway(runtime: Runtime):
    status, _, body = runtime.get("/api")
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})


def _send(runtime: Runtime, method: str, path: str, headers: list[tuple[str, str]],
          body: bytes = b"") -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request whose header lines go out exactly as listed: a repeated name stays repeated."""
    conn = http.client.HTTPConnection("127.0.0.1", runtime.port, timeout=30)
    try:
        conn.putrequest(method, path)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            conn.putheader(name, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, answer.msg, answer.read()
    finally:
        conn.close()


def test_repeated_request_headers_reach_the_handler_as_multi_value(runtime: Runtime):
    # Observed through what the API does with them; tests/unit/foundation/test_local_apigw.py
    # checks the event's multiValueHeaders / multiValueQueryStringParameters field by field.
    account = {"username": "multi-value", "password1": "correct horse 42", "password2": "correct horse 42"}
    status, msg, body = _send(runtime, "POST", "/api/auth/register", [("Content-Type", "application/json")],
                              json.dumps(account).encode())
    assert status == 201, body
    set_cookies = msg.get_all("Set-Cookie") or []
    assert len(set_cookies) == 2, set_cookies  # two Set-Cookie lines, not one folded line
    cookies = dict(c.split(";", 1)[0].split("=", 1) for c in set_cookies)
    assert set(cookies) == {"sessionid", "csrftoken"}
    session_line = ("Cookie", f"sessionid={cookies['sessionid']}")
    csrf_line = ("Cookie", f"csrftoken={cookies['csrftoken']}")
    unsafe = [("Content-Type", "application/json"), ("X-CSRFToken", cookies["csrftoken"]),
              ("X-Forwarded-Host", "first.example"), ("X-Forwarded-Host", "second.example")]

    # The session and the CSRF cookie on two Cookie lines: a POST needs both (Django's double
    # submit), so it only succeeds when the handler gets every value of the repeated header.
    status, _, body = _send(runtime, "POST", "/api/projects", [session_line, *unsafe], b'{"name": "one"}')
    assert (status, json.loads(body)["detail"]) == (403, "CSRF Failed: CSRF token missing."), body
    status, _, body = _send(runtime, "POST", "/api/projects", [session_line, csrf_line, *unsafe],
                            b'{"name": "one"}')
    assert status == 201, body
    # the first X-Forwarded-Host names the public host (the single-value map only has the last)
    assert json.loads(body)["url"].startswith("http://first.example/api/projects/"), body

    # A repeated query parameter: routes read the last value, as Django's QueryDict.get does, so
    # the empty `org` (the personal workspace) wins over the unknown one (a 404 if it were used).
    status, _, body = _send(runtime, "POST", "/api/projects?org=no-such-org&org=",
                            [session_line, csrf_line, *unsafe], b'{"name": "two"}')
    assert status == 201, body
    assert json.loads(body)["organization"] is None, body


def test_health_prints_a_working_line_per_dependency(runtime: Runtime):
    result = cli("health", data_dir=runtime.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    names = " ".join(lines)
    for part in ("DynamoDB table", "Database schema", "S3 media bucket", "SQS queue", "Step Functions",
                 "EventBridge bus", "REST API"):
        assert part in names
    assert all(line.endswith("working") or "working:" in line for line in lines)
    # upload, domain events, webhook deliveries, analytics events: each queue and its dead letters
    assert sum("SQS queue" in line for line in lines) == 8


def test_env_prints_exports_that_reach_the_embedded_bucket(runtime: Runtime):
    result = cli("env", data_dir=runtime.data_dir)
    assert result.returncode == 0
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", result.stdout, re.M))
    assert exports["AWS_ENDPOINT_URL"] == runtime.aws
    import boto3

    s3 = boto3.client("s3", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name=exports["AWS_DEFAULT_REGION"],
                      aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"])
    assert s3.head_bucket(Bucket=exports["CVAT_MEDIA_BUCKET"])
    assert exports["CVAT_UPLOAD_PREFIX"] == "uploads/"


def test_commands_against_a_stopped_runtime_fail_clearly(tmp_path):
    result = cli("health", data_dir=tmp_path / "never-started")
    assert result.returncode != 0
    assert "not running" in result.stdout + result.stderr
    result = cli("env", data_dir=tmp_path / "never-started")
    assert result.returncode == 1


def test_superuser_survives_restart_and_kill_9(fresh_runtime: Runtime):
    rt = fresh_runtime.start()
    assert "no users yet" in rt.output()
    made = cli("createsuperuser", "--username", "admin", "--email", "admin@example.com",
               data_dir=rt.data_dir, env={"CVAT_SUPERUSER_PASSWORD": "correct horse"})
    assert made.returncode == 0, made.stderr
    assert rt.stop(signal.SIGINT) == 0
    rt.start()
    assert "log in as admin" in rt.output()
    # a second superuser, then kill -9 once the snapshot has been written (at most ~1 s later)
    made = cli("createsuperuser", "--username", "second", "--password", "another pass", data_dir=rt.data_dir)
    assert made.returncode == 0, made.stderr
    snapshot = rt.data_dir / "aws" / "dynamodb.pickle"
    # The name is only in the snapshot with the user: the items of its one transaction, saved all
    # or none, and never a key createsuperuser only read (tests/integration/test_embedded_snapshots.py).
    wait_for(lambda: b"second" in snapshot.read_bytes(), timeout=10, what="the snapshot to hold the second superuser")
    rt.stop(signal.SIGKILL)
    rt.start()
    assert "log in as admin, second" in rt.output(), rt.output()
    duplicate = cli("createsuperuser", "--username", "admin", "--password", "whatever1", data_dir=rt.data_dir)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr


def test_createsuperuser_works_while_stopped_and_rejects_bad_input(tmp_path):
    data = tmp_path / "data"
    ok = cli("createsuperuser", "--username", "offline", "--password", "long enough", data_dir=data)
    assert ok.returncode == 0, ok.stderr
    short = cli("createsuperuser", "--username", "x", "--password", "short", data_dir=data)
    assert short.returncode == 1 and "too short" in short.stderr
    bad = cli("createsuperuser", "--username", "bad name!", "--password", "long enough", data_dir=data)
    assert bad.returncode == 1 and "username" in bad.stderr
    no_password = cli("createsuperuser", "--username", "y", data_dir=data, stdin="")
    assert no_password.returncode != 0 and "password" in no_password.stderr.lower()


def test_a_snapshot_from_another_moto_version_is_refused_and_left_alone(fresh_runtime: Runtime):
    rt = fresh_runtime.start()
    rt.stop(signal.SIGINT)
    manifest = rt.data_dir / "aws" / "snapshot.json"
    data = json.loads(manifest.read_text())
    data["moto"] = "0.0.1"
    manifest.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in (rt.data_dir / "aws").iterdir()}
    with pytest.raises(RuntimeError) as failed:
        rt.start()
    assert "moto 0.0.1" in str(failed.value) and "pip install" in str(failed.value)
    assert {p.name: p.read_bytes() for p in (rt.data_dir / "aws").iterdir()} == before
