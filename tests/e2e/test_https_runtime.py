"""`cvat-serverless up --tls-cert CERT --tls-key KEY`: the web UI and API over HTTPS (a self-signed
certificate for 127.0.0.1 made here, trusted by the clients as their CA), Secure session cookies,
no plain HTTP on that port, media (presigned S3 redirects) on the same HTTPS origin, cvat-sdk over
HTTPS; a certificate that cannot serve is a clear error at start."""

from __future__ import annotations

import http.client
import io
import json
import os
import ssl
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests._tls import CertFiles, other_key, self_signed
from tests.e2e import conftest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-https", "e2e-https-pass-1"


@dataclass
class HttpsRuntime(conftest.Runtime):
    ca: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def request(self, method: str, path: str, body: object = None,
                headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes, str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.context()))
        try:
            with opener.open(request, timeout=30) as answer:
                return answer.status, answer.headers, answer.read(), answer.url
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read(), error.url


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_runtime(tmp_path_factory: pytest.TempPathFactory, certs: CertFiles) -> Iterator[HttpsRuntime]:
    rt = HttpsRuntime(tmp_path_factory.mktemp("rt-https") / "data", ca=certs.cert,
                      up_args=("--tls-cert", str(certs.cert), "--tls-key", str(certs.key)))
    rt.start()
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "https@example.com",
                        "--password", PASSWORD, data_dir=rt.data_dir)
    assert made.returncode == 0, made.stderr
    yield rt
    if rt.process is not None:
        rt.stop()


