"""CVAT's access rules as a data table, its evaluation, and list visibility.

Learned from CVAT's OPA policies (``cvat/apps/*/rules/*.rego`` and their ``tests/configs/*.csv``
tables); written here as rows of (resource, scopes, context, relation, privilege, membership):

- *context*: ``sandbox`` when the object lives in no organization (personal workspace),
  ``organization`` when it does. For an existing object the context is always the object's own
  organization (CVAT derives it from the object, not from the request's X-Organization), so a
  member's role in *that* organization counts. For ``create``/``list`` it is the request's.
- *relation*: what the user is to the object (owner, assignee, project owner, ...); empty means
  no relation is needed.
- *privilege*: the lowest system group that passes (admin > business > user > worker); None
  means no group is needed at all.
- *membership*: the lowest organization role that passes (owner > maintainer > supervisor >
  worker); None means membership is not checked.
- *strict*: CVAT's crowdsourcing rows: exactly the ``worker`` group and *not* a member.
- *limit*: an extra condition on the object (e.g. an invitation's role).

System admins pass every check, as in CVAT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import NotFoundError, PermissionDeniedError
from .organizations import OrgRole, role_at_least
from .users import SystemRole, User


class Resource(StrEnum):
    ORGANIZATION = "organization"
    MEMBERSHIP = "membership"
    INVITATION = "invitation"
    PROJECT = "project"
    TASK = "task"
    JOB = "job"
    LABEL = "label"
    USER = "user"
    ISSUE = "issue"
    COMMENT = "comment"


class Context(StrEnum):
    SANDBOX = "sandbox"
    ORGANIZATION = "organization"
    ANY = "any"


class Rel(StrEnum):
    """What the acting user is to the object."""

    OWNER = "owner"
    ASSIGNEE = "assignee"
    PROJECT_OWNER = "project:owner"
    PROJECT_ASSIGNEE = "project:assignee"
    TASK_OWNER = "task:owner"
    TASK_ASSIGNEE = "task:assignee"
    JOB_ASSIGNEE = "job:assignee"
    ISSUE_OWNER = "issue:owner"
    ISSUE_ASSIGNEE = "issue:assignee"
    SELF = "self"  # a membership or user object that is the user's own
    INVITEE = "invitee"
    MEMBER = "member"  # a member of the organization object itself
    ORG_MAINTAINER = "org:maintainer"  # maintainer of the organization object itself


_PRIVILEGE_ORDER = {SystemRole.ADMIN: 0, SystemRole.BUSINESS: 50, SystemRole.USER: 75, SystemRole.WORKER: 100}


def privilege_at_least(privilege: SystemRole | None, required: SystemRole) -> bool:
    return privilege is not None and _PRIVILEGE_ORDER[privilege] <= _PRIVILEGE_ORDER[required]


def user_privilege(user: User) -> SystemRole | None:
    """A user's system privilege: the highest of their groups (superusers are admins)."""
    if user.is_superuser:
        return SystemRole.ADMIN
    groups = [SystemRole(g) for g in user.groups]
    return min(groups, key=lambda g: _PRIVILEGE_ORDER[g]) if groups else None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the user, their system privilege and their active organization roles."""

    user_id: int
    privilege: SystemRole | None
    roles: Mapping[int, OrgRole] = field(default_factory=dict)  # organization id -> role

    @property
    def is_admin(self) -> bool:
        return self.privilege == SystemRole.ADMIN

    def role_in(self, organization_id: int | None) -> OrgRole | None:
        return None if organization_id is None else self.roles.get(organization_id)

    @classmethod
    def of(cls, user: User, roles: Mapping[int, OrgRole] | None = None) -> Actor:
        return cls(user.id, user_privilege(user), dict(roles or {}))


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The facts about one object that the rules look at."""

    kind: Resource
    organization_id: int | None = None
    owner_id: int | None = None
    assignee_id: int | None = None
    project_owner_id: int | None = None
    project_assignee_id: int | None = None
    task_owner_id: int | None = None
    task_assignee_id: int | None = None
    job_assignee_id: int | None = None  # issues and comments: their job's assignee
    issue_owner_id: int | None = None  # comments: their issue's owner and assignee
    issue_assignee_id: int | None = None
    user_id: int | None = None  # memberships/users: whose; invitations: the invitee
    role: OrgRole | None = None  # memberships/invitations: the role held or offered
    organization_owner_id: int | None = None  # organizations: the owner

    def relations(self, actor: Actor) -> frozenset[Rel]:
        uid = actor.user_id
        rels: set[Rel] = set()
        pairs = (
            (Rel.OWNER, self.owner_id),
            (Rel.ASSIGNEE, self.assignee_id),
            (Rel.PROJECT_OWNER, self.project_owner_id),
            (Rel.PROJECT_ASSIGNEE, self.project_assignee_id),
            (Rel.TASK_OWNER, self.task_owner_id),
            (Rel.TASK_ASSIGNEE, self.task_assignee_id),
            (Rel.JOB_ASSIGNEE, self.job_assignee_id),
            (Rel.ISSUE_OWNER, self.issue_owner_id),
            (Rel.ISSUE_ASSIGNEE, self.issue_assignee_id),
        )
        rels.update(rel for rel, who in pairs if who is not None and who == uid)
        if self.kind == Resource.INVITATION and self.user_id == uid:
            rels.add(Rel.INVITEE)
        if self.kind in (Resource.MEMBERSHIP, Resource.USER) and self.user_id == uid:
            rels.add(Rel.SELF)
        if self.kind == Resource.ORGANIZATION:
            role = actor.role_in(self.organization_id)
            if role is not None or self.organization_owner_id == uid:
                rels.add(Rel.MEMBER)
            if role in (OrgRole.MAINTAINER, OrgRole.OWNER) or self.organization_owner_id == uid:
                rels.add(Rel.ORG_MAINTAINER)
        return frozenset(rels)


