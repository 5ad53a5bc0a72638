"""The HubSpot app card endpoint: verified exactly as HubSpot signs hubspot.fetch() requests
(v3, with HubSpot's URI decoding, behind a proxy or not), and the journey it answers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import replace

import pytest
from sqlmodel import select

from connectors.hubspot.webhooks import signed_uri
from integration.app import create_app
from integration.connecting import connect, provision
from integration.demo.seed import REPS
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map
from tests.sync.crms import small_book, start_crm

PUBLIC = "https://journey.example.com"


def signature(secret: str, method: str, uri: str, body: str, timestamp: int) -> str:
    """HubSpot's v3 signature, computed independently of the service's code."""
    digest = hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@pytest.fixture(scope="module")
def world(services):
    crm = start_crm("hubspot", small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, "card")
        conn = connect(s, services, tenant_id=tenant.id, name="card", crm="hubspot",
                       values=crm.settings())
        connection_id = conn.id
    provision(services, connection_id)
    assert sync_connection(services, connection_id).status == "succeeded"
    with services.session() as s:
        rows = list(s.exec(select(RecordState).where(RecordState.connection_id == connection_id,
                                                     RecordState.object == "deal")))
    yield {"crm": crm, "secret": crm.info["client_secret"], "portal": crm.info["portal_id"],
           "rows": rows, "connection_id": connection_id}
    crm.stop()


def get_card(client, world, path: str, *, signed_as: str, secret: str | None = None,
             age_ms: int = 0):
    ts = int(time.time() * 1000) - age_ms
    return client.get(path, headers={
        "X-HubSpot-Signature-v3": signature(secret or world["secret"], "GET", signed_as, "", ts),
        "X-HubSpot-Request-Timestamp": str(ts)})


def card_path(world, row, query: str) -> str:
    return f"/cards/hubspot/deal/{row.crm_id}?{query}"


def hubspot_query(world) -> str:
    """The query string hubspot.fetch() appends, userEmail percent-encoded as sent."""
    return f"userId=7&userEmail=rep%40example.com&appId=42&portalId={world['portal']}"


def test_hubspots_uri_decoding_is_exactly_its_table():
    assert signed_uri("https://x.io/c?userEmail=rep%40example.com&a=%3a%2F%3F%21%24%27%28%29%2A%2C%3B") \
        == "https://x.io/c?userEmail=rep@example.com&a=:/?!$'()*,;"
    # not in HubSpot's table: stays encoded
    assert signed_uri("https://x.io/c?q=a%20b%26c%3Dd%2Be") == "https://x.io/c?q=a%20b%26c%3Dd%2Be"


def test_a_request_signed_over_the_decoded_uri_is_answered(services, world):
    client = create_app(services.settings, services).test_client()
    row = next(r for r in world["rows"] if r.stage == "decision")
    path = card_path(world, row, hubspot_query(world))
    answer = get_card(client, world, path, signed_as=signed_uri("http://localhost" + path))
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    jmap = default_map()
    assert data["stage"] == "decision" and data["stage_label"] == "Decision"
    assert data["position"] == jmap.stage_index("decision") + 1
    assert [s["key"] for s in data["stages"]] == list(jmap.stage_keys)
    assert data["goal"] == next(s.goal for s in jmap.stages if s.key == "decision")
    assert data["expected_days"] == jmap.expected_days("decision")
    if data["stalled"]:
        assert data["days_over"] == data["days_in_stage"] - data["expected_days"] and data["days_left"] == 0
    else:
        assert data["days_left"] == data["expected_days"] - data["days_in_stage"]
    assert data["owner_name"] in {f"{first} {last}" for first, last in REPS}
    assert data["link"] == (f"{services.settings.base_url}/connections/{world['connection_id']}"
                            f"/records/deal/{row.crm_id}")
    assert data["timeline"][-1]["stage"] == "decision"


def test_a_signature_over_the_encoded_uri_or_another_query_is_refused(services, world):
    client = create_app(services.settings, services).test_client()
    row = world["rows"][0]
    path = card_path(world, row, hubspot_query(world))
    assert get_card(client, world, path, signed_as="http://localhost" + path).status_code == 401
    tampered = path.replace("userId=7", "userId=8")
    assert get_card(client, world, tampered,
                    signed_as=signed_uri("http://localhost" + path)).status_code == 401
    assert get_card(client, world, path, signed_as=signed_uri("http://localhost" + path),
                    secret="not-the-secret").status_code == 401
    assert get_card(client, world, path, signed_as=signed_uri("http://localhost" + path),
                    age_ms=6 * 60 * 1000).status_code == 401
    assert client.get(path).status_code == 401


def test_behind_a_proxy_the_public_url_is_what_hubspot_signed(services, world):
    proxied = replace(services, settings=replace(services.settings, public_url=PUBLIC))
    client = create_app(proxied.settings, proxied).test_client()
    row = world["rows"][0]
    path = card_path(world, row, hubspot_query(world))
    assert get_card(client, world, path, signed_as=signed_uri(PUBLIC + path)).status_code == 200
    assert get_card(client, world, path,
                    signed_as=signed_uri("http://localhost" + path)).status_code == 401


def test_bad_requests_get_a_clear_4xx(services, world):
    client = create_app(services.settings, services).test_client()
    row = world["rows"][0]
    missing = f"/cards/hubspot/deal/{row.crm_id}?userId=7"
    answer = get_card(client, world, missing, signed_as=signed_uri("http://localhost" + missing))
    assert answer.status_code == 400 and "portalId" in answer.get_json()["error"]["message"]
    unknown = f"/cards/hubspot/deal/999999?portalId={world['portal']}"
    answer = get_card(client, world, unknown, signed_as=signed_uri("http://localhost" + unknown))
    assert answer.status_code == 404 and "not been synced" in answer.get_json()["error"]["message"]
    other = f"/cards/hubspot/ticket/1?portalId={world['portal']}"
    assert get_card(client, world, other, signed_as="http://localhost" + other).status_code == 404
