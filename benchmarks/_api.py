"""The benchmarks' HTTP client: urllib3 with a Token, as cvat-sdk sends requests (loopback only)."""

from __future__ import annotations

from typing import Any

import orjson
import urllib3


class Api:
    def __init__(self, url: str, user: str, password: str, *, pool: int = 10, timeout: float = 600) -> None:
        self.url = url
        self.http = urllib3.PoolManager(maxsize=pool, timeout=urllib3.Timeout(total=timeout))
        answer = self.http.request("POST", f"{url}/api/auth/login", body=orjson.dumps(
            {"username": user, "password": password}), headers={"Content-Type": "application/json"})
        assert answer.status == 200, answer.data[:500]
        self.headers = {"Authorization": f"Token {orjson.loads(answer.data)['key']}"}

    def call(self, method: str, path: str, body: Any = None, ok: int = 200, **kw: Any) -> bytes:
        """The answer's body; a RuntimeError unless its status is ``ok``. ``path`` may be a URL."""
        headers = self.headers if body is None else {**self.headers, "Content-Type": "application/json"}
        url = path if path.startswith("http") else f"{self.url}{path}"
        answer = self.http.request(method, url, body=None if body is None else orjson.dumps(body), headers=headers,
                                   **kw)
        if answer.status != ok:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.data[:500]!r}")
        return bytes(answer.data)

    def json(self, method: str, path: str, body: Any = None, ok: int = 200) -> Any:
        """The answer's JSON (None for an empty body)."""
        data = self.call(method, path, body, ok)
        return orjson.loads(data) if data else None
