"""Webhooks and their deliveries on the single table.

Items (pk / sk):
- webhook        ``WEBHOOK#<id>`` / ``WEBHOOK``                     -> get
  all copy       ``ALL#WEBHOOKS`` / <id>                            -> list_all (admins)
  org copy       ``ORG#<org>#WEBHOOKS`` / <id> (in an organization)  -> list_by_organization
  project copy   ``PROJECT#<project>#WEBHOOKS`` / <id>              -> list_by_project
  server copy    ``SERVER#WEBHOOKS`` / <id> (type server)            -> list_server
  owner copy     ``USER#<owner>#WEBHOOKS`` / <id>                   -> list_by_owner
  its status     ``WEBHOOK#<id>`` / ``STATUS``                       -> last_status, last_delivery_date
- delivery       ``WEBHOOK#<webhook>#DELIVERIES`` / <id>            -> get, list_by_webhook
A webhook's type, organization and project are write-once, so only its own items change on a
save. A delivery is written once and never changed.

``last_status`` and ``last_delivery_date`` change on every delivery, so they live in an item of
their own: one UpdateItem per delivery (no read, no transaction over the copies, never a
conflict with a user's edit of the webhook), the newest delivery winning. Reads merge it: ``get``
reads both items with one Query, lists one BatchGetItem for the page's webhooks. A delivery that
finishes after its webhook was deleted may leave a status item behind; nothing reads it (ids are
never reused).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from ...domain.errors import NotFoundError
from ...domain.webhooks import Webhook, WebhookDelivery, WebhookType
from ...ports import WebhookRepositories
from .dynamo_store import PlainItem, VersionedStore, View, id_key, item_data, user_views
from .errors import aws_errors

MAIN, STATUS = "WEBHOOK", "STATUS"


def webhook_views(w: Webhook) -> list[View]:
    views = [View(f"WEBHOOK#{w.id}", "WEBHOOK"), View("ALL#WEBHOOKS", id_key(w.id))]
    if w.organization_id is not None:
        views.append(View(f"ORG#{w.organization_id}#WEBHOOKS", id_key(w.id)))
    if w.project_id is not None:
        views.append(View(f"PROJECT#{w.project_id}#WEBHOOKS", id_key(w.id)))
    if w.type is WebhookType.SERVER:
        views.append(View("SERVER#WEBHOOKS", id_key(w.id)))
    return views + user_views("WEBHOOKS", id_key(w.id), w.owner_id)


def delivery_views(d: WebhookDelivery) -> list[View]:
    return [View(f"WEBHOOK#{d.webhook_id}#DELIVERIES", id_key(d.id))]


class DynamoWebhookRepository:
    def __init__(self, table_name: str) -> None:
        self._s = VersionedStore(table_name, Webhook, "webhook", webhook_views)

    def add(self, webhook: Webhook) -> Webhook:
        return self._s.add(webhook)

    def get(self, webhook_id: int) -> Webhook:
        model = self._s.model
        with aws_errors("reading a webhook"):
            items = {i.sk: i for i in model.query(f"WEBHOOK#{webhook_id}", consistent_read=True)}
        if MAIN not in items:
            raise NotFoundError(f"Webhook {webhook_id} not found.")
        return _with_status(self._s.entity_of(items[MAIN]), items.get(STATUS))

    def save(self, webhook: Webhook) -> Webhook:
        return self._s.save(webhook)

    def delete(self, webhook_id: int) -> None:
        self._s.delete(f"WEBHOOK#{webhook_id}", MAIN)
        with aws_errors("deleting a webhook"):
            self._s.model(pk=f"WEBHOOK#{webhook_id}", sk=STATUS).delete()

    def note_delivery(self, webhook_id: int, status: int, at: datetime) -> None:
        model = self._s.model
        item = model(pk=f"WEBHOOK#{webhook_id}", sk=STATUS)
        with aws_errors("noting a webhook delivery"):
            try:
                item.update(
                    actions=[model.data.set({"last_status": status, "last_delivery_date": at.isoformat()}),
                             model.value.set(at.timestamp())],
                    condition=model.value.does_not_exist() | (model.value <= at.timestamp()),
                )
            except UpdateError as e:
                if e.cause_response_code != "ConditionalCheckFailedException":
                    raise
                # a newer delivery was noted first: it stays

    def _listed(self, pk: str) -> list[Webhook]:
        webhooks = self._s.query(pk)
        if not webhooks:
            return webhooks
        with aws_errors("reading webhooks' status"):
            found = {i.pk: i for i in self._s.model.batch_get(
                [(f"WEBHOOK#{w.id}", STATUS) for w in webhooks], consistent_read=True)}
        return [_with_status(w, found.get(f"WEBHOOK#{w.id}")) for w in webhooks]

    def list_all(self) -> list[Webhook]:
        return self._listed("ALL#WEBHOOKS")

    def list_by_organization(self, organization_id: int) -> list[Webhook]:
        return self._listed(f"ORG#{organization_id}#WEBHOOKS")

    def list_by_project(self, project_id: int) -> list[Webhook]:
        return self._listed(f"PROJECT#{project_id}#WEBHOOKS")

    def list_by_owner(self, user_id: int) -> list[Webhook]:
        return self._listed(f"USER#{user_id}#WEBHOOKS")

    def list_server(self) -> list[Webhook]:
        return self._listed("SERVER#WEBHOOKS")


def _with_status(webhook: Webhook, status: PlainItem | None) -> Webhook:
    if status is not None:
        data = item_data(status)
        webhook.last_status = int(data["last_status"])
        webhook.last_delivery_date = datetime.fromisoformat(str(data["last_delivery_date"]))
    return webhook


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
