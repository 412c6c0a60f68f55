"""Where a project's or task's imports come from and exports go (CVAT's ``Storage``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import ValidationError


class Location(StrEnum):
    LOCAL = "local"
    CLOUD_STORAGE = "cloud_storage"


@dataclass(frozen=True, slots=True)
class Storage:
    id: int
    location: Location = Location.LOCAL
    cloud_storage_id: int | None = None


def validate_storage(field_name: str, location: str, cloud_storage_id: int | None) -> Location:
    """CVAT's StorageSerializer rules: a cloud location needs a cloud storage id."""
    try:
        loc = Location(location)
    except ValueError:
        raise ValidationError(fields={field_name: [f'"{location}" is not a valid choice.']}) from None
    if loc == Location.CLOUD_STORAGE and cloud_storage_id is None:
        raise ValidationError(
            fields={field_name: ["Cloud storage was selected as location but cloud_storage_id was not set"]}
        )
    return loc
