"""Webhooks and deliveries (ports.WebhookRepositories) behave alike on the in-memory fakes and on
DynamoDB (moto, the table template.yaml declares)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import repository_backends as backends

from cvat_serverless.adapters.aws.dynamo_webhooks import dynamo_webhook_repositories
from cvat_serverless.adapters.memory_webhooks import memory_webhook_repositories
from cvat_serverless.domain.errors import ConflictError, NotFoundError
from cvat_serverless.domain.webhooks import Webhook, WebhookDelivery, WebhookType

dynamo_moto, table = backends.dynamo_moto, backends.table
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=backends.BACKENDS)
def hooks(request: pytest.FixtureRequest):
    if request.param == "memory":
        return memory_webhook_repositories()
    return dynamo_webhook_repositories(request.getfixturevalue("table"))


def test_webhooks_and_deliveries_round_trip(hooks):
    org = hooks.webhooks.add(Webhook(id=1, target_url="https://a.example.com/", type=WebhookType.ORGANIZATION,
                                     events=["create:project"], owner_id=5, organization_id=9, created_date=NOW))
    proj = hooks.webhooks.add(Webhook(id=2, target_url="https://b.example.com/", type=WebhookType.PROJECT,
                                      events=["update:task"], owner_id=6, organization_id=9, project_id=3,
                                      secret="k"))
    assert hooks.webhooks.get(1) == org and org.version == 1
    assert [w.id for w in hooks.webhooks.list_by_organization(9)] == [1, 2]
    assert [w.id for w in hooks.webhooks.list_by_project(3)] == [2]
    assert [w.id for w in hooks.webhooks.list_by_owner(6)] == [2]
    assert [w.id for w in hooks.webhooks.list_all()] == [1, 2]
    proj.last_status, proj.last_delivery_date = 200, NOW
    saved = hooks.webhooks.save(proj)
    assert saved.version == 2 and hooks.webhooks.get(2).last_status == 200 and hooks.webhooks.get(2).secret == "k"
    with pytest.raises(ConflictError):
        hooks.webhooks.save(proj)  # stale version
    payload = {"event": "update:task", "task": {"id": 1, "ratio": 1.0}, "webhook_id": 2}
    for i in (10, 11):
        hooks.deliveries.add(WebhookDelivery(id=i, webhook_id=2, event="update:task", status_code=500 + i - 10,
                                             redelivery=False, attempt=i - 9, request_duration=3, request=payload,
                                             response="x", created_date=NOW, updated_date=NOW))
    assert [d.id for d in hooks.deliveries.list_by_webhook(2)] == [10, 11]
    assert hooks.deliveries.get(2, 11).request == payload and hooks.deliveries.get(2, 11).attempt == 2
    with pytest.raises(NotFoundError):
        hooks.deliveries.get(1, 11)
    hooks.deliveries.delete_by_webhook(2)
    hooks.webhooks.delete(2)
    assert hooks.deliveries.list_by_webhook(2) == []
    with pytest.raises(NotFoundError):
        hooks.webhooks.get(2)


def test_the_newest_delivery_is_the_webhooks_status_and_an_edit_never_conflicts_with_it(hooks):
    hooks.webhooks.add(Webhook(id=1, target_url="https://a.example.com/", type=WebhookType.PROJECT,
                               events=["update:task"], owner_id=5, organization_id=9, project_id=3))
    read_before = hooks.webhooks.get(1)
    later = datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    hooks.webhooks.note_delivery(1, 500, later)
    hooks.webhooks.note_delivery(1, 200, NOW)  # an older attempt finishing last changes nothing
    got = hooks.webhooks.get(1)
    assert (got.last_status, got.last_delivery_date, got.version) == (500, later, 1)
    listed = [(w.id, w.last_status, w.last_delivery_date) for w in hooks.webhooks.list_by_project(3)]
    assert listed == [(1, 500, later)]
    assert [(w.last_status, w.last_delivery_date) for w in hooks.webhooks.list_all()] == [(500, later)]
    read_before.description = "edited after deliveries"
    assert hooks.webhooks.save(read_before).version == 2  # the deliveries did not bump the version
    edited = hooks.webhooks.get(1)
    assert (edited.description, edited.last_status, edited.last_delivery_date) == (
        "edited after deliveries", 500, later)
    hooks.webhooks.note_delivery(1, 204, datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    assert hooks.webhooks.get(1).last_status == 204


def test_a_deleted_webhooks_status_goes_with_it(hooks):
    hooks.webhooks.add(Webhook(id=4, target_url="https://a.example.com/", type=WebhookType.ORGANIZATION,
                               events=["create:task"], owner_id=5, organization_id=9))
    hooks.webhooks.note_delivery(4, 200, NOW)
    hooks.webhooks.delete(4)
    with pytest.raises(NotFoundError):
        hooks.webhooks.get(4)
    assert hooks.webhooks.list_by_organization(9) == []
    hooks.webhooks.note_delivery(4, 200, NOW)  # a delivery finishing after the delete: nothing to read
    with pytest.raises(NotFoundError):
        hooks.webhooks.get(4)


def test_server_webhooks_are_listed_apart(hooks):
    hooks.webhooks.add(Webhook(id=1, target_url="https://a.example.com/", type=WebhookType.SERVER,
                               events=["create:user"], owner_id=5))
    hooks.webhooks.add(Webhook(id=2, target_url="https://b.example.com/", type=WebhookType.ORGANIZATION,
                               events=["create:project"], owner_id=5, organization_id=9))
    assert [w.id for w in hooks.webhooks.list_server()] == [1]
    assert [w.id for w in hooks.webhooks.list_all()] == [1, 2]
    hooks.webhooks.delete(1)
    assert hooks.webhooks.list_server() == []
