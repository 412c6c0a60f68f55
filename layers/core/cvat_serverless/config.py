"""Settings, read from the environment once.

The environment variable names are the ones template.yaml sets (a contract test checks both
directions), so the same code runs on AWS, on LocalStack and in the embedded runtime, where the
runtime sets the same variables from the same template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache

from .domain.errors import CvatServerlessError


class ConfigurationError(CvatServerlessError):
    """The deployment is missing a setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the handlers read from their environment."""

    table_name: str
    media_bucket: str
    upload_prefix: str
    share_prefix: str
    event_bus_name: str
    task_data_state_machine_arn: str
    export_state_machine_arn: str
    restore_state_machine_arn: str
    import_annotations_state_machine_arn: str
    events_export_state_machine_arn: str
    auto_annotate_state_machine_arn: str
    function_state_secret: str
    stage: str
    server_version: str
    allow_loopback_egress: str
    unit_concurrency: str
    max_request_bytes: str
    webhook_queue_url: str
    public_url: str
    auto_annotate_concurrency: str
    agent_watch_seconds: str
    agent_wait_seconds: str
    self_registration: str
    edge_secret: str

    @property
    def loopback_egress(self) -> bool:
        """Whether remote_files may reach loopback addresses (the embedded runtime's default)."""
        return self.allow_loopback_egress.strip().lower() == "true"

    @property
    def self_registration_open(self) -> bool:
        """Whether anyone may create an account (POST /api/auth/register); only "false" closes it."""
        return self.self_registration.strip().lower() != "false"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        missing: list[str] = []
        for field_name, (var, default) in SETTINGS_ENV.items():
            value = environ.get(var)
            if value is None or value == "":
                if default is None:
                    missing.append(var)
                    continue
                value = default
            values[field_name] = value
        if missing:
            raise ConfigurationError(
                "Missing environment variables: " + ", ".join(sorted(missing))
                + ". They are set by template.yaml; outside Lambda run `cvat-serverless env`."
            )
        return cls(**values)


# The variable names below are part of the contract with template.yaml.
# A default of None means required. Optional ones have a default that is right for every runtime.
SETTINGS_ENV: dict[str, tuple[str, str | None]] = {
    "table_name": ("CVAT_TABLE_NAME", None),
    "media_bucket": ("CVAT_MEDIA_BUCKET", None),
    "upload_prefix": ("CVAT_UPLOAD_PREFIX", "uploads/"),
    "share_prefix": ("CVAT_SHARE_PREFIX", "share/"),
    "event_bus_name": ("CVAT_EVENT_BUS_NAME", None),
    # Only the functions that start task-data executions get it (a Globals entry would make the
    # state machine depend on itself through its own step functions).
    "task_data_state_machine_arn": ("CVAT_TASK_DATA_STATE_MACHINE_ARN", ""),
    "export_state_machine_arn": ("CVAT_EXPORT_STATE_MACHINE_ARN", ""),
    "restore_state_machine_arn": ("CVAT_RESTORE_STATE_MACHINE_ARN", ""),
    "import_annotations_state_machine_arn": ("CVAT_IMPORT_ANNOTATIONS_STATE_MACHINE_ARN", ""),
    "events_export_state_machine_arn": ("CVAT_EVENTS_EXPORT_STATE_MACHINE_ARN", ""),
    "auto_annotate_state_machine_arn": ("CVAT_AUTO_ANNOTATE_STATE_MACHINE_ARN", ""),
    # The key that signs trackers' states between interactive calls (the functions API). Empty: a
    # random key per process, so a state only comes back to the instance that signed it.
    "function_state_secret": ("CVAT_FUNCTION_STATE_SECRET", ""),
    "stage": ("CVAT_STAGE", "dev"),
    "server_version": ("CVAT_SERVER_VERSION", "2.80.0"),
    "allow_loopback_egress": ("CVAT_ALLOW_LOOPBACK_EGRESS", "false"),
    # How many work units of one task run at once (the Map's MaxConcurrency; the Prepare step reads it).
    "unit_concurrency": ("CVAT_UNIT_CONCURRENCY", "40"),
    # The largest request body the API can receive (0: no limit). AWS Lambda: 6 MB.
    "max_request_bytes": ("CVAT_MAX_REQUEST_BYTES", "0"),
    # Webhook delivery jobs (only the webhook functions get it).
    "webhook_queue_url": ("CVAT_WEBHOOK_QUEUE_URL", ""),
    # scheme://host[/stage] of the API as clients reach it: the base of webhook payloads' URLs for
    # events made without a request (Step Functions workers); empty: those URLs are relative.
    "public_url": ("CVAT_PUBLIC_URL", ""),
    # Auto-annotation: chunks of one request sent to the model at once (the workflow's Map).
    "auto_annotate_concurrency": ("CVAT_AUTO_ANNOTATE_CONCURRENCY", "4"),
    # Native functions: how long GET .../watch holds an agent's long poll before answering
    # `retry:` alone, and how long POST /api/functions/{id}/run waits for an agent's answer
    # (both below API Gateway's 29 s integration timeout).
    "agent_watch_seconds": ("CVAT_AGENT_WATCH_SECONDS", "20"),
    "agent_wait_seconds": ("CVAT_AGENT_WAIT_SECONDS", "25"),
    # "false": no self-registration (POST /api/auth/register answers 404, as CVAT without its
    # register route); admins still create users (`cvat-serverless createsuperuser`, the admin API).
    "self_registration": ("CVAT_SELF_REGISTRATION", "true"),
    # The secret the stack's CloudFront sends with /api/* requests: only such a request's viewer
    # address (X-Cvat-Viewer-Ip) replaces API Gateway's source IP, an edge's (api/http.py::from_edge).
    "edge_secret": ("CVAT_EDGE_SECRET", ""),
}

assert {f.name for f in fields(Settings)} == set(SETTINGS_ENV), "Settings and SETTINGS_ENV differ"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import time)."""
    return Settings.from_env()
