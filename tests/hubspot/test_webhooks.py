"""Webhook signature v3, event parsing, and the sandbox's signed, retried deliveries."""
from __future__ import annotations

import json
import re
import time

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from connectors.hubspot.webhooks import (WebhookEvent, parse_events, verify_signature_v3,
                                         verify_webhook)
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


def _request() -> Request:
    return EnvironBuilder(base_url="https://example.com", path="/hubspot/webhook", method="POST",
                          data=BODY, headers={"X-HubSpot-Signature-v3": SIGNATURE,
                                              "X-HubSpot-Request-Timestamp": str(STAMP)}
                          ).get_request()


def test_verify_webhook_reads_a_werkzeug_request() -> None:
    assert verify_webhook(_request(), SECRET, now=NOW)
    assert not verify_webhook(_request(), SECRET, now=NOW + 600)


def test_parse_events() -> None:
    (event,) = parse_events(BODY)
    assert event == WebhookEvent(1, "deal.propertyChange", "101", "dealstage", "closedwon")
    assert event.object == "deal"


@pytest.mark.parametrize("body,reason", [
    (b"{", "not valid JSON"), (b"{}", "expected a JSON array"), (b"[1]", "body[0]: each event"),
    (b'[{"eventId":1,"objectId":2}]', "body[0]: missing subscriptionType"),
    (b'[{"eventId":"x","objectId":2,"subscriptionType":"deal.creation"}]', "must be integers"),
    (b'[{"eventId":1,"objectId":2,"subscriptionType":"deal"}]', "subscriptionType"),
])
def test_parse_events_says_what_is_wrong(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_events(body)


def _register(api: Api, receiver, **extra) -> None:
    response = api.control("webhooks", {"targetUrl": receiver.url,
                                        "subscriptions": ["deal.propertyChange"],
                                        "propertyNames": ["dealstage"], **extra})
    assert response.status_code == 201


def test_a_rep_move_is_delivered_signed(make_hs_sandbox, receiver) -> None:
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    _register(api, receiver)
    api.control("move", {"objectType": "deals", "id": "18462730013",
                         "properties": {"dealstage": "qualifiedtobuy", "dealname": "renamed"}})
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


def test_final_client_errors_are_not_retried_and_retries_stop(make_hs_sandbox, receiver) -> None:
    sandbox = make_hs_sandbox(webhook_retry_delays=(0.05, 0.05))
    api = Api(sandbox)
    _register(api, receiver)
    receiver.statuses = [400, 500, 500, 500, 500]
    api.control("move", {"objectType": "deals", "id": "18462730011",
                         "properties": {"dealstage": "closedlost"}})
    api.control("move", {"objectType": "deals", "id": "18462730012",
                         "properties": {"dealstage": "closedlost"}})
    seen = receiver.wait_for(4)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the sandbox logs a delivery after the answer arrives
        deliveries = api.session.get(sandbox.base_url + "/__sandbox__/webhooks").json()["deliveries"]
        if len(deliveries) >= 4:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # room for a retry that must not come
    assert [d["status"] for d in deliveries] == [400, 500, 500, 500]
    assert len(receiver.requests) == len(seen) == 4
