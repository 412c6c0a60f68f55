"""Native functions and their annotation requests (ARs) on the single table.

Items (pk / sk):
- function       ``NATIVEFN#<id>`` / ``NATIVEFN``                        -> get
  all copy       ``ALL#NATIVEFNS`` / <id>                                -> list_all (admins)
  scope copy     ``ORG#<org|->#NATIVEFNS`` / <id>                        -> list_by_organization
- AR             ``AGENTREQ#<id>`` / ``AGENTREQ``                        -> get
  function copy  ``NATIVEFN#<f>#AGENTREQS`` / <created>#<id>              -> list_by_function
  owner copy     ``USER#<owner>#AGENTREQS`` / <created>#<id>              -> list_by_owner
  queue copy     ``NATIVEFN#<f>#QUEUE#<category>#<status>`` / <created>#<id>, only while the AR is
                 queued or assigned                                        -> list_queued, list_assigned
The queue copies move with the AR's status in the transaction that saves it (VersionedStore), so
an agent's ``acquire`` reads one small partition, oldest first, and the version condition on the
main item lets only one agent take an AR. Ended ARs carry ``expires_at`` (ENDED_KEPT after they
ended) on every item: the table's TTL removes them.
"""

from __future__ import annotations

from datetime import UTC

from ...domain.agent_functions import ENDED_KEPT, AnnotationRequest, ArStatus, NativeFunction, RequestCategory
from ...domain.errors import NotFoundError
from ...ports import AgentFunctionRepositories
from .dynamo_store import VersionedStore, View, id_key, opt_key

FUNCTION, REQUEST = "NATIVEFN", "AGENTREQ"


def function_views(f: NativeFunction) -> list[View]:
    return [View(f"{FUNCTION}#{f.id}", FUNCTION), View(f"ALL#{FUNCTION}S", id_key(f.id)),
            View(f"ORG#{opt_key(f.organization_id)}#{FUNCTION}S", id_key(f.id))]


def _order_key(r: AnnotationRequest) -> str:
    created = r.created_date.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f") if r.created_date else "0"
    return f"{created}#{r.id}"


def queue_partition(function_id: int, category: RequestCategory, status: ArStatus) -> str:
    return f"{FUNCTION}#{function_id}#QUEUE#{category.value}#{status.value}"


def request_views(r: AnnotationRequest) -> list[View]:
    expires = r.finished_date + ENDED_KEPT if r.status.ended and r.finished_date else None
    sk = _order_key(r)
    views = [View(f"{REQUEST}#{r.id}", REQUEST, expires_at=expires),
             View(f"{FUNCTION}#{r.function_id}#{REQUEST}S", sk, expires_at=expires),
             View(f"USER#{r.owner_id}#{REQUEST}S", sk, expires_at=expires)]
    if not r.status.ended:
        views.append(View(queue_partition(r.function_id, r.category, r.status), sk))
    return views


class DynamoNativeFunctionRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, NativeFunction, "function", function_views)

    def add(self, function: NativeFunction) -> NativeFunction:
        return self._s.add(function)

    def get(self, function_id: int) -> NativeFunction:
        return self._s.get(f"{FUNCTION}#{function_id}", FUNCTION)

    def save(self, function: NativeFunction) -> NativeFunction:
        return self._s.save(function)

    def delete(self, function_id: int) -> None:
        self._s.delete(f"{FUNCTION}#{function_id}", FUNCTION)

    def list_all(self) -> list[NativeFunction]:
        return self._s.query(f"ALL#{FUNCTION}S")

    def list_by_organization(self, organization_id: int | None) -> list[NativeFunction]:
        return self._s.query(f"ORG#{opt_key(organization_id)}#{FUNCTION}S")


class DynamoAnnotationRequestRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, AnnotationRequest, "annotation request", request_views)

    def add(self, request: AnnotationRequest) -> AnnotationRequest:
        return self._s.add(request)

    def get(self, request_id: str) -> AnnotationRequest:
        found = self._s.find(f"{REQUEST}#{request_id}", REQUEST)
        if found is None:
            raise NotFoundError(f"Annotation request {request_id} not found.")
        return found

    def save(self, request: AnnotationRequest) -> AnnotationRequest:
        return self._s.save(request)

    def list_queued(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        return self._s.query(queue_partition(function_id, category, ArStatus.QUEUED))

    def list_assigned(self, function_id: int, category: RequestCategory) -> list[AnnotationRequest]:
        return self._s.query(queue_partition(function_id, category, ArStatus.ASSIGNED))

    def list_by_function(self, function_id: int) -> list[AnnotationRequest]:
        return self._s.query(f"{FUNCTION}#{function_id}#{REQUEST}S")

    def list_by_owner(self, user_id: int) -> list[AnnotationRequest]:
        return self._s.query(f"USER#{user_id}#{REQUEST}S")


def dynamo_agent_function_repositories(table_name: str) -> AgentFunctionRepositories:
    return AgentFunctionRepositories(DynamoNativeFunctionRepository(table_name),
                                     DynamoAnnotationRequestRepository(table_name))
