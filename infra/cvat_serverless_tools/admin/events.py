"""``cvat-serverless events summary --from DAY --to DAY``: working time per user and job, as CVAT
computes it from the client's events (gaps of at most 100 s count, plus frame changes' durations),
read from the event store of the running embedded runtime or a deployed stack."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def _when(value: str, *, end: bool) -> datetime:
    parsed = datetime.fromisoformat(value)
    if len(value) == 10 and end:  # a day: to its end
        parsed += timedelta(days=1) - timedelta(milliseconds=1)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hours(ms: int) -> str:
    return f"{ms / 3_600_000:.2f} h"


def cmd_summary(args: argparse.Namespace) -> int:
    from .targets import resolve_target

    target = resolve_target(args)
    if target is None:
        raise SystemExit(f"The embedded runtime for {args.data_dir} is not running; start it with "
                         "`cvat-serverless up`, or pass --stack for a deployed stack.")
    target.activate()
    from cvat_serverless.bootstrap import container

    now = datetime.now(UTC)
    start = _when(args.start, end=False) if args.start else now - timedelta(days=30)
    end = _when(args.end, end=True) if args.end else now
    rows = container().analytics.working_time(start, end)
    totals: dict[str, int] = {}
    print(f"{'user':<24} {'project':>8} {'task':>8} {'job':>8} {'working time':>14}")
    for w in rows:
        name = w.user_name or f"user {w.user_id}"
        totals[name] = totals.get(name, 0) + w.milliseconds
        print(f"{name:<24} {w.project_id or '-':>8} {w.task_id or '-':>8} {w.job_id or '-':>8} "
              f"{_hours(w.milliseconds):>14}")
    for name, ms in sorted(totals.items()):
        print(f"total {name}: {_hours(ms)}")
    print(f"{start.isoformat()} .. {end.isoformat()} ({target.description}).")
    return 0


def add_parser(sub: Any, add_target_args: Callable[[argparse.ArgumentParser], None]) -> None:
    events = sub.add_parser("events", help="analytics events administration")
    inner = events.add_subparsers(dest="events_command", required=True)
    parser = inner.add_parser("summary", help="working time per user, task and job")
    parser.add_argument("--from", dest="start", help="first day or time (ISO 8601; default: 30 days ago)")
    parser.add_argument("--to", dest="end", help="last day or time (ISO 8601; default: now)")
    add_target_args(parser)
    parser.set_defaults(func=cmd_summary)
