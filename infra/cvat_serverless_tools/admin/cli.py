"""The `cvat-serverless` command."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cvat_serverless import __version__


def _default_data_dir() -> str:
    from ..local.runtime import default_data_dir

    return os.environ.get("CVAT_SERVERLESS_DATA_DIR") or str(default_data_dir())


def _add_target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=_default_data_dir(),
                        help="the embedded runtime's data directory (default: %(default)s)")
    parser.add_argument("--stack", help="act on a deployed CloudFormation stack instead of the embedded runtime")
    parser.add_argument("--region", help="the deployed stack's region")


def cmd_up(args: argparse.Namespace) -> int:
    from ..local.runtime import EmbeddedRuntime, RuntimeConfig

    if bool(args.tls_cert) != bool(args.tls_key):
        args.parser.error("--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP)")
    if args.tls_cert:
        from ..local.tls import TlsConfigError, server_context

        try:
            server_context(Path(args.tls_cert), Path(args.tls_key))
        except TlsConfigError as exc:
            print(f"cvat-serverless: cannot start: {exc}", file=sys.stderr)
            return 1
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = RuntimeConfig(host=args.host, port=args.port, aws_port=args.aws_port,
                           data_dir=Path(args.data_dir), persist=not args.no_persist,
                           tls_cert=Path(args.tls_cert) if args.tls_cert else None,
                           tls_key=Path(args.tls_key) if args.tls_key else None)
    if args.max_request_bytes:  # behave as AWS does (a TUS upload of more is refused)
        config.parameter_overrides["MaxRequestBytes"] = str(args.max_request_bytes)
    # --no-self-registration, or CVAT_SELF_REGISTRATION in this shell: through the template's
    # parameter, whose default would otherwise overwrite a shell variable; and in this process's
    # environment, which Settings reads where the template does not set the variable
    self_registration = "false" if args.no_self_registration else os.environ.get("CVAT_SELF_REGISTRATION", "")
    if self_registration:
        config.parameter_overrides["SelfRegistration"] = self_registration
        os.environ["CVAT_SELF_REGISTRATION"] = self_registration
    runtime = EmbeddedRuntime(config)
    try:
        runtime.start()
    except Exception as exc:
        runtime.stop()
        print(f"cvat-serverless: cannot start: {exc}", file=sys.stderr)
        return 1
    from cvat_serverless.bootstrap import container

    users = container().users.list_all()
    admins = [u.username for u in users if u.is_admin]
    facts = runtime.facts()
    persisted = "kept across restarts" if config.persist else "NOT kept: --no-persist"
    outputs = facts["outputs"]
    drop_folder = f"s3://{outputs['MediaBucketName']}/{outputs['UploadPrefix']}projects/<project id>/"
    login = (f"log in as {', '.join(admins)} (the password you chose)" if admins else
             "no users yet; create the first admin with\n"
             "                      cvat-serverless createsuperuser --username admin --email admin@example.com")
    print(f"""cvat-serverless {__version__} is up.
  Web UI and API:     {facts['api_url']}/   (REST API under {facts['api_url']}/api/)
  Embedded AWS:       {facts['aws_endpoint']}   (eval "$(cvat-serverless env)" for the aws CLI and boto3)
  Data directory:     {facts['data_dir']} ({persisted})
  Upload to process:  cvat-serverless upload --user NAME TASK_ID FILES...   or the drop folder:
                      aws s3 cp FILE {drop_folder}
  Login:              {login}
