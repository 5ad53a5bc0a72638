"""The running product (demo world): webhooks and outbound messages drive targeted syncs through
the worker; the HubSpot card endpoint answers signed requests only."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import requests
from sqlmodel import func, select

from integration.notification_urls import notification_url
from integration.store.connections import connection_config
from integration.store.models import Connection, RecordState, SyncRun, WebhookDelivery
from mapping import default_map
from tests.sync.crms import SandboxCrm
from tests.support import wait_for


def sign(secret: str, method: str, uri: str, body: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def endpoint(live) -> str:
    """The Salesforce connection's own outbound-message endpoint."""
    return notification_url(live["services"].settings, "salesforce", live["connections"]["salesforce"],
                            live["base_url"])


def crm(live, name) -> SandboxCrm:
    return SandboxCrm(name, live["sandboxes"][name])


def row(live, crm_name, object_, crm_id) -> RecordState:
    with live["services"].session() as s:
        return s.exec(select(RecordState).where(
            RecordState.connection_id == live["connections"][crm_name],
            RecordState.object == object_, RecordState.crm_id == crm_id)).one()


def pick(live, crm_name, object_, stage) -> RecordState:
    with live["services"].session() as s:
        return s.exec(select(RecordState).where(
            RecordState.connection_id == live["connections"][crm_name],
            RecordState.object == object_, RecordState.stage == stage)).first()


def hubspot_secret(live) -> str:
    services = live["services"]
    with services.session() as s:
        conn = s.get(Connection, live["connections"]["hubspot"])
        return connection_config(services.secret_box, conn)["client_secret"]


def test_demo_first_sync_wrote_every_change(live_service):
    for figures in live_service["summary"].values():
        assert figures["status"] == "succeeded"
        assert figures["read"] >= 400 and figures["written"] == figures["changed"] > 0


def test_a_deal_moved_by_a_rep_reaches_the_crm_fields_through_the_webhook(live_service):
    hs = crm(live_service, "hubspot")
    target = pick(live_service, "hubspot", "deal", "consideration")
    hs.move("deal", target.crm_id, "closedwon")
    key = default_map().lookup("hubspot", "deal", "closedwon", "default")
    wait_for(lambda: hs.read("deal", target.crm_id)["journey_stage"] == key)
    with live_service["services"].session() as s:
        deliveries = s.exec(select(func.count()).where(
            WebhookDelivery.connection_id == live_service["connections"]["hubspot"],
            WebhookDelivery.crm_id == target.crm_id)).one()
        webhook_runs = s.exec(select(func.count()).where(
            SyncRun.connection_id == live_service["connections"]["hubspot"],
            SyncRun.requested_by == "webhook")).one()
    assert deliveries >= 1 and webhook_runs >= 1


def test_an_opportunity_moved_by_a_rep_reaches_the_crm_through_an_outbound_message(live_service):
    sf = crm(live_service, "salesforce")
    target = pick(live_service, "salesforce", "opportunity", "awareness")
    sf.move("opportunity", target.crm_id, "Closed Lost")
    wait_for(lambda: sf.read("opportunity", target.crm_id)["journey_stage"] == "lost")
    assert row(live_service, "salesforce", "opportunity", target.crm_id).stage == "lost"


def webhook(live, body: list, *, secret: str | None = None, age_ms: int = 0, signature=None):
    url = f"{live['base_url']}/webhooks/hubspot"
    text = json.dumps(body)
    ts = int(time.time() * 1000) - age_ms
    sig = signature or sign(secret or hubspot_secret(live), "POST", url, text, ts)
    return requests.post(url, data=text, timeout=10, headers={
        "Content-Type": "application/json", "X-HubSpot-Signature-v3": sig,
        "X-HubSpot-Request-Timestamp": str(ts)})


def event(event_id: int, object_id: str) -> dict:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": 62515, "appId": 1,
            "occurredAt": int(time.time() * 1000), "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0, "objectId": int(object_id), "propertyName": "dealstage",
            "propertyValue": "closedwon", "changeSource": "CRM_UI"}


