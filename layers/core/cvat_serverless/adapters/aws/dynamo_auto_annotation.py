"""The auto-annotate workflow's ledger (``ports.AutoAnnotationLedger``) on the single table.

Items (pk / sk), all with a TTL (``expires_at``) that outlives any request:

- ``AUTOANNOTATE#<request id>`` / ``CHUNK#<chunk, 8 digits>``: a chunk whose shapes are saved.
  Written with a condition (the key does not exist), so a retried chunk step learns that its
  save happened and two writers of the same chunk agree on one; the request's progress is the
  count of these items (one Query of the partition, consistent read), which is safe under the
  Map's concurrency and under retries.
- ``AUTOANNOTATE-CALLBACK#<S3 key>`` / ``TOKEN``: the Step Functions task token of an async
  chunk, under the key of the object its endpoint will write (the output and the failure key).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ...domain.errors import ConflictError
from .dynamo_store import PlainItem, item_data, plain_items_model
from .errors import aws_errors

CHUNKS_TTL = timedelta(days=7)
CALLBACK_TTL = timedelta(days=2)  # the task waits one hour at most (TimeoutSeconds)


def _request_pk(request_id: str) -> str:
    return f"AUTOANNOTATE#{request_id}"


def _chunk_sk(chunk: int) -> str:
    return f"CHUNK#{chunk:08d}"


def _callback_pk(key: str) -> str:
    return f"AUTOANNOTATE-CALLBACK#{key}"


class DynamoAutoAnnotationLedger:
    def __init__(self, table_name: str) -> None:
        self._model: type[PlainItem] = plain_items_model(table_name)

    def mark_saved(self, request_id: str, chunk: int) -> bool:
        item = self._model(pk=_request_pk(request_id), sk=_chunk_sk(chunk),
                           expires_at=datetime.now(UTC) + CHUNKS_TTL)
        try:
            with aws_errors(f"recording chunk {chunk} of {request_id}"):
                item.save(condition=self._model.pk.does_not_exist())
        except ConflictError:  # the condition failed: recorded already
            return False
        return True

    def is_saved(self, request_id: str, chunk: int) -> bool:
        with aws_errors(f"reading chunk {chunk} of {request_id}"):
            try:
                self._model.get(_request_pk(request_id), _chunk_sk(chunk), consistent_read=True)
            except self._model.DoesNotExist:
                return False
        return True

    def saved_count(self, request_id: str) -> int:
        with aws_errors(f"counting the chunks of {request_id}"):
            return int(self._model.count(_request_pk(request_id), self._model.sk.startswith("CHUNK#"),
                                         consistent_read=True))

    def put_callback(self, keys: Sequence[str], token: str) -> None:
        expires = datetime.now(UTC) + CALLBACK_TTL
        with aws_errors("storing a task token"), self._model.batch_write() as batch:
            for key in dict.fromkeys(keys):
                batch.save(self._model(pk=_callback_pk(key), sk="TOKEN", data={"token": token},
                                       expires_at=expires))

    def get_callback(self, key: str) -> str | None:
        with aws_errors("reading a task token"):
            try:
                item = self._model.get(_callback_pk(key), "TOKEN", consistent_read=True)
            except self._model.DoesNotExist:
                return None
        token = item_data(item).get("token")
        return str(token) if token else None

    def delete_callback(self, keys: Sequence[str]) -> None:
        with aws_errors("deleting a task token"), self._model.batch_write() as batch:
            for key in dict.fromkeys(keys):
                batch.delete(self._model(pk=_callback_pk(key), sk="TOKEN"))
