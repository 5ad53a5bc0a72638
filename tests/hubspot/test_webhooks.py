"""Webhook signature v3, event parsing, and the sandbox's signed, retried deliveries."""
from __future__ import annotations

import json
import re
import time

import pytest
from hubspot.utils.signature import Signature

from connectors.hubspot import receiver
from connectors.hubspot.webhooks import WebhookEvent, parse_events, verify_signature_v3
from connectors.plugin import InboundRequest, Refused
from tests.hubspot.conftest import Api

SECRET = "secret"
URI = "https://example.com/hubspot/webhook"
BODY = (b'[{"eventId":1,"subscriptionType":"deal.propertyChange","objectId":101,'
        b'"propertyName":"dealstage","propertyValue":"closedwon"}]')
STAMP = 1700000000000
SIGNATURE = "3W8111EamfU3vieo7sVCnNTMS1FrGCWd2zB7xcyrAGY="
NOW = STAMP / 1000 + 30


def test_design_vector_verifies() -> None:
    assert verify_signature_v3(SECRET, "POST", URI, BODY, SIGNATURE, STAMP, now=NOW)
    assert verify_signature_v3(SECRET, "post", URI, BODY, SIGNATURE, str(STAMP), now=NOW)


@pytest.mark.parametrize("change", [
    {"secret": "other"}, {"uri": URI + "?x=1"}, {"body": BODY.replace(b"closedwon", b"closedlost")},
    {"signature": SIGNATURE[:-2] + "A="}, {"signature": ""}, {"signature": None},
    {"timestamp": STAMP + 1}, {"timestamp": "soon"}, {"method": "PUT"},
])
def test_forged_requests_fail(change: dict) -> None:
    args = {"secret": SECRET, "method": "POST", "uri": URI, "body": BODY, "signature": SIGNATURE,
            "timestamp": STAMP, **change}
    assert not verify_signature_v3(args["secret"], args["method"], args["uri"], args["body"],
                                   args["signature"], args["timestamp"], now=NOW)


@pytest.mark.parametrize("seconds_later,valid", [(299, True), (301, False), (-301, False)])
def test_five_minute_window(seconds_later: int, valid: bool) -> None:
    now = STAMP / 1000 + seconds_later
    assert verify_signature_v3(SECRET, "POST", URI, BODY, SIGNATURE, STAMP, now=now) is valid


def test_the_receiver_hook_verifies_with_the_connection_secret_and_parses_records() -> None:
    stamp = str(int(time.time() * 1000))
    signature = Signature.get_signature(SECRET, BODY.decode(), "v3", URI, "POST", stamp)
    request = InboundRequest(method="POST", url=URI, subpath="", query={}, body=BODY,
                             headers={"x-hubspot-signature-v3": signature,
                                      "x-hubspot-request-timestamp": stamp})
    assert receiver.verify(request, {"client_secret": SECRET})
    assert not receiver.verify(request, {"client_secret": "other"})
    assert not receiver.verify(request, {})
    delivery = receiver.parse(request)
    assert [(n.object, n.id) for n in delivery.notices] == [("deal", "101")]
    with pytest.raises(Refused) as refused:
        receiver.parse(InboundRequest("POST", URI, "", {}, {}, b"{}"))
    assert refused.value.status == 400


def test_parse_events() -> None:
    (event,) = parse_events(BODY)
    assert event == WebhookEvent(1, "deal.propertyChange", "101", "dealstage", "closedwon")
    assert event.object == "deal"


GENERIC = {"eventId": 7, "subscriptionId": 25, "portalId": 62515, "appId": 1, "occurredAt": 1700000000000,
           "subscriptionType": "object.propertyChange", "attemptNumber": 0, "objectId": 101,
           "objectTypeId": "0-3", "propertyName": "dealstage", "propertyValue": "closedwon",
           "changeSource": "CRM_UI"}


@pytest.mark.parametrize("type_id,obj", [("0-3", "deal"), ("0-1", "contact"), ("0-2", None),
                                         ("2-123456", None)])
def test_generic_format_events_name_their_object_by_type_id(type_id: str, obj: str | None) -> None:
    (event,) = parse_events(json.dumps([dict(GENERIC, objectTypeId=type_id)]).encode())
    assert event.object == obj and event.object_id == "101" and event.object_type_id == type_id


def test_legacy_events_of_objects_not_synced_have_no_object() -> None:
    (event,) = parse_events(b'[{"eventId":1,"subscriptionType":"company.propertyChange","objectId":5}]')
    assert event.object is None


def test_the_delivery_key_survives_retries_and_tells_apart_events_sharing_an_event_id() -> None:
    first, retry, other_subscription, other_object = parse_events(json.dumps([
        GENERIC, dict(GENERIC, attemptNumber=3), dict(GENERIC, subscriptionId=26),
        dict(GENERIC, objectId=102)]).encode())
    assert first.delivery_key == retry.delivery_key
    keys = {first.delivery_key, other_subscription.delivery_key, other_object.delivery_key}
    assert len(keys) == 3 and all(e.event_id == 7 for e in (first, other_subscription, other_object))


