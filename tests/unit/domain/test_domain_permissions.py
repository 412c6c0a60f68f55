from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cvat_serverless.domain import permissions as perm
from cvat_serverless.domain.errors import PermissionDeniedError
from cvat_serverless.domain.organizations import OrgRole
from cvat_serverless.domain.permissions import (
    RULES,
    Actor,
    Context,
    OrgScope,
    Rel,
    Resource,
    ResourceRef,
    check,
    is_allowed,
    visible_in_list,
)
from cvat_serverless.domain.users import SystemRole

ME, OTHER, ORG = 1, 2, 10
CREATE_LIKE = {"create", "list", "create@project", "create@job", "create@issue", "import:backup"}

_REL_FIELD = {
    Rel.OWNER: "owner_id",
    Rel.ASSIGNEE: "assignee_id",
    Rel.PROJECT_OWNER: "project_owner_id",
    Rel.PROJECT_ASSIGNEE: "project_assignee_id",
    Rel.TASK_OWNER: "task_owner_id",
    Rel.TASK_ASSIGNEE: "task_assignee_id",
    Rel.JOB_ASSIGNEE: "job_assignee_id",
    Rel.ISSUE_OWNER: "issue_owner_id",
    Rel.ISSUE_ASSIGNEE: "issue_assignee_id",
    Rel.SELF: "user_id",
    Rel.INVITEE: "user_id",
}


def _resource_for(rule: perm.Rule, rel: Rel | None, org: int | None) -> ResourceRef:
    kwargs: dict[str, object] = {"organization_id": org, "role": OrgRole.WORKER}
    if rel is Rel.MEMBER or rel is Rel.ORG_MAINTAINER:
        pass
    elif rel is not None:
        kwargs[_REL_FIELD[rel]] = ME
    if rule.resource == Resource.ORGANIZATION and org is None:
        kwargs["organization_id"] = ORG
    return ResourceRef(rule.resource, **kwargs)  # type: ignore[arg-type]


def _actor_for(rule: perm.Rule, rel: Rel | None, org: int | None) -> Actor:
    roles: dict[int, OrgRole] = {}
    if rule.membership is not None and org is not None:
        roles[org] = rule.membership
    if rel is Rel.MEMBER:
        roles[ORG] = OrgRole.WORKER
    if rel is Rel.ORG_MAINTAINER:
        roles[ORG] = OrgRole.MAINTAINER
    privilege = rule.privilege if rule.privilege is not None else None
    return Actor(ME, privilege, roles)


def _cases():
    for index, rule in enumerate(RULES):
        orgs = {Context.SANDBOX: [None], Context.ORGANIZATION: [ORG], Context.ANY: [None, ORG]}[rule.context]
        rels = sorted(rule.relations) or [None]
        for scope in sorted(rule.scopes):
            for org in orgs:
                for rel in rels:
                    yield pytest.param(
                        index, scope, org, rel, id=f"{rule.resource}-{scope}-{org}-{rel}-{index}"
                    )


@pytest.mark.parametrize(("index", "scope", "org", "rel"), list(_cases()))
def test_every_row_of_the_table_grants_its_minimal_actor(index, scope, org, rel):
    rule = RULES[index]
    resource = _resource_for(rule, rel, org)
    actor = _actor_for(rule, rel, org)
    assert is_allowed(actor, scope, resource, request_org_id=org if scope in CREATE_LIKE else None)


@pytest.mark.parametrize(("index", "scope", "org", "rel"), list(_cases()))
def test_every_row_needs_its_relation(index, scope, org, rel):
    """Drop the relation: only rows without one (or other rows) may still grant; the strongest
    non-admin actor without any relation and without membership must be denied in org context."""
    rule = RULES[index]
    if rel is None or rule.resource == Resource.ORGANIZATION:
        return
    resource = ResourceRef(rule.resource, organization_id=org, role=OrgRole.WORKER)
    actor = Actor(ME, SystemRole.USER, {})  # no membership at all
    if org is not None:
        assert not is_allowed(actor, scope, resource)


def test_admin_passes_everything():
    admin = Actor(ME, SystemRole.ADMIN)
    for rule in RULES:
        for scope in rule.scopes:
            assert is_allowed(admin, scope, ResourceRef(rule.resource, organization_id=ORG))


