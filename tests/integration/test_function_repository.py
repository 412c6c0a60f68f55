"""The model registry (ports.FunctionRepository) behaves alike on the in-memory fake and on
DynamoDB (moto, the table template.yaml declares)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo_functions import DynamoFunctionRepository
from cvat_serverless.adapters.aws.dynamo_store import plain_items_model
from cvat_serverless.adapters.memory_functions import InMemoryFunctionRepository
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.functions import FunctionKind, FunctionMode, FunctionSpec

dynamo_moto, table = backends.dynamo_moto, backends.table
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=backends.BACKENDS)
def functions(request: pytest.FixtureRequest):
    if request.param == "memory":
        return InMemoryFunctionRepository()
    return DynamoFunctionRepository(request.getfixturevalue("table"))


def spec(fid: str, **fields) -> FunctionSpec:
    endpoint = "ep-" + fid.replace(".", "-").replace("_", "-")
    doc = {"id": fid, "name": f"Model {fid}", "kind": "detector", "mode": "serverless", "endpoint": endpoint,
           "labels_v2": [{"name": "person", "type": "rectangle",
                          "attributes": [{"name": "score", "input_type": "number", "values": ["0", "1", "0.5"]}]},
                         {"name": "car", "type": "polygon", "attributes": []}],
           **fields}
    out = FunctionSpec.from_dict(doc)
    out.created_date = out.updated_date = NOW
    return out


def test_functions_round_trip_and_list_by_id(functions):
    functions.put(spec("yolox-nano"))
    functions.put(spec("a.model_1", kind="interactor", mode="realtime", min_pos_points=2, startswith_box=True))
    got = functions.get("yolox-nano")
    assert got == spec("yolox-nano")
    assert got.labels_v2[0]["attributes"][0]["values"] == ["0", "1", "0.5"]
    assert got.kind is FunctionKind.DETECTOR and got.mode is FunctionMode.SERVERLESS
    interactor = functions.get("a.model_1")
    assert (interactor.min_pos_points, interactor.startswith_box) == (2, True)
    assert [f.id for f in functions.list_all()] == ["a.model_1", "yolox-nano"]


def test_an_existing_id_is_a_conflict_unless_replaced(functions):
    functions.put(spec("m"))
    with pytest.raises(ConflictError):
        functions.put(spec("m", endpoint="other"))
    assert functions.get("m").endpoint == "ep-m"
    functions.put(spec("m", endpoint="other"), replace=True)
    assert functions.get("m").endpoint == "other"
    assert len(functions.list_all()) == 1


def test_missing_functions_are_not_found(functions):
    with pytest.raises(NotFoundError):
        functions.get("nope")
    with pytest.raises(NotFoundError):
        functions.delete("nope")
    functions.put(spec("m"))
    functions.delete("m")
    with pytest.raises(NotFoundError):
        functions.get("m")
    assert functions.list_all() == []


def test_an_entry_that_no_longer_parses_is_skipped_in_lists(table):
    functions = DynamoFunctionRepository(table)
    functions.put(spec("good"))
    functions.put(spec("bad"))
    model = plain_items_model(table)
    model(pk="FUNCTIONS", sk="bad", data={"doc": '{"id": "bad", "kind": "painter"}'}).save()
    assert [f.id for f in functions.list_all()] == ["good"]
