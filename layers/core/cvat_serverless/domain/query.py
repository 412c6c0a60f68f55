"""CVAT's list semantics over plain rows: page/page_size, sort, search, the JSON-logic ``filter``
and the per-field ("simple") filters, with CVAT's field sets per resource and its messages.

A *row* is a flat dict of the resource's filterable values as CVAT names them (``owner`` is the
owner's username, ``project_name`` the project's name, ``tracker_link`` the bug tracker...);
services build one per object and keep the object alongside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .errors import NotFoundError, ValidationError

DEFAULT_PAGE_SIZE = 10  # REST framework PAGE_SIZE in CVAT
T = TypeVar("T")
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which fields a resource's list accepts, as in CVAT's viewsets."""

    filter_fields: tuple[str, ...]
    search_fields: tuple[str, ...]
    ordering_fields: tuple[str, ...]
    simple_filters: tuple[str, ...]
    default_ordering: tuple[str, ...] = ("-id",)


# Tasks and jobs: filter and ordering fields are the same; search takes the text fields.
_TASK_SEARCH = (
    "project_name",
    "name",
    "owner",
    "status",
    "assignee",
    "subset",
    "mode",
    "dimension",
    "media_type",
    "tracker_link",
    "validation_mode",
)
_TASK_FIELDS = (*_TASK_SEARCH, "id", "project_id", "updated_date")
_JOB_SEARCH = ("task_name", "project_name", "assignee", "state", "stage")
_JOB_KIND = ("dimension", "mode", "media_type", "type", "parent_job_id")
_JOB_SIMPLE = (*_JOB_SEARCH, "task_id", "project_id", *_JOB_KIND)
_JOB_FIELDS = (*_JOB_SEARCH, "id", "task_id", "project_id", "updated_date", *_JOB_KIND)

SPECS: dict[str, ListSpec] = {
    "organization": ListSpec(
        ("name", "owner", "slug", "id"),
        ("name", "owner", "slug"),
        ("name", "owner", "slug", "id"),
        ("name", "owner", "slug"),
    ),
    "membership": ListSpec(
        ("user", "role", "id"),
        ("user", "role"),
        ("user", "role", "id"),
        ("user", "role"),
        ("id",),
    ),
    "invitation": ListSpec(
        ("owner", "user_id", "accepted"),
        ("owner",),
        ("owner", "created_date"),
        ("owner", "user_id", "accepted"),
        ("-created_date",),
    ),
    "project": ListSpec(
        ("name", "owner", "assignee", "status", "id", "updated_date"),
        ("name", "owner", "assignee", "status"),
        ("name", "owner", "assignee", "status", "id", "updated_date"),
        ("name", "owner", "assignee", "status"),
    ),
    "task": ListSpec(_TASK_FIELDS, _TASK_SEARCH, _TASK_FIELDS, (*_TASK_SEARCH, "project_id")),
    "job": ListSpec(_JOB_FIELDS, _JOB_SEARCH, _JOB_FIELDS, _JOB_SIMPLE),
    "label": ListSpec(
        ("name", "parent", "id", "type", "color", "parent_id"),
        ("name", "parent"),
        ("name", "parent", "id", "type", "color", "parent_id"),
        ("name", "parent", "type", "color", "parent_id"),
        ("id",),
    ),
    # CVAT's IssueViewSet / CommentViewSet (``frame_id`` is the frame)
    "issue": ListSpec(
        ("owner", "assignee", "id", "job_id", "task_id", "resolved", "frame_id"),
        ("owner", "assignee"),
        ("owner", "assignee", "id", "job_id", "task_id", "resolved", "frame_id"),
        ("owner", "assignee", "job_id", "task_id", "resolved", "frame_id"),
    ),
    "comment": ListSpec(
        ("owner", "id", "issue_id", "frame_id", "job_id"),
        ("owner",),
        ("owner", "id", "issue_id", "frame_id", "job_id"),
        ("owner", "issue_id", "frame_id", "job_id"),
    ),
    "user": ListSpec(
        ("username", "first_name", "last_name", "id", "is_active"),
        ("username", "first_name", "last_name"),
        ("username", "first_name", "last_name", "id", "is_active"),
        ("username", "first_name", "last_name", "is_active"),
        ("id",),
    ),
    "access_token": ListSpec(
        ("name", "id", "read_only", "created_date", "updated_date", "expiry_date", "last_used_date"),
        ("name",),
        ("name", "id", "read_only", "created_date", "updated_date", "expiry_date", "last_used_date"),
        ("name", "read_only"),
    ),
}


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    filter: Mapping[str, Any] | None = None
    simple: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    count: int
    results: list[T]
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.count

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# --- parsing ------------------------------------------------------------------------------------


