"""How the benchmarks print their figures: ``name: value (target op X)``, ``MISSED`` on a miss,
and the exit status (1 when any target was missed)."""

from __future__ import annotations

import operator
from collections.abc import Callable

OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, ">": operator.gt, "==": operator.eq}
missed: list[str] = []


def figure(name: str, value: float, op: str | None = None, target: float | None = None, unit: str = "") -> None:
    """Print a figure; with ``op`` and ``target``, check it against its target."""
    line = f"{name}: {value:.3g}{unit}"
    if op is not None and target is not None:
        ok = OPS[op](value, target)
        line += f" (target {op} {target:.3g}{unit}){'' if ok else '  MISSED'}"
        if not ok:
            missed.append(name)
    print(line, flush=True)


def verdict() -> int:
    """The exit status: 1 (and the list) when a target was missed."""
    if missed:
        print(f"# missed: {', '.join(missed)}")
    return 1 if missed else 0
