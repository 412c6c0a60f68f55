"""CVAT's webhooks: the API's use cases (WebhookService) and their delivery (WebhookDispatcher).

Delivery never loses an event and one bad receiver never holds up the others:

1. Every domain event reaches ``DomainEventsQueue`` (EventBridge rule). :meth:`WebhookDispatcher.fan_out`
   turns one event into one job per subscribed webhook on ``WebhookDeliveryQueue``. If that
   fails, the event's message is retried by SQS (then dead-lettered), so a webhook may get an
   event twice but never zero times.
2. :meth:`WebhookDispatcher.deliver` runs one job: one POST, one recorded delivery. A network
   failure, a 5xx, 408 or 429 queues the next attempt as a new message delayed by
   ``domain.webhooks.RETRY_DELAYS_S`` (5 s up to 15 min, 9 attempts in all) and the current
   message succeeds: a slow or dead receiver delays only its own jobs. A job that fails for the
   platform's reasons (the table unavailable) fails its record, SQS retries it, and after
   ``maxReceiveCount`` it waits in ``WebhookDeliveryDeadLetterQueue`` (``cvat-serverless webhooks
   dlq --redrive`` puts it back).

Ordering: none is guaranteed. Jobs are standard SQS messages, delivered at least once; a retry
arrives after later events of the same object, and a receiver sees an event twice when a step
is retried. Receivers should order by the object's ``updated_date`` and tolerate duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.context import RequestContext
from ..domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from ..domain.query import Page, apply_list_query, parse_list_query
from ..domain.webhooks import (
    CONTENT_TYPE,
    DELIVERY_LIST,
    PING,
    WEBHOOK_LIST,
    Webhook,
    WebhookDelivery,
    WebhookType,
    body_of,
    event_payload,
    is_retryable,
    is_server_event,
    may_create,
    may_manage,
    request_headers,
    retry_delay,
    subscribed,
    validate_events,
    validate_text,
)
from ..ports import (
    Clock,
    IdGenerator,
    Repositories,
    WebhookPayloadRenderer,
    WebhookQueue,
    WebhookRepositories,
    WebhookSender,
)
from .common import UNSET, Unset, basic_user_fields
from .views import Related, Shown


@dataclass(frozen=True, slots=True)
class WebhookWrite:
    """A webhook's writable fields; UNSET (PATCH) keeps the stored value."""

    target_url: str | Unset = UNSET
    events: list[str] | Unset = UNSET
    description: str | Unset = UNSET
    content_type: str | Unset = UNSET
    secret: str | Unset = UNSET
    is_active: bool | Unset = UNSET
    enable_ssl: bool | Unset = UNSET


