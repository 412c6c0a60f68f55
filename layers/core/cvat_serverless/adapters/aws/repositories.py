"""The DynamoDB repositories for every port, bound to one table (the composition root calls
these two functions; see each module for its item layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...ports import UserRepository
from ...services.common import Repositories
from .dynamo_jobs import DynamoJobRepository, DynamoSegmentRepository
from .dynamo_orgs import DynamoInvitationRepository, DynamoMembershipRepository, DynamoOrganizationRepository
from .dynamo_projects import DynamoLabelRepository, DynamoProjectRepository, DynamoTaskRepository

if TYPE_CHECKING:
    from ...bootstrap import AuthRepositories


def dynamo_repositories(table_name: str, *, users: UserRepository) -> Repositories:
    """The core repositories on ``table_name``; ``users`` is shared with the auth services."""
    return Repositories(
        users=users,
        organizations=DynamoOrganizationRepository(table_name),
        memberships=DynamoMembershipRepository(table_name),
        invitations=DynamoInvitationRepository(table_name),
        projects=DynamoProjectRepository(table_name),
        tasks=DynamoTaskRepository(table_name),
        segments=DynamoSegmentRepository(table_name),
        jobs=DynamoJobRepository(table_name),
        labels=DynamoLabelRepository(table_name),
    )


def dynamo_auth_repositories(table_name: str) -> AuthRepositories:
    """Access tokens, sessions and failed logins on ``table_name``."""
    from ...bootstrap import AuthRepositories  # bootstrap imports this module lazily: no cycle at import
    from .dynamo_auth import (
        DynamoAccessTokenRepository,
        DynamoLoginAttemptRepository,
        DynamoSessionRepository,
    )

    return AuthRepositories(
        access_tokens=DynamoAccessTokenRepository(table_name),
        sessions=DynamoSessionRepository(table_name),
        login_attempts=DynamoLoginAttemptRepository(table_name),
    )
