"""The DynamoDB repositories for every port, bound to one table (the composition root calls
these two functions).

Every key prefix of the single table (schema version 2), so that new item kinds do not collide
(details and the reasons in each module's docstring; <n> ids, sort keys of ids zero-padded to 12
digits, "-" for no organization):

table pk / sk                                             written by
  USER#<id> / PROFILE, ALL#USERS / <id>,                  dynamo.DynamoUserRepository
  USERNAME#<lower> / UNIQUE, EMAIL#<lower> / UNIQUE
  COUNTER#<kind> / COUNTER, META / SCHEMA                 dynamo.DynamoIdGenerator, DynamoSchema
  ORG#<id> / ORG, ALL#ORGS / <id>,                        dynamo_orgs (organizations)
  ORGSLUG#<slug> / UNIQUE
  MEMBERSHIP#<id> / MEMBERSHIP, ORG#<o>#MEMBERSHIPS / <id>, USER#<u>#MEMBERSHIPS / ORG#<o>
  INVITATION#<key> / INVITATION, ORG#<o>#INVITATIONS / <key>, USER#<u>#INVITATIONS / <key>
  PROJECT#<id> / PROJECT, ALL#PROJECTS / <id>,            dynamo_projects
  ORG#<o|->#PROJECTS / <id>, USER#<u>#PROJECTS / <id>
  TASK#<id> / TASK, ALL#TASKS / <id>, ORG#<o|->#TASKS / <id>,
  PROJECT#<p>#TASKS / <id>, USER#<u>#TASKS / <id>
  LABEL#<id> / LABEL, ALL#LABELS / <id>, TASK#<t>#LABELS / <id>, PROJECT#<p>#LABELS / <id>,
  LABELNAME#T<t|->#P<p|->#<parent|->#<name> / UNIQUE
  SEGMENT#<id> / SEGMENT, TASK#<t>#SEGMENTS / <id>        dynamo_jobs
  JOB#<id> / JOB, ALL#JOBS / <id>, TASK#<t>#JOBS / <id>, ORG#<o|->#JOBS / <id>, USER#<u>#JOBS / <id>
  ISSUE#<id> / ISSUE, ALL#ISSUES / <id>, JOB#<j>#ISSUES / <id>,   dynamo_issues
  TASK#<t>#ISSUES / <id>, USER#<u>#ISSUES / <id>,
  COMMENT#<id> / COMMENT, ALL#COMMENTS / <id>, ISSUE#<i>#COMMENTS / <id>,
  TASK#<t>#COMMENTS / <id>, USER#<owner>#COMMENTS / <id>
  TOKEN#<id> / TOKEN, USER#<u>#TOKENS / <id>,             dynamo_auth
  TOKENDIGEST#<sha256> / UNIQUE
  SESSION#<sha256> / SESSION, USER#<u>#SESSIONS / <sha256>, LOGINFAIL#<key> / <utc time>#<random>
  REQUEST#<rq id> / REQUEST, ALL#REQUESTS / <order>,      dynamo_task_data (<order>: the creation
  USER#<owner>#REQUESTS / <order>,                        date in UTC microseconds#<rq id>; the items
  TASK#<t>#REQUESTS / <order>                             of an ended request expire 7 days after its
                                                          result does)
  DATA#<id> / DATA, TASK#<t>#DATA / DATA (one per task)
  TUS#<file id> / TUS, TASK#<t>#TUS / <file id>
  DROP#<sha256 of bucket, key, ETag> / DROP               dynamo_drops (drop-folder markers; expire
                                                          30 days after their claim)
  JOB#<j>#ANNOTATIONS / HEAD, JOB#<j>#ANNOTATIONS / <version>   annotations (the head of a job's
  COUNTER#annotation / COUNTER                            annotations and one item per save; the
                                                          snapshots are S3 object versions)
The USER#<u>#<KIND>S copies exist for the owner and the assignee (one copy when they are the same
user; jobs: the assignee only). ``ALL#<KIND>S`` are one partition per kind, for admins' lists.

Nothing on a request path scans the table or reads an index: lookups are GetItem/BatchGetItem and
lists are strongly consistent Queries of one base-table partition (several partitions: one Query
each, concurrently). gsi1 (gsi1pk/gsi1sk) was the list index of schema version 1; nothing writes or
reads it any more (dynamo_migrations moves a version-1 table forward without it).
"""

from __future__ import annotations

from ...ports import AuthRepositories, Repositories, UserRepository
from .dynamo_auth import DynamoAccessTokenRepository, DynamoLoginAttemptRepository, DynamoSessionRepository
from .dynamo_issues import DynamoCommentRepository, DynamoIssueRepository
from .dynamo_jobs import DynamoJobRepository, DynamoSegmentRepository
from .dynamo_orgs import DynamoInvitationRepository, DynamoMembershipRepository, DynamoOrganizationRepository
from .dynamo_projects import DynamoLabelRepository, DynamoProjectRepository, DynamoTaskRepository
from .dynamo_task_data import DynamoRequestRepository, DynamoTaskDataRepository, DynamoTusUploadRepository


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
        requests=DynamoRequestRepository(table_name),
        task_data=DynamoTaskDataRepository(table_name),
        tus_uploads=DynamoTusUploadRepository(table_name),
        issues=DynamoIssueRepository(table_name),
        comments=DynamoCommentRepository(table_name),
    )


def dynamo_auth_repositories(table_name: str) -> AuthRepositories:
    """Access tokens, sessions and failed logins on ``table_name``."""
    return AuthRepositories(
        access_tokens=DynamoAccessTokenRepository(table_name),
        sessions=DynamoSessionRepository(table_name),
        login_attempts=DynamoLoginAttemptRepository(table_name),
    )
