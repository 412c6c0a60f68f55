"""Native functions and annotation requests (ports.AgentFunctionRepositories) behave alike on the
in-memory fakes and on DynamoDB (moto, the table template.yaml declares)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo_agent_functions import dynamo_agent_function_repositories
from cvat_serverless.adapters.memory_agent_functions import memory_agent_function_repositories
from cvat_serverless.domain.agent_functions import (
    AnnotationRequest,
    ArStatus,
    NativeFunction,
    NativeFunctionKind,
    RequestCategory,
    Visibility,
)
from cvat_serverless.domain.errors import ConflictError, NotFoundError

dynamo_moto, table = backends.dynamo_moto, backends.table
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=backends.BACKENDS)
def agents(request: pytest.FixtureRequest):
    if request.param == "memory":
        return memory_agent_function_repositories()
    return dynamo_agent_function_repositories(request.getfixturevalue("table"))


def _ar(ar_id: str, minutes: int, category: RequestCategory = RequestCategory.BATCH, function_id: int = 1,
        owner_id: int = 7) -> AnnotationRequest:
    kind = "annotate_task" if category is RequestCategory.BATCH else "annotate_frame"
    return AnnotationRequest(id=ar_id, function_id=function_id, category=category, owner_id=owner_id,
                             ar_params={"type": kind, "task": 3, "threshold": 0.5, "mapping": {"car": {"name": "car"}}},
                             created_date=NOW + timedelta(minutes=minutes))


def test_functions_round_trip(agents):
    fn = agents.functions.add(NativeFunction(
        id=1, name="Cars", kind=NativeFunctionKind.DETECTOR, owner_id=5, visibility=Visibility.PUBLIC,
        labels_v2=[{"name": "car", "type": "any", "attributes": [{"name": "c", "input_type": "text", "values": []}]}],
        created_date=NOW))
    agents.functions.add(NativeFunction(id=2, name="SAM", kind=NativeFunctionKind.INTERACTOR, owner_id=6,
                                        organization_id=9, min_pos_points=1, startswith_box=True))
    assert fn.version == 1 and agents.functions.get(1) == fn
    assert agents.functions.get(1).labels_v2[0]["attributes"][0]["input_type"] == "text"
    assert [f.id for f in agents.functions.list_all()] == [1, 2]
    assert [f.id for f in agents.functions.list_by_organization(None)] == [1]
    assert [f.id for f in agents.functions.list_by_organization(9)] == [2]
    fn.name = "Vehicles"
    assert agents.functions.save(fn).version == 2
    with pytest.raises(ConflictError):
        agents.functions.save(fn)  # stale
    agents.functions.delete(1)
    with pytest.raises(NotFoundError):
        agents.functions.get(1)
    assert [f.id for f in agents.functions.list_all()] == [2]


def test_the_queue_lists_oldest_first_and_moves_with_the_status(agents):
    for ar in (_ar("b-2", 2), _ar("a-1", 1), _ar("i-1", 3, RequestCategory.INTERACTIVE),
               _ar("other", 0, function_id=2, owner_id=8)):
        agents.requests.add(ar)
    assert [r.id for r in agents.requests.list_queued(1, RequestCategory.BATCH)] == ["a-1", "b-2"]
    assert [r.id for r in agents.requests.list_queued(1, RequestCategory.INTERACTIVE)] == ["i-1"]
    first = agents.requests.get("a-1")
    assert first.ar_params["mapping"] == {"car": {"name": "car"}} and first.ar_params["threshold"] == 0.5
    first.acquire("agent", NOW + timedelta(minutes=5))
    first.begin_saving("agent", NOW + timedelta(minutes=5, seconds=30))
    saved = agents.requests.save(first)
    assert saved.version == 2
    assert agents.requests.get("a-1").saving_since == NOW + timedelta(minutes=5, seconds=30)
    assert [r.id for r in agents.requests.list_queued(1, RequestCategory.BATCH)] == ["b-2"]
    assert [r.id for r in agents.requests.list_assigned(1, RequestCategory.BATCH)] == ["a-1"]
    stale = agents.requests.get("b-2")
    taken = agents.requests.get("b-2")
    taken.acquire("agent-x", NOW)
    agents.requests.save(taken)
    stale.acquire("agent-y", NOW)
    with pytest.raises(ConflictError):
        agents.requests.save(stale)  # two agents cannot both take it
    saved.complete("agent", NOW + timedelta(minutes=6), {"annotations": {"tags": [], "shapes": []}})
    agents.requests.save(saved)
    done = agents.requests.get("a-1")
    assert done.status is ArStatus.COMPLETED and done.progress == 1.0 and done.result is not None
    assert agents.requests.list_assigned(1, RequestCategory.BATCH)[0].id == "b-2"
    assert [r.id for r in agents.requests.list_by_function(1)] == ["a-1", "b-2", "i-1"]
    assert [r.id for r in agents.requests.list_by_owner(8)] == ["other"]
    with pytest.raises(NotFoundError):
        agents.requests.get("nope")
