from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain.errors import NotFoundError, ValidationError
from cvat_serverless.domain.query import (
    DEFAULT_PAGE_SIZE,
    SPECS,
    apply_list_query,
    parse_list_query,
)

TASK = SPECS["task"]


def rows(n=25):
    out = []
    for i in range(1, n + 1):
        row = {
            "id": i,
            "name": f"task {i:02d}" + (" cars" if i % 3 == 0 else ""),
            "owner": "alice" if i % 2 else "bob",
            "assignee": None if i % 4 else "carol",
            "status": "completed" if i % 5 == 0 else "annotation",
            "project_id": None if i % 2 else i // 2,
            "subset": "",
            "mode": "annotation",
            "dimension": "2d",
            "updated_date": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i - 1),
        }
        out.append((i, row))
    return out


def run(params, n=25):
    return apply_list_query(rows(n), TASK, parse_list_query(params, TASK))


def test_default_page_is_ten_newest_first():
    page = run({})
    assert page.count == 25 and page.page_size == DEFAULT_PAGE_SIZE
    assert page.results == list(range(25, 15, -1))
    assert page.has_next and not page.has_previous


def test_pages_and_page_size_all():
    assert run({"page": "3"}).results == [5, 4, 3, 2, 1]
    assert not run({"page": "3"}).has_next
    assert len(run({"page_size": "all"}).results) == 25
    assert run({"page_size": "abc"}).page_size == DEFAULT_PAGE_SIZE
    for bad in ("0", "-1", "x", "4"):
        with pytest.raises(NotFoundError):
            run({"page": bad})
    assert run({}, n=0).results == [] and run({}, n=0).count == 0


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=15))
def test_paging_partitions_the_filtered_list(n, size):
    seen = []
    page_no = 1
    while True:
        page = apply_list_query(
            rows(n), TASK, parse_list_query({"page": str(page_no), "page_size": str(size)}, TASK)
        )
        assert page.count == n
        seen += page.results
        if not page.has_next:
            break
        page_no += 1
    assert sorted(seen) == list(range(1, n + 1)) and len(seen) == n


def test_sort_multiple_fields_and_unknown_fields_ignored():
    page = run({"sort": "owner,-id", "page_size": "all"})
    assert page.results[:3] == [25, 23, 21]
    assert page.results[13:15] == [24, 22]
    assert run({"sort": "nope"}).results == run({}).results
    with pytest.raises(ValidationError):
        parse_list_query({"sort": "nope"}, TASK, strict_sort=True)


def test_search_is_case_insensitive_over_search_fields_and_all_terms():
    assert run({"search": "CARS", "page_size": "all"}).count == 8
    assert run({"search": "cars bob", "page_size": "all"}).results == [24, 18, 12, 6]
    assert run({"search": "carol"}).count == 6


def test_simple_filters_coerce_query_strings():
    assert run({"project_id": "3", "page_size": "all"}).results == [6, 7] or run(
        {"project_id": "3"}
    ).results == [6]
    assert run({"owner": "bob", "status": "completed"}).results == [20, 10]
    assert run({"unknown": "x"}).count == 25
    with pytest.raises(ValidationError):
        run({"project_id": "x"})


def f(rule):
    return {"filter": json.dumps(rule), "page_size": "all"}


def test_json_logic_operations():
    assert run(f({"and": [{"==": [{"var": "owner"}, "bob"]}, {">": [{"var": "id"}, 20]}]})).results == [
        24,
        22,
    ]
    assert run(f({"or": [{"==": [{"var": "id"}, 1]}, {"==": [{"var": "id"}, 2]}]})).results == [2, 1]
    assert run(f({"!": {"<": [{"var": "id"}, 24]}})).results == [25, 24]
    assert run(f({"in": [{"var": "id"}, [3, 4, 99]]})).results == [4, 3]
    assert run(f({"in": ["cars", {"var": "name"}]})).count == 8
    assert run(f({"<=": [3, {"var": "id"}, 5]})).results == [5, 4, 3]
    assert run(f({"var": "assignee"})).count == 6
    assert run(f({"!=": [{"var": "status"}, "annotation"]})).results == [25, 20, 15, 10, 5]
    assert run(f({">=": [{"var": "updated_date"}, "2026-01-24T00:00:00Z"]})).results == [25, 24]
    assert run(f({"==": [{"var": "assignee"}, None]})).count == 19


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{bad", "filter: Json syntax should be used"),
        ("{}", "filter shouldn't be empty"),
        (json.dumps({"==": [{"var": "secret"}, 1]}), "filter: 'secret' term is not supported"),
        (json.dumps({"xor": [1, 2]}), "filter: xor operation with [1, 2] arguments is not implemented"),
    ],
)
def test_filter_errors_use_cvat_messages(raw, message):
    with pytest.raises(ValidationError) as err:
        run({"filter": raw})
    assert err.value.message == message
