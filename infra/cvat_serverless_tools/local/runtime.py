"""The embedded runtime: moto in-process + the template deployed on it + API Gateway and SQS
event source mappings emulated, with the state kept in a data directory."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from .apigw import ApiGateway, RawHeadersRequestHandler
from .deployer import Deployer, Deployment
from .lambdas import FunctionRegistry
from .middleware import AwsMiddleware
from .persistence import SnapshotStore, SnapshotWriter
from .presigned import PresignedProxy
from .sqs import SqsPoller, pollers_for
from .template import REGION, Template, find_project_root, load_template
from .tls import TlsRequestHandler, serve_tls, server_context

log = logging.getLogger("cvat_serverless_tools.local")

RUNTIME_FILE = "runtime.json"
SWITCH_INTERVAL_S = 0.0005
"""How long a thread may hold the GIL while another waits for it (Python's default: 5 ms). Every
request here is a thread of this process, and most of a request's time is a chain of short calls
to the embedded AWS endpoint, each a hand-over between threads: with 5 ms, one request that parses
a big body (a 20,000-shape PUT) makes each such hand-over of every other request wait up to 5 ms."""


class DataDirBusyError(RuntimeError):
    """Another cvat-serverless process is using the data directory."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cvat-serverless"


@dataclass
class RuntimeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    aws_port: int = 4566
    data_dir: Path = field(default_factory=default_data_dir)
    root: Path | None = None
    persist: bool = True
    stack_name: str = "cvat-local"
    snapshot_interval: float = 1.0
    # HTTPS for the API and web UI port (PEM files; both or neither): the embedded AWS endpoint
    # then listens on loopback only, and the browser reads presigned media through the API port
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # template.yaml's parameters as this machine needs them: the laptop's own web server may serve
    # remote_files; units run as threads of this process (one per core); request bodies have no
    # Lambda limit here; the UI this runtime serves (on whatever address it is reached) reads the
    # embedded S3's presigned URLs, another origin.
    parameter_overrides: dict[str, str] = field(default_factory=lambda: {
        "AllowLoopbackEgress": "true", "UnitConcurrency": str(os.cpu_count() or 2), "MaxRequestBytes": "0",
        "UiHosting": "false",  # the API gateway serves frontend/dist itself
        "AllowedOrigins": "*"})


def embedded_environment(endpoint: str, aws_port: int, secret_key: str = "testing") -> dict[str, str]:  # noqa: S107
    """What every client in this process (and `cvat-serverless env` users) needs to reach it.
    moto checks no credentials; over TLS the runtime signs with a key of its own (see start)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "MOTO_PORT": str(aws_port),
        # X-Ray has no daemon here; metrics would print an EMF line per invocation.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


class EmbeddedRuntime:
    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.data_dir = config.data_dir.expanduser().resolve()
        self.aws_server: BaseWSGIServer | None = None
        self.api_server: BaseWSGIServer | None = None
        self.threads: list[threading.Thread] = []
        self.pollers: list[SqsPoller] = []
        self.writer: SnapshotWriter | None = None
        self.deployment: Deployment | None = None
        self.middleware: AwsMiddleware | None = None
        self.template: Template | None = None
        self._lock_file: Any = None
        self.restored: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def _lock_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.data_dir / "lock", "w")  # noqa: SIM115 - held for the runtime's life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirBusyError(
                f"{self.data_dir} is in use by another cvat-serverless process; stop it or pass --data-dir"
            ) from None

    def _serve(self, server: BaseWSGIServer, name: str) -> None:
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    @property
    def tls(self) -> bool:
        return self.config.tls_cert is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def start(self) -> EmbeddedRuntime:
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        from . import moto_patches

        if (self.config.tls_cert is None) != (self.config.tls_key is None):
            raise ValueError("HTTPS needs both a certificate and its key")
        # first: a certificate that cannot serve is a clear error before anything starts (TlsConfigError)
        tls = (server_context(self.config.tls_cert, self.config.tls_key)
               if self.config.tls_cert is not None and self.config.tls_key is not None else None)
        moto_patches.apply()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._lock_data_dir()
        store = SnapshotStore(self.data_dir) if self.config.persist else None
        if store is not None:
            store.check_compatible()
        # Before any state machine exists: executions must run (see DESIGN.md).
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        for noisy in ("moto.stepfunctions.parser", "werkzeug", "samtranslator"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="No application metrics to publish")

        functions = FunctionRegistry()
        self.middleware = middleware = AwsMiddleware(DomainDispatcherApplication(create_backend_app), functions)
        aws_host = "127.0.0.1" if tls is not None else self.config.host  # see RuntimeConfig.tls_cert
        self.aws_server = make_server(aws_host, self.config.aws_port, middleware, threaded=True,
                                      request_handler=MotoRequestHandler)
        aws_port = self.aws_server.server_port
        endpoint = f"http://{_client_host(aws_host)}:{aws_port}"
        # Over TLS the API port passes on presigned URLs only when their signature checks out
        # (presigned.py), so this process signs them with a key nobody else knows, not moto's
        # well-known "testing" (with which anyone on the LAN could sign a URL for any object).
        signing_key = secrets.token_urlsafe(32) if tls is not None else "testing"
        os.environ.update(embedded_environment(endpoint, aws_port, signing_key))

        if store is not None:
            self.restored = store.restore()
        self._serve(self.aws_server, "embedded-aws")

        self.template = load_template(self.config.root or find_project_root(), self.config.stack_name)
        # links in the payloads of the workflows' webhook events point at this runtime's API
        own = ({"PublicUrl": f"{self.scheme}://{_client_host(self.config.host)}:{self.config.port}"}
               if self.config.port else {})
        overrides = {**own, **self.config.parameter_overrides}
        deployer = Deployer(self.template, endpoint, _client_factory(endpoint), overrides)
        self.deployment = deployment = deployer.deploy()
        for function in deployment.functions:
            functions.add(function)
        os.environ.update(deployment.environment)
        offline_detector = _register_offline_models(middleware)
        for function in deployment.functions:
            function.load()  # import every handler now (after its environment), before anything invokes one

        from cvat_serverless import bootstrap

        bootstrap.reset()  # settings, services and apps from the deployed environment
        bootstrap.container().schema.ensure()
        if offline_detector:
            # the built-in function, in step with this version's model (registered again at each start)
            from cvat_serverless_tools.models import offline

            bootstrap.container().lambda_functions.register(offline.yolox_nano_function(), replace=True)
        # Executions do not survive a restart here (AWS keeps them): background requests that were
        # running start again (their steps are idempotent), so no request stays "started" forever.
        resumed = bootstrap.container().requests.resume_interrupted()
        if resumed:
            log.info("resumed %d interrupted background request(s): %s", len(resumed), ", ".join(resumed))

        sqs = _client_factory(endpoint)("sqs")
        for mapping in deployment.mappings:
            for index in range(pollers_for(mapping) if mapping.enabled else 0):
                poller = SqsPoller(mapping, functions, sqs, index)
                poller.start()
                self.pollers.append(poller)

        api = ApiGateway(deployment.routes, functions, stage=deployment.stage,
                         binary_media_types=deployment.binary_media_types,
                         frontend_dir=self.template.root / "frontend" / "dist",
                         presigned=PresignedProxy(middleware, endpoint, os.environ["AWS_SECRET_ACCESS_KEY"])
                         if tls is not None else None)
        handler = TlsRequestHandler if tls is not None else RawHeadersRequestHandler
        self.api_server = make_server(self.config.host, self.config.port, api, threaded=True,
                                      request_handler=handler)
        if tls is not None:
            serve_tls(self.api_server, tls)
        self._serve(self.api_server, "embedded-api")

        if store is not None:
            # Whatever the deployer created or changed is saved too.
            self.writer = SnapshotWriter(store, middleware.dirty.take, middleware.dirty.mark, middleware.lock,
                                         self.config.snapshot_interval)
            self.writer.flush(extra={"s3", "dynamodb", "sqs", "events", "states"})
            self.writer.start()
        self._write_runtime_file()
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout=5)
        if self.api_server is not None:
            self.api_server.shutdown()
        if self.writer is not None:
            self.writer.stop()
        if self.aws_server is not None:
            self.aws_server.shutdown()
        (self.data_dir / RUNTIME_FILE).unlink(missing_ok=True)
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    # ------------------------------------------------------------------ facts
    @property
    def api_url(self) -> str:
        assert self.api_server is not None
        return f"{self.scheme}://{_client_host(self.config.host)}:{self.api_server.server_port}"

    @property
    def aws_endpoint(self) -> str:
        return os.environ["AWS_ENDPOINT_URL"]

    def facts(self) -> dict[str, Any]:
        assert self.deployment is not None
        return {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws_endpoint": self.aws_endpoint,
            "region": REGION,
            "stack_name": self.config.stack_name,
            "data_dir": str(self.data_dir),
            "outputs": self.deployment.outputs,
            # the certificate api_url is served with (a client on this machine may trust it as CA)
            "tls_cert": str(self.config.tls_cert.expanduser().resolve()) if self.config.tls_cert else None,
        }

    def _write_runtime_file(self) -> None:
        (self.data_dir / RUNTIME_FILE).write_text(json.dumps(self.facts(), indent=1, default=str))


def _register_offline_models(middleware: AwsMiddleware) -> bool:
    """The offline detector as local SageMaker endpoint ``yolox-nano`` (realtime and asynchronous,
    answering in the media bucket's auto-annotation/ prefix), when its weights are installed. The
    model loads on the first request: starting stays fast."""
    from cvat_serverless_tools.models import offline

    if not offline.weights_installed():
        log.warning("the offline detector (%s) is off: its weights are not installed; run `%s`",
                    offline.YOLOX_NANO_ID, offline.INSTALL_COMMAND)
        return False
    bucket = os.environ["CVAT_MEDIA_BUCKET"]
    middleware.register_model(offline.YOLOX_NANO_ID, offline.LocalEndpoint(),
                              async_output=f"s3://{bucket}/auto-annotation/async-results",
                              async_failure=f"s3://{bucket}/auto-annotation/async-failures")
    return True


def read_runtime_file(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir.expanduser() / RUNTIME_FILE
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text()))


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104


def _client_factory(endpoint: str) -> Any:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106
                                    region_name=REGION)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]

    return client
