"""WorkflowStarter.stop on Step Functions (moto, the state machines template.yaml declares) and on
the in-memory fake: a running execution stops; an unknown or ended one is not an error."""

from __future__ import annotations

import json
import time

from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters.aws.stepfunctions import StepFunctionsWorkflowStarter


def test_stop_aborts_a_running_execution_and_ignores_unknown_ones(stack):
    import boto3

    # a workflow that is still running when stopped (the stack's own would fail at once here: moto
    # runs no Lambda code)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = sfn.describe_state_machine(stateMachineArn=stack.outputs["AutoAnnotateStateMachineArn"])["roleArn"]
    waiting = sfn.create_state_machine(name="waits", roleArn=role, definition=json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}))["stateMachineArn"]
    starter = StepFunctionsWorkflowStarter({"auto-annotate": waiting})
    starter.start("auto-annotate", "autoannotate-task-1-abc", {"request_id": "autoannotate:task-1-abc"})
    starter.stop("auto-annotate", "autoannotate-task-1-abc", cause="Canceled by the user.")
    # the interpreter's thread ends the execution once it sees the stop
    deadline = time.monotonic() + 30
    while (run := starter.describe("auto-annotate", "autoannotate-task-1-abc")) is not None \
            and run.status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)  # the poll interval of a deadline-bounded wait
    assert run is not None and run.status == "ABORTED"
    starter.stop("auto-annotate", "never-started")
    starter.stop("auto-annotate", "autoannotate-task-1-abc")  # ended already


def test_the_fake_stops_only_running_executions():
    fake = mem.InMemoryWorkflowStarter()
    fake.start("auto-annotate", "a", {})
    fake.stop("auto-annotate", "a", cause="Canceled by the user.")
    run = fake.describe("auto-annotate", "a")
    assert run is not None and (run.status, run.cause) == ("ABORTED", "Canceled by the user.")
    fake.start("auto-annotate", "b", {})
    fake.end("auto-annotate", "b")
    fake.stop("auto-annotate", "b")
    assert fake.describe("auto-annotate", "b").status == "SUCCEEDED"
    fake.stop("auto-annotate", "never")
    assert fake.describe("auto-annotate", "never") is None
