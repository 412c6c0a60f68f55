import json
import textwrap
import threading
from pathlib import Path

from cvat_serverless_tools.local.lambdas import FunctionRegistry, LocalFunction


def function(tmp_path: Path, body: str, timeout: float = 5, name: str = "fn") -> LocalFunction:
    code = tmp_path / name
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(body))
    return LocalFunction(logical_id=name.title(), name=f"stack-{name}",
                         arn=f"arn:aws:lambda:us-east-1:123456789012:function:stack-{name}",
                         code_dir=code, handler="app.handler", timeout_s=timeout, memory_mb=512)


def test_handler_gets_a_lambda_context_and_its_return_value_is_the_payload(tmp_path):
    fn = function(tmp_path, """
        def handler(event, context):
            return {"echo": event, "name": context.function_name, "arn": context.invoked_function_arn,
                    "mem": context.memory_limit_in_mb, "left": context.get_remaining_time_in_millis(),
                    "rid": context.aws_request_id}
    """)
    result = fn.invoke({"a": 1})
    assert result.ok
    assert result.payload["echo"] == {"a": 1}
    assert result.payload["name"] == "stack-fn"
    assert result.payload["arn"].endswith(":function:stack-fn")
    assert result.payload["mem"] == "512"
    assert 0 < result.payload["left"] <= 5000
    assert result.payload["rid"] == result.request_id


def test_exception_becomes_awss_error_payload_with_class_name(tmp_path):
    fn = function(tmp_path, """
        class DependencyUnavailableError(Exception):
            pass
        def handler(event, context):
            raise DependencyUnavailableError("table busy")
    """)
    result = fn.invoke({})
    assert not result.ok
    assert result.payload["errorType"] == "DependencyUnavailableError"
    assert result.payload["errorMessage"] == "table busy"
    assert result.payload["stackTrace"]


def test_timeout_answers_sandbox_timedout_without_waiting_for_the_handler(tmp_path):
    # The handler runs until the test releases it, long after its 0.2 s timeout: invoke must answer
    # while the handler is still running (the event is passed in-process, so it can carry Events).
    fn = function(tmp_path, """
        def handler(event, context):
            event["started"].set()
            event["release"].wait(30)
            event["finished"].set()
    """, timeout=0.2)
    event = {"started": threading.Event(), "release": threading.Event(), "finished": threading.Event()}
    result = fn.invoke(event)
    try:
        assert not event["finished"].is_set(), "invoke waited for the handler instead of timing out"
        assert event["started"].wait(10), "the handler never ran"
        assert not result.ok
        assert result.payload["errorType"] == "Sandbox.Timedout"
        assert "timed out after 0.20 seconds" in result.payload["errorMessage"]
    finally:
        event["release"].set()
    assert event["finished"].wait(10), "the abandoned handler did not finish once released"


def test_functions_with_the_same_file_name_do_not_collide(tmp_path):
    one = function(tmp_path, "def handler(e, c):\n    return 1\n", name="one")
    two = function(tmp_path, "def handler(e, c):\n    return 2\n", name="two")
    assert (one.invoke({}).payload, two.invoke({}).payload) == (1, 2)


def test_registry_finds_by_name_arn_partial_arn_and_qualifier(tmp_path):
    registry = FunctionRegistry()
    fn = function(tmp_path, "def handler(e, c):\n    return 1\n")
    registry.add(fn)
    for ref in ("stack-fn", fn.arn, f"{fn.arn}:$LATEST", "123456789012:function:stack-fn", "stack-fn:live"):
        assert registry.find(ref) is fn, ref
    assert registry.find("other") is None
    assert registry.by_logical_id("Fn") is fn


def test_api_requests_at_once_each_keep_their_own_event_and_route_arguments(tmp_path):
    # On AWS an execution environment resolves one event at a time; here invocations are threads
    # of one process, and powertools keeps the request being resolved on its classes and
    # resolvers. The first request waits in its route until the second has been answered, then
    # reads its event and routing context again, as a route does after a slow call (a decode).
    fn = function(tmp_path, """
        from aws_lambda_powertools.event_handler import APIGatewayRestResolver

        app = APIGatewayRestResolver(enable_validation=True)

        @app.get("/api/tasks/<id>/data")
        def task_data(id: str):
            sync = app.current_event.raw_event["sync"]
            if app.current_event.query_string_parameters["number"] == "0":
                sync["first_in_route"].set()
                assert sync["second_answered"].wait(30)
            return {"path": app.current_event.path, "number": app.current_event.query_string_parameters["number"],
                    "route_args": app.context.get("_route_args")}

        def handler(event, context):
            return app.resolve(event, context)
    """)
    sync = {"first_in_route": threading.Event(), "second_answered": threading.Event()}

    def event(task: int, number: int) -> dict:
        return {"path": f"/api/tasks/{task}/data", "httpMethod": "GET", "headers": {}, "sync": sync,
                "queryStringParameters": {"type": "chunk", "number": str(number)}, "requestContext": {}}

    answers = {}
    first = threading.Thread(target=lambda: answers.update(first=fn.invoke(event(7, 0))))
    first.start()
    try:
        assert sync["first_in_route"].wait(30), "the first request never reached its route"
        answers["second"] = fn.invoke(event(8, 1))
    finally:
        sync["second_answered"].set()
        first.join(30)
    bodies = {name: json.loads(result.payload["body"]) for name, result in answers.items()}
    assert bodies == {
        "first": {"path": "/api/tasks/7/data", "number": "0", "route_args": {"id": "7"}},
        "second": {"path": "/api/tasks/8/data", "number": "1", "route_args": {"id": "8"}},
    }
