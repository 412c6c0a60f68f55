"""Powertools' REST event handler, made safe for invocations that run at the same time in one process.

On AWS an execution environment handles one event at a time, and powertools keeps the request it
is resolving where any code of the process finds it: ``BaseRouter.current_event`` and
``BaseRouter.lambda_context`` are class attributes (one pair for every resolver of the process), and
a resolver's ``context`` (the matched route and its path arguments, ``_route``/``_route_args``, which
the validation middleware hands the route) and ``processed_stack_frames`` are attributes of the
resolver, one per function. The embedded runtime runs every invocation in a thread of its own, in
one process (``lambdas.LocalFunction.invoke``), so two requests at once read each other's event: a
route answered with the query of the request that resolved last. cvat-sdk's ``TaskDataset`` fetches
a task's chunks from parallel threads; the media API then answered ``number=1`` with chunk 0 (both
requests read ``number=0``), and a video task's first chunk reads, which decode MP4s for a second,
made that likely in a fresh runtime.

request-state-per-invocation: those four attributes are kept per thread, that is per invocation
(every invocation gets a new thread): the class attributes through a data descriptor on
``BaseRouter``'s metaclass (powertools assigns them on the class), and every one through a data
descriptor on ``BaseRouter`` for reads and writes on a resolver. A thread that never set an
attribute reads what powertools starts with: no event (AttributeError), an empty context, no frames.
The patch checks the attributes are where it expects them and refuses to apply otherwise, so a
powertools upgrade that moves them is found here, not from crossed answers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

PATCH = "request-state-per-invocation"
SHARED = ("current_event", "lambda_context")  # class attributes: one value per thread
PER_RESOLVER = {"context": dict, "processed_stack_frames": list}  # per resolver and thread

_applied = threading.Lock()
_state = {"done": False}
_invocation = threading.local()


class PowertoolsLayoutError(RuntimeError):
    """Powertools keeps its request state somewhere this patch does not know."""


def _values(owner: object | None) -> dict[str, Any]:
    """The current thread's values of ``owner`` (None: the process-wide class attributes)."""
    per_owner: weakref.WeakKeyDictionary[object, dict[str, Any]] | None = getattr(_invocation, "per_owner", None)
    if per_owner is None:
        per_owner = _invocation.per_owner = weakref.WeakKeyDictionary()
        _invocation.shared = {}
    if owner is None:
        shared: dict[str, Any] = _invocation.shared
        return shared
    return per_owner.setdefault(owner, {})


class _PerInvocation:
    """A data descriptor whose value belongs to the thread that set it: for every object it is
    read on (``per_resolver``), or one for all of them and their class."""

    def __init__(self, name: str, default: Callable[[], Any] | None = None, *, per_resolver: bool = False) -> None:
        self.name = name
        self.default = default
        self.per_resolver = per_resolver

    def _owner(self, obj: object | None) -> object | None:
        return obj if self.per_resolver else None

    def __get__(self, obj: object | None, objtype: type | None = None) -> Any:
        if obj is None and self.per_resolver:
            return self  # the class itself has no per-resolver value
        values = _values(self._owner(obj))
        try:
            return values[self.name]
        except KeyError:
            if self.default is None:
                raise AttributeError(self.name) from None
            return values.setdefault(self.name, self.default())

    def __set__(self, obj: object, value: Any) -> None:
        _values(self._owner(obj))[self.name] = value

    def __delete__(self, obj: object) -> None:
        _values(self._owner(obj)).pop(self.name, None)


def apply() -> None:
    """Install the patch once per process (before the first handler is loaded)."""
    with _applied:
        if _state["done"]:
            return
        from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

        names = (*SHARED, *PER_RESOLVER)
        declared = set(getattr(BaseRouter, "__annotations__", {}))
        if not declared.issuperset(names):
            raise PowertoolsLayoutError(
                f"aws_lambda_powertools' BaseRouter does not declare {', '.join(names)} as the embedded "
                f"runtime's {PATCH} patch expects; re-read infra/cvat_serverless_tools/local/powertools_patches.py"
            )
        # Instance reads and writes (``resolver.current_event``, ``self.context = {}``): set on the
        # class before its metaclass changes, which would route these assignments to itself. They
        # replace what a resolve before this left on the class (it answered then; it is over).
        for name in SHARED:
            setattr(BaseRouter, name, _PerInvocation(name))
        for name, default in PER_RESOLVER.items():
            setattr(BaseRouter, name, _PerInvocation(name, default, per_resolver=True))
        # Class reads and writes (``BaseRouter.current_event = ...`` in ``resolve``).
        meta = type(BaseRouter)
        namespace = {name: _PerInvocation(name) for name in SHARED}
        # a metaclass's own subclass with the same layout: Python allows the swap; mypy's stubs do not
        BaseRouter.__class__ = type(f"PerInvocation{meta.__name__}", (meta,), namespace)  # type: ignore[method-assign]
        _state["done"] = True