def test_the_api_is_served_over_https_and_says_so(https_runtime: HttpsRuntime):
    status, headers, body, _ = https_runtime.request("GET", "/api/server/about")
    assert status == 200 and json.loads(body)["name"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert f"https://127.0.0.1:{https_runtime.port}/" in https_runtime.output()
    assert https_runtime.facts()["api_url"] == https_runtime.url


def test_plain_http_on_the_https_port_gets_no_answer(https_runtime: HttpsRuntime):
    plain = http.client.HTTPConnection("127.0.0.1", https_runtime.port, timeout=30)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain.request("GET", "/api/server/about")
        plain.getresponse()
    plain.close()
    status, _, _, _ = https_runtime.request("GET", "/api/server/about")  # and the port still serves HTTPS
    assert status == 200


def _session(https_runtime: HttpsRuntime) -> dict[str, str]:
    status, headers, _, _ = https_runtime.request("POST", "/api/auth/login",
                                                  {"username": USER, "password": PASSWORD})
    assert status == 200
    cookies = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        attributes = [a.strip().lower() for a in rest.split(";")[1:]]
        assert "secure" in attributes, value
        cookies[name] = rest.split(";")[0]
    assert set(cookies) == {"sessionid", "csrftoken"}
    return cookies


def test_login_over_https_sets_secure_cookies_and_a_session_write_from_the_https_origin_passes(
        https_runtime: HttpsRuntime):
    cookies = _session(https_runtime)
    status, _, body, _ = https_runtime.request("POST", "/api/projects", {"name": "over https"}, headers={
        "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        "X-CSRFToken": cookies["csrftoken"], "Origin": https_runtime.url})
    assert status == 201, body
    assert json.loads(body)["url"].startswith(f"{https_runtime.url}/api/projects/")


def test_the_sdk_over_https_creates_a_task_and_reads_its_frames_and_chunks(
        https_runtime: HttpsRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from cvat_sdk import Client, Config
    from cvat_sdk.core.proxies.tasks import ResourceType
    from PIL import Image

    image = tmp_path / "one.png"
    Image.new("RGB", (40, 30), (200, 30, 90)).save(image)
    monkeypatch.setenv("SSL_CERT_FILE", str(https_runtime.ca))  # how a user trusts a private CA too
    with Client(https_runtime.url, config=Config(status_check_period=0.2, cache_dir=tmp_path / "cache")) as client:
        client.login((USER, PASSWORD))
        task = client.tasks.create_from_data({"name": "https", "labels": [{"name": "thing"}]},
                                             resources=[str(image)], resource_type=ResourceType.LOCAL,
                                             data_params={"image_quality": 90})
        frame = Image.open(task.get_frame(0, quality="original"))
        assert frame.size == (40, 30) and frame.convert("RGB").getpixel((5, 5)) == (200, 30, 90)
        # a chunk is a redirect to a presigned S3 URL: on this HTTPS origin, not the embedded AWS port
        chunk = io.BytesIO()
        task.download_chunk(0, chunk, quality="original")
        with zipfile.ZipFile(chunk) as z:
            assert [z.read(i) for i in z.infolist()] == [image.read_bytes()]
    # as the web UI's frame worker reads it: the session cookie, the redirect followed on the same origin
    cookies = _session(https_runtime)
    status, _, body, final_url = https_runtime.request(
        "GET", f"/api/tasks/{task.id}/data?type=chunk&number=0&quality=compressed",
        headers={"Cookie": f"sessionid={cookies['sessionid']}"})
    assert status == 200 and final_url.startswith(f"{https_runtime.url}/") and "X-Amz-Signature=" in final_url
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()
    # the embedded AWS endpoint is plain HTTP on loopback, as --help says
    assert https_runtime.facts()["aws_endpoint"] == f"http://127.0.0.1:{https_runtime.aws_port}"


def test_a_direct_upload_as_the_web_ui_sends_it_puts_its_parts_on_the_https_origin(https_runtime: HttpsRuntime):
    cookies = _session(https_runtime)
    session = {"Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
               "X-CSRFToken": cookies["csrftoken"], "Origin": https_runtime.url}
    status, _, body, _ = https_runtime.request("POST", "/api/tasks", {"name": "direct", "labels": [{"name": "a"}]},
                                               headers=session)
    assert status == 201, body
    task_id = json.loads(body)["id"]
    data = b"\x89PNG not really, but bytes" * 10
    status, _, body, _ = https_runtime.request("POST", f"/api/tasks/{task_id}/data/uploads", {
        "files": [{"name": "a.png", "size": len(data), "content_type": "image/png"}]}, headers=session)
    assert status == 201, body
    (upload,) = json.loads(body)["files"]
    (part,) = upload["parts"]
    assert part["url"].startswith(f"{https_runtime.url}/")
    # the browser's PUT carries its cookies (same origin): S3 gets neither them nor the session
    put = urllib.request.Request(part["url"], data=data, method="PUT", headers={"Cookie": session["Cookie"]})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=https_runtime.context()))
    with opener.open(put, timeout=30) as answer:
        etag = answer.headers["ETag"]
    assert etag
    status, _, body, _ = https_runtime.request("POST", f"/api/tasks/{task_id}/data/uploads/complete", {
        "files": [{"name": upload["name"], "upload_id": upload["upload_id"],
                   "parts": [{"part_number": 1, "etag": etag}]}]}, headers=session)
    assert status == 200, body
    assert json.loads(body)["files"] == [upload["name"]]


def test_a_url_signed_with_motos_well_known_key_is_refused_on_the_https_port(https_runtime: HttpsRuntime):
    # moto accepts any credentials, and "testing" is what everyone uses with it: a LAN client that
    # signs its own URL with it must not read the media bucket through the HTTPS port
    import boto3
    from botocore.config import Config

    from cvat_serverless_tools.local.runtime import read_runtime_file

    facts = read_runtime_file(https_runtime.data_dir)
    assert facts is not None
    endpoint = facts["aws_endpoint"]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1", config=Config(signature_version="s3v4"))
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    forged = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "any/key"}, ExpiresIn=300)
    assert forged.startswith(endpoint)
    status, _, body, _ = https_runtime.request("GET", forged[len(endpoint):])
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_a_key_of_another_certificate_is_a_clear_error_at_start(tmp_path: Path, certs: CertFiles):
    done = conftest.cli("up", "--port", str(conftest.free_port()), "--aws-port", str(conftest.free_port()),
                        "--tls-cert", str(certs.cert), "--tls-key", str(other_key(tmp_path)),
                        data_dir=tmp_path / "data", timeout=60)
    assert done.returncode == 1
    assert "does not belong to the certificate" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "runtime.json").exists()


def test_a_certificate_without_its_key_is_a_usage_error(tmp_path: Path, certs: CertFiles):
    done = conftest.cli("up", "--tls-cert", str(certs.cert), data_dir=tmp_path / "data", timeout=60,
                        env={"PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "")})
    assert done.returncode == 2 and "--tls-cert and --tls-key go together" in done.stderr
