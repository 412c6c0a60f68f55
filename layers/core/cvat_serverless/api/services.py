"""What the HTTP edge is given: the services, built once per cold start by the composition root
(``bootstrap.Container`` satisfies this protocol) and handed to the app, which hands them to the
routes with each request. The edge never looks services up itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # Only for typing: a cold start imports a service module when a route first uses it.
    from ..services.agent_functions import AgentFunctionService
    from ..services.analytics import AnalyticsService
    from ..services.annotations import AnnotationService
    from ..services.auth import AccessTokenService, AccountService, SessionService
    from ..services.direct_uploads import DirectUploadService
    from ..services.exports import ExportService
    from ..services.imports import ImportService
    from ..services.issues import CommentService, IssueService
    from ..services.jobs import JobService
    from ..services.labels import LabelService
    from ..services.lambda_functions import LambdaFunctionService
    from ..services.organizations import OrganizationService
    from ..services.projects import ProjectService
    from ..services.requests import RequestService
    from ..services.restores import RestoreService
    from ..services.share import ShareService
    from ..services.task_data import TaskDataService
    from ..services.task_media import TaskMediaService
    from ..services.tasks import TaskService
    from ..services.users import UserService
    from ..services.webhooks import WebhookService


class ApiServices(Protocol):
    @property
    def edge_secret(self) -> str:
        """What the stack's CloudFront sends with /api/* requests (empty: no CloudFront to trust)."""
        ...

    @property
    def organizations(self) -> OrganizationService: ...

    @property
    def projects(self) -> ProjectService: ...

    @property
    def tasks(self) -> TaskService: ...

    @property
    def jobs(self) -> JobService: ...

    @property
    def labels(self) -> LabelService: ...

    @property
    def issues(self) -> IssueService: ...

    @property
    def comments(self) -> CommentService: ...

    @property
    def annotations(self) -> AnnotationService: ...

    @property
    def user_service(self) -> UserService: ...

    @property
    def accounts(self) -> AccountService: ...

    @property
    def sessions(self) -> SessionService: ...

    @property
    def access_tokens(self) -> AccessTokenService: ...

    @property
    def share(self) -> ShareService: ...

    @property
    def task_data(self) -> TaskDataService: ...

    @property
    def task_media(self) -> TaskMediaService: ...

    @property
    def direct_uploads(self) -> DirectUploadService: ...

    @property
    def requests(self) -> RequestService: ...

    @property
    def exports(self) -> ExportService: ...

    @property
    def restores(self) -> RestoreService: ...

    @property
    def imports(self) -> ImportService: ...

    @property
    def analytics(self) -> AnalyticsService: ...

    @property
    def webhooks(self) -> WebhookService: ...

    @property
    def agent_functions(self) -> AgentFunctionService: ...

    @property
    def lambda_functions(self) -> LambdaFunctionService: ...

    @property
    def server_version(self) -> str: ...
