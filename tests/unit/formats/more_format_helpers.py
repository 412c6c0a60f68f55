"""Helpers shared by the tests of the YOLO / VOC / MOT / Ultralytics / mask / ImageNet / LabelMe
formats: reading members of an export, unsafe archives, and shape comparisons."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

from format_helpers import canon_shapes, export_bytes, flat_shapes

from cvat_serverless.domain.annotations import DatasetView, LabeledData, LabeledShape, ShapeType


def member(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(data: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The archive ``data`` with its members changed in place by ``change``."""
    content = members(data)
    change(content)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in content.items():
            z.writestr(name, value)
    return buf.getvalue()


def traversal_zip(name: str = "../../etc/evil.txt") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, "0 0.5 0.5 0.1 0.1\n")
    return buf.getvalue()


def bomb_zip(name: str) -> bytes:
    """One member of 4 MiB of zeros: deflates ~1000:1, over the reader's ratio limit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, b"\0" * (4 << 20))
    return buf.getvalue()


def of_types(shapes: Iterable[LabeledShape], types: set[ShapeType]) -> list[LabeledShape]:
    return [s for s in shapes if s.type in types]


def carried(data: LabeledData, view: DatasetView, types: set[ShapeType], digits: int = 2, **kw: bool) -> list[Any]:
    """Canonical visible per-frame shapes of ``types`` (tracks flattened)."""
    return canon_shapes(of_types(flat_shapes(data, view.last_frame()), types), digits, **kw)


def round_trip(export: Callable[..., None], imp: Callable[..., LabeledData], view: DatasetView) -> LabeledData:
    return imp(io.BytesIO(export_bytes(export, view)), view, "dataset.zip")
