"""The DynamoDB single table (PynamoDB): its item model, the id counters, the schema version and
the users.

One table, generic items: ``pk``/``sk`` as the primary key, ``data`` as a map of the entity's fields
and ``version`` for optimistic locking. Lists are Queries of base-table partitions that hold full
copies (nothing reads a secondary index: gsi1 is written by schema version 1 only). The key layout
is written next to each repository and, for the whole table, in repositories.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.errors import ConflictError, NotFoundError
from ...domain.users import SystemRole, User
from .dynamo_store import PlainItem, id_key, plain_items_model
from .errors import aws_errors

if TYPE_CHECKING:
    from .dynamo_migrations import OnPage

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
"""Bumped when the item layout changes; DynamoSchema.ensure() (`cvat-serverless migrate`, and every
start of the embedded runtime) moves an older table forward with dynamo_migrations. Code of version
N must read items of version N - 1 (deploy first, migrate after); see dynamo_migrations."""


class BaseItem(Model):
    class Meta:
        table_name = "unset"  # items_model() binds the real name from Settings

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = MapAttribute[str, Any](null=True)
    value = NumberAttribute(null=True)
    version = VersionAttribute()


@cache
def items_model(table_name: str) -> type[BaseItem]:
    """A model class bound to ``table_name`` (PynamoDB keeps the table name on the class)."""
    from .tracing import instrument_aws_sdks

    instrument_aws_sdks()
    meta = type("Meta", (), {"table_name": table_name})
    return type(f"Item_{abs(hash(table_name))}", (BaseItem,), {"Meta": meta})


def data_of(item: BaseItem | PlainItem) -> dict[str, Any]:
    """The item's ``data`` map as a plain dict (PynamoDB returns a raw MapAttribute on reads)."""
    data = item.data
    if data is None:
        return {}
    return data.as_dict() if isinstance(data, MapAttribute) else dict(data)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DynamoIdGenerator:
    """Integer ids from atomic counters: item ``COUNTER#<kind>`` / ``COUNTER``."""

    def __init__(self, table_name: str) -> None:
        self._model = items_model(table_name)

    def next_id(self, kind: str) -> int:
        # A plain atomic ADD: Model.update() would add the optimistic-locking condition.
        with aws_errors(f"allocating a {kind} id"):
            answer = self._model._get_connection().update_item(
                hash_key=f"COUNTER#{kind}",
                range_key="COUNTER",
                actions=[BaseItem.value.add(1)],
                return_values="UPDATED_NEW",
            )
        return int(answer["Attributes"]["value"]["N"])


class DynamoSchema:
    """The schema version item ``META`` / ``SCHEMA``."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name
        self._model = items_model(table_name)

    def version(self) -> int | None:
        with aws_errors("reading the schema version"):
            try:
                item = self._model.get("META", "SCHEMA", consistent_read=True)
            except self._model.DoesNotExist:
                return None
        return int(data_of(item).get("version", 0))

    def ensure(self, on_page: OnPage | None = None) -> int:
        """Record the current schema version on a new table, move an older table forward one
        version at a time (each step is idempotent: a run cut short is run again, a paginated one
        from the last page it recorded), and refuse a table newer than the code. ``on_page``
        (dynamo_migrations.OnPage) is told the progress of paginated steps."""
        current = self.version()
        if current is None:
            try:
                with aws_errors("writing the schema version"):
                    self._model(pk="META", sk="SCHEMA", data={"version": SCHEMA_VERSION}).save(
                        condition=self._model.pk.does_not_exist()
                    )
            except ConflictError:  # another process recorded it first
                return self.ensure(on_page)
            return SCHEMA_VERSION
        if current > SCHEMA_VERSION:
            raise ConflictError(
                f"The table holds schema version {current}, newer than this code's "
                f"{SCHEMA_VERSION}: upgrade cvat-serverless before using this data."
            )
        if current < SCHEMA_VERSION:
            from .dynamo_migrations import upgrade  # only an old table needs it

            while current < SCHEMA_VERSION:
                log.info("upgrading table %s from schema version %d", self._table_name, current)
                upgrade(self._table_name, current, on_page)
                current = self._record(current, current + 1)
        return current

    def _record(self, old: int, new: int) -> int:
        """Move the recorded version from ``old`` to ``new``; when another process did it first,
        the version it recorded."""
        try:
            with aws_errors("writing the schema version"):
                self._model._get_connection().update_item(
                    hash_key="META", range_key="SCHEMA", actions=[BaseItem.data["version"].set(new)],
                    condition=BaseItem.data["version"] == old,
                )
        except ConflictError:
            recorded = self.version()
            if recorded is None or recorded < new:
                raise
            return recorded
        return new

    def table_exists(self) -> bool:
        with aws_errors("describing the table"):
            return bool(self._model.exists())


ALL_USERS = "ALL#USERS"
"""The partition of the users' copies (list_all)."""


