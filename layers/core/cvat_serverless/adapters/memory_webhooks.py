"""In-memory webhooks, deliveries and delivery queue (tests; the fakes of ports.Webhook*)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..domain.errors import NotFoundError
from ..domain.webhooks import Webhook, WebhookDelivery, WebhookType
from ..ports import HttpAnswer, WebhookRepositories
from .memory import _Store


class InMemoryWebhookRepository:
    """Keeps each webhook's last delivery apart from the webhook, as the DynamoDB adapter does."""

    def __init__(self) -> None:
        self._s: _Store[int, Webhook] = _Store("webhook", lambda w: w.id)
        self._status: dict[int, tuple[int, datetime]] = {}
        self._lock = threading.Lock()

    def _shown(self, webhook: Webhook) -> Webhook:
        with self._lock:
            status = self._status.get(webhook.id)
        if status is not None:
            webhook.last_status, webhook.last_delivery_date = status
        return webhook

    def add(self, webhook: Webhook) -> Webhook:
        return self._s.add(webhook)

    def get(self, webhook_id: int) -> Webhook:
        return self._shown(self._s.get(webhook_id))

    def save(self, webhook: Webhook) -> Webhook:
        return self._shown(self._s.save(webhook))

    def delete(self, webhook_id: int) -> None:
        self._s.delete(webhook_id)
        with self._lock:
            self._status.pop(webhook_id, None)

    def note_delivery(self, webhook_id: int, status: int, at: datetime) -> None:
        with self._lock:
            noted = self._status.get(webhook_id)
            if noted is None or noted[1] <= at:
                self._status[webhook_id] = (status, at)

    def list_all(self) -> list[Webhook]:
        return [self._shown(w) for w in self._s.find(lambda _: True)]

    def list_by_organization(self, organization_id: int) -> list[Webhook]:
        return [self._shown(w) for w in self._s.find(lambda w: w.organization_id == organization_id)]

    def list_by_project(self, project_id: int) -> list[Webhook]:
        return [self._shown(w) for w in self._s.find(lambda w: w.project_id == project_id)]

    def list_by_owner(self, user_id: int) -> list[Webhook]:
        return [self._shown(w) for w in self._s.find(lambda w: w.owner_id == user_id)]

    def list_server(self) -> list[Webhook]:
        return [self._shown(w) for w in self._s.find(lambda w: w.type is WebhookType.SERVER)]


class InMemoryWebhookDeliveryRepository:
    def __init__(self) -> None:
        self._s: _Store[int, WebhookDelivery] = _Store("webhook delivery", lambda d: d.id)

    def add(self, delivery: WebhookDelivery) -> WebhookDelivery:
        return self._s.add(delivery)

    def get(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        delivery = self._s.get(delivery_id)
        if delivery.webhook_id != webhook_id:
            raise NotFoundError(f"webhook delivery {delivery_id} not found.")
        return delivery

    def list_by_webhook(self, webhook_id: int) -> list[WebhookDelivery]:
        return self._s.find(lambda d: d.webhook_id == webhook_id)

    def delete_by_webhook(self, webhook_id: int) -> None:
        for delivery in self.list_by_webhook(webhook_id):
            self._s.delete(delivery.id)


def memory_webhook_repositories() -> WebhookRepositories:
    return WebhookRepositories(InMemoryWebhookRepository(), InMemoryWebhookDeliveryRepository())


class InMemoryWebhookQueue:
    """Keeps what was sent: ``(job, delay_s)`` pairs, oldest first; ``take()`` empties it."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []
        self._lock = threading.Lock()

    def send(self, jobs: Sequence[Mapping[str, Any]], *, delay_s: int = 0) -> None:
        with self._lock:
            self.sent.extend((dict(j), delay_s) for j in jobs)

    def take(self) -> list[tuple[dict[str, Any], int]]:
        with self._lock:
            taken, self.sent = self.sent, []
        return taken


class InMemoryWebhookSender:
    """Records every POST and answers from ``answers`` (status codes, in order; 200 when empty).
    ``check`` runs the real SSRF decisions over ``dns`` (host name -> addresses; a name not in
    it resolves to a public documentation-free address)."""

    def __init__(self, *, allow_loopback: bool = False, dns: Mapping[str, Sequence[str]] | None = None) -> None:
        self.allow_loopback = allow_loopback
        self.dns = dict(dns or {})
        self.answers: list[int] = []
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    def check(self, url: str) -> None:
        from ..domain.egress import check_resolved, check_url

        target = check_url(url, what="webhook")
        found = [str(target.address)] if target.address is not None else self.dns.get(target.host, ["93.184.215.14"])
        check_resolved(target.host, found, allow_loopback=self.allow_loopback, subject=f"webhook {url}")

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, verify_tls: bool) -> HttpAnswer:
        self.check(url)
        self.posts.append((url, body, dict(headers)))
        status = self.answers.pop(0) if self.answers else 200
        return HttpAnswer(status, "ok" if status < 400 else "failed", 1)
