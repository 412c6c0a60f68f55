"""Small helpers the resource routers share: the request as a route sees it, ids, PATCH fields."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import ValidationError
from .. import auth, http
from ..cvat_api import SERVICES_KEY, serving
from ..schemas.common import RequestModel, StorageRequest

if TYPE_CHECKING:
    from ...domain.context import RequestContext
    from ...domain.query import Page
    from ...services.common import StorageInput
    from ...services.views import Shown
    from ..present import Presenter
    from ..services import ApiServices

ObjectId = Annotated[int, Path(ge=0, le=2**31 - 1)]
T = TypeVar("T")
R = TypeVar("R")


class Call:
    """One request as a route sees it: its event, the services the app was given, the caller.

    ``call = Call(router)``; ``call.ctx`` authenticates on first use (401/403 otherwise) and
    resolves the organization context; ``call.show(result, Presenter.task)`` formats a result."""

    def __init__(self, router: Router) -> None:
        current = serving()
        if current is None:  # a resolver used without CvatApi.handle
            self.event = router.current_event
            self.services: ApiServices = router.context[SERVICES_KEY]
        else:
            resolver, self.services = current
            self.event = resolver.current_event

    @cached_property
    def principal(self) -> auth.Principal:
        return auth.require_principal(self.event, self.services)

    def signed_in(self) -> Call:
        """Refuse an anonymous caller (401) on routes that need no organization context."""
        _ = self.principal
        return self

    @cached_property
    def ctx(self) -> RequestContext:
        return auth.context_for(self.event, self.principal, self.services)

    @property
    def query(self) -> dict[str, str]:
        return http.query(self.event)

    def show(self, shown: Shown[T], convert: Callable[[Presenter, T], R]) -> R:
        from ..present import Presenter

        return Presenter.show(self.event, shown, convert)

    def show_page(self, shown: Shown[Page[T]], convert: Callable[[Presenter, T], R]) -> dict[str, object]:
        from ..present import Presenter

        return Presenter.show_page(self.event, shown, convert)


def patched(body: RequestModel, name: str, *, nullable: bool = True) -> Any:
    """The PATCH value of a field: UNSET when absent; null only where the field allows it."""
    from ...services.common import UNSET

    if not body.given(name):
        return UNSET
    value = getattr(body, name)
    if value is None and not nullable:
        raise ValidationError(fields={name: ["This field may not be null."]})
    return value


def storage(value: StorageRequest | None) -> StorageInput | None:
    from ...services.common import StorageInput

    if value is None:
        return None
    return StorageInput(location=str(value.location), cloud_storage_id=value.cloud_storage_id)


def patched_storage(body: RequestModel, name: str) -> Any:
    from ...services.common import UNSET

    value = patched(body, name)
    return value if value is UNSET else storage(value)
