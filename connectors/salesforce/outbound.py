"""Salesforce outbound messages: reading the SOAP ``notifications`` envelope and acknowledging it.

Parsed with defusedxml whatever the declared encoding: DTDs, entity declarations and external
references are refused outright, so entity-expansion bombs never expand. Salesforce sends at most
100 notifications per message; a message with more is refused.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"

#: The most notifications Salesforce puts in one outbound message.
MAX_NOTIFICATIONS = 100
#: A Salesforce id: 15 case-sensitive or 18 case-insensitive letters and digits.
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")

_ACK = (f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
        f'<soapenv:Body><notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
        "</soapenv:Body></soapenv:Envelope>")


def parse_outbound_message(body: bytes) -> tuple[str, list[str]]:
    """(OrganizationId, [sObject Ids]) of an outbound message. Raises ValueError saying what is wrong."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ValueError("outbound message refused: DTDs and entity declarations are not allowed") from None
    except ET.ParseError as exc:
        raise ValueError(f"outbound message is not well-formed XML: {exc}") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise ValueError(f"outbound message root is {root.tag!r}, expected a SOAP Envelope")
    notifications = root.find(f"{{{SOAP_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise ValueError("outbound message has no soapenv:Body/notifications element")
    org_id = (notifications.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or "").strip()
    if not org_id:
        raise ValueError("outbound message has no OrganizationId")
    if not _SALESFORCE_ID.fullmatch(org_id):
        raise ValueError("outbound message OrganizationId is not a Salesforce id")
    notes = notifications.findall(f"{{{OUTBOUND_NS}}}Notification")
    if len(notes) > MAX_NOTIFICATIONS:
        raise ValueError(f"outbound message holds {len(notes)} notifications; Salesforce sends at most "
                         f"{MAX_NOTIFICATIONS}")
    ids = []
    for index, note in enumerate(notes):
        sobject = note.find(f"{{{OUTBOUND_NS}}}sObject")
        record_id = (sobject.findtext(f"{{{SOBJECT_NS}}}Id") if sobject is not None else None) or ""
        if not record_id.strip():
            raise ValueError(f"outbound message Notification[{index}] has no sObject Id")
        if not _SALESFORCE_ID.fullmatch(record_id.strip()):
            raise ValueError(f"outbound message Notification[{index}] sObject Id is not a Salesforce id")
        ids.append(record_id.strip())
    if not ids:
        raise ValueError("outbound message holds no Notification elements")
    return org_id, ids


def ack_response() -> bytes:
    """The ``notificationsResponse`` with ``Ack`` true that tells Salesforce to stop retrying."""
    return _ACK.encode()
