"""A HubSpot portal's validation rule refuses some write-backs: those records stay in the outbox
with HubSpot's reason, the rest of each batch reaches the CRM."""
from __future__ import annotations

from sqlmodel import select

from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store import outbox
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.sync.crms import small_book, start_crm

RULE = {"rules": [{"objectType": "deals", "required": "closedate", "when": {"dealstage": "closedwon"},
                   "message": "Close date is required for a closed won deal"}]}


def test_records_breaking_a_portal_rule_wait_in_the_outbox_with_the_reason(services):
    book = small_book(utcnow())
    for deal in book["hubspot"]["deals"]:
        if deal["properties"].get("dealstage") == "closedwon":
            deal["properties"].pop("closedate", None)
    crm = start_crm("hubspot", book)
    try:
        crm._call("POST", "validation-rules", RULE)
        with services.session() as s:
            tenant = get_or_create_tenant(s, "rules")
            conn = connect(s, services, tenant_id=tenant.id, name="rules", crm="hubspot",
                           values=crm.settings())
            apply_map(s, conn.id, default_map_text(), author="test", comment="default")
            connection_id = conn.id
        provision(services, connection_id)
        sync_connection(services, connection_id)
        with services.session() as s:
            waiting = outbox.list_items(s, connection_id, limit=1000)
            won = set(s.exec(select(RecordState.crm_id).where(
                RecordState.connection_id == connection_id, RecordState.object == "deal",
                RecordState.crm_stage == "closedwon")).all())
            written = s.exec(select(RecordState).where(
                RecordState.connection_id == connection_id, RecordState.object == "deal")).all()
        assert won and {i.crm_id for i in waiting} == won
        assert {(i.last_error_code, i.last_error_message) for i in waiting} == {(
            "VALIDATION_ERROR", "HubSpot refused the values: closedate: Close date is required for a "
                                "closed won deal")}
        others = [r for r in written if r.crm_id not in won]
        assert others and all(crm.read("deal", r.crm_id)["journey_stage"] for r in others[:5])
    finally:
        crm.stop()