Limit = Callable[[ResourceRef], bool]


def _role_not_owner(r: ResourceRef) -> bool:
    return r.role != OrgRole.OWNER


def _role_below_maintainer(r: ResourceRef) -> bool:
    return r.role not in (OrgRole.OWNER, OrgRole.MAINTAINER)


@dataclass(frozen=True, slots=True)
class Rule:
    resource: Resource
    scopes: frozenset[str]
    context: Context
    relations: frozenset[Rel] = frozenset()  # any one of them; empty: none needed
    privilege: SystemRole | None = None
    membership: OrgRole | None = None
    strict: bool = False
    limit: Limit | None = None


def _rules(  # noqa: PLR0917 - one table row per call reads best positionally
    resource: Resource,
    scopes: str,
    context: Context,
    relations: str = "",
    privilege: SystemRole | None = None,
    membership: OrgRole | None = None,
    *,
    strict: bool = False,
    limit: Limit | None = None,
) -> Rule:
    return Rule(
        resource,
        frozenset(scopes.split()),
        context,
        frozenset(Rel(r) for r in relations.split()),
        privilege,
        membership,
        strict,
        limit,
    )


SBX, ORG, ANYC = Context.SANDBOX, Context.ORGANIZATION, Context.ANY
ADMIN, USER, WORKER = SystemRole.ADMIN, SystemRole.USER, SystemRole.WORKER
OWNER, MAINTAINER, SUPERVISOR, MEMBER = OrgRole.OWNER, OrgRole.MAINTAINER, OrgRole.SUPERVISOR, OrgRole.WORKER
P, T, J = Resource.PROJECT, Resource.TASK, Resource.JOB

_TASK_VIEW = (
    "view view:annotations export:dataset view:metadata view:data export:annotations export:backup "
    "view:validation_layout"
)
_TASK_EDIT = (
    "update:desc update:annotations delete:annotations upload:data update:metadata import:annotations "
    "update:validation_layout"
)
_TASK_ADMIN = "update:owner update:assignee update:project delete update:organization"
_TASK_STAFF = "owner assignee project:owner project:assignee"
_JOB_VIEW = "view export:dataset export:annotations view:annotations view:data view:metadata"
_JOB_EDIT = "update:state update:annotations delete:annotations import:annotations update:metadata"
_JOB_STAFF = "assignee task:owner task:assignee project:owner project:assignee"
_JOB_TASK_STAFF = "task:owner task:assignee project:owner project:assignee"
ISS, CMT = Resource.ISSUE, Resource.COMMENT
_ISSUE_JOB_STAFF = f"job:assignee {_JOB_TASK_STAFF}"
_ISSUE_STAFF = f"owner assignee {_ISSUE_JOB_STAFF}"
_ISSUE_ADMIN = f"owner {_JOB_TASK_STAFF}"
_COMMENT_ISSUE_STAFF = f"issue:owner issue:assignee {_ISSUE_JOB_STAFF}"
_COMMENT_STAFF = f"owner {_COMMENT_ISSUE_STAFF}"

