"""Sync health: runs, quota, errors by CRM code, parked write-backs and their retry."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from integration.store import outbox
from integration.store.types import utcnow


@pytest.fixture()
def parked_item(world):
    """One deal write-back the CRM refused until it was parked; its outbox id."""
    with world.services.session() as db:
        outbox.replace_plans(db, world.connection_id,
                             {("deal", "18462730011"): {"journey_stage": "Purchase"}})
        # The first sync's refused write left this record backing off: claim it as if it were due.
        item = outbox.claim_due(db, world.connection_id, 10, utcnow() + timedelta(days=1))[0]
        outbox.mark_failed(db, item, code="PROPERTY_DOESNT_EXIST", message="Property values were not valid",
                           max_attempts=1, backoff_seconds=0)
        db.add(item)
        return item.id


def health(client, world):
    response = client.get(f"/connections/{world.connection_id}/health")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page, element_id):
    return re.search(rf'<section class="card" id="{element_id}">(.*?)</section>', page, re.S).group(1)


def test_health_lists_the_runs_with_counts_and_duration(client, world):
    runs = client.get(f"/api/v1/connections/{world.connection_id}/runs").get_json()["runs"]
    table = section(health(client, world), "runs")
    first = runs[-1]
    assert f"#{first['id']}" in table
    assert f"{first['duration_ms'] / 1000:.1f} s" in table
    assert f'<td class="num">{first["read"]:,}</td>' in table


def test_parked_items_are_grouped_by_crm_error_code_and_can_be_retried(client, world, parked_item):
    page = health(client, world)
    errors = section(page, "errors")
    assert "<code>PROPERTY_DOESNT_EXIST</code> · 1 record(s)" in errors
    assert "deal 18462730011" in errors
    parked = section(page, "parked")
    assert f'name="id" value="{parked_item}"' in parked
    url = f"/api/v1/connections/{world.connection_id}/outbox/retry"
    assert re.search(rf'data-url="{re.escape(url)}"', parked)
    retried = client.post(url, json={"ids": [parked_item]}, headers={"X-CSRF-Token": client.csrf})
    assert retried.get_json() == {"retried": 1}
    after = health(client, world)
    assert 'id="no-parked"' in section(after, "parked")
    assert re.search(r'<dd id="parked-count">0</dd>', after)


def test_quota_and_webhook_figures_come_from_the_status(client, world):
    status = client.get(f"/api/v1/connections/{world.connection_id}").get_json()["health"]
    figures = re.search(r'<dl class="figures card" id="health-figures">(.*?)</dl>',
                        health(client, world), re.S).group(1)
    assert f"<dt>Webhook deliveries</dt><dd>{status['webhook_deliveries']:,}</dd>" in figures
    if status["quota"] and status["quota"]["limit"]:
        assert f"{status['quota']['used']:,} / {status['quota']['limit']:,}" in figures
    else:
        assert "not reported by HubSpot" in figures


def test_a_connection_that_needs_reconnecting_says_so_in_plain_words(client, world):
    from connectors.base import AuthFailed
    from integration.store.models import Connection
    from integration.sync.standing import reconnect_reason

    with world.services.session() as db:
        conn = db.get(Connection, world.connection_id)
        conn.state = "needs_reconnect"
        conn.state_reason = reconnect_reason("hubspot", AuthFailed("HubSpot 401 ...", status=401))
        db.add(conn)
    try:
        home = client.get("/").get_data(as_text=True)
        assert "Needs reconnecting" in home
        assert "HubSpot refused the connection: the credentials were refused" in home
        assert "401" not in home
        page = health(client, world)
        card = section(page, "connection")
        assert "Needs reconnecting: HubSpot refused the connection" in card
        assert 'id="reconnect-form"' in card and 'name="access_token"' in card
        assert 'id="pause-toggle"' not in card  # only new credentials resume it
        assert 'id="delete-connection"' in card
    finally:
        with world.services.session() as db:
            conn = db.get(Connection, world.connection_id)
            conn.state, conn.state_reason = "active", None
            db.add(conn)
    card = section(health(client, world), "connection")
    assert "Active." in card and 'data-paused="true"' in card