@pytest.mark.parametrize("body,reason", [
    (json.dumps([dict(GENERIC, objectTypeId=None)]).encode(), "body[0].objectTypeId"),
    (json.dumps([dict(GENERIC, objectTypeId="deals")]).encode(), "body[0].objectTypeId"),
    (json.dumps([{k: v for k, v in GENERIC.items() if k != "objectTypeId"}]).encode(),
     "objectTypeId"),
    (b"{", "not valid JSON"), (b"{}", "expected a JSON array"), (b"[1]", "body[0]: each event"),
    (b'[{"eventId":1,"objectId":2}]', "body[0]: missing subscriptionType"),
    (b'[{"eventId":"x","objectId":2,"subscriptionType":"deal.creation"}]', "must be integers"),
    (b'[{"eventId":1,"objectId":2,"subscriptionType":"deal"}]', "subscriptionType"),
])
def test_parse_events_says_what_is_wrong(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_events(body)


def _register(api: Api, receiver, **extra) -> None:
    response = api.control("notifications", {"url": receiver.url,
                                        "subscriptions": ["deal.propertyChange"],
                                        "propertyNames": ["dealstage"], **extra})
    assert response.status_code == 201


def test_a_rep_move_is_delivered_signed(make_hs_sandbox, receiver) -> None:
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    _register(api, receiver)
    api.control("move", {"object": "deal", "id": "18462730013", "stage": "qualifiedtobuy",
                         "properties": {"dealname": "renamed"}})
    (request,) = receiver.wait_for(1)
    headers = request["headers"]
    assert verify_signature_v3(sandbox.info()["client_secret"], "POST", request["url"],
                               request["body"], headers["X-Hubspot-Signature-V3"],
                               headers["X-Hubspot-Request-Timestamp"])
    (event,) = json.loads(request["body"])
    assert event["objectId"] == 18462730013 and event["propertyValue"] == "qualifiedtobuy"
    assert event["changeSource"] == "CRM_UI" and event["portalId"] == 62515
    assert event["attemptNumber"] == 0


def test_failed_deliveries_are_retried_with_attempt_numbers(make_hs_sandbox, receiver) -> None:
    sandbox = make_hs_sandbox(webhook_retry_delays=(0.05, 0.05, 0.05))
    api = Api(sandbox)
    _register(api, receiver)
    receiver.statuses = [500, 409]
    api.post("/crm/v3/objects/deals/batch/update", {"inputs": [
        {"id": "18462730011", "properties": {"dealstage": "closedwon"}},
        {"id": "18462730012", "properties": {"dealname": "no event for this"}}]})
    requests_seen = receiver.wait_for(3)
    assert [r["status"] for r in requests_seen] == [500, 409, 204]
    attempts = [json.loads(r["body"])[0]["attemptNumber"] for r in requests_seen]
    assert attempts == [0, 1, 2]
    assert json.loads(requests_seen[-1]["body"])[0]["changeSource"] == "INTEGRATION"


def test_client_errors_are_retried_like_server_errors(make_hs_sandbox, receiver) -> None:
    """HubSpot retries a delivery answered with any 4xx or 5xx, not only 5xx."""
    sandbox = make_hs_sandbox(webhook_retry_delays=(0.05, 0.05, 0.05))
    api = Api(sandbox)
    _register(api, receiver)
    receiver.statuses = [400, 401, 404]
    api.control("move", {"object": "deal", "id": "18462730011", "stage": "closedlost"})
    seen = receiver.wait_for(4)
    assert [r["status"] for r in seen] == [400, 401, 404, 204]
    assert [json.loads(r["body"])[0]["attemptNumber"] for r in seen] == [0, 1, 2, 3]


def test_retries_stop_after_the_schedule(make_hs_sandbox, receiver) -> None:
    sandbox = make_hs_sandbox(webhook_retry_delays=(0.05, 0.05))
    api = Api(sandbox)
    _register(api, receiver)
    receiver.statuses = [500] * 10
    api.control("move", {"object": "deal", "id": "18462730012", "stage": "closedlost"})
    seen = receiver.wait_for(3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the sandbox logs a delivery after the answer arrives
        deliveries = api.session.get(sandbox.base_url + "/__sandbox__/notifications").json()["deliveries"]
        if len(deliveries) >= 3:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # room for a retry that must not come
    assert [d["status"] for d in deliveries] == [500, 500, 500]
    assert len(receiver.requests) == len(seen) == 3


def test_a_generic_format_subscription_sends_object_property_changes(make_hs_sandbox,
                                                                     receiver) -> None:
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    response = api.control("notifications", {"url": receiver.url, "format": "generic",
                                        "subscriptions": ["deal.propertyChange",
                                                          "contact.propertyChange"],
                                        "propertyNames": ["dealstage", "lifecyclestage"]})
    assert response.status_code == 201
    assert {s["format"] for s in response.json()["subscriptions"]} == {"generic"}
    api.control("move", {"object": "deal", "id": "18462730013", "stage": "qualifiedtobuy"})
    (request,) = receiver.wait_for(1)
    (raw,) = json.loads(request["body"])
    assert raw["subscriptionType"] == "object.propertyChange" and raw["objectTypeId"] == "0-3"
    (event,) = parse_events(request["body"])
    assert event.object == "deal" and event.object_id == "18462730013"


def test_an_unknown_event_format_is_refused(make_hs_sandbox, receiver) -> None:
    api = Api(make_hs_sandbox())
    response = api.control("notifications", {"url": receiver.url, "format": "v4",
                                        "subscriptions": ["deal.propertyChange"]})
    assert response.status_code == 400 and "format must be one of" in response.json()["error"]