RULES: tuple[Rule, ...] = (
    # --- organizations (organizations.rego) ---
    _rules(Resource.ORGANIZATION, "create", ANYC, "", USER),
    _rules(Resource.ORGANIZATION, "list", ANYC),
    _rules(Resource.ORGANIZATION, "view", ANYC, "member"),
    _rules(Resource.ORGANIZATION, "update", ANYC, "org:maintainer", WORKER),
    _rules(Resource.ORGANIZATION, "delete", ANYC, "owner", WORKER),
    # --- memberships (memberships.csv) ---
    _rules(Resource.MEMBERSHIP, "list", SBX),
    _rules(Resource.MEMBERSHIP, "list", ORG, "", None, MEMBER),
    _rules(Resource.MEMBERSHIP, "view", SBX, "self"),
    _rules(Resource.MEMBERSHIP, "view", ORG, "", None, MEMBER),
    _rules(Resource.MEMBERSHIP, "change:role delete", ORG, "", USER, OWNER, limit=_role_not_owner),
    _rules(
        Resource.MEMBERSHIP, "change:role delete", ORG, "", USER, MAINTAINER, limit=_role_below_maintainer
    ),
    _rules(Resource.MEMBERSHIP, "delete", ORG, "self", WORKER, MEMBER, limit=_role_not_owner),
    # --- invitations (invitations.csv) ---
    _rules(Resource.INVITATION, "list", SBX),
    _rules(Resource.INVITATION, "list", ORG, "", None, MEMBER),
    _rules(Resource.INVITATION, "create", ORG, "", USER, MAINTAINER, limit=_role_below_maintainer),
    _rules(Resource.INVITATION, "create", ORG, "", USER, OWNER, limit=_role_not_owner),
    _rules(Resource.INVITATION, "view", ANYC, "owner invitee"),
    _rules(Resource.INVITATION, "view resend delete", ORG, "", USER, MAINTAINER),
    _rules(Resource.INVITATION, "resend delete", ANYC, "owner", WORKER),
    _rules(Resource.INVITATION, "accept decline", ANYC, "invitee"),
    # --- projects (projects.csv) ---
    _rules(P, "create import:backup", SBX, "", USER),
    _rules(P, "create import:backup", ORG, "", USER, SUPERVISOR),
    _rules(P, "list", SBX),
    _rules(P, "list", ORG, "", None, MEMBER),
    _rules(P, "view", SBX, "owner assignee"),
    _rules(P, "view", ORG, "owner assignee", None, MEMBER),
    _rules(
        P,
        "view update:desc delete update:assignee update:owner update:associated_storage "
        "export:annotations export:dataset export:backup import:dataset update:organization",
        ORG,
        "",
        USER,
        MAINTAINER,
    ),
    _rules(P, "delete update:assignee update:associated_storage update:organization", SBX, "owner", WORKER),
    _rules(
        P,
        "delete update:assignee update:associated_storage update:organization",
        ORG,
        "owner",
        WORKER,
        MEMBER,
    ),
    _rules(P, "update:desc import:dataset", SBX, "owner assignee", WORKER),
    _rules(P, "update:desc import:dataset", ORG, "owner assignee", WORKER, MEMBER),
    _rules(P, "update:owner", ORG, "owner", WORKER, MAINTAINER),
    _rules(P, "export:annotations export:dataset export:backup", SBX, "owner assignee"),
    _rules(P, "export:annotations export:dataset export:backup", ORG, "owner", None, MEMBER),
    _rules(P, "export:annotations export:dataset export:backup", ORG, "owner assignee", None, SUPERVISOR),
    # --- tasks (tasks.rego) ---
    _rules(T, "create import:backup", SBX, "", USER),
    _rules(T, "create import:backup", ORG, "", USER, SUPERVISOR),
    _rules(T, "create@project", SBX, "project:owner project:assignee", USER),
    _rules(T, "create@project", ORG, "", USER, SUPERVISOR),
    _rules(T, "create@project", ORG, "project:owner project:assignee", USER, MEMBER),
    _rules(T, "list", SBX),
    _rules(T, "list", ORG, "", None, MEMBER),
    _rules(T, _TASK_VIEW, SBX, _TASK_STAFF),
    _rules(T, _TASK_VIEW, ORG, _TASK_STAFF, None, MEMBER),
    _rules(
        T, f"{_TASK_VIEW} {_TASK_EDIT} {_TASK_ADMIN} update:associated_storage", ORG, "", USER, MAINTAINER
    ),
    _rules(T, _TASK_EDIT, SBX, _TASK_STAFF, WORKER),
    _rules(T, _TASK_EDIT, ORG, _TASK_STAFF, WORKER, MEMBER),
    _rules(T, _TASK_ADMIN, SBX, "owner project:owner project:assignee", WORKER),
    _rules(T, _TASK_ADMIN, ORG, "owner project:owner project:assignee", WORKER, MEMBER),
    _rules(T, "update:associated_storage", SBX, "owner project:owner", WORKER),
    _rules(T, "update:associated_storage", ORG, "owner project:owner", WORKER, MEMBER),
    # --- jobs (jobs.rego) ---
    _rules(J, "list", SBX),
    _rules(J, "list", ORG, "", None, MEMBER),
    _rules(J, "create delete", SBX, _JOB_TASK_STAFF, USER),
    _rules(J, "create delete", ORG, _JOB_TASK_STAFF, USER, SUPERVISOR),
    _rules(
        J, f"create delete {_JOB_VIEW} {_JOB_EDIT} update:stage update:assignee", ORG, "", USER, MAINTAINER
    ),
    _rules(J, _JOB_VIEW, SBX, _JOB_STAFF),
    _rules(J, _JOB_VIEW, ORG, _JOB_STAFF, None, MEMBER),
    _rules(J, _JOB_EDIT, SBX, _JOB_STAFF, WORKER),
    _rules(J, _JOB_EDIT, ORG, _JOB_STAFF, WORKER, MEMBER),
    _rules(J, f"{_JOB_VIEW} {_JOB_EDIT}", ORG, "assignee", WORKER, strict=True),
    _rules(J, "update:stage update:assignee", SBX, _JOB_TASK_STAFF, WORKER),
    _rules(J, "update:stage update:assignee", ORG, _JOB_TASK_STAFF, WORKER, MEMBER),
    # --- issues (issues.rego): the issue's owner and assignee, the job's staff ---
    _rules(ISS, "create@job", SBX, _ISSUE_JOB_STAFF, WORKER),
    _rules(ISS, "create@job", ORG, "", USER, MAINTAINER),
    _rules(ISS, "create@job", ORG, _ISSUE_JOB_STAFF, WORKER, MEMBER),
    _rules(ISS, "list", SBX),
    _rules(ISS, "list", ORG, "", None, MEMBER),
    _rules(ISS, "view", SBX, _ISSUE_STAFF),
    _rules(ISS, "view", ORG, _ISSUE_STAFF, None, MEMBER),
    _rules(ISS, "view update delete", ORG, "", USER, MAINTAINER),
    _rules(ISS, "update", SBX, _ISSUE_STAFF, WORKER),
    _rules(ISS, "update", ORG, _ISSUE_STAFF, WORKER, MEMBER),
    _rules(ISS, "delete", SBX, _ISSUE_ADMIN, WORKER),
    _rules(ISS, "delete", ORG, _ISSUE_ADMIN, WORKER, MEMBER),
    # --- comments (comments.rego): the comment's owner and the issue's staff ---
    _rules(CMT, "create@issue", SBX, _COMMENT_ISSUE_STAFF, WORKER),
    _rules(CMT, "create@issue", ORG, "", USER, MAINTAINER),
    _rules(CMT, "create@issue", ORG, _COMMENT_ISSUE_STAFF, WORKER, MEMBER),
    _rules(CMT, "list", SBX),
    _rules(CMT, "list", ORG, "", None, MEMBER),
    _rules(CMT, "view", SBX, _COMMENT_STAFF),
    _rules(CMT, "view", ORG, _COMMENT_STAFF, None, MEMBER),
    _rules(CMT, "view update delete", ORG, "", USER, MAINTAINER),
    _rules(CMT, "update delete", SBX, _COMMENT_STAFF, WORKER),
    _rules(CMT, "update delete", ORG, _COMMENT_STAFF, WORKER, MEMBER),
    # --- users (users.csv) ---
    _rules(Resource.USER, "list", SBX),
    _rules(Resource.USER, "list", ORG, "", None, MEMBER),
    _rules(Resource.USER, "view update:personal_data delete", ANYC, "self"),
)

