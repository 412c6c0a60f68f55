"""Composition root: adapters and services built from Settings, once per process, on first use."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from .config import Settings, get_settings

if TYPE_CHECKING:
    from .services.ingest import IngestService
    from .services.superuser import SuperuserService
    from .services.task_data import TaskDataService


class Container:
    """Everything a handler needs, wired for one set of Settings."""

    def __init__(self, settings: Settings) -> None:
        from .adapters.aws.dynamo import DynamoIdGenerator, DynamoSchema, DynamoUserRepository
        from .adapters.aws.events import EventBridgePublisher
        from .adapters.aws.s3 import S3BlobStore
        from .adapters.aws.stepfunctions import StepFunctionsWorkflowStarter
        from .adapters.clock import SystemClock
        from .adapters.passwords import Argon2PasswordHasher

        self.settings = settings
        self.clock = SystemClock()
        self.ids = DynamoIdGenerator(settings.table_name)
        self.schema = DynamoSchema(settings.table_name)
        self.users = DynamoUserRepository(settings.table_name)
        self.blobs = S3BlobStore(settings.media_bucket)
        self.events = EventBridgePublisher(settings.event_bus_name)
        self.workflows = StepFunctionsWorkflowStarter(
            {"task-data": settings.task_data_state_machine_arn}
        )
        self.passwords = Argon2PasswordHasher()

    @property
    def superusers(self) -> SuperuserService:
        from .services.superuser import SuperuserService

        return SuperuserService(self.users, self.ids, self.passwords, self.clock)

    @property
    def ingest(self) -> IngestService:
        from .services.ingest import IngestService

        return IngestService(self.workflows, self.settings.upload_prefix)

    @property
    def task_data(self) -> TaskDataService:
        from .services.task_data import TaskDataService

        return TaskDataService(self.blobs, self.events, self.clock)


@cache
def container() -> Container:
    return Container(get_settings())
