"""Every entity comes back from DynamoDB exactly as it was stored: every field, its type (enums stay
enums, ints stay ints, floats stay floats), datetimes with their offset and microseconds, nested
storages, attribute specs and free-form JSON. Checked on hand-picked entities with every field set
and on generated ones (hypothesis), through the repositories on moto."""

from __future__ import annotations

import dataclasses
import itertools
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
import repository_backends as backends
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvat_serverless.adapters.aws.dynamo_codec import decode, encode
from cvat_serverless.domain.auth import AccessToken, Session
from cvat_serverless.domain.jobs import Job, JobStage, JobState, JobStatus, JobType, Segment, SegmentType
from cvat_serverless.domain.labels import AttributeSpec, InputType, Label, LabelType
from cvat_serverless.domain.organizations import Invitation, Membership, Organization, OrgRole
from cvat_serverless.domain.projects import Project
from cvat_serverless.domain.storage import Location, Storage
from cvat_serverless.domain.tasks import (
    ChunkType,
    DimensionType,
    MediaType,
    SortingMethod,
    StorageMethod,
    StorageType,
    Task,
    TaskMode,
)
from cvat_serverless.domain.users import SystemRole, User

dynamo_moto, table = backends.dynamo_moto, backends.table

KYIV = timezone(timedelta(hours=2))
T0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=KYIV)
T1 = datetime(2025, 12, 31, 23, 59, 59, 1, tzinfo=UTC)
T2 = datetime(2024, 2, 29, 12, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))

CONTACT = {
    "email": "ops@example.com", "phone": "+380 44 000", "ratio": 0.1, "whole_float": 1.0, "big": 2**62,
    "negative": -17, "tiny": 5e-324, "flag": False, "none": None, "empty_list": [], "empty_map": {},
    "nested": [{"a": [1, 2.5, "x", None]}, "ünïcødé ✓"],
}

FULL: dict[type, Any] = {
    User: User(id=7, username="Alice.B", email="alice@example.com", password_hash="argon2$x", first_name="Al",
               last_name="Bee", groups=[SystemRole.ADMIN, SystemRole.WORKER], is_staff=True, is_superuser=True,
               is_active=False, date_joined=T0, last_login=T1, version=0),
    Organization: Organization(id=3, slug="acme-1", owner_id=7, name="ACME", description="Labs", contact=CONTACT,
                               created_date=T0, updated_date=T1, version=0),
    Membership: Membership(id=4, user_id=7, organization_id=3, role=OrgRole.SUPERVISOR, is_active=True,
                           joined_date=T2, invitation_key="inv-key", version=0),
    Invitation: Invitation(key="inv-key", organization_id=3, membership_id=4, user_id=8, role=OrgRole.MAINTAINER,
                           owner_id=7, created_date=T0, sent_date=T1, accepted=True, version=0),
    Project: Project(id=5, name="Cars", owner_id=7, organization_id=3, assignee_id=8, assignee_updated_date=T1,
                     bug_tracker="https://bugs.example.com/1", status=JobStatus.VALIDATION, dimension="3d",
                     guide_id=11, source_storage=Storage(id=1, location=Location.CLOUD_STORAGE, cloud_storage_id=2),
                     target_storage=Storage(id=3), task_subsets=["train", "val", "tëst"], created_date=T0,
                     updated_date=T2, version=0),
    Task: Task(id=6, name="Task", owner_id=7, organization_id=3, project_id=5, assignee_id=8,
               assignee_updated_date=T2, bug_tracker="https://bugs.example.com/2", subset="train", segment_size=25,
               overlap=3, status=JobStatus.COMPLETED, mode=TaskMode.INTERPOLATION, dimension=DimensionType.DIM_3D,
               source_storage=Storage(id=4, location=Location.CLOUD_STORAGE, cloud_storage_id=5),
               target_storage=Storage(id=6, location=Location.LOCAL), guide_id=12, consensus_replicas=2, data_id=9,
               size=1200, image_quality=70, data_chunk_size=36, data_compressed_chunk_type=ChunkType.VIDEO,
               data_original_chunk_type=ChunkType.IMAGESET, data_cloud_storage_id=5,
               media_type=MediaType.POINT_CLOUD, start_frame=10, stop_frame=1209, frame_filter="step=2",
               storage_method=StorageMethod.FILE_SYSTEM, storage=StorageType.CLOUD_STORAGE,
               sorting_method=SortingMethod.PREDEFINED, validation_mode="gt_pool", jobs_count=4, jobs_completed=1,
               jobs_validation=2, created_date=T0, updated_date=T1,
               version=0),
    Segment: Segment(id=8, task_id=6, start_frame=3, stop_frame=40, type=SegmentType.SPECIFIC_FRAMES,
                     frames=[3, 5, 40], version=0),
    Job: Job(id=9, task_id=6, segment_id=8, start_frame=3, stop_frame=40, frame_count=3, project_id=5,
             organization_id=3, assignee_id=8, assignee_updated_date=T2, stage=JobStage.ACCEPTANCE,
             state=JobState.IN_PROGRESS, status=JobStatus.VALIDATION, type=JobType.GROUND_TRUTH, parent_job_id=2,
             created_date=T0, updated_date=T1, version=0),
    Label: Label(id=10, name="wheel", color="#a1b2c3", type=LabelType.POINTS, svg='<circle data-label-name="w"/>',
                 project_id=5, task_id=6, parent_id=2, attributes=[
                     AttributeSpec(id=1, name="occluded", input_type=InputType.CHECKBOX, mutable=True,
                                   values=["false"], default_value="false"),
                     AttributeSpec(id=2, name="size", input_type=InputType.NUMBER, mutable=False,
                                   values=["0", "10.5", "0.5"], default_value="1.5"),
                     AttributeSpec(id=3, name="kind", input_type=InputType.SELECT, mutable=False,
                                   values=["a", "b c", ""], default_value="a"),
                 ], version=0),
    AccessToken: AccessToken(id=11, name="ci", owner_id=7, digest="f" * 64, prefix="abcd1234", created_date=T0,
                             updated_date=T1, expiry_date=T2, last_used_date=T1, read_only=True, version=0),
    Session: Session(digest="e" * 64, user_id=7, csrf_token="csrf", created_date=T0, expiry_date=T1),
}


