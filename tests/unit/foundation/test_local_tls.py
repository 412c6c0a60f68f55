"""HTTPS on the embedded runtime's API port (`cvat-serverless up --tls-cert --tls-key`): the
certificate checks at start, the scheme the gateway tells the API (X-Forwarded-Proto, as API
Gateway does), HSTS, and presigned S3 URLs moved to the API's origin and checked there."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client

from cvat_serverless_tools.local.apigw import HSTS, ApiGateway
from cvat_serverless_tools.local.deployer import Route
from cvat_serverless_tools.local.lambdas import FunctionRegistry, LocalFunction
from cvat_serverless_tools.local.presigned import PresignedProxy, signature_problem
from cvat_serverless_tools.local.tls import TlsConfigError, TlsRequestHandler, serve_tls, server_context
from tests._tls import other_key, self_signed

ENDPOINT = "http://127.0.0.1:4566"
SECRET = "testing"
HANDLER = """
import json
def handler(event, context):
    if event["path"].endswith("/chunk"):
        return {"statusCode": 302, "headers": {"Location": event["body"]}, "body": ""}
    if event["path"].endswith("/parts"):
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": event["body"]}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""


def presign(operation: str = "get_object", secret: str = SECRET, **params: object) -> str:
    import boto3
    from botocore.config import Config

    s3 = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key=secret).client(
        "s3", region_name="us-east-1", endpoint_url=ENDPOINT,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return str(s3.generate_presigned_url(operation, Params={"Bucket": "media", "Key": "data/1/chunk 0.zip", **params},
                                         ExpiresIn=900))


class FakeS3:
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    def __call__(self, environ, start_response):
        self.seen.append(dict(environ))
        start_response("200 OK", [("Content-Type", "application/zip"), ("ETag", '"e"')])
        return [b"PK-bytes"]


def gateway(tmp_path, s3: FakeS3 | None = None) -> ApiGateway:
    folder = tmp_path / "functions" / "Core"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(HANDLER))
    registry = FunctionRegistry()
    registry.add(LocalFunction("Core", "s-Core", "arn:aws:lambda:us-east-1:1:function:s-Core", folder,
                               "app.handler", 5, 128))
    proxy = PresignedProxy(s3 or FakeS3(), ENDPOINT, SECRET)
    return ApiGateway([Route("/api/{proxy+}", "ANY", "Core")], registry, stage="v1", binary_media_types=[],
                      frontend_dir=None, presigned=proxy)


# --- the certificate ------------------------------------------------------------------------


def test_a_matching_certificate_and_key_make_a_tls12_server_context(tmp_path):
    files = self_signed(tmp_path)
    context = server_context(files.cert, files.key)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.protocol == ssl.PROTOCOL_TLS_SERVER


def test_a_key_of_another_certificate_is_a_clear_error(tmp_path):
    files = self_signed(tmp_path)
    with pytest.raises(TlsConfigError, match="does not belong to the certificate"):
        server_context(files.cert, other_key(tmp_path))


def test_a_missing_file_is_a_clear_error(tmp_path):
    files = self_signed(tmp_path)
    with pytest.raises(TlsConfigError, match=r"cannot read the TLS key .*nope\.pem"):
        server_context(files.cert, tmp_path / "nope.pem")
    with pytest.raises(TlsConfigError, match="cannot read the TLS certificate"):
        server_context(tmp_path / "nope.pem", files.key)


def test_a_file_that_is_not_pem_is_a_clear_error(tmp_path):
    files = self_signed(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(TlsConfigError, match="must be PEM"):
        server_context(garbage, files.key)


def test_an_encrypted_key_is_a_clear_error_not_a_prompt(tmp_path):
    files = self_signed(tmp_path)
    with pytest.raises(TlsConfigError, match="passphrase"):
        server_context(files.cert, other_key(tmp_path, passphrase=b"secret"))


# --- the scheme, HSTS ---------------------------------------------------------------------------


def _event(response) -> dict:
    return json.loads(response.get_data())


def test_over_tls_the_api_is_told_https_whatever_the_client_claims(tmp_path):
    answer = Client(gateway(tmp_path)).get("/api/server/about", base_url="https://cvat.lan:8443",
                                           headers={"X-Forwarded-Proto": "http"})
    event = _event(answer)
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]
    assert not any(k.lower() == "x-forwarded-proto" and k != "X-Forwarded-Proto" for k in event["multiValueHeaders"])
    assert answer.headers["Strict-Transport-Security"] == HSTS