Press Ctrl-C to stop.""", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # Wait in short slices: Python runs a signal handler only in the main thread between bytecodes,
    # and a signal the kernel hands to one of the runtime's other threads does not wake a main
    # thread blocked in an untimed wait (seen: Ctrl-C / SIGINT ignored until the next wake-up).
    while not stop.wait(0.5):
        pass
    print("Stopping: saving state...", flush=True)
    runtime.stop()
    print("Stopped.", flush=True)
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    from .targets import embedded_target

    target = embedded_target(Path(args.data_dir))
    if target is None:
        print(f"The embedded runtime for {args.data_dir} is not running; start it with `cvat-serverless up`.",
              file=sys.stderr)
        return 1
    lines = {**target.aws_env, **target.settings_env(), "CVAT_API_URL": target.api_url}
    for name in ("UploadQueueUrl", "UploadDeadLetterQueueUrl", "DomainEventsQueueUrl"):
        if name in target.outputs:
            env = "CVAT_" + "".join("_" + c if c.isupper() else c for c in name).upper().lstrip("_")
            lines[env] = target.outputs[name]
    for key in ("MOTO_PORT", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        lines.pop(key, None)
    for key, value in lines.items():
        print(f"export {key}={_shell_quote(value)}")
    return 0


def _shell_quote(value: str) -> str:
    import shlex

    return shlex.quote(str(value))


class _Session:
    """A target to act on: the running runtime, a stack, or (for writes) the embedded data
    directory opened in-process when no runtime is running."""

    def __init__(self, args: argparse.Namespace, *, may_start: bool) -> None:
        from .targets import resolve_target

        self.runtime: Any = None
        target = resolve_target(args)
        if target is None and may_start:
            from ..local.runtime import EmbeddedRuntime, RuntimeConfig
            from .targets import embedded_target

            self.runtime = EmbeddedRuntime(RuntimeConfig(port=0, aws_port=0, data_dir=Path(args.data_dir))).start()
            target = embedded_target(Path(args.data_dir))
        if target is None:
            raise SystemExit(f"The embedded runtime for {args.data_dir} is not running; start it with "
                             "`cvat-serverless up`, or pass --stack for a deployed stack.")
        self.target = target
        target.activate()

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()


def _password(args: argparse.Namespace) -> str:
    if args.password:
        return str(args.password)
    env = os.environ.get("CVAT_SUPERUSER_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise SystemExit("No password: pass --password, set CVAT_SUPERUSER_PASSWORD, or run in a terminal.")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise SystemExit("Error: your passwords didn't match.")
    return first


def cmd_createsuperuser(args: argparse.Namespace) -> int:
    from cvat_serverless.domain.errors import ConflictError, ValidationError

    password = _password(args)
    session = _Session(args, may_start=True)
    try:
        from cvat_serverless.bootstrap import container

        user = container().superusers.create_superuser(args.username, args.email, password)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()) or exc.message
        print(f"Error: {problems}", file=sys.stderr)
        return 1
    except ConflictError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        session.close()
    print(f"Superuser {user.username} (id {user.id}) created in {session.target.description}.")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from .health import checks

    session = _Session(args, may_start=False)
    try:
        results = list(checks(session.target))
    finally:
        session.close()
    for check in results:
        print(check.line())
    return 0 if all(c.ok for c in results) else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    from contextlib import suppress

    from .health import schema_status

    session = _Session(args, may_start=not args.status)
    try:
        if args.status:  # read only: the recorded version, what the code expects, a step's progress
            ok, line = schema_status(session.target.outputs["DataTableName"])
            print(f"Database schema in {session.target.description}: {line}")
            return 0 if ok else 1
        from cvat_serverless.bootstrap import container
        from cvat_serverless.domain.errors import CvatServerlessError

        try:
            version = container().schema.ensure(on_page=lambda progress: print(progress.line(), flush=True))
        except CvatServerlessError as exc:  # throttled, a conflict, a newer table: where it stands
            print(f"Error: {exc}", file=sys.stderr)
            with suppress(CvatServerlessError):
                print(f"Database schema: {schema_status(session.target.outputs['DataTableName'])[1]}",
                      file=sys.stderr)
            return 1
    finally:
        session.close()
    print(f"Database schema is at version {version} in {session.target.description}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cvat-serverless", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cvat-serverless {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the embedded runtime: API, web UI and an embedded AWS, no Docker")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8080, help="API and web UI port (default: %(default)s)")
    up.add_argument("--aws-port", type=int, default=4566,
                    help="embedded AWS endpoint port, plain HTTP (with --tls-cert: on 127.0.0.1 only; browsers then "
                         "read media through the HTTPS port) (default: %(default)s)")
    up.add_argument("--data-dir", default=_default_data_dir(), help="where state is kept (default: %(default)s)")
    up.add_argument("--no-persist", action="store_true", help="keep nothing after stopping")
    up.add_argument("--max-request-bytes", type=int, default=0,
                    help="refuse TUS uploads bigger than this, as a deployment on AWS does (default: no limit)")
    up.add_argument("--no-self-registration", action="store_true",
                    help="nobody may create an account; admins create users (createsuperuser)")
    up.add_argument("--tls-cert", metavar="CERT.pem",
                    help="serve the web UI and API over HTTPS with this PEM certificate (chain after it); "
                         "needs --tls-key")
    up.add_argument("--tls-key", metavar="KEY.pem", help="the certificate's private key (PEM, no passphrase)")
    up.add_argument("-v", "--verbose", action="store_true")
    up.set_defaults(func=cmd_up, parser=up)

    env = sub.add_parser("env", help="print shell exports for the running embedded runtime")
    env.add_argument("--data-dir", default=_default_data_dir())
    env.set_defaults(func=cmd_env)

    su = sub.add_parser("createsuperuser", help="create an admin user")
    su.add_argument("--username", required=True)
    su.add_argument("--email", default="")
    su.add_argument("--password", help="for scripts; or CVAT_SUPERUSER_PASSWORD; prompted otherwise")
    _add_target_args(su)
    su.set_defaults(func=cmd_createsuperuser)

    health = sub.add_parser("health", help="check the database, storage, queues, state machines and API")
    _add_target_args(health)
    health.set_defaults(func=cmd_health)

    migrate = sub.add_parser("migrate", help="initialise or upgrade the database schema (resumable)")
    _add_target_args(migrate)
    migrate.add_argument("--status", action="store_true",
                         help="only show the recorded version, the code's, and an upgrade's progress")
    migrate.set_defaults(func=cmd_migrate)

    from .upload import add_parser as add_upload_parser

    add_upload_parser(sub, _add_target_args)
    from .direct_import import add_parsers as add_direct_import_parsers

    add_direct_import_parsers(sub, _add_target_args)
    from .webhooks_dlq import add_parser as add_webhooks_parser

    add_webhooks_parser(sub, _add_target_args)
    from .events import add_parser as add_events_parser

    add_events_parser(sub, _add_target_args)
    from .functions import add_parser as add_functions_parser

    add_functions_parser(sub, _add_target_args)
    from .deploy_ui import add_parser as add_deploy_ui_parser

    add_deploy_ui_parser(sub)
    from .models import add_parser as add_models_parser

    add_models_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