def parse_page(value: str | None) -> int:
    """DRF's page number: 1 when absent; anything that is not a positive int is 'Invalid page.'."""
    if value in (None, ""):
        return 1
    if value == "last":
        return -1
    try:
        page = int(value)
    except ValueError:
        raise NotFoundError("Invalid page.") from None
    if page < 1:
        raise NotFoundError("Invalid page.")
    return page


def parse_page_size(value: str | None) -> int:
    """CVAT's page size: a positive int, or ``all``; anything else means the default."""
    if value == "all":
        return 2**63 - 1
    try:
        size = int(value) if value else 0
    except ValueError:
        size = 0
    return size if size > 0 else DEFAULT_PAGE_SIZE


def parse_sort(value: str | None, spec: ListSpec, *, strict: bool = False) -> tuple[str, ...]:
    """CVAT's ``sort``: comma-separated fields, ``-`` for descending. Unknown fields are dropped
    as REST framework does; ``strict`` raises a ValidationError instead."""
    if not value:
        return ()
    terms = []
    for raw in value.split(","):
        term = raw.strip()
        name = term[1:] if term.startswith("-") else term
        if name in spec.ordering_fields:
            terms.append(term)
        elif strict and term:
            raise ValidationError(
                fields={"sort": [f"Invalid sort field '{name}'. Available: {list(spec.ordering_fields)}"]}
            )
    return tuple(terms)


def parse_search(value: str | None) -> tuple[str, ...]:
    """REST framework's search terms: split on whitespace and commas."""
    if not value:
        return ()
    return tuple(t for t in re.split(r"[\s,]+", value.replace("\x00", "")) if t)


def parse_filter(value: str | None) -> Mapping[str, Any] | None:
    """Parse the JSON-logic ``filter`` parameter with CVAT's messages."""
    if not value:
        return None
    try:
        rules = json.loads(value)
    except json.JSONDecodeError:
        raise ValidationError("filter: Json syntax should be used") from None
    if not isinstance(rules, dict) or not rules:
        if isinstance(rules, dict | list | str) and not rules:
            raise ValidationError("filter shouldn't be empty")
        raise ValidationError(f"filter: {rules!r} is not a JSON logic rule")
    return rules


_RESERVED = frozenset({"page", "page_size", "sort", "search", "filter", "org", "org_id"})


def parse_list_query(params: Mapping[str, str], spec: ListSpec, *, strict_sort: bool = False) -> ListQuery:
    """Build a ListQuery from query parameters (``page``, ``page_size``, ``sort``, ``search``,
    ``filter`` and the resource's simple filters; other parameters are ignored)."""
    simple = {k: v for k, v in params.items() if k in spec.simple_filters and k not in _RESERVED}
    return ListQuery(
        page=parse_page(params.get("page")),
        page_size=parse_page_size(params.get("page_size")),
        sort=parse_sort(params.get("sort"), spec, strict=strict_sort),
        search=parse_search(params.get("search")),
        filter=parse_filter(params.get("filter")),
        simple=simple,
    )


# --- evaluation ---------------------------------------------------------------------------------


def _coerce(row_value: Any, value: Any) -> Any:
    """Make a filter value comparable with a row value, as the database would."""
    if isinstance(row_value, bool):
        if isinstance(value, str):
            if value.lower() in ("true", "1"):
                return True
            if value.lower() in ("false", "0"):
                return False
            raise ValidationError(f"filter: '{value}' value must be either True or False.")
        return value
    if isinstance(row_value, int) and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ValidationError(f"filter: Field expected a number but got '{value}'.") from None
    if isinstance(row_value, datetime) and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"filter: '{value}' value has an invalid date format.") from None
        if parsed.tzinfo is None and row_value.tzinfo is not None:
            parsed = parsed.replace(tzinfo=row_value.tzinfo)
        return parsed
    if isinstance(row_value, str) and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False  # SQL: comparisons with NULL are never true
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        raise ValidationError(f"filter: {right!r} cannot be compared with {op}") from None


def _var_name(arg: Any, fields: Sequence[str]) -> str:
    if not isinstance(arg, dict) or "var" not in arg or not isinstance(arg["var"], str):
        raise KeyError(json.dumps(arg))
    name = arg["var"]
    if name not in fields:
        raise KeyError(name)
    return name


def _not_implemented(op: str, args: Any) -> ValidationError:
    return ValidationError(f"filter: {op} operation with {args} arguments is not implemented")


def compile_filter(rules: Mapping[str, Any], fields: Sequence[str]) -> Callable[[Row], bool]:
    """Compile JSON-logic rules into a row predicate; unknown fields and operations raise CVAT's
    ValidationErrors up front (before any row is looked at)."""
    try:
        return _compile(rules, fields)
    except KeyError as ex:
        raise ValidationError(f"filter: {ex} term is not supported") from None