def basic_user(fields: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """CVAT's BasicUser of a user's fields (``services.common.basic_user_fields``): the ``url``
    is absolute under ``origin`` (relative when none is known)."""
    return {"url": f"{origin}/api/users/{fields['id']}", "id": fields["id"], "username": fields["username"],
            "first_name": fields["first_name"], "last_name": fields["last_name"]}


def sender_of(repos: Repositories, detail: Mapping[str, Any], origin: str) -> dict[str, Any] | None:
    """CVAT's ``sender``: the acting user as a BasicUser. Events carry the actor's fields from
    the request that made them; older ones (still queued) only the id: the user is read."""
    actor = detail.get("actor")
    if actor is None:
        user_id = detail.get("actor_id")
        if user_id is None:
            return None
        try:
            actor = basic_user_fields(repos.users.get(int(user_id)))
        except NotFoundError:
            return None
    return basic_user(actor, origin)


class WebhookDispatcher:
    """Fan-out of domain events to delivery jobs, and the delivery of one job.

    A payload's object is shown as the API's GET shows it (``renderer``), with URLs under the
    origin of the request that made the event, or ``public_url`` for events made without one
    (Step Functions workers); with neither, URLs are relative."""

    def __init__(self, repos: Repositories, hooks: WebhookRepositories, ids: IdGenerator, clock: Clock, *,
                 sender: WebhookSender, queue: WebhookQueue, renderer: WebhookPayloadRenderer | None = None,
                 public_url: str = "") -> None:
        self.repos = repos
        self.hooks = hooks
        self.ids = ids
        self.clock = clock
        self.sender = sender
        self.queue = queue
        self.renderer = renderer
        self.public_url = public_url.rstrip("/")

    def matching(self, detail: Mapping[str, Any]) -> list[Webhook]:
        """The active webhooks subscribed to the event: of its organization, of its project, and
        server webhooks for the server's events."""
        event = str(detail["event"])
        org_id = detail.get("organization_id")
        project_id = detail.get("project_id")
        if project_id is None and detail.get("resource") == "project":
            project_id = detail.get("id")
        candidates: dict[int, Webhook] = {}
        if org_id is not None:
            candidates.update((w.id, w) for w in self.hooks.webhooks.list_by_organization(int(org_id)))
        if project_id is not None:
            candidates.update((w.id, w) for w in self.hooks.webhooks.list_by_project(int(project_id)))
        if is_server_event(event):
            candidates.update((w.id, w) for w in self.hooks.webhooks.list_server())
        return [w for _, w in sorted(candidates.items()) if subscribed(w, event, org_id, project_id)]

    def fan_out(self, detail: Mapping[str, Any]) -> int:
        """Queue one delivery job per webhook the event goes to; how many."""
        webhooks = self.matching(detail)
        if not webhooks:
            return 0
        origin = str(detail.get("origin") or self.public_url)
        sender = sender_of(self.repos, detail, origin)
        shown = self._shown(detail, origin)  # once per event, whatever the number of webhooks
        self.queue.send([
            {"webhook_id": w.id, "event": detail["event"], "attempt": 1, "redelivery": False,
             "payload": event_payload(detail, w.id, sender, shown=shown)}
            for w in webhooks
        ])
        return len(webhooks)

    def _shown(self, detail: Mapping[str, Any], origin: str) -> dict[str, Any] | None:
        """The event's object as GET shows it; None: the event's own JSON is sent."""
        resource = str(detail["resource"])
        obj = detail.get(resource)
        if self.renderer is None or not isinstance(obj, Mapping):
            return None
        return self.renderer.render(resource, obj, origin)

    def forget_deleted_owner(self, detail: Mapping[str, Any]) -> int:
        """A deleted project's or organization's webhooks go with it (CVAT's cascade), once its
        ``delete:`` event was fanned out (their jobs then find them gone and are dropped); how many."""
        event, resource_id = str(detail["event"]), detail.get("id")
        if event == "delete:project" and resource_id is not None:
            webhooks = self.hooks.webhooks.list_by_project(int(resource_id))
        elif event == "delete:organization" and resource_id is not None:
            webhooks = [w for w in self.hooks.webhooks.list_by_organization(int(resource_id))
                        if w.organization_id == int(resource_id)]
        else:
            return 0
        for webhook in webhooks:
            self.hooks.webhooks.delete(webhook.id)
            self.hooks.deliveries.delete_by_webhook(webhook.id)
        return len(webhooks)

    def handle(self, message: Mapping[str, Any]) -> str:
        """One message of the delivery function: an EventBridge envelope (``DomainEventsQueue``)
        is fanned out, anything else is a job (``WebhookDeliveryQueue``). What happened, for the log."""
        if "detail-type" in message:
            queued = self.fan_out(message["detail"])
            gone = self.forget_deleted_owner(message["detail"])
            return f"{message['detail-type']}: {queued} job(s) queued, {gone} webhook(s) of a deleted owner deleted"
        delivery = self.deliver(message)
        if delivery is None:
            return f"{message.get('event')} to webhook {message.get('webhook_id')}: dropped (gone or inactive)"
        return (f"{delivery.event} to webhook {delivery.webhook_id}: attempt {delivery.attempt}, "
                f"status {delivery.status_code}, delivery {delivery.id}")

    def deliver(self, job: Mapping[str, Any], *, retry: bool = True) -> WebhookDelivery | None:
        """POST one job's payload, record the attempt, queue the next one when the receiver failed
        in a way worth retrying. None when the webhook is gone or inactive (the job is dropped)."""
        try:
            webhook = self.hooks.webhooks.get(int(job["webhook_id"]))
        except NotFoundError:
            return None
        event = str(job["event"])
        if not webhook.is_active and event != PING:
            return None
        payload = dict(job["payload"])
        attempt = int(job.get("attempt", 1))
        body = body_of(payload)
        try:
            answer = self.sender.post(webhook.target_url, body, request_headers(webhook.secret, body),
                                      verify_tls=webhook.enable_ssl)
            status: int | None = answer.status_code
            response, duration = answer.body, answer.duration_ms
        except ValidationError as e:  # the guard refused the target now (its DNS changed)
            status, response, duration = None, str(e), None
        now = self.clock.now()
        delivery = self.hooks.deliveries.add(WebhookDelivery(
            id=self.ids.next_id("webhook_delivery"), webhook_id=webhook.id, event=event, status_code=status,
            redelivery=bool(job.get("redelivery")), attempt=attempt, request_duration=duration, request=payload,
            response=response, changed_fields=",".join(sorted(payload.get("before_update") or {})),
            created_date=now, updated_date=now,
        ))
        if status is not None:
            self.hooks.webhooks.note_delivery(webhook.id, status, now)
        if retry and status is not None and is_retryable(status) and (delay := retry_delay(attempt)) is not None:
            self.queue.send([{**job, "attempt": attempt + 1}], delay_s=delay)
        return delivery


class WebhookService:
    """``/api/webhooks``: CRUD with CVAT's permissions, the event list, ping, deliveries."""

    def __init__(self, repos: Repositories, hooks: WebhookRepositories, ids: IdGenerator, clock: Clock, *,
                 dispatcher: WebhookDispatcher) -> None:
        self.repos = repos
        self.hooks = hooks
        self.ids = ids
        self.clock = clock
        self.dispatcher = dispatcher

    def _shown(self, value: Any, webhooks: list[Webhook]) -> Shown[Any]:
        return Shown(value, Related(users=self.repos.users.get_many(
            sorted({w.owner_id for w in webhooks if w.owner_id is not None}))))

    def _project_owner(self, project_id: int | None) -> int | None:
        if project_id is None:
            return None
        try:
            return self.repos.projects.get(project_id).owner_id
        except NotFoundError:
            return None

    def _managed(self, ctx: RequestContext, webhook_id: int) -> Webhook:
        webhook = self.hooks.webhooks.get(webhook_id)
        if not may_manage(ctx.actor, webhook, self._project_owner(webhook.project_id)):
            raise PermissionDeniedError()
        return webhook

    def _check_target(self, url: str) -> None:
        try:
            self.dispatcher.sender.check(url)
        except ValidationError as e:
            raise ValidationError(fields={"target_url": [str(e)]}) from None

    def create(self, ctx: RequestContext, kind: WebhookType, project_id: int | None, data: WebhookWrite
               ) -> Shown[Webhook]:
        """A new webhook: an organization's (of the request's organization) or a project's."""
        ctx.require_write()
        project_owner = None
        org_id: int | None
        if kind is WebhookType.SERVER:
            org_id, project_id = None, None
        elif kind is WebhookType.ORGANIZATION:
            if ctx.org_id is None:
                raise ValidationError(fields={"type": ["An organization webhook is created in an organization."]})
            org_id, project_id = ctx.org_id, None
        else:
            if project_id is None:
                raise ValidationError(fields={"project_id": ["A project webhook needs its project_id."]})
            try:
                project = self.repos.projects.get(project_id)
            except NotFoundError:
                raise ValidationError(fields={"project_id": [f'Invalid pk "{project_id}" - object does not exist.']}
                                      ) from None
            org_id, project_owner = project.organization_id, project.owner_id
        if not may_create(ctx.actor, kind, org_id, project_owner):
            raise PermissionDeniedError()
        webhook = Webhook(id=0, target_url="", type=kind, events=[], owner_id=ctx.user_id, organization_id=org_id,
                          project_id=project_id)
        self._apply(webhook, data, required=True)
        webhook.id = self.ids.next_id("webhook")
        webhook.created_date = webhook.updated_date = self.clock.now()
        webhook = self.hooks.webhooks.add(webhook)
        return self._shown(webhook, [webhook])

    def _apply(self, webhook: Webhook, data: WebhookWrite, *, required: bool = False) -> None:
        if required and (isinstance(data.target_url, Unset) or isinstance(data.events, Unset)):
            raise ValidationError(fields={n: ["This field is required."] for n in ("target_url", "events")
                                          if isinstance(getattr(data, n), Unset)})
        if not isinstance(data.content_type, Unset) and data.content_type != CONTENT_TYPE:
            raise ValidationError(fields={"content_type": [f'"{data.content_type}" is not a valid choice.']})
        for name in ("description", "secret", "is_active", "enable_ssl"):
            value = getattr(data, name)
            if not isinstance(value, Unset):
                setattr(webhook, name, value)
        if not isinstance(data.events, Unset):
            webhook.events = validate_events(webhook.type, data.events)
        if not isinstance(data.target_url, Unset):
            validate_text(data.target_url, webhook.description, webhook.secret)
            if data.target_url != webhook.target_url:
                self._check_target(data.target_url)
            webhook.target_url = data.target_url
        validate_text(webhook.target_url, webhook.description, webhook.secret)

    def get(self, ctx: RequestContext, webhook_id: int) -> Shown[Webhook]:
        webhook = self._managed(ctx, webhook_id)
        return self._shown(webhook, [webhook])

    def list(self, ctx: RequestContext, params: Mapping[str, str]) -> Shown[Page[Webhook]]:
        """The webhooks the caller may manage in the request's scope, with CVAT's filters
        (``type``, ``owner``, ``project_id``, ``target_url``), search, sort and pages. Server
        webhooks only with ``type=server`` (cvat-sdk 2.80 cannot read a list holding one)."""
        repo = self.hooks.webhooks
        if params.get("type") == WebhookType.SERVER.value:
            items = repo.list_server() if ctx.actor.is_admin else []
        elif ctx.org_id is not None:
            items = repo.list_by_organization(ctx.org_id)
        elif ctx.actor.is_admin:
            items = repo.list_all()
        else:
            found = {w.id: w for w in repo.list_by_owner(ctx.user_id)}
            for project in self.repos.projects.list_by_user(ctx.user_id):
                if project.owner_id == ctx.user_id:
                    found.update((w.id, w) for w in repo.list_by_project(project.id))
            items = [found[k] for k in sorted(found)]
        if params.get("type") != WebhookType.SERVER.value:
            items = [w for w in items if w.type is not WebhookType.SERVER]
        if ctx.org.explicit and ctx.org_id is None:
            items = [w for w in items if w.organization_id is None]
        owners = {p: self._project_owner(p) for p in {w.project_id for w in items if w.project_id is not None}}
        items = [w for w in items if may_manage(ctx.actor, w, owners.get(w.project_id) if w.project_id else None)]
        users = self.repos.users.get_many(sorted({w.owner_id for w in items if w.owner_id is not None}))

        def row(w: Webhook) -> dict[str, object]:
            owner = users.get(w.owner_id) if w.owner_id is not None else None
            return {"id": w.id, "target_url": w.target_url, "owner": owner.username if owner else None,
                    "type": w.type.value, "description": w.description, "project_id": w.project_id,
                    "updated_date": w.updated_date}

        page = apply_list_query(((w, row(w)) for w in items), WEBHOOK_LIST, parse_list_query(params, WEBHOOK_LIST))
        return Shown(page, Related(users=users))

    def update(self, ctx: RequestContext, webhook_id: int, data: WebhookWrite) -> Shown[Webhook]:
        """PUT/PATCH: ``type`` and ``project_id`` are write-once."""
        ctx.require_write()
        webhook = self._managed(ctx, webhook_id)
        self._apply(webhook, data)
        webhook.updated_date = self.clock.now()
        webhook = self.hooks.webhooks.save(webhook)
        return self._shown(webhook, [webhook])

    def delete(self, ctx: RequestContext, webhook_id: int) -> None:
        ctx.require_write()
        webhook = self._managed(ctx, webhook_id)
        self.hooks.webhooks.delete(webhook.id)
        self.hooks.deliveries.delete_by_webhook(webhook.id)

    def ping(self, ctx: RequestContext, webhook_id: int, shown: Mapping[str, Any]) -> WebhookDelivery:
        """Deliver ``{"event": "ping", "webhook": <the webhook as shown>, "sender"}`` now (CVAT
        answers with this delivery; no retries)."""
        webhook = self._managed(ctx, webhook_id)
        sender = basic_user(basic_user_fields(ctx.user), ctx.origin or self.dispatcher.public_url)
        payload = {"event": PING, "webhook": dict(shown), "sender": sender}
        delivery = self.dispatcher.deliver(
            {"webhook_id": webhook.id, "event": PING, "attempt": 1, "redelivery": False, "payload": payload},
            retry=False)
        assert delivery is not None  # ping delivers to inactive webhooks too
        return delivery

    def deliveries(self, ctx: RequestContext, webhook_id: int, params: Mapping[str, str]) -> Page[WebhookDelivery]:
        """The webhook's deliveries, newest first."""
        webhook = self._managed(ctx, webhook_id)
        items = self.hooks.deliveries.list_by_webhook(webhook.id)
        return apply_list_query(((d, {"id": d.id}) for d in items), DELIVERY_LIST,
                                parse_list_query(params, DELIVERY_LIST))

    def delivery(self, ctx: RequestContext, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        webhook = self._managed(ctx, webhook_id)
        return self.hooks.deliveries.get(webhook.id, delivery_id)

    def redeliver(self, ctx: RequestContext, webhook_id: int, delivery_id: int) -> None:
        """Queue the stored payload again, unchanged, as a redelivery."""
        ctx.require_write()
        delivery = self.delivery(ctx, webhook_id, delivery_id)
        self.dispatcher.queue.send([{"webhook_id": webhook_id, "event": delivery.event, "attempt": 1,
                                     "redelivery": True, "payload": delivery.request}])
