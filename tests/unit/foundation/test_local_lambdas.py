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
