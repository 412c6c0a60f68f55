"""Webhooks and their deliveries on the single table.

Items (pk / sk):
- webhook        ``WEBHOOK#<id>`` / ``WEBHOOK``                     -> get
  all copy       ``ALL#WEBHOOKS`` / <id>                            -> list_all (admins)
  org copy       ``ORG#<org>#WEBHOOKS`` / <id> (in an organization)  -> list_by_organization
  project copy   ``PROJECT#<project>#WEBHOOKS`` / <id>              -> list_by_project
  owner copy     ``USER#<owner>#WEBHOOKS`` / <id>                   -> list_by_owner
- delivery       ``WEBHOOK#<webhook>#DELIVERIES`` / <id>            -> get, list_by_webhook
A webhook's type, organization and project are write-once, so only its own items change on a
save (``last_status`` on every delivery). A delivery is written once and never changed.
"""

from __future__ import annotations

from ...domain.errors import NotFoundError
from ...domain.webhooks import Webhook, WebhookDelivery
from ...ports import WebhookRepositories
from .dynamo_store import VersionedStore, View, id_key, user_views


def webhook_views(w: Webhook) -> list[View]:
    views = [View(f"WEBHOOK#{w.id}", "WEBHOOK"), View("ALL#WEBHOOKS", id_key(w.id))]
    if w.organization_id is not None:
        views.append(View(f"ORG#{w.organization_id}#WEBHOOKS", id_key(w.id)))
    if w.project_id is not None:
        views.append(View(f"PROJECT#{w.project_id}#WEBHOOKS", id_key(w.id)))
    return views + user_views("WEBHOOKS", id_key(w.id), w.owner_id)


def delivery_views(d: WebhookDelivery) -> list[View]:
    return [View(f"WEBHOOK#{d.webhook_id}#DELIVERIES", id_key(d.id))]


class DynamoWebhookRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Webhook, "webhook", webhook_views)

    def add(self, webhook: Webhook) -> Webhook:
        return self._s.add(webhook)

    def get(self, webhook_id: int) -> Webhook:
        return self._s.get(f"WEBHOOK#{webhook_id}", "WEBHOOK")

    def save(self, webhook: Webhook) -> Webhook:
        return self._s.save(webhook)

    def delete(self, webhook_id: int) -> None:
        self._s.delete(f"WEBHOOK#{webhook_id}", "WEBHOOK")

    def list_all(self) -> list[Webhook]:
        return self._s.query("ALL#WEBHOOKS")

    def list_by_organization(self, organization_id: int) -> list[Webhook]:
        return self._s.query(f"ORG#{organization_id}#WEBHOOKS")

    def list_by_project(self, project_id: int) -> list[Webhook]:
        return self._s.query(f"PROJECT#{project_id}#WEBHOOKS")

    def list_by_owner(self, user_id: int) -> list[Webhook]:
        return self._s.query(f"USER#{user_id}#WEBHOOKS")


class DynamoWebhookDeliveryRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, WebhookDelivery, "webhook delivery", delivery_views)

    def add(self, delivery: WebhookDelivery) -> WebhookDelivery:
        return self._s.add(delivery)

    def get(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        found = self._s.find(f"WEBHOOK#{webhook_id}#DELIVERIES", id_key(delivery_id))
        if found is None:
            raise NotFoundError(f"webhook delivery {delivery_id} not found.")
        return found

    def list_by_webhook(self, webhook_id: int) -> list[WebhookDelivery]:
        return self._s.query(f"WEBHOOK#{webhook_id}#DELIVERIES")

    def delete_by_webhook(self, webhook_id: int) -> None:
        self._s.delete_entities(self.list_by_webhook(webhook_id))


def dynamo_webhook_repositories(table_name: str) -> WebhookRepositories:
    return WebhookRepositories(DynamoWebhookRepository(table_name), DynamoWebhookDeliveryRepository(table_name))
