"""A Salesforce connection's setup page shows its own outbound-message endpoint and how to paste it
into a Flow's outbound message action; the API shows the same URL; HubSpot's shared one needs none."""
from __future__ import annotations

from markupsafe import escape

from connectors.salesforce.receiver import SETUP_STEPS
from integration.notification_urls import notification_url
from integration.store.connections import create_connection
from integration.store.tenancy import get_or_create_tenant


def test_the_setup_page_shows_the_connection_endpoint_and_the_steps(client, world):
    with world.services.session() as db:
        conn = create_connection(db, world.services.secret_box, tenant_id=get_or_create_tenant(db, "acme").id,
                                 name="sf-endpoint", crm="salesforce",
                                 settings={"instance_url": "https://acme.my.salesforce.com"},
                                 secrets={"access_token": "x"}, account_id="00D5g000004ExAmEAC")
        db.flush()
        connection_id = conn.id
    url = notification_url(world.services.settings, "salesforce", connection_id)
    assert url.startswith(f"{world.services.settings.base_url}/webhooks/salesforce/") and len(url.rsplit("/", 1)[1]) >= 32
    html = client.get(f"/connections/{connection_id}/setup").get_data(as_text=True)
    assert f'value="{url}"' in html
    assert all(str(escape(step)) in html for step in SETUP_STEPS)
    assert client.get(f"/api/v1/connections/{connection_id}", headers={"X-CSRF-Token": client.csrf}).json[
        "notification_url"] == url
    hubspot = client.get(f"/connections/{world.connection_id}/setup").get_data(as_text=True)
    assert "/webhooks/" not in hubspot