def test_forged_and_stale_webhooks_are_refused(live_service):
    deal = pick(live_service, "hubspot", "deal", "decision").crm_id
    assert webhook(live_service, [event(900001, deal)], secret="not-the-secret").status_code == 401
    assert webhook(live_service, [event(900002, deal)], age_ms=6 * 60 * 1000).status_code == 401
    assert webhook(live_service, [event(900003, deal)], signature="AAAA").status_code == 401
    res = requests.post(f"{live_service['base_url']}/webhooks/hubspot", data="{oops", timeout=10)
    assert res.status_code == 400 and res.json()["error"]["code"] == "BAD_EVENTS"


def test_a_redelivered_event_is_counted_once(live_service):
    deal = pick(live_service, "hubspot", "deal", "decision").crm_id
    delivered = event(910001, deal)
    first = webhook(live_service, [delivered])
    again = webhook(live_service, [dict(delivered, attemptNumber=1)])
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicates"] == 1 and again.json()["queued"] == 0


def generic_event(event_id: int, object_id: str, *, type_id: str = "0-3", subscription: int = 2,
                  occurred_at: int | None = None) -> dict:
    """An event in the generic format of HubSpot's 2026 developer platform."""
    return {**event(event_id, object_id), "subscriptionType": "object.propertyChange",
            "objectTypeId": type_id, "subscriptionId": subscription,
            "occurredAt": occurred_at or int(time.time() * 1000)}


def queued_ids(live, crm_ids: list[str]) -> set[str]:
    with live["services"].session() as s:
        return set(s.exec(select(WebhookDelivery.crm_id).where(
            WebhookDelivery.connection_id == live["connections"]["hubspot"],
            WebhookDelivery.crm_id.in_(crm_ids))).all())


def test_generic_format_events_queue_their_deals_and_contacts(live_service):
    deal = pick(live_service, "hubspot", "deal", "consideration").crm_id
    contact = pick(live_service, "hubspot", "contact", "awareness").crm_id
    res = webhook(live_service, [generic_event(930001, deal),
                                 generic_event(930002, contact, type_id="0-1"),
                                 generic_event(930003, "777", type_id="0-2")])  # a company: not synced
    assert res.status_code == 200 and res.json()["duplicates"] == 0
    assert queued_ids(live_service, [deal, contact]) == {deal, contact}


def test_the_sandbox_sending_the_generic_format_drives_a_targeted_sync(live_service):
    """End to end: HubSpot (the sandbox) sends 2026 generic-format events to the service."""
    hs = crm(live_service, "hubspot")
    hs._call("POST", "notifications", {"url": f"{live_service['base_url']}/webhooks/hubspot",
                                       "subscriptions": ["deal.propertyChange"], "format": "generic",
                                       "propertyNames": ["dealstage"]})
    target = pick(live_service, "hubspot", "deal", "consideration")
    hs.move("deal", target.crm_id, "closedlost")

    def generic_delivery():
        with live_service["services"].session() as s:
            return s.exec(select(WebhookDelivery).where(
                WebhookDelivery.connection_id == live_service["connections"]["hubspot"],
                WebhookDelivery.crm_id == target.crm_id,
                WebhookDelivery.kind == "object.propertyChange")).first()

    assert wait_for(generic_delivery).object == "deal"
    wait_for(lambda: hs.read("deal", target.crm_id)["journey_stage"] == "lost")


def test_events_sharing_an_event_id_are_each_delivered_and_retries_are_not(live_service):
    """HubSpot does not guarantee eventId unique: de-duplication keys on the whole delivery."""
    with live_service["services"].session() as s:
        deals = [r.crm_id for r in s.exec(select(RecordState).where(
            RecordState.connection_id == live_service["connections"]["hubspot"],
            RecordState.object == "deal").order_by(RecordState.crm_id.desc()).limit(2)).all()]
    stamp = int(time.time() * 1000)
    batch = [generic_event(940001, deals[0], subscription=3, occurred_at=stamp),
             generic_event(940001, deals[1], subscription=4, occurred_at=stamp)]
    first = webhook(live_service, batch)
    assert first.status_code == 200 and first.json()["duplicates"] == 0
    assert queued_ids(live_service, deals) == set(deals)
    retried = webhook(live_service, [dict(e, attemptNumber=1) for e in batch])
    assert retried.json()["duplicates"] == 2 and retried.json()["queued"] == 0


