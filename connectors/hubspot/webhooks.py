"""Incoming HubSpot webhooks: signature v3 verification and event parsing.

HubSpot sends two event formats. The legacy one names the object in the subscription type
(``deal.propertyChange``); the generic one of the 2026 developer platform says
``object.propertyChange`` and names the object by ``objectTypeId`` (``0-3`` deals, ``0-1``
contacts). Both parse into the same :class:`WebhookEvent`.
"""
from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

from hubspot.utils.signature import Signature

from mapping.limits import loads_json

from .properties import OBJECT_TYPE_IDS, OBJECTS

#: HubSpot's ids are 64-bit.
MAX_ID_VALUE = 2 ** 63 - 1

#: HubSpot's rule: reject requests whose timestamp is older than five minutes.
MAX_AGE_MS = 5 * 60 * 1000
#: The escapes HubSpot decodes in the request URI before it signs (v3), and only these: a
#: ``%20``, ``%26`` or ``%3D`` stays as sent, so unquoting the whole URI would break signatures.
SIGNED_URI_ESCAPES = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
                      "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
_ESCAPE = re.compile("|".join(SIGNED_URI_ESCAPES), re.IGNORECASE)


def signed_uri(uri: str) -> str:
    """The request URI as HubSpot puts it in the v3 signature: the URL as called, with the
    escapes of :data:`SIGNED_URI_ESCAPES` decoded (``userEmail=rep%40example.com`` is signed as
    ``userEmail=rep@example.com``)."""
    return _ESCAPE.sub(lambda m: SIGNED_URI_ESCAPES[m.group(0).upper()], uri)
REQUIRED_EVENT_KEYS = ("eventId", "subscriptionType", "objectId")
#: Subscription-type prefix of the generic format, whose object is given by ``objectTypeId``.
GENERIC_PREFIX = "object"
#: HubSpot object type ids of the objects the connector syncs.
OBJECT_BY_TYPE_ID = {type_id: name for name, type_id in OBJECT_TYPE_IDS.items()}
_TYPE_ID = re.compile(r"^\d+-\d+$")
#: ``<object>.<event>`` as HubSpot names subscriptions (``deal.propertyChange``, ``object.creation``).
_SUBSCRIPTION_TYPE = re.compile(r"[A-Za-z0-9_]{1,64}\.[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class WebhookEvent:
    """One event of a webhook batch."""

    event_id: int
    subscription_type: str
    object_id: str
    property_name: str | None = None
    property_value: str | None = None
    portal_id: int | None = None
    app_id: int | None = None
    subscription_id: int | None = None
    occurred_at_ms: int | None = None
    attempt_number: int = 0
    change_source: str | None = None
    object_type_id: str | None = None

    @property
    def object(self) -> str | None:
        """The synced object kind (``deal``, ``contact``) the event is about, from the legacy
        ``deal.propertyChange`` or from the generic format's ``objectTypeId``; None for objects
        the connector does not sync (companies, tickets...)."""
        prefix = self.subscription_type.split(".", 1)[0]
        if prefix == GENERIC_PREFIX:
            return OBJECT_BY_TYPE_ID.get(self.object_type_id or "")
        return prefix if prefix in OBJECTS else None

    @property
    def delivery_key(self) -> str:
        """What identifies this event across HubSpot's retries of its delivery.

        HubSpot does not guarantee ``eventId`` to be unique: two events of one batch, or of two
        subscriptions, can share it. A retry resends the same event with only ``attemptNumber``
        changed, so the key is everything else that names the event: portal, subscription,
        event id, when it occurred, and the object it is about.
        """
        about = self.object_type_id or self.subscription_type.split(".", 1)[0]
        return (f"{self.portal_id}:{self.subscription_id}:{self.event_id}:{self.occurred_at_ms}:"
                f"{about}:{self.object_id}")


def verify_signature_v3(client_secret: str, method: str, uri: str, body: bytes, signature: str | None,
                        timestamp_ms: str | int | None, now: float | None = None) -> bool:
    """True when ``signature`` is HubSpot's v3 signature of the request and is under 5 minutes old.

    ``uri`` is the full URL HubSpot called, as sent (its escapes are decoded here the way
    HubSpot decodes them, see :func:`signed_uri`); ``now`` is epoch seconds (default: the clock).
    Forged, stale, future-dated or malformed input gives False; the comparison is constant-time.
    """
    if not signature or timestamp_ms is None or not client_secret:
        return False
    try:
        stamp = int(timestamp_ms)
        text = body.decode("utf-8")
    except (TypeError, ValueError):
        return False
    current_ms = (time.time() if now is None else now) * 1000
    if not -MAX_AGE_MS < current_ms - stamp <= MAX_AGE_MS:
        return False
    expected = Signature.get_signature(client_secret, text, "v3", signed_uri(uri), method.upper(),
                                       str(stamp))
    return hmac.compare_digest(expected.encode(), signature.encode())


def _event(index: int, raw: Any) -> WebhookEvent:
    if not isinstance(raw, dict):
        raise ValueError(f"webhook body[{index}]: each event must be a JSON object")
    missing = [k for k in REQUIRED_EVENT_KEYS if k not in raw]
    if missing:
        raise ValueError(f"webhook body[{index}]: missing {', '.join(missing)}")
    if not (isinstance(raw["subscriptionType"], str) and _SUBSCRIPTION_TYPE.fullmatch(raw["subscriptionType"])):
        raise ValueError(f"webhook body[{index}].subscriptionType: expected '<object>.<event>', "
                         f"got {raw['subscriptionType']!r}")
    type_id = raw.get("objectTypeId")
    generic = raw["subscriptionType"].split(".", 1)[0] == GENERIC_PREFIX
    if (generic or type_id is not None) and not (isinstance(type_id, str) and _TYPE_ID.match(type_id)):
        raise ValueError(f"webhook body[{index}].objectTypeId: expected an object type id such as "
                         f"'0-3', got {type_id!r}")
    wrong = [key for key in ("eventId", "objectId", "attemptNumber", "portalId")
             if not (_is_id(raw.get(key)) or (key in ("attemptNumber", "portalId") and raw.get(key) is None))]
    if wrong:
        raise ValueError(f"webhook body[{index}]: {', '.join(wrong)} must be integers from 0 to "
                         f"{MAX_ID_VALUE}")
    return WebhookEvent(
        event_id=int(raw["eventId"]), subscription_type=raw["subscriptionType"],
        object_id=str(int(raw["objectId"])), property_name=raw.get("propertyName"),
        property_value=None if raw.get("propertyValue") is None else str(raw["propertyValue"]),
        portal_id=raw.get("portalId"), app_id=raw.get("appId"),
        subscription_id=raw.get("subscriptionId"), occurred_at_ms=raw.get("occurredAt"),
        attempt_number=int(raw.get("attemptNumber") or 0), change_source=raw.get("changeSource"),
        object_type_id=type_id)


def _is_id(value: Any) -> bool:
    """A whole number (or its digits as text, as HubSpot sends some ids) in HubSpot's id range."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID_VALUE


def parse_events(body: bytes) -> list[WebhookEvent]:
    """The events of a webhook request body (a JSON array); ValueError says what is wrong."""
    try:
        data = loads_json(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"webhook body: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise ValueError("webhook body: expected a JSON array of events")
    return [_event(i, raw) for i, raw in enumerate(data)]
