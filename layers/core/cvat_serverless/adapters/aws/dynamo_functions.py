"""The model registry (``ports.FunctionRepository``) on the single table.

Items (pk / sk): one per function, ``FUNCTIONS`` / ``<function id>``. The registry holds tens of
entries that admins change rarely, so one partition lists it with one Query and a lookup is one
GetItem. The entry is kept as its registry document in JSON text (``FunctionSpec.to_dict``):
labels are free-form CVAT label lists, which DynamoDB's number normalisation must not touch.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from ...domain.errors import ConflictError, NotFoundError, ValidationError
from ...domain.functions import FunctionSpec
from .dynamo_store import PlainItem, item_data, plain_items_model
from .errors import aws_errors

PARTITION = "FUNCTIONS"
log = logging.getLogger(__name__)


class DynamoFunctionRepository:
    def __init__(self, table_name: str) -> None:
        self._model: type[PlainItem] = plain_items_model(table_name)

    def put(self, spec: FunctionSpec, *, replace: bool = False) -> FunctionSpec:
        item = self._model(pk=PARTITION, sk=spec.id, data=_encode(spec))
        condition = None if replace else self._model.pk.does_not_exist()
        try:
            with aws_errors(f"storing function {spec.id}"):  # a failed condition: ConflictError
                item.save(condition=condition)
        except ConflictError as exc:
            raise ConflictError(f"Function {spec.id!r} exists; replace it to change it.") from exc
        return spec

    def get(self, function_id: str) -> FunctionSpec:
        with aws_errors(f"reading function {function_id}"):
            try:
                item = self._model.get(PARTITION, function_id, consistent_read=True)
            except self._model.DoesNotExist:
                raise NotFoundError(f"Function {function_id!r} not found.") from None
        return _decode(item)

    def delete(self, function_id: str) -> None:
        self.get(function_id)
        with aws_errors(f"deleting function {function_id}"):
            self._model(pk=PARTITION, sk=function_id).delete()

    def list_all(self) -> list[FunctionSpec]:
        with aws_errors("reading the functions"):
            items = list(self._model.query(PARTITION, consistent_read=True))
        specs = []
        for item in items:
            try:
                specs.append(_decode(item))
            except (ValidationError, ValueError, KeyError):
                # as CVAT skips a function whose metadata does not parse: the others stay listed
                log.warning("skipping registry entry %s: it does not parse", item.sk, exc_info=True)
        return specs


def _encode(spec: FunctionSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"doc": json.dumps(spec.to_dict(), separators=(",", ":"))}
    for name in ("created_date", "updated_date"):
        value = getattr(spec, name)
        if value is not None:
            data[name] = value.isoformat()
    return data


def _decode(item: PlainItem) -> FunctionSpec:
    data = item_data(item)
    spec = FunctionSpec.from_dict(json.loads(str(data["doc"])))
    for name in ("created_date", "updated_date"):
        if data.get(name):
            setattr(spec, name, datetime.fromisoformat(str(data[name])))
    return spec
