"""The fake CRM's plug-in declaration: everything the service needs, in one ConnectorSpec."""
from __future__ import annotations

import hmac
import json
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.plugin import (CardSpec, ConnectorSpec, Delivery, InboundRequest, Notice,
                               ReceiverSpec, Refused, SandboxSpec)

from .connector import ERROR_TABLE, FakeConnector
from .sandbox import FakeSandbox, sign


class FakeSettings(BaseModel):
    """A fake CRM connection."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(title="API base URL")
    api_token: SecretStr = Field(title="API token")
    refresh_token: SecretStr | None = Field(None, title="Refresh token")
    webhook_secret: SecretStr | None = Field(None, title="Webhook secret",
                                             description="Verifies webhooks and card requests.")


def _signed(request: InboundRequest, config: Mapping[str, Any], text: bytes) -> bool:
    secret = config.get("webhook_secret")
    given = request.headers.get("x-fake-signature", "")
    return bool(secret) and hmac.compare_digest(sign(secret, text), given)


def parse(request: InboundRequest) -> Delivery:
    try:
        body = json.loads(request.body)
        return Delivery(str(body["account"]), tuple(
            Notice("ticket", str(e["ticket"]), str(e["deliveryId"])) for e in body["events"]))
    except (ValueError, KeyError, TypeError):
        raise Refused(400, "BAD_WEBHOOK", "body: expected {account, events: [{deliveryId, ticket}]}") from None


def card_account(request: InboundRequest) -> str:
    if not request.query.get("account"):
        raise Refused(400, "BAD_REQUEST", "account is required")
    return request.query["account"]


UNSIGNED = Refused(401, "BAD_SIGNATURE", "missing or forged X-Fake-Signature")

SPEC = ConnectorSpec(
    name="fakecrm",
    label="Fake CRM",
    settings_model=FakeSettings,
    factory=lambda settings, on_tokens=None, resources=None, cache=None: FakeConnector(settings, on_tokens),
    errors=ERROR_TABLE,
    map_sources=lambda: {"ticket": {"field": "status", "stages": {
        "new": "awareness", "open": "consideration", "pending": "decision", "solved": "purchase",
        "dropped": "lost"}}},
    receiver=ReceiverSpec(parse=parse, verify=lambda r, c: _signed(r, c, r.body), unverified=UNSIGNED),
    card=CardSpec(objects=("ticket",), account=card_account,
                  verify=lambda r, c: _signed(r, c, r.url.encode()), unverified=UNSIGNED),
    sandbox=SandboxSpec(make=lambda seed=None, **options: FakeSandbox(seed, **options)),
)
