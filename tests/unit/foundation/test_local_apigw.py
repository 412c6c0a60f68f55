import base64
import http.client
import json
import textwrap
import threading

from werkzeug.serving import make_server
from werkzeug.test import Client

from cvat_serverless_tools.local.apigw import ApiGateway, RawHeadersRequestHandler
from cvat_serverless_tools.local.deployer import Route
from cvat_serverless_tools.local.lambdas import FunctionRegistry, LocalFunction

ECHO = """
import base64, json
def handler(event, context):
    if event["path"].endswith("/crash"):
        raise RuntimeError("boom")
    return {
        "statusCode": 201,
        "multiValueHeaders": {"Set-Cookie": ["sessionid=a; HttpOnly", "csrftoken=b"],
                              "Content-Type": ["application/json"]},
        "body": json.dumps({"fn": "%s", "event": event}),
        "isBase64Encoded": False,
    }
"""
BINARY = """
import base64
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
"""


def gateway(tmp_path, frontend=None) -> ApiGateway:
    registry = FunctionRegistry()
    for name, code in (("Core", ECHO % "core"), ("Annotations", ECHO % "annotations"), ("Bin", BINARY)):
        folder = tmp_path / "functions" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "app.py").write_text(textwrap.dedent(code))
        registry.add(LocalFunction(name, f"s-{name}", f"arn:aws:lambda:us-east-1:1:function:s-{name}", folder,
                                   "app.handler", 5, 128))
    routes = [Route("/api/{proxy+}", "ANY", "Core"), Route("/api/tasks/{id}/annotations", "ANY", "Annotations"),
              Route("/api/binary", "GET", "Bin")]
    return ApiGateway(routes, registry, stage="v1", binary_media_types=["*/*"], frontend_dir=frontend)


def call(gw, method, path, **kw):
    response = Client(gw).open(path, method=method, **kw)
    return response


def test_route_precedence_static_then_param_then_greedy(tmp_path):
    gw = gateway(tmp_path)
    assert gw.route("GET", "/api/tasks/7/annotations")[0].function_logical_id == "Annotations"
    assert gw.route("GET", "/api/tasks/7/annotations")[1] == {"id": "7"}
    assert gw.route("GET", "/api/tasks/7")[0].function_logical_id == "Core"
    assert gw.route("GET", "/api/tasks/7")[1] == {"proxy": "tasks/7"}
    assert gw.route("GET", "/api/binary")[0].function_logical_id == "Bin"
    assert gw.route("POST", "/api/binary")[0].function_logical_id == "Core"
    assert gw.route("GET", "/api") is None


def test_event_has_the_rest_proxy_shape(tmp_path):
    # The real server (RawHeadersRequestHandler) hands over the raw header list; WSGI alone folds repeats.
    raw = [("X-Multi", "1"), ("X-Multi", "2"), ("Content-Type", "application/json")]
    response = call(gateway(tmp_path), "POST", "/api/tasks?a=1&a=2&b=", headers=raw, data=b'{"name": "t"}',
                    environ_overrides={"cvat.raw_headers": raw})
    assert response.status_code == 201
    event = response.get_json()["event"]
    assert event["resource"] == "/api/{proxy+}"
    assert event["path"] == "/api/tasks"
    assert event["httpMethod"] == "POST"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["pathParameters"] == {"proxy": "tasks"}
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["requestId"]
    # BinaryMediaTypes */*: every body arrives base64-encoded, as on AWS
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"])) == {"name": "t"}


def test_repeated_headers_and_query_parameters_over_http_arrive_as_api_gateway_sends_them(tmp_path):
    # Over a real socket with the runtime's request handler: WSGI alone would fold the repeats.
    server = make_server("127.0.0.1", 0, gateway(tmp_path), threaded=True,
                         request_handler=RawHeadersRequestHandler)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    serving.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.putrequest("GET", "/api/tasks?a=1&b=x&a=2")
        conn.putheader("X-Test", "a")
        conn.putheader("X-Test", "b")
        conn.endheaders()
        answer = conn.getresponse()
        event = json.loads(answer.read())["event"]
        conn.close()
    finally:
        server.shutdown()
        serving.join(10)
    assert event["multiValueHeaders"]["X-Test"] == ["a", "b"]
    assert event["headers"]["X-Test"] == "b"  # the single-value map holds the last one, as on AWS
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    # ... and the handler's two cookies come back as two Set-Cookie lines, not one folded line
    assert answer.msg.get_all("Set-Cookie") == ["sessionid=a; HttpOnly", "csrftoken=b"]


