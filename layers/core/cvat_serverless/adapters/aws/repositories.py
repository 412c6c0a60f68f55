"""The DynamoDB repositories for every port, bound to one table (the composition root calls
these two functions).

Every key prefix of the single table, so that new item kinds do not collide (details and the
reasons in each module's docstring; <n> ids, "-" for no organization):

table pk / sk                                          written by
  USER#<id> / PROFILE, USERNAME#<lower> / UNIQUE,      dynamo.DynamoUserRepository
  EMAIL#<lower> / UNIQUE
  COUNTER#<kind> / COUNTER, META / SCHEMA              dynamo.DynamoIdGenerator, DynamoSchema
  ORG#<id> / ORG, ORGSLUG#<slug> / UNIQUE              dynamo_orgs (organizations)
  MEMBERSHIP#<id> / MEMBERSHIP, USER#<u>#MEMBERSHIPS / ORG#<o>
  INVITATION#<key> / INVITATION, USER#<u>#INVITATIONS / <key>
  PROJECT#<id> / PROJECT, ORG#<o|->#PROJECTS / <id>    dynamo_projects
  TASK#<id> / TASK, ORG#<o|->#TASKS / <id>, PROJECT#<p>#TASKS / <id>
  LABEL#<id> / LABEL, TASK#<t>#LABELS / <id>, PROJECT#<p>#LABELS / <id>,
  LABELNAME#T<t|->#P<p|->#<parent|->#<name> / UNIQUE
  SEGMENT#<id> / SEGMENT, TASK#<t>#SEGMENTS / <id>     dynamo_jobs
  JOB#<id> / JOB, TASK#<t>#JOBS / <id>
  TOKEN#<id> / TOKEN, TOKENDIGEST#<sha256> / UNIQUE    dynamo_auth
  SESSION#<sha256> / SESSION, USER#<u>#SESSIONS / <sha256>, LOGINFAIL#<key> / <utc time>#<random>
gsi1pk (gsi1sk: the zero-padded id, or the invitation key)
  USERS, ORGS, PROJECTS, TASKS, JOBS                   the "all" lists (one partition per kind)
  ORG#<o>#MEMBERSHIPS, ORG#<o>#INVITATIONS, ORG#<o|->#JOBS, USER#<u>#TOKENS
Nothing on a request path scans the table: lookups are GetItem, lists are Query on pk (strongly
consistent) or gsi1 (eventually consistent).
"""

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