def test_an_outbound_message_of_100_notifications_queues_every_opportunity(live_service):
    """Salesforce packs up to 100 notifications into one outbound message."""
    sandbox = live_service["sandboxes"]["salesforce"]
    with live_service["services"].session() as s:
        ids = [r.crm_id for r in s.exec(select(RecordState).where(
            RecordState.connection_id == live_service["connections"]["salesforce"],
            RecordState.object == "opportunity").limit(100)).all()]
    assert len(ids) == 100
    res = requests.post(endpoint(live_service), data=sandbox.outbound.envelope(ids),
                        timeout=10, headers={"Content-Type": "text/xml; charset=utf-8"})
    assert res.status_code == 200 and b"<Ack>true</Ack>" in res.content
    with live_service["services"].session() as s:
        delivered = set(s.exec(select(WebhookDelivery.crm_id).where(
            WebhookDelivery.connection_id == live_service["connections"]["salesforce"],
            WebhookDelivery.crm_id.in_(ids))).all())
    assert delivered == set(ids)


def test_an_outbound_message_from_another_org_is_refused(live_service):
    body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
            '<OrganizationId>00D000000000001AAA</OrganizationId><ActionId>04k</ActionId>'
            '<SessionId xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
            '<EnterpriseUrl>https://x</EnterpriseUrl><PartnerUrl>https://x</PartnerUrl>'
            '<Notification><Id>04l000000000001</Id><sObject xsi:type="sf:Opportunity" '
            'xmlns:sf="urn:sobject.enterprise.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<sf:Id>0065g0000Op0001AAA</sf:Id></sObject></Notification></notifications>'
            '</soapenv:Body></soapenv:Envelope>')
    res = requests.post(endpoint(live_service), data=body, timeout=10, headers={"Content-Type": "text/xml"})
    assert res.status_code == 403 and "Fault" in res.text
    bad = requests.post(endpoint(live_service), data="<nope", timeout=10, headers={"Content-Type": "text/xml"})
    assert bad.status_code == 400


def test_an_outbound_message_naming_the_right_org_is_refused_anywhere_but_its_endpoint(live_service):
    """The org id is not a secret: only the connection's own endpoint URL takes its messages."""
    sandbox = live_service["sandboxes"]["salesforce"]
    body = sandbox.outbound.envelope([pick(live_service, "salesforce", "opportunity", "decision").crm_id])
    base = f"{live_service['base_url']}/webhooks/salesforce"
    other = notification_url(live_service["services"].settings, "salesforce",
                             live_service["connections"]["salesforce"] + 1000, live_service["base_url"])
    for url in (base, f"{base}/", f"{base}/guess", other, endpoint(live_service) + "x"):
        res = requests.post(url, data=body, timeout=10, headers={"Content-Type": "text/xml"})
        assert res.status_code in (403, 404) and "Ack" not in res.text, url
    assert requests.post(endpoint(live_service), data=body, timeout=10,
                         headers={"Content-Type": "text/xml"}).status_code == 200


def test_the_hubspot_card_shows_a_rep_the_journey_to_signed_requests_only(live_service):
    target = pick(live_service, "hubspot", "deal", "decision")
    uri = f"{live_service['base_url']}/cards/hubspot/deal/{target.crm_id}?portalId=62515&userId=7"
    ts = int(time.time() * 1000)
    headers = {"X-HubSpot-Signature-v3": sign(hubspot_secret(live_service), "GET", uri, "", ts),
               "X-HubSpot-Request-Timestamp": str(ts)}
    card = requests.get(uri, headers=headers, timeout=10)
    assert card.status_code == 200, card.text
    data = card.json()
    assert data["stage"] == "decision" and data["stage_label"] == "Decision"
    assert data["position"] == 3 and data["of"] == 7
    assert data["expected_days"] and data["days_in_stage"] >= 0
    assert data["persona_label"] and data["next_best_action"]
    assert data["timeline"] and data["timeline"][-1]["stage"] == "decision"
    assert requests.get(uri, timeout=10).status_code == 401
    assert requests.get(uri.replace("userId=7", "userId=8"), headers=headers,
                        timeout=10).status_code == 401
