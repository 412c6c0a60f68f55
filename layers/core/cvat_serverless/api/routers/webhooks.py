"""/api/webhooks: CRUD, the event list, ping, deliveries and redelivery (CVAT's WebhookViewSet)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ..params import list_params
from ..present import Presenter
from ..schemas import webhooks as sw
from ._common import Call, ObjectId, patched

if TYPE_CHECKING:
    from ...domain.query import Page
    from ...domain.webhooks import Webhook, WebhookDelivery
    from ...services.webhooks import WebhookWrite

router = Router()
TAGS = ["webhooks"]
DeliveryId = Annotated[int, Path(ge=0, le=2**31 - 1)]


def webhook_read(p: Presenter, w: Webhook) -> sw.WebhookRead:
    return sw.WebhookRead(
        id=w.id, url=p.url(f"/api/webhooks/{w.id}"), target_url=w.target_url, description=w.description,
        type=sw.WebhookType(w.type.value), content_type=sw.WebhookContentType(w.content_type),
        is_active=w.is_active, enable_ssl=w.enable_ssl, created_date=w.created_date, updated_date=w.updated_date,
        owner=p.basic_user(w.owner_id), project_id=w.project_id, organization=w.organization_id,
        events=sorted(w.events), last_status=w.last_status, last_delivery_date=w.last_delivery_date,
    )


def delivery_read(d: WebhookDelivery) -> sw.WebhookDeliveryRead:
    return sw.WebhookDeliveryRead(
        id=d.id, webhook_id=d.webhook_id, event=d.event, status_code=d.status_code, redelivery=d.redelivery,
        attempt=d.attempt, request_duration=d.request_duration, created_date=d.created_date,
        updated_date=d.updated_date, changed_fields=d.changed_fields, request=d.request, response=d.response,
    )


def _write(body: Any) -> WebhookWrite:
    from ...services.webhooks import WebhookWrite

    def value(name: str) -> Any:
        v = patched(body, name, nullable=False)
        return getattr(v, "value", v)

    return WebhookWrite(**{n: value(n) for n in ("target_url", "events", "description", "content_type", "secret",
                                                 "is_active", "enable_ssl")})


@router.get("/api/webhooks", tags=TAGS, summary="Webhooks the caller may manage")
@list_params("owner", "project_id", "target_url", "type")
def list_webhooks(**_: str | None) -> sw.PaginatedWebhookReadList:
    call = Call(router)
    page = call.services.webhooks.list(call.ctx, call.query)
    return sw.PaginatedWebhookReadList.model_validate(call.show_page(page, webhook_read))


@router.post("/api/webhooks", tags=TAGS, summary="Create a webhook", status_code=201)
def create_webhook(body: sw.WebhookWriteRequest) -> sw.WebhookRead:
    from ...domain.webhooks import WebhookType

    call = Call(router)
    webhook = call.services.webhooks.create(call.ctx, WebhookType(body.type.value), body.project_id, _write(body))
    return call.show(webhook, webhook_read)


@router.get("/api/webhooks/events", tags=TAGS, summary="The events each webhook type may subscribe to")
def list_events(type: Annotated[str, Query()] = "all") -> sw.Events:
    from ...domain.webhooks import event_group, events_for

    Call(router).signed_in()
    return sw.Events(webhook_type=type, events=[
        sw.WebhooksEvent(key=k, group=sw.EventGroup(display_name=event_group(k))) for k in events_for(type)])


@router.get("/api/webhooks/<id>", tags=TAGS, summary="One webhook")
def get_webhook(id: ObjectId) -> sw.WebhookRead:
    call = Call(router)
    return call.show(call.services.webhooks.get(call.ctx, id), webhook_read)


@router.put("/api/webhooks/<id>", tags=TAGS, summary="Replace a webhook's settings")
def replace_webhook(id: ObjectId, body: sw.WebhookWriteRequest) -> sw.WebhookRead:
    call = Call(router)
    for name in ("description", "content_type", "secret", "is_active", "enable_ssl"):
        body.model_fields_set.add(name)  # PUT: defaults replace what was stored
    return call.show(call.services.webhooks.update(call.ctx, id, _write(body)), webhook_read)


@router.patch("/api/webhooks/<id>", tags=TAGS, summary="Change some of a webhook's settings")
def update_webhook(id: ObjectId, body: sw.PatchedWebhookWriteRequest | None = None) -> sw.WebhookRead:
    call = Call(router)
    body = body or sw.PatchedWebhookWriteRequest()
    return call.show(call.services.webhooks.update(call.ctx, id, _write(body)), webhook_read)


@router.delete("/api/webhooks/<id>", tags=TAGS, summary="Delete a webhook and its deliveries")
def delete_webhook(id: ObjectId) -> Response[None]:
    call = Call(router)
    call.services.webhooks.delete(call.ctx, id)
    return Response(status_code=204)


@router.post("/api/webhooks/<id>/ping", tags=TAGS, summary="Deliver a ping event now")
def ping_webhook(id: ObjectId) -> sw.WebhookDeliveryRead:
    call = Call(router)
    shown = call.show(call.services.webhooks.get(call.ctx, id), webhook_read)
    return delivery_read(call.services.webhooks.ping(call.ctx, id, shown.model_dump(mode="json")))


@router.get("/api/webhooks/<id>/deliveries", tags=TAGS, summary="A webhook's deliveries, newest first")
@list_params()
def list_deliveries(id: ObjectId, **_: str | None) -> sw.PaginatedWebhookDeliveryReadList:
    call = Call(router)
    page: Page[WebhookDelivery] = call.services.webhooks.deliveries(call.ctx, id, call.query)
    return sw.PaginatedWebhookDeliveryReadList.model_validate(
        Presenter(call.event).page(page, delivery_read))


@router.get("/api/webhooks/<id>/deliveries/<delivery_id>", tags=TAGS, summary="One delivery")
def get_delivery(id: ObjectId, delivery_id: DeliveryId) -> sw.WebhookDeliveryRead:
    call = Call(router)
    return delivery_read(call.services.webhooks.delivery(call.ctx, id, delivery_id))


@router.post("/api/webhooks/<id>/deliveries/<delivery_id>/redelivery", tags=TAGS,
             summary="Send a delivery's payload again")
def redeliver(id: ObjectId, delivery_id: DeliveryId) -> dict[str, Any]:
    call = Call(router)
    call.services.webhooks.redeliver(call.ctx, id, delivery_id)
    return {}
