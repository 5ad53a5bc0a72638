"""Salesforce outbound messages: reading the SOAP ``notifications`` envelope and acknowledging it.

The standard library's expat parser does not fetch external entities; DTDs are refused outright
so that entity-expansion bombs never reach it.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"

_ACK = (f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
        f'<soapenv:Body><notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
        "</soapenv:Body></soapenv:Envelope>")


def parse_outbound_message(body: bytes) -> tuple[str, list[str]]:
    """(OrganizationId, [sObject Ids]) of an outbound message. Raises ValueError saying what is wrong."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ValueError("outbound message refused: DTDs and entity declarations are not allowed")
    try:
        root = ET.fromstring(body)
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
    ids = []
    for index, note in enumerate(notifications.findall(f"{{{OUTBOUND_NS}}}Notification")):
        sobject = note.find(f"{{{OUTBOUND_NS}}}sObject")
        record_id = (sobject.findtext(f"{{{SOBJECT_NS}}}Id") if sobject is not None else None) or ""
        if not record_id.strip():
            raise ValueError(f"outbound message Notification[{index}] has no sObject Id")
        ids.append(record_id.strip())
    if not ids:
        raise ValueError("outbound message holds no Notification elements")
    return org_id, ids


def ack_response() -> bytes:
    """The ``notificationsResponse`` with ``Ack`` true that tells Salesforce to stop retrying."""
    return _ACK.encode()