privileges = st.sampled_from([None, SystemRole.WORKER, SystemRole.USER, SystemRole.BUSINESS])
roles = st.sampled_from([None, OrgRole.WORKER, OrgRole.SUPERVISOR, OrgRole.MAINTAINER, OrgRole.OWNER])
kinds = st.sampled_from([Resource.PROJECT, Resource.TASK, Resource.JOB])
rel_fields = st.sets(st.sampled_from(["owner_id", "assignee_id", "project_owner_id", "task_owner_id"]))
_ORDER_P = [None, SystemRole.WORKER, SystemRole.USER, SystemRole.BUSINESS]
_ORDER_R = [None, OrgRole.WORKER, OrgRole.SUPERVISOR, OrgRole.MAINTAINER, OrgRole.OWNER]


@given(kinds, privileges, roles, rel_fields, st.booleans())
def test_more_privilege_or_role_never_removes_access(kind, privilege, role, rels, in_org):
    org = ORG if in_org else None
    resource = ResourceRef(kind, organization_id=org, **{f: ME for f in rels})
    scopes = perm.scopes_of(kind) - CREATE_LIKE
    base = Actor(ME, privilege, {ORG: role} if role else {})
    stronger_p = _ORDER_P[min(_ORDER_P.index(privilege) + 1, len(_ORDER_P) - 1)]
    stronger_r = _ORDER_R[min(_ORDER_R.index(role) + 1, len(_ORDER_R) - 1)]
    for scope in scopes:
        if not is_allowed(base, scope, resource):
            continue
        # strict crowdsourcing rows only let plain workers in, so skip privilege raises there
        if not (privilege == SystemRole.WORKER and role is None):
            assert is_allowed(Actor(ME, stronger_p, base.roles), scope, resource), scope
        assert is_allowed(Actor(ME, privilege, {ORG: stronger_r} if stronger_r else {}), scope, resource) or (
            privilege == SystemRole.WORKER and role is None
        ), scope


def task(org=None, **kw):
    return ResourceRef(Resource.TASK, organization_id=org, **kw)


def test_cvat_task_examples():
    user = SystemRole.USER
    # sandbox: only staff sees a task
    assert is_allowed(Actor(ME, user), "view", task(owner_id=ME))
    assert not is_allowed(Actor(ME, user), "view", task(owner_id=OTHER))
    assert is_allowed(Actor(ME, None), "view", task(assignee_id=ME))  # no group needed to view
    assert not is_allowed(Actor(ME, None), "update:desc", task(assignee_id=ME))  # but to edit
    # an assignee may edit but not delete or reassign
    assert is_allowed(Actor(ME, SystemRole.WORKER), "update:desc", task(assignee_id=ME))
    assert not is_allowed(Actor(ME, user), "delete", task(assignee_id=ME))
    assert is_allowed(Actor(ME, SystemRole.WORKER), "delete", task(project_assignee_id=ME))
    # organization: maintainers see everything, workers only their own
    assert is_allowed(Actor(ME, user, {ORG: OrgRole.MAINTAINER}), "delete", task(ORG))
    assert not is_allowed(Actor(ME, SystemRole.WORKER, {ORG: OrgRole.MAINTAINER}), "view", task(ORG))
    assert not is_allowed(Actor(ME, user, {ORG: OrgRole.SUPERVISOR}), "view", task(ORG))
    assert is_allowed(Actor(ME, user, {ORG: OrgRole.WORKER}), "view", task(ORG, owner_id=ME))
    # an owner who left the organization loses access
    assert not is_allowed(Actor(ME, user, {}), "view", task(ORG, owner_id=ME))
    # the context is the task's organization, not another one the user belongs to
    assert not is_allowed(Actor(ME, user, {11: OrgRole.OWNER}), "view", task(ORG))


def test_create_needs_matching_request_org():
    sup = Actor(ME, SystemRole.USER, {ORG: OrgRole.SUPERVISOR})
    assert is_allowed(sup, "create", task(ORG), request_org_id=ORG)
    assert not is_allowed(
        Actor(ME, SystemRole.USER, {ORG: OrgRole.WORKER}), "create", task(ORG), request_org_id=ORG
    )
    assert not is_allowed(sup, "create", task(ORG), request_org_id=None)
    assert is_allowed(Actor(ME, SystemRole.USER), "create", task(None), request_org_id=None)
    assert not is_allowed(Actor(ME, SystemRole.WORKER), "create", task(None), request_org_id=None)


def test_jobs_crowdsourcing_row_is_strict():
    job = ResourceRef(Resource.JOB, organization_id=ORG, assignee_id=ME)
    assert is_allowed(Actor(ME, SystemRole.WORKER), "view", job)
    assert is_allowed(Actor(ME, SystemRole.WORKER), "update:annotations", job)
    assert not is_allowed(Actor(ME, SystemRole.USER), "view", job)
    assert not is_allowed(Actor(ME, SystemRole.WORKER), "update:stage", job)
    # a job assignee who is a member edits state but not stage
    member = Actor(ME, SystemRole.WORKER, {ORG: OrgRole.WORKER})
    assert is_allowed(member, "update:state", job)
    assert not is_allowed(member, "update:stage", job)


