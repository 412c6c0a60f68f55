"""Query parameters of CVAT's list endpoints, declared for the OpenAPI document.

A list route reads its parameters from the event as one mapping (the services parse page, sort,
filter... with CVAT's own rules and messages), but the OpenAPI document should still name every
parameter. ``list_params`` gives the route a signature with those parameters as optional strings;
powertools documents them and passes them in, and the route ignores them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

F = TypeVar("F", bound=Callable[..., Any])

PAGING = ("page", "page_size", "sort", "search", "filter")


def last_value(value: Any) -> Any:
    """A repeated query parameter (``?page_size=2&page_size=1``) counts with its last value, as
    Django's ``QueryDict.get`` reads it in CVAT; powertools hands a declared scalar the list."""
    return value[-1] if isinstance(value, list) and value else value


LastValue = BeforeValidator(last_value)
ORG = ("org", "org_id")


def list_params(*names: str, org: bool = True) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        extra = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, LastValue, Query(alias=name)],
            )
            for name in (*PAGING, *(ORG if org else ()), *names)
            if name not in signature.parameters
        ]
        func.__signature__ = signature.replace(parameters=[*kept, *extra])  # type: ignore[attr-defined]
        return func

    return decorate
