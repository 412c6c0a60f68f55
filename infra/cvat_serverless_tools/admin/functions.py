"""``cvat-serverless function add FILE.json [--replace] | rm ID | ls``: the model registry that
``GET /api/lambda/functions`` lists (CVAT has no route to change it: admins do it here). Acts on
the running embedded runtime, or on a deployed stack with ``--stack``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _target(args: argparse.Namespace) -> Any:
    from .targets import resolve_target

    target = resolve_target(args)
    if target is None:
        raise SystemExit(f"The embedded runtime for {args.data_dir} is not running; start it with "
                         "`cvat-serverless up`, or pass --stack for a deployed stack.")
    target.activate()
    return target


def _problems(exc: Any) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()) or exc.message


def cmd_add(args: argparse.Namespace) -> int:
    from cvat_serverless.domain.errors import ConflictError, ValidationError

    try:
        doc = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"Error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(doc, dict):
        print(f"Error: {args.file} must hold one JSON object (a registry entry).", file=sys.stderr)
        return 1
    target = _target(args)
    from cvat_serverless.bootstrap import container
    from cvat_serverless.services.lambda_functions import register_function

    c = container()
    try:
        spec = register_function(c.function_repository, c.clock, doc, replace=args.replace)
    except ValidationError as exc:
        print(f"Error: {_problems(exc)}", file=sys.stderr)
        return 1
    except ConflictError as exc:
        print(f"Error: {exc.message} (pass --replace)", file=sys.stderr)
        return 1
    print(f"Function {spec.id} ({spec.kind.value}, {spec.mode.value}, endpoint {spec.endpoint}) "
          f"{'stored' if args.replace else 'added'} in {target.description}.")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from cvat_serverless.domain.errors import NotFoundError

    target = _target(args)
    from cvat_serverless.bootstrap import container

    try:
        container().function_repository.delete(args.id)
    except NotFoundError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    print(f"Function {args.id} removed from {target.description}.")
    return 0


def table(specs: list[Any]) -> list[str]:
    """The lines of ``function ls``: id, kind, mode, endpoint and how many labels."""
    rows = [("ID", "KIND", "MODE", "ENDPOINT", "LABELS")]
    rows += [(s.id, s.kind.value, s.mode.value, s.endpoint, str(len(s.labels_v2))) for s in specs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def cmd_ls(args: argparse.Namespace) -> int:
    _target(args)
    from cvat_serverless.bootstrap import container

    for line in table(container().function_repository.list_all()):
        print(line)
    return 0


def add_parser(sub: Any, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    function = sub.add_parser("function", help="the model registry (/api/lambda/functions)")
    inner = function.add_subparsers(dest="function_command", required=True)
    add = inner.add_parser("add", help="register a function from a JSON registry entry")
    add.add_argument("file", help="the entry: {id, name, kind, mode, endpoint, labels_v2, ...}")
    add.add_argument("--replace", action="store_true", help="replace an entry with the same id")
    add_target_args(add)
    add.set_defaults(func=cmd_add)
    rm = inner.add_parser("rm", help="remove a function")
    rm.add_argument("id")
    add_target_args(rm)
    rm.set_defaults(func=cmd_rm)
    ls = inner.add_parser("ls", help="list the functions")
    add_target_args(ls)
    ls.set_defaults(func=cmd_ls)