# Labels have no rows of their own: CVAT checks the label's task or project (view -> view,
# update/delete -> update:desc), and lists like tasks/projects.
LABEL_SCOPE_MAP = {"view": "view", "update": "update:desc", "delete": "update:desc"}

# CVAT answers 403 for an object that exists but may not be seen (only lists hide objects);
# flip this to answer 404 instead and hide existence.
HIDE_EXISTENCE = False


def _rule_matches(
    rule: Rule, actor: Actor, resource: ResourceRef, context: Context, org_id: int | None
) -> bool:
    if rule.context not in (Context.ANY, context):
        return False
    role = actor.role_in(org_id)
    if rule.strict:
        if actor.privilege != rule.privilege or role is not None:
            return False
    else:
        if rule.privilege is not None and not privilege_at_least(actor.privilege, rule.privilege):
            return False
        if rule.membership is not None and not role_at_least(role, rule.membership):
            return False
    if rule.relations and not (rule.relations & resource.relations(actor)):
        return False
    return rule.limit is None or rule.limit(resource)


def is_allowed(actor: Actor, scope: str, resource: ResourceRef, *, request_org_id: int | None = None) -> bool:
    """Whether ``actor`` may do ``scope`` on ``resource``.

    For ``create``/``list``/``create@project``/``import:backup`` the context is the request's
    organization (``request_org_id``), and the resource's organization must match it; for
    everything else the context is the resource's own organization.
    """
    if actor.is_admin:
        return True
    if scope in ("create", "list", "create@project", "create@job", "create@issue", "import:backup"):
        org_id = request_org_id
        if (
            scope != "list"
            and resource.kind not in (Resource.ORGANIZATION,)
            and resource.organization_id != org_id
        ):
            return False
    else:
        org_id = resource.organization_id
    if resource.kind in (Resource.ORGANIZATION,):
        context = Context.ANY
    else:
        context = Context.SANDBOX if org_id is None else Context.ORGANIZATION
    return any(
        _rule_matches(rule, actor, resource, context, org_id)
        for rule in RULES
        if rule.resource == resource.kind and scope in rule.scopes
    )


