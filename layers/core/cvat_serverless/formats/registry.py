"""The format registry (as CVAT's ``dataset_manager/formats/registry.py``).

Formats are looked up by CVAT's display name ``"{name} {version}"`` (exact, case-sensitive):
``get_exporter("COCO 1.0")``. :func:`list_exporters` / :func:`list_importers` give what
``GET /api/server/annotation/formats`` serves (``to_dict``); only registered (implemented)
formats are listed. Importing this module is cheap; the format modules are imported on first
use (see the package docstring for how a format registers itself).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from cvat_serverless.domain.annotations import DatasetView, LabeledData
from cvat_serverless.domain.errors import ValidationError

__all__ = [
    "ExporterFunc",
    "FormatSpec",
    "ImporterFunc",
    "UnknownFormatError",
    "exporter",
    "get_exporter",
    "get_importer",
    "importer",
    "list_exporters",
    "list_importers",
]

# Modules of this package that are helpers, not formats.
_HELPER_MODULES = frozenset({"registry", "archive", "common", "zipjoin", "backup"})


class UnknownFormatError(ValidationError):
    """The format is not supported by this server."""


ExporterFunc = Callable[[DatasetView, BinaryIO, Any], None]
"""``(view, out, images)``: write a ZIP to ``out``; ``images`` is ``frame -> bytes|file|None``
or ``None`` for an annotations-only export."""

ImporterFunc = Callable[[BinaryIO, DatasetView, str], LabeledData]
"""``(src, view, filename)``: parse ``src`` (named ``filename``) against ``view``'s labels and
frames."""


@dataclass(frozen=True, slots=True)
class FormatSpec:
    name: str
    ext: str
    version: str
    dimension: str = "2d"
    enabled: bool = True

    @property
    def display_name(self) -> str:
        return f"{self.name} {self.version}"

    def to_dict(self) -> dict[str, Any]:
        """CVAT's ``DatasetFormat`` (``name`` is the display name)."""
        return {
            "name": self.display_name,
            "ext": self.ext,
            "version": self.version,
            "enabled": self.enabled,
            "dimension": self.dimension,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: FormatSpec
    func: Callable[..., Any]


_exporters: dict[str, _Entry] = {}
_importers: dict[str, _Entry] = {}
_loaded = False
_lock = threading.Lock()

F = TypeVar("F", bound=Callable[..., Any])


def _register(table: dict[str, _Entry], spec: FormatSpec, func: Callable[..., Any]) -> None:
    existing = table.get(spec.display_name)
    if existing is not None and existing.func is not func:
        qual = getattr(existing.func, "__qualname__", existing.func)
        raise RuntimeError(f"format '{spec.display_name}' is registered twice ({qual})")
    table[spec.display_name] = _Entry(spec, func)


def exporter(*, name: str, ext: str, version: str, dimension: str = "2d", enabled: bool = True) -> Callable[[F], F]:
    """Register an exporter ``(view, out, images) -> None`` under ``"{name} {version}"``."""
    spec = FormatSpec(name, ext, version, dimension, enabled)

    def decorate(func: F) -> F:
        _register(_exporters, spec, func)
        return func

    return decorate


def importer(*, name: str, ext: str, version: str, dimension: str = "2d", enabled: bool = True) -> Callable[[F], F]:
    """Register an importer ``(src, view, filename) -> LabeledData`` under ``"{name} {version}"``."""
    spec = FormatSpec(name, ext, version, dimension, enabled)

    def decorate(func: F) -> F:
        _register(_importers, spec, func)
        return func

    return decorate


def load_builtin_formats() -> None:
    """Import every format module of the package once (they register themselves)."""
    global _loaded  # noqa: PLW0603 - a process-wide, idempotent plug-in scan
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        package = importlib.import_module("cvat_serverless.formats")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name.startswith("_") or module.name in _HELPER_MODULES:
                continue
            importlib.import_module(f"cvat_serverless.formats.{module.name}")
        _loaded = True


def list_exporters() -> list[FormatSpec]:
    load_builtin_formats()
    return sorted((e.spec for e in _exporters.values()), key=lambda s: s.display_name.lower())


def list_importers() -> list[FormatSpec]:
    load_builtin_formats()
    return sorted((e.spec for e in _importers.values()), key=lambda s: s.display_name.lower())


def _lookup(table: dict[str, _Entry], display_name: str, what: str) -> _Entry:
    load_builtin_formats()
    entry = table.get(display_name)
    if entry is None:
        known = ", ".join(sorted(table))
        raise UnknownFormatError(f"Unknown {what} format '{display_name}'. Supported: {known}")
    if not entry.spec.enabled:
        raise UnknownFormatError(f"The {what} format '{display_name}' is disabled")
    return entry


def get_exporter(display_name: str) -> ExporterFunc:
    """The exporter registered as ``display_name`` (e.g. ``"CVAT for images 1.1"``), run with
    the heap as it is at the call kept out of the cyclic collector (:func:`old_objects_frozen`)."""
    func = _lookup(_exporters, display_name, "export").func

    @functools.wraps(func)
    def export(view: DatasetView, out: BinaryIO, images: Any = None) -> None:
        with old_objects_frozen():
            func(view, out, images)

    return export


@contextlib.contextmanager
def old_objects_frozen() -> Iterator[None]:
    """Keep the objects that exist now (the task's annotation model: several per shape) out of
    the cyclic garbage collector until the block ends.

    An export allocates a few short-lived objects per shape, so the collector runs often, and
    each full collection walks every object of the model, to find no garbage: ~12 % of a
    100,000-shape COCO export (benchmarks/export_formats.py). Frozen objects are still freed by
    reference counting; young ones are collected as usual. A nested or concurrent block may end
    the freeze early, which costs only speed."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def get_importer(display_name: str) -> ImporterFunc:
    """The importer registered as ``display_name`` (e.g. ``"CVAT 1.1"``)."""
    return _lookup(_importers, display_name, "import").func


def get_exporter_spec(display_name: str) -> FormatSpec:
    return _lookup(_exporters, display_name, "export").spec


def get_importer_spec(display_name: str) -> FormatSpec:
    return _lookup(_importers, display_name, "import").spec
