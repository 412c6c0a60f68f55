"""``cvat-serverless function add|rm|ls`` against a target's registry (the in-memory container)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from cvat_serverless import bootstrap
from cvat_serverless_tools.admin import cli
from cvat_serverless_tools.admin import functions as command
from tests.memory_world import memory_container

ENTRY = {"id": "yolox-nano", "name": "YOLOX-nano", "kind": "detector", "mode": "local", "endpoint": "yolox-nano",
         "labels_v2": [{"name": "person", "type": "rectangle"}, {"name": "car", "type": "rectangle"}]}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch):
    container = memory_container()
    monkeypatch.setattr(bootstrap, "container", lambda: container)
    monkeypatch.setattr(command, "_target", lambda _args: SimpleNamespace(description="the test runtime"))
    return container.function_repository


def test_add_ls_replace_and_rm(registry, tmp_path, capsys):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(ENTRY))
    assert cli.main(["function", "add", str(path)]) == 0
    assert registry.get("yolox-nano").created_date is not None
    assert cli.main(["function", "add", str(path)]) == 1
    assert "exists" in capsys.readouterr().err
    path.write_text(json.dumps({**ENTRY, "mode": "serverless", "endpoint": "yolox-nano-cpu"}))
    assert cli.main(["function", "add", str(path), "--replace"]) == 0
    capsys.readouterr()
    assert cli.main(["function", "ls"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "MODE", "ENDPOINT", "LABELS"]
    assert lines[1].split() == ["yolox-nano", "detector", "serverless", "yolox-nano-cpu", "2"]
    assert cli.main(["function", "rm", "yolox-nano"]) == 0
    assert registry.list_all() == []
    assert cli.main(["function", "rm", "yolox-nano"]) == 1


def test_a_bad_entry_is_refused_with_its_problems(registry, tmp_path, capsys):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({**ENTRY, "kind": "painter", "endpoint": "no spaces"}))
    assert cli.main(["function", "add", str(path)]) == 1
    err = capsys.readouterr().err
    assert "kind" in err and "endpoint" in err
    path.write_text("[1, 2]")
    assert cli.main(["function", "add", str(path)]) == 1
    assert registry.list_all() == []