def test_over_plain_http_nothing_is_added_and_a_proxy_header_passes_through(tmp_path):
    plain = Client(gateway(tmp_path)).get("/api/server/about", base_url="http://127.0.0.1:8080")
    assert "X-Forwarded-Proto" not in (_event(plain)["multiValueHeaders"] or {})
    assert "Strict-Transport-Security" not in plain.headers
    proxied = Client(gateway(tmp_path)).get("/api/server/about", base_url="http://127.0.0.1:8080",
                                            headers={"X-Forwarded-Proto": "https"})
    assert _event(proxied)["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]


def test_no_hsts_for_localhost_which_would_pin_every_port_of_it(tmp_path):
    answer = Client(gateway(tmp_path)).get("/api/server/about", base_url="https://localhost:8443")
    assert "Strict-Transport-Security" not in answer.headers
    ui = Client(gateway(tmp_path)).get("/", base_url="https://cvat.lan:8443")
    assert ui.headers["Strict-Transport-Security"] == HSTS  # the web UI's answers too


# --- presigned URLs -----------------------------------------------------------------------------


def test_a_presigned_redirect_and_presigned_urls_in_a_body_move_to_the_https_origin(tmp_path):
    gw = gateway(tmp_path)
    url = presign()
    redirect = Client(gw).post("/api/jobs/1/chunk", data=url, base_url="https://cvat.lan:8443")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == url.replace(ENDPOINT, "https://cvat.lan:8443")
    parts = json.dumps({"parts": [presign("upload_part", UploadId="u", PartNumber=1)], "endpoint": ENDPOINT + "/x"})
    moved = json.loads(Client(gw).post("/api/parts", data=parts, base_url="https://cvat.lan:8443").get_data())
    assert moved["parts"][0].startswith("https://cvat.lan:8443/media/data/1/")
    assert moved["endpoint"] == ENDPOINT + "/x"  # not a presigned URL: left alone
    plain = Client(gw).post("/api/jobs/1/chunk", data=url, base_url="http://127.0.0.1:8080")
    assert plain.headers["Location"] == url  # over plain HTTP nothing moves


def test_a_presigned_request_on_the_api_port_reaches_s3_as_the_embedded_endpoint(tmp_path):
    s3 = FakeS3()
    parts = urlsplit(presign())
    answer = Client(gateway(tmp_path, s3)).get(f"{parts.path}?{parts.query}", base_url="https://cvat.lan:8443",
                                               headers={"Authorization": "Token abc", "Cookie": "sessionid=x"})
    assert answer.status_code == 200 and answer.get_data() == b"PK-bytes"
    assert answer.headers["Strict-Transport-Security"] == HSTS
    (seen,) = s3.seen
    assert seen["HTTP_HOST"] == "127.0.0.1:4566" and seen["wsgi.url_scheme"] == "http"
    assert "HTTP_AUTHORIZATION" not in seen and "HTTP_COOKIE" not in seen


@pytest.mark.parametrize("tamper", ["other key", "other secret", "no signature"])
def test_a_presigned_request_that_the_api_did_not_sign_is_refused(tmp_path, tamper):
    s3 = FakeS3()
    parts = urlsplit(presign(secret="forged" if tamper == "other secret" else SECRET))
    path = parts.path.replace("chunk%200", "chunk%201") if tamper == "other key" else parts.path
    query = parts.query.replace("X-Amz-Signature=", "X-Amz-Nothing=") + "&X-Amz-Signature=0" \
        if tamper == "no signature" else parts.query
    answer = Client(gateway(tmp_path, s3)).get(f"{path}?{query}", base_url="https://cvat.lan:8443")
    assert answer.status_code == 403 and b"<Code>" in answer.get_data()
    assert s3.seen == []


def test_an_expired_presigned_url_is_refused():
    parts = urlsplit(presign())
    target = f"{parts.path}?{parts.query}"
    now = datetime.now(UTC)
    assert signature_problem("GET", target, {}, host="127.0.0.1:4566", secret_key=SECRET, now=now) is None
    assert signature_problem("GET", target, {}, host="127.0.0.1:4566", secret_key=SECRET,
                             now=now + timedelta(seconds=1000)) == "Request has expired"
    assert signature_problem("PUT", target, {}, host="127.0.0.1:4566", secret_key=SECRET, now=now) is not None


# --- a real TLS listener ------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path):
    files = self_signed(tmp_path)
    server = make_server("127.0.0.1", 0, gateway(tmp_path), threaded=True, request_handler=TlsRequestHandler)
    serve_tls(server, server_context(files.cert, files.key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, files
    server.shutdown()
    server.server_close()


def test_https_with_the_certificate_as_ca_is_served_and_plain_http_is_not(tls_server):
    port, files = tls_server
    # a client that connects and says nothing holds up no one (the handshake is not in accept())
    silent = socket.create_connection(("127.0.0.1", port))
    try:
        context = ssl.create_default_context(cafile=str(files.cert))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
        connection.request("GET", "/api/server/about")
        answer = connection.getresponse()
        assert answer.status == 200
        assert json.loads(answer.read())["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]
        connection.close()
    finally:
        silent.close()
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain.request("GET", "/api/server/about")
        plain.getresponse()
    plain.close()