def test_memberships_and_invitations_limits():
    owner = Actor(ME, SystemRole.USER, {ORG: OrgRole.OWNER})
    maint = Actor(ME, SystemRole.USER, {ORG: OrgRole.MAINTAINER})

    def inv(role):
        return ResourceRef(Resource.INVITATION, organization_id=ORG, role=role)

    assert is_allowed(owner, "create", inv(OrgRole.MAINTAINER), request_org_id=ORG)
    assert not is_allowed(owner, "create", inv(OrgRole.OWNER), request_org_id=ORG)
    assert is_allowed(maint, "create", inv(OrgRole.SUPERVISOR), request_org_id=ORG)
    assert not is_allowed(maint, "create", inv(OrgRole.MAINTAINER), request_org_id=ORG)

    def mem(role, user=OTHER):
        return ResourceRef(Resource.MEMBERSHIP, organization_id=ORG, role=role, user_id=user)

    assert is_allowed(owner, "change:role", mem(OrgRole.MAINTAINER))
    assert not is_allowed(owner, "change:role", mem(OrgRole.OWNER))
    assert not is_allowed(maint, "delete", mem(OrgRole.MAINTAINER))
    worker = Actor(ME, SystemRole.WORKER, {ORG: OrgRole.WORKER})
    assert is_allowed(worker, "delete", mem(OrgRole.WORKER, ME))  # leave the organization
    assert not is_allowed(owner, "delete", mem(OrgRole.OWNER, ME))  # the owner cannot leave


def test_organization_rules():
    org = ResourceRef(Resource.ORGANIZATION, organization_id=ORG, organization_owner_id=OTHER)
    assert is_allowed(Actor(ME, SystemRole.USER, {ORG: OrgRole.WORKER}), "view", org)
    assert not is_allowed(Actor(ME, SystemRole.USER), "view", org)
    assert is_allowed(Actor(ME, SystemRole.WORKER, {ORG: OrgRole.MAINTAINER}), "update", org)
    assert not is_allowed(Actor(ME, SystemRole.USER, {ORG: OrgRole.SUPERVISOR}), "update", org)
    own = ResourceRef(Resource.ORGANIZATION, organization_id=ORG, owner_id=ME, organization_owner_id=ME)
    assert is_allowed(Actor(ME, SystemRole.WORKER, {ORG: OrgRole.OWNER}), "delete", own)
    assert not is_allowed(Actor(ME, SystemRole.USER, {ORG: OrgRole.MAINTAINER}), "delete", org)
    assert is_allowed(Actor(ME, SystemRole.USER), "create", org)
    assert not is_allowed(Actor(ME, SystemRole.WORKER), "create", org)


def test_check_raises_403_by_default():
    with pytest.raises(PermissionDeniedError):
        check(Actor(ME, SystemRole.USER), "view", task(owner_id=OTHER))


def test_list_visibility_follows_cvat_filters():
    mine_personal = task(None, owner_id=ME)
    mine_in_org = task(ORG, assignee_id=ME)
    other_in_org = task(ORG, owner_id=OTHER)
    worker = Actor(ME, SystemRole.USER, {ORG: OrgRole.WORKER})
    maintainer = Actor(ME, SystemRole.USER, {ORG: OrgRole.MAINTAINER})
    everything = OrgScope()
    personal = OrgScope(None, explicit=True)
    in_org = OrgScope(ORG, explicit=True)
    assert [visible_in_list(worker, t, everything) for t in (mine_personal, mine_in_org, other_in_org)] == [
        True,
        True,
        False,
    ]
    assert [visible_in_list(worker, t, personal) for t in (mine_personal, mine_in_org, other_in_org)] == [
        True,
        False,
        False,
    ]
    assert [visible_in_list(worker, t, in_org) for t in (mine_personal, mine_in_org, other_in_org)] == [
        False,
        True,
        False,
    ]
    assert [visible_in_list(maintainer, t, in_org) for t in (mine_personal, mine_in_org, other_in_org)] == [
        False,
        True,
        True,
    ]
    with pytest.raises(PermissionDeniedError):
        perm.check_list(Actor(ME, SystemRole.USER), Resource.TASK, OrgScope(ORG, True))
    perm.check_list(worker, Resource.TASK, OrgScope(ORG, True))
