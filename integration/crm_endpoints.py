"""Endpoints the CRMs call: HubSpot webhooks, Salesforce outbound messages, the HubSpot app card.

Webhooks only record what changed and queue the records; the worker's targeted sync does the
work, so the CRM gets its answer in milliseconds. Polling stays the safety net.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from connectors.hubspot.webhooks import parse_events, verify_signature_v3
from connectors.salesforce.outbound import ack_response, parse_outbound_message
from integration.api.errors import ApiError
from integration.services import Services
from integration.store.connections import connection_config, connections_for_account
from integration.store.models import Connection, WebhookDelivery
from integration.store.records import events_for, get_state, queue_records
from integration.store.types import utcnow
from integration.analytics import spans_from_events
from integration.sync.map_in_force import connection_map

bp = Blueprint("crm", __name__)

#: HubSpot subscription type prefix -> our object name.
HUBSPOT_OBJECTS = {"deal": "deal", "contact": "contact"}


def _services() -> Services:
    return current_app.extensions["journey"]


def _signed_uri() -> str:
    """The URL HubSpot signed: the public URL when one is configured (behind a proxy)."""
    public = _services().settings.public_url
    path = request.full_path if request.query_string else request.path
    return (public.rstrip("/") + path) if public else (request.url if request.query_string
                                                       else request.base_url)


def _hubspot_connection(portal_id: Any, body: bytes) -> Connection:
    """The connection of ``portal_id`` whose client secret verifies the v3 signature; else 401."""
    services = _services()
    signature = request.headers.get("X-HubSpot-Signature-v3", "")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
    with services.session() as session:
        candidates = connections_for_account(session, "hubspot", str(portal_id))
    for conn in candidates:
        secret = connection_config(services.secret_box, conn).get("client_secret")
        if secret and verify_signature_v3(secret, request.method, _signed_uri(), body, signature,
                                          timestamp):
            return conn
    raise ApiError(401, "BAD_SIGNATURE",
                   "missing, forged or stale X-HubSpot-Signature-v3 for this portal")


@bp.post("/webhooks/hubspot")
def hubspot_webhook():
    """Receive a batch of HubSpot events (legacy or generic format): verify, de-duplicate by each
    event's delivery key, queue the records."""
    body = request.get_data(cache=False)
    try:
        events = parse_events(body)
    except ValueError as exc:
        raise ApiError(400, "BAD_EVENTS", str(exc)) from None
    if not events:
        return jsonify({"queued": 0})
    conn = _hubspot_connection(events[0].portal_id, body)
    fresh = _record_deliveries(conn.id, [
        (e.delivery_key, e.object or "", e.object_id, e.subscription_type)
        for e in events if e.portal_id == events[0].portal_id])
    with _services().session() as session:
        queued = queue_records(session, conn.id, [(obj, oid) for obj, oid in fresh if obj])
    return jsonify({"queued": queued, "duplicates": len(events) - len(fresh)})


@bp.post("/webhooks/salesforce")
def salesforce_outbound():
    """Receive a Salesforce outbound message: check the org, queue the ids, answer the SOAP Ack."""
    try:
        org_id, ids = parse_outbound_message(request.get_data(cache=False))
    except ValueError as exc:
        return _soap_fault(400, f"malformed outbound message: {exc}")
    with _services().session() as session:
        conns = [c for c in connections_for_account(session, "salesforce", org_id)]
        if not conns:
            return _soap_fault(403, "organization id does not match any connection")
        for conn in conns:
            queue_records(session, conn.id, [("opportunity", i) for i in ids])
    for conn in conns:
        _record_deliveries(conn.id, [(f"outbound:{i}:{utcnow().isoformat()}", "opportunity", i,
                                      "outbound") for i in ids])
    return Response(ack_response(), mimetype="text/xml")


def _soap_fault(status: int, message: str) -> Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            '<soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>'
            + message.replace("&", "&amp;").replace("<", "&lt;")
            + "</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>")
    return Response(body, status=status, mimetype="text/xml")


def _record_deliveries(connection_id: int, rows: list[tuple[str, str, str, str]]
                       ) -> list[tuple[str, str]]:
    """Store deliveries, skipping delivery keys seen before. Returns the (object, id) of new ones."""
    fresh = []
    services = _services()
    for event_id, obj, crm_id, kind in rows:
        try:
            with services.session() as session:
                session.add(WebhookDelivery(connection_id=connection_id, event_id=event_id,
                                            object=obj, crm_id=crm_id, kind=kind))
            fresh.append((obj, crm_id))
        except IntegrityError:
            continue
    return fresh


@bp.get("/cards/hubspot/<object>/<crm_id>")
def hubspot_card(object: str, crm_id: str):
    """The journey a HubSpot app card shows a rep (request signed by HubSpot, v3)."""
    if object not in HUBSPOT_OBJECTS:
        raise ApiError(404, "NOT_FOUND", f"no card for {object!r}")
    portal_id = request.args.get("portalId")
    if not portal_id:
        raise ApiError(400, "BAD_REQUEST", "portalId is required")
    conn = _hubspot_connection(portal_id, b"")
    with _services().session() as session:
        row = get_state(session, conn.id, object, crm_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"{object} {crm_id} has not been synced yet")
        jmap, _ = connection_map(session, conn.id)
        spans = spans_from_events(events_for(session, conn.id, object, crm_id), jmap, utcnow())
    state = row.state
    return jsonify({
        "object": object, "id": crm_id, "name": row.name,
        "stage": {"key": row.stage, "label": state.get("stage_label"),
                  "position": (state.get("stage_index") + 1) if state.get("stage_index") is not None else None,
                  "of": len(jmap.stages), "is_exit": state.get("is_exit"),
                  "crm_stage": row.crm_stage,
                  "stages": [{"key": s.key, "label": s.label} for s in jmap.stages]},
        "days_in_stage": state.get("days_in_stage"), "expected_days": state.get("expected_days"),
        "stalled": row.stalled, "days_over": row.days_over,
        "persona": {"key": row.persona, "label": state.get("persona_label")},
        "next_best_action": state.get("next_best_action"),
        "timeline": [{"stage": s.stage, "label": s.label, "entered_at": s.entered_at,
                      "exited_at": s.exited_at, "days": s.days, "stalled": s.stalled}
                     for s in spans],
    })
