"""Composition root: adapters, services and the API apps, built from Settings once per process
(a Lambda cold start), on first use.

``Container`` holds the ports (repositories, blob store, clock, ...) and builds the services from
them; it is what the API apps are given (it satisfies ``api.services.ApiServices``). Production
wiring comes from ``container()`` (DynamoDB, S3, Step Functions, EventBridge); tests build a
Container with in-memory adapters through ``Container.with_adapters``. ``core_api()`` and its
siblings are the apps the API functions serve. Nothing here runs at import time: every adapter
and service module is imported on first use.
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from .config import Settings, get_settings

if TYPE_CHECKING:
    from .api.cvat_api import CvatApi
    from .ports import (
        AgentFunctionRepositories,
        AnnotationStore,
        AuthRepositories,
        AutoAnnotationLedger,
        BlobStore,
        Clock,
        DropMarkerRepository,
        EventPublisher,
        FunctionRepository,
        IdGenerator,
        InferenceClient,
        PasswordHasher,
        RemoteFetcher,
        Repositories,
        TaskCallbacks,
        UserRepository,
        WebhookQueue,
        WebhookRepositories,
        WebhookSender,
        WorkflowStarter,
    )
    from .services.agent_functions import AgentFunctionService
    from .services.analytics import AnalyticsService
    from .services.annotations import AnnotationService
    from .services.auth import AccessTokenService, AccountService, PasswordCheckService, SessionService
    from .services.auto_annotation import AsyncResultRouter, AutoAnnotationWorker
    from .services.direct_uploads import DirectUploadService
    from .services.exports import ExportService
    from .services.import_worker import AnnotationImportWorker
    from .services.imports import ImportService
    from .services.ingest import IngestService
    from .services.issues import CommentService, IssueService
    from .services.jobs import JobService
    from .services.labels import LabelService
    from .services.lambda_functions import LambdaFunctionService
    from .services.organizations import OrganizationService
    from .services.pipeline import TaskDataPipeline
    from .services.projects import ProjectService
    from .services.requests import RequestService
    from .services.restores import RestoreService
    from .services.share import ShareService
    from .services.superuser import SuperuserService
    from .services.task_data import TaskDataService
    from .services.task_media import TaskMediaService
    from .services.tasks import TaskService
    from .services.uploads import UploadService
    from .services.users import UserService
    from .services.webhooks import WebhookDispatcher, WebhookService


class Container:
    """Everything a handler needs, wired for one set of Settings."""

    def __init__(self, settings: Settings, **adapters: Any) -> None:
        self.settings = settings
        # Adapters given here win over the production ones (tests pass in-memory fakes).
        self.__dict__.update(adapters)

    @classmethod
    def with_adapters(cls, settings: Settings, **adapters: Any) -> Container:
        return cls(settings, **adapters)

    @property
    def edge_secret(self) -> str:
        return self.settings.edge_secret

    # ------------------------------------------------------------------ adapters (production)
    @cached_property
    def clock(self) -> Clock:
        from .adapters.clock import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from .adapters.aws.dynamo import DynamoIdGenerator

        return DynamoIdGenerator(self.settings.table_name)

    @cached_property
    def schema(self) -> Any:
        from .adapters.aws.dynamo import DynamoSchema

        return DynamoSchema(self.settings.table_name)

    @cached_property
    def repos(self) -> Repositories:
        from .adapters.aws.repositories import dynamo_repositories

        return dynamo_repositories(self.settings.table_name, users=self.users)

    @cached_property
    def auth_repos(self) -> AuthRepositories:
        from .adapters.aws.repositories import dynamo_auth_repositories

        return dynamo_auth_repositories(self.settings.table_name)

    @cached_property
    def users(self) -> UserRepository:
        if "repos" in self.__dict__:  # injected repositories bring their own users
            return self.repos.users
        from .adapters.aws.dynamo import DynamoUserRepository

        return DynamoUserRepository(self.settings.table_name)

    @cached_property
    def blobs(self) -> BlobStore:
        from .adapters.aws.s3 import S3BlobStore

        return S3BlobStore(self.settings.media_bucket)

    @cached_property
    def events(self) -> EventPublisher:
        from .adapters.aws.events import EventBridgePublisher

        return EventBridgePublisher(self.settings.event_bus_name)

    @cached_property
    def workflows(self) -> WorkflowStarter:
        from .adapters.aws.stepfunctions import StepFunctionsWorkflowStarter

        return StepFunctionsWorkflowStarter({
            "task-data": self.settings.task_data_state_machine_arn,
            "dataset-export": self.settings.export_state_machine_arn,
            "import-annotations": self.settings.import_annotations_state_machine_arn,
            "backup-restore": self.settings.restore_state_machine_arn,
            "events-export": self.settings.events_export_state_machine_arn,
            "auto-annotate": self.settings.auto_annotate_state_machine_arn,
        })

    @cached_property
    def annotation_store(self) -> AnnotationStore:
        from .adapters.aws.annotations import DynamoS3AnnotationStore

        return DynamoS3AnnotationStore(self.settings.table_name, self.settings.media_bucket)

    @cached_property
    def passwords(self) -> PasswordHasher:
        from .adapters.passwords import Argon2PasswordHasher

        return Argon2PasswordHasher()

    # ------------------------------------------------------------------ services
    @cached_property
    def superusers(self) -> SuperuserService:
        from .services.superuser import SuperuserService

        return SuperuserService(self.users, self.ids, self.passwords, self.clock)

    @cached_property
    def organizations(self) -> OrganizationService:
        from .services.organizations import OrganizationService

        return OrganizationService(self.repos, self.ids, self.clock, self.events,
                                   projects=self.projects, tasks=self.tasks)

    @cached_property
    def labels(self) -> LabelService:
        from .services.labels import LabelService

        return LabelService(self.repos, self.ids, self.clock, self.events)

    @cached_property
    def projects(self) -> ProjectService:
        from .services.projects import ProjectService

        return ProjectService(self.repos, self.ids, self.clock, self.events, self.labels,
                              annotations=self.annotation_store)

    @cached_property
    def tasks(self) -> TaskService:
        from .services.tasks import TaskService

        return TaskService(self.repos, self.ids, self.clock, self.events, self.labels,
                           annotations=self.annotation_store)

    @cached_property
    def jobs(self) -> JobService:
        from .services.jobs import JobService

        return JobService(self.repos, self.ids, self.clock, self.events)

    @cached_property
    def annotations(self) -> AnnotationService:
        from .services.annotations import AnnotationService

        return AnnotationService(self.repos, self.ids, self.clock, self.events, self.annotation_store,
                                 blobs=self.blobs)

    @cached_property
    def issues(self) -> IssueService:
        from .services.issues import IssueService

        return IssueService(self.repos, self.ids, self.clock, self.events)

    @cached_property
    def comments(self) -> CommentService:
        from .services.issues import CommentService

        return CommentService(self.repos, self.ids, self.clock, self.events)

    @cached_property
    def user_service(self) -> UserService:
        from .services.users import UserService

        return UserService(self.repos, self.ids, self.clock, self.events, self.auth_repos.sessions)

    @cached_property
    def access_tokens(self) -> AccessTokenService:
        from .services.auth import AccessTokenService

        return AccessTokenService(self.auth_repos.access_tokens, self.users, self.ids, self.clock)

    @cached_property
    def password_checks(self) -> PasswordCheckService:
        from .services.auth import PasswordCheckService

        return PasswordCheckService(self.users, self.passwords, self.auth_repos.login_attempts, self.clock)

    @cached_property
    def sessions(self) -> SessionService:
        from .services.auth import SessionService

        return SessionService(self.auth_repos.sessions, self.users, self.passwords, self.password_checks, self.clock)

    @cached_property
    def accounts(self) -> AccountService:
        from .services.auth import AccountService

        return AccountService(self.users, self.ids, self.passwords, self.clock, checks=self.password_checks,
                              sessions=self.sessions, events=self.events,
                              self_registration=self.settings.self_registration_open)

    @property
    def server_version(self) -> str:
        return self.settings.server_version

    @cached_property
    def drop_markers(self) -> DropMarkerRepository:
        from .adapters.aws.dynamo_drops import DynamoDropMarkerRepository

        return DynamoDropMarkerRepository(self.settings.table_name)

    @cached_property
    def ingest(self) -> IngestService:
        from .services.ingest import IngestService

        return IngestService(self.repos, self.drop_markers, self.blobs, self.ids, self.clock,
                             organizations=self.organizations, tasks=self.tasks, task_data=self.task_data,
                             upload_prefix=self.settings.upload_prefix)

    @cached_property
    def direct_uploads(self) -> DirectUploadService:
        from .services.direct_uploads import DirectUploadService

        return DirectUploadService(self.blobs, self.task_data)

    @cached_property
    def share(self) -> ShareService:
        from .services.share import ShareService

        return ShareService(self.blobs, self.settings.share_prefix)

    @cached_property
    def remote(self) -> RemoteFetcher:
        from .adapters.egress import HttpRemoteFetcher

        return HttpRemoteFetcher(allow_loopback=self.settings.loopback_egress)

    @cached_property
    def requests(self) -> RequestService:
        from .services.requests import RequestService

        return RequestService(self.repos.requests, self.users, self.workflows, self.clock)

    @cached_property
    def task_data(self) -> TaskDataService:
        from .services.task_data import TaskDataService

        return TaskDataService(self.repos, self.blobs, self.workflows, self.ids, self.clock,
                               max_request_bytes=int(self.settings.max_request_bytes or 0))

    @cached_property
    def task_media(self) -> TaskMediaService:
        from .media.chunk_frames import PyAvFrameDecoder  # light: PyAV loads on the first video frame
        from .services.task_media import TaskMediaService

        return TaskMediaService(self.repos, self.blobs, self.clock, PyAvFrameDecoder())

    @cached_property
    def exports(self) -> ExportService:
        from .services.exports import ExportService

        return ExportService(self.repos, self.blobs, self.workflows, self.clock, store=self.annotation_store,
                             media=self.task_media, requests=self.requests, events=self.events)

    @cached_property
    def analytics(self) -> AnalyticsService:
        from .services.analytics import AnalyticsService

        return AnalyticsService(self.blobs, self.workflows, self.clock, users=self.users,
                                organizations=self.repos.organizations, requests=self.repos.requests,
                                request_service=self.requests)

    @cached_property
    def uploads(self) -> UploadService:
        from .services.uploads import UploadService

        return UploadService(self.blobs, self.clock, max_request_bytes=int(self.settings.max_request_bytes or 0))

    @cached_property
    def restores(self) -> RestoreService:
        from .services.restores import RestoreService

        return RestoreService(self.repos, self.ids, self.clock, self.events, blobs=self.blobs, uploads=self.uploads,
                              workflows=self.workflows, requests=self.requests, organizations=self.organizations,
                              projects=self.projects, tasks=self.tasks, task_data=self.task_data,
                              annotations=self.annotations)

    @cached_property
    def imports(self) -> ImportService:
        from .services.imports import ImportService

        return ImportService(self.repos, self.uploads, self.workflows, self.clock)

    @cached_property
    def import_worker(self) -> AnnotationImportWorker:
        from .services.import_worker import AnnotationImportWorker

        return AnnotationImportWorker(self.repos, self.ids, self.clock, self.events, blobs=self.blobs,
                                      uploads=self.uploads, annotations=self.annotations, requests=self.requests,
                                      actor_for=self.organizations.actor_for)

    @cached_property
    def pipeline(self) -> TaskDataPipeline:
        from .services.pipeline import TaskDataPipeline

        return TaskDataPipeline(self.repos, self.blobs, self.tasks, self.requests, remote=self.remote,
                                clock=self.clock, share_prefix=self.settings.share_prefix,
                                unit_concurrency=int(self.settings.unit_concurrency or 40))

    # ------------------------------------------------------------------ webhooks
    @cached_property
    def webhook_repos(self) -> WebhookRepositories:
        from .adapters.aws.dynamo_webhooks import dynamo_webhook_repositories

        return dynamo_webhook_repositories(self.settings.table_name)

    @cached_property
    def webhook_sender(self) -> WebhookSender:
        from .adapters.webhook_http import HttpWebhookSender

        return HttpWebhookSender(allow_loopback=self.settings.loopback_egress)

    @cached_property
    def webhook_queue(self) -> WebhookQueue:
        from .adapters.aws.sqs import SqsWebhookQueue

        return SqsWebhookQueue(self.settings.webhook_queue_url)

    @cached_property
    def webhook_dispatcher(self) -> WebhookDispatcher:
        from .api.webhook_payloads import PresenterWebhookPayloadRenderer
        from .services.webhooks import WebhookDispatcher

        return WebhookDispatcher(self.repos, self.webhook_repos, self.ids, self.clock, sender=self.webhook_sender,
                                 queue=self.webhook_queue,
                                 renderer=PresenterWebhookPayloadRenderer(self.repos, self.clock),
                                 public_url=self.settings.public_url)

    @cached_property
    def webhooks(self) -> WebhookService:
        from .services.webhooks import WebhookService

        return WebhookService(self.repos, self.webhook_repos, self.ids, self.clock, dispatcher=self.webhook_dispatcher)

    # ------------------------------------------------------------------ native functions (agents)
    @cached_property
    def agent_function_repos(self) -> AgentFunctionRepositories:
        from .adapters.aws.dynamo_agent_functions import dynamo_agent_function_repositories

        return dynamo_agent_function_repositories(self.settings.table_name)

    @cached_property
    def agent_functions(self) -> AgentFunctionService:
        from .services.agent_functions import AgentFunctionService

        return AgentFunctionService(self.repos, self.agent_function_repos, self.ids, self.clock,
                                    annotations=self.annotations, actor_for=self.organizations.actor_for,
                                    wait_seconds=float(self.settings.agent_wait_seconds),
                                    watch_seconds=float(self.settings.agent_watch_seconds))

    # ------------------------------------------------------------------ lambda functions (models)
    @cached_property
    def function_repository(self) -> FunctionRepository:
        from .adapters.aws.dynamo_functions import DynamoFunctionRepository

        return DynamoFunctionRepository(self.settings.table_name)

    @cached_property
    def lambda_functions(self) -> LambdaFunctionService:
        import secrets

        from .services.lambda_functions import LambdaFunctionService

        # No secret set: a random key per process (a tracker's state then only comes back to the
        # instance that signed it); set CVAT_FUNCTION_STATE_SECRET to share one.
        key = self.settings.function_state_secret.encode() or secrets.token_bytes(32)
        return LambdaFunctionService(self.repos, self.function_repository, self.workflows, self.clock,
                                     requests=self.requests, media=self.task_media, inference=self.inference,
                                     state_key=key)

    # ------------------------------------------------------------------ auto-annotation (models)
    @cached_property
    def inference(self) -> InferenceClient:
        from .adapters.aws.sagemaker import SageMakerInferenceClient

        return SageMakerInferenceClient()

    @cached_property
    def auto_annotation_ledger(self) -> AutoAnnotationLedger:
        from .adapters.aws.dynamo_auto_annotation import DynamoAutoAnnotationLedger

        return DynamoAutoAnnotationLedger(self.settings.table_name)

    @cached_property
    def task_callbacks(self) -> TaskCallbacks:
        from .adapters.aws.stepfunctions import StepFunctionsWorkflowStarter

        return StepFunctionsWorkflowStarter({})  # SendTaskSuccess/Failure need no state machine ARN

    @cached_property
    def auto_annotation(self) -> AutoAnnotationWorker:
        from .services.auto_annotation import AutoAnnotationWorker

        return AutoAnnotationWorker(self.repos, self.ids, self.clock, self.events, blobs=self.blobs,
                                    media=self.task_media, annotations=self.annotations, requests=self.requests,
                                    functions=self.function_repository, inference=self.inference,
                                    ledger=self.auto_annotation_ledger, callbacks=self.task_callbacks,
                                    actor_for=self.organizations.actor_for, bucket=self.settings.media_bucket,
                                    concurrency=int(self.settings.auto_annotate_concurrency or 4))

    @cached_property
    def auto_annotation_results(self) -> AsyncResultRouter:
        from .services.auto_annotation import AsyncResultRouter

        return AsyncResultRouter(self.blobs, self.auto_annotation_ledger, self.task_callbacks)


@cache
def container() -> Container:
    return Container(get_settings())


# --- the API functions' apps: one per function, built on its first request -----------------------


@cache
def core_api() -> CvatApi:
    from .api import function_apps

    return function_apps.core_api(container())


@cache
def annotations_api() -> CvatApi:
    from .api import function_apps

    return function_apps.annotations_api(container())


@cache
def webhooks_api() -> CvatApi:
    from .api import function_apps

    return function_apps.webhooks_api(container())


@cache
def functions_api() -> CvatApi:
    from .api import function_apps

    return function_apps.functions_api(container())


@cache
def media_api() -> CvatApi:
    from .api import function_apps

    return function_apps.media_api(container())


_BUILT = (get_settings, container, core_api, annotations_api, webhooks_api, functions_api, media_api)


def reset() -> None:
    """Forget the settings, the container and the apps built from them: the next use builds
    them again from the environment (tests; the embedded runtime once it has deployed)."""
    for built in _BUILT:
        built.cache_clear()