def _compile(rules: Any, fields: Sequence[str]) -> Callable[[Row], bool]:
    if not isinstance(rules, dict) or len(rules) != 1:
        raise _not_implemented(str(rules), [])
    op, args = next(iter(rules.items()))
    if op in ("and", "or"):
        if not isinstance(args, list) or not args:
            raise _not_implemented(op, args)
        parts = [_compile(a, fields) for a in args]
        if op == "and":
            return lambda row: all(p(row) for p in parts)
        return lambda row: any(p(row) for p in parts)
    if op in ("!", "!!"):
        inner_rule = args[0] if isinstance(args, list) and len(args) == 1 else args
        inner = _compile(inner_rule, fields)
        if op == "!":
            return lambda row: not inner(row)
        return inner
    if op == "var":
        name = _var_name({"var": args}, fields)
        return lambda row: row.get(name) is not None
    if op in ("==", "!=", "<", "<=", ">", ">=") and isinstance(args, list) and len(args) == 2:
        name = _var_name(args[0], fields)
        value = args[1]
        return lambda row: _compare(op, row.get(name), _coerce(row.get(name), value))
    if op == "<=" and isinstance(args, list) and len(args) == 3:
        name = _var_name(args[1], fields)
        low, high = args[0], args[2]

        def between(row: Row) -> bool:
            v = row.get(name)
            return _compare(">=", v, _coerce(v, low)) and _compare("<=", v, _coerce(v, high))

        return between
    if op == "in" and isinstance(args, list) and len(args) == 2:
        if isinstance(args[0], dict):
            name = _var_name(args[0], fields)
            if not isinstance(args[1], list):
                raise _not_implemented(op, args)
            options = args[1]
            return lambda row: any(row.get(name) == _coerce(row.get(name), o) for o in options)
        name = _var_name(args[1], fields)
        needle = str(args[0])
        return lambda row: row.get(name) is not None and needle in str(row.get(name))
    raise _not_implemented(op, args)


def _search_predicate(terms: Sequence[str], fields: Sequence[str]) -> Callable[[Row], bool]:
    lowered = [t.lower() for t in terms]

    def matches(row: Row) -> bool:
        texts = [str(row.get(f)).lower() for f in fields if row.get(f) is not None]
        return all(any(t in text for text in texts) for t in lowered)

    return matches


def _sort_key(value: Any) -> tuple[int, Any]:
    # NULLs sort last ascending (PostgreSQL's default), first descending.
    if value is None:
        return (1, 0)
    if isinstance(value, str):
        return (0, value)
    return (0, value)


def apply_list_query(items: Iterable[tuple[T, Row]], spec: ListSpec, query: ListQuery) -> Page[T]:
    """Filter, search, sort and paginate ``(object, row)`` pairs; count is taken after filtering
    and before pagination, as CVAT does."""
    predicates: list[Callable[[Row], bool]] = []
    if query.filter:
        predicates.append(compile_filter(query.filter, spec.filter_fields))
    if query.simple:
        simple = {"and": [{"==": [{"var": k}, v]} for k, v in query.simple.items()]}
        predicates.append(compile_filter(simple, spec.simple_filters))
    if query.search:
        predicates.append(_search_predicate(query.search, spec.search_fields))
    selected = [(obj, row) for obj, row in items if all(p(row) for p in predicates)]

    ordering = query.sort or spec.default_ordering
    # Stable sorts applied from the last key to the first give a multi-key ordering; ties end in
    # id order so that pages never overlap.
    selected.sort(key=lambda pair: _sort_key(pair[1].get("id")))
    for term in reversed(ordering):
        desc = term.startswith("-")
        name = term.lstrip("-")
        try:
            selected.sort(key=lambda pair, n=name: _sort_key(pair[1].get(n)), reverse=desc)  # type: ignore[misc]
        except TypeError:
            selected.sort(key=lambda pair, n=name: (0, str(pair[1].get(n))), reverse=desc)  # type: ignore[misc]

    count = len(selected)
    page, start = page_start(query, count)
    size = query.page_size
    return Page(
        count=count, results=[obj for obj, _ in selected[start : start + size]], page=page, page_size=size
    )


def page_start(query: ListQuery, count: int) -> tuple[int, int]:
    """The page a query asks for among ``count`` results (``last`` resolved) and the position of
    its first result; a page past the end is REST framework's 404 "Invalid page."."""
    last_page = max(1, -(-count // query.page_size))
    page = last_page if query.page == -1 else query.page
    if page > last_page:
        raise NotFoundError("Invalid page.")
    return page, (page - 1) * query.page_size


def id_order(query: ListQuery, spec: ListSpec) -> bool | None:
    """Whether a list asks only for a page in id order (no filter, search or simple filter; the
    default order or a sort by id): then newest first (True) or oldest first (False), and a store
    sorted by id can read that page alone. None when the list needs every candidate's row."""
    if query.filter or query.simple or query.search:
        return None
    ordering = query.sort or spec.default_ordering
    if ordering == ("-id",):
        return True
    if ordering == ("id",):
        return False
    return None
