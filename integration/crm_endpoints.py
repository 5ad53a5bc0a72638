"""Endpoints the CRMs call, one generic route per kind: change notifications and record cards.

``/webhooks/<crm>`` (and ``/webhooks/<crm>/<subpath>``) hands the request to the CRM's declared
receiver (``ConnectorSpec.receiver``), which parses it into the account and the changed records
and verifies it against the account's connections; the records are queued for the worker's
targeted sync, so the CRM gets its answer in milliseconds. ``/cards/<crm>/<object>/<id>`` serves
the record's journey to the CRM's card or record page (``ConnectorSpec.card``). Neither names a
CRM: adding one is a new plug-in, not an edit here.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from connectors import registry
from connectors.plugin import ConnectorSpec, InboundRequest, Refused, Reply
from integration.api.errors import ApiError
from integration.journey_view import record_journey
from integration.notification_urls import is_own_endpoint
from integration.services import Services
from integration.store.connections import connection_config, connections_for_account
from integration.store.models import Connection, WebhookDelivery
from integration.store.records import queue_records

bp = Blueprint("crm", __name__)


def _services() -> Services:
    return current_app.extensions["journey"]


def _spec(crm: str) -> ConnectorSpec:
    try:
        return registry.spec(crm)
    except KeyError:
        raise ApiError(404, "NOT_FOUND", f"no CRM named {crm!r}") from None


def _inbound(subpath: str = "") -> InboundRequest:
    """The request as the CRM's hooks see it. ``url`` is the URL the CRM called, as signatures
    cover it: the public URL when one is configured (behind a proxy, which may change scheme, host
    and port), else this request's host; then the request target exactly as it arrived (gunicorn
    and werkzeug keep it in RAW_URI), not a re-encoding of the parsed path and query."""
    public = _services().settings.public_url
    target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not target:
        target = request.full_path if request.query_string else request.path
    elif "://" in target.split("?", 1)[0]:
        # absolute-form request target (as proxies send it): keep its path and query as sent
        rest = target.split("://", 1)[1]
        target = rest[rest.find("/"):] if "/" in rest else "/"
    url = (public.rstrip("/") if public else request.host_url.rstrip("/")) + target
    return InboundRequest(method=request.method, url=url, subpath=subpath,
                          headers={k.lower(): v for k, v in request.headers.items()},
                          query=request.args.to_dict(), body=request.get_data(cache=False))


def _verified(crm: str, account_id: str | None, inbound: InboundRequest,
              verify: Callable[[InboundRequest, Mapping[str, Any]], bool]) -> list[Connection]:
    """The connections of the CRM account that accept the request as really coming from it."""
    if not account_id:
        return []
    services = _services()
    with services.session() as session:
        candidates = connections_for_account(session, crm, str(account_id))
    return [conn for conn in candidates
            if verify(inbound, connection_config(services.secret_box, conn))]


def _reply(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


@bp.post("/webhooks/<crm>")
@bp.post("/webhooks/<crm>/<path:subpath>")
def receive_notifications(crm: str, subpath: str = ""):
    """Receive a CRM's change notifications: parse, verify, de-duplicate, queue the records."""
    spec = _spec(crm)
    receiver = spec.receiver
    if receiver is None:
        raise ApiError(404, "NOT_FOUND", f"{spec.label} sends no notifications here")
    inbound = _inbound(subpath)
    try:
        delivery = receiver.parse(inbound)
        if not delivery.notices:
            queued = duplicates = 0
        else:
            conns = _verified(crm, delivery.account_id, inbound, receiver.verify)
            if receiver.per_connection_url:
                settings = _services().settings
                conns = [conn for conn in conns if is_own_endpoint(settings, conn.id, subpath)]
            if not conns:
                raise receiver.unverified
            queued, duplicates = _queue(conns, delivery.notices)
    except Refused as refused:
        if receiver.refuse is not None:
            return _reply(receiver.refuse(refused))
        raise ApiError(refused.status, refused.code, str(refused)) from None
    if receiver.ack is not None:
        return _reply(receiver.ack(queued, duplicates))
    return jsonify({"queued": queued, "duplicates": duplicates})


def _queue(conns: list[Connection], notices) -> tuple[int, int]:
    """Record each notice's delivery per connection, skipping delivery keys seen before, and queue
    the records of the new ones. Returns (records queued, duplicate notices)."""
    services = _services()
    queued = duplicates = 0
    for conn in conns:
        fresh = []
        for notice in notices:
            try:
                with services.session() as session:
                    session.add(WebhookDelivery(connection_id=conn.id, event_id=notice.delivery_key,
                                                object=notice.object, crm_id=notice.id,
                                                kind=notice.kind))
                fresh.append((notice.object, notice.id))
            except IntegrityError:
                duplicates += 1
        with services.session() as session:
            queued += queue_records(session, conn.id, fresh)
    return queued, duplicates


@bp.get("/cards/<crm>/<object>/<crm_id>")
def record_card(crm: str, object: str, crm_id: str):
    """The journey a CRM's record card or page shows a rep (the request verified by the CRM's
    declared card hook)."""
    spec = _spec(crm)
    card = spec.card
    if card is None or object not in card.objects:
        raise ApiError(404, "NOT_FOUND", f"no {spec.label} card for {object!r}")
    inbound = _inbound()
    try:
        conns = _verified(crm, card.account(inbound), inbound, card.verify)
        if not conns:
            raise card.unverified
    except Refused as refused:
        raise ApiError(refused.status, refused.code, str(refused)) from None
    with _services().session() as session:
        view = record_journey(session, conns[0].id, object, crm_id,
                              base_url=_services().settings.base_url)
    if view is None:
        raise ApiError(404, "NOT_FOUND", f"{object} {crm_id} has not been synced yet")
    return jsonify(view)
