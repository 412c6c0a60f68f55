"""The official cvat-sdk / cvat-cli 2.80 against the embedded runtime: login (password and
access token), the current user, projects/tasks with labels, lists with filter/search/sort,
updates, deletes, jobs; the CLI's ls/delete/project commands. No SDK exception, no
unsupported-version warning."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

from cvat_sdk import Client, make_client, models  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-admin", "e2e-admin-pass-1"


@pytest.fixture(scope="module")
def server(runtime) -> str:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "e2e@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    return runtime.url


@pytest.fixture
def version_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING)
    yield caplog
    texts = [r.getMessage() for r in caplog.records if r.name.startswith("cvat_sdk")]
    assert not [t for t in texts if "version" in t.lower()], texts


@pytest.fixture
def client(server: str, version_warnings) -> Iterator[Client]:
    host, port = server.rsplit(":", 1)
    with make_client(host, port=int(port), credentials=(USER, PASSWORD)) as c:
        yield c


def test_password_login_and_current_user(client: Client):
    me = client.users.retrieve_current_user()
    assert me.username == USER and "admin" in me.groups
    assert {"sessionid", "csrftoken"} <= set(client.api_client.cookies)


def test_projects_and_tasks_with_labels_round_trip(client: Client):
    project = client.projects.create(models.ProjectWriteRequest(
        name="e2e project", labels=[{"name": "cat"}, {"name": "dog", "attributes": [
            {"name": "size", "mutable": True, "input_type": "select", "values": ["s", "l"]}]}]))
    assert project.organization is None
    assert sorted(lb.name for lb in project.get_labels()) == ["cat", "dog"]
    own = client.tasks.create(models.TaskWriteRequest(name="e2e own labels", labels=[{"name": "car"}]))
    assert own.size == 0 and own.data is None
    assert [lb.name for lb in own.get_labels()] == ["car"]
    in_project = client.tasks.create(models.TaskWriteRequest(name="e2e in project", project_id=project.id,
                                                             subset="train"))
    assert [t.id for t in project.get_tasks()] == [in_project.id]
    assert sorted(lb.name for lb in in_project.get_labels()) == ["cat", "dog"]

    retrieved = client.tasks.retrieve(own.id)
    assert retrieved.name == "e2e own labels" and retrieved.jobs.count == 0
    assert own.get_jobs() == []
    assert [j.id for j in client.jobs.list(task_id=own.id)] == []

    own.update(models.PatchedTaskWriteRequest(name="e2e renamed"))
    assert client.tasks.retrieve(own.id).name == "e2e renamed"
    project.update(models.PatchedProjectWriteRequest(name="e2e project 2"))
    assert client.projects.retrieve(project.id).name == "e2e project 2"

    names = {t.name for t in client.tasks.list()}
    assert {"e2e renamed", "e2e in project"} <= names
    assert [t.name for t in client.tasks.list(name="e2e renamed")] == ["e2e renamed"]
    flt = json.dumps({"==": [{"var": "subset"}, "train"]})
    assert [t.id for t in client.tasks.list(filter=flt)] == [in_project.id]
    assert [t.id for t in client.tasks.list(search="renamed")] == [own.id]
    ordered = [t.name for t in client.tasks.list(sort="name") if t.name.startswith("e2e")]
    assert ordered == sorted(ordered)

    client.tasks.remove_by_ids([own.id, 987654])  # a missing id is logged, not raised
    project.remove()
    remaining = {t.id for t in client.tasks.list()}
    assert own.id not in remaining and in_project.id not in remaining
    assert project.id not in {p.id for p in client.projects.list()}


def test_many_pages_are_walked_to_the_end(client: Client):
    made = [client.projects.create(models.ProjectWriteRequest(name=f"e2e page {i:02d}")).id for i in range(12)]
    listed = [p.id for p in client.projects.list()]
    assert set(made) <= set(listed) and len(listed) == len(set(listed))
    client.projects.remove_by_ids(made)


def test_access_token_login(server: str, client: Client, version_warnings):
    token, _ = client.api_client.auth_api.create_access_tokens(models.AccessTokenWriteRequest(name="e2e token"))
    host, port = server.rsplit(":", 1)
    with make_client(host, port=int(port), access_token=token.value) as by_token:
        assert by_token.users.retrieve_current_user().username == USER
        this, _ = by_token.api_client.auth_api.retrieve_access_tokens_self()
        assert this.name == "e2e token"
        task = by_token.tasks.create(models.TaskWriteRequest(name="e2e by token", labels=[{"name": "x"}]))
        task.remove()


def _cli(server: str, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    host, port = server.rsplit(":", 1)
    auth = [] if token else ["--auth", f"{USER}:{PASSWORD}"]
    env = {"CVAT_ACCESS_TOKEN": token} if token else {}
    import os

    return subprocess.run(
        [sys.executable, "-m", "cvat_cli", "--server-host", host, "--server-port", port, *auth, *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if k != "CVAT_ACCESS_TOKEN"} | env,
    )


def test_cli_ls_delete_and_project_commands(server: str, client: Client):
    task = client.tasks.create(models.TaskWriteRequest(name="e2e cli task", labels=[{"name": "x"}]))
    ls = _cli(server, "ls")
    assert ls.returncode == 0, ls.stderr
    assert str(task.id) in ls.stdout.split()
    assert "not compatible" not in ls.stderr.lower()
    deleted = _cli(server, "delete", str(task.id), "987654")
    assert deleted.returncode == 0, deleted.stderr
    assert str(task.id) not in _cli(server, "ls").stdout.split()

    created = _cli(server, "project", "create", "e2e cli project", "--labels", '[{"name": "dog"}]')
    assert created.returncode == 0, created.stderr
    project_id = created.stdout.strip().splitlines()[-1]
    listed = _cli(server, "project", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    assert int(project_id) in {p["id"] for p in json.loads(listed.stdout)}
    token, _ = client.api_client.auth_api.create_access_tokens(models.AccessTokenWriteRequest(name="cli"))
    by_token = _cli(server, "project", "ls", token=token.value)
    assert by_token.returncode == 0 and project_id in by_token.stdout.split(), by_token.stderr
    gone = _cli(server, "project", "delete", project_id)
    assert gone.returncode == 0, gone.stderr
    assert project_id not in _cli(server, "project", "ls").stdout.split()