def scopes_of(resource: Resource) -> frozenset[str]:
    """Every scope the table knows for a resource."""
    out: set[str] = set()
    for rule in RULES:
        if rule.resource == resource:
            out |= rule.scopes
    return frozenset(out)


def check(actor: Actor, scope: str, resource: ResourceRef, *, request_org_id: int | None = None) -> None:
    """Raise the error CVAT would answer when ``is_allowed`` says no: PermissionDeniedError
    (or NotFoundError when ``HIDE_EXISTENCE`` is set and the object is not even viewable)."""
    if is_allowed(actor, scope, resource, request_org_id=request_org_id):
        return
    if HIDE_EXISTENCE and scope != "view" and not is_allowed(actor, "view", resource):
        raise NotFoundError()
    if HIDE_EXISTENCE and scope == "view":
        raise NotFoundError()
    raise PermissionDeniedError()


# --- list visibility ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgScope:
    """The organization context of a request: CVAT's ``org``/``org_id``/``X-Organization``.

    ``org_id`` None with ``explicit`` True is the personal workspace asked for by name
    (``org=``/an empty header): lists show only objects outside every organization.
    ``explicit`` False (nothing sent) shows everything the user may see, in any organization.
    """

    org_id: int | None = None
    explicit: bool = False


_STAFF_BY_KIND: dict[Resource, frozenset[Rel]] = {
    Resource.PROJECT: frozenset({Rel.OWNER, Rel.ASSIGNEE}),
    Resource.TASK: frozenset({Rel.OWNER, Rel.ASSIGNEE, Rel.PROJECT_OWNER, Rel.PROJECT_ASSIGNEE}),
    Resource.JOB: frozenset(
        {Rel.ASSIGNEE, Rel.TASK_OWNER, Rel.TASK_ASSIGNEE, Rel.PROJECT_OWNER, Rel.PROJECT_ASSIGNEE}
    ),
    # labels: their task's and project's owner/assignee (CVAT's labels.rego filter)
    Resource.LABEL: frozenset({Rel.TASK_OWNER, Rel.TASK_ASSIGNEE, Rel.PROJECT_OWNER, Rel.PROJECT_ASSIGNEE}),
    Resource.ISSUE: frozenset({Rel.OWNER, Rel.ASSIGNEE, Rel.JOB_ASSIGNEE, Rel.TASK_OWNER, Rel.TASK_ASSIGNEE,
                               Rel.PROJECT_OWNER, Rel.PROJECT_ASSIGNEE}),
    Resource.COMMENT: frozenset({Rel.OWNER, Rel.ISSUE_OWNER, Rel.ISSUE_ASSIGNEE, Rel.JOB_ASSIGNEE, Rel.TASK_OWNER,
                                 Rel.TASK_ASSIGNEE, Rel.PROJECT_OWNER, Rel.PROJECT_ASSIGNEE}),
}


