"""Outbound messages: the sandbox sends real SOAP notifications; the connector parses and acks them."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.salesforce.outbound import ack_response, parse_outbound_message
from tests.fixtures_salesforce import OPP_ACME, OPP_GLOBEX, sf_control, sf_seed
from tests.salesforce.helpers import simple_sf

ENVELOPE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004ExAmEAC</OrganizationId>
   <ActionId>04k5g000000001AAA</ActionId>
   <Notification><Id>04l1</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000XyZ01AAF</sf:Id></sObject></Notification>
   <Notification><Id>04l2</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000XyZ02AAF</sf:Id></sObject></Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_parse_reads_org_and_record_ids():
    assert parse_outbound_message(ENVELOPE) == ("00D5g000004ExAmEAC", ["0065g00000XyZ01AAF", "0065g00000XyZ02AAF"])
    assert b"<Ack>true</Ack>" in ack_response()
    assert b"notificationsResponse" in ack_response()


@pytest.mark.parametrize("body, reason", [
    (b"<soapenv:Envelope", "not well-formed XML"),
    (b"<Envelope/>", "expected a SOAP Envelope"),
    (ENVELOPE.replace(b"<OrganizationId>00D5g000004ExAmEAC</OrganizationId>", b""), "no OrganizationId"),
    (ENVELOPE.replace(b"<sf:Id>0065g00000XyZ02AAF</sf:Id>", b""), "Notification[1] has no sObject Id"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DTDs and entity declarations"),
])
def test_malformed_messages_are_refused_with_a_reason(body, reason):
    with pytest.raises(ValueError) as info:
        parse_outbound_message(body)
    assert reason in str(info.value)


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    failures_left = 0

    def do_POST(self):  # noqa: N802 - the http.server hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.failures_left > 0:
            _Receiver.failures_left -= 1
            self.send_response(500)
            self.end_headers()
            return
        _Receiver.bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.end_headers()
        self.wfile.write(ack_response())

    def log_message(self, *args):
        return None


def test_stage_changes_are_delivered_and_retried_until_acknowledged(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed(), outbound_retry_seconds=0.05)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.bodies, _Receiver.failures_left = [], 2
    try:
        sf_control(sandbox, "notifications", {"url": f"http://127.0.0.1:{server.server_port}/webhooks/salesforce"})
        sf_control(sandbox, "move", {"object": "opportunity", "id": OPP_GLOBEX, "stage": "Qualification"})
        sf_control(sandbox, "move", {"object": "opportunity", "id": OPP_ACME, "stage": "Closed Won"})
        deadline = time.monotonic() + 10
        while len(sf_control(sandbox, "notifications")["deliveries"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        messages = [parse_outbound_message(b) for b in _Receiver.bodies]
        assert {org for org, _ in messages} == {"00D5g000004ExAmEAC"}
        assert [i for _, ids in messages for i in ids] == [OPP_GLOBEX, OPP_ACME]
        log = sf_control(sandbox, "notifications")
        assert (log["deliveries"], log["failed_attempts"]) == ([OPP_GLOBEX, OPP_ACME], 2)
    finally:
        server.shutdown()


def test_a_bulk_change_goes_out_in_messages_of_up_to_100_notifications(make_sf_sandbox):
    seed = sf_seed()
    seed["opportunities"] += [{"Name": f"Bulk {i:03d}", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                               "CreatedDate": "2026-01-01T00:00:00Z"} for i in range(150)]
    sandbox = make_sf_sandbox(seed, outbound_retry_seconds=0.05)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.bodies, _Receiver.failures_left = [], 0
    try:
        sf_control(sandbox, "notifications", {"url": f"http://127.0.0.1:{server.server_port}/webhooks/salesforce"})
        sf = simple_sf(sandbox)
        ids = [r["Id"] for r in sf.query("SELECT Id FROM Opportunity WHERE Name LIKE 'Bulk%'")["records"]]
        sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
            {"attributes": {"type": "Opportunity"}, "Id": i, "StageName": "Qualification"} for i in ids]})
        deadline = time.monotonic() + 10
        while len(sf_control(sandbox, "notifications")["deliveries"]) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        sizes = [len(parse_outbound_message(b)[1]) for b in _Receiver.bodies]
        assert sizes == [100, 50]
        assert sf_control(sandbox, "notifications")["messages"] == sizes
    finally:
        server.shutdown()
