"""In-memory native functions and annotation requests (tests; the fakes of
ports.NativeFunctionRepository and ports.AnnotationRequestRepository)."""

from __future__ import annotations

from datetime import UTC, datetime

from ..domain.agent_functions import AnnotationRequest, ArStatus, NativeFunction, RequestCategory
from ..ports import AgentFunctionRepositories
from .memory import _Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _oldest_first(requests: list[AnnotationRequest]) -> list[AnnotationRequest]:
    return sorted(requests, key=lambda r: (r.created_date or _EPOCH, r.id))


class InMemoryNativeFunctionRepository:
    def __init__(self) -> None:
        self._s: _Store[int, NativeFunction] = _Store("function", lambda f: f.id)

    def add(self, function: NativeFunction) -> NativeFunction:
        return self._s.add(function)

    def get(self, function_id: int) -> NativeFunction:
        return self._s.get(function_id)

    def save(self, function: NativeFunction) -> NativeFunction:
        return self._s.save(function)

    def delete(self, function_id: int) -> None:
        self._s.delete(function_id)

    def list_all(self) -> list[NativeFunction]:
        return self._s.find(lambda _: True)

    def list_by_organization(self, organization_id: int | None) -> list[NativeFunction]:
        return self._s.find(lambda f: f.organization_id == organization_id)


class InMemoryAnnotationRequestRepository:
    def __init__(self) -> None:
        self._s: _Store[str, AnnotationRequest] = _Store("annotation request", lambda r: r.id)

    def add(self, request: AnnotationRequest) -> AnnotationRequest:
        return self._s.add(request)

    def get(self, request_id: str) -> AnnotationRequest:
        return self._s.get(request_id)

    def save(self, request: AnnotationRequest) -> AnnotationRequest:
        return self._s.save(request)

    def _in_queue(self, function_id: int, category: RequestCategory, status: ArStatus) -> list[AnnotationRequest]:
        return _oldest_first(self._s.find(
            lambda r: r.function_id == function_id and r.category is category and r.status is status))

    def list_queued(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        return self._in_queue(function_id, category, ArStatus.QUEUED)

    def list_assigned(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        return self._in_queue(function_id, category, ArStatus.ASSIGNED)

    def list_by_function(self, function_id: int) -> list[AnnotationRequest]:
        return _oldest_first(self._s.find(lambda r: r.function_id == function_id))

    def list_by_owner(self, user_id: int) -> list[AnnotationRequest]:
        return _oldest_first(self._s.find(lambda r: r.owner_id == user_id))


def memory_agent_function_repositories() -> AgentFunctionRepositories:
    return AgentFunctionRepositories(InMemoryNativeFunctionRepository(), InMemoryAnnotationRequestRepository())
