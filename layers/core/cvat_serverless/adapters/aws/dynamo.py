"""The DynamoDB single table (PynamoDB) and the repositories on it.

One table, generic items: ``pk``/``sk`` as the primary key, ``gsi1pk``/``gsi1sk`` for listings,
``data`` as a map of the entity's fields and ``version`` for optimistic locking. The key layout is
written next to each repository.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.errors import ConflictError, NotFoundError
from ...domain.users import SystemRole, User
from .errors import aws_errors

SCHEMA_VERSION = 1
"""Bumped when the item layout changes; `cvat-serverless migrate` moves old items forward."""


class Gsi1(GlobalSecondaryIndex["BaseItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    class Meta:
        table_name = "unset"  # items_model() binds the real name from Settings

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    data = MapAttribute[str, Any](null=True)
    value = NumberAttribute(null=True)
    version = VersionAttribute()
    gsi1 = Gsi1()


@cache
def items_model(table_name: str) -> type[BaseItem]:
    """A model class bound to ``table_name`` (PynamoDB keeps the table name on the class)."""
    from .tracing import instrument_aws_sdks

    instrument_aws_sdks()
    meta = type("Meta", (), {"table_name": table_name})
    index_meta = type("Meta", (), {"index_name": "gsi1", "projection": AllProjection()})
    index = type("Gsi1", (Gsi1,), {"Meta": index_meta})()
    return type(f"Item_{abs(hash(table_name))}", (BaseItem,), {"Meta": meta, "gsi1": index})


def data_of(item: BaseItem) -> dict[str, Any]:
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
        self._model = items_model(table_name)

    def version(self) -> int | None:
        with aws_errors("reading the schema version"):
            try:
                item = self._model.get("META", "SCHEMA", consistent_read=True)
            except self._model.DoesNotExist:
                return None
        return int(data_of(item).get("version", 0))

    def ensure(self) -> int:
        """Record the current schema version on a new table; refuse a table newer than the code."""
        current = self.version()
        if current is None:
            with aws_errors("writing the schema version"):
                self._model(pk="META", sk="SCHEMA", data={"version": SCHEMA_VERSION}).save(
                    condition=self._model.pk.does_not_exist()
                )
            return SCHEMA_VERSION
        if current > SCHEMA_VERSION:
            raise ConflictError(
                f"The table holds schema version {current}, newer than this code's "
                f"{SCHEMA_VERSION}: upgrade cvat-serverless before using this data."
            )
        return current

    def table_exists(self) -> bool:
        with aws_errors("describing the table"):
            return bool(self._model.exists())


class DynamoUserRepository:
    """Users. Items: ``USER#<id>``/``PROFILE`` (listed by gsi1 ``USERS``/<id:012d>), and
    uniqueness guards ``USERNAME#<name>``/``UNIQUE`` and ``EMAIL#<email>``/``UNIQUE``."""

    def __init__(self, table_name: str) -> None:
        self._model = items_model(table_name)

    def _to_item(self, user: User) -> BaseItem:
        data = {
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
        item = self._model(
            pk=f"USER#{user.id}", sk="PROFILE", gsi1pk="USERS", gsi1sk=f"{user.id:012d}", data=data
        )
        if user.version:  # a new item has no version yet; PynamoDB then requires it to be absent
            item.version = user.version
        return item

    @staticmethod
    def _to_user(item: BaseItem) -> User:
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
                for guard in guards:
                    tx.save(guard, condition=self._model.pk.does_not_exist())
        except ConflictError as exc:
            raise ConflictError("A user with that username or email already exists.") from exc
        return self.get(user.id)

    def get(self, user_id: int) -> User:
        with aws_errors("reading a user"):
            try:
                return self._to_user(self._model.get(f"USER#{user_id}", "PROFILE"))
            except self._model.DoesNotExist:
                raise NotFoundError(f"User {user_id} not found.") from None

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
        """Update a user. A new username or email moves its uniqueness guard in the same
        transaction as the profile: ConflictError when it is taken or when ``user`` is stale."""
        current = self.get(user.id)
        old, new = self._guard_keys(current), self._guard_keys(user)
        item = self._to_item(user)
        if old == new:
            with aws_errors("saving a user"):
                item.save()
            return self._to_user(item)
        moved = [kind for kind in ("username", "email") if old.get(kind) != new.get(kind)]
        try:
            with aws_errors("saving a user"), TransactWrite(connection=self._connection()) as tx:
                tx.save(item)  # the version condition: a stale user cancels the whole move
                for kind in moved:
                    if kind in old:
                        guard = self._model(pk=old[kind], sk="UNIQUE")
                        tx.delete(guard, condition=self._model.data["user_id"] == user.id,
                                  add_version_condition=False)
                    if kind in new:
                        value = user.username if kind == "username" else user.email
                        tx.save(self._guard(kind.upper(), value, user.id), condition=self._model.pk.does_not_exist())
        except ConflictError as exc:
            raise ConflictError(
                f"A user with that {' or '.join(moved)} already exists, or the user was changed by someone else."
            ) from exc
        return self._to_user(item)

    def delete(self, user_id: int) -> None:
        """Delete a user and its uniqueness guards (NotFoundError when there is none)."""
        current = self.get(user_id)
        item = self._to_item(current)
        try:
            with aws_errors("deleting a user"), TransactWrite(connection=self._connection()) as tx:
                tx.delete(item)  # on condition of the version just read
                for key in self._guard_keys(current).values():
                    tx.delete(self._model(pk=key, sk="UNIQUE"), add_version_condition=False)
        except ConflictError as exc:
            raise ConflictError("The user was changed by someone else; reload and retry.") from exc

    def list_all(self) -> list[User]:
        with aws_errors("listing users"):
            return [self._to_user(i) for i in self._model.gsi1.query("USERS")]
