"""The composition root wired to test adapters: the services exactly as production wires them
(bootstrap.Container), over the repositories of one backend (the in-memory fakes by default) with
a fixed clock, recorded events and a fast password hasher. Unit, integration and functional tests
share it, so a wiring change cannot pass in one and break another."""

from __future__ import annotations

from cvat_serverless import bootstrap
from cvat_serverless.adapters import memory as mem
from cvat_serverless.adapters import memory_webhooks as mem_webhooks
from cvat_serverless.adapters.memory_functions import InMemoryFunctionRepository
from cvat_serverless.config import Settings
from cvat_serverless.ports import AuthRepositories, DropMarkerRepository, IdGenerator, Repositories

TEST_SETTINGS = {"CVAT_TABLE_NAME": "t", "CVAT_MEDIA_BUCKET": "b", "CVAT_EVENT_BUS_NAME": "e"}


def container_with(repos: Repositories, auth: AuthRepositories, ids: IdGenerator, *,
                   drop_markers: DropMarkerRepository | None = None) -> bootstrap.Container:
    return bootstrap.Container.with_adapters(
        Settings.from_env(TEST_SETTINGS),
        repos=repos,
        users=repos.users,
        auth_repos=auth,
        ids=ids,
        clock=mem.FixedClock(),
        events=mem.InMemoryEventPublisher(),
        passwords=mem.InMemoryPasswordHasher(),
        blobs=mem.InMemoryBlobStore(),
        workflows=mem.InMemoryWorkflowStarter(),
        drop_markers=drop_markers if drop_markers is not None else mem.InMemoryDropMarkerRepository(),
        annotation_store=mem.InMemoryAnnotationStore(),
        webhook_repos=mem_webhooks.memory_webhook_repositories(),
        webhook_sender=mem_webhooks.InMemoryWebhookSender(),
        webhook_queue=mem_webhooks.InMemoryWebhookQueue(),
        function_repository=InMemoryFunctionRepository(),
    )


def memory_container() -> bootstrap.Container:
    return container_with(mem.memory_repositories(), mem.memory_auth_repositories(), mem.InMemoryIdGenerator())
