"""Drop-folder markers on the single table.

Item (pk / sk): ``DROP#<marker id>`` / ``DROP`` (the id is a SHA-256 of bucket, key and ETag).
``add`` is a conditional put (``attribute_not_exists``), so of two deliveries of one S3
notification exactly one claims the drop; ``save`` is version-checked. The item carries
``expires_at`` (the table's TTL attribute) MARKER_RETENTION after the claim.
"""

from __future__ import annotations

from ...domain.drops import DropMarker
from .dynamo_store import VersionedStore, View


def drop_views(m: DropMarker) -> list[View]:
    return [View(f"DROP#{m.id}", "DROP", expires_at=m.expires_at())]


class DynamoDropMarkerRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, DropMarker, "drop marker", drop_views)

    def add(self, marker: DropMarker) -> DropMarker:
        return self._s.add(marker)

    def get(self, marker_id: str) -> DropMarker:
        return self._s.get(f"DROP#{marker_id}", "DROP")

    def save(self, marker: DropMarker) -> DropMarker:
        return self._s.save(marker)
