"""Small helpers the resource routers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path

from ...domain.errors import ValidationError
from ..schemas.common import RequestModel, StorageRequest

if TYPE_CHECKING:
    from ...services.common import StorageInput

ObjectId = Annotated[int, Path(ge=0, le=2**31 - 1)]


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
