"""Outbound messages: opportunity stage changes are POSTed to a registered endpoint as SOAP
``notifications`` envelopes, and retried with backoff until the endpoint acknowledges them.

As in Salesforce, one message carries up to 100 notifications: changes that queue up while a
message is out (a bulk update, a slow endpoint) go together in the next one."""
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
{notifications}  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""
_NOTIFICATION = """   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{record_id}</sf:Id>
     <sf:StageName>{stage}</sf:StageName>
    </sObject>
   </Notification>
"""
_ACK = re.compile(rb"<(?:\w+:)?Ack>\s*true\s*</(?:\w+:)?Ack>")
#: Most notifications one outbound message carries.
MAX_NOTIFICATIONS = 100
#: How long the sender waits for more changes before sending a message that is not full.
GATHER_SECONDS = 0.2


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
        self._message_sizes: list[int] = []
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
        return {"url": self._url, "deliveries": list(self._delivered), "failed_attempts": self._failed_attempts,
                "pending": self._queue.qsize(), "messages": list(self._message_sizes)}

    def envelope(self, record_ids: list[str]) -> bytes:
        """The SOAP body Salesforce would POST for changes of ``record_ids`` (one notification each)."""
        notifications = "".join(_NOTIFICATION.format(
            notification_id="04l5g" + secrets.token_hex(5)[:10] + "AAA", record_id=record_id,
            stage=escape(self._stage_of(record_id))) for record_id in record_ids)
        return _ENVELOPE.format(org_id=self._org_id, action_id=self._action_id,
                                instance_url=escape(self._instance_url()), notifications=notifications).encode()

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            stopping = False
            while len(batch) < MAX_NOTIFICATIONS:
                try:
                    record_id = self._queue.get(timeout=GATHER_SECONDS)
                except queue.Empty:
                    break
                if record_id is None:
                    stopping = True
                    break
                batch.append(record_id)
            self._deliver(batch)
            if stopping:
                return

    def _deliver(self, record_ids: list[str]) -> None:
        body = self.envelope(record_ids)
        for attempt in range(self._max_attempts):
            try:
                response = requests.post(self._url or "", data=body, timeout=10,
                                         headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
                if response.status_code == 200 and _ACK.search(response.content):
                    self._delivered.extend(record_ids)
                    self._message_sizes.append(len(record_ids))
                    return
            except requests.RequestException:
                pass
            self._failed_attempts += 1
            time.sleep(self._retry_seconds * (2 ** attempt))