def test_binary_body_in_and_out_is_byte_exact(tmp_path):
    payload = bytes(range(256)) * 10
    event = call(gateway(tmp_path), "PUT", "/api/data", data=payload,
                 headers={"Content-Type": "application/octet-stream"}).get_json()["event"]
    assert base64.b64decode(event["body"]) == payload
    response = call(gateway(tmp_path), "GET", "/api/binary")
    assert response.data == bytes(range(256))
    assert response.headers["Content-Type"] == "image/png"


def test_several_set_cookie_headers_survive(tmp_path):
    response = call(gateway(tmp_path), "GET", "/api/server/about")
    assert response.headers.getlist("Set-Cookie") == ["sessionid=a; HttpOnly", "csrftoken=b"]


def test_unmatched_route_is_403_missing_token_and_crash_is_502(tmp_path):
    gw = gateway(tmp_path)
    answer = call(gw, "GET", "/api")
    assert answer.status_code == 403
    assert answer.get_json() == {"message": "Missing Authentication Token"}
    crash = call(gw, "GET", "/api/crash")
    assert crash.status_code == 502
    assert crash.get_json() == {"message": "Internal server error"}


def test_frontend_files_and_spa_fallback_and_no_traversal(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>app</html>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("nope")
    gw = gateway(tmp_path, frontend=dist)
    assert call(gw, "GET", "/assets/app.js").data == b"console.log(1)"
    assert call(gw, "GET", "/tasks/3/jobs/1").data == b"<html>app</html>"
    assert b"nope" not in call(gw, "GET", "/../secret.txt").data


def test_frontend_cache_headers_are_those_deploy_ui_writes_on_the_bucket(tmp_path):
    from cvat_serverless_tools.admin.deploy_ui import cache_control

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>app</html>")
    (dist / "assets" / "index-3f2a.js").write_text("console.log(1)")
    (dist / "favicon.ico").write_bytes(b"\0")
    gw = gateway(tmp_path, frontend=dist)
    asset = call(gw, "GET", "/assets/index-3f2a.js")
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Cache-Control"] == cache_control("assets/index-3f2a.js")
    for route in ("/", "/index.html", "/tasks/3/jobs/1"):
        page = call(gw, "GET", route)
        assert (page.status_code, page.data) == (200, b"<html>app</html>")
        assert page.headers["Cache-Control"] == "no-cache" == cache_control("index.html")
        assert page.headers["Content-Type"].startswith("text/html")
    assert call(gw, "GET", "/favicon.ico").headers["Cache-Control"] == cache_control("favicon.ico")


def test_frontend_head_conditional_get_security_headers_and_missing_files(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>app</html>")
    gw = gateway(tmp_path, frontend=dist)
    head = call(gw, "HEAD", "/tasks")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len("<html>app</html>"))
    get = call(gw, "GET", "/tasks")
    assert get.headers["ETag"] == head.headers["ETag"]
    assert get.headers["X-Content-Type-Options"] == "nosniff"
    assert get.headers["X-Frame-Options"] == "DENY"
    assert get.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    again = call(gw, "GET", "/tasks", headers={"If-None-Match": get.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    # a file name that is not there is a 404, not the app (UiSpaRouteFunction rewrites only routes)
    assert call(gw, "GET", "/assets/index-gone.js").status_code == 404
    assert call(gw, "POST", "/tasks").status_code == 405


def test_without_a_frontend_build_the_root_says_where_the_api_is(tmp_path):
    answer = call(gateway(tmp_path, frontend=tmp_path / "missing"), "GET", "/")
    assert answer.status_code == 404
    assert b"/api/" in answer.data
