"""Webhooks (no sign-in) on SQLite and PostgreSQL: hostile bodies get a 4xx, concurrent signed
deliveries naming the same record all get a normal answer and queue it once."""
from __future__ import annotations

import dataclasses

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
from sqlmodel import select

from integration.app import create_app
from integration.store.connections import create_connection
from integration.store.models import PendingRecord
from integration.store.tenancy import get_or_create_tenant

SECRET = "hostile-client-secret"
PORTAL = "77001"
URL = "http://localhost/webhooks/hubspot"


@pytest.fixture(scope="module")
def app(services):
    services = dataclasses.replace(
        services, settings=services.settings.with_overrides(max_body_bytes=50_000))
    with services.session() as session:
        tenant = get_or_create_tenant(session, "webhooked")
        conn = create_connection(session, services.secret_box, tenant_id=tenant.id, name="hs", crm="hubspot",
                                 settings={"base_url": "http://127.0.0.1:9"},
                                 secrets={"access_token": "t", "client_secret": SECRET}, account_id=PORTAL)
        session.flush()
        app = create_app(services.settings, services)
        app.config["connection_id"] = conn.id
    return app


def signed(body: str) -> dict:
    stamp = str(int(time.time() * 1000))
    digest = hmac.new(SECRET.encode(), f"POST{URL}{body}{stamp}".encode(), hashlib.sha256).digest()
    return {"X-HubSpot-Signature-v3": base64.b64encode(digest).decode(), "X-HubSpot-Request-Timestamp": stamp,
            "Content-Type": "application/json"}


def event(**changes) -> dict:
    return {"eventId": 1, "subscriptionType": "deal.propertyChange", "objectId": 101, "portalId": int(PORTAL),
            "propertyName": "dealstage", "propertyValue": "closedwon", **changes}


@pytest.mark.parametrize("body", [
    "[" * 10_000 + "]" * 10_000,
    '[{"eventId": 1e400, "subscriptionType": "deal.propertyChange", "objectId": 1}]',
    '[{"eventId": ' + "9" * 5000 + ', "subscriptionType": "deal.propertyChange", "objectId": 1}]',
    json.dumps([event(subscriptionType="deal.property\x00Change")]),
    json.dumps([event(objectId="10\x001")]),
    json.dumps([event(eventId=True)]),
    json.dumps([event(eventId=1.5)]),
    json.dumps([event(objectId={"a": 1})]),
    json.dumps([event(portalId=[1])]),
    json.dumps([event(objectId=-5)]),
    json.dumps({"events": []}),
    "\x00",
    '[{"eventId": NaN}]',
])
def test_hostile_bodies_get_a_400_signed_or_not(app, body):
    for headers in ({"Content-Type": "application/json"}, signed(body)):
        res = app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
        assert res.status_code == 400, (res.status_code, res.get_data(as_text=True)[:300])
        assert res.json["error"]["code"] == "BAD_EVENTS"


def test_a_body_over_the_limit_is_413(app):
    body = json.dumps([event(eventId=n, propertyValue="x" * 500) for n in range(200)])
    res = app.test_client().post("/webhooks/hubspot", data=body, headers=signed(body))
    assert res.status_code == 413


def test_concurrent_deliveries_for_one_record_all_succeed_and_queue_it_once(app, services):
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def deliver(event_id: int) -> None:
        body = json.dumps([event(eventId=event_id, objectId=4242)])
        barrier.wait()
        statuses.append(app.test_client().post("/webhooks/hubspot", data=body, headers=signed(body)).status_code)

    threads = [threading.Thread(target=deliver, args=(1000 + n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    with services.session() as session:
        rows = session.exec(select(PendingRecord).where(PendingRecord.connection_id == app.config["connection_id"],
                                                        PendingRecord.crm_id == "4242")).all()
    assert len(rows) == 1
