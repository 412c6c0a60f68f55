"""The in-memory model registry (tests; the fake of ports.FunctionRepository)."""

from __future__ import annotations

import copy
import threading

from ..domain.errors import ConflictError, NotFoundError
from ..domain.functions import FunctionSpec


class InMemoryFunctionRepository:
    def __init__(self) -> None:
        self._items: dict[str, FunctionSpec] = {}
        self._lock = threading.Lock()

    def put(self, spec: FunctionSpec, *, replace: bool = False) -> FunctionSpec:
        with self._lock:
            if not replace and spec.id in self._items:
                raise ConflictError(f"Function {spec.id!r} exists; replace it to change it.")
            self._items[spec.id] = copy.deepcopy(spec)
        return spec

    def get(self, function_id: str) -> FunctionSpec:
        with self._lock:
            found = self._items.get(function_id)
        if found is None:
            raise NotFoundError(f"Function {function_id!r} not found.")
        return copy.deepcopy(found)

    def delete(self, function_id: str) -> None:
        with self._lock:
            if self._items.pop(function_id, None) is None:
                raise NotFoundError(f"Function {function_id!r} not found.")

    def list_all(self) -> list[FunctionSpec]:
        with self._lock:
            return [copy.deepcopy(self._items[k]) for k in sorted(self._items)]