def check_list(actor: Actor, kind: Resource, scope: OrgScope) -> None:
    """CVAT's ``list`` scope: anyone in the personal workspace, members in an organization."""
    # labels have no list rows of their own: they list like tasks
    ref = ResourceRef(Resource.TASK if kind == Resource.LABEL else kind, organization_id=scope.org_id)
    if not is_allowed(actor, "list", ref, request_org_id=scope.org_id):
        raise PermissionDeniedError()


def visible_in_list(actor: Actor, resource: ResourceRef, scope: OrgScope) -> bool:
    """Whether an object appears in a list (and its count) for ``actor`` under ``scope``: CVAT's
    rego ``filter`` plus its organization filter backend."""
    kind = resource.kind
    if scope.org_id is not None:
        if resource.organization_id != scope.org_id:
            return False
    elif (
        scope.explicit
        and kind not in (Resource.ORGANIZATION, Resource.USER)
        and (resource.organization_id is not None)
    ):
        return False

    if kind == Resource.ORGANIZATION:
        return actor.is_admin or Rel.MEMBER in resource.relations(actor)
    if kind == Resource.USER:
        if scope.org_id is not None:
            # members of the organization (the resource's organization_id is set by the caller
            # to the org when the user is an active member of it)
            return True
        return actor.is_admin or resource.user_id == actor.user_id
    if kind == Resource.MEMBERSHIP:
        if actor.is_admin:
            return True
        if scope.org_id is not None:
            return actor.role_in(scope.org_id) is not None
        return resource.user_id == actor.user_id
    if kind == Resource.INVITATION:
        if actor.is_admin:
            return True
        if (
            scope.org_id is not None
            and role_at_least(actor.role_in(scope.org_id), MAINTAINER)
            and (privilege_at_least(actor.privilege, USER))
        ):
            return True
        return bool(resource.relations(actor) & {Rel.OWNER, Rel.INVITEE})

    # projects, tasks, jobs, labels, issues, comments
    if actor.is_admin:
        return True
    if scope.org_id is not None and sees_organization(actor, scope.org_id):
        return True
    return bool(resource.relations(actor) & _STAFF_BY_KIND[kind])


def sees_organization(actor: Actor, organization_id: int) -> bool:
    """Whether the actor sees every project, task, job and label of an organization in its lists
    (its maintainers and owner, with at least the user privilege); others see what they own or
    are assigned to."""
    return role_at_least(actor.role_in(organization_id), MAINTAINER) and privilege_at_least(actor.privilege, USER)
