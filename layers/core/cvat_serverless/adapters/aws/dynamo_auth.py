"""Access tokens, sessions and failed logins on the single table.

Items (pk / sk):
- access token  ``TOKEN#<id>`` / ``TOKEN``                                  -> get
  owner copy    ``USER#<owner>#TOKENS`` / <id>                              -> list_by_owner (consistent)
  digest copy   ``TOKENDIGEST#<sha256>`` / ``UNIQUE``                       -> find_by_digest (every
                                                                              token-authenticated request)
- session       ``SESSION#<sha256>`` / ``SESSION``                          -> find_by_digest
  user copy     ``USER#<user>#SESSIONS`` / <sha256>                         -> delete_by_user (consistent,
                                                                              so "log out everywhere" misses none)
- failed login  ``LOGINFAIL#<key>`` / ``<UTC time>#<random>``               -> failures_since (range Query)
Sessions and failed logins carry ``expires_at`` (the table's TTL attribute), so DynamoDB removes
them after they stop mattering. TTL deletion is lazy, so readers never rely on it: expired sessions
are refused by the session service, and old failures fall outside the queried time range.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from ...domain.auth import AccessToken, Session
from .dynamo_store import PlainItem, VersionedStore, View, id_key, item_data, plain_items_model
from .errors import aws_errors

LOGIN_FAILURE_RETENTION = timedelta(days=1)
"""How long a failed login is kept (far longer than any throttling window)."""

_KEY_MAX = 512  # a partition key is at most 2048 bytes; login keys carry user input


def token_views(t: AccessToken) -> list[View]:
    return [
        View(f"TOKEN#{t.id}", "TOKEN"),
        View(f"USER#{t.owner_id}#TOKENS", id_key(t.id)),
        View(f"TOKENDIGEST#{t.digest}", "UNIQUE", unique="digest"),
    ]


def session_views(s: Session) -> list[View]:
    return [
        View(f"SESSION#{s.digest}", "SESSION", expires_at=s.expiry_date),
        View(f"USER#{s.user_id}#SESSIONS", s.digest, expires_at=s.expiry_date),
    ]


class DynamoAccessTokenRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, AccessToken, "access token", token_views)

    def add(self, token: AccessToken) -> AccessToken:
        return self._s.add(token)

    def get(self, token_id: int) -> AccessToken:
        return self._s.get(f"TOKEN#{token_id}", "TOKEN")

    def find_by_digest(self, digest: str) -> AccessToken | None:
        return self._s.find(f"TOKENDIGEST#{digest}", "UNIQUE") if digest else None

    def save(self, token: AccessToken) -> AccessToken:
        return self._s.save(token)

    def delete(self, token_id: int) -> None:
        self._s.delete(f"TOKEN#{token_id}", "TOKEN")

    def list_by_owner(self, owner_id: int) -> list[AccessToken]:
        return self._s.query(f"USER#{owner_id}#TOKENS")


class DynamoSessionRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Session, "session", session_views)

    def add(self, session: Session) -> Session:
        return self._s.add(session)

    def find_by_digest(self, digest: str) -> Session | None:
        return self._s.find(f"SESSION#{digest}", "SESSION") if digest else None

    def delete(self, digest: str) -> None:
        found = self.find_by_digest(digest)
        if found is not None:
            self._s.delete_entities([found])

    def delete_by_user(self, user_id: int) -> None:
        self._s.delete_entities(self._s.query(f"USER#{user_id}#SESSIONS"))


def _utc_key(at: datetime) -> str:
    """A sort key that orders instants: UTC, fixed width, microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoLoginAttemptRepository:
    def __init__(self, table_name: str, *, retention: timedelta = LOGIN_FAILURE_RETENTION) -> None:
        self._model: type[PlainItem] = plain_items_model(table_name)
        self._retention = retention

    @staticmethod
    def _pk(key: str) -> str:
        if len(key.encode()) > _KEY_MAX:
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return f"LOGINFAIL#{key}"

    def add_failure(self, key: str, at: datetime) -> None:
        # One item per failure (no read-modify-write of a growing list); the random suffix keeps
        # two failures at the same instant apart.
        item = self._model(
            pk=self._pk(key), sk=f"{_utc_key(at)}#{uuid.uuid4().hex}", data={"at": at.isoformat()},
            expires_at=(at + self._retention).astimezone(UTC),
        )
        with aws_errors("recording a failed login"):
            item.save()

    def failures_since(self, key: str, since: datetime) -> list[datetime]:
        with aws_errors("reading failed logins"):
            items = self._model.query(
                self._pk(key), self._model.sk >= _utc_key(since), consistent_read=True
            )
            return [datetime.fromisoformat(item_data(i)["at"]) for i in items]

    def clear(self, key: str) -> None:
        with aws_errors("clearing failed logins"):
            items = list(self._model.query(self._pk(key), consistent_read=True, attributes_to_get=["pk", "sk"]))
            with self._model.batch_write() as batch:
                for item in items:
                    batch.delete(item)
