"""A core API wired to in-memory adapters, driven through the real Lambda handler with real
API Gateway REST proxy events (shared by the test_api_*.py modules)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cvat_serverless import bootstrap
from cvat_serverless.domain.users import SystemRole, User
from cvat_serverless.ports import Repositories
from tests.events import rest_event
from tests.functional.conftest import Context, load_handler
from tests.memory_world import TEST_SETTINGS, memory_container

PASSWORD = "s3cret-Passw0rd"


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, list[str]]

    def header(self, name: str) -> str | None:
        for key, values in self.headers.items():
            if key.lower() == name.lower():
                return values[-1]
        return None

    def cookies(self) -> dict[str, str]:
        out = {}
        for key, values in self.headers.items():
            if key.lower() == "set-cookie":
                for v in values:
                    name, _, rest = v.partition("=")
                    out[name] = rest.split(";")[0]
        return out


@dataclass
class Api:
    container: bootstrap.Container
    handler: Any
    keys: dict[str, str] = field(default_factory=dict)  # username -> Token key

    @property
    def repos(self) -> Repositories:
        return self.container.repos

    def user(self, username: str, *groups: SystemRole, superuser: bool = False) -> User:
        c = self.container
        user = c.users.add(
            User(
                id=c.ids.next_id("user"),
                username=username,
                email=f"{username}@example.com",
                password_hash=c.passwords.hash(PASSWORD),
                groups=list(groups or [SystemRole.USER]),
                is_superuser=superuser,
                is_staff=superuser,
                date_joined=c.clock.now(),
            )
        )
        self.keys[username] = c.sessions.login(password=PASSWORD, username=username).session_key
        return user

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_user: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
        binary: bool = False,
    ) -> Answer:
        all_headers = dict(headers or {})
        if as_user is not None:
            all_headers.setdefault("Authorization", f"Token {self.keys[as_user]}")
        if body is not None or raw_body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        event = rest_event(
            method,
            path,
            body=raw_body if raw_body is not None else body,
            headers=all_headers,
            query={k: [v] for k, v in (query or {}).items()} or None,
            binary=binary,
        )
        answer = self.handler(event, Context("core_api"))
        raw = answer.get("body")
        if answer.get("isBase64Encoded") and raw:
            raw = base64.b64decode(raw).decode()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        headers_out = {k: list(v) for k, v in (answer.get("multiValueHeaders") or {}).items()}
        for k, v in (answer.get("headers") or {}).items():
            headers_out.setdefault(k, [v])
        return Answer(answer["statusCode"], parsed, headers_out)

    # shortcuts
    def get(self, path: str, user: str | None = None, **kw: Any) -> Answer:
        return self.call("GET", path, as_user=user, **kw)

    def post(self, path: str, body: Any = None, user: str | None = None, **kw: Any) -> Answer:
        return self.call("POST", path, body if body is not None else {}, as_user=user, **kw)

    def patch(self, path: str, body: Any, user: str | None = None, **kw: Any) -> Answer:
        return self.call("PATCH", path, body, as_user=user, **kw)

    def delete(self, path: str, user: str | None = None, **kw: Any) -> Answer:
        return self.call("DELETE", path, as_user=user, **kw)


def build_container() -> bootstrap.Container:
    return memory_container()


_HANDLER: Any = None


@pytest.fixture(name="api")
def api_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    for key, value in TEST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    yield Api(*serve(monkeypatch, build_container()))
    bootstrap.reset()


def serve(monkeypatch: pytest.MonkeyPatch, container: bootstrap.Container) -> tuple[bootstrap.Container, Any]:
    """The core API function's handler, serving ``container`` (the composition root builds the
    app from whatever ``bootstrap.container()`` answers)."""
    global _HANDLER  # noqa: PLW0603 - load the function module once per session
    bootstrap.reset()
    monkeypatch.setattr(bootstrap, "container", lambda: container)
    if _HANDLER is None:
        _HANDLER = load_handler("core_api")
    return container, _HANDLER


def sdk_parse(model_name: str, data: Any) -> Any:
    """Deserialize ``data`` as cvat-sdk 2.80's generated client does (types, required keys,
    nullability, enums and validations checked); raises on anything the SDK would reject."""
    from cvat_sdk.api_client import Configuration, models
    from cvat_sdk.api_client.model_utils import validate_and_convert_types

    model = getattr(models, model_name)
    return validate_and_convert_types(
        data, (model,), ["received_data"], True, True, configuration=Configuration()
    )
