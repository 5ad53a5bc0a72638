"""Outbound messages: every opportunity stage change is POSTed to a registered endpoint as a SOAP
``notifications`` envelope, and retried with backoff until the endpoint acknowledges it."""
from __future__ import annotations

import queue
import re
import secrets
import threading
import time
from typing import Any, Callable
from xml.sax.saxutils import escape

import requests

_ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org_id}</OrganizationId>
   <ActionId>{action_id}</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>{instance_url}/services/Soap/c/59.0/{org_id}</EnterpriseUrl>
   <PartnerUrl>{instance_url}/services/Soap/u/59.0/{org_id}</PartnerUrl>
   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{record_id}</sf:Id>
     <sf:StageName>{stage}</sf:StageName>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""
_ACK = re.compile(rb"<(?:\w+:)?Ack>\s*true\s*</(?:\w+:)?Ack>")


class OutboundSender:
    """Delivers stage-change notifications from a background thread, retrying failed deliveries."""

    def __init__(self, *, org_id: str, instance_url: Callable[[], str], stage_of: Callable[[str], str],
                 retry_seconds: float = 0.5, max_attempts: int = 10) -> None:
        self._org_id = org_id
        self._instance_url = instance_url
        self._stage_of = stage_of
        self._retry_seconds = retry_seconds
        self._max_attempts = max_attempts
        self._url: str | None = None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._delivered: list[str] = []
        self._failed_attempts = 0
        self._thread: threading.Thread | None = None
        self._action_id = "04k5g" + secrets.token_hex(5)[:10] + "AAA"

    def register(self, url: str) -> None:
        """Send notifications to ``url`` from now on."""
        self._url = url
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sf-sandbox-outbound", daemon=True)
            self._thread.start()

    def notify(self, record_id: str) -> None:
        """Queue a notification for ``record_id`` (ignored while no endpoint is registered)."""
        if self._url is not None:
            self._queue.put(record_id)

    def stop(self) -> None:
        """Stop the delivery thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def snapshot(self) -> dict[str, Any]:
        """What was delivered and how many attempts failed."""
        return {"url": self._url, "delivered": list(self._delivered), "failed_attempts": self._failed_attempts,
                "pending": self._queue.qsize()}

    def envelope(self, record_id: str) -> bytes:
        """The SOAP body Salesforce would POST for a change of ``record_id``."""
        return _ENVELOPE.format(org_id=self._org_id, action_id=self._action_id,
                                instance_url=escape(self._instance_url()),
                                notification_id="04l5g" + secrets.token_hex(5)[:10] + "AAA",
                                record_id=record_id, stage=escape(self._stage_of(record_id))).encode()

    def _run(self) -> None:
        while (record_id := self._queue.get()) is not None:
            self._deliver(record_id)

    def _deliver(self, record_id: str) -> None:
        body = self.envelope(record_id)
        for attempt in range(self._max_attempts):
            try:
                response = requests.post(self._url or "", data=body, timeout=10,
                                         headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
                if response.status_code == 200 and _ACK.search(response.content):
                    self._delivered.append(record_id)
                    return
            except requests.RequestException:
                pass
            self._failed_attempts += 1
            time.sleep(self._retry_seconds * (2 ** attempt))