class DynamoUserRepository:
    """Users. Items: ``USER#<id>``/``PROFILE``; its copy ``ALL#USERS``/<id:012d> (list_all),
    written in the same transaction; uniqueness guards ``USERNAME#<name>``/``UNIQUE`` and
    ``EMAIL#<email>``/``UNIQUE`` holding the user's id."""

    def __init__(self, table_name: str) -> None:
        self._model = items_model(table_name)
        self._plain = plain_items_model(table_name)

    @staticmethod
    def data(user: User) -> dict[str, Any]:
        """What the profile and its copy hold in ``data``."""
        return {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "password_hash": user.password_hash,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "groups": [str(g) for g in user.groups],
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
            "is_active": user.is_active,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        }

    def _to_item(self, user: User) -> BaseItem:
        item = self._model(pk=f"USER#{user.id}", sk="PROFILE", data=self.data(user))
        if user.version:  # a new item has no version yet; PynamoDB then requires it to be absent
            item.version = user.version
        return item

    def copy_item(self, user_id: int, data: dict[str, Any], version: int) -> PlainItem:
        """The profile's copy in ``ALL#USERS``. A plain item: its version is set, not bumped and
        not checked (the profile's own version condition guards the transaction)."""
        return self._plain(pk=ALL_USERS, sk=id_key(user_id), data=data, version=version)

    @staticmethod
    def to_user(item: BaseItem | PlainItem) -> User:
        d = data_of(item)
        return User(
            id=int(d["id"]),
            username=d["username"],
            email=d.get("email") or "",
            password_hash=d.get("password_hash") or "",
            first_name=d.get("first_name") or "",
            last_name=d.get("last_name") or "",
            groups=[SystemRole(g) for g in d.get("groups") or []],
            is_staff=bool(d.get("is_staff")),
            is_superuser=bool(d.get("is_superuser")),
            is_active=bool(d.get("is_active", True)),
            date_joined=_dt(d.get("date_joined")),
            last_login=_dt(d.get("last_login")),
            version=int(item.version or 0),
        )

    def _guard(self, kind: str, value: str, user_id: int) -> BaseItem:
        return self._model(pk=f"{kind}#{value.lower()}", sk="UNIQUE", data={"user_id": user_id})

    def _connection(self) -> Connection:
        # The model's own connection: a new Connection() would build a botocore client per call.
        return self._model._get_connection().connection

    def add(self, user: User) -> User:
        connection = self._connection()
        item = self._to_item(replace(user, version=0))
        guards = [self._guard("USERNAME", user.username, user.id)]
        if user.email:
            guards.append(self._guard("EMAIL", user.email, user.id))
        try:
            with aws_errors("creating a user"), TransactWrite(connection=connection) as tx:
                tx.save(item, condition=self._model.pk.does_not_exist())
                tx.save(self.copy_item(user.id, self.data(user), 1))
                for guard in guards:
                    tx.save(guard, condition=self._model.pk.does_not_exist())
        except ConflictError as exc:
            raise ConflictError("A user with that username or email already exists.") from exc
        return self.get(user.id)

    def get(self, user_id: int) -> User:
        with aws_errors("reading a user"):
            try:
                return self.to_user(self._model.get(f"USER#{user_id}", "PROFILE"))
            except self._model.DoesNotExist:
                raise NotFoundError(f"User {user_id} not found.") from None

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        """One BatchGetItem per 100 users (strongly consistent), in the order of ``user_ids``."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return {}
        keys = [(f"USER#{i}", "PROFILE") for i in wanted]
        with aws_errors("reading users"):
            found = {u.id: u for u in map(self.to_user, self._model.batch_get(keys, consistent_read=True))}
        return {i: found[i] for i in wanted if i in found}

    def _find(self, kind: str, value: str) -> User | None:
        if not value:
            return None
        with aws_errors("looking up a user"):
            try:
                guard = self._model.get(f"{kind}#{value.lower()}", "UNIQUE")
            except self._model.DoesNotExist:
                return None
        try:
            return self.get(int(data_of(guard)["user_id"]))
        except NotFoundError:
            return None

    def find_by_username(self, username: str) -> User | None:
        return self._find("USERNAME", username)

    def find_by_email(self, email: str) -> User | None:
        return self._find("EMAIL", email)

    @staticmethod
    def _guard_keys(user: User) -> dict[str, str]:
        keys = {"username": f"USERNAME#{user.username.lower()}"}
        if user.email:
            keys["email"] = f"EMAIL#{user.email.lower()}"
        return keys

    def save(self, user: User) -> User:
        """Update a user and its copy. A new username or email moves its uniqueness guard in the
        same transaction: ConflictError when it is taken or when ``user`` is stale."""
        current = self.get(user.id)
        old, new = self._guard_keys(current), self._guard_keys(user)
        item = self._to_item(user)
        moved = [kind for kind in ("username", "email") if old.get(kind) != new.get(kind)]
        try:
            with aws_errors("saving a user"), TransactWrite(connection=self._connection()) as tx:
                tx.save(item)  # the version condition: a stale user cancels the whole transaction
                tx.save(self.copy_item(user.id, self.data(user), user.version + 1))
                for kind in moved:
                    if kind in old:
                        guard = self._model(pk=old[kind], sk="UNIQUE")
                        tx.delete(guard, condition=self._model.data["user_id"] == user.id,
                                  add_version_condition=False)
                    if kind in new:
                        value = user.username if kind == "username" else user.email
                        tx.save(self._guard(kind.upper(), value, user.id), condition=self._model.pk.does_not_exist())
        except ConflictError as exc:
            if not moved:
                raise ConflictError("The user was changed by someone else; reload and retry.") from exc
            raise ConflictError(
                f"A user with that {' or '.join(moved)} already exists, or the user was changed by someone else."
            ) from exc
        return self.to_user(item)

    def delete(self, user_id: int) -> None:
        """Delete a user, its copy and its uniqueness guards (NotFoundError when there is none)."""
        current = self.get(user_id)
        item = self._to_item(current)
        try:
            with aws_errors("deleting a user"), TransactWrite(connection=self._connection()) as tx:
                tx.delete(item)  # on condition of the version just read
                tx.delete(self.copy_item(user_id, {}, 0))
                for key in self._guard_keys(current).values():
                    tx.delete(self._model(pk=key, sk="UNIQUE"), add_version_condition=False)
        except ConflictError as exc:
            raise ConflictError("The user was changed by someone else; reload and retry.") from exc

    def list_all(self) -> list[User]:
        with aws_errors("listing users"):
            return [self.to_user(i) for i in self._model.query(ALL_USERS, consistent_read=True)]