def _all_set(entity: Any) -> list[str]:
    """Fields that still hold their default (a new field must be added to FULL)."""
    unset = []
    for f in dataclasses.fields(entity):
        if f.name == "version":
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if getattr(entity, f.name) == default or getattr(entity, f.name) in (None, "", [], {}):
            unset.append(f.name)
    return unset


def assert_identical(got: Any, want: Any, path: str = "") -> None:
    """Equal values of the same types all the way down (``==`` alone takes "a" for StrEnum("a"),
    1 for 1.0 and two datetimes in different zones for the same)."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if dataclasses.is_dataclass(want):
        for f in dataclasses.fields(want):
            assert_identical(getattr(got, f.name), getattr(want, f.name), f"{path}.{f.name}")
    elif isinstance(want, dict):
        assert list(got) == list(want), path
        for k in want:
            assert_identical(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_identical(g, w, f"{path}[{i}]")
    elif isinstance(want, datetime):
        assert got.isoformat() == want.isoformat(), path
    else:
        assert got == want, path


# cls -> (repository attribute, store, read back, listings that must hold it, delete)
Access = tuple[str, Callable[[Any, Any], Any], Callable[[Any, Any], Any], Callable[[Any, Any], list[Any]],
               Callable[[Any, Any], None]]
ACCESS: dict[type, Access] = {
    User: ("users", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
           lambda r, e: [r.list_all(), [r.find_by_username(e.username)]]
           + ([[r.find_by_email(e.email)]] if e.email else []),
           lambda r, e: r.delete(e.id)),
    Organization: ("organizations", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
                   lambda r, e: [r.list_all(), [r.find_by_slug(e.slug)]], lambda r, e: r.delete(e.id)),
    Membership: ("memberships", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
                 lambda r, e: [r.list_by_organization(e.organization_id), r.list_by_user(e.user_id),
                               [r.find(e.organization_id, e.user_id)]], lambda r, e: r.delete(e.id)),
    Invitation: ("invitations", lambda r, e: r.add(e), lambda r, e: r.get(e.key),
                 lambda r, e: [r.list_by_organization(e.organization_id), r.list_by_user(e.user_id)],
                 lambda r, e: r.delete(e.key)),
    Project: ("projects", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
              lambda r, e: [r.list_all(), r.list_by_organization(e.organization_id)], lambda r, e: r.delete(e.id)),
    Task: ("tasks", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
           lambda r, e: [r.list_all(), r.list_by_organization(e.organization_id)]
           + ([r.list_by_project(e.project_id)] if e.project_id is not None else []),
           lambda r, e: r.delete(e.id)),
    Segment: ("segments", lambda r, e: r.add_many([e])[0], lambda r, e: r.get(e.id),
              lambda r, e: [r.list_by_task(e.task_id)], lambda r, e: r.delete_by_task(e.task_id)),
    Job: ("jobs", lambda r, e: r.add_many([e])[0], lambda r, e: r.get(e.id),
          lambda r, e: [r.list_all(), r.list_by_task(e.task_id), r.list_by_organization(e.organization_id)],
          lambda r, e: r.delete(e.id)),
    Label: ("labels", lambda r, e: r.add_many([e])[0], lambda r, e: r.get(e.id),
            lambda r, e: ([r.list_by_task(e.task_id)] if e.task_id is not None else [])
            + ([r.list_by_project(e.project_id)] if e.project_id is not None else []),
            lambda r, e: r.delete(e.id)),
    AccessToken: ("access_tokens", lambda r, e: r.add(e), lambda r, e: r.get(e.id),
                  lambda r, e: [r.list_by_owner(e.owner_id), [r.find_by_digest(e.digest)]],
                  lambda r, e: r.delete(e.id)),
    Session: ("sessions", lambda r, e: r.add(e), lambda r, e: r.find_by_digest(e.digest), lambda r, e: [],
              lambda r, e: r.delete(e.digest)),
}


def _round_trip(repos: backends.Repos, entity: Any) -> None:
    attr, store, read, listings, delete = ACCESS[type(entity)]
    repo = getattr(repos, attr)
    want = dataclasses.replace(entity, version=1) if hasattr(entity, "version") else entity
    assert_identical(store(repo, entity), want, "add")
    assert_identical(read(repo, entity), want, "get")
    for i, listing in enumerate(listings(repo, entity)):
        assert len(listing) == 1, f"listing {i}"
        assert_identical(listing[0], want, f"listing {i}")
    if hasattr(entity, "version"):
        saved = repo.save(dataclasses.replace(want)) if hasattr(repo, "save") else None
        if saved is not None:
            assert_identical(read(repo, entity), dataclasses.replace(want, version=2), "saved")
    delete(repo, entity)


def test_samples_set_every_field() -> None:
    assert set(FULL) == set(ACCESS)
    for entity in FULL.values():
        assert _all_set(entity) == [], f"{type(entity).__name__}: fields left at their default"


@pytest.mark.parametrize("cls", list(FULL), ids=lambda c: c.__name__)
def test_every_field_round_trips(table: str, cls: type) -> None:
    _round_trip(backends.dynamo_repos(table), FULL[cls])


def test_floats_and_big_numbers_in_free_form_json_survive_exactly(table: str) -> None:
    orgs = backends.dynamo_repos(table).organizations
    orgs.add(FULL[Organization])
    contact = orgs.get(FULL[Organization].id).contact
    assert_identical(contact, CONTACT)
    assert type(contact["whole_float"]) is float and type(contact["big"]) is int


# --------------------------------------------------------------------------- generated entities

_counter = itertools.count(1)
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # DynamoDB strings are UTF-8
_zones = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_datetimes = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)), _zones,
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(hint) if a is not type(None)]
        return st.none() | strategy_for(inner)
    if origin is list:
        return st.lists(strategy_for(get_args(hint)[0]), max_size=4)
    if origin is dict:
        return st.dictionaries(_text, _json, max_size=4)
    if dataclasses.is_dataclass(hint):
        hints = get_type_hints(hint)
        return st.builds(hint, **{f.name: strategy_for(hints[f.name])  # type: ignore[arg-type]
                                  for f in dataclasses.fields(hint) if f.name != "version"})
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    if hint is datetime:
        return _datetimes
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(0, 10**12 - 1)
    if hint is str:
        return _text
    raise TypeError(hint)


def _unique(entity: Any) -> Any:
    """Give the generated entity a fresh id/key so examples never collide on the table."""
    n = next(_counter)
    if isinstance(entity, Invitation):
        return dataclasses.replace(entity, key=f"{entity.key}~{n}")
    if isinstance(entity, Session):
        return dataclasses.replace(entity, digest=f"{entity.digest}~{n}")
    return dataclasses.replace(entity, id=n)


@pytest.mark.parametrize("cls", list(FULL), ids=lambda c: c.__name__)
def test_codec_round_trips_generated_entities(cls: type) -> None:
    @given(strategy_for(cls))
    @settings(max_examples=60, deadline=None)
    def check(entity: Any) -> None:
        extra = {"version": entity.version} if hasattr(entity, "version") else {}
        assert_identical(decode(cls, encode(entity), **extra), entity)

    check()


@pytest.mark.slow  # ~130 moto round trips; test_every_field_round_trips keeps DynamoDB in the quick loop
@pytest.mark.parametrize("cls", list(FULL), ids=lambda c: c.__name__)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_entities_round_trip_through_dynamodb(table: str, cls: type, data: st.DataObject) -> None:
    entity = _unique(data.draw(strategy_for(cls)))
    if isinstance(entity, User):
        entity = dataclasses.replace(entity, username=f"{entity.username}~{entity.id}",
                                     email=f"{entity.email}~{entity.id}" if entity.email else "")
    if isinstance(entity, Label):
        entity = dataclasses.replace(entity, name=f"{entity.name}~{entity.id}")
    if isinstance(entity, AccessToken):
        entity = dataclasses.replace(entity, digest=f"{entity.digest}~{entity.id}")
    if isinstance(entity, Organization):
        entity = dataclasses.replace(entity, slug=f"{entity.slug}~{entity.id}")
    _round_trip(backends.dynamo_repos(table), entity)
