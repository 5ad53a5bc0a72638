"""Salesforce outbound messages as the service receives them (see ``connectors.plugin``).

An outbound message names the org and the changed opportunities. It carries no signature and an
org id is no secret, so each connection has its own unguessable endpoint URL (the spec's
``per_connection_url``; the service checks it) and the message's org id must be the connection's.
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
    """A connection of the org named in the message takes it when it came to that connection's
    own endpoint, which the service checks (see the module docstring)."""
    return True


UNVERIFIED = Refused(403, "UNKNOWN_ENDPOINT", "this is not the outbound message endpoint of a connection "
                     "of that organization; copy the endpoint URL from the connection's setup page")

#: How an admin points Salesforce at the connection's endpoint (a Flow's outbound message action).
SETUP_STEPS = (
    "In Salesforce Setup, open Outbound Messages and click New Outbound Message.",
    "Object: Opportunity. Name it Journey Sync, paste the endpoint URL above into Endpoint URL, "
    "pick the integration user as the user to send as, select the Id field, and save.",
    "In Flow Builder, create a record-triggered flow on Opportunity that runs when a record is "
    "created or updated (optimize for Actions and Related Records).",
    "Add an Action element, choose Outbound Message, pick Journey Sync, and activate the flow.",
    "Move an opportunity's stage: its journey fields change within seconds. Salesforce batches up "
    "to 100 notifications per message and retries for 24 hours while the service is away.",
)


def ack(queued: int, duplicates: int) -> Reply:
    """The SOAP ``Ack`` that stops Salesforce from retrying."""
    return Reply(200, ack_response(), "text/xml")


def refuse(error: Refused) -> Reply:
    """A SOAP fault, which Salesforce logs and retries later."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
            "<soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>"
            f"{escape(str(error))}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>")
    return Reply(error.status, body.encode(), "text/xml")
