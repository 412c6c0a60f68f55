"""The auto-annotate ledger (ports.AutoAnnotationLedger) behaves alike on the in-memory fake and on
DynamoDB (moto, the table template.yaml declares): a chunk is recorded once, however many writers
race for it; the count is the distinct chunks; task tokens are found by either of their keys."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo_auto_annotation import DynamoAutoAnnotationLedger
from cvat_serverless.adapters.memory_inference import MemoryAutoAnnotationLedger

dynamo_moto, table = backends.dynamo_moto, backends.table


@pytest.fixture(params=backends.BACKENDS)
def ledger(request: pytest.FixtureRequest):
    if request.param == "memory":
        return MemoryAutoAnnotationLedger()
    return DynamoAutoAnnotationLedger(request.getfixturevalue("table"))


def test_a_chunk_is_recorded_once_and_counted(ledger):
    rid = "autoannotate:task-7-0a1b2c3d4e5f"
    assert not ledger.is_saved(rid, 3)
    assert ledger.mark_saved(rid, 3) is True
    assert ledger.mark_saved(rid, 3) is False  # a retried step
    assert ledger.is_saved(rid, 3) and not ledger.is_saved(rid, 4)
    ledger.mark_saved(rid, 10)
    ledger.mark_saved("autoannotate:task-8-0a1b2c3d4e5f", 3)
    assert ledger.saved_count(rid) == 2
    assert ledger.saved_count("autoannotate:task-9-000000000000") == 0


def test_racing_writers_of_one_chunk_agree_on_one(ledger):
    with ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda _: ledger.mark_saved("r", 0), range(8)))
    assert won.count(True) == 1 and ledger.saved_count("r") == 1


def test_task_tokens_by_output_or_failure_key(ledger):
    keys = ["auto-annotation/async-results/r-0-ab.out", "auto-annotation/async-failures/r-0-ab-error.out"]
    ledger.put_callback(keys, "token-" + "x" * 900)
    assert ledger.get_callback(keys[0]) == ledger.get_callback(keys[1]) == "token-" + "x" * 900
    assert ledger.get_callback("auto-annotation/async-results/other.out") is None
    ledger.delete_callback(keys[:1])
    assert ledger.get_callback(keys[0]) is None and ledger.get_callback(keys[1]) is not None
