"""The services' own unit tests (tests/unit/services/test_svc_*.py) run again with every repository
and the id generator on DynamoDB (moto) instead of the in-memory fakes: the flows the services
really use (create an org and its owner membership, invitations, projects with labels, tasks moving
between projects, jobs updating the task status, tokens and sessions) must behave the same.

Each test module is loaded a second time under another name; its tests and fixtures are copied
here, and the ``world`` fixture below replaces the one of tests/unit/services/conftest.py.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import test_dynamo_support as support

from cvat_serverless.adapters import memory as mem
from cvat_serverless.services.jobs import JobService
from cvat_serverless.services.labels import LabelService
from cvat_serverless.services.organizations import OrganizationService
from cvat_serverless.services.projects import ProjectService
from cvat_serverless.services.tasks import TaskService
from cvat_serverless.services.users import UserService

dynamo_moto, table, serialised_moto = support.dynamo_moto, support.table, support.serialised_moto

SERVICES = Path(__file__).resolve().parents[1] / "unit" / "services"
SUITES = ["test_svc_auth", "test_svc_labels_users", "test_svc_organizations", "test_svc_tasks_jobs"]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_{name}_on_dynamodb", SERVICES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CONFTEST = _load("conftest")
MODULES = [_load(name) for name in SUITES]

for _module in MODULES:
    for _name, _obj in list(vars(_module).items()):
        if _name.startswith("test_") and inspect.isfunction(_obj):
            globals()[f"{_name}_on_dynamodb"] = _obj
        elif type(_obj).__name__ == "FixtureFunctionDefinition" or hasattr(_obj, "_pytestfixturefunction"):
            assert _name not in globals(), f"fixture {_name} defined twice"
            globals()[_name] = _obj


@pytest.fixture
def world(table: str, serialised_moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # moto checks a condition and writes in two steps; DynamoDB does both atomically (the race
    # tests below would otherwise see two winners now and then)
    repos = support.dynamo_all_repos(table)
    # the auth suite builds its repositories from ``mem``: hand it the DynamoDB ones
    fakes = SimpleNamespace(**{k: getattr(mem, k) for k in dir(mem) if not k.startswith("_")})
    fakes.InMemoryAccessTokenRepository = lambda: repos.access_tokens
    fakes.InMemorySessionRepository = lambda: repos.sessions
    fakes.InMemoryLoginAttemptRepository = lambda: repos.login_attempts
    for module in MODULES:
        if hasattr(module, "mem"):
            monkeypatch.setattr(module, "mem", fakes)
    core = CONFTEST.Repositories(
        users=repos.users, organizations=repos.organizations, memberships=repos.memberships,
        invitations=repos.invitations, projects=repos.projects, tasks=repos.tasks, segments=repos.segments,
        jobs=repos.jobs, labels=repos.labels,
    )
    clock = mem.FixedClock()
    events = mem.InMemoryEventPublisher()
    labels = LabelService(core, repos.ids, clock, events)
    yield CONFTEST.World(
        repos=core, ids=repos.ids, clock=clock, events=events,
        orgs=OrganizationService(core, repos.ids, clock, events),
        projects=ProjectService(core, repos.ids, clock, events, labels),
        tasks=TaskService(core, repos.ids, clock, events, labels),
        jobs=JobService(core, repos.ids, clock, events),
        labels=labels,
        users=UserService(core, repos.ids, clock, events),
    )


def test_the_services_suites_were_copied() -> None:
    copied = [n for n in globals() if n.endswith("_on_dynamodb")]
    expected = sum(1 for m in MODULES for n, o in vars(m).items() if n.startswith("test_") and inspect.isfunction(o))
    assert len(copied) == expected > 10
