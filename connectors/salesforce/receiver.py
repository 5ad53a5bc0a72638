"""Salesforce outbound messages as the service receives them (see ``connectors.plugin``).

An outbound message names the org and the changed opportunities; the org id must belong to a
connection. It carries no signature: what proves it comes from the org is the org id and the
endpoint URL it was configured with.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping
from xml.sax.saxutils import escape

from connectors.plugin import Delivery, InboundRequest, Notice, Refused, Reply
from connectors.salesforce.outbound import SOAP_NS, ack_response, parse_outbound_message

#: Outbound messages are configured on opportunity changes.
OBJECT = "opportunity"


def parse(request: InboundRequest) -> Delivery:
    """The org and the opportunities an outbound message names; 400 when it is malformed."""
    try:
        org_id, ids = parse_outbound_message(request.body)
    except ValueError as exc:
        raise Refused(400, "BAD_MESSAGE", f"malformed outbound message: {exc}") from None
    received = datetime.now(timezone.utc).isoformat()
    return Delivery(org_id, tuple(Notice(OBJECT, record_id, f"outbound:{record_id}:{received}",
                                         "outbound") for record_id in ids))


def verify(request: InboundRequest, config: Mapping[str, Any]) -> bool:
    """Any connection of the org named in the message takes it (see the module docstring)."""
    return True


UNVERIFIED = Refused(403, "UNKNOWN_ORGANIZATION", "organization id does not match any connection")


def ack(queued: int, duplicates: int) -> Reply:
    """The SOAP ``Ack`` that stops Salesforce from retrying."""
    return Reply(200, ack_response(), "text/xml")


def refuse(error: Refused) -> Reply:
    """A SOAP fault, which Salesforce logs and retries later."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
            "<soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>"
            f"{escape(str(error))}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>")
    return Reply(error.status, body.encode(), "text/xml")
