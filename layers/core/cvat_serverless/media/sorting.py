"""CVAT's sorting methods for the files of a task."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from cvat_serverless.domain.tasks import SortingMethod

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[tuple[str, int], ...], ...]:
    """A key that orders ``img2`` before ``img10``, folder by folder, case-insensitively.

    This follows natsort's ``os_sorted`` (what CVAT uses) for the names tasks carry: each path
    component is split into text and digit runs, digit runs compare as numbers.
    """
    parts = []
    for component in name.replace("\\", "/").split("/"):
        pieces = _DIGITS.split(component.casefold())
        # split() alternates text, digits, text...; pair each piece with a kind so that a text and a
        # number in the same position never have to be compared with each other.
        parts.append(tuple((p, 0) if i % 2 == 0 else ("", int(p)) for i, p in enumerate(pieces)))
    return tuple(parts)


def sort_names(
    names: Sequence[str],
    method: SortingMethod | str = SortingMethod.LEXICOGRAPHICAL,
    *,
    seed: int | None = None,
) -> list[str]:
    """Order the task's file names as CVAT would.

    ``random`` uses ``seed`` so that the order can be reproduced (CVAT's shuffle takes no seed;
    without one the order here is still random). Ties in natural order fall back to the plain
    string so that the result never depends on the input order.
    """
    method = SortingMethod(method)
    if method is SortingMethod.LEXICOGRAPHICAL:
        return sorted(names)
    if method is SortingMethod.NATURAL:
        return sorted(names, key=lambda n: (natural_key(n), n))
    if method is SortingMethod.PREDEFINED:
        return list(names)
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    return shuffled
